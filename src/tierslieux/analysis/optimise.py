"""Maximal covering location on arrays: an exact HiGHS model and a greedy heuristic.

The core is :func:`solve_max_coverage`: it takes a boolean coverage matrix (candidate
sites × demand points), the demand weights and the number of sites ``k``, and returns a
frozen :class:`~tierslieux.model.siting.SitingResult`.  Like spopt's
``from_cost_matrix``, it knows nothing about communes or files.

Exact model (maximal covering location, Church & ReVelle 1974)::

    max  Σ_i w_i y_i
    s.t. y_i <= Σ_{j covers i} x_j        for every demand point i
         Σ_j x_j = k
         x_j = 1 for fixed sites, x_j = 0 for ineligible ones
         Σ_t z_jt = x_j, Σ_j z_jt <= 1    (distinct themes: one theme per site,
                                            each theme used at most once)
         Σ_{j in g} x_j >= m_g            (minimum per group)
         x, z binary; y in [0, 1] (integral at the optimum since w >= 0)

Heuristic: greedy (always keeping the chosen set feasible) then best-improvement
1-swap local search.  Its bound is the smallest of: the data-dependent bound of
monotone submodular maximisation (objective + the ``k - |fixed|`` largest marginal
gains w.r.t. the solution, valid whatever the constraints), ``objective / (1 - 1/e)``
for plain coverage (Nemhauser, Wolsey & Fisher 1978) and the total coverable demand.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import math
import numbers
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import maximum_bipartite_matching

from tierslieux.errors import InfeasibleError, Problem, SchemaError
from tierslieux.i18n import format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.model.siting import (
    MIP_GAP,
    SOLVER_GREEDY,
    SOLVER_HIGHS,
    SiteChoice,
    SitingResult,
    format_gap,
)
from tierslieux.model.types import ProgressEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from numpy.typing import NDArray

    from tierslieux.model.types import ProgressCallback

__all__ = ["solve_max_benefit", "solve_max_coverage"]

#: Above this many non-zeros in the (reduced) coverage matrix, "auto" uses the heuristic.
MAX_EXACT_NONZEROS = 3_000_000
_EPS = 1e-9


class _Instance:
    """Validated, reduced instance shared by both solvers."""

    def __init__(
        self,
        coverage: sparse.csr_matrix,
        weights: NDArray[np.float64],
        k: int,
        fixed: tuple[int, ...],
        eligible: NDArray[np.bool_],
        themes: list[frozenset[str]] | None,
        groups: NDArray[np.str_] | None,
        min_per_group: dict[str, int],
    ) -> None:
        self.n_sites = coverage.shape[0]
        self.k = k
        self.fixed = fixed
        self.eligible = eligible
        self.themes = themes
        self.groups = groups
        self.min_per_group = min_per_group
        self.total = float(weights.sum())
        # Keep demand points with positive weight covered by an allowed site.
        allowed = eligible.copy()
        allowed[list(fixed)] = True
        self.allowed = allowed
        reachable = np.asarray(coverage[allowed].sum(axis=0)).ravel() > 0
        keep = np.flatnonzero(reachable & (weights > 0))
        self.points = keep
        self.a = sparse.csr_matrix(coverage[:, keep], dtype=np.float64)
        self.a.data[:] = 1.0
        self.w = weights[keep].astype(np.float64)
        self.coverable = float(self.w.sum())
        # Zero-weight points do not count in the objective but are listed as covered.
        self.zero_points = np.flatnonzero(reachable & (weights == 0))
        self.zero_a = sparse.csr_matrix(coverage[:, self.zero_points], dtype=bool)
        self.theme_list = sorted({t for s in themes for t in s}) if themes is not None else []

    def objective(self, chosen: Sequence[int]) -> float:
        if not chosen:
            return 0.0
        hit = np.asarray(self.a[list(chosen)].sum(axis=0)).ravel() > 0
        return float(self.w[hit].sum())

    def theme_assignment(self, chosen: Sequence[int]) -> dict[int, str] | None:
        """Assign distinct themes to ``chosen`` (None when impossible)."""
        if self.themes is None:
            return {}
        index = {t: i for i, t in enumerate(self.theme_list)}
        rows, cols = [], []
        for r, j in enumerate(chosen):
            for t in self.themes[j]:
                rows.append(r)
                cols.append(index[t])
        graph = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(chosen), len(self.theme_list))
        )
        match = maximum_bipartite_matching(graph, perm_type="column")
        if (match < 0).any():
            return None
        return {j: self.theme_list[int(match[r])] for r, j in enumerate(chosen)}

    def groups_ok(self, chosen: Sequence[int], *, final: bool) -> bool:
        if not self.min_per_group or self.groups is None:
            return True
        labels = self.groups[list(chosen)] if chosen else np.array([], dtype=str)
        missing = sum(max(0, m - int((labels == g).sum())) for g, m in self.min_per_group.items())
        remaining = self.k - len(chosen)
        return missing == 0 if final else missing <= remaining


def _validate(  # noqa: PLR0913
    coverage: sparse.csr_matrix | NDArray[np.bool_],
    weights: NDArray[np.float64] | Sequence[float],
    k: int,
    fixed: Sequence[int],
    site_themes: Sequence[frozenset[str]] | None,
    require_community: NDArray[np.bool_] | Sequence[bool] | None,
    *,
    distinct_themes: bool,
    groups: Sequence[str] | None,
    min_per_group: Mapping[str, int] | None,
) -> _Instance:
    problems: list[str] = []
    matrix = _zero_one_matrix(coverage, problems)
    w = np.asarray(weights, dtype=np.float64)
    n, m = matrix.shape
    if w.ndim != 1:
        problems.append(
            _(
                "poids : tableau à une dimension attendu (forme reçue {shape}, {m} points "
                "de demande)",
                shape=tuple(int(d) for d in w.shape),
                m=m,
            )
        )
    elif w.shape != (m,):
        problems.append(_("{m} points de demande mais {w} poids", m=m, w=w.size))
    elif (w < 0).any() or not np.isfinite(w).all():
        problems.append(_("poids négatifs ou non finis"))
    _check_count(k, problems)
    fixed_t = _fixed_indices(fixed, n, problems)
    if site_themes is not None and len(site_themes) != n:
        problems.append(_("{t} listes de thèmes pour {n} candidats", t=len(site_themes), n=n))
    if require_community is not None and len(require_community) != n:
        problems.append(
            _("{t} indicateurs de communauté pour {n} candidats", t=len(require_community), n=n)
        )
    if groups is not None and len(groups) != n:
        problems.append(_("{t} groupes pour {n} candidats", t=len(groups), n=n))
    if min_per_group and groups is None:
        problems.append(_("minimum par groupe sans groupes des candidats"))
    if problems:
        raise SchemaError(
            _("Choix des sites : entrée invalide ({problems}).", problems=" ; ".join(problems))
        )
    eligible = (
        np.ones(n, dtype=bool)
        if require_community is None
        else np.asarray(require_community, dtype=bool).copy()
    )
    themes = [frozenset(s) for s in site_themes] if site_themes is not None else None
    if distinct_themes and themes is None:
        raise SchemaError(_("Thèmes distincts demandés sans thèmes des candidats."))
    if distinct_themes and themes is not None:
        eligible &= np.array([bool(s) for s in themes])
    group_arr = np.asarray(groups, dtype=str) if groups is not None else None
    mins = {str(g): int(v) for g, v in (min_per_group or {}).items() if int(v) > 0}
    _check_feasible(n, k, fixed_t, eligible, themes if distinct_themes else None, group_arr, mins)
    return _Instance(
        matrix, w, k, fixed_t, eligible, themes if distinct_themes else None, group_arr, mins
    )


def _zero_one_matrix(
    coverage: sparse.csr_matrix | NDArray[np.bool_], problems: list[str]
) -> sparse.csr_matrix:
    """The coverage matrix as booleans, refusing anything but 0/1 (never guessed).

    A cost or time matrix passed by mistake would otherwise read every non-zero cell as
    "covered": the caller compares it with its radius first (``costs <= radius``).
    """
    source = coverage if sparse.issparse(coverage) else np.asarray(coverage)
    if not sparse.issparse(source) and source.ndim != 2:
        problems.append(
            _("matrice de couverture à 2 dimensions attendue (reçu : {d})", d=source.ndim)
        )
        return sparse.csr_matrix((0, 0), dtype=bool)
    values: NDArray[Any] = np.asarray(source.data if sparse.issparse(source) else source.ravel())
    if values.dtype != np.bool_:
        numeric = np.asarray(values, dtype=np.float64)
        odd = numeric[~np.isin(numeric, (0.0, 1.0))]
        if odd.size:
            problems.append(
                _(
                    "matrice de couverture : valeurs 0/1 attendues, {n} valeur(s) autre(s) "
                    "(par exemple {v}) ; pour une matrice de coûts ou de temps, comparez-la "
                    "d'abord au rayon (coûts <= rayon)",
                    n=odd.size,
                    v=format_number(float(odd[0]), 3),
                )
            )
    matrix = sparse.csr_matrix(source, dtype=bool)
    matrix.eliminate_zeros()
    return matrix


def _check_count(k: object, problems: list[str]) -> None:
    """``k`` must be a whole number of sites (not a float, not a boolean), at least 1."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        problems.append(_("nombre de sites entier attendu (reçu : {k})", k=repr(k)))
    elif int(k) < 1:
        problems.append(_("au moins un site attendu (reçu : {k})", k=int(k)))


