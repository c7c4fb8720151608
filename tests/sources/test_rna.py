"""Tests of the RNA reader on hand-written files in the official export formats."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tierslieux.errors import SchemaError
from tierslieux.sources.rna import RNA_COLUMNS, load_rna

COMMUNES = ["05061", "05023", "05179", "04088", "13055"]


@pytest.fixture
def rna_dir(data_dir: Path) -> Path:
    return data_dir / "rna"


def test_single_csv_filters(rna_dir: Path, tmp_path: Path) -> None:
    frame, prov = load_rna(
        rna_dir / "rna_waldec_20250901_dpt_05.csv", communes=COMMUNES, cache_dir=tmp_path
    )
    assert list(frame.columns) == list(RNA_COLUMNS)
    ids = set(frame["rna_id"])
    assert "W051000007" not in ids  # dissolved (position D)
    assert "W061000011" not in ids  # outside the territory
    assert frame.set_index("rna_id").loc["W131000012", "code_commune"] == "13055"
    assert frame["identifiant"].str.startswith("rna:W").all()
    assert prov.vintage == "2025-09-01"


def test_no_personal_columns(rna_dir: Path, tmp_path: Path) -> None:
    frame, _ = load_rna(
        rna_dir / "rna_waldec_20250901_dpt_05.csv", communes=COMMUNES, cache_dir=tmp_path
    )
    assert not [c for c in frame.columns if c.startswith(("adrs_", "adrg_", "dir_"))]
    assert not frame.astype(str).apply(lambda c: c.str.contains("M. FICTIF")).any().any()


def test_sentinels_become_missing(rna_dir: Path, tmp_path: Path) -> None:
    frame, _ = load_rna(
        rna_dir / "rna_waldec_20250901_dpt_05.csv", communes=COMMUNES, cache_dir=tmp_path
    )
    row = frame.set_index("rna_id").loc["W051000001"]
    assert row.isna()["objet_social1"]
    assert row["site_web"] == "coworking-buech.example"
    assert frame.set_index("rna_id").loc["W051000003", "objet_social1"] == "015005"


def test_zip_with_several_members(rna_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "rna_waldec_20250901.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("rna_waldec_20250901_dpt_05.csv", "rna_waldec_20250901_dpt_04.csv"):
            zf.write(rna_dir / name, name)
    frame, _ = load_rna(archive, communes=COMMUNES, cache_dir=tmp_path / "cache")
    assert {"W051000001", "W041000014", "W041000015"} <= set(frame["rna_id"])


def test_latin1_dump(rna_dir: Path, tmp_path: Path) -> None:
    frame, _ = load_rna(
        rna_dir / "rna_waldec_ancien_dpt_04_latin1.csv", communes=["04088"], cache_dir=tmp_path
    )
    assert "PAYS DE FORCALQUIER RANDONNÉE" in set(frame["nom"])


def test_import_variant(rna_dir: Path, tmp_path: Path) -> None:
    frame, _ = load_rna(
        rna_dir / "rna_import_20250901_dpt_05.csv", communes=COMMUNES, cache_dir=tmp_path
    )
    assert len(frame) == 3
    assert frame["code_commune"].isin(COMMUNES).all()


def test_broken_line(rna_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"rna_waldec_ligne_cassee\.csv, ligne 4"):
        load_rna(rna_dir / "rna_waldec_ligne_cassee.csv", communes=COMMUNES, cache_dir=tmp_path)


def test_missing_column(rna_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="adrs_codeinsee"):
        load_rna(
            rna_dir / "rna_waldec_colonne_manquante.csv", communes=COMMUNES, cache_dir=tmp_path
        )
