"""Use cases called by every interface (CLI, web, Python API).

The command line, the web pages and the reports all go through these functions, so
they always show the same numbers.  Each use case resolves its inputs (explicit
paths, a ``--data`` folder, or the official downloads), runs the analysis and returns
a frozen result; writing files is left to :mod:`tierslieux.reports`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from tierslieux.analysis.catchment import (
    Catchments,
    build_catchments,
    check_definition,
    sum_over_catchments,
)
from tierslieux.analysis.classify import classify, load_rules, network_lines_found
from tierslieux.analysis.communities import summarise_communities
from tierslieux.analysis.dedup import deduplicate_structures
from tierslieux.analysis.indicators import (
    IndicatorParameters,
    compute_indicators,
    flag_small_counts,
)
from tierslieux.analysis.territory import select_communes
from tierslieux.analysis.traveltime import StraightLineEngine, TableEngine
from tierslieux.errors import DownloadError, SchemaError, SourceError
from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import DETAIL_ONLY, EXTRA_COLUMNS, INDICATORS
from tierslieux.model.reference import TELEWORKABLE_SHARE_BY_CS1, TELEWORKABLE_SOURCE
from tierslieux.model.rurality import (
    AAV_CATEGORY_LABELS,
    DENSITY_LABELS,
    RuralDefinition,
    rural_definition_note,
    rural_flags,
)
from tierslieux.model.structures import (
    DEFAULT_MIN_MEMBERS,
    DEFAULT_MIN_STRUCTURES,
    STRUCTURE_COLUMNS,
    BaseCommunityRule,
)
from tierslieux.model.territory import parse_territory
from tierslieux.model.traveltime import MAX_ROAD_SPEED_KMH, StraightLineParameters
from tierslieux.model.types import Provenance
from tierslieux.sources._files import read_csv_strings
from tierslieux.sources.actors import load_actors, load_epci_actors, load_pnr
from tierslieux.sources.catalog import Dataset, fetch_dataset, load_catalog
from tierslieux.sources.communes import (
    Communes,
    load_commune_list,
    load_communes,
    merge_communes,
)
from tierslieux.sources.densite import Densite, load_densite
from tierslieux.sources.groups import read_groups
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.networks import load_networks
from tierslieux.sources.osrm import OsrmEngine
from tierslieux.sources.places import load_gares, load_mediation_numerique, load_tiers_lieux
from tierslieux.sources.rna import load_rna
from tierslieux.sources.sirene import load_sirene
from tierslieux.sources.synthetic import write_synthetic_mobpro
from tierslieux.sources.traveltimes import load_travel_times
from tierslieux.sources.zonages import Zonages, load_zonages

if TYPE_CHECKING:
    from tierslieux.config import Settings
    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = [
    "DiagnoseRequest",
    "Diagnosis",
    "demo_files",
    "demo_note",
    "resolve_communes",
    "resolve_densite",
    "run_diagnosis",
    "rurality",
    "synthesise_mobpro",
    "synthetic_note",
]

#: File-name patterns recognised in a ``--data`` folder, searched recursively.
DATA_PATTERNS: dict[str, tuple[str, ...]] = {
    "communes": (
        "communes*.csv",
        "communes*.geojson",
        "communes*.json",
        "communes*.gpkg",
        "communes*.shp",
        "COMMUNE*.shp",
    ),
    "zonages": (
        "table-appartenance-geo-communes-*.xlsx",
        "table-appartenance-geo-communes-*.zip",
        "table_supracom_*.csv",
    ),
    "mobpro": (
        "RP*_mobpro*.parquet",
        "FD_MOBPRO_*.csv",
        "RP*_mobpro*.zip",
        "FD_MOBPRO_*.zip",
        "base-flux-mobilite-domicile-lieu-travail-*",
    ),
    "densite": (
        "grille_densite*.xlsx",
        "grille_densite*.zip",
        "grille_densite*.csv",
        "fichier_diffusion_*.xlsx",
        "communes-france-*.csv",
    ),
}


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


def synthetic_note() -> str:
    """The warning of every output computed from a synthetic census."""
    return _(
        "SYNTHÉTIQUE : le fichier du recensement utilisé est synthétique (généré par "
        "tierslieux) ; les chiffres illustrent la méthode et ne décrivent pas la "
        "population réelle."
    )


def demo_note() -> str:
    """The warning of every output on the fictional demo territory."""
    return _(
        "Territoire FICTIF de démonstration : communes, zonages et recensement "
        "sont inventés ; aucun chiffre ne décrit un lieu réel."
    )


def demo_files() -> dict[str, Path]:
    """Return the files of the fictional demo territory shipped with the package."""
    base = Path(str(resources.files("tierslieux") / "data" / "demo"))
    return {
        "communes": base / "communes_fictives.geojson",
        "zonages": base / "zonages_fictifs.csv",
        "labels": base / "libelles_zonages_fictifs.csv",
    }


def _find(data_dir: Path, role: str) -> list[Path]:
    hits: list[Path] = []
    for pattern in DATA_PATTERNS[role]:
        hits.extend(p for p in sorted(data_dir.rglob(pattern)) if p.is_file())
    # keep order of patterns but drop duplicates and sidecar files
    seen: set[Path] = set()
    unique = []
    for path in hits:
        if path not in seen and not path.name.endswith((".meta.json", ".synthetic.json")):
            seen.add(path)
            unique.append(path)
    return unique


def _download(settings: Settings, dataset_id: str) -> Path:
    if settings.offline:
        raise SourceError(
            _(
                "Mode hors ligne : le jeu de données « {id} » n'est pas disponible "
                "localement. Passez le fichier en option ou avec --data.",
                id=dataset_id,
            )
        )
    catalog = load_catalog(settings.catalog)
    return fetch_dataset(catalog[dataset_id], settings.cache_dir / "downloads")


def resolve_communes(settings: Settings, paths: tuple[Path, ...]) -> Communes:
    """Load and merge the commune files, largest first (it gives workplace coordinates)."""
    if not paths and settings.data_dir is not None:
        paths = tuple(_find(settings.data_dir, "communes"))
    if not paths:
        paths = (_download(settings, "communes-api"),)
    loaded = sorted((load_communes(p) for p in paths), key=lambda c: -len(c.table))
    merged = loaded[0]
    for extra in loaded[1:]:
        merged = merge_communes(merged, extra)
    return merged


def _resolve_zonages(settings: Settings, path: Path | None) -> Zonages | None:
    if path is not None:
        return load_zonages(path)
    if settings.data_dir is not None:
        found = _find(settings.data_dir, "zonages")
        if found:
            # most recent vintage: names carry the year, sort gives it last
            return load_zonages(max(found, key=lambda p: p.name))
    return None


def resolve_densite(settings: Settings, path: Path | None) -> Densite | None:
    """The INSEE density grid given, or found in the ``--data`` folder (else ``None``)."""
    if path is not None:
        return load_densite(path)
    if settings.data_dir is not None:
        # INSEE files first (patterns in order), the most recent vintage of a pattern.
        for pattern in DATA_PATTERNS["densite"]:
            hits = [p for p in settings.data_dir.rglob(pattern) if p.is_file()]
            if hits:
                return load_densite(max(hits, key=lambda p: p.name))
    return None


def rurality(
    codes: list[str], zonages: Zonages | None, densite: Densite | None, *, required: str = ""
) -> tuple[pd.DataFrame, str]:
    """Density level, urban-area category and rural flag of ``codes``, and the definition.

    Columns ``code, densite, densite_libelle, categorie_aav, categorie_aav_libelle,
    rural`` (``rural`` is a nullable boolean: unknown when nothing says it); the
    definition is a :class:`~tierslieux.model.rurality.RuralDefinition` value, explained
    by :func:`~tierslieux.model.rurality.rural_definition_note`.  ``required`` names the
    option that needs rurality (``--rural``): nothing to define it is then a SchemaError.
    """
    levels = densite.levels() if densite is not None else {}
    table = zonages.table.set_index("code") if zonages is not None else pd.DataFrame()
    units = {str(k): str(v) for k, v in table.get("uu2020", pd.Series()).dropna().items()}
    categories = {str(k): str(v) for k, v in table.get("cateaav2020", pd.Series()).dropna().items()}
    flags, definition = rural_flags(
        codes, density=levels, urban_unit=units, aav_category=categories
    )
    if required and definition == RuralDefinition.NONE:
        raise SchemaError(f"{required} : {rural_definition_note(definition)}")
    density = pd.Series([levels.get(c) for c in codes], dtype="string")
    category = pd.Series([categories.get(c) for c in codes], dtype="string")
    frame = pd.DataFrame(
        {
            "code": codes,
            "densite": density,
            "densite_libelle": density.map(DENSITY_LABELS).astype("string"),
            "categorie_aav": category,
            "categorie_aav_libelle": category.map(AAV_CATEGORY_LABELS).astype("string"),
            "rural": pd.array(flags, dtype="boolean"),
        }
    )
    return frame, definition


def _resolve_mobpro(settings: Settings, path: Path | None) -> Path:
    if path is not None:
        return path
    if settings.data_dir is not None:
        found = _find(settings.data_dir, "mobpro")
        if found:
            return found[0]
        if settings.offline:
            raise SourceError(
                _(
                    "Aucun fichier MOBPRO (FD_MOBPRO_*.csv, RP*_mobpro.parquet ou "
                    "base-flux-mobilite-domicile-lieu-travail-*) dans {folder}. Passez-le "
                    "avec --mobpro, ou créez un fichier synthétique avec "
                    "« tierslieux synth mobpro ».",
                    folder=settings.data_dir,
                )
            )
    return _download(settings, "mobpro-2021")


def _teleworkable_shares(path: Path | None) -> tuple[dict[str, float], str]:
    if path is None:
        return (
            {code: ref.value for code, ref in TELEWORKABLE_SHARE_BY_CS1.items()},
            TELEWORKABLE_SOURCE,
        )
    frame = read_csv_strings(path, role="parts télétravaillables")
    missing = [c for c in ("cs1", "part") if c not in frame.columns]
    if missing:
        raise SchemaError(
            _(
                "{path} : colonnes {missing} manquantes (attendu : cs1,part[,source]).",
                path=path,
                missing=", ".join(missing),
            )
        )
    shares: dict[str, float] = {}
    for line, (code, value) in enumerate(zip(frame["cs1"], frame["part"], strict=True), start=2):
        try:
            share = float(str(value).replace(",", "."))
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            raise SchemaError(
                _(
                    "{path}, ligne {line} : part « {value} » invalide (nombre entre 0 et 1 "
                    "attendu).",
                    path=path,
                    line=line,
                    value=value,
                )
            )
        shares[str(code).strip()] = share
    source = "; ".join(sorted(set(frame["source"].dropna()))) if "source" in frame else ""
    return shares, source or _("table fournie par l'utilisateur : {path}", path=path)


def _engine(
    settings: Settings, travel_times: Path | None
) -> tuple[TravelTimeEngine, list[Provenance]]:
    if travel_times is not None:
        frame, provenance = load_travel_times(travel_times)
        return TableEngine(frame), [provenance]
    if settings.osrm_url:
        return (
            OsrmEngine(settings.osrm_url, cache_dir=settings.cache_dir / "osrm"),
            [Provenance(role="temps de trajet", location=settings.osrm_url)],
        )
    return StraightLineEngine(), []


def territory_catchments(
    engine: TravelTimeEngine,
    points: pd.DataFrame,
    codes: list[str],
    minutes: float,
    *,
    definition: str = "centre",
    neighbours: bool = True,
) -> Catchments:
    """Catchments of the territory's communes, reaching just outside it when asked.

    Parameters
    ----------
    engine
        Travel-time engine.
    points
        Located communes of the communes file (possibly more than the territory).
    codes
        The territory's communes (the centres).
    minutes
        Threshold N.
    definition
        ``centre`` or ``mutuelle`` (:data:`tierslieux.analysis.catchment.CATCHMENT_DEFINITIONS`).
    neighbours
        Whether communes of the file outside the territory can be members.  They are
        first bounded as the crow flies at :data:`MAX_ROAD_SPEED_KMH`, so that the
        engine (an OSRM server) is asked only about plausible ones.
    """
    inside = points["code"].isin(set(codes))
    territory_points = points[inside]
    reach = possibly_within(territory_points, points[~inside], minutes) if neighbours else None
    return build_catchments(engine, territory_points, minutes, definition=definition, reach=reach)


def possibly_within(origins: pd.DataFrame, others: pd.DataFrame, minutes: float) -> pd.DataFrame:
    """The points of ``others`` that a car could reach from ``origins`` in ``minutes``.

    A bound as the crow flies at :data:`MAX_ROAD_SPEED_KMH` (no detour), so that a
    travel-time engine is then asked only about plausible neighbours.
    """
    if not len(origins) or not len(others):
        return others.iloc[0:0]
    bound = StraightLineEngine(
        StraightLineParameters(detour_factor=1.0, speed_kmh=MAX_ROAD_SPEED_KMH)
    ).within(origins, others, minutes)
    return others[others["code"].isin(set(bound["destination"]))].reset_index(drop=True)


def neighbours_note(neighbours: list[str], minutes: float) -> str:
    """Say which outside communes count in the catchments (or that none do)."""
    if not neighbours:
        return _(
            "Aucune commune hors du territoire n'est à au plus {m:g} minutes de ses communes "
            "dans le fichier des communes (s'il ne couvre que le territoire, fournissez un "
            "fichier plus large pour que les bassins passent la limite).",
            m=minutes,
        )
    shown = ", ".join(neighbours[:10]) + (" …" if len(neighbours) > 10 else "")
    return _(
        "{n} commune(s) hors du territoire, à au plus {m:g} minutes d'une de ses communes, "
        "comptent dans ses bassins (lues dans les mêmes sources) sans figurer dans le "
        "tableau des communes : {codes}.",
        n=len(neighbours),
        m=minutes,
        codes=shown,
    )


def synthesise_mobpro(
    communes: Communes, out: Path, *, seed: int = 0, rows: int | None = None
) -> Path:
    """Write a synthetic MOBPRO detail file for ``communes`` (labelled synthetic)."""
    # The gravity model needs coordinates: communes without any (a handful in national
    # files) are left out of the synthetic file rather than failing the whole run.
    table = communes.table.dropna(subset=["latitude", "longitude"]).reset_index(drop=True)
    return write_synthetic_mobpro(table, out, seed=seed, target_rows=rows)


def run_diagnosis(settings: Settings, request: DiagnoseRequest) -> Diagnosis:  # noqa: PLR0912, PLR0915
    """Run the territorial diagnostic of potential tiers-lieu users.

    Parameters
    ----------
    settings
        Run settings (cache, data folder, thresholds, OSRM server...).
    request
        The territory and the input files.

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
        zonages = _resolve_zonages(settings, request.zonages)
        if zonages is None and settings.data_dir is None and not settings.offline:
            # Zonings are optional for most territories: a failed download is a note.
            try:
                zonages = load_zonages(_download(settings, "zonages-2026"))
            except DownloadError as error:
                notes.append(
                    _("Zonages non téléchargés ({error}) : pas de bassins de vie.", error=error)
                )
        mobpro_path = _resolve_mobpro(settings, request.mobpro)
    densite = resolve_densite(settings, request.densite)  # the demo has none: None
    listed = load_commune_list(Path(territory.code)) if territory.kind == "communes" else None
    codes = select_communes(
        territory, communes.table, zonages.table if zonages else None, listed=listed
    )
    shares, shares_source = _teleworkable_shares(request.teleworkable)
    engine, engine_provenance = _engine(settings, request.travel_times)
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


