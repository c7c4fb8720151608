"""Tests of the territory specification parser."""

from __future__ import annotations

import pytest

from tierslieux.errors import TerritoryError
from tierslieux.i18n import use_language
from tierslieux.model.territory import Territory, parse_territory


@pytest.mark.parametrize(
    ("spec", "kind", "code", "label"),
    [
        ("region:93", "region", "93", "Région 93"),
        ("Région:93", "region", "93", "Région 93"),
        ("dep:05", "dep", "05", "Département 05"),
        ("dep:5", "dep", "05", "Département 05"),
        ("dep:2a", "dep", "2A", "Département 2A"),
        ("dep:974", "dep", "974", "Département 974"),
        ("epci:200067437", "epci", "200067437", "EPCI 200067437"),
        ("bv:04070", "bv", "04070", "Bassin de vie 04070"),
        (" communes:listes/f.txt ", "communes", "listes/f.txt", "Liste de communes (f.txt)"),
        ("france", "all", "", "France entière"),
        ("FRANCE", "all", "", "France entière"),
    ],
)
def test_parse(spec: str, kind: str, code: str, label: str) -> None:
    territory = parse_territory(spec)
    assert territory == Territory(kind, code)  # type: ignore[arg-type]
    assert territory.label() == label
    assert parse_territory(territory.spec()) == territory


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "93",
        "region",
        "region:",
        "pays:FR",
        "dep:123",
        "dep:2C",
        "epci:2000674",
        "epci:ABCDEFGHI",
        "bv:4070",
        "region:938",
    ],
)
def test_invalid(spec: str) -> None:
    with pytest.raises(TerritoryError) as caught:
        parse_territory(spec)
    message = str(caught.value)
    assert "Formes acceptées" in message
    assert "region:93" in message
    assert "communes:" in message


def test_invalid_code_names_expectation() -> None:
    with pytest.raises(TerritoryError, match="SIREN à 9 chiffres"):
        parse_territory("epci:12345")


def test_frozen() -> None:
    territory = parse_territory("dep:05")
    with pytest.raises(AttributeError):
        territory.code = "04"  # type: ignore[misc]


def test_label_falls_back_to_french_without_catalogue_entry() -> None:
    with use_language("en"):
        assert parse_territory("dep:05").label()  # translated or French, never empty
