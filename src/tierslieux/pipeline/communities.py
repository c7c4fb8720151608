"""Use case: the directory of base communities (the study's four steps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.analysis.catchment import (
    check_definition,
)
from tierslieux.analysis.classify import classify, load_rules, network_lines_found
from tierslieux.analysis.communities import summarise_communities
from tierslieux.analysis.dedup import deduplicate_structures
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import (
    DEFAULT_MIN_MEMBERS,
    DEFAULT_MIN_STRUCTURES,
    STRUCTURE_COLUMNS,
    BaseCommunityRule,
)
from tierslieux.model.territory import parse_territory
from tierslieux.model.types import ProgressReporter
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    find_input,
    load_inputs,
    neighbours_note,
    territory_catchments,
    territory_codes,
)
from tierslieux.pipeline.readers import read_groups
from tierslieux.sources.actors import load_actors, load_epci_actors, load_pnr
from tierslieux.sources.networks import load_networks
from tierslieux.sources.places import load_gares, load_mediation_numerique, load_tiers_lieux
from tierslieux.sources.rna import load_rna
from tierslieux.sources.sirene import load_sirene

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback, Provenance


# --------------------------------------------------------------------------------------
# Base communities (issue: structures of the study's four steps, and their catchments)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunitiesRequest:
    """Inputs of the base-community directory (paths optional: found in ``data_dir``)."""

    territory: str
    communes: tuple[Path, ...] = ()
    zonages: Path | None = None
    travel_times: Path | None = None
    minutes: float | None = None
    sirene_etablissements: Path | None = None
    sirene_unites_legales: Path | None = None
    rna: Path | None = None
    tiers_lieux: Path | None = None
    gares: Path | None = None
    mediation: Path | None = None
    acteurs: Path | None = None
    pnr: Path | None = None
    rules: Path | None = None
    #: Optional CSV of known network members (see :mod:`tierslieux.sources.networks`).
    reseaux: Path | None = None
    #: ``groups.csv`` of ``tierslieux survey analyse``: questionnaire groups.
    groups: Path | None = None
    min_structures: int = DEFAULT_MIN_STRUCTURES
    min_members: int = DEFAULT_MIN_MEMBERS
    definition: str = "centre"
    neighbours: bool = True


@dataclass(frozen=True)
class Communities:
    """Directory of structures and openness of the base community of each catchment."""

    territory_label: str
    structures: pd.DataFrame
    communities: pd.DataFrame
    provenance: tuple[Provenance, ...]
    minutes: float
    engine: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Catchment definition (``centre`` or ``mutuelle``).
    definition: str = "centre"
    #: Communes outside the territory counted in its catchments (sorted codes).
    neighbours: tuple[str, ...] = ()


def _networks(path: Path | None, provenance: list[Provenance]) -> pd.DataFrame | None:
    """Read the optional network list (``--reseaux``), recording its provenance."""
    if path is None:
        return None
    networks, prov = load_networks(path)
    provenance.append(prov)
    return networks


def _network_notes(networks: pd.DataFrame | None, frames: list[pd.DataFrame]) -> list[str]:
    """Say how many listed network members were found among the classified rows."""
    if networks is None:
        return []
    found = set().union(*(network_lines_found(f) for f in frames))
    if len(found) == len(networks):
        return []
    return [
        _(
            "Liste de réseaux : {n} membre(s) sur {total} retrouvé(s) dans Sirene ou le RNA du "
            "territoire (les autres sont ailleurs, ou écrits autrement : ajoutez leur SIREN).",
            n=len(found),
            total=len(networks),
        )
    ]


def _with_structure_columns(structures: pd.DataFrame) -> pd.DataFrame:
    """Every column of structures.csv, even from a source without coordinates (the RNA)."""
    missing = {
        c: float("nan") if c in ("latitude", "longitude") else None
        for c in STRUCTURE_COLUMNS
        if c not in structures.columns
    }
    return structures.assign(**missing) if missing else structures


def run_communities(
    settings: Settings,
    request: CommunitiesRequest,
    progress: ProgressCallback | None = None,
    *,
    inputs: LoadedInputs | None = None,
) -> Communities:
    """Build the directory of potential base-community structures of a territory.

    Loads the communes, zonings and travel-time engine once (unless ``inputs`` are
    given, from a workspace for instance), then :func:`build_communities`.
    ``progress`` receives :class:`~tierslieux.model.types.ProgressEvent` objects.
    """
    check_definition(request.definition)
    parse_territory(request.territory)
    if inputs is None:
        ProgressReporter(progress)("sources", _("Lecture des communes et des zonages"), 0.0)
        files = InputFiles(
            communes=request.communes, zonages=request.zonages, travel_times=request.travel_times
        )
        inputs = load_inputs(settings, files, mobpro=False)
    return build_communities(settings, inputs, request, progress=progress)


@dataclass
class _Gathered:
    """Structure rows of every source, with their provenance and notes."""

    frames: list[pd.DataFrame] = field(default_factory=list)
    provenance: list[Provenance] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, frame: pd.DataFrame, provenance: Provenance | None = None) -> None:
        self.frames.append(frame)
        if provenance is not None:
            self.provenance.append(provenance)


def _registries(
    settings: Settings,
    request: CommunitiesRequest,
    codes: list[str],
    networks: pd.DataFrame | None,
    gathered: _Gathered,
) -> None:
    """Sirene and the RNA, classified by the rules table."""
    rules = load_rules(request.rules)
    cache = settings.cache_dir / "structures"
    etab = find_input(settings, request.sirene_etablissements, "sirene_etablissements")
    if etab is not None:
        units = find_input(settings, request.sirene_unites_legales, "sirene_unites_legales")
        sirene, prov = load_sirene(etab, units, communes=codes, cache_dir=cache)
        gathered.add(classify(sirene.assign(source_registre="sirene"), rules, networks=networks))
        gathered.provenance.append(prov)
        gathered.notes.extend(prov.notes)
    else:
        gathered.notes.append(
            _("Sirene non fourni : les étapes 1 à 3 ne viennent que des autres sources.")
        )
    rna_path = find_input(settings, request.rna, "rna")
    if rna_path is not None:
        rna, prov = load_rna(rna_path, communes=codes, cache_dir=cache)
        gathered.add(classify(rna.assign(source_registre="rna"), rules, networks=networks), prov)
    else:
        gathered.notes.append(_("RNA non fourni : l'étape 4 (associations) reste à compléter."))
    gathered.notes.extend(_network_notes(networks, gathered.frames))


def _places_and_actors(
    settings: Settings,
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    codes: list[str],
    gathered: _Gathered,
) -> None:
    """Intercommunalities, existing places, the user's actors and regional parks."""
    zonages, table = inputs.zonages, inputs.communes.table
    if zonages is not None and "epci" in zonages.table:
        population = table.set_index("code")["population"].dropna().to_dict()
        gathered.add(
            load_epci_actors(
                zonages.table[zonages.table["code"].isin(codes)],
                zonages.labels.get("epci", {}),
                codes,
                population=population,
            )
        )
    for role, loader in (("tiers_lieux", load_tiers_lieux), ("gares", load_gares)):
        path = find_input(settings, getattr(request, role), role)
        if path is not None:
            gathered.add(*loader(path, communes=codes))
    mediation = find_input(settings, request.mediation, "mediation")
    if mediation is not None:
        gathered.add(*load_mediation_numerique(mediation, communes=codes, communes_frame=table))
    if request.acteurs is not None:
        frame, prov = load_actors(request.acteurs)
        gathered.add(frame[frame["code_commune"].isin(codes)], prov)
    if request.pnr is not None:
        gathered.add(*load_pnr(request.pnr, communes=codes))


