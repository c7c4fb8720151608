"""Resolve a use case's inputs: explicit paths, a ``--data`` folder, the catalogue, the demo."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import duckdb
import pandas as pd

from tierslieux.analysis.catchment import (
    Catchments,
    build_catchments,
)
from tierslieux.analysis.territory import select_communes
from tierslieux.analysis.traveltime import StraightLineEngine, TableEngine
from tierslieux.errors import (
    DownloadError,
    Message,
    Problem,
    Problems,
    SchemaError,
    SourceError,
)
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.census_codes import MOBPRO_CODES
from tierslieux.model.codes import named_codes
from tierslieux.model.reference import TELEWORKABLE_SHARE_BY_CS1, TELEWORKABLE_SOURCE
from tierslieux.model.rurality import (
    AAV_CATEGORY_LABELS,
    DENSITY_LABELS,
    RuralDefinition,
    rural_definition_note,
    rural_flags,
)
from tierslieux.model.territory import Territory, parse_territory
from tierslieux.model.traveltime import MAX_ROAD_SPEED_KMH, StraightLineParameters
from tierslieux.model.types import Provenance, file_name
from tierslieux.privacy import mask_url
from tierslieux.sources._files import read_csv_strings
from tierslieux.sources.catalog import fetch_dataset, load_catalog
from tierslieux.sources.communes import (
    Communes,
    combine_communes,
    load_commune_list,
    load_communes,
    require_coordinates,
)
from tierslieux.sources.densite import Densite, load_densite
from tierslieux.sources.mobpro import Mobpro, open_mobpro
from tierslieux.sources.osrm import OsrmEngine
from tierslieux.sources.synthetic import write_synthetic_mobpro
from tierslieux.sources.traveltimes import load_travel_times
from tierslieux.sources.zonages import Zonages, load_zonages

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tierslieux.config import Settings
    from tierslieux.model.traveltime import TravelTimeEngine


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
        "acteurs": base / "acteurs_fictifs.csv",
    }


def find_inputs(data_dir: Path, role: str) -> list[Path]:
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


def download_dataset(settings: Settings, dataset_id: str) -> Path:
    if settings.offline:
        raise SourceError(
            Problem(
                "Mode hors ligne : le jeu de données « {id} » n'est pas disponible "
                "localement. Passez le fichier en option ou avec {data}.",
                {"id": dataset_id},
            )
        )
    catalog = load_catalog(settings.catalog)
    return fetch_dataset(catalog[dataset_id], settings.cache_dir / "downloads")


def find_input(settings: Settings, explicit: Path | None, role: str) -> Path | None:
    if explicit is not None:
        return explicit
    if settings.data_dir is None:
        return None
    for pattern in STRUCTURE_PATTERNS[role]:
        hits = sorted(p for p in settings.data_dir.rglob(pattern) if p.is_file())
        if hits:
            return hits[-1]
    return None


def resolve_communes(settings: Settings, paths: tuple[Path, ...]) -> Communes:
    """Load and merge the commune files, largest first (it gives workplace coordinates).

    The one loader of the command line's ``--communes`` (repeatable: contours and a
    names/coordinates CSV) and of a web project's communes and contours files.

    Raises
    ------
    SchemaError
        When no file locates any commune (a CSV without coordinates, without contours).
    """
    if not paths and settings.data_dir is not None:
        paths = tuple(find_inputs(settings.data_dir, "communes"))
    if not paths:
        paths = (download_dataset(settings, "communes-api"),)
    return combine_communes([load_communes(p) for p in paths])


def resolve_zonages(settings: Settings, path: Path | None) -> Zonages | None:
    if path is not None:
        return load_zonages(path)
    if settings.data_dir is not None:
        found = find_inputs(settings.data_dir, "zonages")
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
    codes: list[str],
    zonages: Zonages | None,
    densite: Densite | None,
    *,
    required: Message | None = None,
) -> tuple[pd.DataFrame, str]:
    """Density level, urban-area category and rural flag of ``codes``, and the definition.

    Columns ``code, densite, densite_libelle, categorie_aav, categorie_aav_libelle,
    rural`` (``rural`` is a nullable boolean: unknown when nothing says it); the
    definition is a :class:`~tierslieux.model.rurality.RuralDefinition` value, explained
    by :func:`~tierslieux.model.rurality.rural_definition_note`.  ``required`` names the
    input that needs rurality (the ``rural`` option): nothing to define it is then a SchemaError.
    """
    levels = densite.levels() if densite is not None else {}
    table = zonages.table.set_index("code") if zonages is not None else pd.DataFrame()
    units = {str(k): str(v) for k, v in table.get("uu2020", pd.Series()).dropna().items()}
    categories = {str(k): str(v) for k, v in table.get("cateaav2020", pd.Series()).dropna().items()}
    flags, definition = rural_flags(
        codes, density=levels, urban_unit=units, aav_category=categories
    )
    if required is not None and definition == RuralDefinition.NONE:
        note = rural_definition_note(definition)
        raise SchemaError(
            Problem("{required} : {note}", {"required": required, "note": note}, field="rural")
        )
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


def resolve_mobpro(settings: Settings, path: Path | None) -> Path:
    if path is not None:
        return path
    if settings.data_dir is not None:
        found = find_inputs(settings.data_dir, "mobpro")
        if found:
            return found[0]
        if settings.offline:
            raise SourceError(
                Problem(
                    "Aucun fichier MOBPRO (FD_MOBPRO_*.csv, RP*_mobpro.parquet ou "
                    "base-flux-mobilite-domicile-lieu-travail-*) dans {folder}. Passez-le "
                    "avec {mobpro}, ou créez un fichier synthétique avec "
                    "« tierslieux synth mobpro ».",
                    {"folder": settings.data_dir},
                    field="mobpro",
                )
            )
    return download_dataset(settings, "mobpro-2021")


def teleworkable_shares(path: Path | None) -> tuple[dict[str, float], str]:
    if path is None:
        return (
            {code: ref.value for code, ref in TELEWORKABLE_SHARE_BY_CS1.items()},
            TELEWORKABLE_SOURCE,
        )
    frame = read_csv_strings(path, role=N_("parts télétravaillables"))
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
    found = Problems()
    expected = ", ".join(sorted(MOBPRO_CODES["cs1"]))
    for line, (code, value) in enumerate(zip(frame["cs1"], frame["part"], strict=True), start=2):
        cs1 = str(code).strip() if isinstance(code, str) else ""
        if cs1 not in MOBPRO_CODES["cs1"]:
            found.add(
                "{path}, ligne {line}, colonne cs1 : code « {value} » inconnu (attendu un "
                "groupe socioprofessionnel Insee : {expected}).",
                path=str(path),
                line=line,
                value=cs1[:40],
                expected=expected,
            )
        try:
            share = float(str(value).replace(",", "."))
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            found.add(
                "{path}, ligne {line} : part « {value} » invalide (nombre entre 0 et 1 attendu).",
                path=str(path),
                line=line,
                value=str(value)[:40],
            )
        elif cs1 in shares:
            found.add(
                "{path}, ligne {line}, colonne cs1 : code « {value} » déjà donné plus haut.",
                path=str(path),
                line=line,
                value=cs1,
            )
        shares[cs1] = share
    found.raise_if_any()
    source = "; ".join(sorted(set(frame["source"].dropna()))) if "source" in frame else ""
    return shares, source or _("table fournie par l'utilisateur : {path}", path=file_name(path))


@dataclass(frozen=True)
class TeleworkableShares:
    """Teleworkable share of each socio-professional category (``CS1``), and its source."""

    shares: dict[str, float]
    source: str


def load_teleworkable(path: Path | None) -> TeleworkableShares:
    """The user's table of teleworkable shares, read once (the reference one without).

    Raises
    ------
    SchemaError
        When the file lacks a column or a share is not a number between 0 and 1.
    """
    shares, source = teleworkable_shares(path)
    return TeleworkableShares(shares, source)


def travel_engine(
    settings: Settings, travel_times: Path | None
) -> tuple[TravelTimeEngine, list[Provenance]]:
    if travel_times is not None:
        frame, provenance = load_travel_times(travel_times)
        return TableEngine(frame), [provenance]
    if settings.osrm_url:
        return (
            OsrmEngine(settings.osrm_url, cache_dir=settings.cache_dir / "osrm"),
            [Provenance(role="temps de trajet", location=mask_url(settings.osrm_url))],
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


def neighbours_note(
    neighbours: list[str], minutes: float, names: Mapping[str, str] | None = None
) -> str:
    """Say which outside communes count in the catchments (or that none do).

    With ``names`` (code -> name), each commune shown is « Name (code) »: a reader
    knows the communes around the territory by their names.
    """
    if not neighbours:
        return _(
            "Aucune commune hors du territoire n'est à au plus {m:g} minutes de ses communes "
            "dans le fichier des communes (s'il ne couvre que le territoire, fournissez un "
            "fichier plus large pour que les bassins passent la limite).",
            m=minutes,
        )
    shown = named_codes(neighbours[:10], names or {}) + (", …" if len(neighbours) > 10 else "")
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


_CODE_LIST = re.compile(r"^[0-9AB]{5}(\s*,\s*[0-9AB]{5})*$", re.IGNORECASE)


def listed_communes(territory: Territory) -> list[str] | None:
    """The codes of a ``communes:`` territory, ``None`` for another kind.

    ``communes:<file>`` reads the file (:func:`~tierslieux.sources.communes.load_commune_list`);
    ``communes:05061,05023`` (codes separated by commas, as a web project writes its
    territory) gives those codes.

    Raises
    ------
    SourceError, SchemaError
        When the file is missing or unreadable.
    """
    if territory.kind != "communes":
        return None
    if _CODE_LIST.match(territory.code.strip()):
        return [code.strip().upper() for code in territory.code.split(",")]
    return load_commune_list(Path(territory.code))


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
        listed = listed_communes(spec)
        codes = set(select_communes(spec, communes.table, None, listed=listed))
        communes = Communes(
            table=communes.table[communes.table["code"].isin(codes)].reset_index(drop=True),
            geometries=communes.geometries,
            provenance=communes.provenance,
        )
    return synthesise_mobpro(communes, out, seed=seed, rows=rows)


# --------------------------------------------------------------------------------------
# Loaded inputs: resolving is one step (files, --data, catalogue, demo, workspace), the
# use cases compute on what it returns without opening any source file.
# --------------------------------------------------------------------------------------

#: Seed and name of the demo's synthetic census (the same for every command).
DEMO_MOBPRO_NAME = "FD_MOBPRO_2021_DEMO_SYNTHETIQUE.csv"
DEMO_MOBPRO_SEED = 2012


@dataclass(frozen=True)
class MobproInput:
    """A MOBPRO table read and checked once, registered on demand on a DuckDB connection.

    Attributes
    ----------
    location
        The file given (or the workspace table), for messages.
    sql
        A ``SELECT`` returning the canonical rows (a normalised Parquet cache or a
        workspace table): registering it opens no source file again.
    kind, vintage, provenance, labels, missing
        As :class:`~tierslieux.sources.mobpro.Mobpro`.
    rows
        The number of canonical rows (counted by DuckDB, the file never loaded in
        memory); ``None`` when not counted.
    """

    location: Path
    sql: str
    kind: Literal["detail", "flux"]
    vintage: str | None
    provenance: Provenance
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    rows: int | None = None

    def register(self, con: duckdb.DuckDBPyConnection, view: str = "mobpro") -> Mobpro:
        """Create the view ``view`` of the canonical rows on ``con``."""
        con.execute(f"CREATE OR REPLACE VIEW {view} AS {self.sql}")
        return Mobpro(
            kind=self.kind,
            view=view,
            vintage=self.vintage,
            provenance=self.provenance,
            labels=self.labels,
            missing=self.missing,
        )


def open_mobpro_input(settings: Settings, path: Path) -> MobproInput:
    """Read and check a MOBPRO file once (normalised into the cache when it is a CSV)."""
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(config={"memory_limit": settings.duckdb_memory_limit}) as con:
        mobpro = open_mobpro(path, con, cache_dir=settings.cache_dir / "mobpro")
        row = con.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = ?", [mobpro.view]
        ).fetchone()
        counted = con.execute(f"SELECT count(*) FROM {mobpro.view}").fetchone()
    definition = str(row[0]) if row else ""
    sql = definition.split(" AS ", 1)[1].rstrip().rstrip(";") if " AS " in definition else ""
    return MobproInput(
        location=path,
        sql=sql,
        kind=mobpro.kind,
        vintage=mobpro.vintage,
        provenance=mobpro.provenance,
        labels=mobpro.labels,
        missing=mobpro.missing,
        rows=int(counted[0]) if counted else None,
    )


@dataclass(frozen=True)
class InputFiles:
    """Where a use case's inputs come from (all optional: found as for the CLI)."""

    communes: tuple[Path, ...] = ()
    zonages: Path | None = None
    mobpro: Path | None = None
    densite: Path | None = None
    travel_times: Path | None = None
    #: The fictional demo territory (its communes, zonings and synthetic census).
    demo: bool = False


