"""Use case: the directory of base communities (the study's four steps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.analysis.catchment import (
    check_definition,
)
from tierslieux.analysis.classify import classify, load_rules, network_lines_found
from tierslieux.analysis.communities import summarise_communities
from tierslieux.analysis.dedup import deduplicate_structures
from tierslieux.analysis.territory import select_communes
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
    find_input,
    neighbours_note,
    resolve_communes,
    resolve_zonages,
    territory_catchments,
    travel_engine,
)
from tierslieux.sources.actors import load_actors, load_epci_actors, load_pnr
from tierslieux.sources.communes import (
    load_commune_list,
)
from tierslieux.sources.groups import read_groups
from tierslieux.sources.networks import load_networks
from tierslieux.sources.places import load_gares, load_mediation_numerique, load_tiers_lieux
from tierslieux.sources.rna import load_rna
from tierslieux.sources.sirene import load_sirene

if TYPE_CHECKING:
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


def run_communities(  # noqa: PLR0915
    settings: Settings, request: CommunitiesRequest, *, progress: ProgressCallback | None = None
) -> Communities:
    """Build the directory of potential base-community structures of a territory.

    Structures come from Sirene (cooperatives, SCOP/SCIC, development actors), the RNA
    (associations), the intercommunalities of the zonings, regional natural parks, a
    user list of actors, and existing places (tiers-lieux, stations, digital-mediation
    points) as anchors. Each is classified by the rules table, rows naming the same
    structure are merged (:func:`~tierslieux.analysis.dedup.deduplicate_structures`)
    and located; then, for each commune, the base community within ``minutes`` and its
    openness are computed (:func:`~tierslieux.analysis.communities.summarise_communities`,
    the definition shared with the site constraint).

    ``progress`` receives :class:`~tierslieux.model.types.ProgressEvent` objects (phases
    ``sources``, ``trajets``, ``registres``, ``fusion``, ``communautes``, with their
    ``fraction``).
    """
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    check_definition(request.definition)
    territory = parse_territory(request.territory)
    report = ProgressReporter(progress)
    report("sources", _("Lecture des communes et des zonages"), 0.0)
    communes = resolve_communes(settings, request.communes)
    zonages = resolve_zonages(settings, request.zonages)
    listed = load_commune_list(Path(territory.code)) if territory.kind == "communes" else None
    codes = select_communes(
        territory, communes.table, zonages.table if zonages else None, listed=listed
    )
    rules = load_rules(request.rules)
    frames: list[pd.DataFrame] = []
    provenance: list[Provenance] = [communes.provenance]
    notes: list[str] = []
    cache = settings.cache_dir / "structures"
    networks = _networks(request.reseaux, provenance)
    report("trajets", _("Temps de trajet et bassins de {m} minutes", m=minutes), 0.15)
    engine, engine_provenance = travel_engine(settings, request.travel_times)
    catchments = territory_catchments(
        engine,
        communes.table[["code", "latitude", "longitude"]].dropna(),
        codes,
        minutes,
        definition=request.definition,
        neighbours=request.neighbours,
    )
    territory_codes = codes
    outside = sorted(set(catchments.pairs["destination"].astype(str)) - set(codes))
    if request.neighbours:
        notes.append(neighbours_note(outside, minutes))
    # Structures of the communes just outside count for the catchments that reach them.
    codes = [*codes, *outside]

    report("registres", _("Lecture des registres (Sirene, RNA) et des lieux"), 0.3)
    etab = find_input(settings, request.sirene_etablissements, "sirene_etablissements")
    if etab is not None:
        units = find_input(settings, request.sirene_unites_legales, "sirene_unites_legales")
        sirene, prov = load_sirene(etab, units, communes=codes, cache_dir=cache)
        frames.append(classify(sirene.assign(source_registre="sirene"), rules, networks=networks))
        provenance.append(prov)
        notes.extend(prov.notes)
    else:
        notes.append(_("Sirene non fourni : les étapes 1 à 3 ne viennent que des autres sources."))
    rna_path = find_input(settings, request.rna, "rna")
    if rna_path is not None:
        rna, prov = load_rna(rna_path, communes=codes, cache_dir=cache)
        frames.append(classify(rna.assign(source_registre="rna"), rules, networks=networks))
        provenance.append(prov)
    else:
        notes.append(_("RNA non fourni : l'étape 4 (associations) reste à compléter."))
    notes.extend(_network_notes(networks, frames))
    if zonages is not None and "epci" in zonages.table:
        population = communes.table.set_index("code")["population"].dropna().to_dict()
        frames.append(
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
            frame, prov = loader(path, communes=codes)
            frames.append(frame)
            provenance.append(prov)
    mediation = find_input(settings, request.mediation, "mediation")
    if mediation is not None:
        frame, prov = load_mediation_numerique(
            mediation, communes=codes, communes_frame=communes.table
        )
        frames.append(frame)
        provenance.append(prov)
    if request.acteurs is not None:
        frame, prov = load_actors(request.acteurs)
        frames.append(frame[frame["code_commune"].isin(codes)])
        provenance.append(prov)
    if request.pnr is not None:
        frame, prov = load_pnr(request.pnr, communes=codes)
        frames.append(frame)
        provenance.append(prov)

    structures = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else pd.DataFrame(columns=list(STRUCTURE_COLUMNS))
    )
    # One row per structure listed by several sources (same SIREN, EPCI, park).
    report("fusion", _("Fusion des doublons et localisation des structures"), 0.8)
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
    centres = communes.table.set_index("code")[["latitude", "longitude"]]
    missing = structures["latitude"].isna() | structures["longitude"].isna()
    structures["position_approchee"] = missing
    fill = centres.reindex(structures.loc[missing, "code_commune"])
    structures.loc[missing, "latitude"] = fill["latitude"].to_numpy()
    structures.loc[missing, "longitude"] = fill["longitude"].to_numpy()
    ordered = [*STRUCTURE_COLUMNS, *[c for c in structures.columns if c not in STRUCTURE_COLUMNS]]
    structures = structures[ordered]

    provenance.extend(engine_provenance)
    structures["hors_territoire"] = ~structures["code_commune"].isin(set(territory_codes))
    rule = BaseCommunityRule(request.min_structures, request.min_members)
    groups = read_groups(request.groups) if request.groups is not None else None
    report("communautes", _("Communautés-base de chaque commune"), 0.9)
    summary = summarise_communities(
        structures, catchments.pairs, territory_codes, rule=rule, groups=groups
    )
    summary.insert(
        1, "nom", communes.table.set_index("code")["nom"].reindex(summary["code"]).to_numpy()
    )
    summary.insert(2, "diametre_minutes", catchments.diameters.reindex(summary["code"]).to_numpy())
    summary.insert(3, "definition_bassin", catchments.definition)
    return Communities(
        territory_label=territory.label(),
        structures=structures,
        communities=summary,
        provenance=tuple(provenance),
        minutes=minutes,
        engine=engine.name,
        notes=tuple(notes),
        definition=catchments.definition,
        neighbours=tuple(outside),
    )
