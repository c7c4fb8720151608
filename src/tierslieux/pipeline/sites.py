"""Use case: choose experimentation sites (maximal covering with base communities).

Demand is the number of potential users per commune (the diagnostic's ``potentiel``,
or a user CSV ``code,demand``, plus one per questionnaire respondent when asked);
candidates are the communes of the territory, or a user list of places with coordinates
(:mod:`tierslieux.sources.candidates`); a site covers the communes within ``minutes``
by car.  When a ``structures.csv`` (from
``tierslieux communities``) is given, a candidate is eligible only if its catchment
holds a base community -- at least ``min_structures`` structures of steps 1, 2 or 4
(step-3 actors such as intercommunalities and parks are partners, never enough alone)
-- and the themes of that community are the themes it can carry; chosen sites then get
distinct themes.  A ``groups.csv`` (from ``tierslieux survey analyse``) adds the questionnaire
groups as base communities (at least ``min_members`` members in the catchment), their
themes joining the site's (those files are read by :mod:`tierslieux.pipeline._sites_inputs`).
The optimisers are :func:`tierslieux.analysis.optimise.solve_max_coverage` and, for
the per-flow CO₂ objective, :func:`~tierslieux.analysis.optimise.solve_max_benefit`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from tierslieux.analysis.catchment import catchment_pairs
from tierslieux.analysis.commute_co2 import (
    DEFAULT_GAIN_MINIMAL,
    car_flows,
    car_trans_codes,
    flow_gains,
)
from tierslieux.analysis.marginal import benefit_gains, coverage_gains
from tierslieux.analysis.optimise import solve_max_benefit, solve_max_coverage
from tierslieux.analysis.traveltime import AnchoredEngine, sparse_within_to_csr
from tierslieux.errors import InfeasibleError, Message, Note, Problem, SchemaError
from tierslieux.i18n import N_, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import named_codes
from tierslieux.model.rurality import RURAL_FOCUS, RuralDefinition, rural_definition_note
from tierslieux.model.siting import (
    CAR_EMISSION_FACTOR_KG_PER_KM,
    CAR_EMISSION_FACTOR_SOURCE,
    SitingResult,
    co2_weights,
    format_gap,
)
from tierslieux.model.traveltime import DEFAULT_SPEED_KMH
from tierslieux.model.types import ProgressEvent, file_name
from tierslieux.model.uptake import Range, Uptake, questionnaire_days, uptake
from tierslieux.pipeline._sites_inputs import (
    NO_COMMUNITY_NOTE,
    Candidates,
    CommunityRule,
    SiteFiles,
    SiteSet,
    base_communities,
    locate_places,
    respondents_per_commune,
)
from tierslieux.pipeline.diagnose import DiagnoseRequest, diagnose
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    demo_note,
    find_input,
    load_inputs,
    neighbours_note,
    possibly_within,
    request_files,
    rurality,
    synthetic_note,
    territory_codes,
)
from tierslieux.pipeline.readers import (
    check_demand_table,
    read_groups,
    read_respondents,
    read_structures_table,
)
from tierslieux.sources._files import read_csv_strings
from tierslieux.sources.candidates import load_candidate_places
from tierslieux.sources.catalog import source_name
from tierslieux.sources.places import load_tiers_lieux

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from tierslieux.config import Settings
    from tierslieux.model.traveltime import TravelTimeEngine
    from tierslieux.model.types import ProgressCallback
    from tierslieux.sources.zonages import Zonages

__all__ = [
    "OBJECTIVES",
    "TIERS_LIEUX_MODES",
    "Co2Estimate",
    "SiteFiles",
    "SitesRequest",
    "SitesResult",
    "choose_sites",
    "load_site_files",
    "run_sites",
]

OBJECTIVES = ("couverture", "co2")
TIERS_LIEUX_MODES = ("garder", "exclure")
SENSITIVITY_MINUTES = (15.0, 20.0, 30.0)


@dataclass(frozen=True)
class SitesRequest:
    """What the user asked for (paths optional: resolved as for the diagnostic)."""

    territory: str
    count: int
    #: Catchment of a site, in minutes; None: ``settings.catchment_minutes``
    #: (``TIERSLIEUX_CATCHMENT_MINUTES``, 20 by default), as for the other use cases.
    minutes: float | None = None
    objective: str = "couverture"
    communes: tuple[Path, ...] = ()
    mobpro: Path | None = None
    travel_times: Path | None = None
    structures: Path | None = None
    groups: Path | None = None
    demand: Path | None = None
    min_structures: int = 1
    min_members: int = 3
    distinct_themes: bool = True
    time_limit: float = 60.0
    demo: bool = False
    zonages: Path | None = None
    tiers_lieux: Path | None = None
    tiers_lieux_mode: str = "garder"
    exclusion_minutes: float | None = None
    min_per_epci: int = 0
    gain_minimal: float = DEFAULT_GAIN_MINIMAL
    candidates: Path | None = None
    respondents: Path | None = None
    densite: Path | None = None
    #: ``non``, ``candidats`` (rural candidates only) or ``candidats-et-demande``
    #: (and only the demand of rural communes counts): see ``model.rurality``.
    rural: str = "non"
    #: Structures, questionnaire groups and (objective couverture, demand from the census)
    #: potential users of the communes just outside the territory, within reach of a
    #: candidate, count for it (the candidates stay the territory's).
    neighbours: bool = True
    #: Objective co2, take-up model (None = the cited defaults, or the questionnaire).
    users_share: float | None = None
    days_per_week: float | None = None
    working_days: float | None = None

    def files(self) -> InputFiles:
        """The source files named by the request (resolved by ``load_inputs``)."""
        return request_files(self)


@dataclass(frozen=True)
class Co2Estimate:
    """Objective co2: tonnes per year with their range, and the assumptions behind them.

    The solver's objective (``SitesResult.result.objective``) is the central estimate,
    in tonnes of CO₂e per year; ``tonnes`` gives the low / central / high range and
    ``kg_per_day`` the central figure per working day (a derived detail).  ``ceiling``
    is the kg CO₂e per working day if every eligible car commuter came every day.
    """

    uptake: Uptake
    tonnes: Range
    kg_per_day: float
    ceiling_kg_per_day: float
    assumptions: pd.DataFrame


@dataclass(frozen=True)
class SitesResult:
    """Chosen sites, their coverage, alternatives and sensitivity (frames ready to write)."""

    territory_label: str
    objective: str
    unit: str
    minutes: float
    count: int
    result: SitingResult
    sites: pd.DataFrame
    coverage: pd.DataFrame
    alternatives: pd.DataFrame
    sensitivity: pd.DataFrame
    communes: pd.DataFrame
    geometries: dict[str, dict[str, Any]]
    fictional: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    co2: Co2Estimate | None = None
    #: One row per candidate: what one more site there would add to the chosen sites
    #: (existing tiers-lieux kept included), in the objective's unit
    #: (``gain_site_supplementaire``), whether the constraints admit it (``admissible``:
    #: base community, exclusion around existing places, rurality) and whether it is
    #: chosen (``choisi``, then 0).
    one_more: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The part of the objective (``result.objective``) from the communes just outside
    #: the territory (their potential users, objective couverture; 0 otherwise): the
    #: territory's own part is the rest.
    objective_outside: float = 0.0
    #: Communes outside the territory covered by the chosen sites.
    outside_covered: int = 0
    #: Code -> name of every candidate and of every commune loaded (the territory's and
    #: those around it read for the catchments), a candidate place's name over its
    #: commune's: how the pages spell the site sets of the alternatives and sensitivity
    #: (:func:`~tierslieux.model.codes.named_codes`); a code absent here is unknown.
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def objective_inside(self) -> float:
        """The part of the objective from the territory's own communes."""
        return self.result.objective - self.objective_outside


def _territory(
    inputs: LoadedInputs, request: SitesRequest
) -> tuple[pd.DataFrame, list[str], dict[str, dict[str, Any]], str, Zonages | None]:
    codes, label = territory_codes(inputs, request.territory)
    communes = inputs.communes
    geometries = {c: g for c, g in communes.geometries.items() if c in set(codes)}
    return communes.table, codes, geometries, label, inputs.zonages


