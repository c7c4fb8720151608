"""MOBPRO codes and coded attributes are validated against the INSEE dictionary (issue 11)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tierslieux.errors import SchemaError
from tierslieux.sources.mobpro import open_mobpro

EXTRACT = "FD_MOBPRO_2021_extrait.csv"


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _variant(data_dir: Path, target: Path, edits: dict[tuple[int, str], str]) -> Path:
    """Copy the extract to ``target`` with cells replaced ((row, column) -> value)."""
    lines = (data_dir / "mobpro" / EXTRACT).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    for (row, column), value in edits.items():
        cells = lines[row].split(";")
        cells[header.index(column)] = value
        lines[row] = ";".join(cells)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _open(path: Path, con, tmp_path: Path) -> None:
    open_mobpro(path, con, cache_dir=tmp_path / "cache")


def test_malformed_commune_code_refused_with_lines(con, data_dir, tmp_path):
    # Used to drop these rows without a word (issue 11).
    path = _variant(
        data_dir,
        tmp_path / "FD_MOBPRO_2021.csv",
        {(2, "COMMUNE"): "ABCDE", (4, "COMMUNE"): "123456", (5, "DCLT"): "5A061"},
    )
    with pytest.raises(SchemaError) as info:
        _open(path, con, tmp_path)
    text = str(info.value)
    assert "colonne COMMUNE : 2 ligne(s) avec un code commune mal formé" in text
    assert "ligne 3 « ABCDE »" in text
    assert "ligne 5 « 123456 »" in text
    # Both problems are gathered before raising.
    assert "colonne DCLT : 1 ligne(s)" in text
    assert "ligne 6 « 5A061 »" in text


def test_valid_special_codes_accepted(con, data_dir, tmp_path):
    # Corsica, lost leading zero, arrondissements and abroad are legitimate.
    path = _variant(
        data_dir,
        tmp_path / "FD_MOBPRO_2021.csv",
        {(1, "COMMUNE"): "2A004", (2, "DCLT"): "2B033", (3, "COMMUNE"): "5061"},
    )
    _open(path, con, tmp_path)
    residences = {r[0] for r in con.execute("SELECT residence FROM mobpro").fetchall()}
    assert {"2A004", "05061", "13055"} <= residences


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("EMPL", "17", "11, 12, 13, 14, 15, 16, 21, 22, 23"),
        ("TRANS", "9", "1, 2, 3, 4, 5, 6"),
        ("CS1", "8", "1, 2, 3, 4, 5, 6"),
        ("SEXE", "3", "1, 2"),
        ("NA17", "XX", "AZ, C1"),
    ],
)
def test_attribute_outside_dictionary_refused(con, data_dir, tmp_path, column, value, expected):
    path = _variant(
        data_dir,
        tmp_path / "FD_MOBPRO_2021.csv",
        {(3, column): value, (7, column): value},
    )
    with pytest.raises(SchemaError) as info:
        _open(path, con, tmp_path)
    text = str(info.value)
    assert f"colonne {column} : 2 ligne(s) avec une valeur hors du dictionnaire" in text
    assert f"« {value} » (2)" in text
    assert "première à la ligne 4" in text
    assert expected in text


def test_file_dictionary_extends_known_codes(con, data_dir, tmp_path):
    # A vintage's own varmod may list a code the built-in list does not know.
    folder = tmp_path / "in"
    folder.mkdir()
    path = _variant(data_dir, folder / "FD_MOBPRO_2021.csv", {(3, "TRANS"): "7"})
    varmod = (data_dir / "mobpro" / "varmod_mobpro_2021.csv").read_text(encoding="utf-8")
    varmod += "TRANS;Mode de transport;7;Nouveau mode;CHAR;1\n"
    (folder / "varmod_mobpro_2021.csv").write_text(varmod, encoding="utf-8")
    _open(path, con, tmp_path)
    assert con.execute("SELECT count(*) FROM mobpro WHERE trans = '7'").fetchone() == (1,)


def test_extract_still_accepted(con, data_dir, tmp_path):
    _open(data_dir / "mobpro" / EXTRACT, con, tmp_path)
    assert con.execute("SELECT count(*) FROM mobpro").fetchone() == (12,)


@pytest.mark.parametrize("value", ["abc", "-5", "999", "3.5"])
def test_agerevq_not_an_age_refused(con, data_dir, tmp_path, value):
    # Used to become NULL silently (TRY_CAST).
    path = _variant(data_dir, tmp_path / "FD_MOBPRO_2021.csv", {(4, "AGEREVQ"): value})
    with pytest.raises(SchemaError) as info:
        _open(path, con, tmp_path)
    assert f"ligne 5, colonne AGEREVQ : valeur « {value} » invalide" in str(info.value)


def test_agerevq_checked_on_parquet_in_place(con, data_dir, tmp_path):
    source = _variant(data_dir, tmp_path / "src.csv", {(2, "AGEREVQ"): "abc"})
    target = tmp_path / "RP2021_mobpro.parquet"
    con.execute(
        f"COPY (SELECT * FROM read_csv('{source}', delim=';', all_varchar=true)) "
        f"TO '{target}' (FORMAT parquet)"
    )
    # A Parquet file has no lines: its record number is named.
    with pytest.raises(SchemaError, match="ligne 2, colonne AGEREVQ : valeur « abc »"):
        _open(target, con, tmp_path)
    # Not-applicable ages stay accepted.
    source = _variant(data_dir, tmp_path / "ok.csv", {(2, "AGEREVQ"): "Z"})
    _open(source, con, tmp_path)
    assert con.execute("SELECT count(*) FROM mobpro WHERE agerevq IS NULL").fetchone() == (1,)