def _fixed_indices(
    fixed: Sequence[int] | NDArray[Any], n: int, problems: list[str]
) -> tuple[int, ...]:
    """Imposed sites as indices: a list of indices, or a boolean mask of length ``n``."""
    array = np.asarray(fixed)
    if array.size == 0:
        return ()
    if array.dtype == np.bool_:
        if array.shape != (n,):
            problems.append(
                _(
                    "masque des sites imposés de longueur {t} pour {n} candidats",
                    t=array.size,
                    n=n,
                )
            )
            return ()
        return tuple(int(j) for j in np.flatnonzero(array))
    if not np.issubdtype(array.dtype, np.integer):
        problems.append(
            _(
                "sites imposés : indices entiers ou masque booléen attendus (reçu : {d})",
                d=array.dtype,
            )
        )
        return ()
    indices = tuple(sorted({int(j) for j in array.ravel()}))
    if any(j < 0 or j >= n for j in indices):
        problems.append(_("site imposé hors des {n} candidats", n=n))
    return indices


def _check_limits(time_limit: float, mip_gap: float) -> None:
    """The solver's time limit (> 0) and relative gap (0 to 1), finite."""
    problems = []
    if not math.isfinite(time_limit) or time_limit <= 0:
        problems.append(_("durée maximale finie et positive attendue (reçu : {v})", v=time_limit))
    if not math.isfinite(mip_gap) or not 0 <= mip_gap < 1:
        problems.append(_("écart relatif entre 0 et 1 attendu (reçu : {v})", v=mip_gap))
    if problems:
        raise SchemaError(
            _("Choix des sites : entrée invalide ({problems}).", problems=" ; ".join(problems))
        )


def _check_feasible(
    n: int,
    k: int,
    fixed: tuple[int, ...],
    eligible: NDArray[np.bool_],
    themes: list[frozenset[str]] | None,
    groups: NDArray[np.str_] | None,
    mins: dict[str, int],
) -> None:
    if k < 1:
        raise InfeasibleError(_("Le nombre de sites doit être au moins 1 (demandé : {k}).", k=k))
    if len(fixed) > k:
        raise InfeasibleError(
            _(
                "Vous imposez {f} sites existants mais ne demandez que {k} sites : demandez "
                "au moins {f} sites ou imposez-en moins.",
                f=len(fixed),
                k=k,
            )
        )
    if n < k:
        raise InfeasibleError(
            _(
                "Vous demandez {k} sites mais il n'y a que {n} candidats : demandez au plus "
                "{n} sites.",
                k=k,
                n=n,
            )
        )
    allowed = eligible.copy()
    allowed[list(fixed)] = True
    if int(allowed.sum()) < k:
        raise InfeasibleError(
            Problem.of(
                "Vous demandez {k} sites mais seuls {n} candidats (sur {total}) ont une "
                "communauté-base{themed} dans leur bassin : demandez moins de sites, "
                "élargissez le bassin ({minutes}) ou complétez l'annuaire des structures.",
                k=k,
                n=int(allowed.sum()),
                total=n,
                themed=_(" avec un thème") if themes is not None else "",
            )
        )
    if themes is not None:
        available = sorted({t for j in np.flatnonzero(allowed) for t in themes[j]})
        if len(available) < k:
            raise InfeasibleError(
                Problem.of(
                    "Vous demandez {k} sites de thèmes différents mais seules {n} thématiques "
                    "de communauté-base existent parmi les candidats ({themes}) : demandez au "
                    "plus {n} sites, ou levez la contrainte de thèmes différents "
                    "({distinct_themes}).",
                    k=k,
                    n=len(available),
                    themes=", ".join(available) or "—",
                )
            )
        bare = [j for j in fixed if not themes[j]]
        if bare:
            raise InfeasibleError(
                _(
                    "Les sites imposés {sites} n'ont aucun thème de communauté-base : ils ne "
                    "peuvent pas recevoir un thème différent des autres.",
                    sites=", ".join(map(str, bare)),
                )
            )
    if mins and groups is not None:
        need = sum(mins.values())
        if need > k:
            raise InfeasibleError(
                _(
                    "Les minimums par groupe totalisent {need} sites pour {k} demandés.",
                    need=need,
                    k=k,
                )
            )
        for g, m in mins.items():
            have = int((allowed & (groups == g)).sum())
            if have < m:
                raise InfeasibleError(
                    _(
                        "Le groupe « {g} » doit recevoir {m} site(s) mais n'a que {have} "
                        "candidat(s) admissible(s).",
                        g=g,
                        m=m,
                        have=have,
                    )
                )


# --------------------------------------------------------------------------------------
# Heuristic
# --------------------------------------------------------------------------------------


def _feasible_add(inst: _Instance, chosen: list[int], j: int, *, final: bool) -> bool:
    trial = [*chosen, j]
    if not inst.groups_ok(trial, final=final):
        return False
    return inst.themes is None or inst.theme_assignment(trial) is not None


