"""Tests of the network-list reader (members of CAE networks, by SIREN or name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierslieux.errors import SchemaError, SourceError
from tierslieux.sources.networks import load_networks


def test_reads_the_example(data_dir: Path) -> None:
    frame, prov = load_networks(data_dir / "actors" / "reseaux_cae.csv")
    assert list(frame["siren"].fillna("")) == ["900000026", "", ""]
    assert set(frame["categorie"]) == {"cae"}
    assert list(frame["ligne"]) == [2, 3, 4]
    assert prov.role == "reseaux"
    assert "3 membre(s) de 2 réseau(x)" in prov.notes[0]


def test_every_bad_line_is_named(data_dir: Path) -> None:
    with pytest.raises(SchemaError) as error:
        load_networks(data_dir / "actors" / "reseaux_invalide.csv")
    text = str(error.value)
    assert "ligne 2 : SIREN « 12345 » invalide" in text
    assert "ligne 3 : nom du réseau" in text
    assert "ligne 4 : ni SIREN ni nom" in text


def test_unknown_columns_refused(tmp_path: Path) -> None:
    path = tmp_path / "reseau.csv"
    path.write_text("reseau,nom,courriel\nR,X,x@example.org\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="ligne 1"):
        load_networks(path)


def test_unknown_category_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "reseau.csv"
    path.write_text("reseau;siren;categorie\nR;900000099;pepiniere\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="catégorie « pepiniere » inconnue"):
        load_networks(path)
    with pytest.raises(SourceError):
        load_networks(tmp_path / "absent.csv")
