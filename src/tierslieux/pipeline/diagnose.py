"""Use case: the territorial diagnostic of potential tiers-lieu users."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from tierslieux.analysis.catchment import (
    Catchments,
    check_definition,
    sum_over_catchments,
)
from tierslieux.analysis.indicators import (
    IndicatorParameters,
    compute_indicators,
    flag_small_counts,
)
from tierslieux.errors import Message, Note, SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import DETAIL_ONLY, EXTRA_COLUMNS, INDICATORS
from tierslieux.model.rurality import (
    RuralDefinition,
    rural_definition_note,
)
from tierslieux.model.territory import parse_territory
from tierslieux.model.types import ProgressReporter
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    TeleworkableShares,
    demo_note,
    load_inputs,
    load_teleworkable,
    neighbours_note,
    request_files,
    rurality,
    synthetic_note,
    territory_catchments,
    territory_codes,
)
from tierslieux.sources.communes import coordinates_note

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback, Provenance
    from tierslieux.sources.mobpro import Mobpro
    from tierslieux.sources.zonages import Zonages


@dataclass(frozen=True)
class DiagnoseRequest:
    """What the user asked for (all paths optional: resolved from ``data_dir``)."""

    territory: str
    communes: tuple[Path, ...] = ()
    zonages: Path | None = None
    mobpro: Path | None = None
    travel_times: Path | None = None
    teleworkable: Path | None = None
    minutes: float | None = None
    long_commute_minutes: float | None = None
    demo: bool = False
    densite: Path | None = None
    #: Rank and limit the report's tables to rural communes (CSV files keep every row).
    rural: bool = False
    definition: str = "centre"
    neighbours: bool = True

    def files(self) -> InputFiles:
        """The source files named by the request (resolved by ``load_inputs``)."""
        return request_files(self)


@dataclass(frozen=True)
class Diagnosis:
    """Result of a territorial diagnostic: potential users per commune and catchment."""

    territory_label: str
    communes: pd.DataFrame
    catchments: pd.DataFrame
    bassins: pd.DataFrame | None
    geometries: dict[str, dict[str, Any]]
    provenance: tuple[Provenance, ...]
    mobpro_kind: str
    unavailable: tuple[str, ...]
    engine: str
    engine_parameters: dict[str, object]
    minutes: float
    long_commute_minutes: float
    teleworkable_shares: dict[str, float]
    teleworkable_source: str
    synthetic: bool
    fictional: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Definition of "rural" used for the ``rural`` column (:class:`RuralDefinition`).
    rural_definition: str = RuralDefinition.NONE
    #: True when the report's tables are limited to rural communes (``--rural``).
    rural_focus: bool = False
    #: Catchment definition (``centre`` or ``mutuelle``, see analysis.catchment).
    definition: str = "centre"
    #: Communes outside the territory counted in its catchments (sorted codes).
    neighbours: tuple[str, ...] = ()
    #: Indicators of those outside communes (``code``, ``nom`` and the indicators, read
    #: with the same sources), for callers that count them too (``tierslieux sites``).
    neighbour_communes: pd.DataFrame | None = None
    #: Members of each catchment centred on a commune of the territory (centre code ->
    #: sorted member codes, the centre included): what a map highlights.
    catchment_members: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _thresholds(settings: Settings, request: DiagnoseRequest) -> tuple[float, float]:
    """Catchment and long-commute minutes; refuse impossible values before any reading."""
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    long_minutes = (
        request.long_commute_minutes
        if request.long_commute_minutes is not None
        else settings.long_commute_minutes
    )
    if minutes <= 0 or long_minutes <= 0:
        raise SchemaError(_("Les seuils en minutes doivent être strictement positifs."))
    check_definition(request.definition)
    return minutes, long_minutes


def run_diagnosis(
    settings: Settings,
    request: DiagnoseRequest,
    progress: ProgressCallback | None = None,
    *,
    inputs: LoadedInputs | None = None,
) -> Diagnosis:
    """Run the territorial diagnostic of potential tiers-lieu users: load, then compute.

    Parameters
    ----------
    settings
        Run settings (cache, data folder, thresholds, OSRM server...).
    request
        The territory and the input files.
    progress
        Optional callback receiving :class:`~tierslieux.model.types.ProgressEvent`.
    inputs
        Inputs already loaded (:func:`~tierslieux.pipeline.inputs.load_inputs`, or a
        :class:`~tierslieux.pipeline.workspace.Workspace`); the request's files are then
        not read.

    Returns
    -------
    Diagnosis
        Indicators per commune, per catchment of ``minutes`` and per bassin de vie.
    """
    _thresholds(settings, request)
    parse_territory(request.territory)
    if inputs is None:
        ProgressReporter(progress)("sources", _("Lecture des communes et des zonages"), 0.0)
        inputs = load_inputs(settings, request.files(), download_zonages=True)
    shares = load_teleworkable(request.teleworkable)
    return diagnose(settings, inputs, request, progress=progress, teleworkable=shares)


@dataclass(frozen=True)
class _Counted:
    """Indicators of the territory and of the outside communes within reach."""

    indicators: pd.DataFrame
    mobpro: Mobpro
    catchments: Catchments
    codes: list[str]
    outside: list[str]
    minutes: float


def _count(
    settings: Settings,
    inputs: LoadedInputs,
    request: DiagnoseRequest,
    codes: list[str],
    minutes: tuple[float, float],
    report: ProgressReporter,
    shares: TeleworkableShares,
) -> _Counted:
    """Catchments, then the census indicators of their communes (DuckDB)."""
    if inputs.mobpro is None:
        raise SchemaError(_("Aucun fichier MOBPRO chargé : le diagnostic en a besoin."))
    points = inputs.communes.table[["code", "latitude", "longitude"]].dropna()
    catchments = territory_catchments(
        inputs.engine,
        points,
        codes,
        minutes[0],
        definition=request.definition,
        neighbours=request.neighbours,
    )
    outside = sorted(set(catchments.pairs["destination"].astype(str)) - set(codes))
    report("indicateurs", _("Indicateurs du recensement (domicile-travail)"), 0.4)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=settings.cache_dir) as spill,
        duckdb.connect(
            config={"temp_directory": spill, "memory_limit": settings.duckdb_memory_limit}
        ) as con,
    ):
        mobpro = inputs.mobpro.register(con)
        indicators = compute_indicators(
            con,
            mobpro.view,
            kind=mobpro.kind,
            territory=[*codes, *outside],
            engine=inputs.engine,
            points=points,
            parameters=IndicatorParameters(minutes[1], shares.shares),
        )
    return _Counted(indicators, mobpro, catchments, codes, outside, minutes[0])


def _commune_rows(
    inputs: LoadedInputs, counted: _Counted, request: DiagnoseRequest
) -> tuple[pd.DataFrame, str]:
    """One row per commune of the territory: indicators, zonings, rurality."""
    zonages = inputs.zonages
    names = inputs.communes.table.set_index("code")["nom"]
    indicators = counted.indicators
    own = indicators[indicators["code"].isin(set(counted.codes))].reset_index(drop=True)
    result = own.assign(nom=names.reindex(own["code"]).to_numpy())
    zone_columns = [c for c in ("bv2022", "epci", "dep") if zonages and c in zonages.table]
    if zonages is not None and zone_columns:
        result = result.merge(zonages.table[["code", *zone_columns]], on="code", how="left")
    rural, rural_definition = rurality(
        list(result["code"]),
        zonages,
        inputs.densite,
        required=Message("{rural}") if request.rural else None,
    )
    result = result.merge(rural, on="code", how="left")
    result["effectifs_faibles"] = flag_small_counts(result, INDICATORS)
    columns = ["code", "nom", *INDICATORS, *EXTRA_COLUMNS, *zone_columns, *rural.columns[1:]]
    return result[[*columns, "effectifs_faibles"]].reset_index(drop=True), rural_definition


def _catchment_rows(inputs: LoadedInputs, counted: _Counted) -> pd.DataFrame:
    """One row per catchment centred on a commune of the territory."""
    names = inputs.communes.table.set_index("code")["nom"]
    catchments, codes = counted.catchments, counted.codes
    columns = [*INDICATORS, *EXTRA_COLUMNS]
    catch = sum_over_catchments(counted.indicators, catchments.pairs, columns=columns)
    catch = catch[catch["code"].isin(set(codes))].reset_index(drop=True)
    catch = catch.assign(
        nom=names.reindex(catch["code"]).to_numpy(),
        nb_communes_hors_territoire=_outside_counts(catchments, catch["code"], codes),
        diametre_minutes=catchments.diameters.reindex(catch["code"]).to_numpy(),
        definition_bassin=catchments.definition,
    )
    head = ["code", "nom", "nb_communes", "nb_communes_hors_territoire", "diametre_minutes"]
    catch = catch[[*head, "definition_bassin", *columns]]
    if counted.mobpro.kind != "flux":
        catch = catch.sort_values("potentiel", ascending=False, kind="stable")
    return catch.reset_index(drop=True)


def _notes(inputs: LoadedInputs, counted: _Counted, request: DiagnoseRequest) -> list[str]:
    """Notes of a diagnostic, before the rural definition's."""
    notes = [demo_note()] if inputs.fictional else []
    notes.extend(inputs.notes)
    if (unlocated := coordinates_note(inputs.communes, counted.codes)) is not None:
        notes.append(unlocated)
    if request.neighbours:
        table = inputs.communes.table.dropna(subset=["nom"])
        names = dict(zip(table["code"].astype(str), table["nom"].astype(str), strict=True))
        notes.append(neighbours_note(counted.outside, counted.minutes, names))
    if counted.mobpro.kind == "flux":
        notes.append(
            _(
                "Le fichier des flux domicile-travail ne donne que des effectifs par couple "
                "de communes : les indicateurs {names} ne peuvent pas être calculés (vides).",
                names=", ".join(i for i in INDICATORS if i in DETAIL_ONLY),
            )
        )
    notes.extend(_silent_neighbours(counted.indicators, counted.outside))
    return notes


