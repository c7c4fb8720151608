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
        "sources.json",
    }
