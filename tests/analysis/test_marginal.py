"""What one more site would add, for every candidate (analysis.marginal and the use case)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from tierslieux.analysis.marginal import benefit_gains, coverage_gains
from tierslieux.config import Settings
from tierslieux.pipeline.sites import SitesRequest, run_sites


def test_coverage_gains_count_uncovered_demand_only() -> None:
    # 3 candidates x 4 points; candidate 0 is chosen and covers points 0 and 1.
    matrix = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
    weights = np.array([10.0, 20.0, 30.0, 40.0])
    gains = coverage_gains(matrix, weights, [0])
    assert gains.tolist() == [0.0, 30.0, 70.0]
    assert coverage_gains(matrix, weights, []).tolist() == [30.0, 50.0, 70.0]


def test_benefit_gains_beyond_the_best_chosen_site() -> None:
    # 2 flows x 3 candidates; candidate 0 chosen.
    gains = sparse.csr_matrix(np.array([[5.0, 8.0, 0.0], [2.0, 1.0, 4.0]]))
    assert benefit_gains(gains, [0]).tolist() == [0.0, 3.0, 2.0]
    assert benefit_gains(gains, []).tolist() == [7.0, 9.0, 4.0]


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory):
    cache: Path = tmp_path_factory.mktemp("cache")
    request = SitesRequest(territory="dep:00", count=2, demo=True, time_limit=10)
    return run_sites(Settings(offline=True, cache_dir=cache), request)


def test_one_more_site_for_every_candidate(demo_result) -> None:
    one_more = demo_result.one_more
    chosen = set(demo_result.sites["code"])
    assert len(one_more) == len(demo_result.communes)  # every commune is a candidate
    assert set(one_more.loc[one_more["choisi"], "code"]) == chosen
    assert (one_more.loc[one_more["choisi"], "gain_site_supplementaire"] == 0).all()
    assert (one_more["gain_site_supplementaire"] >= 0).all()
    # Adding the best candidate to the chosen sites is one solution with one more site:
    # the optimum with K+1 sites is at least that.
    best = float(one_more.loc[one_more["admissible"], "gain_site_supplementaire"].max())
    sensitivity = demo_result.sensitivity
    plus_one = sensitivity[
        (sensitivity["nb_sites"] == demo_result.count + 1)
        & (sensitivity["minutes"] == demo_result.minutes)
    ]["objectif"].iloc[0]
    assert demo_result.result.objective + best <= float(plus_one) + 1e-6
    # The gain of a candidate is the uncovered demand of its catchment.
    covered = set(demo_result.coverage["code_commune"])
    uncovered = demo_result.communes[~demo_result.communes["code"].isin(covered)]
    assert best <= float(uncovered["demande"].sum()) + 1e-6
