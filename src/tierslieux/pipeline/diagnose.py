"""Use case: the territorial diagnostic of potential tiers-lieu users."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
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
from tierslieux.analysis.territory import select_communes
from tierslieux.errors import DownloadError, SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import DETAIL_ONLY, EXTRA_COLUMNS, INDICATORS
from tierslieux.model.rurality import (
    RuralDefinition,
    rural_definition_note,
)
from tierslieux.model.territory import parse_territory
from tierslieux.model.types import ProgressReporter
from tierslieux.pipeline.inputs import (
    demo_files,
    demo_note,
    download_dataset,
    neighbours_note,
    resolve_communes,
    resolve_densite,
    resolve_mobpro,
    resolve_zonages,
    rurality,
    synthesise_mobpro,
    synthetic_note,
    teleworkable_shares,
    territory_catchments,
    travel_engine,
)
from tierslieux.sources.communes import (
    load_commune_list,
    load_communes,
)
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.zonages import Zonages, load_zonages

if TYPE_CHECKING:
    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback, Provenance


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


def run_diagnosis(  # noqa: PLR0912, PLR0915
    settings: Settings, request: DiagnoseRequest, *, progress: ProgressCallback | None = None
) -> Diagnosis:
    """Run the territorial diagnostic of potential tiers-lieu users.

    Parameters
    ----------
    settings
        Run settings (cache, data folder, thresholds, OSRM server...).
    request
        The territory and the input files.
    progress
        Receives :class:`~tierslieux.model.types.ProgressEvent` objects (phases
        ``sources``, ``trajets``, ``indicateurs``, ``bassins``, with their ``fraction``).

    Returns
    -------
    Diagnosis
        Indicators per commune, per catchment of ``minutes`` and per bassin de vie.
    """
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    long_minutes = (
        request.long_commute_minutes
        if request.long_commute_minutes is not None
        else settings.long_commute_minutes
    )
    if minutes <= 0 or long_minutes <= 0:
        raise SchemaError(_("Les seuils en minutes doivent être strictement positifs."))
    check_definition(request.definition)
    territory = parse_territory(request.territory)
    report = ProgressReporter(progress)
    report("sources", _("Lecture des communes et des zonages"), 0.0)
    notes: list[str] = []
    fictional = request.demo
    if request.demo:
        files = demo_files()
        communes = load_communes(files["communes"])
        zonages: Zonages | None = load_zonages(files["zonages"], files["labels"])
        workdir = settings.cache_dir / "demo"
        workdir.mkdir(parents=True, exist_ok=True)
        mobpro_path = request.mobpro or synthesise_mobpro(
            communes, workdir / "FD_MOBPRO_2021_DEMO_SYNTHETIQUE.csv", seed=2012
        )
        notes.append(demo_note())
    else:
        communes = resolve_communes(settings, request.communes)
        zonages = resolve_zonages(settings, request.zonages)
        if zonages is None and settings.data_dir is None and not settings.offline:
            # Zonings are optional for most territories: a failed download is a note.
            try:
                zonages = load_zonages(download_dataset(settings, "zonages-2026"))
            except DownloadError as error:
                notes.append(
                    _("Zonages non téléchargés ({error}) : pas de bassins de vie.", error=error)
                )
        mobpro_path = resolve_mobpro(settings, request.mobpro)
    densite = resolve_densite(settings, request.densite)  # the demo has none: None
    listed = load_commune_list(Path(territory.code)) if territory.kind == "communes" else None
    codes = select_communes(
        territory, communes.table, zonages.table if zonages else None, listed=listed
    )
    shares, shares_source = teleworkable_shares(request.teleworkable)
    report("trajets", _("Temps de trajet et bassins de {m} minutes", m=minutes), 0.2)
    engine, engine_provenance = travel_engine(settings, request.travel_times)
    points = communes.table[["code", "latitude", "longitude"]].dropna()
    catchments = territory_catchments(
        engine,
        points,
        codes,
        minutes,
        definition=request.definition,
        neighbours=request.neighbours,
    )
    outside = sorted(set(catchments.pairs["destination"].astype(str)) - set(codes))
    if request.neighbours:
        notes.append(neighbours_note(outside, minutes))

    report("indicateurs", _("Indicateurs du recensement (domicile-travail)"), 0.4)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=settings.cache_dir) as spill,
        duckdb.connect(
            config={"temp_directory": spill, "memory_limit": settings.duckdb_memory_limit}
        ) as con,
    ):
        mobpro = open_mobpro(mobpro_path, con, cache_dir=settings.cache_dir / "mobpro")
        indicators = compute_indicators(
            con,
            mobpro.view,
            kind=mobpro.kind,
            territory=[*codes, *outside],
            engine=engine,
            points=points,
            parameters=IndicatorParameters(long_minutes, shares),
        )
    unavailable = DETAIL_ONLY if mobpro.kind == "flux" else tuple(mobpro.missing)
    if mobpro.kind == "flux":
        notes.append(
            _(
                "Le fichier des flux domicile-travail ne donne que des effectifs par couple "
                "de communes : les indicateurs {names} ne peuvent pas être calculés (vides).",
                names=", ".join(i for i in INDICATORS if i in DETAIL_ONLY),
            )
        )

    table = communes.table.set_index("code")
    notes.extend(_silent_neighbours(indicators, outside))
    own = indicators[indicators["code"].isin(set(codes))].reset_index(drop=True)
    beyond = indicators[indicators["code"].isin(set(outside))].reset_index(drop=True)
    beyond.insert(1, "nom", table["nom"].reindex(beyond["code"]).to_numpy())
    names = table["nom"].reindex(own["code"]).to_numpy()
    result = own.assign(nom=names)
    zone_columns = [c for c in ("bv2022", "epci", "dep") if zonages and c in zonages.table]
    if zonages is not None and zone_columns:
        result = result.merge(zonages.table[["code", *zone_columns]], on="code", how="left")
    rural, rural_definition = rurality(
        list(result["code"]), zonages, densite, required="--rural" if request.rural else ""
    )
    notes.append(rural_definition_note(rural_definition))
    result = result.merge(rural, on="code", how="left")
    result["effectifs_faibles"] = flag_small_counts(result, INDICATORS)
    result = result[
        [
            "code",
            "nom",
            *INDICATORS,
            *EXTRA_COLUMNS,
            *zone_columns,
            *rural.columns[1:],
            "effectifs_faibles",
        ]
    ]

    report("bassins", _("Totaux par bassin"), 0.9)
    catch = sum_over_catchments(indicators, catchments.pairs, columns=[*INDICATORS, *EXTRA_COLUMNS])
    catch = catch[catch["code"].isin(set(codes))].reset_index(drop=True)
    catch = catch.assign(
        nom=table["nom"].reindex(catch["code"]).to_numpy(),
        nb_communes_hors_territoire=_outside_counts(catchments, catch["code"], codes),
        diametre_minutes=catchments.diameters.reindex(catch["code"]).to_numpy(),
        definition_bassin=catchments.definition,
    )
    catch = catch[
        [
            "code",
            "nom",
            "nb_communes",
            "nb_communes_hors_territoire",
            "diametre_minutes",
            "definition_bassin",
            *INDICATORS,
            *EXTRA_COLUMNS,
        ]
    ]
    if mobpro.kind != "flux":
        catch = catch.sort_values("potentiel", ascending=False, kind="stable")

    bassins = None
    if zonages is not None and "bv2022" in zonages.table:
        bassins = _by_bassin(result, zonages)

    provenance = [communes.provenance, mobpro.provenance, *engine_provenance]
    if zonages is not None:
        provenance.insert(1, zonages.provenance)
    if densite is not None:
        provenance.insert(1, densite.provenance)
    synthetic = any(p.synthetic for p in provenance)
    if synthetic:
        notes.insert(0, synthetic_note())
    return Diagnosis(
        territory_label=territory.label()
        if not request.demo
        else _("Territoire fictif de démonstration"),
        communes=result.reset_index(drop=True),
        catchments=catch.reset_index(drop=True),
        bassins=bassins,
        geometries={c: g for c, g in communes.geometries.items() if c in set(codes)},
        provenance=tuple(provenance),
        mobpro_kind=mobpro.kind,
        unavailable=tuple(unavailable),
        engine=engine.name,
        engine_parameters=dict(engine.parameters()),
        minutes=minutes,
        long_commute_minutes=long_minutes,
        teleworkable_shares=shares,
        teleworkable_source=shares_source,
        synthetic=synthetic,
        fictional=fictional,
        notes=tuple(notes),
        rural_definition=rural_definition,
        rural_focus=request.rural,
        definition=catchments.definition,
        neighbours=tuple(outside),
        neighbour_communes=beyond,
    )


def _silent_neighbours(indicators: pd.DataFrame, outside: list[str]) -> list[str]:
    """A note when outside communes have no worker in the census file given."""
    silent = indicators[indicators["code"].isin(set(outside)) & (indicators["actifs_occupes"] == 0)]
    if not len(silent):
        return []
    return [
        _(
            "{n} des communes voisines n'ont aucun actif dans le fichier MOBPRO (fichier "
            "limité au territoire ?) : elles comptent pour zéro dans les bassins. Donnez le "
            "fichier national, ou --sans-communes-voisines.",
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
