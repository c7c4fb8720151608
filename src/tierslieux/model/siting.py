"""Vocabulary of site selection: the problem's inputs, its frozen result, CO₂ factors.

The optimiser (:mod:`tierslieux.analysis.optimise`) works on arrays: a coverage matrix
(candidate sites × demand points), demand weights and the number of sites.  This module
holds only the frozen containers it returns and the constants the objectives use; it
imports no third-party library at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tierslieux.errors import SchemaError
from tierslieux.i18n import N_, format_percent
from tierslieux.i18n import gettext as _

__all__ = [
    "CAR_EMISSION_FACTOR_KG_PER_KM",
    "CAR_EMISSION_FACTOR_SOURCE",
    "MIP_GAP",
    "SOLVER_GREEDY",
    "SOLVER_HIGHS",
    "SiteChoice",
    "SitingResult",
    "co2_weights",
    "format_gap",
]

#: Emissions of an average combustion-engine car, in kg CO₂e per vehicle-kilometre,
#: fuel only (combustion plus fuel production and distribution; vehicle construction,
#: 0.0256 kg CO₂e/km, is excluded because a day not driven does not un-build a car).
#:
#: Source: ADEME, *Impact CO₂* (impactco2.fr), data file
#: ``src/data/categories/deplacement.json`` of github.com/incubateur-ademe/impactco2
#: (commit 1540e08d006f9cdd5ad2b29cc723da966f6c6d4c), entry id 4 « Voiture — Moteur
#: thermique »: ``"ecv": [{"value": 0.192, "id": 6}, {"value": 0.0256, "id": 5}]`` where
#: component 6 is « Carburant » and 5 « Construction » (``src/data/ecv.json``); its
#: stated source is the ADEME Base Carbone / Base Empreinte documentation
#: https://base-empreinte.ademe.fr/documentation/base-carbone?docLink=Routier2.
#: Not verified directly in the Base Empreinte export (it requires an account): check
#: the current vintage there before publishing figures.
CAR_EMISSION_FACTOR_KG_PER_KM = 0.192
CAR_EMISSION_FACTOR_SOURCE = N_(
    "ADEME, Impact CO₂ (impactco2.fr) « Voiture – Moteur thermique », carburant "
    "0,192 kgCO₂e/km, d'après la Base Carbone (docLink=Routier2)"
)

#: Relative optimality gap at which the exact solver (HiGHS ``mip_rel_gap``) stops: a
#: solution within 0.01 % of the proven bound is taken as optimal (the *tolerance*; the
#: gap achieved, ``SitingResult.gap``, is often smaller, and 0 when the bound is met).
MIP_GAP = 1e-4


def format_gap(gap: float) -> str:
    """A proven gap as a person reads it, never rounded to a false zero.

    ``0 %`` only when the bound is met (no combination does better); a gap too small
    for two decimals reads « moins de 0,01 % »; others with two decimals (``0,37 %``).
    """
    if gap <= 0.0:
        return format_percent(0.0)
    if gap < 0.00005:
        return _("moins de {gap}", gap=format_percent(0.0001, 2))
    return format_percent(gap, 2)


#: Name of the exact solver.
SOLVER_HIGHS = "highs"
#: Name of the greedy + 1-swap local search heuristic.
SOLVER_GREEDY = "glouton+echange"


@dataclass(frozen=True)
class SiteChoice:
    """One chosen site of a :class:`SitingResult`.

    Attributes
    ----------
    index
        Row of the site in the coverage matrix (candidate index).
    value
        Demand within the site's catchment, alone (same unit as the weights).
    marginal_gain
        Demand the site adds to the sites ranked before it (the gains sum to the
        objective).
    loss_if_removed
        Demand no other chosen site covers: what removing this site alone loses.
    theme
        Theme of base community assigned to the site (distinct themes), else ``None``.
    themes
        All themes available at the site.
    fixed
        ``True`` when the site was imposed (existing place kept).
    """

    index: int
    value: float
    marginal_gain: float
    loss_if_removed: float
    theme: str | None = None
    themes: tuple[str, ...] = ()
    fixed: bool = False


@dataclass(frozen=True)
class SitingResult:
    """Result of a maximal-covering site selection (immutable).

    Attributes
    ----------
    sites
        Chosen sites, ranked by sequential marginal gain (first = largest catchment).
    objective
        Demand covered by the chosen sites.
    bound
        Proven upper bound of the best achievable objective.
    gap
        ``(bound - objective) / bound``: 0 when the bound is met (or is 0); when HiGHS
        proves optimality, at most its tolerance :data:`MIP_GAP`.
    solver
        :data:`SOLVER_HIGHS` or :data:`SOLVER_GREEDY`.
    reason
        Why this solver ran and what the bound rests on (French, for the user).
    covered
        Indices of the demand points covered by at least one chosen site.
    total_demand
        Sum of all weights.
    seconds
        Wall-clock solving time.
    status
        ``"optimal"``, ``"time_limit"`` or ``"heuristic"``.
    """

    sites: tuple[SiteChoice, ...]
    objective: float
    bound: float
    gap: float
    solver: str
    reason: str
    covered: tuple[int, ...]
    total_demand: float
    seconds: float
    status: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def chosen(self) -> tuple[int, ...]:
        """Candidate indices of the chosen sites, in rank order."""
        return tuple(s.index for s in self.sites)


def co2_weights(
    users: list[float],
    commute_km: list[float],
    *,
    factor_kg_per_km: float = CAR_EMISSION_FACTOR_KG_PER_KM,
    round_trip: bool = True,
) -> list[float]:
    """Turn users per demand point into kg CO₂e avoided per working day.

    ``weight = users × commute_km × (2 if round_trip) × factor_kg_per_km``: each user
    who works at the site instead of commuting by car avoids the car kilometres of
    the day's commute.

    Parameters
    ----------
    users
        Car commuters likely to use a site, per demand point (persons).
    commute_km
        One-way commute distance by road per demand point (km).
    factor_kg_per_km
        Emission factor in kg CO₂e per vehicle-km (default
        :data:`CAR_EMISSION_FACTOR_KG_PER_KM`, sourced there).
    round_trip
        Count the way back (default).

    Returns
    -------
    list of float
        kg CO₂e avoided per working day, per demand point.

    Raises
    ------
    SchemaError
        Lengths differ, or a negative value or factor.
    """
    if len(users) != len(commute_km):
        raise SchemaError(
            _(
                "Poids CO₂ : {n} valeurs d'usagers mais {m} distances.",
                n=len(users),
                m=len(commute_km),
            )
        )
    if factor_kg_per_km < 0 or any(u < 0 for u in users) or any(d < 0 for d in commute_km):
        raise SchemaError(_("Poids CO₂ : usagers, distances et facteur doivent être positifs."))
    trips = 2.0 if round_trip else 1.0
    return [u * d * trips * factor_kg_per_km for u, d in zip(users, commute_km, strict=True)]
