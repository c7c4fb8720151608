"""Tests of the in-memory travel-time engines (straight line, imported matrix)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tierslieux.analysis.traveltime import (
    EARTH_RADIUS_KM,
    AnchoredEngine,
    StraightLineEngine,
    TableEngine,
    great_circle_km,
    sparse_within_to_csr,
)
from tierslieux.errors import SchemaError
from tierslieux.model.traveltime import (
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_SPEED_KMH,
    StraightLineParameters,
    TravelTimeEngine,
)

# Detour 1.3 and 60 km/h: one road kilometre per minute, easy to check by hand.
PARAMS = StraightLineParameters(detour_factor=1.3, speed_kmh=60.0)
# One degree of latitude on the IUGG mean sphere: 6371.0088 * pi / 180 = 111.19508 km.
ONE_DEGREE_KM = 6371.0088 * math.pi / 180


def points(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "latitude", "longitude"])


def test_one_degree_of_latitude() -> None:
    assert pytest.approx(111.195, abs=1e-3) == ONE_DEGREE_KM
    km = great_circle_km(np.array([45.0]), np.array([6.0]), np.array([46.0]), np.array([6.0]))
    assert km[0] == pytest.approx(ONE_DEGREE_KM, rel=1e-12)
    engine = StraightLineEngine(PARAMS)
    pts = points([("05061", 45.0, 6.0), ("05179", 46.0, 6.0)])
    pairs = pd.DataFrame(
        {"origin": ["05061", "05179", "05061"], "destination": ["05179", "05061", "05061"]}
    )
    minutes = engine.between(pairs, pts)
    # 111.19508 km x 1.3 = 144.554 road km, at 60 km/h = 144.554 minutes.
    expected = ONE_DEGREE_KM * 1.3 / 60.0 * 60.0
    assert expected == pytest.approx(144.554, abs=1e-3)
    assert minutes.tolist() == pytest.approx([expected, expected, 0.0])
    assert minutes.index.equals(pairs.index)
    assert minutes.dtype == "float64"


def test_within_threshold_is_inclusive_and_has_self_pairs() -> None:
    engine = StraightLineEngine(PARAMS)
    expected = ONE_DEGREE_KM * 1.3
    pts = points([("A", 45.0, 6.0), ("B", 46.0, 6.0), ("C", 50.0, 6.0)])
    od = engine.within(pts, pts, expected + 1e-6)
    assert list(od.columns) == ["origin", "destination", "minutes"]
    assert set(zip(od["origin"], od["destination"], strict=True)) == {
        ("A", "A"),
        ("A", "B"),
        ("B", "A"),
        ("B", "B"),
        ("C", "C"),
    }
    assert od.loc[
        (od["origin"] == "A") & (od["destination"] == "B"), "minutes"
    ].item() == pytest.approx(expected)
    below = engine.within(pts, pts, expected - 1e-3)
    assert set(below["origin"] + below["destination"]) == {"AA", "BB", "CC"}
    assert od["minutes"].dtype == "float64"
    assert all(isinstance(code, str) for code in od["origin"])


def test_intra_commune_minutes() -> None:
    engine = StraightLineEngine(
        StraightLineParameters(detour_factor=1.3, speed_kmh=60.0, intra_commune_minutes=5.0)
    )
    pts = points([("A", 45.0, 6.0), ("B", 46.0, 6.0)])
    od = engine.within(pts, pts, 10.0)
    assert od.to_dict("list") == {
        "origin": ["A", "B"],
        "destination": ["A", "B"],
        "minutes": [5.0, 5.0],
    }
    assert engine.within(pts, pts, 4.0).empty


def test_pruning_equals_brute_force() -> None:
    rng = np.random.default_rng(20240601)
    n = 300
    pts = points(
        [
            (f"{i:05d}", float(lat), float(lon))
            for i, (lat, lon) in enumerate(
                zip(rng.uniform(43.0, 45.5, n), rng.uniform(4.5, 7.5, n), strict=True)
            )
        ]
    )
    engine = StraightLineEngine()
    for threshold in (10.0, 20.0, 45.0):
        od = engine.within(pts, pts, threshold)
        everything = pd.DataFrame(
            [(a, b) for a in pts["code"] for b in pts["code"]], columns=["origin", "destination"]
        )
        brute = everything.assign(minutes=engine.between(everything, pts))
        brute = (
            brute[brute["minutes"] <= threshold]
            .sort_values(["origin", "destination"])
            .reset_index(drop=True)
        )
        assert len(od) == len(brute) > n
        pd.testing.assert_frame_equal(od, brute, check_dtype=False, atol=1e-9, rtol=0)


def test_within_different_origins_and_destinations() -> None:
    engine = StraightLineEngine(PARAMS)
    orig = points([("A", 45.0, 6.0), ("B", 45.1, 6.0)])
    dest = points([("B", 45.1, 6.0), ("C", 45.2, 6.0)])
    od = engine.within(orig, dest, 30.0)
    assert set(zip(od["origin"], od["destination"], strict=True)) == {
        ("A", "B"),
        ("A", "C"),
        ("B", "B"),
        ("B", "C"),
    }


def test_missing_coordinates() -> None:
    engine = StraightLineEngine(PARAMS)
    pts = points([("A", 45.0, 6.0), ("B", float("nan"), float("nan"))])
    od = engine.within(pts, pts, 60.0)
    assert set(zip(od["origin"], od["destination"], strict=True)) == {("A", "A"), ("B", "B")}
    pairs = pd.DataFrame(
        {"origin": ["A", "A", "Z"], "destination": ["B", "A", "A"]}, index=[10, 20, 30]
    )
    minutes = engine.between(pairs, pts)
    assert minutes.index.tolist() == [10, 20, 30]
    assert math.isnan(minutes[10])
    assert minutes[20] == 0.0
    assert math.isnan(minutes[30])


def test_inputs_not_mutated() -> None:
    engine = StraightLineEngine()
    pts = points([("A", 45.0, 6.0), ("B", 45.1, 6.0)])
    before = pts.copy()
    engine.within(pts, pts, 20.0)
    engine.between(pd.DataFrame({"origin": ["A"], "destination": ["B"]}), pts)
    pd.testing.assert_frame_equal(pts, before)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"code": ["A"], "lat": [45.0], "longitude": [6.0]}), "latitude"),
        (
            pd.DataFrame({"code": ["A", "A"], "latitude": [45.0, 45.0], "longitude": [6.0, 6.0]}),
            "double",
        ),
        (pd.DataFrame({"code": ["A"], "latitude": [645000.0], "longitude": [6.0]}), "EPSG:4326"),
        (pd.DataFrame({"code": ["A"], "latitude": ["45"], "longitude": [6.0]}), "non numérique"),
    ],
)
def test_invalid_points(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        StraightLineEngine().within(frame, frame, 20.0)


def test_parameters_and_protocol() -> None:
    engine = StraightLineEngine()
    assert isinstance(engine, TravelTimeEngine)
    params = engine.parameters()
    assert params["engine"] == "straight_line"
    assert params["detour_factor"] == DEFAULT_DETOUR_FACTOR == 1.343
    assert params["speed_kmh"] == DEFAULT_SPEED_KMH == 36.0
    assert params["earth_radius_km"] == EARTH_RADIUS_KM
    # 20 minutes at 36 km/h = 12 road km = 12 / 1.343 great-circle km.
    assert engine.radius_km(20.0) == pytest.approx(12.0 / 1.343)
    with pytest.raises(SchemaError, match="vitesse"):
        StraightLineParameters(speed_kmh=0.0)
    with pytest.raises(SchemaError, match="détour"):
        StraightLineParameters(detour_factor=-1.0)


# -- TableEngine ----------------------------------------------------------------------

MATRIX = pd.DataFrame(
    {
        "origin": ["05061", "05179", "05061", "04088"],
        "destination": ["05179", "05061", "05023", "05061"],
        "minutes": [22.5, 23.0, 75.0, 61.25],
    }
)


def test_table_between_with_symmetric_fallback() -> None:
    engine = TableEngine(MATRIX)
    assert isinstance(engine, TravelTimeEngine)
    pairs = pd.DataFrame(
        {
            "origin": ["05061", "05179", "05023", "05061", "05061", "05023"],
            "destination": ["05179", "05061", "05061", "04088", "05061", "04088"],
        }
    )
    minutes = engine.between(pairs, pd.DataFrame(columns=["code", "latitude", "longitude"]))
    # Given both ways; fallback (05061 -> 05023 read backwards); fallback; self 0; unknown.
    assert minutes.tolist()[:5] == [22.5, 23.0, 75.0, 61.25, 0.0]
    assert math.isnan(minutes.iloc[5])


def test_table_within() -> None:
    engine = TableEngine(MATRIX)
    pts = pd.DataFrame({"code": ["05061", "05179", "05023", "04088"]})
    od = engine.within(pts, pts, 60.0)
    assert od.to_dict("list") == {
        "origin": ["04088", "05023", "05061", "05061", "05179", "05179"],
        "destination": ["04088", "05023", "05061", "05179", "05061", "05179"],
        "minutes": [0.0, 0.0, 0.0, 22.5, 23.0, 0.0],
    }
    od = engine.within(pts.iloc[[0]], pts, 80.0)
    assert od["destination"].tolist() == ["04088", "05023", "05061", "05179"]
    assert od["minutes"].tolist() == [61.25, 75.0, 0.0, 22.5]


def test_table_errors_and_parameters() -> None:
    with pytest.raises(SchemaError, match="différentes"):
        TableEngine(pd.concat([MATRIX, MATRIX.assign(minutes=MATRIX["minutes"] + 1)]))
    with pytest.raises(SchemaError, match="négative"):
        TableEngine(MATRIX.assign(minutes=-1.0))
    with pytest.raises(SchemaError, match="minutes"):
        TableEngine(MATRIX.drop(columns="minutes"))
    same = TableEngine(pd.concat([MATRIX, MATRIX]))  # identical duplicates are fine
    assert same.parameters() == TableEngine(MATRIX).parameters()
    assert same.parameters()["pairs"] == 4
    assert TableEngine(MATRIX.assign(minutes=1.0)).parameters() != same.parameters()


def test_sparse_within_to_csr() -> None:
    od = pd.DataFrame(
        {
            "origin": ["A", "A", "B", "Z"],
            "destination": ["A", "B", "B", "A"],
            "minutes": [0.0, 5.0, 0.0, 1.0],
        }
    )
    matrix = sparse_within_to_csr(od, ["A", "B"], ["A", "B", "C"])
    assert matrix.shape == (2, 3)
    assert matrix.toarray().tolist() == [[True, True, False], [False, True, False]]


def test_anchored_engine_gives_places_their_commune_times() -> None:
    engine = AnchoredEngine(TableEngine(MATRIX), {"gare": "05061", "halle": "05061"})
    places = pd.DataFrame(
        {"code": ["gare", "halle"], "latitude": [44.56, 44.57], "longitude": [6.08, 6.09]}
    )
    communes = pd.DataFrame(
        {"code": ["05061", "05179", "05023"], "latitude": [44.5] * 3, "longitude": [6.0] * 3}
    )
    pairs = engine.within(places, communes, 30.0)
    # Both places lie in 05061: its own commune (0 min) and 05179 (22.5 min), not 05023.
    assert sorted(zip(pairs["origin"], pairs["destination"], pairs["minutes"], strict=True)) == [
        ("gare", "05061", 0.0),
        ("gare", "05179", 22.5),
        ("halle", "05061", 0.0),
        ("halle", "05179", 22.5),
    ]
    # The other way round (residences to places), and codes that are communes pass through.
    back = engine.within(communes, places, 30.0)
    assert set(zip(back["origin"], back["destination"], strict=True)) == {
        ("05061", "gare"),
        ("05061", "halle"),
        ("05179", "gare"),
        ("05179", "halle"),
    }
    asked = pd.DataFrame({"origin": ["04088", "gare"], "destination": ["halle", "05023"]})
    assert list(engine.between(asked, places)) == [61.25, 75.0]
    assert engine.name == "table"
    assert engine.parameters() == TableEngine(MATRIX).parameters()
