"""Maximal covering: optima checked by brute force on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from tierslieux.analysis.optimise import solve_max_coverage
from tierslieux.errors import InfeasibleError, SchemaError
from tierslieux.model.siting import SOLVER_GREEDY, SOLVER_HIGHS, co2_weights


def _instance(seed: int, n: int = 9, m: int = 25, density: float = 0.25):
    rng = np.random.default_rng(seed)
    coverage = rng.random((n, m)) < density
    weights = rng.integers(0, 100, m).astype(float)
    return coverage, weights


def _value(coverage, weights, sites) -> float:
    return float(weights[coverage[list(sites)].any(axis=0)].sum())


def _brute(coverage, weights, k, *, ok=lambda _c: True) -> float:
    values = [
        _value(coverage, weights, c)
        for c in itertools.combinations(range(coverage.shape[0]), k)
        if ok(c)
    ]
    return max(values)


def _matchable(sites, themes) -> bool:
    return any(
        len(set(assign)) == len(sites)
        for assign in itertools.product(*[sorted(themes[j]) for j in sites])
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_exact_matches_brute_force(seed: int, k: int) -> None:
    coverage, weights = _instance(seed)
    result = solve_max_coverage(sparse.csr_matrix(coverage), weights, k, method="exact")
    assert result.solver == SOLVER_HIGHS
    assert result.status == "optimal"
    assert result.objective == pytest.approx(_brute(coverage, weights, k))
    assert result.objective == pytest.approx(_value(coverage, weights, result.chosen))
    assert len(result.chosen) == k
    assert result.gap <= 1e-4
    assert sum(s.marginal_gain for s in result.sites) == pytest.approx(result.objective)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_never_beats_exact_and_bound_holds(seed: int) -> None:
    coverage, weights = _instance(seed, density=0.2)
    exact = solve_max_coverage(coverage, weights, 3, method="exact")
    greedy = solve_max_coverage(coverage, weights, 3, method="greedy")
    assert greedy.solver == SOLVER_GREEDY
    assert greedy.objective <= exact.objective + 1e-9
    assert greedy.bound >= exact.objective - 1e-9
    assert greedy.objective >= (1 - 1 / np.e) * exact.objective
    assert "1 - 1/e" in greedy.reason


@pytest.mark.parametrize("seed", range(5))
def test_distinct_themes_and_fixed_site(seed: int) -> None:
    coverage, weights = _instance(seed)
    rng = np.random.default_rng(100 + seed)
    names = ["culture", "tic", "mobilite"]
    themes = [
        frozenset(t for t in names if rng.random() < 0.4) or frozenset({names[j % 3]})
        for j in range(coverage.shape[0])
    ]
    fixed = (2,)
    k = 3

    def ok(c) -> bool:
        return all(f in c for f in fixed) and _matchable(c, themes)

    expected = _brute(coverage, weights, k, ok=ok)
    for method in ("exact", "greedy"):
        result = solve_max_coverage(
            coverage,
            weights,
            k,
            fixed=fixed,
            site_themes=themes,
            distinct_themes=True,
            method=method,
        )
        assert 2 in result.chosen
        assigned = [s.theme for s in result.sites]
        assert len(set(assigned)) == k
        assert all(s.theme in themes[s.index] for s in result.sites)
        if method == "exact":
            assert result.objective == pytest.approx(expected)
        else:
            assert result.objective <= expected + 1e-9
            assert result.bound >= expected - 1e-9
    assert [s.fixed for s in result.sites].count(True) == 1


def test_require_community_and_groups() -> None:
    coverage, weights = _instance(3)
    community = np.array([True, False, True, True, False, True, True, False, True])
    groups = ["a", "a", "a", "b", "b", "b", "c", "c", "c"]

    def ok(c) -> bool:
        return all(community[j] for j in c) and sum(groups[j] == "c" for j in c) >= 2

    result = solve_max_coverage(
        coverage,
        weights,
        3,
        require_community=community,
        groups=groups,
        min_per_group={"c": 2},
        method="exact",
    )
    assert result.objective == pytest.approx(_brute(coverage, weights, 3, ok=ok))
    assert all(community[j] for j in result.chosen)


def test_infeasible_cases_are_explained() -> None:
    coverage, weights = _instance(1)
    themes = [frozenset({"tic"})] * 5 + [frozenset({"culture"})] * 4
    with pytest.raises(InfeasibleError, match="3 sites de thèmes différents mais seules 2"):
        solve_max_coverage(coverage, weights, 3, site_themes=themes, distinct_themes=True)
    with pytest.raises(InfeasibleError, match="imposez 3 sites"):
        solve_max_coverage(coverage, weights, 2, fixed=[0, 1, 2])
    community = np.zeros(9, dtype=bool)
    community[:2] = True
    with pytest.raises(InfeasibleError, match="seuls 2 candidats"):
        solve_max_coverage(coverage, weights, 3, require_community=community)
    # Two themes exist but only one site carries both: a matching problem the MIP finds.
    themes = [frozenset({"tic", "culture"})] + [frozenset()] * 8
    with pytest.raises(InfeasibleError):
        solve_max_coverage(
            coverage, weights, 2, site_themes=themes, distinct_themes=True, method="exact"
        )


def test_bad_shapes_are_schema_errors() -> None:
    coverage, _ = _instance(0)
    with pytest.raises(SchemaError, match="poids"):
        solve_max_coverage(coverage, [1.0, 2.0], 2)


def test_co2_weights() -> None:
    assert co2_weights([10.0], [20.0], factor_kg_per_km=0.2) == [pytest.approx(80.0)]
    with pytest.raises(SchemaError):
        co2_weights([1.0], [1.0, 2.0])


@pytest.mark.parametrize("seed", range(8))
def test_lagrangian_bound_is_valid_and_tight(seed: int) -> None:
    """The heuristic's bound never falls below the brute-force optimum (fixed site and
    eligibility included) and, with the Lagrangian relaxation, stays within 10 % of it."""
    from tierslieux.analysis.optimise import _coverage_dual_bound, _validate  # noqa: PLC0415

    rng = np.random.default_rng(100 + seed)
    n, m, k = 9, 60, 3
    cover = rng.random((n, m)) < 0.2
    weights = rng.integers(1, 50, m).astype(float)
    eligible = rng.random(n) < 0.8
    eligible[0] = False  # fixed even though not eligible
    allowed = [j for j in range(n) if eligible[j] or j == 0]
    best = max(
        weights[cover[[0, *combo]].any(axis=0)].sum()
        for combo in itertools.combinations([j for j in allowed if j != 0], k - 1)
    )
    result = solve_max_coverage(
        sparse.csr_matrix(cover),
        weights,
        k,
        fixed=[0],
        require_community=eligible,
        method="greedy",
    )
    assert result.bound >= best - 1e-6
    assert result.bound <= best * 1.10
    inst = _validate(
        sparse.csr_matrix(cover),
        weights,
        k,
        (0,),
        None,
        eligible,
        distinct_themes=False,
        groups=None,
        min_per_group=None,
    )
    dual = _coverage_dual_bound(inst, result.objective)
    assert dual >= best - 1e-6
    # The trivial bound (sum of the k largest catchments) is never better than the dual.
    assert dual <= float(np.sort(cover[allowed] @ weights)[::-1][:k].sum()) + 1e-6