class NamesInputFiles(Protocol):
    """A request naming the source files of :func:`load_inputs` (``DiagnoseRequest``,
    ``SitesRequest``, ``DossierRequest``: paths optional, found as for the CLI)."""

    @property
    def communes(self) -> tuple[Path, ...]: ...

    @property
    def zonages(self) -> Path | None: ...

    @property
    def mobpro(self) -> Path | None: ...

    @property
    def densite(self) -> Path | None: ...

    @property
    def travel_times(self) -> Path | None: ...

    @property
    def demo(self) -> bool: ...


def request_files(request: NamesInputFiles) -> InputFiles:
    """The :class:`InputFiles` a request names (its ``files()``)."""
    return InputFiles(
        communes=request.communes,
        zonages=request.zonages,
        mobpro=request.mobpro,
        densite=request.densite,
        travel_times=request.travel_times,
        demo=request.demo,
    )


@dataclass(frozen=True)
class ReadInputs:
    """Inputs already read from the files of an :class:`InputFiles` (``None``: not read)."""

    communes: Communes | None = None
    zonages: Zonages | None = None
    densite: Densite | None = None


@dataclass(frozen=True)
class LoadedInputs:
    """Typed, loaded inputs of the use cases, each with its provenance.

    Attributes
    ----------
    communes
        Communes table, geometries and provenance.
    zonages, densite
        Zonings and density grid, when found (``None`` otherwise).
    mobpro
        The census table, when asked for and found.
    engine, engine_provenance
        Travel-time engine (table, OSRM or straight line) and where its times come from.
    fictional
        True on the demo territory.
    notes
        Notes of the loading step (a download that failed...).
    """

    communes: Communes
    zonages: Zonages | None
    densite: Densite | None
    mobpro: MobproInput | None
    engine: TravelTimeEngine
    engine_provenance: tuple[Provenance, ...] = ()
    fictional: bool = False
    notes: tuple[str, ...] = ()

    def with_engine(
        self, engine: TravelTimeEngine, provenance: tuple[Provenance, ...] = ()
    ) -> LoadedInputs:
        """The same inputs with another travel-time engine."""
        return replace(self, engine=engine, engine_provenance=provenance)