def _existing_places(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    codes: list[str],
    reach: tuple[pd.DataFrame, TravelTimeEngine],
) -> tuple[dict[str, str], list[str]]:
    """Communes hosting an existing tiers-lieu -> names of the places (and notes).

    Kept places (``garder``) are those of the territory; excluded ones (``exclure``)
    also include places just outside it, within the exclusion radius or ``--minutes``
    of one of its communes (``reach``: located communes and travel-time engine).
    """
    path = request.tiers_lieux
    # The demo's communes are fictional: a real census found in --data cannot match them.
    if path is None and not inputs.fictional:
        path = find_input(settings, None, "tiers_lieux")
    if path is None:
        if request.tiers_lieux_mode == "exclure":
            return {}, [
                Note.text(
                    "{tiers_lieux_mode} exclure sans fichier des tiers-lieux existants "
                    "({tiers_lieux}, ou CGET_TiersLieux_2019.csv dans {data}) : aucun lieu "
                    "n'est exclu."
                )
            ]
        return {}, []
    exclude = request.tiers_lieux_mode == "exclure"
    places, provenance = load_tiers_lieux(path, communes=None if exclude else codes)
    places = places.dropna(subset=["code_commune"])
    outside = 0
    if exclude:
        places, outside = _places_within_reach(places, codes, request, reach)
    names: dict[str, str] = {}
    for code, name in zip(places["code_commune"], places["nom"], strict=True):
        key = str(code)
        names[key] = f"{names[key]} ; {name}" if key in names else str(name)
    if request.tiers_lieux_mode == "garder":
        how = _(
            "gardées comme sites imposés, comptés dans les {k} sites (chaque commune une "
            "seule fois, quel que soit le nombre de lieux) ; ces sites ne prennent pas de "
            "thème aux nouveaux sites",
            k=request.count,
        )
    else:
        how = _(
            "aucun nouveau site à moins de {m:.0f} minutes d'elles, et la demande déjà à "
            "moins de {c:.0f} minutes d'un tiers-lieu existant n'est pas comptée (dans le "
            "tableau de sensibilité, cette demande déjà servie grandit avec le bassin : "
            "l'objectif peut y baisser à 30 minutes)",
            m=request.exclusion_minutes or request.minutes,
            c=request.minutes,
        )
    inside = len(places) - outside
    if inside == 0 and not outside:
        # No place to keep or to stay away from: say so, not « 0 lieu(x) … gardées ».
        return names, [
            _(
                "Tiers-lieux existants ({source}) : aucun lieu dans le territoire ni à portée "
                "de ses communes ; aucun site n'est imposé ni exclu.",
                source=source_name(provenance),
            )
        ]
    note = _(
        "Tiers-lieux existants ({source}) : {n} lieu(x) dans {c} commune(s) du territoire, {how}.",
        source=source_name(provenance),
        n=inside,
        c=len([c for c in names if c in set(codes)]),
        how=how,
    )
    if outside:
        note += " " + _(
            "{n} lieu(x) juste hors du territoire, à portée de ses communes, sont aussi "
            "pris en compte.",
            n=outside,
        )
    return names, [note]


def _places_within_reach(
    places: pd.DataFrame,
    codes: list[str],
    request: SitesRequest,
    reach: tuple[pd.DataFrame, TravelTimeEngine],
) -> tuple[pd.DataFrame, int]:
    """Places of the territory plus those outside within reach of it; how many outside."""
    located, engine = reach
    inside = places["code_commune"].astype(str).isin(set(codes))
    others = sorted(set(places.loc[~inside, "code_commune"].astype(str)))
    if not others:
        return places[inside], 0
    hosts = located[located["code"].isin(others)]
    territory = located[located["code"].isin(set(codes))]
    limit = max(request.exclusion_minutes or _minutes(request), _minutes(request))
    near = engine.within(hosts, territory, limit) if len(hosts) and len(territory) else None
    reachable = set() if near is None else set(near["origin"].astype(str))
    keep = inside | places["code_commune"].astype(str).isin(reachable)
    return places[keep], int((keep & ~inside).sum())


def _epci_groups(
    request: SitesRequest, zonages: Zonages | None, codes: list[str]
) -> tuple[list[str] | None, dict[str, int]]:
    """Group label of each candidate (its intercommunality) and the minimum per group."""
    if request.min_per_epci <= 0:
        return None, {}
    if zonages is None or "epci" not in zonages.table.columns:
        raise SchemaError(
            Problem.of(
                "{min_per_epci} demande l'intercommunalité de chaque commune : fournissez "
                "les zonages ({zonages}, ou un fichier de zonages dans {data}).",
                field="zonages",
            )
        )
    epci = zonages.table.set_index("code")["epci"].reindex(codes)
    names = zonages.labels.get("epci", {})
    labels = [f"{names.get(str(e), str(e))} ({e})" if pd.notna(e) and str(e) else "" for e in epci]
    distinct = sorted({g for g in labels if g})
    need = request.min_per_epci * len(distinct)
    if need > request.count:
        raise InfeasibleError(
            Problem.of(
                "Vous demandez au moins {m} site(s) par intercommunalité : les {e} "
                "intercommunalités du territoire en exigent {need}, plus que les {k} sites "
                "demandés. Demandez au moins {need} sites ou baissez {min_per_epci}.",
                field="min_per_epci",
                m=request.min_per_epci,
                e=len(distinct),
                need=need,
                k=request.count,
            )
        )
    return labels, dict.fromkeys(distinct, request.min_per_epci)


@dataclass(frozen=True)
class _Demand:
    """Demand per territory code, optional one-way commute km, notes, and the demand of
    the communes just outside the territory (empty unless asked)."""

    demand: pd.Series
    km: pd.Series | None
    notes: list[str]
    outside: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))


def _demand(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    codes: list[str],
    frame: pd.DataFrame | None,
    *,
    neighbours: bool = False,
) -> _Demand:
    """Return demand per code, optional one-way commute km per code, and notes.

    With ``neighbours`` (and the demand read from the census), the potential users of
    the communes of the file outside the territory, within the longest catchment of the
    run of one of its communes, come too (``outside``, read with the same sources).
    ``frame`` is the demand file read (:attr:`SiteFiles.demand`), ``None`` without one.
    """
    notes: list[str] = []
    if frame is not None and request.demand is not None:
        keys, values, km_values = check_demand_table(frame, request.demand)
        unknown = sorted(set(keys) - set(codes))
        if len(unknown) == len(keys):
            raise SchemaError(
                _(
                    "{path} : aucun code ne désigne une commune du territoire (par exemple "
                    "« {code} » ; codes Insee à 5 caractères attendus, 05061).",
                    path=request.demand,
                    code=unknown[0] if unknown else "",
                )
            )
        if unknown:
            notes.append(
                _(
                    "{path} : {n} code(s) hors du territoire ignoré(s) : {codes}.",
                    path=request.demand,
                    n=len(unknown),
                    codes=", ".join(unknown[:10]),
                )
            )
        demand = pd.Series(values.to_numpy(), index=keys)
        km = None
        if km_values is not None:
            km = pd.Series(km_values.to_numpy(), index=demand.index)
        notes.append(_("Demande lue dans {path}.", path=request.demand))
        return _Demand(demand.reindex(codes).fillna(0.0), km, notes)
    reach = max(_minutes(request), *SENSITIVITY_MINUTES)  # the sensitivity rows reach farther
    # The inner diagnostic computes on the inputs already loaded (each source read once).
    diagnosis = diagnose(
        settings,
        inputs,
        DiagnoseRequest(
            territory=request.territory,
            minutes=reach if neighbours else request.minutes,
            # Only the potential per commune is used, and the outside communes' one.
            neighbours=neighbours,
        ),
    )
    # The definition of "rural" is said once, by the site selection itself, and the
    # neighbours counted by the sites' own note (within reach of a candidate).
    said = {
        rural_definition_note(diagnosis.rural_definition),
        neighbours_note(list(diagnosis.neighbours), reach),
    }
    notes.extend(n for n in diagnosis.notes if n not in said)
    if diagnosis.mobpro_kind == "flux":
        raise SchemaError(
            Problem.of(
                "Le fichier des flux ne donne pas les usagers potentiels : fournissez le "
                "fichier détail MOBPRO ou une demande {demand} code,demand.",
                field="mobpro",
            )
        )
    table = diagnosis.communes.set_index("code")["potentiel"].astype("float64")
    outside = pd.Series(dtype="float64")
    beyond = diagnosis.neighbour_communes
    if neighbours and beyond is not None and len(beyond):
        outside = beyond.set_index("code")["potentiel"].astype("float64").fillna(0.0)
    return _Demand(table.reindex(codes).fillna(0.0), None, notes, outside)


def _rule(request: SitesRequest, files: SiteFiles) -> CommunityRule:
    return CommunityRule(
        files.structures, files.groups, request.min_structures, request.min_members
    )


