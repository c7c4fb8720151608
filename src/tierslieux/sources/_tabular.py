"""Large national tables scanned by DuckDB: CSV, zipped CSV(s) or Parquet, read as text.

Shared by :mod:`tierslieux.sources.sirene` and :mod:`tierslieux.sources.rna`: a file is
prepared once (:func:`open_tabular`: zip members extracted, Windows-1252 copied as
UTF-8 in the cache), then scanned with a filter pushed into DuckDB
(:func:`run_filtered_query`, whose errors name the file and the line).
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from tierslieux.errors import SchemaError, SourceError
from tierslieux.files import atomic_open, open_zip
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import ARRONDISSEMENT_PARENTS, normalise_commune_code
from tierslieux.sources._files import (
    check_unique_columns,
    detect_encoding,
    extract_zip_member,
    read_header,
    require_file,
    sniff_separator,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "TabularInput",
    "describe_columns",
    "file_key",
    "open_tabular",
    "quote_ident",
    "register_codes",
    "run_filtered_query",
    "sql_literal",
    "wanted_commune_codes",
]

_LINE = re.compile(r"[Ll]ine:?\s*(\d+)")


@dataclass(frozen=True)
class TabularInput:
    """A file ready for a DuckDB scan.

    Attributes
    ----------
    path
        The file actually scanned (a cached extract or UTF-8 copy when needed).
    original
        The file the user gave.
    kind
        ``"csv"`` or ``"parquet"``.
    separator
        CSV separator (``None`` for Parquet).
    columns
        Column names as found in the file.
    """

    path: Path
    original: Path
    kind: str
    separator: str | None
    columns: tuple[str, ...]

    def scan(self, *, ignore_errors: bool = False) -> str:
        """Return the SQL table function reading this file, every column as text."""
        location = sql_literal(str(self.path))
        if self.kind == "parquet":
            return f"read_parquet({location})"
        sep = sql_literal(self.separator or ",")
        flags = ", ignore_errors=true" if ignore_errors else ""
        return (
            f"read_csv({location}, header=true, delim={sep}, quote='\"', escape='\"', "
            f"all_varchar=true, auto_detect=false, columns={self._columns_struct()}{flags})"
        )

    def _columns_struct(self) -> str:
        return "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in self.columns) + "}"


def sql_literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def file_key(path: Path) -> str:
    """Short key of a file's path, size and modification time (for cache names)."""
    stat = path.stat()
    raw = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _transcode_to_utf8(path: Path, cache_dir: Path, encoding: str = "cp1252") -> Path:
    """Write (once) a UTF-8 copy of a Windows-1252 (or UTF-16) file, streamed, in ``cache_dir``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{path.stem}.{file_key(path)}.utf8{path.suffix}"
    if target.exists():
        return target
    # Windows-1252 leaves five bytes undefined; they are replaced rather than fatal.
    with (
        path.open(encoding=encoding, errors="replace", newline="") as src,
        atomic_open(target, encoding="utf-8", newline="") as out,
    ):
        while block := src.read(1 << 20):
            out.write(block)
    return target


def open_tabular(path: Path, *, role: str, cache_dir: Path) -> list[TabularInput]:
    """Prepare a CSV, zipped CSV(s) or Parquet file for DuckDB.

    A zip may hold one or several CSV members (the national RNA export holds one per
    département); each is extracted once into ``cache_dir``. Windows-1252 files are
    copied once as UTF-8 so that DuckDB reads accents right.

    Raises
    ------
    SourceError
        Missing, empty or unreadable file or archive.
    SchemaError
        No separator recognised in a CSV header.
    """
    require_file(path, role)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return [TabularInput(path, path, "parquet", None, ())]
    if suffix == ".zip":
        members = _zip_csv_members(path, role=role)
        dest = cache_dir / f"{path.stem}.{file_key(path)}"
        files = [
            extract_zip_member(path, (".csv",), dest=dest, role=role, prefer=Path(name).name)
            for name in members
        ]
    else:
        files = [path]
    prepared: list[TabularInput] = []
    for file in files:
        require_file(file, role)
        encoding = detect_encoding(file)
        readable = (
            file if encoding == "utf-8-sig" else _transcode_to_utf8(file, cache_dir, encoding)
        )
        header = read_header(readable, "utf-8-sig")
        separator = sniff_separator(header, path=file)
        columns = next(csv.reader([header.lstrip("\ufeff")], delimiter=separator))
        check_unique_columns(columns, path=file)
        prepared.append(
            TabularInput(readable, path, "csv", separator, tuple(c.strip() for c in columns))
        )
    return prepared


def _zip_csv_members(archive: Path, *, role: str) -> list[str]:
    with open_zip(archive, role=role) as zf:
        names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
    if not names:
        raise SourceError(
            _("L'archive {role} {path} ne contient aucun fichier CSV.", role=role, path=archive)
        )
    return sorted(names)


def describe_columns(source: TabularInput, con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Return the column names of ``source`` (read from the Parquet schema if needed)."""
    if source.kind == "csv":
        return source.columns
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source.scan()}").fetchall()
    except duckdb.Error as error:
        raise SourceError(
            _(
                "{path} : fichier Parquet illisible ({error}).",
                path=source.original,
                error=str(error).splitlines()[0],
            )
        ) from error
    return tuple(str(row[0]) for row in rows)


def wanted_commune_codes(communes: Sequence[str]) -> list[str]:
    """Return the commune codes to look for, arrondissements of Paris, Lyon, Marseille added."""
    wanted: set[str] = set()
    for code in communes:
        norm = normalise_commune_code(code)
        if norm is None:
            continue
        wanted.add(norm)
        for first, last, parent in ARRONDISSEMENT_PARENTS:
            if norm == parent:
                wanted.update(str(n) for n in range(first, last + 1))
    return sorted(wanted)


def run_filtered_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    *,
    source: TabularInput,
    ignore_errors: bool,
) -> pd.DataFrame:
    """Run ``sql`` (reading ``source``) and turn DuckDB CSV errors into SchemaError.

    The message names the file and, when DuckDB reports it, the line number.
    """
    try:
        return con.execute(sql).fetchdf()
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as error:
        text = str(error)
        match = _LINE.search(text)
        detail = text.splitlines()[0] if text else type(error).__name__
        hint = (
            ""
            if ignore_errors
            # The command line has no such option: the hint names the Python parameter.
            else _(
                " Corrigez ou supprimez cette ligne (depuis Python, le paramètre "
                "ignore_errors=True des lecteurs l'écarte)."
            )
        )
        if match:
            msg = _(
                "{path}, ligne {line} : ligne mal formée ({detail}).{hint}",
                path=source.original,
                line=match.group(1),
                detail=detail,
                hint=hint,
            )
        else:
            msg = _(
                "{path} : lecture impossible ({detail}).{hint}",
                path=source.original,
                detail=detail,
                hint=hint,
            )
        raise SchemaError(msg) from error


def register_codes(con: duckdb.DuckDBPyConnection, name: str, codes: list[str]) -> None:
    """Create the temporary table ``name`` of codes (bulk, from a frame)."""
    frame = pd.DataFrame({"code": pd.Series(codes, dtype="object")})
    con.register("tl_codes_frame", frame)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT CAST(code AS VARCHAR) AS code "
            "FROM tl_codes_frame"
        )
    finally:
        con.unregister("tl_codes_frame")