def synthesise_mobpro_for(
    settings: Settings,
    communes_paths: tuple[Path, ...],
    out: Path,
    *,
    territory: str | None = None,
    seed: int = 0,
    rows: int | None = None,
) -> Path:
    """Write a synthetic MOBPRO file for the communes of ``territory`` (all by default)."""
    communes = resolve_communes(settings, communes_paths)
    if territory:
        spec = parse_territory(territory)
        listed = load_commune_list(Path(spec.code)) if spec.kind == "communes" else None
        codes = set(select_communes(spec, communes.table, None, listed=listed))
        communes = Communes(
            table=communes.table[communes.table["code"].isin(codes)].reset_index(drop=True),
            geometries=communes.geometries,
            provenance=communes.provenance,
        )
    return synthesise_mobpro(communes, out, seed=seed, rows=rows)


def list_datasets(settings: Settings) -> list[Dataset]:
    """Return the entries of the catalogue (packaged, plus the user's override)."""
    return list(load_catalog(settings.catalog).values())


def fetch_datasets(settings: Settings, ids: list[str]) -> list[Path]:
    """Download the datasets ``ids`` of the catalogue into the cache."""
    catalog = load_catalog(settings.catalog)
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise SourceError(
            _(
                "Jeu(x) de données inconnu(s) : {unknown}. Disponibles : {known}.",
                unknown=", ".join(unknown),
                known=", ".join(catalog),
            )
        )
    return [fetch_dataset(catalog[i], settings.cache_dir / "downloads") for i in ids]


