"""Indicators on a hand-made canonical MOBPRO view, expected values worked out by hand."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tierslieux.analysis.indicators import (
    IndicatorParameters,
    compute_indicators,
    flag_small_counts,
)
from tierslieux.model.indicators import INDICATORS

# residence, workplace, abroad, cs1, empl, na17, sexe, agerevq, weight
ROWS = [
    ("05061", "05061", False, "3", "16", "JZ", "1", 30, 2.0),  # A: employee, works home commune
    ("05061", "05023", False, "4", "16", "MN", "2", 45, 3.0),  # B: employee, 50 min away
    ("05061", "05061", False, "2", "21", "GI", "1", 25, 1.5),  # C: independent
    ("05061", None, True, "5", "15", "OQ", "2", 40, 4.0),  # D: employee working abroad
    ("05061", "04070", False, "6", "22", "FZ", "1", 60, 1.0),  # E: employer, no coordinates
    ("05023", "05061", False, "3", "16", "JZ", "2", 35, 2.5),  # F: employee, 50 min away
]
SHARES = {"1": 0.03, "2": 0.33, "3": 0.72, "4": 0.48, "5": 0.36, "6": 0.02}


class FixedEngine:
    """Engine with fixed minutes: 05061<->05023 = 50 min, self = 0, others unknown."""

    name = "fixe"

    def parameters(self) -> dict[str, object]:
        return {}

    def within(self, origins, destinations, max_minutes):  # pragma: no cover - unused
        raise NotImplementedError

    def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:  # noqa: ARG002
        table = {("05061", "05023"): 50.0, ("05023", "05061"): 50.0}
        values = [
            0.0 if o == d else table.get((o, d), float("nan"))
            for o, d in zip(pairs["origin"], pairs["destination"], strict=True)
        ]
        return pd.Series(values, index=pairs.index, dtype="float64")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    frame = pd.DataFrame(
        ROWS,
        columns=[
            "residence",
            "workplace",
            "workplace_abroad",
            "cs1",
            "empl",
            "na17",
            "sexe",
            "agerevq",
            "weight",
        ],
    )
    connection = duckdb.connect()
    connection.register("rows_df", frame)
    connection.execute("CREATE VIEW mobpro AS SELECT * FROM rows_df")
    return connection


def _run(
    con: duckdb.DuckDBPyConnection, kind: str = "detail", territory=("05061", "05023", "05999")
):
    return compute_indicators(
        con,
        "mobpro",
        kind=kind,
        territory=list(territory),
        engine=FixedEngine(),
        points=pd.DataFrame(columns=["code", "latitude", "longitude"]),
        parameters=IndicatorParameters(30.0, SHARES),
    ).set_index("code")


def test_indicators_match_hand_counts(con: duckdb.DuckDBPyConnection) -> None:
    result = _run(con)
    gap = result.loc["05061"]
    assert gap["actifs_occupes"] == pytest.approx(2.0 + 3.0 + 1.5 + 4.0 + 1.0)
    assert gap["independants"] == pytest.approx(1.5 + 1.0)  # C (21) + E (22)
    assert gap["salaries_trajet_plus_30min"] == pytest.approx(3.0)  # B only
    assert gap["salaries_lieu_travail_hors_calcul"] == pytest.approx(4.0)  # D abroad
    assert gap["salaries"] == pytest.approx(2.0 + 3.0 + 4.0)
    assert gap["tic"] == pytest.approx(2.0)
    # 2*0.72 + 3*0.48 + 1.5*0.33 + 4*0.36 + 1*0.02
    assert gap["teletravaillables"] == pytest.approx(1.44 + 1.44 + 0.495 + 1.44 + 0.02)
    assert gap["age_25_44"] == pytest.approx(2.0 + 1.5 + 4.0)  # bands 30, 25, 40
    assert gap["femmes"] == pytest.approx(3.0 + 4.0)
    # potentiel: B 3*0.48 + C 1.5*0.33 + E 1*0.02
    assert gap["potentiel"] == pytest.approx(1.44 + 0.495 + 0.02)
    briancon = result.loc["05023"]
    assert briancon["salaries_trajet_plus_30min"] == pytest.approx(2.5)
    assert briancon["potentiel"] == pytest.approx(2.5 * 0.72)


def test_commune_without_residents_gets_zeros(con: duckdb.DuckDBPyConnection) -> None:
    result = _run(con)
    assert list(result.columns[: len(INDICATORS)]) == list(INDICATORS)
    assert (result.loc["05999", list(INDICATORS)] == 0).all()


def test_threshold_is_strict_and_configurable(con: duckdb.DuckDBPyConnection) -> None:
    result = compute_indicators(
        con,
        "mobpro",
        kind="detail",
        territory=["05061"],
        engine=FixedEngine(),
        points=pd.DataFrame(columns=["code", "latitude", "longitude"]),
        parameters=IndicatorParameters(50.0, SHARES),
    ).set_index("code")
    assert result.loc["05061", "salaries_trajet_plus_30min"] == 0  # 50 is not > 50


def test_flux_kind_gives_counts_only(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE VIEW flux AS SELECT residence, workplace, workplace_abroad, weight FROM mobpro"
    )
    result = compute_indicators(
        con,
        "flux",
        kind="flux",
        territory=["05061"],
        engine=FixedEngine(),
        points=pd.DataFrame(columns=["code", "latitude", "longitude"]),
        parameters=IndicatorParameters(30.0, SHARES),
    ).set_index("code")
    assert result.loc["05061", "actifs_occupes"] == pytest.approx(11.5)
    assert result.loc["05061", "actifs_trajet_plus_30min"] == pytest.approx(3.0)
    assert pd.isna(result.loc["05061", "potentiel"])
    assert pd.isna(result.loc["05061", "tic"])


def test_flag_small_counts() -> None:
    frame = pd.DataFrame({"a": [10.0, 500.0], "b": [250.0, pd.NA]}, dtype="Float64")
    flags = flag_small_counts(frame, ["a", "b"])
    assert list(flags) == ["a", ""]