def communes_of(settings: Settings, files: InputFiles) -> Communes:
    """The communes alone (the demo's with ``files.demo``), for the questionnaire."""
    if files.demo:
        return load_communes(demo_files()["communes"])
    return resolve_communes(settings, files.communes)


def _demo_inputs(settings: Settings, files: InputFiles, *, mobpro: bool) -> LoadedInputs:
    """The fictional demo territory: its communes, zonings and synthetic census."""
    demo = demo_files()
    communes = communes_of(settings, files)
    zonages = (
        load_zonages(files.zonages)
        if files.zonages is not None
        else load_zonages(demo["zonages"], demo["labels"])
    )
    census = None
    if mobpro:
        path = files.mobpro
        if path is None:
            workdir = settings.cache_dir / "demo"
            workdir.mkdir(parents=True, exist_ok=True)
            path = synthesise_mobpro(communes, workdir / DEMO_MOBPRO_NAME, seed=DEMO_MOBPRO_SEED)
        census = open_mobpro_input(settings, path)
    engine, provenance = travel_engine(settings, files.travel_times)
    return LoadedInputs(
        communes=communes,
        zonages=zonages,
        densite=resolve_densite(settings, files.densite),
        mobpro=census,
        engine=engine,
        engine_provenance=tuple(provenance),
        fictional=True,
    )