def _greedy(inst: _Instance) -> list[int]:
    chosen = list(inst.fixed)
    counts = np.asarray(inst.a[chosen].sum(axis=0)).ravel() if chosen else np.zeros(inst.w.size)
    candidates = np.flatnonzero(inst.allowed)
    while len(chosen) < inst.k:
        residual = inst.w * (counts == 0)
        gains = inst.a[candidates] @ residual
        order = np.argsort(-gains, kind="stable")
        final = len(chosen) + 1 == inst.k
        picked = None
        for pos in order:
            j = int(candidates[pos])
            if j in chosen:
                continue
            if _feasible_add(inst, chosen, j, final=final):
                picked = j
                break
        if picked is None:
            raise InfeasibleError(
                _(
                    "Aucune combinaison de {k} sites ne respecte toutes les contraintes "
                    "(thèmes différents, groupes, communautés-base).",
                    k=inst.k,
                )
            )
        chosen.append(picked)
        counts = counts + inst.a[picked].toarray().ravel()
    return chosen


def _local_search(inst: _Instance, chosen: list[int], deadline: float) -> list[int]:
    """Best-improvement 1-swap: replace a non-fixed site by a better candidate."""
    chosen = list(chosen)
    candidates = np.flatnonzero(inst.allowed)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        counts = np.asarray(inst.a[chosen].sum(axis=0)).ravel()
        base = float(inst.w[counts > 0].sum())
        best = (0.0, -1, -1)
        for s in chosen:
            if s in inst.fixed:
                continue
            without = counts - inst.a[s].toarray().ravel()
            loss = base - float(inst.w[without > 0].sum())
            gains = inst.a[candidates] @ (inst.w * (without == 0))
            for pos in np.argsort(-gains, kind="stable"):
                delta = float(gains[pos]) - loss
                if delta <= max(best[0], _EPS * max(base, 1.0)):
                    break
                c = int(candidates[pos])
                if c in chosen:
                    continue
                rest = [x for x in chosen if x != s]
                if _feasible_add(inst, rest, c, final=True):
                    best = (delta, s, c)
                    break
        if best[1] >= 0:
            chosen = [best[2] if x == best[1] else x for x in chosen]
            improved = True
    return chosen


def _heuristic_bound(inst: _Instance, chosen: list[int], objective: float) -> float:
    """Objective + the ``k - |fixed|`` largest marginal gains left (submodular bound)."""
    counts = np.asarray(inst.a[chosen].sum(axis=0)).ravel()
    gains = inst.a[np.flatnonzero(inst.allowed)] @ (inst.w * (counts == 0))
    free = inst.k - len(inst.fixed)
    top = float(np.sort(gains)[::-1][:free].sum())
    return min(objective + top, inst.coverable)


@dataclass(frozen=True)
class _Solvers:
    """What an objective brings to :func:`_run` (coverage and max-benefit share it)."""

    inst: _Instance
    objective: Callable[[Sequence[int]], float]
    #: deadline (perf_counter) -> greedy + local search solution
    heuristic: Callable[[float], list[int]]
    #: (start, time_limit, mip_gap) -> chosen, themes, HiGHS bound, status
    exact: Callable[[list[int], float, float], tuple[list[int], dict[int, str], float, str]]
    #: (chosen, objective) -> objective + best remaining marginal gains, capped
    marginal_bound: Callable[[list[int], float], float]
    #: (objective) -> Lagrangian dual bound (valid whatever it returns)
    dual_bound: Callable[[float], float]
    describe: Callable[
        [list[int], Mapping[int, str], list[frozenset[str]] | None], tuple[SiteChoice, ...]
    ]
    covered: Callable[[list[int]], tuple[int, ...]]
    size: int
    coverable: float
    total: float


def _run(
    s: _Solvers,
    *,
    method: str,
    started: float,
    time_limit: float,
    mip_gap: float,
    site_themes: Sequence[frozenset[str]] | None,
) -> SitingResult:
    """Heuristic first, then HiGHS when allowed; keep the best; say which ran and why."""
    inst = s.inst
    plain = inst.themes is None and not inst.min_per_group
    greedy = s.heuristic(started + max(time_limit, 1.0))
    greedy_value = s.objective(greedy)
    if method == "exact" or (method == "auto" and s.size <= MAX_EXACT_NONZEROS):
        chosen, themes, bound, status = s.exact(greedy, time_limit, mip_gap)
        value = s.objective(chosen)
        if greedy_value > value + _EPS:
            chosen, value = greedy, greedy_value
            themes = inst.theme_assignment(chosen) or {}
        bound = max(min(bound, s.coverable), value)
        solver = SOLVER_HIGHS
        if status == "optimal":
            achieved = (bound - value) / bound if bound > 0 else 0.0
            reason = _(
                "Modèle exact (HiGHS) résolu, écart prouvé à l'optimum : {gap} (HiGHS "
                "s'arrête dès qu'il passe sous sa tolérance de {tolerance}).",
                tolerance=format_percent(mip_gap, 2),
                gap=format_gap(max(achieved, 0.0)),
            )
        else:
            reason = _(
                "Modèle exact (HiGHS) arrêté à la limite de {s:.0f} s : meilleure solution "
                "trouvée (recherche locale comprise) et borne prouvée par HiGHS.",
                s=time_limit,
            )
    else:
        chosen, value, status, solver = greedy, greedy_value, "heuristic", SOLVER_GREEDY
        themes = inst.theme_assignment(chosen) or {}
        bound = min(s.marginal_bound(chosen, value), s.dual_bound(value))
        if plain:
            fixed_value = s.objective(list(inst.fixed))
            bound = min(bound, fixed_value + (value - fixed_value) / (1 - 1 / math.e))
        bound = max(bound, value)
        why = (
            _("heuristique demandée")
            if method == "greedy"
            else _(
                "instance trop grande pour le modèle exact ({nnz} liens > {limit})",
                nnz=s.size,
                limit=MAX_EXACT_NONZEROS,
            )
        )
        reason = _(
            "Heuristique gloutonne + échanges ({why}). Borne : la plus petite entre la "
            "relaxation lagrangienne (sous-gradient) et la somme des {free} meilleurs "
            "gains marginaux restants{plain}.",
            why=why,
            free=inst.k - len(inst.fixed),
            plain=_(", ou la garantie (1 - 1/e) du glouton") if plain else "",
        )
    gap = (bound - value) / bound if bound > 0 else 0.0
    labels = [frozenset(t) for t in site_themes] if site_themes is not None else None
    return SitingResult(
        sites=s.describe(chosen, themes, labels),
        objective=value,
        bound=bound,
        gap=max(gap, 0.0),
        solver=solver,
        reason=reason,
        covered=s.covered(chosen),
        total_demand=s.total,
        seconds=time.perf_counter() - started,
        status=status,
    )


# --------------------------------------------------------------------------------------
# Lagrangian bounds for the heuristic (Fisher 1981; Galvão & ReVelle 1996 for the MCLP)
# --------------------------------------------------------------------------------------

#: Subgradient iterations of the Lagrangian bounds (each a sparse product).
DUAL_ITERATIONS = 300


def _top_k(scores: NDArray[np.float64], inst: _Instance) -> NDArray[np.int64]:
    """Fixed sites plus the ``k - |fixed|`` allowed others with the largest scores."""
    fixed = np.asarray(inst.fixed, dtype=np.int64)
    others = np.flatnonzero(inst.allowed)
    others = others[~np.isin(others, fixed)]
    free = inst.k - len(fixed)
    pick = others[np.argsort(-scores[others], kind="stable")[:free]] if free > 0 else others[:0]
    return np.concatenate([fixed, pick.astype(np.int64)])


