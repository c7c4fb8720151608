"""What one more site would add: the marginal gain of every candidate given chosen sites.

The optimisers (:mod:`tierslieux.analysis.optimise`) give the marginal gain of each
*chosen* site; a map of « how much would one more site add here » needs it for every
candidate, given the sites already chosen (existing tiers-lieux kept included):

- maximal covering: the demand of the points a candidate covers that no chosen site
  covers yet (:func:`coverage_gains`);
- per-flow benefit: for each flow, what the candidate gains beyond the best chosen site
  for that flow, when positive, summed over the flows (:func:`benefit_gains`).

A chosen candidate adds nothing (0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

__all__ = ["benefit_gains", "coverage_gains"]


def coverage_gains(
    coverage: sparse.csr_matrix,
    weights: NDArray[np.float64],
    chosen: Sequence[int],
) -> NDArray[np.float64]:
    """Demand each candidate would add to the points covered by ``chosen``.

    Parameters
    ----------
    coverage
        Candidates × demand points, non-zero when the candidate covers the point.
    weights
        Demand of each point (same unit as the objective).
    chosen
        Indices (rows) of the sites already chosen.

    Returns
    -------
    numpy.ndarray
        One value per candidate: the demand of its points that no chosen site covers.
    """
    matrix = sparse.csr_matrix(coverage, dtype=np.float64)
    matrix.data = (matrix.data != 0).astype(np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    covered = np.zeros(matrix.shape[1], dtype=bool)
    if len(chosen):
        covered = np.asarray(matrix[list(chosen)].sum(axis=0)).ravel() > 0
    gains = np.asarray(matrix @ np.where(covered, 0.0, weights)).ravel()
    gains[list(chosen)] = 0.0
    return gains


def benefit_gains(gains: sparse.csr_matrix, chosen: Sequence[int]) -> NDArray[np.float64]:
    """Benefit each candidate would add, each flow using its best site.

    Parameters
    ----------
    gains
        Flows × candidates, the benefit of each flow at each candidate (non-negative).
    chosen
        Indices (columns) of the sites already chosen.

    Returns
    -------
    numpy.ndarray
        One value per candidate: ``sum over flows of max(0, gain at the candidate -
        best gain at a chosen site)``.
    """
    matrix = sparse.csc_matrix(gains, dtype=np.float64)
    best = np.zeros(matrix.shape[0], dtype=np.float64)
    if len(chosen):
        best = np.asarray(matrix[:, list(chosen)].max(axis=1).toarray()).ravel()
    extra = np.clip(matrix.data - best[matrix.indices], 0.0, None)
    totals = np.zeros(matrix.shape[1], dtype=np.float64)
    counts = np.diff(matrix.indptr)
    columns = np.repeat(np.arange(matrix.shape[1]), counts)
    np.add.at(totals, columns, extra)
    totals[list(chosen)] = 0.0
    return totals
