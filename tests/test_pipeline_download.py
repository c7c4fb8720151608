"""Without --data, the diagnostic fetches the official files through the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierslieux.config import Settings
from tierslieux.errors import DownloadError, SourceError
from tierslieux.pipeline import DiagnoseRequest, run_diagnosis
from tierslieux.pipeline import inputs as pipeline_inputs
from tierslieux.sources.catalog import Dataset

DATA = Path(__file__).parent / "data"


def test_official_downloads_are_used_and_zonages_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []

    def fake_fetch(dataset: Dataset, cache_dir: Path) -> Path:
        fetched.append(dataset.id)
        files = {
            "communes-api": DATA / "communes" / "communes_geo_api.json",
            "mobpro-2021": DATA / "mobpro" / "FD_MOBPRO_2021_extrait.csv",
        }
        if dataset.id not in files:
            raise DownloadError("HTTP 404")
        return files[dataset.id]

    monkeypatch.setattr(pipeline_inputs, "fetch_dataset", fake_fetch)
    settings = Settings(cache_dir=tmp_path / "cache")
    diagnosis = run_diagnosis(settings, DiagnoseRequest(territory="dep:05"))
    assert fetched == ["communes-api", "zonages-2026", "mobpro-2021"]
    assert diagnosis.bassins is None
    assert any("Zonages non téléchargés" in note for note in diagnosis.notes)
    assert diagnosis.communes["actifs_occupes"].sum() > 0


def test_offline_without_files_says_what_to_do(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)
    with pytest.raises(SourceError, match="hors ligne"):
        run_diagnosis(settings, DiagnoseRequest(territory="dep:05"))