def _subgradient(
    evaluate: Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]],
    start: NDArray[np.float64],
    upper: NDArray[np.float64],
    target: float,
) -> float:
    """Smallest Lagrangian value found by projected subgradient steps (Polyak's rule).

    Every value ``evaluate`` returns is an upper bound of the optimum, whatever the
    multipliers in ``[0, upper]``: the result is valid even when the descent is poor.
    ``target`` (the heuristic's objective) only sizes the steps.
    """
    multipliers = start.copy()
    best = math.inf
    theta, stall = 2.0, 0
    for _step in range(DUAL_ITERATIONS):
        value, grad = evaluate(multipliers)
        if value < best - _EPS:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2.0, 0
        norm = float(grad @ grad)
        if norm == 0.0 or theta < 1e-4 or best - target <= 1e-6 * max(abs(best), 1.0):
            break
        step = theta * max(value - target, _EPS) / norm
        multipliers = np.clip(multipliers - step * grad, 0.0, upper)
    return best


def _coverage_dual_bound(inst: _Instance, target: float) -> float:
    """Relax ``y_i <= Σ_j a_ij x_j`` with multipliers ``λ_i`` in ``[0, w_i]``.

    ``L(λ) = Σ_i (w_i - λ_i) + max_{|x| = k} Σ_j x_j Σ_i a_ij λ_i`` (themes and group
    minimums dropped: a relaxation of a relaxation is still an upper bound).
    """
    a, w = inst.a, inst.w
    if w.size == 0:
        return 0.0

    def evaluate(lam: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        scores = np.asarray(a @ lam).ravel()
        chosen = _top_k(scores, inst)
        value = float((w - lam).sum() + scores[chosen].sum())
        counts = np.asarray(a[chosen].sum(axis=0)).ravel()
        return value, counts - 1.0

    # Two starts (λ = w: the "k largest catchments" bound; λ = w/2), the smaller wins:
    # on France K = 50 the second gives 4.4 % instead of 7.3 %, on PACA it varies.
    return min(
        _subgradient(evaluate, w.copy(), w, target), _subgradient(evaluate, w / 2.0, w, target)
    )


def _benefit_dual_bound(ben: _Benefit, target: float) -> float:
    """Relax ``y_fj <= x_j`` with multipliers ``μ_fj`` in ``[0, g_fj]``.

    ``L(μ) = Σ_f max(0, max_j (g_fj - μ_fj)) + max_{|x| = k} Σ_j x_j Σ_f μ_fj`` over the
    candidates that may open.
    """
    g = sparse.csr_matrix(ben.g @ sparse.diags(ben.inst.allowed.astype(np.float64)))
    g.eliminate_zeros()
    if g.nnz == 0:
        return 0.0
    rows = np.repeat(np.arange(g.shape[0]), np.diff(g.indptr))
    starts = g.indptr[:-1]
    n = g.shape[1]

    def evaluate(mu: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        reduced = g.data - mu
        best = np.maximum(np.maximum.reduceat(reduced, starts), 0.0)
        column = np.asarray(np.bincount(g.indices, weights=mu, minlength=n), dtype=np.float64)
        chosen = _top_k(column, ben.inst)
        value = float(best.sum() + column[chosen].sum())
        open_ = np.zeros(n)
        open_[chosen] = 1.0
        served = (reduced >= best[rows]) & (reduced > 0)
        return value, open_[g.indices] - served.astype(np.float64)

    return _subgradient(evaluate, np.zeros(g.nnz), g.data.copy(), target)


# --------------------------------------------------------------------------------------
# Exact model
# --------------------------------------------------------------------------------------


_Blocks = tuple[
    list[tuple[int, str]],
    list[sparse.spmatrix],
    list["NDArray[np.float64]"],
    list["NDArray[np.float64]"],
]


def _constraint_blocks(inst: _Instance, n_other: int) -> _Blocks:
    """Theme (z_jt) and group rows over columns ``[x (n) | other (n_other) | z]``."""
    n = inst.a.shape[0]
    pairs = (
        [(j, t) for j in range(n) if inst.allowed[j] for t in sorted(inst.themes[j])]
        if inst.themes is not None
        else []
    )
    nz = len(pairs)
    blocks: list[sparse.spmatrix] = []
    lower: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []
    if pairs:
        pj = np.array([p[0] for p in pairs])
        t_index = {t: i for i, t in enumerate(inst.theme_list)}
        pt = np.array([t_index[p[1]] for p in pairs])
        z_site = sparse.csr_matrix((np.ones(nz), (pj, np.arange(nz))), shape=(n, nz))
        blocks.append(sparse.hstack([-sparse.identity(n), sparse.csr_matrix((n, n_other)), z_site]))
        lower.append(np.zeros(n))
        upper.append(np.zeros(n))
        n_t = len(inst.theme_list)
        z_theme = sparse.csr_matrix((np.ones(nz), (pt, np.arange(nz))), shape=(n_t, nz))
        blocks.append(sparse.hstack([sparse.csr_matrix((n_t, n + n_other)), z_theme]))
        lower.append(np.full(n_t, -np.inf))
        upper.append(np.ones(n_t))
    if inst.min_per_group and inst.groups is not None:
        names = sorted(inst.min_per_group)
        g_rows = np.array([[1.0 if inst.groups[j] == g else 0.0 for j in range(n)] for g in names])
        blocks.append(
            sparse.hstack(
                [sparse.csr_matrix(g_rows), sparse.csr_matrix((len(names), n_other + nz))]
            )
        )
        lower.append(np.array([float(inst.min_per_group[g]) for g in names]))
        upper.append(np.full(len(names), np.inf))
    return pairs, blocks, lower, upper


def _solve_highs(
    inst: _Instance,
    start: list[int],
    time_limit: float,
    mip_gap: float,
    progress: ProgressCallback | None = None,
) -> tuple[list[int], dict[int, str], float, str]:
    """Maximal covering: columns ``[x (n) | y (m) | z]``; rows y_i - Σ_j a_ji x_j <= 0."""
    m = inst.a.shape[1]
    blocks = _constraint_blocks(inst, m)
    cover = sparse.hstack(
        [-inst.a.T.tocsr(), sparse.identity(m), sparse.csr_matrix((m, len(blocks[0])))]
    )
    covered = (np.asarray(inst.a[start].sum(axis=0)).ravel() > 0).astype(float) if start else None
    return _solve_linked(
        inst,
        blocks,
        _Linked(rows=cover, cost=inst.w, start=covered),
        start,
        (time_limit, mip_gap, progress),
    )


@dataclass(frozen=True)
class _Linked:
    """The continuous columns of a model, their linking rows ``<= 0`` and their start."""

    rows: sparse.spmatrix
    cost: NDArray[np.float64]
    start: NDArray[np.float64] | None


def _solve_linked(
    inst: _Instance,
    blocks: _Blocks,
    linked: _Linked,
    start: list[int],
    limits: tuple[float, float, ProgressCallback | None],
) -> tuple[list[int], dict[int, str], float, str]:
    """Solve ``[x (n) | other | z]`` with the linking rows, Σx = k and the extra blocks."""
    pairs, extra, extra_lower, extra_upper = blocks
    n = inst.a.shape[0]
    n_other = linked.cost.size
    n_col = n + n_other + len(pairs)
    card = sparse.csr_matrix((np.ones(n), (np.zeros(n, dtype=int), np.arange(n))), shape=(1, n_col))
    vector: NDArray[np.float64] | None = None
    if start and linked.start is not None:
        vector = np.zeros(n_col)
        vector[start] = 1.0
        vector[n : n + n_other] = linked.start
    time_limit, mip_gap, progress = limits
    return _run_highs(
        inst,
        _Model(
            pairs=pairs,
            n_other=n_other,
            rows=sparse.vstack([linked.rows, card, *extra]).tocsc(),
            row_lower=np.concatenate([np.full(n_other, -np.inf), [float(inst.k)], *extra_lower]),
            row_upper=np.concatenate([np.zeros(n_other), [float(inst.k)], *extra_upper]),
            cost_other=linked.cost,
            start=vector,
        ),
        start,
        time_limit,
        mip_gap,
        progress,
    )


@dataclass(frozen=True)
class _Model:
    """A model over columns ``[x (n) | other (n_other, continuous in [0,1]) | z]``."""

    pairs: list[tuple[int, str]]
    n_other: int
    rows: sparse.csc_matrix
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    cost_other: NDArray[np.float64]
    #: Start vector with x and the other columns set (z is filled here), or None.
    start: NDArray[np.float64] | None


def _run_highs(  # noqa: PLR0915  (one HiGHS model, filled field by field)
    inst: _Instance,
    model: _Model,
    start: list[int],
    time_limit: float,
    mip_gap: float,
    progress: ProgressCallback | None = None,
) -> tuple[list[int], dict[int, str], float, str]:
    """Solve ``model`` with HiGHS from ``start``: chosen, themes, proven bound, status.

    With ``progress``, HiGHS's periodic MIP callback reports the elapsed time and the
    current proven gap (at most every :data:`PROGRESS_SECONDS`).
    """
    import highspy  # noqa: PLC0415  (optional heavy import, only when solving exactly)

    n = inst.a.shape[0]
    pairs, n_other = model.pairs, model.n_other
    nz = len(pairs)
    n_col = n + n_other + nz
    matrix = model.rows
    col_lower = np.zeros(n_col)
    col_upper = np.ones(n_col)
    col_upper[:n] = inst.allowed.astype(float)
    col_lower[list(inst.fixed)] = 1.0

    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(n), model.cost_other, np.zeros(nz)])
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.where(np.isinf(model.row_lower), -highspy.kHighsInf, model.row_lower)
    lp.row_upper_ = np.where(np.isinf(model.row_upper), highspy.kHighsInf, model.row_upper)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = matrix.shape[0]
    # x and z binary; the other columns continuous (integral at the optimum once x is).
    lp.integrality_ = (
        [highspy.HighsVarType.kInteger] * n
        + [highspy.HighsVarType.kContinuous] * n_other
        + [highspy.HighsVarType.kInteger] * nz
    )
    h = _new_highs(highspy)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    if model.start is not None:
        vector = model.start.copy()
        if pairs:
            where = {q: i for i, q in enumerate(pairs)}
            for j, t in (inst.theme_assignment(start) or {}).items():
                vector[n + n_other + where[(j, t)]] = 1.0
        solution = highspy.HighsSolution()
        solution.col_value = vector.tolist()
        solution.value_valid = True
        h.setSolution(solution)
    interrupted = _report_gaps(h, progress) if progress is not None else None
    h.run()
    if interrupted is not None:
        interrupted.reraise()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise InfeasibleError(
            _(
                "Aucune combinaison de {k} sites ne respecte toutes les contraintes "
                "(thèmes différents, groupes, communautés-base).",
                k=inst.k,
            )
        )
    col = np.asarray(h.getSolution().col_value)
    chosen = [int(j) for j in np.flatnonzero(col[:n] > 0.5)]
    themes = {pairs[i][0]: pairs[i][1] for i in range(nz) if col[n + n_other + i] > 0.5}
    label = "optimal" if status == highspy.HighsModelStatus.kOptimal else "time_limit"
    return chosen, themes, float(h.getInfo().mip_dual_bound), label


