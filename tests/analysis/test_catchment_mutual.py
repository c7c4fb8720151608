"""Catchment definitions (centre / mutual), largest internal time and reach."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tierslieux.analysis.catchment import (
    build_catchments,
    catchment_pairs,
    check_definition,
    group_diameters,
)
from tierslieux.analysis.traveltime import StraightLineEngine, TableEngine
from tierslieux.errors import SchemaError

# A chain A - B - C: A-B 15 min, B-C 15 min, A-C 30 min (imported matrix).
CHAIN = TableEngine(
    pd.DataFrame(
        {
            "origin": ["A", "B", "A"],
            "destination": ["B", "C", "C"],
            "minutes": [15.0, 15.0, 30.0],
        }
    )
)
POINTS = pd.DataFrame({"code": ["A", "B", "C"], "latitude": 0.0, "longitude": 0.0})


def _members(pairs: pd.DataFrame, centre: str) -> set[str]:
    return set(pairs.loc[pairs["origin"] == centre, "destination"])


def test_centre_definition_keeps_both_ends_and_reports_their_distance() -> None:
    result = build_catchments(CHAIN, POINTS, 20, definition="centre")
    assert _members(result.pairs, "B") == {"A", "B", "C"}
    assert result.diameters["B"] == 30.0
    assert result.diameters["A"] == 15.0
    assert result.definition == "centre"


def test_mutual_definition_drops_the_member_too_far_from_another() -> None:
    result = build_catchments(CHAIN, POINTS, 20, definition="mutuelle")
    # A and C are both 15 minutes from B: A (first by code) is kept, C is then 30
    # minutes from A and is left out.
    assert _members(result.pairs, "B") == {"A", "B"}
    assert result.diameters["B"] == 15.0
    assert (result.diameters <= 20).all()
    # The centre is always its own member.
    assert _members(result.pairs, "C") == {"B", "C"}


def test_mutual_definition_takes_the_nearest_first() -> None:
    engine = TableEngine(
        pd.DataFrame(
            {
                "origin": ["B", "B", "A"],
                "destination": ["A", "C", "C"],
                "minutes": [18.0, 5.0, 30.0],
            }
        )
    )
    result = build_catchments(engine, POINTS, 20, definition="mutuelle")
    assert _members(result.pairs, "B") == {"B", "C"}


def test_unknown_time_between_members_gives_an_unknown_diameter() -> None:
    # A matrix limited to 20 minutes does not know A-C.
    engine = TableEngine(
        pd.DataFrame({"origin": ["A", "B"], "destination": ["B", "C"], "minutes": [15.0, 15.0]})
    )
    result = build_catchments(engine, POINTS, 20)
    assert math.isnan(result.diameters["B"])
    assert result.diameters["A"] == 15.0
    # The mutual definition does not keep a member whose time is unknown.
    mutual = build_catchments(engine, POINTS, 20, definition="mutuelle")
    assert _members(mutual.pairs, "B") == {"A", "B"}


def test_single_commune_has_diameter_zero() -> None:
    alone = pd.DataFrame({"code": ["05061"], "latitude": [44.56], "longitude": [6.08]})
    result = build_catchments(StraightLineEngine(), alone, 20)
    assert result.diameters.to_dict() == {"05061": 0.0}


@pytest.mark.usefixtures("cli_labels")
def test_unknown_definition_is_refused_in_french() -> None:
    with pytest.raises(SchemaError, match="Définition du bassin « cercle » inconnue"):
        check_definition("cercle")
    with pytest.raises(SchemaError, match="--definition-bassin"):
        build_catchments(CHAIN, POINTS, 20, definition="cercle")


def test_reach_adds_destinations_but_no_centres() -> None:
    inside = pd.DataFrame({"code": ["A", "B"], "latitude": 0.0, "longitude": 0.0})
    outside = pd.DataFrame({"code": ["C"], "latitude": 0.0, "longitude": 0.0})
    without = catchment_pairs(CHAIN, inside, 20)
    with_reach = catchment_pairs(CHAIN, inside, 20, reach=outside)
    assert "C" not in set(without["destination"])
    assert _members(with_reach, "B") == {"A", "B", "C"}
    assert set(with_reach["origin"]) == {"A", "B"}


def test_group_diameters_matches_the_engine() -> None:
    engine = StraightLineEngine()
    points = pd.DataFrame(
        {"code": ["x", "y", "z"], "latitude": [44.0, 44.05, 44.1], "longitude": [6.0, 6.0, 6.0]}
    )
    members = pd.DataFrame(
        {"origin": ["g1", "g1", "g1", "g2"], "destination": ["x", "y", "z", "y"]}
    )
    result = group_diameters(engine, members, points)
    far = engine.between(pd.DataFrame({"origin": ["x"], "destination": ["z"]}), points).iloc[0]
    assert result["g1"] == pytest.approx(far)
    assert result["g2"] == 0.0