def _site_pairs(setup: _Setup, minutes: float) -> pd.DataFrame:
    """Candidate -> communes within ``minutes`` (each candidate covers its own commune),
    the outside communes of the demand included."""
    outside = setup.outside_points
    if not setup.sites.places:
        return catchment_pairs(setup.engine, setup.points, minutes, reach=outside)
    found = setup.engine.within(setup.sites.points, setup.demand_points, minutes)
    own = pd.DataFrame(
        {"origin": setup.sites.ids, "destination": setup.sites.communes, "minutes": 0.0}
    )
    pairs = pd.concat([found, own], ignore_index=True).drop_duplicates(["origin", "destination"])
    return pairs.sort_values(["origin", "destination"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _Setup:
    codes: list[str]
    weights: np.ndarray
    engine: TravelTimeEngine
    points: pd.DataFrame
    sites: SiteSet
    existing: dict[str, str] = field(default_factory=dict)
    groups: list[str] | None = None
    min_per_group: dict[str, int] = field(default_factory=dict)
    flow_model: _FlowModel | None = None
    #: Coordinates of the communes hosting existing places (some may be outside).
    host_points: pd.DataFrame | None = None
    #: ``--rural``: which candidates are in a rural commune (``None``: no restriction),
    #: and the communes whose demand is not counted (``candidats-et-demande``).
    rural_sites: np.ndarray | None = None
    not_rural_demand: frozenset[str] = frozenset()
    #: Communes of the file outside the territory whose structures and groups can make
    #: a candidate's base community (``None``: the territory only).
    neighbour_points: pd.DataFrame | None = None
    #: Objective couverture: potential users of the outside communes that count when a
    #: candidate reaches them (index: codes; empty: the territory's demand only).
    outside_demand: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))
    outside_points: pd.DataFrame | None = None
    #: Structures and questionnaire groups that make base communities (loaded).
    community: CommunityRule = field(default_factory=CommunityRule)

    @property
    def demand_codes(self) -> list[str]:
        """The columns of the coverage matrix: the territory, then the outside communes."""
        return [*self.codes, *(str(c) for c in self.outside_demand.index)]

    @property
    def demand_weights(self) -> np.ndarray:
        """Demand of :attr:`demand_codes`."""
        return np.concatenate([self.weights, self.outside_demand.to_numpy(dtype="float64")])

    @property
    def demand_points(self) -> pd.DataFrame:
        """Coordinates of :attr:`demand_codes`."""
        if self.outside_points is None or self.outside_points.empty:
            return self.points
        return pd.concat([self.points, self.outside_points], ignore_index=True)


def _near_existing(setup: _Setup, radius: float, minutes: float) -> tuple[set[str], set[str]]:
    """Communes within ``radius`` of an existing place (no new site there) and within
    ``minutes`` of one (their demand is served already)."""
    hosts = set(setup.existing)
    host_points = setup.host_points
    if host_points is None or host_points.empty:
        return hosts, hosts
    from_hosts = setup.engine.within(host_points, setup.demand_points, max(radius, minutes))
    near = set(from_hosts.loc[from_hosts["minutes"] <= radius, "destination"]) | hosts
    served = set(from_hosts.loc[from_hosts["minutes"] <= minutes, "destination"]) | hosts
    return near, served


def _flow_coverage(
    result: SitingResult, setup: _Setup, request: SitesRequest, names: pd.Series
) -> pd.DataFrame:
    """Per chosen site and commune of residence: the car flows that use the site.

    Each served flow works at the chosen site that gives it the largest gain; ``demande``
    is the gain (kg CO₂e per working day), so the column sums to the objective.
    """
    model = setup.flow_model
    assert model is not None  # noqa: S101  (called for the co2 objective only)
    served: set[str] = set()
    if setup.existing and request.tiers_lieux_mode == "exclure":
        radius = request.exclusion_minutes or _minutes(request)
        served = _near_existing(setup, radius, _minutes(request))[1]
    served |= setup.not_rural_demand
    chosen = list(result.chosen)
    gains = model.gains(_minutes(request), setup.sites.ids, unserved=served)[:, chosen]
    dense_best = np.asarray(gains.max(axis=1).toarray()).ravel()
    best = np.asarray(gains.argmax(axis=1)).ravel()
    use = dense_best > 0
    frame = pd.DataFrame(
        {
            "site": np.asarray(chosen)[best[use]],
            "code_commune": model.flows["residence"].to_numpy()[use],
            "demande": dense_best[use],
            "navetteurs": model.flows["weight"].to_numpy()[use],
        }
    )
    frame = frame.groupby(["site", "code_commune"], as_index=False)[["demande", "navetteurs"]].sum()
    return pd.DataFrame(
        {
            "code_site": [setup.sites.ids[j] for j in frame["site"]],
            "nom_site": [setup.sites.names[j] for j in frame["site"]],
            "code_commune": frame["code_commune"].astype(str),
            "nom_commune": frame["code_commune"].astype(str).map(names),
            "demande": frame["demande"],
            "navetteurs": frame["navetteurs"],
            "hors_territoire": ~frame["code_commune"].astype(str).isin(set(setup.codes)),
        }
    )


def _solve(
    setup: _Setup,
    request: SitesRequest,
    minutes: float,
    count: int,
    exclude: int | None = None,
    *,
    progress: ProgressCallback | None = None,
    time_limit: float | None = None,
) -> _Solution:
    sites = setup.sites
    pairs = _site_pairs(setup, minutes)
    demand_codes = setup.demand_codes
    matrix = sparse_within_to_csr(pairs, sites.ids, demand_codes)
    community_pairs = pairs
    if setup.neighbour_points is not None and len(setup.neighbour_points):
        outside = setup.engine.within(sites.points, setup.neighbour_points, minutes)
        community_pairs = pd.concat([pairs, outside], ignore_index=True)
    candidates, _notes = base_communities(setup.community, community_pairs, sites)
    allowed = (
        candidates.community.copy()
        if candidates.community is not None
        else np.ones(len(sites.ids), dtype=bool)
    )
    distinct = request.distinct_themes and candidates.themes is not None
    themes = list(candidates.themes) if candidates.themes is not None else None
    weights = setup.demand_weights
    if len(setup.outside_demand):
        # An outside commune no candidate reaches is no demand of the territory's sites.
        reached = np.asarray(matrix.getnnz(axis=0)).ravel() > 0
        beyond = np.arange(len(demand_codes)) >= len(setup.codes)
        weights = np.where(beyond & ~reached, 0.0, weights)
    fixed: list[int] = []
    served: set[str] = set()
    if setup.existing and request.tiers_lieux_mode == "garder":
        fixed = [i for i, c in enumerate(sites.ids) if c in setup.existing]
        if themes is not None:
            # An existing place is a base community of its own: it takes no theme from
            # the new sites (a theme of its own, shared with no one).
            for j in fixed:
                themes[j] = frozenset({_("tiers-lieu existant ({code})", code=sites.ids[j])})
    elif setup.existing:
        with_community = int(allowed.sum())
        radius = request.exclusion_minutes or minutes
        near, served = _near_existing(setup, radius, minutes)
        allowed &= ~np.isin(np.asarray(sites.communes), sorted(near))
        # Demand already within reach of an existing tiers-lieu is not counted again.
        weights = np.where(np.isin(np.asarray(demand_codes), sorted(served)), 0.0, weights)
        if int(allowed.sum()) < count:
            raise InfeasibleError(
                Problem.of(
                    "Vous demandez {k} sites mais seuls {n} candidats restent admissibles une "
                    "fois exclues les communes à moins de {m:.0f} minutes d'un tiers-lieu "
                    "existant ({c} candidats sur {t} ont une communauté-base avant cette "
                    "exclusion) : demandez moins de sites, réduisez {exclusion_minutes} ou "
                    "gardez les tiers-lieux existants ({tiers_lieux_mode} garder).",
                    field="count",
                    k=count,
                    n=int(allowed.sum()),
                    m=radius,
                    c=with_community,
                    t=len(sites.ids),
                )
            )
    if setup.rural_sites is not None:
        allowed &= setup.rural_sites
    if setup.not_rural_demand:
        served = served | setup.not_rural_demand
        weights = np.where(np.isin(np.asarray(demand_codes), sorted(served)), 0.0, weights)
    if exclude is not None:
        allowed[exclude] = False
    if candidates.community is not None and fixed:
        # Said here: the optimiser would count the imposed sites among those with one.
        _check_new_communities(allowed, fixed, count)
    # Objective co2 with the per-flow rule: the same constraints, gains per car flow.
    flow_gains_matrix = (
        setup.flow_model.gains(minutes, sites.ids, unserved=served)
        if setup.flow_model is not None
        else None
    )
    solve = (
        partial(solve_max_benefit, flow_gains_matrix)
        if flow_gains_matrix is not None
        else partial(solve_max_coverage, matrix, weights)
    )
    result = solve(
        count,
        fixed=fixed,
        site_themes=themes,
        require_community=allowed,
        distinct_themes=distinct,
        groups=setup.groups,
        min_per_group=setup.min_per_group or None,
        time_limit=request.time_limit if time_limit is None else time_limit,
        progress=progress,
    )
    return _Solution(result, candidates, matrix, weights, allowed, flow_gains_matrix)


@dataclass(frozen=True)
class _Solution:
    """A solve and what it was solved on: coverage matrix, demand weights used (after
    the exclusions), admissible candidates and, objective co2 per flow, the gains."""

    result: SitingResult
    candidates: Candidates
    matrix: sparse.csr_matrix
    weights: np.ndarray
    allowed: np.ndarray
    flow_gains: sparse.csr_matrix | None = None

    def one_more(self) -> np.ndarray:
        """Per candidate: what it would add to the chosen sites (existing kept included)."""
        chosen = list(self.result.chosen)
        if self.flow_gains is not None:
            return benefit_gains(self.flow_gains, chosen)
        return coverage_gains(self.matrix, self.weights, chosen)


