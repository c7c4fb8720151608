"""Tests of the Sirene reader on hand-written files in the official stock format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.errors import SchemaError, SourceError
from tierslieux.sources.sirene import SIRENE_COLUMNS, load_sirene

COMMUNES = ["05061", "05023", "05179", "04088", "13055"]


@pytest.fixture
def sirene_dir(data_dir: Path) -> Path:
    return data_dir / "sirene"


def _load(sirene_dir: Path, tmp_path: Path, etab: str = "StockEtablissement_utf8.csv", **kw):
    units = kw.pop("units", sirene_dir / "StockUniteLegale_utf8.csv")
    communes = kw.pop("communes", COMMUNES)
    return load_sirene(sirene_dir / etab, units, communes=communes, cache_dir=tmp_path, **kw)


def test_columns_and_filters(sirene_dir: Path, tmp_path: Path) -> None:
    frame, prov = _load(sirene_dir, tmp_path)
    assert list(frame.columns[: len(SIRENE_COLUMNS)]) == list(SIRENE_COLUMNS)
    sirets = set(frame["siret"])
    assert "90000000100029" not in sirets  # closed establishment (F)
    assert "90000001700027" not in sirets  # commune outside the territory (06088)
    assert "90000002000020" not in sirets  # legal unit ceased (C)
    assert frame["identifiant"].str.fullmatch(r"siret:\d{14}").all()
    assert prov.role == "sirene"
    assert prov.sha256 is not None
    assert any("unité légale cessée" in n for n in prov.notes)


def test_arrondissement_mapped_to_commune(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load(sirene_dir, tmp_path)
    row = frame.set_index("siret").loc["90000001800028"]
    assert row["code_commune"] == "13055"


def test_lambert93_origin_point(sirene_dir: Path, tmp_path: Path) -> None:
    # (700000, 6600000) is by definition of EPSG:2154 the point lon 3°E, lat 46.5°N.
    frame, _ = _load(sirene_dir, tmp_path)
    row = frame.set_index("siret").loc["90000000500015"]
    assert row["longitude"] == pytest.approx(3.0, abs=1e-7)
    assert row["latitude"] == pytest.approx(46.5, abs=1e-7)
    assert "90000001900029" not in set(frame["siret"])  # non-diffusible: excluded


def test_no_personal_name_for_individual_entrepreneur(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load(sirene_dir, tmp_path)
    row = frame.set_index("siret").loc["90000001600026"]
    assert row["nom"] == "Entrepreneur individuel (NAF 62.01Z)"
    assert not frame["nom"].str.contains("DUPONT").any()


def test_ess_and_old_nomenclature(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load(sirene_dir, tmp_path)
    by = frame.set_index("siret")
    assert bool(by.loc["90000000500015", "ess"]) is True
    assert bool(by.loc["90000001200022", "ess"]) is False
    assert pd.isna(by.loc["90000000400014", "ess"])
    assert pd.isna(by.loc["90000002400034", "naf"])  # NAFRev1 code left out


def test_without_units(sirene_dir: Path, tmp_path: Path) -> None:
    frame, prov = _load(sirene_dir, tmp_path, units=None)
    assert frame["categorie_juridique"].isna().all()
    assert "90000002000020" in set(frame["siret"])
    assert any("non fournies" in n for n in prov.notes)


def test_zipped_inputs(sirene_dir: Path, tmp_path: Path) -> None:
    for name in ("StockEtablissement_utf8", "StockUniteLegale_utf8"):
        with zipfile.ZipFile(tmp_path / f"{name}.zip", "w") as zf:
            zf.write(sirene_dir / f"{name}.csv", f"{name}.csv")
    frame, _ = load_sirene(
        tmp_path / "StockEtablissement_utf8.zip",
        tmp_path / "StockUniteLegale_utf8.zip",
        communes=COMMUNES,
        cache_dir=tmp_path / "cache",
    )
    plain, _ = _load(sirene_dir, tmp_path / "cache2")
    assert sorted(frame["siret"]) == sorted(plain["siret"])


def test_parquet_input(sirene_dir: Path, tmp_path: Path) -> None:
    for name in ("StockEtablissement_utf8", "StockUniteLegale_utf8"):
        pd.read_csv(sirene_dir / f"{name}.csv", dtype=str).to_parquet(tmp_path / f"{name}.parquet")
    frame, _ = load_sirene(
        tmp_path / "StockEtablissement_utf8.parquet",
        tmp_path / "StockUniteLegale_utf8.parquet",
        communes=COMMUNES,
        cache_dir=tmp_path / "cache",
    )
    assert "90000000500015" in set(frame["siret"])
    assert "90000000100029" not in set(frame["siret"])


def test_latin1_file(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load(sirene_dir, tmp_path, etab="StockEtablissement_latin1.csv")
    row = frame.set_index("siret").loc["90000000100011"]
    assert row["nom"] == (
        "COOPÉRATIVE D'ACTIVITÉ ET D'EMPLOI ÉCRINS "
        "(COOPERATIVE D'ACTIVITES ET D'EMPLOI DES HAUTES-ALPES FICTIVE)"
    )


def test_missing_column(sirene_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="codeCommuneEtablissement"):
        _load(sirene_dir, tmp_path, etab="StockEtablissement_colonne_manquante.csv")


def test_broken_line(sirene_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"ligne 4"):
        _load(sirene_dir, tmp_path, etab="StockEtablissement_ligne_cassee.csv")


def test_broken_line_ignored_and_counted(sirene_dir: Path, tmp_path: Path) -> None:
    frame, prov = _load(
        sirene_dir, tmp_path, etab="StockEtablissement_ligne_cassee.csv", ignore_errors=True
    )
    assert len(frame) >= 1
    assert any("1 ligne(s) mal formée(s)" in n for n in prov.notes)


def test_missing_and_truncated_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="introuvable"):
        load_sirene(tmp_path / "absent.csv", None, communes=COMMUNES, cache_dir=tmp_path)
    bad = tmp_path / "StockEtablissement.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SourceError, match="illisible ou tronquée"):
        load_sirene(bad, None, communes=COMMUNES, cache_dir=tmp_path)


def test_result_is_cached(sirene_dir: Path, tmp_path: Path) -> None:
    first, _ = _load(sirene_dir, tmp_path)
    second, _ = _load(sirene_dir, tmp_path)
    pd.testing.assert_frame_equal(first, second)
    assert list(tmp_path.glob("sirene_*.parquet"))


# --- Trade names and diffusion status (StockEtablissement_noms_diffusion.csv) ---------


def _load_noms(sirene_dir: Path, tmp_path: Path, **kw):
    return _load(
        sirene_dir,
        tmp_path,
        etab="StockEtablissement_noms_diffusion.csv",
        units=kw.pop("units", sirene_dir / "StockUniteLegale_noms_diffusion.csv"),
        **kw,
    )


def test_trade_names_read_and_shown_with_legal_name(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load_noms(sirene_dir, tmp_path)
    row = frame.set_index("siren").loc["900000028"]
    # enseigne1 first, legal name in brackets; enseigne2 kept among the known names.
    assert row["nom"] == "LA GRANGE (SARL IMMOBILIERE DU GUIL FICTIVE)"
    assert row["noms_connus"].split(" ; ") == [
        "LA GRANGE",
        "COWORKING DU GUIL",
        "SARL IMMOBILIERE DU GUIL FICTIVE",
    ]
    assert row["denomination_legale"] == "SARL IMMOBILIERE DU GUIL FICTIVE"
    amap = frame.set_index("siren").loc["900000033"]  # denominationUsuelleEtablissement
    assert amap["nom"] == "AMAP DU GAPENCAIS (ASSOCIATION DES CONSOMMATEURS DU GAPENCAIS FICTIVE)"


def test_trade_name_inside_legal_name_not_repeated(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load(sirene_dir, tmp_path)
    row = frame.set_index("siren").loc["900000008"]  # enseigne LE FOURNIL
    assert row["nom"] == "BOULANGERIE SCOP LE FOURNIL"


def test_individual_entrepreneur_trade_name_never_output(sirene_dir: Path, tmp_path: Path) -> None:
    frame, _ = _load(sirene_dir, tmp_path)
    row = frame.set_index("siret").loc["90000001600026"]  # enseigne « JEAN DUPONT … »
    assert pd.isna(row["noms_connus"])
    assert pd.isna(row["denomination_legale"])
    assert not frame["noms_connus"].fillna("").str.contains("DUPONT").any()


def test_non_diffusible_excluded_and_counted(sirene_dir: Path, tmp_path: Path) -> None:
    # 900000019: establishment P; 900000029 (other file): legal unit P.
    frame, prov = _load(sirene_dir, tmp_path)
    assert "900000019" not in set(frame["siren"])
    assert any("1 établissement(s) non diffusible(s) écarté(s)" in n for n in prov.notes)
    frame, prov = _load_noms(sirene_dir, tmp_path / "b")
    assert "900000029" not in set(frame["siren"])
    assert len(frame) == 8
    assert any(
        "1 établissement(s) non diffusible(s)" in n and "R123-232-1" in n for n in prov.notes
    )


def test_non_diffusible_excluded_without_units(sirene_dir: Path, tmp_path: Path) -> None:
    frame, prov = _load(sirene_dir, tmp_path, units=None)
    assert "900000019" not in set(frame["siren"])
    assert any("non diffusible" in n for n in prov.notes)


def test_non_diffusible_excluded_from_parquet(sirene_dir: Path, tmp_path: Path) -> None:
    for name in ("StockEtablissement_noms_diffusion", "StockUniteLegale_noms_diffusion"):
        pd.read_csv(sirene_dir / f"{name}.csv", dtype=str).to_parquet(tmp_path / f"{name}.parquet")
    frame, prov = load_sirene(
        tmp_path / "StockEtablissement_noms_diffusion.parquet",
        tmp_path / "StockUniteLegale_noms_diffusion.parquet",
        communes=COMMUNES,
        cache_dir=tmp_path / "cache",
    )
    assert "900000029" not in set(frame["siren"])
    assert "COWORKING DU GUIL" in frame.set_index("siren").loc["900000028", "noms_connus"]
    assert any("non diffusible" in n for n in prov.notes)


def test_file_without_diffusion_status_is_said(sirene_dir: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(sirene_dir / "StockEtablissement_noms_diffusion.csv", dtype=str)
    old = tmp_path / "StockEtablissement_ancien.csv"
    raw.drop(columns=["statutDiffusionEtablissement"]).to_csv(old, index=False)
    frame, prov = load_sirene(
        old,
        sirene_dir / "StockUniteLegale_noms_diffusion.csv",
        communes=COMMUNES,
        cache_dir=tmp_path / "cache",
    )
    assert any("statutDiffusionEtablissement absente" in n for n in prov.notes)
    assert "900000028" in set(frame["siren"])
    assert "900000029" not in set(frame["siren"])  # the unit's status still applies