def load_inputs(
    settings: Settings,
    files: InputFiles | None = None,
    *,
    mobpro: bool = True,
    download_zonages: bool = False,
    read: ReadInputs | None = None,
) -> LoadedInputs:
    """Resolve and load a use case's inputs once (files, ``--data``, catalogue, demo).

    Parameters
    ----------
    settings
        Run settings (data folder, cache, offline, OSRM server...).
    files
        Explicit files and the demo flag (default: everything found in ``data_dir``).
    mobpro
        Whether the census is needed (it is resolved, read and checked now).
    download_zonages
        Download the zonings when none is given nor found (online only); a failed
        download is a note, as zonings are optional for most territories.
    read
        Inputs already read from ``files`` by the same readers (a web project's files,
        kept prepared: :mod:`tierslieux.pipeline._prepared_inputs`): not read again;
        the others are resolved as without it.

    Raises
    ------
    SourceError, SchemaError
        When a file is missing or unusable, or no census is found (``mobpro``).
    """
    files = files or InputFiles()
    if files.demo:
        return _demo_inputs(settings, files, mobpro=mobpro)
    notes: list[str] = []
    read = read or ReadInputs()
    communes = (
        read.communes if read.communes is not None else resolve_communes(settings, files.communes)
    )
    zonages = read.zonages if read.zonages is not None else resolve_zonages(settings, files.zonages)
    if zonages is None and download_zonages and settings.data_dir is None and not settings.offline:
        try:
            zonages = load_zonages(download_dataset(settings, "zonages-2026"))
        except DownloadError as error:
            notes.append(
                _("Zonages non téléchargés ({error}) : pas de bassins de vie.", error=error)
            )
    census = open_mobpro_input(settings, resolve_mobpro(settings, files.mobpro)) if mobpro else None
    engine, provenance = travel_engine(settings, files.travel_times)
    return LoadedInputs(
        communes=communes,
        zonages=zonages,
        densite=(
            read.densite if read.densite is not None else resolve_densite(settings, files.densite)
        ),
        mobpro=census,
        engine=engine,
        engine_provenance=tuple(provenance),
        notes=tuple(notes),
    )


