"""Plumbing shared by the readers: checks, encodings, separators, archives, columns.

Every function raises :class:`~tierslieux.errors.SourceError` (cannot read) or
:class:`~tierslieux.errors.SchemaError` (content not as expected) with a French
message naming the file, the line or column, and what was expected.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError, SourceError
from tierslieux.files import (
    atomic_write_text,
    clean_partial_files,
    extract_member,
    open_zip,
    unguard_frame,
)
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "cached_sha256",
    "check_cell_counts",
    "check_unique_columns",
    "detect_encoding",
    "extract_zip_member",
    "find_column",
    "read_csv_strings",
    "require_file",
    "sha256_of",
    "sniff_separator",
    "width_error",
    "width_problem",
    "zip_member_names",
]

_SAMPLE_BYTES = 1 << 16
ENCODINGS = ("utf-8-sig", "cp1252")


def require_file(path: Path, role: str) -> Path:
    """Return ``path`` if it is a non-empty readable file, else raise SourceError."""
    if not path.exists():
        raise SourceError(_("Fichier {role} introuvable : {path}.", role=role, path=path))
    if path.is_dir():
        raise SourceError(
            _("{path} est un dossier ; un fichier {role} était attendu.", path=path, role=role)
        )
    if path.stat().st_size == 0:
        raise SourceError(_("Le fichier {role} {path} est vide.", role=role, path=path))
    return path


def sha256_of(path: Path) -> str:
    """Return the SHA-256 of a file, read by blocks (files can be several GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_sha256(path: Path, cache_dir: Path) -> str:
    """Return the SHA-256 of ``path``, remembered in ``cache_dir`` by path, size and mtime.

    National files weigh up to several GB: hashing them on every run would cost
    seconds, so the digest is stored once per version of the file.
    """
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    memo = cache_dir / "sha256" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".txt")
    if memo.is_file():
        digest = memo.read_text(encoding="ascii").strip()
        if len(digest) == 64:
            return digest
    digest = sha256_of(path)
    atomic_write_text(memo, digest, encoding="ascii")
    return digest


def zip_member_names(archive: Path, *, role: str) -> list[str]:
    """Return the names of the files in ``archive``, or raise SourceError if unreadable."""
    with open_zip(archive, role=role) as zf:
        return [info.filename for info in zf.infolist() if not info.is_dir()]


def detect_encoding(path: Path, *, sample: int = _SAMPLE_BYTES) -> str:
    """Guess the text encoding of a file: UTF-16 with BOM, UTF-8 (with or without BOM)
    or Windows-1252.

    Older INSEE, Sirene and RNA files are in Latin-1/Windows-1252; newer ones in
    UTF-8; a spreadsheet's « Unicode text » export is UTF-16 with its byte-order mark
    (``utf-16``, read as such rather than as garbled Windows-1252).  A sample that does
    not decode as UTF-8 is taken as Windows-1252, which decodes any byte and is a
    superset of Latin-1 for printable characters.
    """
    with path.open("rb") as handle:
        head = handle.read(sample)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        # A multi-byte character cut at the end of the sample is not an error.
        head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return "cp1252"
    return "utf-8-sig"


def sniff_separator(header: str, *, path: Path, candidates: str = ";,\t|") -> str:
    """Return the separator used in a CSV ``header`` line."""
    counts = {sep: header.count(sep) for sep in candidates}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise SchemaError(
            _(
                "{path}, ligne 1 : aucun séparateur de colonnes reconnu (attendu l'un de "
                "{expected}). Le fichier est-il bien un CSV ?",
                path=path,
                expected=" ".join(repr(c) for c in candidates),
            )
        )
    return best


def find_column(
    columns: Iterable[str], aliases: Sequence[str], *, path: Path | str, what: str
) -> str:
    """Return the first column of ``columns`` matching one of ``aliases`` (case-insensitive).

    Raises
    ------
    SchemaError
        When no alias matches, naming the file, what was looked for and the columns found.
    """
    found = find_optional_column(columns, aliases)
    if found is None:
        columns = list(columns)
        raise SchemaError(
            _(
                "{path} : colonne {what} introuvable (attendu l'une de : {aliases} ; "
                "colonnes présentes : {columns}).",
                path=path,
                what=what,
                aliases=", ".join(aliases),
                columns=", ".join(columns[:30]) + (" …" if len(columns) > 30 else ""),
            )
        )
    return found


def check_unique_columns(columns: Sequence[str], *, path: Path | str, line: int = 1) -> None:
    """Refuse a header that names a column twice (case and spaces ignored).

    Raises
    ------
    SchemaError
        Naming the file, the header line, each repeated column and its positions.
    """
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(columns, start=1):
        positions.setdefault(str(name).strip().lstrip("\ufeff").lower(), []).append(index)
    repeated = {key: where for key, where in positions.items() if key and len(where) > 1}
    if repeated:
        raise SchemaError(
            *(
                _(
                    "{path}, ligne {line} : colonne « {column} » en double dans l'en-tête "
                    "(positions {positions}) ; chaque nom de colonne doit être unique.",
                    path=path,
                    line=line,
                    column=str(columns[where[0] - 1]).strip().lstrip("\ufeff"),
                    positions=", ".join(str(p) for p in where),
                )
                for where in repeated.values()
            )
        )


def find_optional_column(columns: Iterable[str], aliases: Sequence[str]) -> str | None:
    """Like :func:`find_column` but return ``None`` when nothing matches."""
    by_key = {c.strip().lower(): c for c in columns}
    for alias in aliases:
        hit = by_key.get(alias.lower())
        if hit is not None:
            return hit
    return None


