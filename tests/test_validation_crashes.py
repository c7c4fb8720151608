"""Inputs that used to crash behind the catch-all get a message naming file and place."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tierslieux.errors import SchemaError, SourceError
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.inputs import teleworkable_shares
from tierslieux.sources._files import check_unique_columns, read_csv_strings
from tierslieux.sources.communes import load_communes
from tierslieux.sources.groups import read_groups
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.survey_import import load_mapping, read_survey_csv
from tierslieux.sources.traveltimes import load_travel_times
from tierslieux.sources.zonages import load_zonages
from tierslieux.store import ImportRejectedError
from tierslieux.store._csv import read_contacts_csv


def test_duplicated_column_in_csv_strings(tmp_path):
    path = tmp_path / "od.csv"
    path.write_text("origin,destination,minutes,Minutes \n05061,05179,22.5,3\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_travel_times(path)
    text = str(info.value)
    assert "od.csv, ligne 1 : colonne « minutes » en double dans l'en-tête" in text
    assert "positions 3, 4" in text


def test_duplicated_column_in_teleworkable_file(tmp_path):
    path = tmp_path / "parts.csv"
    path.write_text("cs1,part,part\n1,0.1,0.2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="colonne « part » en double"):
        teleworkable_shares(path)


def test_duplicated_column_in_mobpro_read_by_duckdb(data_dir, tmp_path):
    lines = (data_dir / "mobpro" / "FD_MOBPRO_2021_extrait.csv").read_text("utf-8").splitlines()
    lines[0] = lines[0].replace(";DIPL;", ";CS1;")
    path = tmp_path / "FD_MOBPRO_2021.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with duckdb.connect() as con, pytest.raises(SchemaError, match="colonne « CS1 » en double"):
        open_mobpro(path, con, cache_dir=tmp_path / "cache")


def test_check_unique_columns_reports_each_repetition():
    with pytest.raises(SchemaError) as info:
        check_unique_columns(["a", "b", "A", "b"], path="f.csv")
    assert len(info.value.problems) == 2
    check_unique_columns(["a", "b", ""], path="f.csv")


def test_header_with_empty_names_still_read(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a;;\n1;2;3\n", encoding="utf-8")
    assert read_csv_strings(path, role="x").columns[0] == "a"


def test_zonings_field_over_csv_limit(data_dir, tmp_path):
    lines = (data_dir / "zonages" / "table_supracom_2024_extrait.csv").read_text("utf-8")
    rows = lines.splitlines()
    rows[2] = rows[2].replace("Manosque", "M" * 200_000)
    path = tmp_path / "table_supracom_2024.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_zonages(path)
    text = str(info.value)
    assert "table_supracom_2024.csv, ligne 3 : ligne illisible" in text
    assert "131072" in text


def test_mobpro_huge_weight_over_csv_limit(data_dir, tmp_path):
    lines = (data_dir / "mobpro" / "FD_MOBPRO_2021_extrait.csv").read_text("utf-8").splitlines()
    header = lines[0].split(";")
    cells = lines[3].split(";")
    cells[header.index("IPONDI")] = "9" * 1_000_000
    lines[3] = ";".join(cells)
    path = tmp_path / "FD_MOBPRO_2021.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with duckdb.connect() as con, pytest.raises(SchemaError) as info:
        open_mobpro(path, con, cache_dir=tmp_path / "cache")
    assert "ligne 4" in str(info.value)
    assert len(str(info.value)) < 500


def test_deeply_nested_geojson(tmp_path):
    depth = 100_000
    path = tmp_path / "communes.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(SchemaError, match="imbriqué trop profondément"):
        load_communes(path)


@pytest.mark.parametrize("depth", [5, 900, 5000])
def test_nested_geometry_coordinates(tmp_path, depth):
    coordinates = "[" * depth + "6.0, 44.0" + "]" * depth
    text = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"code": "05061"}, "geometry": {"type": "Polygon", '
        f'"coordinates": {coordinates}}}}}]}}'
    )
    path = tmp_path / "communes.geojson"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError):
        load_communes(Path(path))


# Found by bench/robustness.py: a header cell longer than the csv module's field limit,
# and survey bytes undefined in Windows-1252 too.
HUGE = "x" * 200_000


def test_mobpro_header_cell_over_csv_limit(tmp_path):
    path = tmp_path / "FD_MOBPRO_2021.csv"
    path.write_text(f'COMMUNE;"{HUGE};DCLT\n05061;05061\n', encoding="utf-8")
    with duckdb.connect() as con, pytest.raises(SchemaError, match="ligne 1 : ligne illisible"):
        open_mobpro(path, con, cache_dir=tmp_path / "cache")


def test_contacts_header_cell_over_csv_limit(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(f'ligne;identifiant;"{HUGE};date\n', encoding="utf-8")
    with pytest.raises(ImportRejectedError, match="CSV mal formé"):
        read_contacts_csv(path)


def _survey(path: Path) -> object:
    questionnaire = load_questionnaire()
    survey = Path(__file__).parent / "data" / "survey"
    mapping = load_mapping(survey / "correspondance.yaml", questionnaire)
    communes = load_communes(survey / "communes_enquete.csv").table
    return read_survey_csv(path, mapping, questionnaire, communes)


def test_survey_header_cell_over_csv_limit(tmp_path):
    path = tmp_path / "reponses.csv"
    path.write_text(f'Horodateur,"{HUGE},Situation\n', encoding="utf-8")
    with pytest.raises(SchemaError, match="ligne 1 : CSV mal formé"):
        _survey(path)


def test_survey_bytes_undefined_in_windows_1252(tmp_path):
    path = tmp_path / "reponses.csv"
    path.write_bytes(b"Horodateur,Situation\n\x81\x8d,x\n")
    with pytest.raises(SourceError, match="ligne 2"):
        _survey(path)


@pytest.mark.parametrize("members", ["9" * 5000, "²", "3" * 10])
def test_groups_member_count_not_a_small_ascii_integer(tmp_path, members):
    path = tmp_path / "groups.csv"
    path.write_text(f"groupe,theme,membres,communes\n4,vie:garde,{members},05061\n", "utf-8")
    with pytest.raises(SchemaError, match="ligne 2") as info:
        read_groups(path)
    assert len(str(info.value)) < 400


def test_groups_members_per_commune_huge_count(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_text(
        "groupe,theme,membres,communes,membres_par_commune\n"
        f"4,vie:garde,3,05061,05061:{'9' * 5000}\n",
        "utf-8",
    )
    with pytest.raises(SchemaError, match="membres_par_commune"):
        read_groups(path)