# --------------------------------------------------------------------------------------
# Base communities (issue: structures of the study's four steps, and their catchments)
# --------------------------------------------------------------------------------------

STRUCTURE_PATTERNS: dict[str, tuple[str, ...]] = {
    "sirene_etablissements": (
        "StockEtablissement*.parquet",
        "StockEtablissement*.zip",
        "StockEtablissement*.csv",
    ),
    "sirene_unites_legales": (
        "StockUniteLegale*.parquet",
        "StockUniteLegale*.zip",
        "StockUniteLegale*.csv",
    ),
    "rna": ("rna_waldec_*.zip", "rna_waldec_*.csv", "rna_import_*.zip", "rna_import_*.csv"),
    "tiers_lieux": ("CGET_TiersLieux*.csv",),
    "gares": ("gares-de-voyageurs*.csv",),
    "mediation": ("*lieux-de-mediation-numeriques*.json",),
}


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


def _find_one(settings: Settings, explicit: Path | None, role: str) -> Path | None:
    if explicit is not None:
        return explicit
    if settings.data_dir is None:
        return None
    for pattern in STRUCTURE_PATTERNS[role]:
        hits = sorted(p for p in settings.data_dir.rglob(pattern) if p.is_file())
        if hits:
            return hits[-1]
    return None


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


