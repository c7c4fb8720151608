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

from tierslieux.analysis.catchment import catchment_pairs, sum_over_catchments
from tierslieux.analysis.classify import classify, load_rules
from tierslieux.analysis.communities import summarise_communities
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
from tierslieux.model.structures import STRUCTURE_COLUMNS
from tierslieux.model.territory import parse_territory
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
from tierslieux.sources.mobpro import open_mobpro
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
    "run_diagnosis",
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


def synthesise_mobpro(
    communes: Communes, out: Path, *, seed: int = 0, rows: int | None = None
) -> Path:
    """Write a synthetic MOBPRO detail file for ``communes`` (labelled synthetic)."""
    # The gravity model needs coordinates: communes without any (a handful in national
    # files) are left out of the synthetic file rather than failing the whole run.
    table = communes.table.dropna(subset=["latitude", "longitude"]).reset_index(drop=True)
    return write_synthetic_mobpro(table, out, seed=seed, target_rows=rows)


def run_diagnosis(settings: Settings, request: DiagnoseRequest) -> Diagnosis:  # noqa: PLR0915
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
    listed = load_commune_list(Path(territory.code)) if territory.kind == "communes" else None
    codes = select_communes(
        territory, communes.table, zonages.table if zonages else None, listed=listed
    )
    shares, shares_source = _teleworkable_shares(request.teleworkable)
    engine, engine_provenance = _engine(settings, request.travel_times)
    points = communes.table[["code", "latitude", "longitude"]].dropna()

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
            territory=codes,
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
    names = table["nom"].reindex(indicators["code"]).to_numpy()
    result = indicators.assign(nom=names)
    zone_columns = [
        c for c in ("bv2022", "epci", "cateaav2020", "dep") if zonages and c in zonages.table
    ]
    if zonages is not None and zone_columns:
        result = result.merge(zonages.table[["code", *zone_columns]], on="code", how="left")
    result["effectifs_faibles"] = flag_small_counts(result, INDICATORS)
    result = result[
        ["code", "nom", *INDICATORS, *EXTRA_COLUMNS, *zone_columns, "effectifs_faibles"]
    ]

    territory_points = points[points["code"].isin(codes)]
    pairs = catchment_pairs(engine, territory_points, minutes)
    catch = sum_over_catchments(indicators, pairs, columns=[*INDICATORS, *EXTRA_COLUMNS])
    catch = catch.assign(nom=table["nom"].reindex(catch["code"]).to_numpy())
    catch = catch[["code", "nom", "nb_communes", *INDICATORS, *EXTRA_COLUMNS]]
    if mobpro.kind != "flux":
        catch = catch.sort_values("potentiel", ascending=False, kind="stable")

    bassins = None
    if zonages is not None and "bv2022" in zonages.table:
        bassins = _by_bassin(result, zonages)

    provenance = [communes.provenance, mobpro.provenance, *engine_provenance]
    if zonages is not None:
        provenance.insert(1, zonages.provenance)
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
    )


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


def run_communities(settings: Settings, request: CommunitiesRequest) -> Communities:  # noqa: PLR0915
    """Build the directory of potential base-community structures of a territory.

    Structures come from Sirene (cooperatives, SCOP/SCIC, development actors), the RNA
    (associations), the intercommunalities of the zonings, regional natural parks, a
    user list of actors, and existing places (tiers-lieux, stations, digital-mediation
    points) as anchors. Each is classified by the rules table and located; then, for
    each commune, the structures within ``minutes`` are counted by category.
    """
    minutes = request.minutes if request.minutes is not None else settings.catchment_minutes
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

    etab = _find_one(settings, request.sirene_etablissements, "sirene_etablissements")
    if etab is not None:
        units = _find_one(settings, request.sirene_unites_legales, "sirene_unites_legales")
        sirene, prov = load_sirene(etab, units, communes=codes, cache_dir=cache)
        frames.append(classify(sirene.assign(source_registre="sirene"), rules))
        provenance.append(prov)
    else:
        notes.append(_("Sirene non fourni : les étapes 1 à 3 ne viennent que des autres sources."))
    rna_path = _find_one(settings, request.rna, "rna")
    if rna_path is not None:
        rna, prov = load_rna(rna_path, communes=codes, cache_dir=cache)
        frames.append(classify(rna.assign(source_registre="rna"), rules))
        provenance.append(prov)
    else:
        notes.append(_("RNA non fourni : l'étape 4 (associations) reste à compléter."))
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
    # Structures without coordinates are placed at their commune's centre (flagged).
    centres = communes.table.set_index("code")[["latitude", "longitude"]]
    missing = structures["latitude"].isna() | structures["longitude"].isna()
    structures["position_approchee"] = missing
    fill = centres.reindex(structures.loc[missing, "code_commune"])
    structures.loc[missing, "latitude"] = fill["latitude"].to_numpy()
    structures.loc[missing, "longitude"] = fill["longitude"].to_numpy()
    structures = structures.drop_duplicates(subset=["identifiant"]).reset_index(drop=True)
    if "siren" in structures.columns:
        # An intercommunality found in Sirene is the same actor as its "epci:" row.
        in_sirene = {f"epci:{s}" for s in structures["siren"].dropna().astype(str)}
        structures = structures[~structures["identifiant"].isin(in_sirene)].reset_index(drop=True)
    ordered = [*STRUCTURE_COLUMNS, *[c for c in structures.columns if c not in STRUCTURE_COLUMNS]]
    structures = structures[ordered]

    engine, engine_provenance = _engine(settings, request.travel_times)
    provenance.extend(engine_provenance)
    points = communes.table[["code", "latitude", "longitude"]].dropna()
    pairs = catchment_pairs(engine, points[points["code"].isin(codes)], minutes)
    summary = summarise_communities(structures, pairs, codes)
    summary.insert(
        1, "nom", communes.table.set_index("code")["nom"].reindex(summary["code"]).to_numpy()
    )
    return Communities(
        territory_label=territory.label(),
        structures=structures,
        communities=summary,
        provenance=tuple(provenance),
        minutes=minutes,
        engine=engine.name,
        notes=tuple(notes),
    )