#: Least seconds between two progress reports of the solver.
PROGRESS_SECONDS = 0.5

#: Logger receiving HiGHS's own log lines (level DEBUG). HiGHS never writes to the
#: console: its log is captured through its logging callback, and only when this logger
#: is enabled for DEBUG when the instance is built (``logging.getLogger(
#: "tierslieux.highs").setLevel(logging.DEBUG)``), so that it costs nothing otherwise.
HIGHS_LOG = logging.getLogger("tierslieux.highs")


class _Interrupted:
    """The first exception raised by a progress callback inside HiGHS, kept for later.

    An exception raised in a HiGHS callback is swallowed by the C++ side; the callback
    therefore asks HiGHS to stop (``event.interrupt()``) and the exception is raised
    again once ``run`` has returned (a cancelled or timed-out job, say, or Ctrl-C: the
    ``KeyboardInterrupt`` is raised in the callback, the only Python code running).
    """

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def reraise(self) -> None:
        if self.error is not None:
            raise self.error


def _report_gaps(h: Any, progress: ProgressCallback) -> _Interrupted:  # noqa: ANN401
    """Subscribe ``progress`` to HiGHS's MIP interrupt callback, throttled.

    When ``progress`` raises, the solver is interrupted and the returned holder keeps
    the exception for :meth:`_Interrupted.reraise` after ``h.run()``.
    """
    started = time.perf_counter()
    last = [-PROGRESS_SECONDS]
    holder = _Interrupted()

    def on_event(event: Any) -> None:  # noqa: ANN401  (highspy event, untyped)
        if holder.error is not None:
            event.interrupt()
            return
        now = time.perf_counter() - started
        if now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        data = event.data_out
        gap = float(data.mip_gap)
        try:
            progress(
                ProgressEvent(
                    "resolution",
                    _("Résolution exacte (HiGHS)"),
                    now,
                    gap=gap if math.isfinite(gap) else None,
                )
            )
        except BaseException as error:  # noqa: BLE001  (raised again after run, Ctrl-C too)
            holder.error = error
            event.interrupt()

    h.cbMipInterrupt.subscribe(on_event)
    return holder


@functools.cache
def _quiet_class(highspy: Any) -> Any:  # noqa: ANN401  (untyped extension module)
    """A ``highspy.Highs`` subclass whose instances never write to the console.

    HiGHS writes its copyright banner when the callbacks are first wired, which
    ``Highs.__init__`` does through ``enableCallbacks``: console logging is switched off
    just before, so nothing reaches standard output (no file descriptor is touched, which
    would be unsafe with several threads).
    """

    class QuietHighs(highspy.Highs):  # type: ignore[misc]
        def enableCallbacks(self) -> None:  # noqa: N802  (highspy's name)
            self.setOptionValue("log_to_console", False)  # noqa: FBT003
            super().enableCallbacks()

    return QuietHighs


def _forward_log(event: Any) -> None:  # noqa: ANN401  (highspy event, untyped)
    """Send one message of HiGHS's logging callback to :data:`HIGHS_LOG`."""
    for line in str(event.message).splitlines():
        if line.strip():
            HIGHS_LOG.debug("%s", line.rstrip())