def extract_zip_member(
    archive: Path, suffixes: Sequence[str], *, dest: Path, role: str, prefer: str | None = None
) -> Path:
    """Extract from ``archive`` the member whose name ends with one of ``suffixes``.

    The member is extracted into ``dest`` (a cache folder) once; later calls reuse it
    when its size matches.  ``prefer`` picks, among several candidates, the one whose
    name contains that text (e.g. ``"FD_MOBPRO"`` rather than ``"varmod"``).
    """
    with open_zip(archive, role=role) as zf:
        names = [n for n in zf.namelist() if n.lower().endswith(tuple(s.lower() for s in suffixes))]
        if prefer is not None:
            preferred = [n for n in names if prefer.lower() in Path(n).name.lower()]
            names = preferred or names
        if not names:
            raise SourceError(
                _(
                    "L'archive {role} {path} ne contient aucun fichier {suffixes} "
                    "(contenu : {content}).",
                    role=role,
                    path=archive,
                    suffixes="/".join(suffixes),
                    content=", ".join(zf.namelist()[:10]) or _("archive vide"),
                )
            )
        info = zf.getinfo(names[0])
        dest.mkdir(parents=True, exist_ok=True)
        clean_partial_files(dest)  # extractions interrupted by Ctrl-C or a kill
        target = dest / Path(info.filename).name
        if target.exists() and target.stat().st_size == info.file_size:
            return target
        return extract_member(zf, info, target, path=archive, role=role)


def read_header(path: Path, encoding: str) -> str:
    """Return the first line of a text file."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        return handle.readline().rstrip("\r\n")


def read_csv_strings(
    path: Path,
    *,
    role: str,
    separator: str | None = None,
    encoding: str | None = None,
    skiprows: int = 0,
) -> pd.DataFrame:
    """Read a small or medium CSV entirely as strings, with clear errors.

    Encoding and separator are detected when not given.  Every value is kept as
    text (INSEE codes must keep their leading zeros); empty cells become ``NA``.  The
    apostrophe that tierslieux's spreadsheet exports put before a text that looks like
    a formula (:func:`tierslieux.files.spreadsheet_safe`) is removed, so that its own
    files (``structures.csv``, ``groups.csv``...) read back as they were computed.
    """
    require_file(path, role)
    encoding = encoding or detect_encoding(path)
    if separator is None:
        with path.open(encoding=encoding, errors="replace", newline="") as handle:
            for _skip in range(skiprows):
                handle.readline()
            header = handle.readline()
        separator = sniff_separator(header, path=path)
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        for _skip in range(skiprows):
            handle.readline()
        header = handle.readline()
    try:
        names = next(csv.reader([header], delimiter=separator), [])
    except csv.Error:
        names = []  # pandas reports the malformed header itself
    check_unique_columns(names, path=path, line=skiprows + 1)
    try:
        frame = pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            encoding=encoding,
            skiprows=skiprows,
            keep_default_na=False,
            na_values=[""],
            quoting=csv.QUOTE_MINIMAL,
        )
    except pd.errors.ParserError as error:
        raise SchemaError(
            _("{path} : ligne mal formée ({error}).", path=path, error=error)
        ) from error
    except UnicodeDecodeError as error:
        raise SchemaError(
            _(
                "{path} : encodage illisible à l'octet {position} (attendu UTF-8 ou Windows-1252).",
                path=path,
                position=error.start,
            )
        ) from error
    check_cell_counts(path, encoding=encoding, separator=separator, skiprows=skiprows)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return unguard_frame(frame)


_MAX_SHORT_LINES = 5


def width_problem(line: int, cells: int, columns: int) -> str:
    """« ligne 4 : 3 cellule(s) au lieu de 5 » (see :func:`width_error`)."""
    return _(
        "ligne {line} : {cells} cellule(s) au lieu de {columns}",
        line=line,
        cells=cells,
        columns=columns,
    )


def width_error(where: str | Path, count: int, problems: Sequence[str]) -> SchemaError:
    """The error of a table whose lines do not all have as many cells as its header."""
    return SchemaError(
        _(
            "{path} : {n} ligne(s) n'ont pas autant de cellules que l'en-tête ({details}). "
            "Un séparateur a peut-être été ajouté ou effacé, ou un guillemet n'est pas "
            "refermé.",
            path=where,
            n=count,
            details=" ; ".join(problems[:_MAX_SHORT_LINES]),
        )
    )


def check_cell_counts(path: Path, *, encoding: str, separator: str, skiprows: int = 0) -> None:
    """Refuse a CSV whose data lines do not have as many cells as its header.

    pandas pads a line with too few cells with empty values: a value shifted or lost
    by a hand edit (a separator deleted) would be read as missing without a word.
    Blank lines are skipped; empty cells beyond the header are tolerated (some tools
    end every line with a separator).  The message names the file and the first lines.
    """
    wrong: list[str] = []
    count = 0
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        for _skip in range(skiprows):
            handle.readline()
        reader = csv.reader(handle, delimiter=separator)
        try:
            header = next(reader, [])
            start = reader.line_num + 1
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in cells):
                    continue
                size = len(cells)
                if size > len(header) and not any(c.strip() for c in cells[len(header) :]):
                    size = len(header)
                if size != len(header):
                    count += 1
                    if len(wrong) < _MAX_SHORT_LINES:
                        wrong.append(width_problem(line + skiprows, len(cells), len(header)))
        except csv.Error as error:
            raise SchemaError(
                _("{path} : ligne mal formée ({error}).", path=path, error=error)
            ) from error
    if wrong:
        raise width_error(path, count, wrong)


def text_sample(path: Path, encoding: str, lines: int = 5) -> list[str]:
    """Return the first ``lines`` lines of a text file (for messages)."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        return [
            line.rstrip("\r\n")
            for line in io.StringIO("".join(handle.readline() for _ in range(lines)))
        ]
