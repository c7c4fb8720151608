"""The analytical workspace: canonical tables built once, opened once by a long process.

``tierslieux data build`` (or :meth:`Workspace.build`) resolves the inputs as every
command does (``--data``, explicit files, the catalogue's downloads, the demo), then
writes one Parquet table per dataset and vintage into a folder, with a manifest
(``manifest.json``) giving for each its source, location, vintage, checksum of the
source and of the table, and build date.  :meth:`Workspace.open` reads the tables
once; :meth:`Workspace.inputs` then returns :class:`~tierslieux.pipeline.inputs.LoadedInputs`
for every use case without opening any source file again (the census stays a
Parquet table queried by DuckDB).  Outputs keep citing the sources' vintages.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pandas as pd

from tierslieux.errors import SchemaError, SourceError, TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.model.types import Provenance
from tierslieux.pipeline._tables import long_table, nested_mapping
from tierslieux.pipeline.inputs import (
    InputFiles,
    LoadedInputs,
    MobproInput,
    find_inputs,
    load_inputs,
    open_mobpro_input,
    resolve_mobpro,
    travel_engine,
)
from tierslieux.sources.communes import Communes
from tierslieux.sources.densite import Densite
from tierslieux.sources.zonages import Zonages

if TYPE_CHECKING:
    from tierslieux.config import Settings

__all__ = ["MANIFEST", "TableEntry", "Workspace", "build_workspace", "default_workspace"]

#: Name of the manifest in a workspace folder.
MANIFEST = "manifest.json"
#: Version of the workspace layout (a newer one is refused with a clear message).
FORMAT_VERSION = 1
_TABLES = "tables"


def default_workspace(settings: Settings) -> Path:
    """The workspace folder used without ``--workspace``: ``<cache>/workspace``."""
    return settings.cache_dir / "workspace"


@dataclass(frozen=True)
class TableEntry:
    """One table of the workspace and where its data came from.

    Attributes
    ----------
    dataset
        ``communes``, ``communes_geometries``, ``zonages``, ``zonages_libelles``,
        ``zonages_tailles``, ``densite``, ``mobpro``, ``mobpro_libelles``.
    file
        Path of the Parquet file, relative to the workspace folder.
    rows
        Number of rows.
    sha256
        Checksum of the Parquet file.
    built
        ISO date and time of the build (UTC).
    provenance
        The source: role, location (path or URL), vintage, its checksum, retrieval date.
    """

    dataset: str
    file: str
    rows: int
    sha256: str
    built: str
    provenance: Provenance

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable mapping (the manifest's entry)."""
        return {
            "dataset": self.dataset,
            "file": self.file,
            "rows": self.rows,
            "sha256": self.sha256,
            "built": self.built,
            "provenance": self.provenance.to_dict(),
        }


def _provenance_from(data: dict[str, Any]) -> Provenance:
    known = set(Provenance.__dataclass_fields__)
    values = {k: v for k, v in data.items() if k in known}
    values["notes"] = tuple(values.get("notes", ()))
    return Provenance(**values)


def _entry_from(data: dict[str, Any]) -> TableEntry:
    return TableEntry(
        dataset=str(data["dataset"]),
        file=str(data["file"]),
        rows=int(data["rows"]),
        sha256=str(data["sha256"]),
        built=str(data["built"]),
        provenance=_provenance_from(dict(data["provenance"])),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slug(text: str | None) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text or "").strip("-").lower()
    return cleaned or "sans-millesime"


@dataclass
class _Writer:
    """Writes the tables of one build into a staging folder."""

    folder: Path
    built: str
    entries: list[TableEntry] = field(default_factory=list)

    def frame(self, dataset: str, frame: pd.DataFrame, provenance: Provenance) -> None:
        name = f"{_TABLES}/{dataset}__{_slug(provenance.vintage)}.parquet"
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(target, index=False)
        self._add(dataset, name, len(frame), provenance)

    def census(self, census: MobproInput, con: duckdb.DuckDBPyConnection) -> None:
        name = f"{_TABLES}/mobpro__{_slug(census.vintage)}.parquet"
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        literal = "'" + str(target).replace("'", "''") + "'"
        con.execute(f"COPY ({census.sql}) TO {literal} (FORMAT parquet)")
        row = con.execute(f"SELECT count(*) FROM read_parquet({literal})").fetchone()
        self._add("mobpro", name, int(row[0]) if row else 0, census.provenance)

    def _add(self, dataset: str, name: str, rows: int, provenance: Provenance) -> None:
        digest = _sha256(self.folder / name)
        self.entries.append(TableEntry(dataset, name, rows, digest, self.built, provenance))


def _geometries_frame(communes: Communes) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": list(communes.geometries),
            "geometrie": [
                json.dumps(g, separators=(",", ":")) for g in communes.geometries.values()
            ],
        }
    )