def territory_codes(inputs: LoadedInputs, territory: str) -> tuple[list[str], str]:
    """The territory's commune codes in ``inputs`` and its label (the demo's own)."""
    spec = parse_territory(territory)
    listed = listed_communes(spec)
    zonings = inputs.zonages.table if inputs.zonages is not None else None
    codes = select_communes(spec, inputs.communes.table, zonings, listed=listed)
    require_coordinates(inputs.communes, codes)  # every caller computes catchments
    return codes, territory_name(inputs, territory)


#: Territory kind -> level of the zonings' labels that names it.
_NAME_LEVELS = {"region": "reg", "dep": "dep", "epci": "epci", "bv": "bv2022"}
#: Columns of a communes file naming each commune's zones (the « communes de France »
#: file of data.gouv.fr: ``dep_nom``, ``reg_nom``, ``epci_nom``), compared in lower case.
_ZONE_NAME_COLUMNS = {
    "dep": ("dep_nom", "nom_departement", "nom_dep", "libelle_departement"),
    "reg": ("reg_nom", "nom_region", "nom_reg", "libelle_region"),
    "epci": ("epci_nom", "nom_epci", "libelle_epci"),
}


def zone_names(communes: Communes | None, zonages: Zonages | None) -> dict[str, dict[str, str]]:
    """Level (``dep``, ``reg``, ``epci``, ``bv2022``...) -> zone code -> official name.

    Every name a loaded file gives: the zonings' labels first, then the zone names
    columns of the communes file (``dep_nom``...) for the zones the labels lack.
    """
    names: dict[str, dict[str, str]] = {
        level: dict(mapping) for level, mapping in (zonages.labels if zonages else {}).items()
    }
    if communes is None:
        return names
    table = communes.table
    by_lower = {str(c).strip().lower(): c for c in table.columns}
    for level, aliases in _ZONE_NAME_COLUMNS.items():
        column = next((by_lower[a] for a in aliases if a in by_lower), None)
        if column is None or level not in table.columns:
            continue
        pairs = table[[level, column]].dropna()
        found = dict(zip(pairs[level].astype(str), pairs[column].astype(str), strict=True))
        names[level] = {**{c: n for c, n in found.items() if c and n}, **names.get(level, {})}
    return names


def territory_name(inputs: LoadedInputs, territory: str) -> str:
    """The official name of a territory (« Hautes-Alpes », « CC du Briançonnais »).

    Read from the zonings' labels (``LIBGEO`` of the Insee labels, ``LIBEPCI``) or the
    communes file's zone names (:func:`zone_names`), the demo's too (its invented
    names, marked FICTIF); a territory no file names keeps its generic label
    (« Département 05 »), the demo a fictional one.
    """
    if inputs.fictional and not territory.strip():
        return _("Territoire fictif de démonstration")
    spec = parse_territory(territory)
    name = territory_name_in(zone_names(inputs.communes, inputs.zonages), spec)
    if name:
        return name
    return _("Territoire fictif de démonstration") if inputs.fictional else spec.label()


def territory_name_in(names: Mapping[str, Mapping[str, str]], spec: Territory) -> str | None:
    """The name of ``spec`` in ``names`` (:func:`zone_names`), ``None`` when unknown."""
    level = _NAME_LEVELS.get(spec.kind)
    name = names.get(level, {}).get(spec.code) if level is not None else None
    return str(name) if name else None
