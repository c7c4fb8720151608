"""The workspace on the real PACA extracts of ../shared/data/real (skipped when absent).

The census is SYNTHETIC (``synthesise_mobpro_for``): there is no real MOBPRO there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.config import Settings
from tierslieux.pipeline import inputs as inputs_module
from tierslieux.pipeline import synthesise_mobpro_for
from tierslieux.pipeline.diagnose import DiagnoseRequest, run_diagnosis
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.survey import SurveyContext
from tierslieux.pipeline.workspace import Workspace, build_workspace

pytestmark = pytest.mark.shared

SOURCES = (
    "communes/communes.csv",
    "communes/communes-provence-alpes-cote-d-azur.geojson",
    "zonages/table_supracom_2024_PACA.csv",
    "zonages/libelles_supracom_2024_PACA.csv",
)


@pytest.fixture
def copied(shared_real: Path, tmp_path: Path) -> Path:
    """The real extracts copied, so that the test can take them away."""
    target = tmp_path / "data"
    for relative in SOURCES:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_real / relative, target / relative)
    return target


def test_hautes_alpes_diagnostic_reads_no_source_once_the_workspace_is_open(
    copied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(offline=True, data_dir=copied, cache_dir=tmp_path / "cache")
    mobpro = synthesise_mobpro_for(
        settings, (), tmp_path / "census" / "FD_MOBPRO_2021_05_SYNTHETIQUE.csv", territory="dep:05"
    )
    request = DiagnoseRequest(territory="dep:05")
    build_workspace(settings, tmp_path / "ws", InputFiles(mobpro=mobpro))
    expected = run_diagnosis(settings, DiagnoseRequest(territory="dep:05", mobpro=mobpro))
    workspace = Workspace.open(tmp_path / "ws")
    # Sources, census and cache taken away: the diagnostic still runs on the workspace.
    copied.rename(tmp_path / "gone")
    shutil.rmtree(mobpro.parent)
    shutil.rmtree(settings.cache_dir)
    for name in ("load_communes", "load_zonages", "open_mobpro", "load_densite"):
        monkeypatch.setattr(inputs_module, name, lambda *_a, **_k: pytest.fail("source re-read"))
    result = run_diagnosis(settings, request, inputs=workspace.inputs(settings))
    assert len(result.communes) == 162
    pd.testing.assert_frame_equal(result.communes, expected.communes)
    assert result.synthetic
    assert {p.role: p.vintage for p in result.provenance} == {
        p.role: p.vintage for p in expected.provenance
    }
    context = SurveyContext.from_inputs(settings, workspace.inputs(settings))
    response = context.validate(
        {
            "commune_residence": "Gap",
            "statut": "independant",
            "part_ordinateur": "Plus des trois quarts",
            "envies": "proche",
            "consentement": "oui",
        }
    )
    assert response.commune == "05061"
