"""Communes without coordinates: a note on the terminal, or a refusal when none has any."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.pipeline.inputs import demo_files, resolve_communes
from tierslieux.sources.communes import coordinates_note, load_communes, require_coordinates

FOLDER = "frontiere"


def _communes_without(data_dir: Path, target: Path, codes: set[str]) -> Path:
    """Copy the border communes with lat/lng emptied for ``codes``."""
    lines = (data_dir / FOLDER / "communes_frontiere.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    lat, lng = header.index("lat"), header.index("lng")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] in codes:
            cells[lat] = cells[lng] = ""
        out.append(",".join(cells))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def _diagnose(data_dir: Path, tmp_path: Path, communes: Path) -> object:
    folder = data_dir / FOLDER
    return CliRunner().invoke(
        app,
        [
            "diagnose",
            "--territory",
            "dep:05",
            "--communes",
            str(communes),
            "--zonages",
            str(folder / "table_supracom_2024_frontiere.csv"),
            "--mobpro",
            str(folder / "FD_MOBPRO_2021_frontiere.csv"),
            "--offline",
            "--out",
            str(tmp_path / "out"),
        ],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )


def test_some_communes_without_coordinates_noted_on_terminal(data_dir, tmp_path):
    communes = _communes_without(data_dir, tmp_path / "communes.csv", {"05173"})
    result = _diagnose(data_dir, tmp_path, communes)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "1 commune(s) du territoire sur 2 sans coordonnées" in text
    assert "05173" in text


def test_unlocated_note_counts_the_territory_and_names_no_server_path(data_dir, tmp_path):
    """The note of a diagnostic (on its pages and report) gives the territory's figures
    and the file's name: a commune outside the territory without coordinates is no
    concern of the territory's reader, and the folder on the server means nothing to them."""
    communes = _communes_without(data_dir, tmp_path / "communes.csv", {"05173", "04209"})
    result = _diagnose(data_dir, tmp_path, communes)
    assert result.exit_code == 0, result.output
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    text = " ".join(result.output.split())
    for shown in (text, report):
        assert "communes.csv : 1 commune(s) du territoire sur 2 sans coordonnées" in shown
        assert "04209" not in shown.split("sans coordonnées", 1)[1][:300]
    assert str(tmp_path) not in report


def test_territory_without_any_coordinates_refused(data_dir, tmp_path):
    communes = _communes_without(data_dir, tmp_path / "communes.csv", {"05173", "05070"})
    result = _diagnose(data_dir, tmp_path, communes)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "aucune des 2 commune(s) demandées n'a de coordonnées" in text
    assert "Traceback" not in result.output


def test_helpers(data_dir, tmp_path):
    communes = load_communes(_communes_without(data_dir, tmp_path / "c.csv", {"05173"}))
    assert coordinates_note(communes, ["05070"]) is None
    note = coordinates_note(communes)
    assert note is not None
    assert "05173" in note
    require_coordinates(communes, ["05070", "05173"])
    with pytest.raises(SchemaError, match="aucune des 1 commune"):
        require_coordinates(communes, ["05173"])


def _names_only(target: Path) -> Path:
    """The demo communes' codes, names and populations, without any coordinate."""
    target.write_text(
        "code,nom,population\n00101,Bourg-Fictif,6200\n00102,Val-d'Exemple,1450\n",
        encoding="utf-8",
    )
    return target


def test_communes_csv_without_coordinates_refused_naming_file_and_columns(tmp_path):

    names = _names_only(tmp_path / "noms.csv")
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    with pytest.raises(SchemaError) as refused:
        resolve_communes(settings, (names,))
    message = str(refused.value)
    assert message.startswith("noms.csv : aucune coordonnée de commune")
    assert "latitude et longitude" in message
    assert "contours" in message
    assert str(tmp_path) not in message


def test_communes_csv_without_coordinates_takes_centres_from_outlines(tmp_path):

    names = _names_only(tmp_path / "noms.csv")
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    merged = resolve_communes(settings, (names, demo_files()["communes"]))
    table = merged.table.set_index("code")
    assert table["latitude"].notna().all()
    assert table.loc["00101", "population"] == 6200
