"""Max-benefit site selection (per-flow CO₂ rule): brute force and a hand-computed case."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from tierslieux.analysis.commute_co2 import car_flows, car_trans_codes, flow_gains
from tierslieux.analysis.optimise import solve_max_benefit
from tierslieux.analysis.traveltime import TableEngine
from tierslieux.errors import InfeasibleError
from tierslieux.model.siting import SOLVER_GREEDY, SOLVER_HIGHS


def _gains(seed: int, flows: int = 30, sites: int = 8, density: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 50, (flows, sites)).astype(float)
    return np.where(rng.random((flows, sites)) < density, values, 0.0)


def _value(gains: np.ndarray, chosen) -> float:
    return float(gains[:, list(chosen)].max(axis=1).sum()) if chosen else 0.0


def _brute(gains: np.ndarray, k: int, *, ok=lambda _c: True) -> float:
    combos = itertools.combinations(range(gains.shape[1]), k)
    return max(_value(gains, c) for c in combos if ok(c))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_exact_matches_brute_force(seed: int, k: int) -> None:
    gains = _gains(seed)
    result = solve_max_benefit(sparse.csr_matrix(gains), k, method="exact")
    assert result.solver == SOLVER_HIGHS
    assert result.status == "optimal"
    assert len(result.chosen) == k
    assert result.objective == pytest.approx(_brute(gains, k))
    assert result.objective == pytest.approx(_value(gains, result.chosen))
    assert sum(s.marginal_gain for s in result.sites) == pytest.approx(result.objective)
    assert result.gap <= 1e-4


@pytest.mark.parametrize("seed", range(4))
def test_greedy_bound_is_valid(seed: int) -> None:
    gains = _gains(seed, flows=40, sites=9)
    best = _brute(gains, 3)
    result = solve_max_benefit(gains, 3, method="greedy")
    assert result.solver == SOLVER_GREEDY
    assert result.objective <= best + 1e-9 <= result.bound + 1e-6
    assert result.objective == pytest.approx(_value(gains, result.chosen))


@pytest.mark.parametrize("seed", range(4))
def test_fixed_eligible_and_themes_match_brute_force(seed: int) -> None:
    gains = _gains(seed, sites=7)
    themes = [
        frozenset({"a"}),
        frozenset({"a", "b"}),
        frozenset({"b"}),
        frozenset({"c"}),
        frozenset({"c"}),
        frozenset({"a"}),
        frozenset(),
    ]
    eligible = [True, True, True, True, False, True, True]

    def ok(c) -> bool:
        if 0 not in c or any(not eligible[j] or not themes[j] for j in c if j != 0):
            return False
        return any(
            len(set(t)) == len(c) for t in itertools.product(*[sorted(themes[j]) for j in c])
        )

    result = solve_max_benefit(
        gains,
        3,
        fixed=[0],
        site_themes=themes,
        require_community=eligible,
        distinct_themes=True,
        method="exact",
    )
    assert 0 in result.chosen
    assert result.objective == pytest.approx(_brute(gains, 3, ok=ok))
    assert len({s.theme for s in result.sites}) == 3


def test_infeasible_is_explained() -> None:
    with pytest.raises(InfeasibleError):
        solve_max_benefit(_gains(0), 3, require_community=[True] * 2 + [False] * 6)


def test_hand_computed_flow_case() -> None:
    """Three communes on a line; minutes given, km = great-circle × detour 1 (±1 m)."""
    # A at 0 km, B at 10 km east, C at 30 km east (latitude 0: 1° ≈ 111.19 km).
    deg = 1 / 111.19492664455873
    points = pd.DataFrame(
        {"code": ["A", "B", "C"], "latitude": [0.0] * 3, "longitude": [0.0, 10 * deg, 30 * deg]}
    )
    minutes = {
        ("A", "A"): 0,
        ("A", "B"): 12,
        ("A", "C"): 40,
        ("B", "B"): 0,
        ("B", "C"): 25,
        ("B", "A"): 12,
        ("C", "C"): 0,
        ("C", "A"): 40,
        ("C", "B"): 25,
    }
    engine = TableEngine(
        pd.DataFrame(
            [{"origin": o, "destination": d, "minutes": m} for (o, d), m in minutes.items()]
        )
    )
    flows = pd.DataFrame(
        {"residence": ["A", "B", "A"], "workplace": ["C", "C", "B"], "weight": [3.0, 2.0, 5.0]}
    )
    result = flow_gains(
        flows,
        ["A", "B", "C"],
        points,
        engine,
        minutes=20,
        gain_minimal=10,
        factor_kg_per_km=0.2,
        detour_factor=1.0,
    )
    g = result.gains.toarray()
    # A->C (40 min, 30 km): at A saves 40 min, 2×30×3×0.2 = 36; at B (12 min, saves 28
    # min) 2×20×3×0.2 = 24; C is 40 min away (> 20).
    assert g[0] == pytest.approx([36.0, 24.0, 0.0], abs=1e-3)
    # B->C (25 min, 20 km): at B saves 25 min, 2×20×2×0.2 = 16; A is 12 min from B but
    # 10 km farther from C... km(B,C) - km(B,A) = 10 > 0 and 25 - 12 = 13 >= 10: 8.
    assert g[1] == pytest.approx([8.0, 16.0, 0.0], abs=1e-3)
    # A->B (12 min): at A saves 12 min, 2×10×5×0.2 = 20; B itself saves nothing.
    assert g[2] == pytest.approx([20.0, 0.0, 0.0], abs=1e-3)
    one = solve_max_benefit(result.gains, 1, method="exact")
    assert one.chosen == (0,)
    assert one.objective == pytest.approx(36 + 8 + 20, abs=1e-3)
    two = solve_max_benefit(result.gains, 2, method="exact")
    assert set(two.chosen) == {0, 1}
    assert two.objective == pytest.approx(36 + 16 + 20, abs=1e-3)


def test_car_flows_in_duckdb_and_trans_codes() -> None:
    con = duckdb.connect()
    con.execute(
        """
        CREATE VIEW m AS SELECT * FROM (VALUES
          ('A', 'C', false, '5', 1.5), ('A', 'C', false, '5', 2.0), ('A', 'C', false, '6', 9.0),
          ('A', 'A', false, '5', 4.0), ('A', NULL, true, '5', 1.0), ('Z', 'C', false, '5', 1.0),
          ('B', 'C', false, '5', 0.5)
        ) AS t(residence, workplace, workplace_abroad, trans, weight)
        """
    )
    frame = car_flows(con, "m", residences=["A", "B"], car_codes=["5"])
    assert frame[["residence", "workplace"]].to_numpy().tolist() == [["A", "C"], ["B", "C"]]
    assert frame["weight"].tolist() == pytest.approx([3.5, 0.5])
    labels = {"TRANS": {"4": "Deux-roues motorisé", "5": "Voiture, camion, fourgonnette"}}
    assert car_trans_codes(labels, "RP2021")[0] == ("5",)
    assert car_trans_codes({}, "RP2015")[0] == ("4",)
    assert car_trans_codes({}, None)[0] == ("5",)


@pytest.mark.parametrize("seed", range(4))
def test_shared_rankings_and_ties_match_brute_force(seed: int) -> None:
    """Flows of one 'residence' rank sites alike (merged rows, shared prefixes), ties too."""
    rng = np.random.default_rng(seed)
    distance = rng.integers(0, 4, (5, 8)).astype(float)  # 5 residences, ties on purpose
    rows = []
    for r in range(5):
        for _flow in range(6):
            commute = rng.uniform(4, 9)
            reach = rng.random(8) < 0.7
            rows.append(np.where(reach & (distance[r] < commute), commute - distance[r], 0.0))
    gains = np.array(rows) * rng.uniform(1, 3, (len(rows), 1))
    gains[[0, 1]] = 0.0  # flows without any gain keep their place in ``covered``
    for k in (1, 2, 4):
        result = solve_max_benefit(gains, k, method="exact")
        assert result.objective == pytest.approx(_brute(gains, k))
        served = {f for f in range(len(gains)) if gains[f, list(result.chosen)].max() > 0}
        assert set(result.covered) == served
    # Re-solving with a site excluded reuses the reduction and stays exact.
    best_site = solve_max_benefit(gains, 1, method="exact").chosen[0]
    eligible = [j != best_site for j in range(8)]
    other = solve_max_benefit(gains, 2, require_community=eligible, method="exact")
    assert best_site not in other.chosen
    assert other.objective == pytest.approx(_brute(gains, 2, ok=lambda c: best_site not in c))


def test_progress_reports_the_solver(tmp_path) -> None:
    events = []
    solve_max_benefit(_gains(3, flows=60, sites=12), 3, method="exact", progress=events.append)
    assert all(e.phase == "resolution" for e in events)
    assert all(e.gap is None or 0 <= e.gap <= 1 for e in events)
