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
themes joining the site's (those files are read by :mod:`tierslieux._sites_inputs`).
The optimisers are :func:`tierslieux.analysis.optimise.solve_max_coverage` and, for
the per-flow CO₂ objective, :func:`~tierslieux.analysis.optimise.solve_max_benefit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from tierslieux._sites_inputs import (
    NO_COMMUNITY_NOTE,
    Candidates,
    CommunityRule,
    SiteSet,
    base_communities,
    locate_places,
    respondents_per_commune,
)
from tierslieux.analysis.catchment import catchment_pairs
from tierslieux.analysis.commute_co2 import (
    DEFAULT_GAIN_MINIMAL,
    car_flows,
    car_trans_codes,
    flow_gains,
)
from tierslieux.analysis.optimise import solve_max_benefit, solve_max_coverage
from tierslieux.analysis.territory import select_communes
from tierslieux.analysis.traveltime import AnchoredEngine, sparse_within_to_csr
from tierslieux.errors import InfeasibleError, SchemaError, TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.model.rurality import RURAL_FOCUS, RuralDefinition, rural_definition_note
from tierslieux.model.siting import (
    CAR_EMISSION_FACTOR_KG_PER_KM,
    CAR_EMISSION_FACTOR_SOURCE,
    SitingResult,
    co2_weights,
)
from tierslieux.model.territory import parse_territory
from tierslieux.model.traveltime import DEFAULT_SPEED_KMH
from tierslieux.pipeline import (
    DiagnoseRequest,
    _engine,
    _find_one,
    _resolve_mobpro,
    _resolve_zonages,
    demo_files,
    possibly_within,
    resolve_communes,
    resolve_densite,
    run_diagnosis,
    rurality,
)
from tierslieux.sources._files import read_csv_strings
from tierslieux.sources.communes import load_commune_list, load_communes
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.places import load_tiers_lieux
from tierslieux.sources.zonages import load_zonages

if TYPE_CHECKING:
    from tierslieux.config import Settings
    from tierslieux.model.traveltime import TravelTimeEngine
    from tierslieux.sources.zonages import Zonages

__all__ = ["OBJECTIVES", "TIERS_LIEUX_MODES", "SitesRequest", "SitesResult", "run_sites"]

OBJECTIVES = ("couverture", "co2")
TIERS_LIEUX_MODES = ("garder", "exclure")
SENSITIVITY_MINUTES = (15.0, 20.0, 30.0)


@dataclass(frozen=True)
class SitesRequest:
    """What the user asked for (paths optional: resolved as for the diagnostic)."""

    territory: str
    count: int
    minutes: float = 20.0
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
    #: Structures and questionnaire groups just outside the territory, within reach of a
    #: candidate, count for its base community (the demand stays the territory's).
    neighbours: bool = True


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


def _territory(
    settings: Settings, request: SitesRequest
) -> tuple[pd.DataFrame, list[str], dict[str, dict[str, Any]], str, Zonages | None]:
    if request.demo:
        files = demo_files()
        communes = load_communes(files["communes"])
        zonages: Zonages | None = (
            load_zonages(request.zonages)
            if request.zonages is not None
            else load_zonages(files["zonages"], files["labels"])
        )
    else:
        communes = resolve_communes(settings, request.communes)
        zonages = _resolve_zonages(settings, request.zonages)
    territory = parse_territory(request.territory)
    listed = load_commune_list(Path(territory.code)) if territory.kind == "communes" else None
    codes = select_communes(
        territory, communes.table, zonages.table if zonages else None, listed=listed
    )
    label = _("Territoire fictif de démonstration") if request.demo else territory.label()
    geometries = {c: g for c, g in communes.geometries.items() if c in set(codes)}
    return communes.table, codes, geometries, label, zonages


def _existing_places(
    settings: Settings,
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
    if path is None and not request.demo:
        path = _find_one(settings, None, "tiers_lieux")
    if path is None:
        if request.tiers_lieux_mode == "exclure":
            return {}, [
                _(
                    "--tiers-lieux-mode exclure sans fichier des tiers-lieux existants "
                    "(--tiers-lieux, ou CGET_TiersLieux_2019.csv dans --data) : aucun lieu "
                    "n'est exclu."
                )
            ]
        return {}, []
    exclude = request.tiers_lieux_mode == "exclure"
    places, _prov = load_tiers_lieux(path, communes=None if exclude else codes)
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
    note = _(
        "Tiers-lieux existants ({path}) : {n} lieu(x) dans {c} commune(s) du territoire, {how}.",
        path=path,
        n=len(places) - outside,
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
    limit = max(request.exclusion_minutes or request.minutes, request.minutes)
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
            _(
                "--min-par-epci demande l'intercommunalité de chaque commune : fournissez "
                "les zonages (--zonages, ou un fichier de zonages dans --data)."
            )
        )
    epci = zonages.table.set_index("code")["epci"].reindex(codes)
    names = zonages.labels.get("epci", {})
    labels = [f"{names.get(str(e), str(e))} ({e})" if pd.notna(e) and str(e) else "" for e in epci]
    distinct = sorted({g for g in labels if g})
    need = request.min_per_epci * len(distinct)
    if need > request.count:
        raise InfeasibleError(
            _(
                "Vous demandez au moins {m} site(s) par intercommunalité : les {e} "
                "intercommunalités du territoire en exigent {need}, plus que les {k} sites "
                "demandés. Demandez au moins {need} sites ou baissez --min-par-epci.",
                m=request.min_per_epci,
                e=len(distinct),
                need=need,
                k=request.count,
            )
        )
    return labels, dict.fromkeys(distinct, request.min_per_epci)


def _demand(
    settings: Settings, request: SitesRequest, codes: list[str]
) -> tuple[pd.Series, pd.Series | None, list[str]]:
    """Return demand per code, optional one-way commute km per code, and notes."""
    notes: list[str] = []
    if request.demand is not None:
        frame = read_csv_strings(request.demand, role="demande")
        missing = [c for c in ("code", "demand") if c not in frame.columns]
        if missing:
            raise SchemaError(
                _(
                    "{path} : colonne(s) {missing} manquante(s) (attendu : code,demand[,km]).",
                    path=request.demand,
                    missing=", ".join(missing),
                )
            )
        values = pd.to_numeric(frame["demand"].str.replace(",", "."), errors="coerce")
        if values.isna().any() or (values < 0).any():
            raise SchemaError(
                _("{path} : demande vide, non numérique ou négative.", path=request.demand)
            )
        keys = frame["code"].fillna("").str.strip()
        repeated = sorted(set(keys[keys.duplicated()]))
        if repeated:
            raise SchemaError(
                _(
                    "{path} : code(s) en double : {codes} (une ligne par commune attendue).",
                    path=request.demand,
                    codes=", ".join(repeated[:10]),
                )
            )
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
        if "km" in frame.columns:
            km = pd.Series(
                pd.to_numeric(frame["km"].str.replace(",", "."), errors="coerce").to_numpy(),
                index=demand.index,
            )
        notes.append(_("Demande lue dans {path}.", path=request.demand))
        return demand.reindex(codes).fillna(0.0), km, notes
    diagnosis = run_diagnosis(
        settings,
        DiagnoseRequest(
            territory=request.territory,
            communes=request.communes,
            mobpro=request.mobpro,
            travel_times=request.travel_times,
            minutes=request.minutes,
            demo=request.demo,
            # Only the potential per commune is used: catchments need no neighbours here.
            neighbours=False,
        ),
    )
    # The definition of "rural" is said once, by the site selection itself.
    rural_note = rural_definition_note(diagnosis.rural_definition)
    notes.extend(n for n in diagnosis.notes if n != rural_note)
    if diagnosis.mobpro_kind == "flux":
        raise SchemaError(
            _(
                "Le fichier des flux ne donne pas les usagers potentiels : fournissez le "
                "fichier détail MOBPRO ou une demande --demand code,demand."
            )
        )
    table = diagnosis.communes.set_index("code")["potentiel"].astype("float64")
    return table.reindex(codes).fillna(0.0), None, notes


def _rule(request: SitesRequest) -> CommunityRule:
    return CommunityRule(
        request.structures, request.groups, request.min_structures, request.min_members
    )


def _site_pairs(setup: _Setup, minutes: float) -> pd.DataFrame:
    """Candidate -> communes within ``minutes`` (each candidate covers its own commune)."""
    if not setup.sites.places:
        return catchment_pairs(setup.engine, setup.points, minutes)
    found = setup.engine.within(setup.sites.points, setup.points, minutes)
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



def _near_existing(setup: _Setup, radius: float, minutes: float) -> tuple[set[str], set[str]]:
    """Communes within ``radius`` of an existing place (no new site there) and within
    ``minutes`` of one (their demand is served already)."""
    hosts = set(setup.existing)
    host_points = setup.host_points
    if host_points is None or host_points.empty:
        return hosts, hosts
    from_hosts = setup.engine.within(host_points, setup.points, max(radius, minutes))
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
        radius = request.exclusion_minutes or request.minutes
        served = _near_existing(setup, radius, request.minutes)[1]
    served |= setup.not_rural_demand
    chosen = list(result.chosen)
    gains = model.gains(request.minutes, setup.sites.ids, unserved=served)[:, chosen]
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
        }
    )


def _solve(
    setup: _Setup, request: SitesRequest, minutes: float, count: int, exclude: int | None = None
) -> tuple[SitingResult, Candidates, sparse.csr_matrix]:
    sites = setup.sites
    pairs = _site_pairs(setup, minutes)
    matrix = sparse_within_to_csr(pairs, sites.ids, setup.codes)
    community_pairs = pairs
    if setup.neighbour_points is not None and len(setup.neighbour_points):
        outside = setup.engine.within(sites.points, setup.neighbour_points, minutes)
        community_pairs = pd.concat([pairs, outside], ignore_index=True)
    candidates, _notes = base_communities(_rule(request), community_pairs, sites)
    allowed = (
        candidates.community.copy()
        if candidates.community is not None
        else np.ones(len(sites.ids), dtype=bool)
    )
    distinct = request.distinct_themes and candidates.themes is not None
    themes = list(candidates.themes) if candidates.themes is not None else None
    weights = setup.weights
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
        weights = np.where(np.isin(np.asarray(setup.codes), sorted(served)), 0.0, weights)
        if int(allowed.sum()) < count:
            raise InfeasibleError(
                _(
                    "Vous demandez {k} sites mais seuls {n} candidats restent admissibles une "
                    "fois exclues les communes à moins de {m:.0f} minutes d'un tiers-lieu "
                    "existant ({c} candidats sur {t} ont une communauté-base avant cette "
                    "exclusion) : demandez moins de sites, réduisez --exclusion-minutes ou "
                    "gardez les tiers-lieux existants (--tiers-lieux-mode garder).",
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
        weights = np.where(np.isin(np.asarray(setup.codes), sorted(served)), 0.0, weights)
    if exclude is not None:
        allowed[exclude] = False
    if candidates.community is not None and fixed:
        # Said here: the optimiser would count the imposed sites among those with one.
        _check_new_communities(allowed, fixed, count)
    # Objective co2 with the per-flow rule: the same constraints, gains per car flow.
    solve = (
        partial(solve_max_benefit, setup.flow_model.gains(minutes, sites.ids, unserved=served))
        if setup.flow_model is not None
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
        time_limit=request.time_limit,
    )
    return result, candidates, matrix


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
            _(
                "Communauté-base exigée dans le bassin de chaque site : au moins "
                "{s} structure(s) des étapes 1, 2 ou 4 — CAE, SCOP/SCIC du numérique, "
                "associations — (--min-structures) ou un groupe du questionnaire d'au "
                "moins {m} membres (--min-membres, --groups) ; les intercommunalités, "
                "Pays et parcs (étape 3) sont des partenaires et ne suffisent pas seuls : "
                "complétez l'annuaire (--sirene-etablissements, --rna, --acteurs de "
                "« tierslieux communities ») ou ajoutez les groupes du questionnaire.",
                s=request.min_structures,
                m=request.min_members,
            )
        )
        if request.distinct_themes:
            levers.append(
                _("Thèmes différents exigés d'un site à l'autre (--themes-libres pour lever).")
            )
    if request.rural != "non":
        levers.append(_("Sites limités aux communes rurales (--rural {m}).", m=request.rural))
    if request.min_per_epci:
        levers.append(
            _(
                "Minimum de {m} site(s) par intercommunalité (--min-par-epci) : les « groupes » "
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
) -> tuple[np.ndarray, str]:
    """Objective co2 without a MOBPRO detail file: users × commute km × factor."""
    default_km = settings.long_commute_minutes * DEFAULT_SPEED_KMH / 60.0
    km_values = (
        km.reindex(codes).fillna(default_km).to_numpy(dtype="float64")
        if km is not None
        else np.full(len(codes), default_km)
    )
    weights = np.asarray(co2_weights(list(weights), list(km_values)))
    unit = _("kg CO₂e évités par jour ouvré")
    notes.append(
        _(
            "Objectif CO₂ : chaque usager couvert évite l'aller-retour de son trajet en "
            "voiture ({km:.0f} km aller par défaut = trajet long de {minutes:.0f} min à "
            "{speed:.0f} km/h, une borne basse ; colonne km de --demand sinon), à "
            "{factor} kgCO₂e/km ({source}).",
            km=default_km,
            minutes=settings.long_commute_minutes,
            speed=DEFAULT_SPEED_KMH,
            factor=CAR_EMISSION_FACTOR_KG_PER_KM,
            source=CAR_EMISSION_FACTOR_SOURCE,
        )
    )
    return weights, unit


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
    if request.minutes <= 0 or (
        request.exclusion_minutes is not None and request.exclusion_minutes <= 0
    ):
        raise SchemaError(_("Les seuils en minutes doivent être strictement positifs."))
    if request.time_limit <= 0:
        raise SchemaError(_("--time-limit doit être un nombre de secondes strictement positif."))
    if request.min_per_epci < 0:
        raise SchemaError(_("--min-par-epci doit être positif ou nul."))
    if request.rural not in RURAL_FOCUS:
        raise SchemaError(
            _("--rural « {m} » inconnu : {known}.", m=request.rural, known=", ".join(RURAL_FOCUS))
        )


def run_sites(settings: Settings, request: SitesRequest) -> SitesResult:  # noqa: PLR0915
    """Choose ``request.count`` experimentation sites and explain the choice.

    Returns
    -------
    SitesResult
        Ranked sites, coverage by commune, alternatives (each chosen site excluded in
        turn) and sensitivity (15, 20, 30 minutes; K-1 and K+1 sites).

    Raises
    ------
    InfeasibleError
        The constraints cannot be met (explained in the user's terms).
    """
    _check_request(request)
    table, codes, geometries, label, zonages = _territory(settings, request)
    demand, km, notes = _demand(settings, request, codes)
    if request.groups is not None:
        notes.append(
            _(
                "Groupes du questionnaire ({path}) : un groupe est une communauté-base d'un "
                "site quand au moins {m} de ses membres habitent son bassin ; ses thèmes "
                "s'ajoutent à ceux du site.",
                path=request.groups,
                m=request.min_members,
            )
        )
    weights = demand.to_numpy(dtype="float64")
    if request.respondents is not None:
        weights = weights + respondents_per_commune(request.respondents, codes, notes)
    engine, _prov = _engine(settings, request.travel_times)
    # Coordinates of every commune of the file (workplaces and neighbours included).
    located = table[["code", "latitude", "longitude"]].dropna().drop_duplicates("code")
    names = table.drop_duplicates("code").set_index("code")["nom"]
    points = located[located["code"].isin(codes)].reset_index(drop=True)
    missing = sorted(set(codes) - set(points["code"]))
    if missing:
        notes.append(
            _("Communes sans coordonnées, ignorées : {codes}.", codes=", ".join(missing[:10]))
        )
        keep = [c for c in codes if c not in set(missing)]
        weights = weights[[codes.index(c) for c in keep]]
        codes = keep
    existing, existing_notes = _existing_places(settings, request, codes, (located, engine))
    notes.extend(existing_notes)
    site_set, engine = _site_set(request, names, points, existing, engine, notes)
    flow_model, weights, unit = _co2_flow_hook(
        settings, request, (located, codes, site_set, engine), weights, notes
    )
    if request.objective == "co2" and flow_model is None:
        weights, unit = _co2_per_user(settings, km, codes, weights, notes)
    if request.tiers_lieux_mode == "garder" and len(existing) > request.count:
        raise InfeasibleError(
            _(
                "{f} communes du territoire ont déjà un tiers-lieu, gardées comme sites "
                "(--tiers-lieux-mode garder), mais vous ne demandez que {k} sites : "
                "demandez au moins {f} sites ou utilisez --tiers-lieux-mode exclure.",
                f=len(existing),
                k=request.count,
            )
        )
    groups, mins = _epci_groups(request, zonages, site_set.communes)
    host_points = located[located["code"].isin(sorted(existing))].reset_index(drop=True)
    neighbour_points = (
        possibly_within(
            points,
            located[~located["code"].isin(set(codes))],
            max(request.minutes, *SENSITIVITY_MINUTES),  # the sensitivity rows reach farther
        )
        if request.neighbours and (request.structures is not None or request.groups is not None)
        else None
    )
    rural_table, rural_sites, not_rural = _rural_restriction(
        settings, request, zonages, (codes, site_set.communes), notes
    )
    setup = _Setup(
        codes,
        weights,
        engine,
        points,
        site_set,
        existing,
        groups,
        mins,
        flow_model,
        host_points,
        rural_sites,
        not_rural,
        neighbour_points,
    )
    try:
        result, candidates, matrix = _solve(setup, request, request.minutes, request.count)
    except InfeasibleError as error:
        raise InfeasibleError(" ".join([str(error), *_levers(request)])) from error
    if request.structures is None and request.groups is None:
        notes.append(NO_COMMUNITY_NOTE())
    sites = _sites_frame(result, candidates, setup)
    if candidates.reach is not None:
        # Who makes each site's base community (steps 1, 2, 4 and groups), and the
        # step-3 partners to call, separately: the table says what the site rests on.
        reach = candidates.reach.iloc[[s.index for s in result.sites]]
        at = list(sites.columns).index("communaute_base") + 1
        for offset, column in enumerate(("structures_communaute", "groupes", "partenaires")):
            sites.insert(at + offset, column, reach[column].to_numpy())
    coverage = (
        _flow_coverage(result, setup, request, names)
        if setup.flow_model is not None
        else _coverage_frame(result, matrix, setup, names)
    )
    alternatives = _alternatives(setup, request, result)
    sensitivity = _sensitivity(setup, request, result)
    communes = pd.DataFrame(
        {
            "code": codes,
            "nom": names.reindex(codes).to_numpy(),
            "demande": weights,
        }
    ).merge(points, on="code", how="left")
    chosen_communes = {site_set.communes[s.index] for s in result.sites}
    covering = coverage.groupby("code_commune")["code_site"].agg(lambda s: ";".join(sorted(s)))
    communes["couvert_par"] = communes["code"].map(covering).fillna("")
    communes["site"] = communes["code"].isin(chosen_communes)
    communes = communes.merge(rural_table, on="code", how="left")
    sites["rural"] = (
        sites["code_commune"].map(rural_table.set_index("code")["rural"]).astype("boolean")
    )
    return SitesResult(
        territory_label=label,
        objective=request.objective,
        unit=unit,
        minutes=request.minutes,
        count=request.count,
        result=result,
        sites=sites,
        coverage=coverage,
        alternatives=alternatives,
        sensitivity=sensitivity,
        communes=communes,
        geometries=geometries,
        fictional=request.demo,
        notes=tuple(notes),
    )


def _rural_restriction(
    settings: Settings,
    request: SitesRequest,
    zonages: Zonages | None,
    codes_and_hosts: tuple[list[str], list[str]],
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray | None, frozenset[str]]:
    """Rurality of the communes, and the ``--rural`` restriction of candidates and demand.

    A candidate place is rural when its commune is; a commune whose rurality is unknown
    is not taken for rural.
    """
    codes, hosts = codes_and_hosts
    densite = resolve_densite(settings, request.densite)
    required = "" if request.rural == "non" else f"--rural {request.rural}"
    table, definition = rurality(
        sorted(set(codes) | set(hosts)), zonages, densite, required=required
    )
    note = rural_definition_note(definition)
    if not required:
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
        _(
            "Sites limités aux communes rurales (--rural {m}) : {n} candidat(s) sur {t} "
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
) -> tuple[SiteSet, TravelTimeEngine]:
    """Candidates (communes, or the user's places) and the engine that reaches them."""
    codes = list(points["code"])
    if request.candidates is None:
        return SiteSet(codes, [str(names.get(c, c)) for c in codes], codes, points), engine
    places = locate_places(request.candidates, points, notes)
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


def _coverage_frame(
    result: SitingResult, matrix: sparse.csr_matrix, setup: _Setup, names: pd.Series
) -> pd.DataFrame:
    sites, codes = setup.sites, setup.codes
    rows = [
        {
            "code_site": sites.ids[site.index],
            "nom_site": sites.names[site.index],
            "code_commune": codes[int(i)],
            "nom_commune": names.get(codes[int(i)]),
            "demande": float(setup.weights[int(i)]),
        }
        for site in result.sites
        for i in matrix[site.index].indices
    ]
    columns = ["code_site", "nom_site", "code_commune", "nom_commune", "demande"]
    return pd.DataFrame(rows, columns=columns)


def _alternatives(setup: _Setup, request: SitesRequest, base: SitingResult) -> pd.DataFrame:
    ids, names = setup.sites.ids, setup.sites.names
    rows = []
    for site in base.sites:
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
            other, _c, _m = _solve(setup, request, request.minutes, request.count, site.index)
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
                    "message": "",
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _sensitivity(setup: _Setup, request: SitesRequest, base: SitingResult) -> pd.DataFrame:
    ids = setup.sites.ids
    scenarios = [(m, request.count) for m in SENSITIVITY_MINUTES]
    scenarios += [(request.minutes, k) for k in (request.count - 1, request.count + 1) if k >= 1]
    if (request.minutes, request.count) not in scenarios:
        scenarios.insert(0, (request.minutes, request.count))
    base_set = set(base.chosen)
    rows = []
    for minutes, count in scenarios:
        row: dict[str, object] = {"minutes": minutes, "nb_sites": count}
        try:
            # The exclusion radius around existing places stays the one of the request.
            scenario = replace(
                request,
                minutes=minutes,
                exclusion_minutes=request.exclusion_minutes or request.minutes,
            )
            res, _c, _m = _solve(setup, scenario, minutes, count)
        except InfeasibleError as error:
            row.update({"objectif": pd.NA, "message": str(error)})
        else:
            row.update(
                {
                    "objectif": res.objective,
                    "part_couverte": res.objective / res.total_demand if res.total_demand else 0,
                    "borne": res.bound,
                    "ecart": res.gap,
                    "solveur": res.solver,
                    "sites": ";".join(ids[j] for j in res.chosen),
                    "sites_communs_reference": len(base_set & set(res.chosen)),
                    "message": "",
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
    cache: dict[float, sparse.csr_matrix] = field(default_factory=dict)

    def gains(
        self, minutes: float, codes: list[str], *, unserved: set[str] | None = None
    ) -> sparse.csr_matrix:
        """Flows × ``codes`` gains (kg CO₂e per working day) with a ``minutes`` limit.

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
        chosen = full[:, [column[c] for c in codes]].tocsr()
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
    request: SitesRequest,
    territory: tuple[pd.DataFrame, list[str], SiteSet, TravelTimeEngine],
) -> tuple[_FlowModel | None, list[str]]:
    """The per-flow CO₂ model when a MOBPRO detail file is at hand, else None and why."""
    if request.demand is not None:
        return None, [
            _(
                "Objectif CO₂ : demande fournie (--demand), la règle par flux domicile-travail "
                "n'est pas appliquée."
            )
        ]
    path: Path | None = request.mobpro
    if path is None and request.demo:
        found = sorted((settings.cache_dir / "demo").glob("*MOBPRO*.csv"))
        path = found[0] if found else None
    if path is None and not request.demo:
        try:
            path = _resolve_mobpro(settings, None)
        except TierslieuxError:
            path = None
    if path is None:
        return None, [
            _("Objectif CO₂ : pas de fichier détail MOBPRO, règle par flux non appliquée.")
        ]
    located, codes, sites, engine = territory
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(config={"memory_limit": settings.duckdb_memory_limit}) as con:
        mobpro = open_mobpro(path, con, cache_dir=settings.cache_dir / "mobpro")
        if mobpro.kind != "detail" or "trans" in mobpro.missing:
            return None, [
                _(
                    "Objectif CO₂ : le fichier MOBPRO ({path}) ne donne pas le mode de "
                    "transport (TRANS), règle par flux non appliquée.",
                    path=path,
                )
            ]
        car, how = car_trans_codes(mobpro.labels, mobpro.vintage)
        flows = car_flows(con, mobpro.view, residences=codes, car_codes=car)
    known = set(located["code"].astype(str))
    unplaced = ~(flows["residence"].isin(known) & flows["workplace"].isin(known))
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
    points = located
    if sites.places:
        points = pd.concat([located, sites.points], ignore_index=True).drop_duplicates("code")
    model = _FlowModel(flows, list(sites.ids), points, engine, request.gain_minimal)
    note = _(
        "Objectif CO₂, règle par flux (Mastio, Hörl, Balac, Loubière, ANT 2023) : "
        "{n} flux domicile-travail en voiture ({how}) de {file}, {w:.0f} navetteurs ; un "
        "flux utilise un site à moins de {m:.0f} min de chez lui qui lui fait gagner au "
        "moins {g:.0f} min (--gain-minimal, valeur par défaut de l'outil) ; gain = "
        "2 × (km domicile-travail − km domicile-site) par jour ouvré (km = vol d'oiseau × "
        "détour), à {factor} kgCO₂e/km ({source}). Potentiel : chaque navetteur concerné "
        "vient chaque jour ; la demande par commune affichée est le gain de ses résidents "
        "si tous les candidats étaient ouverts.",
        n=len(flows),
        how=how,
        file=path,
        w=float(flows["weight"].sum()) if len(flows) else 0.0,
        m=request.minutes,
        g=request.gain_minimal,
        factor=CAR_EMISSION_FACTOR_KG_PER_KM,
        source=CAR_EMISSION_FACTOR_SOURCE,
    )
    return model, [note, *dropped]


def _co2_flow_hook(
    settings: Settings,
    request: SitesRequest,
    territory: tuple[pd.DataFrame, list[str], SiteSet, TravelTimeEngine],
    weights: np.ndarray,
    notes: list[str],
) -> tuple[_FlowModel | None, np.ndarray, str]:
    """Flow model, demand per commune and unit for ``run_sites`` (notes appended)."""
    unit = _("usagers potentiels couverts")
    if request.objective != "co2":
        return None, weights, unit
    codes = territory[1]
    model, flow_notes = _co2_flow_model(settings, request, territory)
    notes.extend(flow_notes)
    if model is None:
        return None, weights, unit
    return model, model.potential(request.minutes, codes), _("kg CO₂e évités par jour ouvré")