def run_communities(settings: Settings, request: CommunitiesRequest) -> Communities:  # noqa: PLR0915
    """Build the directory of potential base-community structures of a territory.

    Structures come from Sirene (cooperatives, SCOP/SCIC, development actors), the RNA
    (associations), the intercommunalities of the zonings, regional natural parks, a
    user list of actors, and existing places (tiers-lieux, stations, digital-mediation
    points) as anchors. Each is classified by the rules table, rows naming the same
    structure are merged (:func:`~tierslieux.analysis.dedup.deduplicate_structures`)
    and located; then, for each commune, the base community within ``minutes`` and its
    openness are computed (:func:`~tierslieux.analysis.communities.summarise_communities`,
    the definition shared with the site constraint).
    """
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
    check_definition(request.definition)
    territory = parse_territory(request.territory)
    communes = resolve_communes(settings, request.communes)
    zonages = _resolve_zonages(settings, request.zonages)
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
    engine, engine_provenance = _engine(settings, request.travel_times)
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

    etab = _find_one(settings, request.sirene_etablissements, "sirene_etablissements")
    if etab is not None:
        units = _find_one(settings, request.sirene_unites_legales, "sirene_unites_legales")
        sirene, prov = load_sirene(etab, units, communes=codes, cache_dir=cache)
        frames.append(classify(sirene.assign(source_registre="sirene"), rules, networks=networks))
        provenance.append(prov)
        notes.extend(prov.notes)
    else:
        notes.append(_("Sirene non fourni : les étapes 1 à 3 ne viennent que des autres sources."))
    rna_path = _find_one(settings, request.rna, "rna")
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
        path = _find_one(settings, getattr(request, role), role)
        if path is not None:
            frame, prov = loader(path, communes=codes)
            frames.append(frame)
            provenance.append(prov)
    mediation = _find_one(settings, request.mediation, "mediation")
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
