"""Tests of the MOBPRO reader (detail and flow files) on hand-written official-format files."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from tierslieux.errors import SchemaError, SourceError
from tierslieux.sources.mobpro import ATTRIBUTE_COLUMNS, DETAIL_COLUMNS, FLUX_COLUMNS, open_mobpro

EXTRACT = "FD_MOBPRO_2021_extrait.csv"
FLUX = "base-flux-mobilite-domicile-lieu-travail-2022.csv"

# Weights per residence in FD_MOBPRO_2021_extrait.csv, added by hand:
#   05061 Gap:        1.0234567 + 2.5 + 0.9876543 + 1.05 = 5.5611110
#   05023 Briançon:   1.2 (works abroad) + 1.1             = 2.3
#   05179 Veynes:     3.0000001                            = 3.0000001
#   04070 Digne:      1.4 + 0.75                           = 2.15
#   04112 Manosque:   2.25                                 = 2.25
#   13055 Marseille:  2.75 + 1.5 (ARM 13201)               = 4.25
RESIDENCE_SUMS = {
    "05061": 5.5611110,
    "05023": 2.3,
    "05179": 3.0000001,
    "04070": 2.15,
    "04112": 2.25,
    "13055": 4.25,
}
# Per workplace: 05061 = 1.0234567 + 0.9876543 + 3.0000001 + 0.75 + 1.05 = 6.8111111;
# 05023 = 2.5 + 1.1 = 3.6; 04070 = 1.4; 13055 (DCLT 13201, 13205) = 2.25 + 2.75 + 1.5 = 6.5;
# abroad (DCLT 99999) = 1.2.
WORKPLACE_SUMS = {"05061": 6.8111111, "05023": 3.6, "04070": 1.4, "13055": 6.5, None: 1.2}
# Flow file, per residence (arrondissements 13201 -> 13055): 05061 = 1520.25 + 85.5;
# 13055 = 300 + 45.25.
FLUX_SUMS = {"04070": 410.0, "04112": 12.5, "05023": 930.75, "05061": 1605.75, "13055": 345.25}


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def mobpro_dir(data_dir: Path) -> Path:
    return data_dir / "mobpro"


def _sums(con: duckdb.DuckDBPyConnection, column: str, view: str = "mobpro") -> dict:
    rows = con.execute(f"SELECT {column}, sum(weight) FROM {view} GROUP BY 1").fetchall()
    return dict(rows)


def _assert_sums(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, abs=1e-9), key


def _copy(src: Path, dest_dir: Path, name: str | None = None) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / (name or src.name)
    shutil.copyfile(src, target)
    return target


def _variant(src: Path, target: Path, edit) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    target.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return target


# --- detail file ----------------------------------------------------------------------------


def test_detail_csv_canonical_values(con, mobpro_dir, tmp_path):
    result = open_mobpro(mobpro_dir / EXTRACT, con, cache_dir=tmp_path / "cache")
    assert result.kind == "detail"
    assert result.view == "mobpro"
    assert result.vintage == "RP2021"
    assert result.missing == ()
    assert result.provenance.role == "mobpro"
    assert result.provenance.synthetic is False
    assert result.provenance.sha256 is not None
    assert len(result.provenance.sha256) == 64
    columns = [row[0] for row in con.execute("DESCRIBE mobpro").fetchall()]
    assert tuple(columns) == DETAIL_COLUMNS
    types = {row[0]: row[1] for row in con.execute("DESCRIBE mobpro").fetchall()}
    assert types["agerevq"] == "INTEGER"
    assert types["weight"] == "DOUBLE"
    assert types["workplace_abroad"] == "BOOLEAN"
    assert con.execute("SELECT count(*) FROM mobpro").fetchone() == (12,)
    _assert_sums(_sums(con, "residence"), RESIDENCE_SUMS)
    _assert_sums(_sums(con, "workplace"), WORKPLACE_SUMS)
    abroad = con.execute(
        "SELECT residence, workplace, workplace_abroad, ilt, cs1, na17 FROM mobpro "
        "WHERE workplace_abroad"
    ).fetchall()
    assert abroad == [("05023", None, True, "7", "6", "C4")]
    first = con.execute(
        "SELECT residence, workplace, cs1, empl, na17, sexe, agerevq, trans, ilt, weight "
        "FROM mobpro WHERE weight = 1.0234567"
    ).fetchall()
    assert first == [("05061", "05061", "3", "16", "OQ", "2", 35, "5", "1", 1.0234567)]
    marseille = con.execute(
        "SELECT residence, workplace, ilt FROM mobpro WHERE residence = '13055' ORDER BY weight"
    ).fetchall()
    assert marseille == [("13055", "13055", "1"), ("13055", "13055", "1")]
    ages = sorted(row[0] for row in con.execute("SELECT agerevq FROM mobpro").fetchall())
    assert ages == [20, 25, 30, 35, 35, 40, 45, 45, 50, 55, 60, 65]


def test_detail_labels_from_varmod_beside(con, mobpro_dir, tmp_path):
    result = open_mobpro(mobpro_dir / EXTRACT, con, cache_dir=tmp_path)
    assert result.labels["COMMUNE"]["05023"] == "Briançon"
    assert result.labels["CS1"]["3"] == "Cadres et professions intellectuelles supérieures"
    assert result.labels["ILT"]["7"] == "À l'étranger"


def test_view_is_lazy_and_cache_reused(con, mobpro_dir, tmp_path):
    cache = tmp_path / "cache"
    open_mobpro(mobpro_dir / EXTRACT, con, cache_dir=cache, view="mp")
    sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'mp'").fetchone()[0]
    assert "read_parquet" in sql
    parquet = list((cache / "mobpro").glob("detail_*.parquet"))
    assert len(parquet) == 1
    stamp = parquet[0].stat().st_mtime_ns
    second = duckdb.connect()
    try:
        open_mobpro(mobpro_dir / EXTRACT, second, cache_dir=cache, view="mp")
        _assert_sums(_sums(second, "residence", "mp"), RESIDENCE_SUMS)
    finally:
        second.close()
    assert parquet[0].stat().st_mtime_ns == stamp


def test_parquet_input_with_numeric_types(con, mobpro_dir, tmp_path):
    # Parquet with inferred types: COMMUNE read as a number loses its leading zero.
    target = tmp_path / "RP2021_mobpro.parquet"
    con.execute(
        f"COPY (SELECT * FROM read_csv('{mobpro_dir / EXTRACT}', delim=';', header=true)) "
        f"TO '{target}' (FORMAT parquet)"
    )
    result = open_mobpro(target, con, cache_dir=tmp_path / "cache")
    assert result.vintage == "RP2021"
    _assert_sums(_sums(con, "residence"), RESIDENCE_SUMS)
    _assert_sums(_sums(con, "workplace"), WORKPLACE_SUMS)
    assert con.execute("SELECT min(agerevq), max(agerevq) FROM mobpro").fetchone() == (20, 65)
    sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'mobpro'").fetchone()[0]
    assert str(target) in sql


def test_parquet_input_as_text(con, mobpro_dir, tmp_path):
    target = tmp_path / "RP2021_mobpro.parquet"
    con.execute(
        f"COPY (SELECT * FROM read_csv('{mobpro_dir / EXTRACT}', delim=';', header=true, "
        f"all_varchar=true)) TO '{target}' (FORMAT parquet)"
    )
    open_mobpro(target, con, cache_dir=tmp_path / "cache")
    _assert_sums(_sums(con, "residence"), RESIDENCE_SUMS)


def test_parquet_bad_weight_names_record(con, mobpro_dir, tmp_path):
    target = tmp_path / "RP2021_mobpro.parquet"
    con.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN DCLT = '99999' THEN 'abc' ELSE IPONDI END AS IPONDI) "
        f"FROM read_csv('{mobpro_dir / EXTRACT}', delim=';', header=true, all_varchar=true)) "
        f"TO '{target}' (FORMAT parquet)"
    )
    with pytest.raises(SchemaError, match=r"ligne 4, colonne IPONDI : valeur 'abc'"):
        open_mobpro(target, con, cache_dir=tmp_path / "cache")


def test_zip_with_varmod(con, mobpro_dir, tmp_path):
    archive = tmp_path / "RP2021_mobpro_csv.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(mobpro_dir / "varmod_mobpro_2021.csv", "varmod_mobpro_2021.csv")
        zf.write(mobpro_dir / EXTRACT, "FD_MOBPRO_2021.csv")
    result = open_mobpro(archive, con, cache_dir=tmp_path / "cache")
    assert result.kind == "detail"
    assert result.vintage == "RP2021"
    assert result.labels["SEXE"] == {"1": "Hommes", "2": "Femmes"}
    _assert_sums(_sums(con, "residence"), RESIDENCE_SUMS)


def test_missing_attributes_are_listed(con, mobpro_dir, tmp_path):
    def drop(lines):
        header = lines[0].split(";")
        keep = [i for i, c in enumerate(header) if c not in {"NA17", "TRANS"}]
        return [";".join(line.split(";")[i] for i in keep) for line in lines]

    path = _variant(mobpro_dir / EXTRACT, tmp_path / "FD_MOBPRO_2021.csv", drop)
    result = open_mobpro(path, con, cache_dir=tmp_path / "cache")
    assert result.missing == ("na17", "trans")
    columns = tuple(row[0] for row in con.execute("DESCRIBE mobpro").fetchall())
    assert columns == result.columns
    assert "na17" not in columns
    assert any("na17" in note for note in result.provenance.notes)


def test_gs_column_gives_cs1(con, mobpro_dir, tmp_path):
    path = _variant(
        mobpro_dir / EXTRACT,
        tmp_path / "FD_MOBPRO_2021.csv",
        lambda lines: [lines[0].replace(";CS1;", ";GS;"), *lines[1:]],
    )
    result = open_mobpro(path, con, cache_dir=tmp_path / "cache")
    assert result.missing == ()
    assert con.execute("SELECT count(DISTINCT cs1) FROM mobpro").fetchone() == (5,)
    assert any("GS" in note for note in result.provenance.notes)


def test_not_applicable_codes_and_decimal_comma(con, mobpro_dir, tmp_path):
    def edit(lines):
        header = lines[0].split(";")
        fields = lines[1].split(";")
        fields[header.index("CS1")] = "Z"
        fields[header.index("AGEREVQ")] = "ZZZ"
        fields[header.index("EMPL")] = "ZZ"
        fields[header.index("IPONDI")] = "1,0234567"
        return [lines[0], ";".join(fields), *lines[2:]]

    path = _variant(mobpro_dir / EXTRACT, tmp_path / "FD_MOBPRO_2021.csv", edit)
    open_mobpro(path, con, cache_dir=tmp_path / "cache")
    row = con.execute(
        "SELECT cs1, agerevq, empl, weight FROM mobpro WHERE weight = 1.0234567"
    ).fetchall()
    assert row == [(None, None, None, 1.0234567)]


def test_arrondissement_as_commune_is_mapped(con, mobpro_dir, tmp_path):
    def edit(lines):
        return [lines[0], *(line.replace("13055;13201", "13203;ZZZZZ") for line in lines[1:])]

    path = _variant(mobpro_dir / EXTRACT, tmp_path / "FD_MOBPRO_2021.csv", edit)
    open_mobpro(path, con, cache_dir=tmp_path / "cache")
    _assert_sums(_sums(con, "residence"), RESIDENCE_SUMS)


def test_synthetic_sidecar_marks_provenance(con, mobpro_dir, tmp_path):
    path = _copy(mobpro_dir / EXTRACT, tmp_path)
    (tmp_path / (path.name + ".synthetic.json")).write_text(
        json.dumps({"synthetic": True, "generator": "tierslieux synth mobpro", "seed": 7}),
        encoding="utf-8",
    )
    result = open_mobpro(path, con, cache_dir=tmp_path / "cache")
    assert result.provenance.synthetic is True
    assert result.provenance.licence is None
    assert any("graine : 7" in note for note in result.provenance.notes)


# --- flow file ------------------------------------------------------------------------------


def test_flux_csv(con, mobpro_dir, tmp_path):
    result = open_mobpro(mobpro_dir / FLUX, con, cache_dir=tmp_path / "cache", view="flux")
    assert result.kind == "flux"
    assert result.vintage == "RP2022"
    assert result.missing == ATTRIBUTE_COLUMNS
    columns = tuple(row[0] for row in con.execute("DESCRIBE flux").fetchall())
    assert columns == FLUX_COLUMNS == result.columns
    _assert_sums(_sums(con, "residence", "flux"), FLUX_SUMS)
    assert con.execute("SELECT count(*) FROM flux WHERE workplace_abroad").fetchone() == (0,)
    assert result.labels["CODGEO"]["05023"] == "Briançon"
    assert result.labels["DCLT"]["13205"] == "Marseille 5e Arrondissement"
    # The 2021 dictionary beside the file is not used for a 2022 file.
    assert "CS1" not in result.labels


def test_flux_zip_and_latin1(con, mobpro_dir, tmp_path):
    archive = tmp_path / "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(
            mobpro_dir / "base-flux-mobilite-domicile-lieu-travail-2022_latin1.csv",
            "base-flux-mobilite-domicile-lieu-travail-2022.csv",
        )
    result = open_mobpro(archive, con, cache_dir=tmp_path / "cache")
    assert result.kind == "flux"
    assert result.vintage == "RP2022"
    assert result.labels["CODGEO"]["05023"] == "Briançon"
    assert result.labels["DCLT"]["05023"] == "Briançon"
    _assert_sums(_sums(con, "residence"), FLUX_SUMS)


def test_flux_xlsx_with_title_rows(con, mobpro_dir, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    rows = [line.split(";") for line in (mobpro_dir / FLUX).read_text().splitlines()]
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Flux_sup_100"
    second = workbook.create_sheet("Flux_inf_100")
    for sheet, data in ((first, rows[1:4]), (second, rows[4:])):
        sheet.append(
            ["Mobilités professionnelles en 2019 : déplacements domicile - lieu de travail"]
        )
        sheet.append([])
        sheet.append(["Source : Insee, RP2019 exploitation complémentaire"])
        sheet.append([])
        sheet.append([])
        sheet.append(rows[0])
        for values in data:
            sheet.append([*values[:4], float(values[4])])
    path = tmp_path / "base-flux-mobilite-domicile-lieu-travail-2019.xlsx"
    workbook.save(path)
    result = open_mobpro(path, con, cache_dir=tmp_path / "cache")
    assert result.kind == "flux"
    # The count column names the vintage, not the file name.
    assert result.vintage == "RP2022"
    _assert_sums(_sums(con, "residence"), FLUX_SUMS)
    assert result.labels["CODGEO"]["05061"] == "Gap"


# --- invalid inputs --------------------------------------------------------------------------


def test_missing_and_empty_file(con, tmp_path):
    with pytest.raises(SourceError, match="introuvable"):
        open_mobpro(tmp_path / "FD_MOBPRO_2021.csv", con, cache_dir=tmp_path)
    empty = tmp_path / "FD_MOBPRO_2021.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="vide"):
        open_mobpro(empty, con, cache_dir=tmp_path)


def test_comma_separator(con, mobpro_dir, tmp_path):
    with pytest.raises(
        SchemaError, match=r"ligne 1 : séparateur attendu ';' \(le séparateur trouvé est ','\)"
    ):
        open_mobpro(mobpro_dir / "FD_MOBPRO_2021_virgules.csv", con, cache_dir=tmp_path)


def test_missing_ipondi_column(con, mobpro_dir, tmp_path):
    with pytest.raises(SchemaError, match=r"colonne\(s\) IPONDI introuvable"):
        open_mobpro(mobpro_dir / "FD_MOBPRO_2021_sans_IPONDI.csv", con, cache_dir=tmp_path)


def test_non_numeric_ipondi_names_line_5(con, mobpro_dir, tmp_path):
    path = mobpro_dir / "FD_MOBPRO_2021_ipondi_invalide.csv"
    with pytest.raises(SchemaError, match=r"ligne 5, colonne IPONDI : valeur 'abc' invalide"):
        open_mobpro(path, con, cache_dir=tmp_path)
    # Nothing half-written stays in the cache.
    assert not list((tmp_path / "mobpro").glob("*.parquet*"))


def test_no_attribute_and_not_flux(con, tmp_path):
    path = tmp_path / "FD_MOBPRO_2021.csv"
    path.write_text("COMMUNE;DCLT;IPONDI\n05061;05061;1.5\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="aucune des colonnes CS1"):
        open_mobpro(path, con, cache_dir=tmp_path / "cache")


def _set_ipondi(lines: list[str], row: int, value: str) -> list[str]:
    header = lines[0].split(";")
    cells = lines[row].split(";")
    cells[header.index("IPONDI")] = value
    return [*lines[:row], ";".join(cells), *lines[row + 1 :]]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("inf", "'inf'"), ("NaN", "'NaN'"), ("-1.5", "'-1.5'"), ("9" * 5000, "'9999")],
)
def test_ipondi_not_finite_or_negative_refused(con, mobpro_dir, tmp_path, value, shown):
    # inf used to reach the report, NaN made a commune's workers vanish (issue 11).
    path = _variant(
        mobpro_dir / EXTRACT, tmp_path / "FD_MOBPRO_2021.csv", lambda ls: _set_ipondi(ls, 3, value)
    )
    with pytest.raises(SchemaError, match=f"ligne 4, colonne IPONDI : valeur {shown}") as info:
        open_mobpro(path, con, cache_dir=tmp_path / "cache")
    assert "fini et positif ou nul" in str(info.value)
    assert len(str(info.value)) < 500


def test_ragged_line(con, mobpro_dir, tmp_path):
    path = _variant(
        mobpro_dir / EXTRACT,
        tmp_path / "FD_MOBPRO_2021.csv",
        lambda lines: [*lines[:3], ";".join(lines[3].split(";")[:10]), *lines[4:]],
    )
    with pytest.raises(SchemaError, match="ligne 4"):
        open_mobpro(path, con, cache_dir=tmp_path / "cache")


def test_truncated_zip(con, mobpro_dir, tmp_path):
    archive = tmp_path / "RP2021_mobpro_csv.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(mobpro_dir / EXTRACT, "FD_MOBPRO_2021.csv")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="illisible ou tronquée"):
        open_mobpro(archive, con, cache_dir=tmp_path / "cache")


def test_empty_zip(con, tmp_path):
    archive = tmp_path / "RP2021_mobpro_csv.zip"
    with zipfile.ZipFile(archive, "w"):
        pass
    with pytest.raises(SourceError, match="archive vide"):
        open_mobpro(archive, con, cache_dir=tmp_path / "cache")


def test_invalid_view_name(con, mobpro_dir, tmp_path):
    with pytest.raises(ValueError, match="Nom de vue invalide"):
        open_mobpro(mobpro_dir / EXTRACT, con, cache_dir=tmp_path, view="mob pro; DROP")


def test_synthetic_name_without_sidecar_stays_synthetic(con, mobpro_dir, tmp_path):
    # A synthetic census uploaded alone (web application) leaves its sidecar behind:
    # the name that « tierslieux synth mobpro » always writes keeps it marked.
    alone = _copy(mobpro_dir / EXTRACT, tmp_path / "depot", "FD_MOBPRO_2021_synthetique.csv")
    result = open_mobpro(alone, con, cache_dir=tmp_path / "cache")
    assert result.provenance.synthetic is True
    assert result.provenance.licence is None
    assert any("synthétiques" in note for note in result.provenance.notes)