def _located_structures(
    frames: list[pd.DataFrame], table: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """One row per structure, every column, placed at its commune when not located."""
    structures = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else pd.DataFrame(columns=list(STRUCTURE_COLUMNS))
    )
    # One row per structure listed by several sources (same SIREN, EPCI, park).
    found = len(structures)
    structures = deduplicate_structures(structures)
    if found > len(structures):
        notes.append(
            _(
                "{n} doublon(s) fusionné(s) entre les sources (même SIREN, même "
                "intercommunalité ou même parc) : la colonne sources les garde toutes.",
                n=found - len(structures),
            )
        )
    structures = _with_structure_columns(structures)
    # Structures without coordinates are placed at their commune's centre (flagged).
    centres = table.set_index("code")[["latitude", "longitude"]]
    missing = structures["latitude"].isna() | structures["longitude"].isna()
    structures["position_approchee"] = missing
    fill = centres.reindex(structures.loc[missing, "code_commune"])
    structures.loc[missing, "latitude"] = fill["latitude"].to_numpy()
    structures.loc[missing, "longitude"] = fill["longitude"].to_numpy()
    ordered = [*STRUCTURE_COLUMNS, *[c for c in structures.columns if c not in STRUCTURE_COLUMNS]]
    return structures[ordered]


def build_communities(
    settings: Settings,
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    *,
    progress: ProgressCallback | None = None,
) -> Communities:
    """The directory of base communities on loaded communes, zonings and engine.

    Structures come from Sirene (cooperatives, SCOP/SCIC, development actors), the RNA
    (associations), the intercommunalities of the zonings, regional natural parks, a
    user list of actors, and existing places (tiers-lieux, stations, digital-mediation
    points) as anchors. Each is classified by the rules table, rows naming the same
    structure are merged (:func:`~tierslieux.analysis.dedup.deduplicate_structures`)
    and located; then, for each commune, the base community within ``minutes`` and its
    openness are computed (:func:`~tierslieux.analysis.communities.summarise_communities`,
    the definition shared with the site constraint).  The registries are read here,
    limited to the communes the catchments reach (known only once they are computed).
    """
    report = ProgressReporter(progress)
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    check_definition(request.definition)
    codes, label = territory_codes(inputs, request.territory)
    table = inputs.communes.table
    gathered = _Gathered(provenance=[inputs.communes.provenance])
    networks = _networks(request.reseaux, gathered.provenance)
    report("trajets", _("Temps de trajet et bassins de {m} minutes", m=minutes), 0.15)
    catchments = territory_catchments(
        inputs.engine,
        table[["code", "latitude", "longitude"]].dropna(),
        codes,
        minutes,
        definition=request.definition,
        neighbours=request.neighbours,
    )
    outside = sorted(set(catchments.pairs["destination"].astype(str)) - set(codes))
    if request.neighbours:
        gathered.notes.append(neighbours_note(outside, minutes))
    report("registres", _("Lecture des registres (Sirene, RNA) et des lieux"), 0.3)
    # Structures of the communes just outside count for the catchments that reach them.
    reached = [*codes, *outside]
    _registries(settings, request, reached, networks, gathered)
    _places_and_actors(settings, inputs, request, reached, gathered)
    report("fusion", _("Fusion des doublons et localisation des structures"), 0.8)
    structures = _located_structures(gathered.frames, table, gathered.notes)
    gathered.provenance.extend(inputs.engine_provenance)
    structures["hors_territoire"] = ~structures["code_commune"].isin(set(codes))
    rule = BaseCommunityRule(request.min_structures, request.min_members)
    groups = read_groups(request.groups) if request.groups is not None else None
    report("communautes", _("Communautés-base de chaque commune"), 0.9)
    summary = summarise_communities(structures, catchments.pairs, codes, rule=rule, groups=groups)
    summary.insert(1, "nom", table.set_index("code")["nom"].reindex(summary["code"]).to_numpy())
    summary.insert(2, "diametre_minutes", catchments.diameters.reindex(summary["code"]).to_numpy())
    summary.insert(3, "definition_bassin", catchments.definition)
    return Communities(
        territory_label=label,
        structures=structures,
        communities=summary,
        provenance=tuple(gathered.provenance),
        minutes=minutes,
        engine=inputs.engine.name,
        notes=tuple(gathered.notes),
        definition=catchments.definition,
        neighbours=tuple(outside),
    )
