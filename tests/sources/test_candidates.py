"""Candidate places of ``tierslieux sites`` (hand-written CSV files)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from tierslieux.errors import SchemaError
from tierslieux.sources.candidates import CANDIDATE_COLUMNS, load_candidate_places

if TYPE_CHECKING:
    from pathlib import Path


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_aliases_semicolons_comma_decimals_and_generated_ids(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "lieux.csv",
        "Name;Lat;Lng;INSEE;Courriel;surface\n"
        "Ancienne gare;44,63;5,845;05061;chef@gare.fr;120\n"
        "Salle polyvalente;44.70;6.11;;;80\n",
    )
    places = load_candidate_places(path)
    assert list(places.columns[:5]) == list(CANDIDATE_COLUMNS)
    assert list(places["identifiant"]) == ["L1", "L2"]
    assert list(places["nom"]) == ["Ancienne gare", "Salle polyvalente"]
    assert places.loc[0, "latitude"] == pytest.approx(44.63)
    assert places.loc[0, "longitude"] == pytest.approx(5.845)
    assert places.loc[0, "code_commune"] == "05061"
    assert pd.isna(places.loc[1, "code_commune"])
    # Personal columns never survive the load; other columns are kept as read.
    assert "Courriel" not in places.columns
    assert list(places["surface"]) == ["120", "80"]


def test_plain_code_column_is_the_commune(tmp_path: Path) -> None:
    path = _write(tmp_path / "lieux.csv", "nom;code;lat;lon\nGare;05061;44.56;6.08\n")
    places = load_candidate_places(path)
    assert list(places["code_commune"]) == ["05061"]
    assert list(places["identifiant"]) == ["L1"]


def test_latin1_commune_only_and_given_identifiers(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "lieux.csv",
        "identifiant,nom,code_commune\nA,Maison de la Vallée,13055\nB,Fête,13201\n",
        encoding="cp1252",
    )
    places = load_candidate_places(path)
    assert list(places["identifiant"]) == ["A", "B"]
    assert list(places["nom"]) == ["Maison de la Vallée", "Fête"]
    # Marseille's 1st arrondissement belongs to the commune of Marseille.
    assert list(places["code_commune"]) == ["13055", "13055"]
    assert all(math.isnan(v) for v in places["latitude"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latitude,longitude\n44,5\n", "nom du lieu"),
        ("nom,surface\nGare,10\n", "latitude et longitude, ou une colonne code_commune"),
        ("nom,latitude,longitude\nGare,44.6,\n", "ligne 2 : ni coordonnées complètes"),
        ("nom,latitude,longitude\nGare,94.6,5\n", "ligne 2, colonne latitude"),
        ("nom,latitude,longitude\nGare,quarante,5\n", "n'est pas un nombre décimal"),
        ("nom,code_commune\nGare,Gap\n", "n'est pas un code commune INSEE"),
        ("nom,latitude,longitude\n,44.6,5.8\n", "ligne 2 : nom du lieu vide"),
        ("id,nom,latitude,longitude\nX,A,44,5\nX,B,44,5\n", "identifiant « X » en double"),
        ("nom,latitude,longitude\n", "aucun lieu candidat"),
    ],
)
def test_bad_files_are_explained(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path / "lieux.csv", text)
    with pytest.raises(SchemaError) as error:
        load_candidate_places(path)
    assert expected in str(error.value)
    assert str(path) in str(error.value)