def _provenance(inputs: LoadedInputs, mobpro: Mobpro) -> list[Provenance]:
    """Communes, density, zonings, census, travel times: what the figures rest on."""
    provenance = [inputs.communes.provenance, mobpro.provenance, *inputs.engine_provenance]
    if inputs.zonages is not None:
        provenance.insert(1, inputs.zonages.provenance)
    if inputs.densite is not None:
        provenance.insert(1, inputs.densite.provenance)
    return provenance


def diagnose(
    settings: Settings,
    inputs: LoadedInputs,
    request: DiagnoseRequest,
    *,
    progress: ProgressCallback | None = None,
    teleworkable: TeleworkableShares | None = None,
) -> Diagnosis:
    """Compute the diagnostic of ``request.territory`` on loaded inputs.

    No source file is opened: the communes, zonings, density and census come from
    ``inputs``, the teleworkable shares from ``teleworkable``
    (:func:`~tierslieux.pipeline.inputs.load_teleworkable`); the request's file paths
    are ignored (its thresholds, definition and rural focus are used), except
    ``request.teleworkable``, read here only when ``teleworkable`` is not given.
    """
    report = ProgressReporter(progress)
    minutes, long_minutes = _thresholds(settings, request)
    if teleworkable is None:
        teleworkable = load_teleworkable(request.teleworkable)
    codes, label = territory_codes(inputs, request.territory)
    report("trajets", _("Temps de trajet et bassins de {m} minutes", m=minutes), 0.2)
    counted = _count(
        settings, inputs, request, codes, (minutes, long_minutes), report, teleworkable
    )
    notes = _notes(inputs, counted, request)
    result, rural_definition = _commune_rows(inputs, counted, request)
    notes.append(rural_definition_note(rural_definition))
    names = inputs.communes.table.set_index("code")["nom"]
    beyond = counted.indicators[counted.indicators["code"].isin(set(counted.outside))]
    beyond = beyond.reset_index(drop=True)
    beyond.insert(1, "nom", names.reindex(beyond["code"]).to_numpy())
    zonages = inputs.zonages
    provenance = _provenance(inputs, counted.mobpro)
    synthetic = any(p.synthetic for p in provenance)
    if synthetic:
        notes.insert(0, synthetic_note())
    mobpro = counted.mobpro
    report("bassins", _("Totaux par bassin"), 0.9)
    return Diagnosis(
        territory_label=label,
        communes=result,
        catchments=_catchment_rows(inputs, counted),
        bassins=_by_bassin(result, zonages)
        if zonages is not None and "bv2022" in zonages.table
        else None,
        geometries={c: g for c, g in inputs.communes.geometries.items() if c in set(codes)},
        provenance=tuple(provenance),
        mobpro_kind=mobpro.kind,
        unavailable=tuple(DETAIL_ONLY if mobpro.kind == "flux" else mobpro.missing),
        engine=inputs.engine.name,
        engine_parameters=dict(inputs.engine.parameters()),
        minutes=minutes,
        long_commute_minutes=long_minutes,
        teleworkable_shares=dict(teleworkable.shares),
        teleworkable_source=teleworkable.source,
        synthetic=synthetic,
        fictional=inputs.fictional,
        notes=tuple(notes),
        rural_definition=rural_definition,
        rural_focus=request.rural,
        definition=counted.catchments.definition,
        neighbours=tuple(counted.outside),
        neighbour_communes=beyond,
        catchment_members=_members(counted.catchments, counted.codes),
    )