def _write_inputs(writer: _Writer, inputs: LoadedInputs, settings: Settings) -> dict[str, Any]:
    """Every table of ``inputs``; returns the census metadata for the manifest."""
    communes = inputs.communes
    writer.frame("communes", communes.table, communes.provenance)
    if communes.geometries:
        writer.frame("communes_geometries", _geometries_frame(communes), communes.provenance)
    if inputs.zonages is not None:
        zonages = inputs.zonages
        writer.frame("zonages", zonages.table, zonages.provenance)
        writer.frame("zonages_libelles", long_table(zonages.labels, "libelle"), zonages.provenance)
        writer.frame(
            "zonages_tailles", long_table(zonages.sizes, "nb_communes"), zonages.provenance
        )
    if inputs.densite is not None:
        writer.frame("densite", inputs.densite.table, inputs.densite.provenance)
    census = inputs.mobpro
    if census is None:
        return {}
    with duckdb.connect(config={"memory_limit": settings.duckdb_memory_limit}) as con:
        writer.census(census, con)
    writer.frame("mobpro_libelles", long_table(census.labels, "libelle"), census.provenance)
    return {"kind": census.kind, "vintage": census.vintage, "missing": list(census.missing)}


def _census_for_build(settings: Settings, files: InputFiles) -> MobproInput | None:
    """The census to store: the file given, else one found in ``--data``, else the
    catalogue's (downloaded if allowed); ``None`` when there is none (a note)."""
    if files.demo:
        return None  # the demo inputs carry their synthetic census
    path = files.mobpro
    if path is None and settings.data_dir is not None:
        found = find_inputs(settings.data_dir, "mobpro")
        path = found[0] if found else None
    if path is None and settings.data_dir is None:
        try:
            path = resolve_mobpro(settings, None)
        except TierslieuxError:
            path = None
    return open_mobpro_input(settings, path) if path is not None else None


def build_workspace(settings: Settings, folder: Path, files: InputFiles | None = None) -> Workspace:
    """Resolve the inputs once and write them as a workspace in ``folder``.

    The tables are written to a staging folder, then moved in place with the manifest
    last: an interrupted build leaves the previous workspace usable.

    Raises
    ------
    SourceError, SchemaError
        When an input is missing or unusable (as for the commands), or ``folder``
        cannot be written.
    """
    files = files or InputFiles()
    inputs = load_inputs(settings, files, mobpro=files.demo)
    if not files.demo:
        inputs = replace(inputs, mobpro=_census_for_build(settings, files))
    built = datetime.now(UTC).isoformat(timespec="seconds")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
    except OSError as error:
        raise SourceError(
            _("Impossible d'écrire {path} : {error}.", path=folder, error=error)
        ) from error
    writer = _Writer(staging, built)
    census = _write_inputs(writer, inputs, settings)
    manifest = {
        "format": FORMAT_VERSION,
        "built": built,
        "fictional": inputs.fictional,
        "notes": list(inputs.notes),
        "mobpro": census,
        "tables": [e.to_dict() for e in writer.entries],
    }
    (folder / _TABLES).mkdir(exist_ok=True)
    for entry in writer.entries:
        (staging / entry.file).replace(folder / entry.file)
    staged = staging / MANIFEST
    staged.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    staged.replace(folder / MANIFEST)
    for leftover in sorted(staging.rglob("*"), reverse=True):
        leftover.unlink() if leftover.is_file() else leftover.rmdir()
    staging.rmdir()
    return Workspace.open(folder)


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SourceError(
            _(
                "{path} : pas d'espace de travail ici (construisez-le avec « tierslieux data "
                "build »).",
                path=folder,
            )
        ) from error
    except (OSError, ValueError) as error:
        raise SourceError(
            _("{path} : manifeste illisible ({error}).", path=path, error=error)
        ) from error
    if not isinstance(manifest, dict) or int(manifest.get("format", 0)) > FORMAT_VERSION:
        raise SchemaError(
            _(
                "{path} : espace de travail d'une version plus récente de tierslieux "
                "(reconstruisez-le).",
                path=path,
            )
        )
    return manifest