def _new_highs(highspy: Any) -> Any:  # noqa: ANN401  (untyped extension module)
    """Build a HiGHS instance that writes nothing to standard output or error.

    Its log goes to :data:`HIGHS_LOG` when that logger is enabled for DEBUG, nowhere
    otherwise. Safe to call from several threads at once.
    """
    h = _quiet_class(highspy)()
    if HIGHS_LOG.isEnabledFor(logging.DEBUG):
        h.cbLogging.subscribe(_forward_log)
    else:
        h.setOptionValue("output_flag", False)  # noqa: FBT003
    return h


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------


def solve_max_coverage(  # noqa: PLR0913
    coverage: sparse.csr_matrix | NDArray[np.bool_],
    weights: NDArray[np.float64] | Sequence[float],
    k: int,
    *,
    fixed: Sequence[int] = (),
    site_themes: Sequence[frozenset[str]] | None = None,
    require_community: NDArray[np.bool_] | Sequence[bool] | None = None,
    distinct_themes: bool = False,
    groups: Sequence[str] | None = None,
    min_per_group: Mapping[str, int] | None = None,
    time_limit: float = 60.0,
    mip_gap: float = MIP_GAP,
    method: str = "auto",
    progress: ProgressCallback | None = None,
) -> SitingResult:
    """Choose ``k`` sites covering the most demand (maximal covering location).

    Parameters
    ----------
    coverage
        Boolean matrix, candidates × demand points: ``True`` when the candidate's
        catchment contains the demand point (e.g. within 20 minutes by car).
    weights
        Demand per point (persons, or kg CO₂e avoided per day), non-negative.
    k
        Number of sites to choose.
    fixed
        Candidates that must be chosen (existing places kept).
    site_themes
        Themes of base community available at each candidate.
    require_community
        Per candidate, ``False`` forbids choosing it (no base community nearby).
        Fixed sites are kept even when ``False``.
    distinct_themes
        Give every chosen site one of its themes, each theme at most once.
    groups, min_per_group
        Group label of each candidate (an intercommunality, say) and the minimum
        number of sites per label.
    time_limit
        Seconds granted to HiGHS; past it the best solution found is returned with
        HiGHS's proven bound.
    mip_gap
        Relative optimality gap at which HiGHS stops (1e-4 = 0.01 %).
    method
        ``"auto"`` (exact unless the instance is too large), ``"exact"`` or
        ``"greedy"``.
    progress
        Called with :class:`~tierslieux.model.types.ProgressEvent` while HiGHS runs
        (elapsed seconds, current proven gap), for a progress display.

    Returns
    -------
    SitingResult
        Chosen sites with values, marginal gains and themes; objective, proven bound
        and gap; which solver ran and why.

    Raises
    ------
    InfeasibleError
        No set of ``k`` sites satisfies the constraints (explained in user terms).
    SchemaError
        Inconsistent array shapes or negative weights.
    """
    if method not in {"auto", "exact", "greedy"}:
        raise SchemaError(_("Méthode « {m} » inconnue (auto, exact, greedy).", m=method))
    started = time.perf_counter()
    _check_limits(time_limit, mip_gap)
    inst = _validate(
        coverage,
        weights,
        k,
        fixed,
        site_themes,
        require_community,
        distinct_themes=distinct_themes,
        groups=groups,
        min_per_group=min_per_group,
    )
    return _run(
        _Solvers(
            inst=inst,
            objective=inst.objective,
            heuristic=lambda deadline: _local_search(inst, _greedy(inst), deadline),
            exact=lambda start, limit, gap: _solve_highs(inst, start, limit, gap, progress),
            marginal_bound=lambda chosen, value: _heuristic_bound(inst, chosen, value),
            dual_bound=lambda value: _coverage_dual_bound(inst, value),
            describe=lambda chosen, themes, labels: _describe(inst, chosen, themes, labels),
            covered=lambda chosen: _covered_points(inst, chosen),
            size=inst.a.nnz,
            coverable=inst.coverable,
            total=inst.total,
        ),
        method=method,
        started=started,
        time_limit=time_limit,
        mip_gap=mip_gap,
        site_themes=site_themes,
    )


def _covered_points(inst: _Instance, chosen: list[int]) -> tuple[int, ...]:
    if not chosen:
        return ()
    counts = np.asarray(inst.a[chosen].sum(axis=0)).ravel()
    zero = np.asarray(inst.zero_a[chosen].sum(axis=0)).ravel()
    points = np.concatenate([inst.points[counts > 0], inst.zero_points[zero > 0]])
    return tuple(int(i) for i in np.sort(points))


def _describe(
    inst: _Instance,
    chosen: list[int],
    themes: Mapping[int, str],
    labels: list[frozenset[str]] | None,
) -> tuple[SiteChoice, ...]:
    rows = inst.a[chosen].toarray() > 0 if chosen else np.zeros((0, inst.w.size), dtype=bool)
    counts = rows.sum(axis=0)
    covered = np.zeros(inst.w.size, dtype=bool)
    remaining = list(range(len(chosen)))
    out: list[SiteChoice] = []
    while remaining:
        gains = [float(inst.w[rows[r] & ~covered].sum()) for r in remaining]
        pos = int(np.argmax(gains))
        r = remaining.pop(pos)
        j = chosen[r]
        out.append(
            SiteChoice(
                index=j,
                value=float(inst.w[rows[r]].sum()),
                marginal_gain=gains[pos],
                loss_if_removed=float(inst.w[rows[r] & (counts == 1)].sum()),
                theme=themes.get(j),
                themes=tuple(sorted(labels[j])) if labels is not None else (),
                fixed=j in inst.fixed,
            )
        )
        covered |= rows[r]
    return tuple(out)


# --------------------------------------------------------------------------------------
# Max-benefit assignment (per-flow gains: each flow served by its best open site)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reduction:
    """The exact reductions of a gains matrix (see :class:`_Benefit`)."""

    total: float
    node_parent: NDArray[np.int64]
    node_site: NDArray[np.int64]
    node_weight: NDArray[np.float64]
    depth_starts: list[int]
    row_of: NDArray[np.int64]
    g: sparse.csc_matrix


#: Reductions of the last gains matrices (the alternatives and the sensitivity table
#: re-solve the same gains with other constraints), keyed by a digest of the matrix.
_REDUCTIONS: dict[bytes, _Reduction] = {}
_MAX_REDUCTIONS = 4


