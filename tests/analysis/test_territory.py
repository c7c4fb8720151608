"""Tests of the selection of a territory's communes (pure function on small frames)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierslieux.analysis.territory import select_communes
from tierslieux.errors import TerritoryError
from tierslieux.model.territory import parse_territory

COMMUNES = pd.DataFrame(
    {
        "code": ["04070", "04112", "05023", "05061", "05179", "13055", "2A004", "97411"],
        "dep": ["04", "04", "05", "05", None, "13", "2A", None],
        "reg": ["93", "93", "93", "93", "93", None, "94", "04"],
        "epci": ["200067437", None, "240500439", "200067825", None, None, None, None],
    }
)
ZONAGES = pd.DataFrame(
    {
        "code": ["04070", "04112", "05023", "05061", "05179", "13201", "13205"],
        "bv2022": ["04070", "04112", "05023", "05061", "05179", "13055", "13055"],
        "epci": ["200067437", "200034700", "240500439", "200067825", "200067445", None, None],
        "reg": ["93", "93", "93", "93", "93", "93", "93"],
    }
)


def _select(spec: str, zonages: pd.DataFrame | None = ZONAGES, **kw: object) -> list[str]:
    return select_communes(parse_territory(spec), COMMUNES, zonages, **kw)  # type: ignore[arg-type]


def test_region_from_communes_then_zonages() -> None:
    # 13055 has no reg in the communes table; zonages give it through its arrondissements.
    assert _select("region:93") == ["04070", "04112", "05023", "05061", "05179", "13055"]
    assert _select("region:93", None) == ["04070", "04112", "05023", "05061", "05179"]


def test_dep_falls_back_to_code_prefix() -> None:
    assert _select("dep:05", None) == ["05023", "05061", "05179"]
    assert _select("dep:974", None) == ["97411"]
    assert _select("dep:2A", None) == ["2A004"]


def test_epci_from_communes_then_zonages() -> None:
    assert _select("epci:200067825") == ["05061"]
    assert _select("epci:200034700") == ["04112"]  # only in zonages
    with pytest.raises(TerritoryError, match="epci:200034700"):
        _select("epci:200034700", None)


def test_bv() -> None:
    assert _select("bv:05061") == ["05061"]
    assert _select("bv:13055") == ["13055"]


@pytest.mark.usefixtures("cli_labels")
def test_bv_needs_zonages() -> None:
    with pytest.raises(
        TerritoryError, match=r"bv:05061 demande le fichier des zonages \(--zonages\)"
    ):
        _select("bv:05061", None)
    with pytest.raises(TerritoryError, match="BV2022"):
        _select("bv:05061", ZONAGES.drop(columns="bv2022"))


def test_all() -> None:
    assert _select("france") == sorted(COMMUNES["code"])


def test_listed_communes_with_arrondissements() -> None:
    assert _select("communes:f.txt", listed=["05061", "13201", "05061", "5023"]) == [
        "05023",
        "05061",
        "13055",
    ]


def test_listed_unknown_codes() -> None:
    listed = ["05061", *[f"0600{i}" for i in range(1, 10)], "06010", "06011", "06012"]
    with pytest.raises(TerritoryError) as caught:
        _select("communes:f.txt", listed=listed)
    message = str(caught.value)
    assert "12 code(s) commune absent(s)" in message
    assert "06001" in message
    assert "06011" not in message  # at most 10 shown


def test_listed_missing() -> None:
    with pytest.raises(TerritoryError, match="liste"):
        _select("communes:f.txt")


def test_empty_selection_suggests_codes() -> None:
    with pytest.raises(TerritoryError, match=r"dep:06.*04, 05, 13, 2A, 974"):
        _select("dep:06")


def test_pure_function() -> None:
    before = COMMUNES.copy()
    _select("dep:05")
    pd.testing.assert_frame_equal(COMMUNES, before)


@pytest.mark.shared
def test_real_paca(shared_real: Path) -> None:
    from tierslieux.sources.communes import load_communes  # noqa: PLC0415
    from tierslieux.sources.zonages import load_zonages  # noqa: PLC0415

    communes = load_communes(
        shared_real / "communes" / "communes-provence-alpes-cote-d-azur.geojson"
    )
    zonages = load_zonages(shared_real / "zonages" / "table_supracom_2024_PACA.csv")
    # The 2018 contours carry 05120 (merged since): zonages give no région for it.
    region = select_communes(parse_territory("region:93"), communes.table, zonages.table)
    assert len(region) == 946
    dep = select_communes(parse_territory("dep:05"), communes.table, zonages.table)
    assert len(dep) == 162
    national = load_communes(shared_real / "communes" / "communes.csv")
    assert len(select_communes(parse_territory("region:93"), national.table, zonages.table)) == 946
    assert len(select_communes(parse_territory("dep:05"), national.table, None)) == 162
    bv = select_communes(parse_territory("bv:04070"), national.table, zonages.table)
    assert "04070" in bv
