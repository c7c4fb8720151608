"""Use case: the directory of base communities (the study's four steps)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.analysis.catchment import Catchments, check_definition
from tierslieux.analysis.classify import Rules, classify, load_rules, network_lines_found
from tierslieux.analysis.communities import summarise_communities
from tierslieux.analysis.dedup import deduplicate_structures
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import (
    DEFAULT_MIN_MEMBERS,
    DEFAULT_MIN_STRUCTURES,
    STRUCTURE_COLUMNS,
    BaseCommunityRule,
    QuestionnaireGroup,
)
from tierslieux.model.territory import parse_territory
from tierslieux.model.types import ProgressReporter, Provenance
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    find_input,
    load_inputs,
    neighbours_note,
    territory_catchments,
    territory_codes,
    zone_names,
)
from tierslieux.pipeline.readers import read_groups, read_structures_table
from tierslieux.sources.actors import load_actors, load_epci_actors, load_pnr
from tierslieux.sources.networks import load_networks
from tierslieux.sources.places import load_gares, load_mediation_numerique, load_tiers_lieux
from tierslieux.sources.rna import load_rna
from tierslieux.sources.sirene import load_sirene

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback


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

    The steps, each callable alone: load the communes, zonings and travel-time engine
    (unless ``inputs`` are given, from a workspace for instance), compute the reach
    (:func:`communities_reach`), read the registries it needs (:func:`load_registries`),
    then compute the directory (:func:`build_communities`, no file read).
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
    reach = communities_reach(settings, inputs, request, progress=progress)
    registries = load_registries(settings, inputs, request, reach, progress=progress)
    return build_communities(settings, inputs, request, registries, progress=progress)


@dataclass(frozen=True)
class Reach:
    """The territory's communes, their catchments and the outside communes they reach.

    Attributes
    ----------
    codes, label
        The territory's commune codes and its label.
    minutes
        Catchment threshold N.
    catchments
        Catchments centred on the territory's communes.
    outside
        Communes outside the territory within the catchments (sorted codes).
    """

    codes: tuple[str, ...]
    label: str
    minutes: float
    catchments: Catchments
    outside: tuple[str, ...] = ()

    @property
    def communes(self) -> list[str]:
        """Communes whose structures count: the territory's, then the outside ones."""
        return [*self.codes, *self.outside]


def communities_reach(
    settings: Settings,
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    *,
    progress: ProgressCallback | None = None,
) -> Reach:
    """Territory codes, catchments of ``minutes`` and outside communes (computed only)."""
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    check_definition(request.definition)
    codes, label = territory_codes(inputs, request.territory)
    ProgressReporter(progress)(
        "trajets", _("Temps de trajet et bassins de {m} minutes", m=minutes), 0.15
    )
    catchments = territory_catchments(
        inputs.engine,
        inputs.communes.table[["code", "latitude", "longitude"]].dropna(),
        codes,
        minutes,
        definition=request.definition,
        neighbours=request.neighbours,
    )
    outside = sorted(set(catchments.pairs["destination"].astype(str)) - set(codes))
    return Reach(tuple(codes), label, minutes, catchments, tuple(outside))


@dataclass(frozen=True)
class LoadedRegistries:
    """Every file the directory reads, limited to the communes ``reach`` reaches.

    Attributes
    ----------
    reach
        The reach the files were read for.
    rules
        The classification rules table (the package's, with the user's changes).
    sirene, rna
        Canonical rows of Sirene and of the RNA, not yet classified (``None`` when absent).
    places
        Existing places (tiers-lieux, stations, digital mediation), in this order.
    actors
        The user's actors, then the regional natural parks.
    networks
        The optional list of known network members.
    groups
        The questionnaire groups of ``groups.csv``, when given.
    provenance, notes
        Where each file comes from, and what the reading says (a missing registry...).
    """

    reach: Reach
    rules: Rules
    sirene: pd.DataFrame | None = None
    rna: pd.DataFrame | None = None
    places: tuple[pd.DataFrame, ...] = ()
    actors: tuple[pd.DataFrame, ...] = ()
    networks: pd.DataFrame | None = None
    groups: tuple[QuestionnaireGroup, ...] | None = None
    provenance: tuple[Provenance, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class _Read:
    """Frames, provenance and notes gathered while reading."""

    frames: list[pd.DataFrame] = field(default_factory=list)
    provenance: list[Provenance] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, frame: pd.DataFrame, provenance: Provenance) -> None:
        self.frames.append(frame)
        self.provenance.append(provenance)


