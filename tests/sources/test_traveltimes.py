"""Tests of the travel-time matrix import."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierslieux.analysis.traveltime import TableEngine
from tierslieux.errors import SchemaError, SourceError
from tierslieux.sources.traveltimes import load_travel_times


def test_load_valid(data_dir: Path) -> None:
    path = data_dir / "traveltimes" / "od_valide.csv"
    frame, provenance = load_travel_times(path)
    assert list(frame.columns) == ["origin", "destination", "minutes"]
    assert frame["minutes"].dtype == "float64"
    assert frame.to_dict("list") == {
        "origin": ["04088", "05061", "05061", "05061", "05179", "2A004"],
        "destination": ["05061", "05023", "05061", "05179", "05061", "2A004"],
        "minutes": [61.25, 75.0, 0.0, 22.5, 23.0, 0.0],
    }
    assert provenance.role == "temps_de_trajet"
    assert provenance.location == str(path)
    assert provenance.sha256 is not None
    assert len(provenance.sha256) == 64
    TableEngine(frame)  # the result feeds the table engine directly


def test_load_r5py_semicolon_decimal_comma(data_dir: Path) -> None:
    frame, provenance = load_travel_times(data_dir / "traveltimes" / "od_r5py_pointvirgule.csv")
    assert frame.to_dict("list") == {
        "origin": ["05061", "05179"],
        "destination": ["05179", "05061"],
        "minutes": [22.5, 23.0],
    }
    assert any("sans durée" in note for note in provenance.notes)


def test_identical_duplicates_kept_once(data_dir: Path) -> None:
    frame, _ = load_travel_times(data_dir / "traveltimes" / "od_code_origine_doublon_identique.csv")
    assert frame.to_dict("list") == {
        "origin": ["05061"],
        "destination": ["05179"],
        "minutes": [22.5],
    }


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("od_colonne_manquante.csv", r"colonne minutes introuvable.*travel_time"),
        ("od_minutes_negatives.csv", r"durée négative ligne\(s\) 4 "),
        ("od_minutes_texte.csv", r"non numérique ligne\(s\) 3 .*environ 23"),
        ("od_doublons_contradictoires.csv", r"durées différentes ligne\(s\) 2, 4"),
        ("od_minutes_infinies.csv", r"non numérique ligne\(s\) 4 .*durée infinie ligne\(s\) 3 "),
        ("od_entete_seule.csv", r"n'a que son en-tête"),
    ],
)
def test_invalid_variants(data_dir: Path, name: str, match: str) -> None:
    path = data_dir / "traveltimes" / name
    with pytest.raises(SchemaError, match=match) as info:
        load_travel_times(path)
    assert name in str(info.value)


def test_missing_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="introuvable"):
        load_travel_times(tmp_path / "absent.csv")
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="vide"):
        load_travel_times(empty)
