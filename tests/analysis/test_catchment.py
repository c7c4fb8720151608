"""Tests of catchments and sums over catchments."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.analysis.catchment import catchment_pairs, commute_minutes, sum_over_catchments
from tierslieux.analysis.traveltime import StraightLineEngine, TableEngine
from tierslieux.errors import SchemaError
from tierslieux.model.traveltime import StraightLineParameters

# Four communes on a line: A -10 min- B -15 min- C -25 min- D (minutes invented).
TOY_MATRIX = pd.DataFrame(
    {
        "origin": ["A", "B", "A", "C", "A", "B"],
        "destination": ["B", "C", "C", "D", "D", "D"],
        "minutes": [10.0, 15.0, 25.0, 25.0, 50.0, 40.0],
    }
)
TOY_POINTS = pd.DataFrame(
    {"code": list("ABCD"), "latitude": [45.0] * 4, "longitude": [6.0, 6.1, 6.2, 6.3]}
)
TOY_VALUES = pd.DataFrame(
    {"code": list("ABCD"), "actifs": [100, 50, 30, 5], "independants": [10.0, 4.0, 2.5, 0.0]}
)


def test_toy_catchments_by_hand() -> None:
    pairs = catchment_pairs(TableEngine(TOY_MATRIX), TOY_POINTS, 20.0)
    # Within 20 minutes (both ways thanks to the symmetric fallback):
    # A: A, B   B: A, B, C   C: B, C   D: D
    assert sorted(zip(pairs["origin"], pairs["destination"], strict=True)) == [
        ("A", "A"),
        ("A", "B"),
        ("B", "A"),
        ("B", "B"),
        ("B", "C"),
        ("C", "B"),
        ("C", "C"),
        ("D", "D"),
    ]
    values_before = TOY_VALUES.copy()
    pairs_before = pairs.copy()
    sums = sum_over_catchments(TOY_VALUES, pairs, columns=["actifs", "independants"])
    assert sums.to_dict("list") == {
        "code": ["A", "B", "C", "D"],
        "nb_communes": [2, 3, 2, 1],
        "actifs": [150, 180, 80, 5],  # 100+50, 100+50+30, 50+30, 5
        "independants": [14.0, 16.5, 6.5, 0.0],  # 10+4, 10+4+2.5, 4+2.5, 0
    }
    pd.testing.assert_frame_equal(TOY_VALUES, values_before)
    pd.testing.assert_frame_equal(pairs, pairs_before)


def test_commune_missing_from_pairs_keeps_its_values() -> None:
    pairs = pd.DataFrame({"origin": ["A", "B"], "destination": ["B", "A"], "minutes": [10.0, 10.0]})
    values = pd.DataFrame({"code": ["A", "B", "E"], "n": [1, 2, 7]})
    sums = sum_over_catchments(values, pairs, columns=["n"])
    assert sums.to_dict("list") == {
        "code": ["A", "B", "E"],
        "nb_communes": [2, 2, 1],
        "n": [3, 3, 7],
    }


def test_destinations_without_values_and_nan() -> None:
    pairs = pd.DataFrame({"origin": ["A", "A"], "destination": ["X", "B"], "minutes": [1.0, 2.0]})
    values = pd.DataFrame({"code": ["A", "B"], "n": [1.0, float("nan")]})
    sums = sum_over_catchments(values, pairs, columns=["n"])
    assert sums.to_dict("list") == {"code": ["A", "B"], "nb_communes": [2, 1], "n": [1.0, 0.0]}


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (pd.DataFrame({"code": ["A"], "x": [1]}), "n"),
        (pd.DataFrame({"code": ["A"], "n": ["1"]}), "non numérique"),
        (pd.DataFrame({"code": ["A", "A"], "n": [1, 2]}), "double"),
    ],
)
def test_sum_errors(values: pd.DataFrame, match: str) -> None:
    pairs = pd.DataFrame({"origin": ["A"], "destination": ["A"]})
    with pytest.raises(SchemaError, match=match):
        sum_over_catchments(values, pairs, columns=["n"])


def test_catchment_pairs_adds_self_pairs_of_engines_that_omit_them() -> None:
    class NoSelf:
        name = "no_self"

        def parameters(self) -> dict[str, object]:
            return {}

        def within(
            self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
        ) -> pd.DataFrame:
            del origins, destinations, max_minutes
            return pd.DataFrame({"origin": ["A"], "destination": ["B"], "minutes": [3.0]})

        def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
            raise NotImplementedError

    pairs = catchment_pairs(NoSelf(), TOY_POINTS.iloc[:2], 20.0)
    assert pairs.to_dict("list") == {
        "origin": ["A", "A", "B"],
        "destination": ["A", "B", "B"],
        "minutes": [0.0, 3.0, 0.0],
    }


def test_commute_minutes() -> None:
    engine = StraightLineEngine(StraightLineParameters(detour_factor=1.3, speed_kmh=60.0))
    pts = pd.DataFrame(
        {"code": ["05061", "05179"], "latitude": [45.0, 46.0], "longitude": [6.0, 6.0]}
    )
    flows = pd.DataFrame(
        {
            "residence": ["05061", "05179", "05061"],
            "workplace": ["05179", "05179", "99999"],
            "ipondi": [1.5, 2.0, 1.0],
        }
    )
    before = flows.copy()
    out = commute_minutes(engine, flows, pts)
    pd.testing.assert_frame_equal(flows, before)
    assert list(out.columns) == ["residence", "workplace", "ipondi", "minutes"]
    assert out["minutes"].iloc[0] == pytest.approx(6371.0088 * math.pi / 180 * 1.3)
    assert out["minutes"].iloc[1] == 0.0
    assert math.isnan(out["minutes"].iloc[2])
    with pytest.raises(SchemaError, match="residence"):
        commute_minutes(engine, flows.drop(columns="residence"), pts)


@pytest.mark.shared
def test_paca_catchment_for_every_commune(shared_real: Path) -> None:
    communes = pd.read_csv(
        shared_real / "communes" / "communes.csv",
        dtype={"insee_com": str, "insee_reg": str, "insee_dep": str, "commune_type": str},
    )
    paca = communes[(communes["insee_reg"] == "93") & (communes["commune_type"] == "COM")]
    # The file has one row per (commune, postal code): keep one row per INSEE code.
    paca = paca.drop_duplicates("insee_com")
    pts = pd.DataFrame(
        {"code": paca["insee_com"], "latitude": paca["lat"], "longitude": paca["lng"]}
    ).reset_index(drop=True)
    assert 900 < len(pts) < 1000
    pairs = catchment_pairs(StraightLineEngine(), pts, 20.0)
    assert set(pairs["origin"]) == set(pts["code"])
    assert (pairs["minutes"] <= 20.0).all()
    selves = pairs[pairs["origin"] == pairs["destination"]]
    assert len(selves) == len(pts)
    sizes = pairs.groupby("origin").size()
    assert sizes.max() > 1
    values = pd.DataFrame(
        {"code": pts["code"], "habitants": paca["population_2021"].fillna(0).to_numpy()}
    )
    sums = sum_over_catchments(values, pairs, columns=["habitants"])
    assert len(sums) == len(pts)
    assert (sums["habitants"] >= values["habitants"].to_numpy()).all()
    assert (sums["nb_communes"] == sizes.reindex(sums["code"]).to_numpy()).all()