def _read_registers(
    settings: Settings, request: CommunitiesRequest, codes: list[str], read: _Read
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Sirene and the RNA of ``codes`` (a note for each one missing)."""
    cache = settings.cache_dir / "structures"
    sirene = rna = None
    etab = find_input(settings, request.sirene_etablissements, "sirene_etablissements")
    if etab is not None:
        units = find_input(settings, request.sirene_unites_legales, "sirene_unites_legales")
        sirene, prov = load_sirene(etab, units, communes=codes, cache_dir=cache)
        read.provenance.append(prov)
        read.notes.extend(prov.notes)
    else:
        read.notes.append(
            _("Sirene non fourni : les étapes 1 à 3 ne viennent que des autres sources.")
        )
    rna_path = find_input(settings, request.rna, "rna")
    if rna_path is not None:
        rna, prov = load_rna(rna_path, communes=codes, cache_dir=cache)
        read.provenance.append(prov)
    else:
        read.notes.append(_("RNA non fourni : l'étape 4 (associations) reste à compléter."))
    return sirene, rna


def _read_places(
    settings: Settings,
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    codes: list[str],
    read: _Read,
) -> None:
    """Existing places of ``codes``: tiers-lieux, stations, digital-mediation points."""
    for role, loader in (("tiers_lieux", load_tiers_lieux), ("gares", load_gares)):
        path = find_input(settings, getattr(request, role), role)
        if path is not None:
            read.add(*loader(path, communes=codes))
    mediation = find_input(settings, request.mediation, "mediation")
    if mediation is not None:
        table = inputs.communes.table
        read.add(*load_mediation_numerique(mediation, communes=codes, communes_frame=table))


def _read_actors(request: CommunitiesRequest, codes: list[str], read: _Read) -> None:
    """The user's actors of ``codes`` and the regional natural parks."""
    if request.acteurs is not None:
        frame, prov = load_actors(request.acteurs)
        read.add(frame[frame["code_commune"].isin(codes)], prov)
    if request.pnr is not None:
        read.add(*load_pnr(request.pnr, communes=codes))


def load_registries(
    settings: Settings,
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    reach: Reach,
    *,
    progress: ProgressCallback | None = None,
) -> LoadedRegistries:
    """Read every file of the directory once, limited to the communes of ``reach``.

    Sirene, the RNA, the places files (tiers-lieux, stations, digital mediation), the
    user's actors and parks, the network list, the questionnaire groups and the rules
    table; ``inputs`` gives the communes used to place the mediation points.  The
    structures of the communes just outside the territory are read too: they count
    for the catchments that reach them.

    Raises
    ------
    SourceError, SchemaError
        When a file is missing or unusable.
    """
    ProgressReporter(progress)(
        "registres", _("Lecture des registres (Sirene, RNA) et des lieux"), 0.3
    )
    codes = reach.communes
    read = _Read()
    networks = None
    if request.reseaux is not None:
        networks, prov = load_networks(request.reseaux)
        read.provenance.append(prov)
    rules = load_rules(request.rules)
    sirene, rna = _read_registers(settings, request, codes, read)
    _read_places(settings, inputs, request, codes, read)
    places = tuple(read.frames)
    _read_actors(request, codes, read)
    groups = tuple(read_groups(request.groups)) if request.groups is not None else None
    return LoadedRegistries(
        reach=reach,
        rules=rules,
        sirene=sirene,
        rna=rna,
        places=places,
        actors=tuple(read.frames[len(places) :]),
        networks=networks,
        groups=groups,
        provenance=tuple(read.provenance),
        notes=tuple(read.notes),
    )


def _classified(
    inputs: LoadedInputs, registries: LoadedRegistries
) -> tuple[list[pd.DataFrame], list[str]]:
    """Structure rows of every source in order (registries classified), and the notes."""
    rules, networks = registries.rules, registries.networks
    frames = [
        classify(frame.assign(source_registre=name), rules, networks=networks)
        for name, frame in (("sirene", registries.sirene), ("rna", registries.rna))
        if frame is not None
    ]
    notes = _network_notes(networks, frames)
    codes = registries.reach.communes
    zonages, table = inputs.zonages, inputs.communes.table
    if zonages is not None and "epci" in zonages.table:
        population = table.set_index("code")["population"].dropna().to_dict()
        frames.append(
            load_epci_actors(
                zonages.table[zonages.table["code"].isin(codes)],
                # Every name the files give (zonings' labels, the communes' epci_nom).
                zone_names(inputs.communes, zonages).get("epci", {}),
                codes,
                population=population,
                territory=registries.reach.codes,
            )
        )
    return [*frames, *registries.places, *registries.actors], notes


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
    registries: LoadedRegistries | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> Communities:
    """The directory of base communities on loaded inputs and registries.

    Structures come from Sirene (cooperatives, SCOP/SCIC, development actors), the RNA
    (associations), the intercommunalities of the zonings, regional natural parks, a
    user list of actors, and existing places (tiers-lieux, stations, digital-mediation
    points) as anchors. Each is classified by the rules table, rows naming the same
    structure are merged (:func:`~tierslieux.analysis.dedup.deduplicate_structures`)
    and located; then, for each commune, the base community within ``minutes`` and its
    openness are computed (:func:`~tierslieux.analysis.communities.summarise_communities`,
    the definition shared with the site constraint).

    With ``registries`` (:func:`load_registries`, on the reach of
    :func:`communities_reach`) no file is opened; without, both are done here.
    """
    if registries is None:
        reach = communities_reach(settings, inputs, request, progress=progress)
        registries = load_registries(settings, inputs, request, reach, progress=progress)
    report = ProgressReporter(progress)
    reach, table = registries.reach, inputs.communes.table
    named = table.dropna(subset=["nom"])
    names = dict(zip(named["code"].astype(str), named["nom"].astype(str), strict=True))
    notes = (
        [neighbours_note(list(reach.outside), reach.minutes, names)] if request.neighbours else []
    )
    notes.extend(registries.notes)
    frames, network_notes = _classified(inputs, registries)
    notes.extend(network_notes)
    report("fusion", _("Fusion des doublons et localisation des structures"), 0.8)
    structures = _located_structures(frames, table, notes)
    return _directory(
        inputs,
        request,
        reach,
        structures,
        groups=registries.groups,
        provenance=registries.provenance,
        notes=notes,
        progress=progress,
    )


def communities_from_structures(
    settings: Settings,
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    structures: Path,
    *,
    progress: ProgressCallback | None = None,
) -> Communities:
    """The directory of base communities on a directory already made: ``structures``,
    a ``structures.csv`` of ``tierslieux communities`` (a project's input file, maybe
    edited by hand), instead of the registries.

    The same catchments and openness as :func:`build_communities`; no registry is read.
    Structures without coordinates are placed at their commune's centre (flagged).

    Raises
    ------
    SchemaError
        When the file is not a structures.csv (:func:`~.readers.read_structures_table`).
    """
    reach = communities_reach(settings, inputs, request, progress=progress)
    table = read_structures_table(structures)
    notes = [neighbours_note(list(reach.outside), reach.minutes)] if request.neighbours else []
    notes.append(
        _(
            "Annuaire des structures : le fichier {name} du projet ({n} structures), "
            "tel quel (les registres Sirene et RNA ne sont pas relus).",
            name=structures.name,
            n=len(table),
        )
    )
    # Columns the directory computes again (merging, placing, territory).
    computed = ("position_approchee", "hors_territoire", "sources", "identifiants_fusionnes")
    frame = table.drop(columns=[c for c in computed if c in table.columns])
    for column in ("latitude", "longitude"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    located = _located_structures([frame], inputs.communes.table, notes)
    provenance = Provenance(
        role="structures",
        location=str(structures),
        sha256=hashlib.sha256(structures.read_bytes()).hexdigest(),
    )
    return _directory(
        inputs,
        request,
        reach,
        located,
        groups=None,
        provenance=(provenance,),
        notes=notes,
        progress=progress,
    )


def _directory(
    inputs: LoadedInputs,
    request: CommunitiesRequest,
    reach: Reach,
    structures: pd.DataFrame,
    *,
    groups: Sequence[QuestionnaireGroup] | None,
    provenance: Sequence[Provenance],
    notes: list[str],
    progress: ProgressCallback | None,
) -> Communities:
    """The base community of each commune's catchment, from located structures."""
    report = ProgressReporter(progress)
    table = inputs.communes.table
    structures["hors_territoire"] = ~structures["code_commune"].isin(set(reach.codes))
    rule = BaseCommunityRule(request.min_structures, request.min_members)
    report("communautes", _("Communautés-base de chaque commune"), 0.9)
    summary = summarise_communities(
        structures,
        reach.catchments.pairs,
        reach.codes,
        rule=rule,
        groups=groups,
    )
    summary.insert(1, "nom", table.set_index("code")["nom"].reindex(summary["code"]).to_numpy())
    diameters = reach.catchments.diameters.reindex(summary["code"]).to_numpy()
    summary.insert(2, "diametre_minutes", diameters)
    summary.insert(3, "definition_bassin", reach.catchments.definition)
    provenance = [inputs.communes.provenance, *provenance, *inputs.engine_provenance]
    return Communities(
        territory_label=reach.label,
        structures=structures,
        communities=summary,
        provenance=tuple(provenance),
        minutes=reach.minutes,
        engine=inputs.engine.name,
        notes=tuple(notes),
        definition=reach.catchments.definition,
        neighbours=reach.outside,
    )