def _check_new_communities(allowed: np.ndarray, fixed: list[int], count: int) -> None:
    """Refuse, in plain words, more new sites than candidates with a base community."""
    free = np.ones(len(allowed), dtype=bool)
    free[fixed] = False
    available = int((allowed & free).sum())
    if count - len(fixed) > available:
        raise InfeasibleError(
            _(
                "Vous demandez {k} sites dont {f} tiers-lieux existants imposés : il faut "
                "{n} nouveau(x) site(s) ayant une communauté-base dans leur bassin, mais seuls "
                "{a} candidat(s) en ont une (une intercommunalité, un Pays ou un parc seuls "
                "n'en font pas).",
                k=count,
                f=len(fixed),
                n=count - len(fixed),
                a=available,
            )
        )


def _levers(request: SitesRequest) -> list[str]:
    """The options that relax the constraints in force (said when infeasible)."""
    levers = []
    if request.structures is not None or request.groups is not None:
        levers.append(
            Note.text(
                "Communauté-base exigée dans le bassin de chaque site : au moins "
                "{s} structure(s) des étapes 1, 2 ou 4 — CAE, SCOP/SCIC du numérique, "
                "associations — ({min_structures}) ou un groupe du questionnaire d'au "
                "moins {m} membres ({min_members}, {groups}) ; les intercommunalités, "
                "Pays et parcs (étape 3) sont des partenaires et ne suffisent pas seuls : "
                "complétez l'annuaire des communautés-base ({sirene_etablissements}, {rna}, "
                "{acteurs}) ou ajoutez les groupes du questionnaire.",
                s=request.min_structures,
                m=request.min_members,
            )
        )
        if request.distinct_themes:
            levers.append(
                Note.text(
                    "Thèmes différents exigés d'un site à l'autre ({distinct_themes} pour lever)."
                )
            )
    if request.rural != "non":
        levers.append(
            Note.text("Sites limités aux communes rurales ({rural} {m}).", m=request.rural)
        )
    if request.min_per_epci:
        levers.append(
            Note.text(
                "Minimum de {m} site(s) par intercommunalité ({min_per_epci}) : les « groupes » "
                "sont les intercommunalités.",
                m=request.min_per_epci,
            )
        )
    return levers


def _co2_per_user(
    settings: Settings,
    km: pd.Series | None,
    codes: list[str],
    weights: np.ndarray,
    notes: list[str],
    scale: float,
) -> np.ndarray:
    """Objective co2 without a MOBPRO detail file: users × commute km × factor × take-up."""
    default_km = settings.long_commute_minutes * DEFAULT_SPEED_KMH / 60.0
    km_values = (
        km.reindex(codes).fillna(default_km).to_numpy(dtype="float64")
        if km is not None
        else np.full(len(codes), default_km)
    )
    per_day = np.asarray(co2_weights(list(weights), list(km_values)))
    notes.append(
        Note.text(
            "Objectif CO₂ : chaque usager couvert évite l'aller-retour de son trajet en "
            "voiture ({km:.0f} km aller par défaut = trajet long de {minutes:.0f} min à "
            "{speed:.0f} km/h, une borne basse ; colonne km de {demand} sinon), à "
            "{factor} kgCO₂e/km ({source}) ; la part des usagers s'applique aussi à ces "
            "usagers potentiels.",
            km=default_km,
            minutes=settings.long_commute_minutes,
            speed=DEFAULT_SPEED_KMH,
            factor=CAR_EMISSION_FACTOR_KG_PER_KM,
            source=_(CAR_EMISSION_FACTOR_SOURCE),
        )
    )
    return per_day * scale


def _minutes(request: SitesRequest) -> float:
    """Catchment minutes of a request, resolved from the settings by :func:`run_sites`."""
    if request.minutes is None:  # pragma: no cover  (run_sites resolves it first)
        msg = "SitesRequest.minutes must be resolved by run_sites"
        raise ValueError(msg)
    return request.minutes


def _check_request(request: SitesRequest) -> None:
    """Refuse unknown modes and impossible thresholds before reading any file."""
    if request.objective not in OBJECTIVES:
        raise SchemaError(
            _(
                "Objectif « {o} » inconnu : {known}.",
                o=request.objective,
                known=", ".join(OBJECTIVES),
            )
        )
    if request.tiers_lieux_mode not in TIERS_LIEUX_MODES:
        raise SchemaError(
            _(
                "Mode « {m} » inconnu pour les tiers-lieux existants : {known}.",
                m=request.tiers_lieux_mode,
                known=", ".join(TIERS_LIEUX_MODES),
            )
        )
    if _minutes(request) <= 0 or (
        request.exclusion_minutes is not None and request.exclusion_minutes <= 0
    ):
        raise SchemaError(_("Les seuils en minutes doivent être strictement positifs."))
    if request.time_limit <= 0:
        raise SchemaError(
            Problem.of(
                "{time_limit} doit être un nombre de secondes strictement positif.",
                field="time_limit",
            )
        )
    if request.min_per_epci < 0:
        raise SchemaError(
            Problem.of("{min_per_epci} doit être positif ou nul.", field="min_per_epci")
        )
    if request.rural not in RURAL_FOCUS:
        raise SchemaError(
            Problem.of(
                "{rural} « {m} » inconnu : {known}.",
                field="rural",
                m=request.rural,
                known=", ".join(RURAL_FOCUS),
            )
        )


