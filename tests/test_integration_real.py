"""End to end on the real extracts of ../shared/data/real (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.config import Settings
from tierslieux.model.indicators import INDICATORS
from tierslieux.pipeline import (
    CommunitiesRequest,
    DiagnoseRequest,
    run_communities,
    run_diagnosis,
    synthesise_mobpro_for,
)
from tierslieux.reports.communities import write_communities
from tierslieux.reports.diagnosis import write_diagnosis


@pytest.fixture
def settings(shared_real: Path, tmp_path: Path) -> Settings:
    return Settings(data_dir=shared_real, cache_dir=tmp_path / "cache", offline=True)


def test_diagnose_hautes_alpes_on_real_geography(settings: Settings, tmp_path: Path) -> None:
    mobpro = synthesise_mobpro_for(
        settings, (), tmp_path / "FD_MOBPRO_2021.csv", territory="region:93", seed=3, rows=30_000
    )
    diagnosis = run_diagnosis(settings, DiagnoseRequest(territory="dep:05", mobpro=mobpro))
    assert len(diagnosis.communes) == 162
    assert diagnosis.synthetic
    assert diagnosis.bassins is not None
    assert diagnosis.bassins["nb_communes"].sum() == 162
    assert len(diagnosis.geometries) == 162
    # every employed resident is counted once, whatever the workplace
    assert diagnosis.communes["actifs_occupes"].sum() > 0
    assert (diagnosis.communes["potentiel"] <= diagnosis.communes["teletravaillables"] + 1e-6).all()
    out = tmp_path / "out"
    write_diagnosis(diagnosis, out)
    communes = pd.read_csv(out / "communes.csv", dtype={"code": str})
    assert list(communes.columns[: 2 + len(INDICATORS)]) == ["code", "nom", *INDICATORS]
    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    roles = {entry["role"] for entry in sources["entrees"]}
    assert {"communes", "zonages", "mobpro"} <= roles


def test_upaix_has_the_same_catchment_on_hautes_alpes_and_paca_runs(
    settings: Settings, tmp_path: Path
) -> None:
    # Upaix (05173) lies on the border with the Alpes-de-Haute-Provence: its neighbours
    # there count in a Hautes-Alpes run as in a PACA run (issue: 8 communes vs 13).
    mobpro = synthesise_mobpro_for(
        settings, (), tmp_path / "FD_MOBPRO_2021.csv", territory="region:93", seed=3, rows=30_000
    )

    def upaix(territory: str, *, neighbours: bool = True) -> pd.Series:
        request = DiagnoseRequest(territory=territory, mobpro=mobpro, neighbours=neighbours)
        catchments = run_diagnosis(settings, request).catchments.set_index("code")
        return catchments.loc["05173"]

    hautes_alpes, paca = upaix("dep:05"), upaix("region:93")
    closed = upaix("dep:05", neighbours=False)
    assert hautes_alpes["nb_communes"] == paca["nb_communes"] == 13
    assert closed["nb_communes"] == 8
    assert hautes_alpes["nb_communes_hors_territoire"] == 5
    assert hautes_alpes["actifs_occupes"] == pytest.approx(paca["actifs_occupes"])
    assert hautes_alpes["diametre_minutes"] == pytest.approx(paca["diametre_minutes"])


def test_communities_hautes_alpes_on_real_places(settings: Settings, tmp_path: Path) -> None:
    result = run_communities(settings, CommunitiesRequest(territory="dep:05"))
    categories = set(result.structures["categorie"])
    assert {"tiers_lieu_existant", "point_appui", "acteur_developpement"} <= categories
    assert result.structures["identifiant"].is_unique
    assert len(result.communities) == 162
    assert set(result.communities["ouverture"]) <= {"ouverte", "a_elargir", "fermee", "absente"}
    forbidden = {"CONTACT", "MAIL", "telephone", "courriels"}
    assert not forbidden & set(result.structures.columns)
    out = tmp_path / "communautes"
    write_communities(result, out)
    assert {p.name for p in out.iterdir()} == {
        "structures.csv",
        "structures.geojson",
        "communities.csv",
        "communities.html",
        "sources.json",
        ".tierslieux-fichiers.json",
    }