def _reduce(gains: sparse.csr_matrix) -> _Reduction:
    """Ranked-prefix trie and merged rows of ``gains`` (cached by content)."""
    g = sparse.csr_matrix(gains, dtype=np.float64)
    g.eliminate_zeros()
    g.sort_indices()
    digest = hashlib.blake2b(digest_size=16)
    for part in (np.asarray(g.shape), g.indptr, g.indices, g.data):
        digest.update(np.ascontiguousarray(part).tobytes())
    key = digest.digest()
    if key in _REDUCTIONS:
        return _REDUCTIONS[key]
    n = g.shape[1]
    lengths = np.diff(g.indptr)
    row = np.repeat(np.arange(g.shape[0]), lengths)
    # Entries of each row ranked by decreasing gain, ties by candidate index.
    order = np.lexsort((g.indices, -g.data, row))
    sites = g.indices[order].astype(np.int64)
    values = g.data[order]
    starts = g.indptr[:-1]
    node_of = np.empty(sites.size, dtype=np.int64)
    parent = np.full(g.shape[0], -1, dtype=np.int64)
    parents: list[NDArray[np.int64]] = []
    node_sites: list[NDArray[np.int64]] = []
    count = 0
    depth_starts = [0]
    for depth in range(int(lengths.max()) if lengths.size else 0):
        rows = np.flatnonzero(lengths > depth)
        entry = starts[rows] + depth
        key_depth = (parent[rows] + 1) * n + sites[entry]
        unique, inverse = np.unique(key_depth, return_inverse=True)
        ids = count + inverse
        parents.append(unique // n - 1)
        node_sites.append(unique % n)
        count += unique.size
        parent[rows] = ids
        node_of[entry] = ids
        depth_starts.append(count)
    # Weight of a node: g(k) - g(k+1) summed over the flows whose k-prefix it is.
    following = np.append(values[1:], 0.0)
    has = lengths > 0
    last = starts[has] + lengths[has] - 1
    following[last] = 0.0
    weight = np.bincount(node_of, weights=values - following, minlength=count)
    # Flows with the same ranked list (the same last node) are summed into one row.
    leaves, merged_row = np.unique(node_of[last], return_inverse=True)
    merge = sparse.csr_matrix(
        (np.ones(int(has.sum())), (merged_row, np.flatnonzero(has))),
        shape=(leaves.size, g.shape[0]),
    )
    row_of = np.full(g.shape[0], -1, dtype=np.int64)
    row_of[has] = merged_row
    merged = (merge @ g).tocsc()
    merged.sort_indices()
    reduced = _Reduction(
        total=float(np.asarray(g.max(axis=1).toarray()).ravel().sum()) if g.shape[1] else 0.0,
        node_parent=np.concatenate(parents) if parents else np.zeros(0, dtype=np.int64),
        node_site=np.concatenate(node_sites) if node_sites else np.zeros(0, dtype=np.int64),
        node_weight=weight.astype(np.float64),
        depth_starts=depth_starts,
        row_of=row_of,
        g=merged,
    )
    if len(_REDUCTIONS) >= _MAX_REDUCTIONS:
        _REDUCTIONS.pop(next(iter(_REDUCTIONS)))
    _REDUCTIONS[key] = reduced
    return reduced


class _Benefit:
    """Validated max-benefit instance: gains (flows × candidates) and the constraints.

    Two exact reductions make large instances small (both hold for every set of open
    sites, so the optimum is unchanged):

    - each flow ranks the candidates by its gain (ties by index); flows whose ranked
      candidate lists are identical always pick the same open site, so their rows are
      summed into one (``g``; ``row_of`` maps every flow to its row, -1 when none);
    - the benefit of a flow with ranked gains ``g(1) >= ... >= g(t)`` is
      ``Σ_k (g(k) - g(k+1)) · [a site among its k best is open]`` (Cornuéjols,
      Nemhauser & Wolsey 1980, with ``g(t+1) = 0``): a weighted covering of its ranked
      prefixes.  Prefixes are shared in a trie (``node_parent``, ``node_site``,
      ``node_weight``): the flows of one commune of residence rank the sites by distance,
      so they share one chain of prefixes, and the exact model has one row per node
      (``v_node <= v_parent + x_site``) instead of one per flow-site pair.  Its linear
      relaxation equals that of the assignment model (for one flow, both fill the best
      open sites first).
    """

    def __init__(self, gains: sparse.csr_matrix, inst: _Instance) -> None:
        self.inst = inst
        reduced = _reduce(gains)
        self.total = reduced.total
        self.node_parent, self.node_site = reduced.node_parent, reduced.node_site
        self.node_weight, self.depth_starts = reduced.node_weight, reduced.depth_starts
        self.row_of, self.g = reduced.row_of, reduced.g
        # Candidates that may not open keep their columns (x_j is fixed at 0 instead), so
        # that one reduction serves every re-solve on the same gains.
        allowed_gains = self.g @ sparse.diags(inst.allowed.astype(np.float64))
        self.coverable = float(np.asarray(allowed_gains.max(axis=1).toarray()).ravel().sum())

    def covered_nodes(self, chosen: Sequence[int]) -> NDArray[np.bool_]:
        """Prefix nodes holding an open site of ``chosen`` (depth by depth, parents first)."""
        covered = np.isin(self.node_site, np.asarray(chosen, dtype=np.int64))
        for lo, hi in itertools.pairwise(self.depth_starts[1:]):
            covered[lo:hi] |= covered[self.node_parent[lo:hi]]
        return covered

    @property
    def model_size(self) -> int:
        """Non-zeros of the exact model's coupling rows (3 per prefix node at most)."""
        return int(self.node_site.size * 3)

    def best(self, chosen: Sequence[int]) -> NDArray[np.float64]:
        if not chosen:
            return np.zeros(self.g.shape[0])
        return np.asarray(self.g[:, list(chosen)].max(axis=1).toarray()).ravel()

    def objective(self, chosen: Sequence[int]) -> float:
        return float(self.best(chosen).sum())

    def gains_over(self, best: NDArray[np.float64]) -> NDArray[np.float64]:
        """Marginal gain of opening each candidate on top of ``best`` per flow."""
        delta = np.maximum(self.g.data - best[self.g.indices], 0.0)
        column = sparse.csc_matrix((delta, self.g.indices, self.g.indptr), shape=self.g.shape)
        return np.asarray(column.sum(axis=0)).ravel()

    def covered_flows(self, chosen: Sequence[int]) -> tuple[int, ...]:
        """Flows (rows of the caller's gains) served by an open site of ``chosen``."""
        served = self.best(chosen) > 0
        rows = self.row_of
        return tuple(int(f) for f in np.flatnonzero((rows >= 0) & served[np.maximum(rows, 0)]))


def _benefit_greedy(ben: _Benefit) -> list[int]:
    inst = ben.inst
    chosen = list(inst.fixed)
    best = ben.best(chosen)
    candidates = np.flatnonzero(inst.allowed)
    while len(chosen) < inst.k:
        gains = ben.gains_over(best)[candidates]
        final = len(chosen) + 1 == inst.k
        picked = None
        for pos in np.argsort(-gains, kind="stable"):
            j = int(candidates[pos])
            if j not in chosen and _feasible_add(inst, chosen, j, final=final):
                picked = j
                break
        if picked is None:
            raise InfeasibleError(
                _(
                    "Aucune combinaison de {k} sites ne respecte toutes les contraintes "
                    "(thèmes différents, groupes, communautés-base).",
                    k=inst.k,
                )
            )
        chosen.append(picked)
        best = np.maximum(best, ben.g[:, picked].toarray().ravel())
    return chosen


def _benefit_local_search(ben: _Benefit, chosen: list[int], deadline: float) -> list[int]:
    inst = ben.inst
    chosen = list(chosen)
    candidates = np.flatnonzero(inst.allowed)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        base = ben.objective(chosen)
        best_move = (0.0, -1, -1)
        for s in chosen:
            if s in inst.fixed:
                continue
            rest = [x for x in chosen if x != s]
            without = ben.best(rest)
            loss = base - float(without.sum())
            gains = ben.gains_over(without)[candidates]
            for pos in np.argsort(-gains, kind="stable"):
                delta = float(gains[pos]) - loss
                if delta <= max(best_move[0], _EPS * max(base, 1.0)):
                    break
                c = int(candidates[pos])
                if c in chosen:
                    continue
                if _feasible_add(inst, rest, c, final=True):
                    best_move = (delta, s, c)
                    break
        if best_move[1] >= 0:
            chosen = [best_move[2] if x == best_move[1] else x for x in chosen]
            improved = True
    return chosen


def _solve_highs_benefit(
    ben: _Benefit,
    start: list[int],
    time_limit: float,
    mip_gap: float,
    progress: ProgressCallback | None = None,
) -> tuple[list[int], dict[int, str], float, str]:
    """Max benefit over the prefix trie: columns ``[x (n) | v (one per node) | z]``."""
    inst = ben.inst
    n = inst.a.shape[0]
    parent, site = ben.node_parent, ben.node_site
    p = site.size
    blocks = _constraint_blocks(inst, p)
    n_col = n + p + len(blocks[0])
    # Rows: v_u - v_parent(u) - x_site(u) <= 0 (one per node; no parent at depth 1).
    inner = np.flatnonzero(parent >= 0)
    link = sparse.csr_matrix(
        (
            np.concatenate([np.ones(p), -np.ones(p), -np.ones(inner.size)]),
            (
                np.concatenate([np.arange(p), np.arange(p), inner]),
                np.concatenate([n + np.arange(p), site, n + parent[inner]]),
            ),
        ),
        shape=(p, n_col),
    )
    return _solve_linked(
        inst,
        blocks,
        _Linked(
            rows=link,
            cost=ben.node_weight,
            start=ben.covered_nodes(start).astype(float) if start else None,
        ),
        start,
        (time_limit, mip_gap, progress),
    )


def solve_max_benefit(  # noqa: PLR0913
    gains: sparse.csr_matrix | NDArray[np.float64],
    k: int,
    *,
    fixed: Sequence[int] = (),
    site_themes: Sequence[frozenset[str]] | None = None,
    require_community: NDArray[np.bool_] | Sequence[bool] | None = None,
    distinct_themes: bool = False,
    groups: Sequence[str] | None = None,
    min_per_group: Mapping[str, int] | None = None,
    time_limit: float = 60.0,
    mip_gap: float = MIP_GAP,
    method: str = "auto",
    progress: ProgressCallback | None = None,
) -> SitingResult:
    """Choose ``k`` sites maximising the sum over flows of the gain at their best site.

    A max-benefit facility location (each flow is served by the open site that gives it
    the largest gain, or by none)::

        max  Σ_f Σ_j g_fj y_fj
        s.t. y_fj <= x_j,  Σ_j y_fj <= 1,  Σ_j x_j = k,  x binary, y in [0, 1]

    plus the fixed, eligibility, distinct-theme and group constraints of
    :func:`solve_max_coverage`.  ``y`` may stay continuous: once ``x`` is integral the
    best assignment puts each flow on its best open site.  HiGHS solves an equivalent,
    much smaller model: one row per shared prefix of the flows' ranked sites (see
    :class:`_Benefit`; on PACA's car flows, 9 623 columns instead of 691 631), with the
    same optimum and the same linear relaxation; the reduction is cached by the content
    of ``gains`` for re-solves with other constraints.

    Parameters
    ----------
    gains
        Non-negative matrix, flows × candidates: the gain of flow ``f`` if served by
        candidate ``j`` (0 = cannot use it), e.g. kg CO₂e avoided per working day.
    k, fixed, site_themes, require_community, distinct_themes, groups, min_per_group,
    time_limit, mip_gap, method, progress
        As for :func:`solve_max_coverage`.

    Returns
    -------
    SitingResult
        ``objective`` = total gain, ``covered`` = flows served (indices of rows of
        ``gains``), ``total_demand`` = gain if every candidate were open; per site,
        ``value`` = its gain alone, ``loss_if_removed`` = objective lost without it.

    Raises
    ------
    InfeasibleError
        No set of ``k`` sites satisfies the constraints.
    SchemaError
        Negative or non-finite gains, inconsistent shapes, unknown method.
    """
    if method not in {"auto", "exact", "greedy"}:
        raise SchemaError(_("Méthode « {m} » inconnue (auto, exact, greedy).", m=method))
    started = time.perf_counter()
    _check_limits(time_limit, mip_gap)
    matrix = sparse.csr_matrix(gains, dtype=np.float64)
    if matrix.nnz and ((matrix.data < 0).any() or not np.isfinite(matrix.data).all()):
        raise SchemaError(
            _(
                "Choix des sites : entrée invalide ({problems}).",
                problems=_("gains négatifs ou non finis"),
            )
        )
    matrix.eliminate_zeros()
    n_flows = matrix.shape[0]
    # Reuse the coverage validation for constraints: candidate j "covers" flow f when
    # it has a gain for it (weights are irrelevant there).
    inst = _validate(
        (matrix.T != 0).tocsr(),
        np.ones(n_flows),
        k,
        fixed,
        site_themes,
        require_community,
        distinct_themes=distinct_themes,
        groups=groups,
        min_per_group=min_per_group,
    )
    ben = _Benefit(matrix, inst)
    return _run(
        _Solvers(
            inst=inst,
            objective=ben.objective,
            heuristic=lambda deadline: _benefit_local_search(ben, _benefit_greedy(ben), deadline),
            exact=lambda start, limit, gap: _solve_highs_benefit(ben, start, limit, gap, progress),
            marginal_bound=lambda chosen, value: min(
                value
                + float(
                    np.sort(ben.gains_over(ben.best(chosen)))[::-1][
                        : inst.k - len(inst.fixed)
                    ].sum()
                ),
                ben.coverable,
            ),
            dual_bound=lambda value: _benefit_dual_bound(ben, value),
            describe=lambda chosen, themes, labels: _describe_benefit(ben, chosen, themes, labels),
            covered=ben.covered_flows,
            size=ben.model_size,
            coverable=ben.coverable,
            total=ben.total,
        ),
        method=method,
        started=started,
        time_limit=time_limit,
        mip_gap=mip_gap,
        site_themes=site_themes,
    )


def _describe_benefit(
    ben: _Benefit,
    chosen: list[int],
    themes: Mapping[int, str],
    labels: list[frozenset[str]] | None,
) -> tuple[SiteChoice, ...]:
    total = ben.objective(chosen)
    column_sums = np.asarray(ben.g.sum(axis=0)).ravel()
    best = np.zeros(ben.g.shape[0])
    remaining = list(chosen)
    out: list[SiteChoice] = []
    while remaining:
        gains = ben.gains_over(best)[remaining]
        pos = int(np.argmax(gains))
        j = remaining.pop(pos)
        out.append(
            SiteChoice(
                index=j,
                value=float(column_sums[j]),
                marginal_gain=float(gains[pos]),
                loss_if_removed=total - ben.objective([x for x in chosen if x != j]),
                theme=themes.get(j),
                themes=tuple(sorted(labels[j])) if labels is not None else (),
                fixed=j in ben.inst.fixed,
            )
        )
        best = np.maximum(best, ben.g[:, j].toarray().ravel())
    return tuple(out)