class _Reporter:
    """Progress events of one run (nothing happens without a callback)."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.started = time.perf_counter()

    def __call__(
        self, phase: str, message: str, *, step: int | None = None, total: int | None = None
    ) -> None:
        if self.callback is not None:
            elapsed = time.perf_counter() - self.started
            self.callback(ProgressEvent(phase, message, elapsed, step=step, total=total))

    def solver(
        self, phase: str, message: str, *, step: int | None = None, total: int | None = None
    ) -> ProgressCallback | None:
        """A callback for the solver: its gaps reported under ``phase`` and ``message``."""
        callback = self.callback
        if callback is None:
            return None

        def forward(event: ProgressEvent) -> None:
            elapsed = time.perf_counter() - self.started
            callback(ProgressEvent(phase, message, elapsed, event.gap, step, total))

        self(phase, message, step=step, total=total)
        return forward


def run_sites(
    settings: Settings,
    request: SitesRequest,
    progress: ProgressCallback | None = None,
    *,
    inputs: LoadedInputs | None = None,
) -> SitesResult:
    """Choose ``request.count`` experimentation sites and explain the choice.

    Loads the inputs once (:func:`~tierslieux.pipeline.inputs.load_inputs`, unless
    ``inputs`` are given, from a workspace for instance), then :func:`choose_sites`.
    ``progress`` receives :class:`~tierslieux.model.types.ProgressEvent` objects
    (phases ``territoire``, ``recensement``, ``flux``, ``resolution`` with the solver's
    current gap, ``alternatives`` and ``sensibilite`` with their step), for a progress
    display; it is never required.

    Returns
    -------
    SitesResult
        Ranked sites, coverage by commune, alternatives (each chosen site excluded in
        turn) and sensitivity (15, 20, 30 minutes; K-1 and K+1 sites); objective co2:
        tonnes of CO₂e per year and their assumptions (``co2``).

    Raises
    ------
    InfeasibleError
        The constraints cannot be met (explained in the user's terms).
    """
    if request.minutes is None:
        request = replace(request, minutes=settings.catchment_minutes)
    _check_request(request)
    report = _Reporter(progress)
    report("territoire", _("Lecture des communes et du territoire"))
    if inputs is None:
        # The census is read only when the demand comes from it (the diagnostic).
        inputs = load_inputs(settings, request.files(), mobpro=request.demand is None)
    return _choose(settings, inputs, request, report, load_site_files(request))


def choose_sites(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    *,
    progress: ProgressCallback | None = None,
    files: SiteFiles | None = None,
) -> SitesResult:
    """Choose the sites on loaded inputs (the request's source paths are not read).

    The files of other commands the request names (``structures.csv``, ``groups.csv``,
    ``respondents.csv``, a demand or candidates CSV) come from ``files``
    (:func:`load_site_files`); they are read here only when ``files`` is not given.
    The existing tiers-lieux file is still read here.
    """
    if request.minutes is None:
        request = replace(request, minutes=settings.catchment_minutes)
    _check_request(request)
    report = _Reporter(progress)
    report("territoire", _("Lecture des communes et du territoire"))
    return _choose(settings, inputs, request, report, files or load_site_files(request))


def load_site_files(request: SitesRequest) -> SiteFiles:
    """Read once the other commands' files ``request`` names (for :func:`choose_sites`).

    Raises
    ------
    SourceError, SchemaError
        When a file is missing, unreadable or lacks its columns.
    """
    return SiteFiles(
        structures=None
        if request.structures is None
        else read_structures_table(request.structures),
        groups=None if request.groups is None else tuple(read_groups(request.groups)),
        respondents=None if request.respondents is None else read_respondents(request.respondents),
        demand=None
        if request.demand is None
        else read_csv_strings(request.demand, role=N_("demande")),
        candidates=None
        if request.candidates is None
        else load_candidate_places(request.candidates),
    )


@dataclass(frozen=True)
class _Prepared:
    """Everything the solver and the result frames need."""

    setup: _Setup
    label: str
    geometries: dict[str, dict[str, Any]]
    names: pd.Series
    rural_table: pd.DataFrame
    objective: _ObjectiveInputs
    notes: list[str]


def _territory_points(
    table: pd.DataFrame, codes: list[str], notes: list[str]
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[str]]:
    """Located communes of the file, names, the territory's points and its located codes."""
    # Coordinates of every commune of the file (workplaces and neighbours included).
    located = table[["code", "latitude", "longitude"]].dropna().drop_duplicates("code")
    names = table.drop_duplicates("code").set_index("code")["nom"]
    points = located[located["code"].isin(codes)].reset_index(drop=True)
    missing = sorted(set(codes) - set(points["code"]))
    if missing:
        notes.append(
            _("Communes sans coordonnées, ignorées : {codes}.", codes=", ".join(missing[:10]))
        )
        codes = [c for c in codes if c not in set(missing)]
    return located, names, points, codes


def _groups_note(request: SitesRequest) -> list[str]:
    if request.groups is None:
        return []
    return [
        _(
            "Groupes du questionnaire ({path}) : un groupe est une communauté-base d'un "
            "site quand au moins {m} de ses membres habitent son bassin ; ses thèmes "
            "s'ajoutent à ceux du site.",
            path=request.groups,
            m=request.min_members,
        )
    ]


def _check_existing(request: SitesRequest, existing: dict[str, str]) -> None:
    if request.tiers_lieux_mode == "garder" and len(existing) > request.count:
        raise InfeasibleError(
            Problem.of(
                "{f} communes du territoire ont déjà un tiers-lieu, gardées comme sites "
                "({tiers_lieux_mode} garder), mais vous ne demandez que {k} sites : "
                "demandez au moins {f} sites ou utilisez {tiers_lieux_mode} exclure.",
                field="count",
                f=len(existing),
                k=request.count,
            )
        )


def _prepare(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    report: _Reporter,
    files: SiteFiles,
) -> _Prepared:
    """Territory, candidates, existing places, demand and rurality: the solver's setup."""
    table, codes, geometries, label, zonages = _territory(inputs, request)
    notes: list[str] = []
    engine = inputs.engine
    located, names, points, codes = _territory_points(table, codes, notes)
    existing, existing_notes = _existing_places(settings, inputs, request, codes, (located, engine))
    notes.extend(existing_notes)
    site_set, engine = _site_set(request, names, points, existing, engine, notes, files)
    territory = (located, codes, site_set, engine)
    objective = _objective(settings, inputs, request, territory, report, files)
    notes = [*objective.notes, *notes, *_groups_note(request)]
    _check_existing(request, existing)
    groups, mins = _epci_groups(request, zonages, site_set.communes)
    neighbour_points = (
        possibly_within(
            points,
            located[~located["code"].isin(set(codes))],
            max(_minutes(request), *SENSITIVITY_MINUTES),  # the sensitivity rows reach farther
        )
        if request.neighbours and (request.structures is not None or request.groups is not None)
        else None
    )
    rural_table, rural_sites, not_rural = _rural_restriction(
        inputs, request, (codes, site_set.communes), notes
    )
    setup = _Setup(
        codes,
        objective.weights,
        engine,
        points,
        site_set,
        existing,
        groups,
        mins,
        objective.flow_model,
        located[located["code"].isin(sorted(existing))].reset_index(drop=True),
        rural_sites,
        not_rural,
        neighbour_points,
        objective.outside,
        located[located["code"].isin(set(objective.outside.index))].reset_index(drop=True),
        _rule(request, files),
    )
    return _Prepared(setup, label, geometries, names, rural_table, objective, notes)


def _with_community_columns(
    sites: pd.DataFrame, candidates: Candidates, result: SitingResult
) -> pd.DataFrame:
    """Who makes each site's base community (steps 1, 2, 4 and groups), and the step-3
    partners to call, separately: the table says what the site rests on."""
    if candidates.reach is None:
        return sites
    reach = candidates.reach.iloc[[s.index for s in result.sites]]
    at = list(sites.columns).index("communaute_base") + 1
    for offset, column in enumerate(("structures_communaute", "groupes", "partenaires")):
        sites.insert(at + offset, column, reach[column].to_numpy())
    return sites


def _communes_frame(
    prepared: _Prepared, result: SitingResult, coverage: pd.DataFrame
) -> pd.DataFrame:
    """One row per commune of the territory: demand, covering sites, rurality."""
    setup = prepared.setup
    communes = pd.DataFrame(
        {
            "code": setup.codes,
            "nom": prepared.names.reindex(setup.codes).to_numpy(),
            "demande": setup.weights,
        }
    ).merge(setup.points, on="code", how="left")
    chosen_communes = {setup.sites.communes[s.index] for s in result.sites}
    covering = coverage.groupby("code_commune")["code_site"].agg(lambda s: ";".join(sorted(s)))
    communes["couvert_par"] = communes["code"].map(covering).fillna("")
    communes["site"] = communes["code"].isin(chosen_communes)
    return communes.merge(prepared.rural_table, on="code", how="left")


def _choose(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    report: _Reporter,
    files: SiteFiles,
) -> SitesResult:
    prepared = _prepare(settings, inputs, request, report, files)
    setup, notes = prepared.setup, prepared.notes
    try:
        solution = _solve(
            setup,
            request,
            _minutes(request),
            request.count,
            progress=report.solver("resolution", _("Choix des sites (modèle exact)")),
        )
    except InfeasibleError as error:
        raise InfeasibleError(" ".join([str(error), *_levers(request)])) from error
    result, candidates, matrix = solution.result, solution.candidates, solution.matrix
    if request.structures is None and request.groups is None:
        notes.append(NO_COMMUNITY_NOTE())
    sites = _with_community_columns(_sites_frame(result, candidates, setup), candidates, result)
    coverage = (
        _flow_coverage(result, setup, request, prepared.names)
        if setup.flow_model is not None
        else _coverage_frame(result, matrix, setup, prepared.names)
    )
    outside = _outside_part(setup, solution)
    beyond = coverage.loc[coverage["hors_territoire"].astype(bool), "code_commune"]
    communes = _commune_names(prepared.names)
    covered = sorted(set(beyond.astype(str)))
    notes.append(_outside_demand_note(setup, request, outside, (covered, communes)))
    take_up = prepared.objective.uptake
    co2 = _co2_estimate(take_up, result, sites, coverage, notes) if take_up is not None else None
    alternatives = _alternatives(setup, request, result, report)
    sensitivity = _sensitivity(setup, request, result, report)
    rural = prepared.rural_table.set_index("code")["rural"]
    sites["rural"] = sites["code_commune"].map(rural).astype("boolean")
    one_more = _one_more_frame(setup, solution)
    return SitesResult(
        territory_label=prepared.label,
        objective=request.objective,
        unit=prepared.objective.unit,
        minutes=_minutes(request),
        count=request.count,
        result=result,
        sites=sites,
        coverage=coverage,
        alternatives=alternatives,
        sensitivity=sensitivity,
        communes=_communes_frame(prepared, result, coverage),
        geometries=prepared.geometries,
        fictional=inputs.fictional,
        notes=tuple(notes),
        co2=co2,
        one_more=one_more,
        objective_outside=outside[0],
        outside_covered=outside[1],
        names=_code_names(communes, setup.sites),
    )


def _commune_names(names: pd.Series) -> dict[str, str]:
    """Code -> name of every commune of the loaded file (a name missing: not there)."""
    return {
        str(code): str(name)
        for code, name in names.items()
        if isinstance(name, str) and name.strip()
    }


def _code_names(communes: Mapping[str, str], sites: SiteSet) -> dict[str, str]:
    """The loaded communes' names and every candidate's, a place's over its commune's
    (a candidate named by its code alone adds nothing)."""
    names = dict(communes)
    names.update(
        (code, name) for code, name in zip(sites.ids, sites.names, strict=True) if name != code
    )
    return names


def _one_more_frame(setup: _Setup, solution: _Solution) -> pd.DataFrame:
    """Every candidate with what one more site there would add (see ``SitesResult``)."""
    sites = setup.sites
    chosen = np.zeros(len(sites.ids), dtype=bool)
    chosen[list(solution.result.chosen)] = True
    points = sites.points.set_index("code")
    return pd.DataFrame(
        {
            "code": sites.ids,
            "nom": sites.names,
            "code_commune": sites.communes,
            "gain_site_supplementaire": solution.one_more(),
            "admissible": solution.allowed & ~chosen,
            "choisi": chosen,
            "latitude": points["latitude"].reindex(sites.ids).astype(float).to_numpy(),
            "longitude": points["longitude"].reindex(sites.ids).astype(float).to_numpy(),
        }
    )


def _rural_restriction(
    inputs: LoadedInputs,
    request: SitesRequest,
    codes_and_hosts: tuple[list[str], list[str]],
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray | None, frozenset[str]]:
    """Rurality of the communes, and the ``--rural`` restriction of candidates and demand.

    A candidate place is rural when its commune is; a commune whose rurality is unknown
    is not taken for rural.
    """
    codes, hosts = codes_and_hosts
    required = None if request.rural == "non" else Message.of("{rural} {m}", m=request.rural)
    table, definition = rurality(
        sorted(set(codes) | set(hosts)), inputs.zonages, inputs.densite, required=required
    )
    note = rural_definition_note(definition)
    if required is None:
        if definition != RuralDefinition.NONE:
            notes.append(note)  # what the ``rural`` column of the outputs means
        return table, None, frozenset()
    flags = table.set_index("code")["rural"].fillna(value=False).astype(bool)
    rural_sites = flags.reindex(hosts).fillna(value=False).to_numpy(dtype=bool)
    not_rural: frozenset[str] = frozenset()
    if request.rural == "candidats-et-demande":
        not_rural = frozenset(c for c in codes if not flags.get(c, False))
    notes.append(note)
    notes.append(
        Note.text(
            "Sites limités aux communes rurales ({rural} {m}) : {n} candidat(s) sur {t} "
            "admissibles{demand}.",
            m=request.rural,
            n=int(rural_sites.sum()),
            t=len(hosts),
            demand=_(
                " ; seule la demande des {r} commune(s) rurale(s) sur {c} est comptée",
                r=len(codes) - len(not_rural),
                c=len(codes),
            )
            if not_rural or request.rural == "candidats-et-demande"
            else _(" ; la demande de toutes les communes reste comptée"),
        )
    )
    return table, rural_sites, not_rural


def _site_set(
    request: SitesRequest,
    names: pd.Series,
    points: pd.DataFrame,
    existing: dict[str, str],
    engine: TravelTimeEngine,
    notes: list[str],
    files: SiteFiles,
) -> tuple[SiteSet, TravelTimeEngine]:
    """Candidates (communes, or the user's places) and the engine that reaches them."""
    codes = list(points["code"])
    if files.candidates is None or request.candidates is None:
        return SiteSet(codes, [str(names.get(c, c)) for c in codes], codes, points), engine
    places = locate_places(files.candidates, request.candidates, points, notes)
    if request.tiers_lieux_mode == "garder" and existing:
        hosts = points[points["code"].isin(sorted(existing))]
        host_frame = pd.DataFrame(
            {
                "identifiant": hosts["code"],
                "nom": [existing[c] for c in hosts["code"]],
                "latitude": hosts["latitude"],
                "longitude": hosts["longitude"],
                "code_commune": hosts["code"],
            }
        )
        places = pd.concat([places, host_frame], ignore_index=True)
    ids = [str(i) for i in places["identifiant"]]
    communes = [str(c) for c in places["code_commune"]]
    site_points = pd.DataFrame(
        {"code": ids, "latitude": places["latitude"], "longitude": places["longitude"]}
    )
    if engine.name == "table":
        engine = AnchoredEngine(engine, dict(zip(ids, communes, strict=True)))
    sites = SiteSet(ids, [str(n) for n in places["nom"]], communes, site_points, places=True)
    return sites, engine


def _sites_frame(result: SitingResult, candidates: Candidates, setup: _Setup) -> pd.DataFrame:
    sites = setup.sites
    lat = dict(zip(sites.points["code"], sites.points["latitude"].astype(float), strict=True))
    lon = dict(zip(sites.points["code"], sites.points["longitude"].astype(float), strict=True))
    rows = []
    for rank, site in enumerate(result.sites, start=1):
        code = sites.ids[site.index]
        kind = "" if candidates.kinds is None else candidates.kinds[site.index]
        available = (
            ";".join(sorted(candidates.themes[site.index]))
            if candidates.themes is not None
            else ";".join(site.themes)
        )
        rows.append(
            {
                "rang": rank,
                "code": code,
                "nom": sites.names[site.index],
                "valeur": site.value,
                "gain_marginal": site.marginal_gain,
                "theme": site.theme or available,
                "communaute_base": kind,
                "perte_si_retire": site.loss_if_removed,
                "nb_structures_communaute": (
                    int(candidates.structures[site.index])
                    if candidates.structures is not None
                    else pd.NA
                ),
                "themes_disponibles": available,
                "impose": site.fixed,
                "tiers_lieux_existants": setup.existing.get(code, ""),
                "intercommunalite": setup.groups[site.index] if setup.groups else "",
                "code_commune": sites.communes[site.index],
                "latitude": lat[code],
                "longitude": lon[code],
            }
        )
    return pd.DataFrame(rows)


def _outside_part(setup: _Setup, solution: _Solution) -> tuple[float, int]:
    """The objective's part from the covered communes outside the territory (with the
    weights the solver counted) and how many they are."""
    if setup.flow_model is not None or not len(setup.outside_demand):
        return 0.0, 0
    covered = np.asarray(solution.result.covered, dtype=int)
    beyond = covered[covered >= len(setup.codes)]
    return float(solution.weights[beyond].sum()), len(beyond)


def _outside_demand_note(
    setup: _Setup,
    request: SitesRequest,
    outside: tuple[float, int],
    covered: tuple[list[str], Mapping[str, str]],
) -> str:
    """Say whether the demand just outside the territory counts, and how much is covered
    (``covered``: codes of the outside communes covered, and the communes' names)."""
    if request.objective == "co2":
        return _(
            "Objectif CO₂ : seule la demande des communes du territoire compte (les "
            "communes voisines ne comptent que pour les communautés-base)."
        )
    if not request.neighbours:
        return Note.text("Demande limitée aux communes du territoire ({neighbours}).")
    if request.demand is not None:
        return _(
            "Demande lue dans {path} : seules les communes du territoire comptent.",
            path=request.demand,
        )
    if request.rural == "candidats-et-demande":
        return Note.text(
            "{rural} candidats-et-demande : la demande des communes voisines hors du "
            "territoire ne compte pas (leur caractère rural n'est pas lu)."
        )
    return Note.text(
        "Demande : les usagers potentiels des communes hors du territoire à moins de "
        "{m:g} minutes d'un candidat comptent (lus dans les mêmes sources ; "
        "{neighbours} pour s'en tenir au territoire) : {n} commune(s) "
        "voisine(s) lue(s), dont {c} couverte(s) par les sites choisis, soit {u} usagers "
        "potentiels ({codes}).",
        m=request.minutes,
        n=len(setup.outside_demand),
        c=outside[1],
        u=format_number(outside[0]),
        codes=named_codes(covered[0][:10], covered[1]) or _("aucune"),
    )


def _coverage_frame(
    result: SitingResult, matrix: sparse.csr_matrix, setup: _Setup, names: pd.Series
) -> pd.DataFrame:
    sites, codes, weights = setup.sites, setup.demand_codes, setup.demand_weights
    inside = len(setup.codes)
    rows = [
        {
            "code_site": sites.ids[site.index],
            "nom_site": sites.names[site.index],
            "code_commune": codes[int(i)],
            "nom_commune": names.get(codes[int(i)]),
            "demande": float(weights[int(i)]),
            "hors_territoire": int(i) >= inside,
        }
        for site in result.sites
        for i in matrix[site.index].indices
    ]
    columns = ["code_site", "nom_site", "code_commune", "nom_commune", "demande", "hors_territoire"]
    return pd.DataFrame(rows, columns=columns)


#: Seconds granted to each solve of the alternatives and of the sensitivity table, at
#: most (the tool's choice: about 2 × (K + 5) re-solves must not multiply the run time;
#: a solve stopped there reports its proven gap in its row).
SECONDARY_TIME_LIMIT = 5.0


def _secondary_limit(request: SitesRequest) -> float:
    return min(request.time_limit, SECONDARY_TIME_LIMIT)


def _alternatives(
    setup: _Setup, request: SitesRequest, base: SitingResult, report: _Reporter
) -> pd.DataFrame:
    ids, names = setup.sites.ids, setup.sites.names
    rows = []
    total = len(base.sites)
    for step, site in enumerate(base.sites, start=1):
        row: dict[str, object] = {
            "site_exclu": ids[site.index],
            "nom_site_exclu": names[site.index],
        }
        if site.fixed:
            row.update({"objectif": pd.NA, "perte": pd.NA, "sites": "", "remplacant": ""})
            row["message"] = _("Tiers-lieu existant gardé : pas d'alternative calculée.")
            rows.append(row)
            continue
        try:
            other = _solve(
                setup,
                request,
                _minutes(request),
                request.count,
                site.index,
                time_limit=_secondary_limit(request),
                progress=report.solver(
                    "alternatives",
                    _("Alternative sans le site {code}", code=ids[site.index]),
                    step=step,
                    total=total,
                ),
            ).result
        except InfeasibleError as error:
            row.update({"objectif": pd.NA, "perte": pd.NA, "sites": "", "remplacant": ""})
            row["message"] = str(error)
        else:
            entering = sorted(set(other.chosen) - set(base.chosen))
            row.update(
                {
                    "objectif": other.objective,
                    "perte": base.objective - other.objective,
                    "perte_pct": (
                        (base.objective - other.objective) / base.objective
                        if base.objective
                        else 0.0
                    ),
                    "sites": ";".join(ids[j] for j in other.chosen),
                    "remplacant": ";".join(f"{ids[j]} {names[j]}" for j in entering),
                    "ecart": other.gap,
                    "message": _limit_message(other),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _limit_message(result: SitingResult) -> str:
    if result.status != "time_limit":
        return ""
    return _(
        "Résolution arrêtée à {s:.0f} s (limite des tableaux secondaires) : écart prouvé {gap}.",
        s=result.seconds,
        gap=format_gap(result.gap),
    )


def _sensitivity(
    setup: _Setup, request: SitesRequest, base: SitingResult, report: _Reporter
) -> pd.DataFrame:
    ids = setup.sites.ids
    scenarios = [(m, request.count) for m in SENSITIVITY_MINUTES]
    scenarios += [(_minutes(request), k) for k in (request.count - 1, request.count + 1) if k >= 1]
    if (request.minutes, request.count) not in scenarios:
        scenarios.insert(0, (_minutes(request), request.count))
    base_set = set(base.chosen)
    rows = []
    for step, (minutes, count) in enumerate(scenarios, start=1):
        row: dict[str, object] = {"minutes": minutes, "nb_sites": count}
        if (minutes, count) == (request.minutes, request.count):
            res = base  # the request's own row: the main result, not solved again
        else:
            # The exclusion radius around existing places stays the one of the request.
            scenario = replace(
                request,
                minutes=minutes,
                exclusion_minutes=request.exclusion_minutes or request.minutes,
            )
            try:
                res = _solve(
                    setup,
                    scenario,
                    minutes,
                    count,
                    time_limit=_secondary_limit(request),
                    progress=report.solver(
                        "sensibilite",
                        _("Sensibilité : {m:.0f} min, {k} sites", m=minutes, k=count),
                        step=step,
                        total=len(scenarios),
                    ),
                ).result
            except InfeasibleError as error:
                row.update({"objectif": pd.NA, "message": str(error)})
                rows.append(row)
                continue
        row.update(
            {
                "objectif": res.objective,
                "part_couverte": res.objective / res.total_demand if res.total_demand else 0,
                "borne": res.bound,
                "ecart": res.gap,
                "solveur": res.solver,
                "sites": ";".join(ids[j] for j in res.chosen),
                "sites_communs_reference": len(base_set & set(res.chosen)),
                "message": _limit_message(res),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# Objective co2 with the per-flow rule (car commuter flows of a MOBPRO detail file)
# --------------------------------------------------------------------------------------


@dataclass
class _FlowModel:
    """Car commuter flows and their gains at the candidates, per catchment minutes."""

    flows: pd.DataFrame
    candidates: list[str]
    points: pd.DataFrame
    engine: TravelTimeEngine
    gain_minimal: float
    #: Tonnes per year (central take-up) for one kg CO₂e per working day of the ceiling.
    scale: float = 1.0
    cache: dict[float, sparse.csr_matrix] = field(default_factory=dict)

    def gains(
        self, minutes: float, codes: list[str], *, unserved: set[str] | None = None
    ) -> sparse.csr_matrix:
        """Flows × ``codes`` gains with a ``minutes`` limit, in tonnes CO₂e per year.

        The rule's kg CO₂e per working day (every eligible commuter every day) times
        :attr:`scale`, the central take-up factor.

        Flows living in a commune of ``unserved`` (already within reach of an existing
        tiers-lieu, ``--tiers-lieux-mode exclure``) gain nothing from a new site.
        """
        if minutes not in self.cache:
            self.cache[minutes] = flow_gains(
                self.flows,
                self.candidates,
                self.points,
                self.engine,
                minutes=minutes,
                gain_minimal=self.gain_minimal,
            ).gains.tocsc()
        full = self.cache[minutes]
        column = {c: i for i, c in enumerate(self.candidates)}
        chosen = sparse.csr_matrix(full[:, [column[c] for c in codes]] * self.scale)
        if unserved:
            keep = ~self.flows["residence"].isin(sorted(unserved)).to_numpy()
            chosen = (sparse.diags(keep.astype(np.float64)) @ chosen).tocsr()
            chosen.eliminate_zeros()
        return chosen

    def potential(self, minutes: float, codes: list[str]) -> np.ndarray:
        """Per residence commune: gain of its flows if every candidate were open."""
        best = np.asarray(self.gains(minutes, self.candidates).max(axis=1).toarray()).ravel()
        by_home = pd.Series(best).groupby(self.flows["residence"].to_numpy()).sum()
        return by_home.reindex(codes).fillna(0.0).to_numpy(dtype="float64")


def _co2_flow_model(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    territory: tuple[pd.DataFrame, list[str], SiteSet, TravelTimeEngine],
) -> tuple[_FlowModel | None, list[str]]:
    """The per-flow CO₂ model when a MOBPRO detail file is at hand, else None and why."""
    if request.demand is not None:
        return None, [
            Note.text(
                "Objectif CO₂ : demande fournie ({demand}), la règle par flux domicile-travail "
                "n'est pas appliquée."
            )
        ]
    census = inputs.mobpro
    if census is None:
        return None, [
            _("Objectif CO₂ : pas de fichier détail MOBPRO, règle par flux non appliquée.")
        ]
    path = census.location
    located, codes, sites, engine = territory
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(config={"memory_limit": settings.duckdb_memory_limit}) as con:
        mobpro = census.register(con)
        if mobpro.kind != "detail" or "trans" in mobpro.missing:
            return None, [
                _(
                    "Objectif CO₂ : le fichier MOBPRO ({path}) ne donne pas le mode de "
                    "transport (TRANS), règle par flux non appliquée.",
                    path=file_name(path),
                )
            ]
        car, how = car_trans_codes(mobpro.labels, mobpro.vintage)
        flows = car_flows(con, mobpro.view, residences=codes, car_codes=car)
        synthetic = mobpro.provenance.synthetic
    # Object codes: pandas' isin on Arrow strings is slow against a national file.
    known = pd.Index(located["code"].astype(object).unique())
    unplaced = ~(
        (known.get_indexer(flows["residence"].astype(object)) >= 0)
        & (known.get_indexer(flows["workplace"].astype(object)) >= 0)
    )
    dropped: list[str] = []
    if unplaced.any():
        dropped.append(
            _(
                "Objectif CO₂ : {n} flux ({w:.0f} navetteurs) vers des communes absentes du "
                "fichier des communes (fusionnées depuis le recensement ?) sont ignorés, "
                "par exemple {codes}.",
                n=int(unplaced.sum()),
                w=float(flows.loc[unplaced, "weight"].sum()),
                codes=", ".join(sorted(set(flows.loc[unplaced, "workplace"].astype(str)))[:5]),
            )
        )
        flows = flows[~unplaced].reset_index(drop=True)
    if synthetic:
        dropped.insert(0, synthetic_note())
    if inputs.fictional:
        dropped.insert(0, demo_note())
    points = located
    if sites.places:
        points = pd.concat([located, sites.points], ignore_index=True).drop_duplicates("code")
    model = _FlowModel(flows, list(sites.ids), points, engine, request.gain_minimal)
    note = Note.text(
        "Objectif CO₂, règle par flux (Mastio, Hörl, Balac, Loubière, ANT 2023) : "
        "{n} flux domicile-travail en voiture ({how}) de {file}, {w:.0f} navetteurs ; un "
        "flux utilise un site à moins de {m:.0f} min de chez lui qui lui fait gagner au "
        "moins {g:.0f} min ({gain_minimal}, valeur par défaut de l'outil) ; gain = "
        "2 × (km domicile-travail − km domicile-site) par jour ouvré (km = vol d'oiseau × "
        "détour), à {factor} kgCO₂e/km ({source}). Ce gain est un plafond (chaque "
        "navetteur éligible viendrait chaque jour ouvré) que le modèle de fréquentation "
        "ramène à des tonnes par an ; la demande par commune affichée est le gain de ses "
        "résidents si tous les candidats étaient ouverts.",
        n=len(flows),
        how=how,
        file=path,
        w=float(flows["weight"].sum()) if len(flows) else 0.0,
        m=request.minutes,
        g=request.gain_minimal,
        factor=CAR_EMISSION_FACTOR_KG_PER_KM,
        source=_(CAR_EMISSION_FACTOR_SOURCE),
    )
    return model, [note, *dropped]


@dataclass(frozen=True)
class _ObjectiveInputs:
    """Demand per commune, its unit, the flow model and take-up (objective co2)."""

    weights: np.ndarray
    unit: str
    flow_model: _FlowModel | None
    uptake: Uptake | None
    notes: list[str]
    #: Objective couverture: demand of the communes just outside the territory.
    outside: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))


def _objective(
    settings: Settings,
    inputs: LoadedInputs,
    request: SitesRequest,
    territory: tuple[pd.DataFrame, list[str], SiteSet, TravelTimeEngine],
    report: _Reporter,
    files: SiteFiles,
) -> _ObjectiveInputs:
    """Weights of the objective: coverage (users), or co2 (per flow, else per user).

    With the per-flow rule, the diagnostic is not run: the flows give the demand.
    """
    codes = territory[1]
    notes: list[str] = []
    flow_model = None
    take_up = None
    if request.objective == "co2":
        take_up = _take_up(request, files.respondents, codes, notes)
        report("recensement", _("Lecture des flux domicile-travail en voiture (recensement)"))
        flow_model, flow_notes = _co2_flow_model(settings, inputs, request, territory)
        notes[:0] = flow_notes
    unit = _("t CO₂e évitées par an (estimation centrale)")
    if flow_model is not None and take_up is not None:
        report("flux", _("Gains de chaque flux aux sites candidats"))
        flow_model.scale = take_up.factor().central
        if request.respondents is not None:
            notes.append(
                Note.text(
                    "Objectif CO₂ par flux : les répondants ({respondents}) donnent les jours "
                    "par semaine ; la demande vient des flux du recensement."
                )
            )
        weights = flow_model.potential(_minutes(request), codes)
        return _ObjectiveInputs(weights, unit, flow_model, take_up, notes)
    report("recensement", _("Diagnostic du recensement (usagers potentiels)"))
    # Objective couverture: the potential users just outside the territory count too
    # (not with ``--rural candidats-et-demande``: their rurality is not read).
    neighbours = take_up is None and request.neighbours and request.rural != "candidats-et-demande"
    read = _demand(settings, inputs, request, codes, files.demand, neighbours=neighbours)
    notes[:0] = read.notes
    weights = read.demand.to_numpy(dtype="float64")
    if files.respondents is not None and request.respondents is not None:
        respondents = respondents_per_commune(files.respondents, request.respondents, codes, notes)
        weights = weights + respondents
    if take_up is None:
        unit = _("usagers potentiels couverts")
        return _ObjectiveInputs(weights, unit, None, None, notes, read.outside)
    weights = _co2_per_user(settings, read.km, codes, weights, notes, take_up.factor().central)
    return _ObjectiveInputs(weights, unit, None, take_up, notes)


def _take_up(
    request: SitesRequest, respondents: pd.DataFrame | None, codes: list[str], notes: list[str]
) -> Uptake:
    """Take-up assumptions: the options, else the questionnaire's days, else defaults."""
    answers = None
    path = request.respondents
    if respondents is not None and path is not None and request.days_per_week is None:
        answers = _respondent_days(respondents, path, set(codes), notes)
    model = uptake(
        users_share=request.users_share,
        days_per_week=request.days_per_week,
        working_days=request.working_days,
        questionnaire=answers,
    )
    factor = model.factor()
    notes.append(
        _(
            "Fréquentation (objectif CO₂) : t CO₂e/an = plafond en kg par jour ouvré × part "
            "des navetteurs éligibles qui viendraient ({p}) × jours par semaine / 5 ({d}) × "
            "{j} jours ouvrés par an / 1000, moins l'effet rebond ({r}) pour l'estimation "
            "basse : {low} / {central} / {high} t par an pour 1 000 kg par jour ouvré de "
            "plafond (bas / central / haut ; hypothèses et sources dans hypotheses_co2.csv). "
            "Ce facteur est le même pour tous les flux et tous les sites : il change les "
            "tonnes affichées, pas le choix des sites ; les tableaux donnent l'estimation "
            "centrale.",
            p=_range_text(model.users_share, percent=True),
            d=_range_text(model.days_per_week),
            j=format_number(model.working_days),
            r=format_percent(model.rebound),
            low=format_number(factor.low * 1000, 1),
            central=format_number(factor.central * 1000, 1),
            high=format_number(factor.high * 1000, 1),
        )
    )
    return model


def _range_text(value: Range, *, percent: bool = False) -> str:
    def one(x: float) -> str:
        return format_percent(x, 1) if percent else format_number(x, 1)

    if value.low == value.central == value.high:
        return one(value.central)
    return f"{one(value.low)} / {one(value.central)} / {one(value.high)}"


def _respondent_days(
    frame: pd.DataFrame, path: Path, codes: set[str], notes: list[str]
) -> tuple[Range, int] | None:
    """Days per week answered by the respondents of the territory (``respondents.csv``
    read from ``path``).

    Column ``jours_par_semaine`` (written by ``tierslieux survey analyse``); an older
    file without it gives a note and the default.  A value that is not a number of days
    between 0 and 7 is refused with its line.
    """
    if "jours_par_semaine" not in frame.columns:
        notes.append(
            _(
                "{path} : pas de colonne jours_par_semaine (fichier écrit par une version "
                "précédente ?) : jours par semaine par défaut, cités.",
                path=file_name(path),
            )
        )
        return None
    answers: list[float] = []
    for line, (commune, raw) in enumerate(
        zip(frame["commune"].fillna(""), frame["jours_par_semaine"].fillna(""), strict=True),
        start=2,
    ):
        text = str(raw).strip().replace(",", ".")
        if not text or str(commune).strip() not in codes:
            continue
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 7:
            raise SchemaError(
                _(
                    "{path}, ligne {line} : jours_par_semaine « {v} » invalide (nombre de "
                    "jours entre 0 et 7 attendu).",
                    path=path,
                    line=line,
                    v=raw,
                )
            )
        answers.append(value)
    found = questionnaire_days(answers)
    if found is None:
        notes.append(
            _(
                "{path} : aucun répondant du territoire n'indique un nombre de jours par "
                "semaine (non nul) : jours par semaine par défaut, cités.",
                path=file_name(path),
            )
        )
    elif zeros := sum(1 for a in answers if a == 0):
        notes.append(
            _(
                "{path} : {z} répondant(s) ne viendraient aucun jour ; la part des usagers "
                "reste celle des publications citées.",
                path=file_name(path),
                z=zeros,
            )
        )
    return found


def _co2_estimate(
    model: Uptake,
    result: SitingResult,
    sites: pd.DataFrame,
    coverage: pd.DataFrame,
    notes: list[str],
) -> Co2Estimate:
    """Tonnes per year (range), per-day detail; sites gain their columns (in place)."""
    factor = model.factor()
    low, high = factor.low / factor.central, factor.high / factor.central
    value = result.objective
    tonnes = Range(value * low, value, value * high)
    kg_per_day = value * 1000.0 / model.working_days
    ceiling = value / factor.central
    position = sites.columns.get_loc("valeur")
    assert isinstance(position, int)  # noqa: S101  (one column of that name)
    sites.insert(position + 1, "tonnes_co2e_an_bas", sites["valeur"] * low)
    sites.insert(position + 2, "tonnes_co2e_an_haut", sites["valeur"] * high)
    sites.insert(position + 3, "kg_co2e_jour_ouvre", sites["valeur"] * 1000.0 / model.working_days)
    if "navetteurs" in coverage.columns:
        commuters = coverage.groupby("code_site")["navetteurs"].sum()
        sites["navetteurs_eligibles"] = sites["code"].map(commuters).fillna(0.0)
        sites["usagers_estimes"] = sites["navetteurs_eligibles"] * model.users_share.central
    rows = model.rows()
    rows.append(
        {
            "parametre": _("résultat : t CO₂e évitées par an"),
            "bas": tonnes.low,
            "central": tonnes.central,
            "haut": tonnes.high,
            "source": _("calcul de l'outil (les hypothèses ci-dessus)"),
        }
    )
    rows.append(
        {
            "parametre": _("détail : kg CO₂e évités par jour ouvré (moyenne)"),
            "bas": tonnes.low * 1000.0 / model.working_days,
            "central": kg_per_day,
            "haut": tonnes.high * 1000.0 / model.working_days,
            "source": _("t par an × 1000 / jours ouvrés"),
        }
    )
    rows.append(
        {
            "parametre": _("plafond : kg CO₂e par jour ouvré si chaque navetteur éligible venait"),
            "bas": ceiling,
            "central": ceiling,
            "haut": ceiling,
            "source": _("règle par flux ou par usager, avant le modèle de fréquentation"),
        }
    )
    notes.append(
        _(
            "CO₂ évité par les sites retenus : {central} t CO₂e par an (fourchette {low} à "
            "{high}), soit en moyenne {day} kg par jour ouvré ; plafond si chaque navetteur "
            "éligible venait chaque jour : {ceiling} kg par jour ouvré.",
            central=format_number(tonnes.central, 1),
            low=format_number(tonnes.low, 1),
            high=format_number(tonnes.high, 1),
            day=format_number(kg_per_day),
            ceiling=format_number(ceiling),
        )
    )
    return Co2Estimate(model, tonnes, kg_per_day, ceiling, pd.DataFrame(rows))