def _members(catchments: Catchments, codes: list[str]) -> dict[str, tuple[str, ...]]:
    """Centre code -> sorted codes of its catchment's members (the centre included)."""
    pairs = catchments.pairs
    grouped: dict[str, set[str]] = {code: {code} for code in codes}
    for origin, destination in zip(
        pairs["origin"].astype(str), pairs["destination"].astype(str), strict=True
    ):
        if origin in grouped:
            grouped[origin].add(destination)
    return {code: tuple(sorted(members)) for code, members in grouped.items()}


def _silent_neighbours(indicators: pd.DataFrame, outside: list[str]) -> list[str]:
    """A note when outside communes have no worker in the census file given."""
    silent = indicators[indicators["code"].isin(set(outside)) & (indicators["actifs_occupes"] == 0)]
    if not len(silent):
        return []
    return [
        Note.text(
            "{n} des communes voisines n'ont aucun actif dans le fichier MOBPRO (fichier "
            "limité au territoire ?) : elles comptent pour zéro dans les bassins. Donnez le "
            "fichier national, ou {neighbours}.",
            n=len(silent),
        )
    ]


def _outside_counts(catchments: Catchments, centres: pd.Series, codes: list[str]) -> list[int]:
    """Number of members of each centre's catchment outside the territory."""
    pairs = catchments.pairs
    outside = pairs[~pairs["destination"].astype(str).isin(set(codes))]
    counts = outside.groupby(outside["origin"].astype(str)).size()
    return [int(n) for n in counts.reindex(centres.astype(str)).fillna(0)]