@dataclass(frozen=True)
class Workspace:
    """An opened workspace: its tables in memory (the census stays a Parquet table).

    Attributes
    ----------
    path
        The workspace folder.
    entries
        The manifest's tables (dataset -> entry), with their provenance.
    communes, zonages, densite, mobpro
        The loaded inputs (``None`` when the workspace has none of them).
    fictional
        True for a workspace of the demo territory.
    """

    path: Path
    entries: dict[str, TableEntry]
    communes: Communes
    zonages: Zonages | None
    densite: Densite | None
    mobpro: MobproInput | None
    fictional: bool = False
    notes: tuple[str, ...] = ()
    built: str = ""

    @classmethod
    def build(cls, settings: Settings, folder: Path, files: InputFiles | None = None) -> Workspace:
        """Same as :func:`build_workspace`."""
        return build_workspace(settings, folder, files)

    @classmethod
    def open(cls, folder: Path, *, verify: bool = False) -> Workspace:
        """Read the workspace of ``folder`` once.

        Parameters
        ----------
        verify
            Check every table against its checksum in the manifest first.

        Raises
        ------
        SourceError
            No workspace, a table missing or (``verify``) altered.
        SchemaError
            A workspace of a newer version.
        """
        folder = Path(folder)
        manifest = _read_manifest(folder)
        entries = {str(e["dataset"]): _entry_from(e) for e in manifest.get("tables", [])}
        if "communes" not in entries:
            raise SourceError(_("{path} : pas de table des communes.", path=folder / MANIFEST))
        if verify:
            _verify(folder, entries)
        reader = _Reader(folder, entries, _workspace_note(folder, str(manifest.get("built", ""))))
        return cls(
            path=folder,
            entries=entries,
            communes=reader.communes(),
            zonages=reader.zonages(),
            densite=reader.densite(),
            mobpro=reader.census(dict(manifest.get("mobpro") or {})),
            fictional=bool(manifest.get("fictional", False)),
            notes=tuple(str(n) for n in manifest.get("notes", [])),
            built=str(manifest.get("built", "")),
        )

    def inputs(self, settings: Settings, *, travel_times: Path | None = None) -> LoadedInputs:
        """Loaded inputs for the use cases (the engine from ``settings`` or ``travel_times``)."""
        engine, provenance = travel_engine(settings, travel_times)
        return LoadedInputs(
            communes=self.communes,
            zonages=self.zonages,
            densite=self.densite,
            mobpro=self.mobpro,
            engine=engine,
            engine_provenance=tuple(provenance),
            fictional=self.fictional,
            notes=self.notes,
        )

    def provenance(self) -> list[Provenance]:
        """The sources of the workspace, one per dataset (geometries and labels aside)."""
        main = ("communes", "zonages", "densite", "mobpro")
        return [self.entries[d].provenance for d in main if d in self.entries]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per table (named by dataset), for queries."""
        con = duckdb.connect()
        for dataset, entry in self.entries.items():
            literal = "'" + str(self.path / entry.file).replace("'", "''") + "'"
            con.execute(f"CREATE VIEW {dataset} AS SELECT * FROM read_parquet({literal})")
        return con

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` on the workspace's views (see :meth:`connect`)."""
        with self.connect() as con:
            return con.execute(sql).df()


def _workspace_note(folder: Path, built: str) -> str:
    return _("lu dans l'espace de travail {path} (construit le {built})", path=folder, built=built)


def _verify(folder: Path, entries: dict[str, TableEntry]) -> None:
    for entry in entries.values():
        path = folder / entry.file
        if not path.is_file() or _sha256(path) != entry.sha256:
            raise SourceError(
                _(
                    "{path} : table absente ou modifiée depuis la construction de l'espace "
                    "de travail (somme de contrôle différente) : reconstruisez-le.",
                    path=path,
                )
            )


@dataclass(frozen=True)
class _Reader:
    """Reads the tables of an opened workspace."""

    folder: Path
    entries: dict[str, TableEntry]
    note: str

    def _frame(self, dataset: str) -> pd.DataFrame | None:
        entry = self.entries.get(dataset)
        if entry is None:
            return None
        path = self.folder / entry.file
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as error:
            raise SourceError(
                _(
                    "{path} : table illisible ({error}) : reconstruisez l'espace de travail.",
                    path=path,
                    error=error,
                )
            ) from error

    def _provenance(self, dataset: str) -> Provenance:
        provenance = self.entries[dataset].provenance
        return replace(provenance, notes=(*provenance.notes, self.note))

    def communes(self) -> Communes:
        table = self._frame("communes")
        if table is None:  # checked by Workspace.open
            raise SourceError(_("{path} : pas de table des communes.", path=self.folder))
        shapes = self._frame("communes_geometries")
        geometries: dict[str, dict[str, Any]] = {}
        if shapes is not None:
            geometries = {
                str(c): json.loads(g)
                for c, g in zip(shapes["code"], shapes["geometrie"], strict=True)
            }
        return Communes(table=table, geometries=geometries, provenance=self._provenance("communes"))

    def zonages(self) -> Zonages | None:
        table = self._frame("zonages")
        if table is None:
            return None
        labels = self._frame("zonages_libelles")
        sizes = self._frame("zonages_tailles")
        return Zonages(
            table=table,
            labels=nested_mapping(labels, "libelle") if labels is not None else {},
            provenance=self._provenance("zonages"),
            sizes={
                level: {code: int(n) for code, n in codes.items()}
                for level, codes in (
                    nested_mapping(sizes, "nb_communes") if sizes is not None else {}
                ).items()
            },
        )

    def densite(self) -> Densite | None:
        table = self._frame("densite")
        return None if table is None else Densite(table, self._provenance("densite"))

    def census(self, meta: dict[str, Any]) -> MobproInput | None:
        entry = self.entries.get("mobpro")
        if entry is None:
            return None
        path = self.folder / entry.file
        labels = self._frame("mobpro_libelles")
        kind: Literal["detail", "flux"] = "flux" if meta.get("kind") == "flux" else "detail"
        literal = "'" + str(path).replace("'", "''") + "'"
        return MobproInput(
            location=path,
            sql=f"SELECT * FROM read_parquet({literal})",
            kind=kind,
            vintage=meta.get("vintage"),
            provenance=self._provenance("mobpro"),
            labels=nested_mapping(labels, "libelle") if labels is not None else {},
            missing=tuple(str(m) for m in meta.get("missing", [])),
            rows=entry.rows,
        )
