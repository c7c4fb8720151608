"""The location API validates its arrays like the readers do (issue 11, point 3)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from tierslieux.analysis.optimise import solve_max_benefit, solve_max_coverage
from tierslieux.errors import SchemaError

COVER = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool)
WEIGHTS = np.array([5.0, 1.0, 4.0, 2.0])


def test_a_cost_matrix_is_refused_not_read_as_coverage() -> None:
    minutes = np.array([[5.0, 12.0, 40.0, 0.0], [30.0, 8.0, 15.0, 0.0], [0.0, 0.0, 3.0, 9.0]])
    with pytest.raises(SchemaError, match="valeurs 0/1 attendues") as caught:
        solve_max_coverage(minutes, WEIGHTS, 1)
    assert "coûts <= rayon" in str(caught.value)
    with pytest.raises(SchemaError, match="valeurs 0/1"):
        solve_max_coverage(sparse.csr_matrix(minutes), WEIGHTS, 1)


def test_zero_one_numbers_are_accepted_like_booleans() -> None:
    as_int = solve_max_coverage(COVER.astype(int), WEIGHTS, 1)
    as_bool = solve_max_coverage(COVER, WEIGHTS, 1)
    assert as_int.objective == as_bool.objective == 6.0


@pytest.mark.parametrize("k", [2.5, True, 0, -1, "2"])
def test_the_number_of_sites_must_be_a_positive_integer(k: object) -> None:
    with pytest.raises(SchemaError, match="site"):
        solve_max_coverage(COVER, WEIGHTS, k)  # type: ignore[arg-type]


def test_fixed_sites_as_a_boolean_mask_are_read_as_a_mask() -> None:
    # Before: a mask [False, False, True] was read as the indices {0, 1}.
    mask = np.array([False, False, True])
    result = solve_max_coverage(COVER, WEIGHTS, 1, fixed=mask)
    assert [s.index for s in result.sites] == [2]


def test_a_mask_of_the_wrong_length_or_float_indices_are_refused() -> None:
    with pytest.raises(SchemaError, match="masque des sites imposés de longueur 2"):
        solve_max_coverage(COVER, WEIGHTS, 1, fixed=np.array([True, False]))
    with pytest.raises(SchemaError, match="indices entiers ou masque booléen"):
        solve_max_coverage(COVER, WEIGHTS, 1, fixed=[1.5])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("time_limit", "mip_gap"), [(float("inf"), 1e-4), (0.0, 1e-4), (5.0, -0.1), (5.0, float("nan"))]
)
def test_solver_limits_must_be_finite(time_limit: float, mip_gap: float) -> None:
    with pytest.raises(SchemaError, match="entrée invalide"):
        solve_max_coverage(COVER, WEIGHTS, 1, time_limit=time_limit, mip_gap=mip_gap)
    with pytest.raises(SchemaError, match="entrée invalide"):
        solve_max_benefit(np.ones((4, 3)), 1, time_limit=time_limit, mip_gap=mip_gap)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(SchemaError) as caught:
        solve_max_coverage(COVER, WEIGHTS[:2], 0, fixed=[7])
    text = str(caught.value)
    assert "4 points de demande mais 2 poids" in text
    assert "au moins un site" in text
    assert "site imposé hors des 3 candidats" in text


def test_weights_of_two_dimensions_are_named_as_such() -> None:
    # Before: « 4 points de demande mais 4 poids » for a (4, 1) column of weights.
    with pytest.raises(SchemaError, match=r"une dimension attendu \(forme reçue \(4, 1\)"):
        solve_max_coverage(COVER, WEIGHTS.reshape(-1, 1), 1)


def test_zero_weight_points_within_reach_are_listed_as_covered() -> None:
    weights = np.array([5.0, 0.0, 0.0, 0.0])
    result = solve_max_coverage(COVER, weights, 1)
    assert result.chosen == (0,)
    assert result.covered == (0, 1)  # point 1 weighs nothing but is within reach
    assert result.objective == 5.0