def _by_bassin(communes: pd.DataFrame, zonages: Zonages) -> pd.DataFrame:
    columns = [*INDICATORS, *EXTRA_COLUMNS]
    grouped = (
        communes.dropna(subset=["bv2022"])
        .groupby("bv2022", sort=True)
        .agg(
            nb_communes=("code", "size"), **{c: (c, lambda s: s.sum(min_count=1)) for c in columns}
        )
        .reset_index()
        .rename(columns={"bv2022": "code"})
    )
    labels = zonages.labels.get("bv2022", {})
    grouped.insert(1, "nom", grouped["code"].map(labels).astype("string"))
    # A bassin de vie is partial when some of its communes lie outside the territory:
    # its size is the labels' NB_COM, or its communes in the zonings table.
    in_table = zonages.table["bv2022"].dropna().value_counts()
    sizes = pd.Series(zonages.sizes.get("bv2022", {}), dtype="float64")
    total = pd.concat([in_table.astype("float64"), sizes], axis=1).max(axis=1)
    grouped.insert(
        3, "nb_communes_bassin", grouped["code"].map(total).fillna(grouped["nb_communes"])
    )
    grouped["nb_communes_bassin"] = grouped["nb_communes_bassin"].astype("int64")
    grouped.insert(4, "bassin_partiel", grouped["nb_communes"] < grouped["nb_communes_bassin"])
    return grouped
