"""Shared file plumbing: atomic writes, output folders, zip archives, spreadsheet CSV.

Every layer may use this module (like :mod:`tierslieux.errors` and
:mod:`tierslieux.i18n`): it knows files, not datasets.

* **Atomic writes.** :func:`atomic_path` yields a temporary path beside the target
  (same folder, hence same file system); when the block ends without error the file is
  flushed to disk (``fsync``) and renamed over the target with :func:`os.replace`, else
  it is deleted: a reader never sees a half-written file and a failed write leaves the
  old file untouched.  :func:`atomic_open`, :func:`atomic_write_bytes` and
  :func:`atomic_write_text` are built on it; :func:`atomic_output_dir` does the same
  for a whole output folder.
* **Zip archives.** :func:`open_zip` opens an archive and turns a truncated or corrupt
  one into the one French message, whatever the reader.
* **Spreadsheet CSV.** :func:`write_spreadsheet_csv` (rows) and
  :func:`frame_spreadsheet_csv` (a data frame) are the writers of every CSV meant to be
  opened in a spreadsheet; text cells that a spreadsheet would run as a formula get a
  leading apostrophe (:func:`spreadsheet_safe`), which :func:`spreadsheet_unguard` (and
  the readers of tierslieux's own files) removes again.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import pandas as pd

from tierslieux.errors import SourceError, TierslieuxError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = [
    "SpreadsheetWriter",
    "atomic_open",
    "atomic_output_dir",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "frame_spreadsheet_csv",
    "guard_frame",
    "open_zip",
    "spreadsheet_csv",
    "spreadsheet_safe",
    "spreadsheet_unguard",
    "spreadsheet_writer",
    "unguard_frame",
    "write_output_files",
    "write_spreadsheet_csv",
    "zip_error",
]

#: Characters that make a spreadsheet read a cell as a formula (CSV injection, OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A cell is guarded when, after any apostrophes already there and leading spaces, it
# starts like a formula.  Counting the existing apostrophes makes the guard reversible:
# unguarding removes exactly the one apostrophe the guard added.
_GUARDED = re.compile(r"'*[ \t\r\n\f\v]*[=+\-@\t\r]")
_UNGUARD = re.compile(r"'(?='*[ \t\r\n\f\v]*[=+\-@\t\r])")
_PRIVATE = 0o600
_DEFAULT = 0o666  # the umask applies, as for any file the user creates


# --- atomic writes ---------------------------------------------------------------------


def _write_error(
    path: Path, error: OSError, error_type: Callable[[str], TierslieuxError]
) -> TierslieuxError:
    return error_type(_("Impossible d'écrire {path} : {error}.", path=path, error=error))


@contextmanager
def atomic_path(
    target: Path,
    *,
    private: bool = False,
    error_type: Callable[[str], TierslieuxError] = SourceError,
) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The temporary file exists (empty) when the block starts, so that tools which write
    to a path (DuckDB ``COPY``, pandas) can use it.  On success it is ``fsync``-ed and
    moved into place with :func:`os.replace`; if the block raises, it is deleted and
    ``target`` is left as it was.

    Parameters
    ----------
    target
        The final file.  Its folder is created if needed.
    private
        Create the file readable by its owner only (``0600``: personal data).
    error_type
        Error raised, with a French message naming the file, when the file cannot be
        created, flushed or renamed (:class:`~tierslieux.errors.SourceError` by
        default, :class:`~tierslieux.errors.StoreError` for store exports).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        handle = os.open(
            staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE if private else _DEFAULT
        )
        os.close(handle)
    except OSError as error:
        raise _write_error(target, error, error_type) from error
    try:
        yield staging
        with staging.open("rb+") as stream:
            os.fsync(stream.fileno())
        staging.replace(target)
    except OSError as error:
        if isinstance(error, TierslieuxError):
            raise
        raise _write_error(target, error, error_type) from error
    finally:
        staging.unlink(missing_ok=True)


@contextmanager
def atomic_open(
    target: Path,
    mode: Literal["w", "wb"] = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
    private: bool = False,
    error_type: Callable[[str], TierslieuxError] = SourceError,
) -> Iterator[IO[Any]]:
    """Open a stream whose content replaces ``target`` only if the block succeeds.

    ``mode`` is ``"w"`` (text, with ``encoding`` and ``newline``) or ``"wb"``.  See
    :func:`atomic_path` for ``private`` and ``error_type``.
    """
    with atomic_path(target, private=private, error_type=error_type) as staging:
        try:
            stream: IO[Any] = (
                staging.open("wb")
                if mode == "wb"
                else staging.open("w", encoding=encoding, newline=newline)
            )
        except OSError as error:
            raise _write_error(Path(target), error, error_type) from error
        with stream:
            yield stream


def atomic_write_bytes(
    path: Path,
    data: bytes,
    *,
    private: bool = False,
    error_type: Callable[[str], TierslieuxError] = SourceError,
) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); return ``path``."""
    with atomic_path(path, private=private, error_type=error_type) as staging:
        staging.write_bytes(data)
    return Path(path)


def atomic_write_text(
    path: Path,
    text: str,
    *,
    encoding: str = "utf-8",
    private: bool = False,
    error_type: Callable[[str], TierslieuxError] = SourceError,
) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`); return ``path``."""
    return atomic_write_bytes(path, text.encode(encoding), private=private, error_type=error_type)


@contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out``, else drop it.

    The staging folder sits beside ``out`` (same file system) so that each move is a
    rename.  If the block raises, ``out`` is left exactly as it was.

    Raises
    ------
    SourceError
        When the output folder cannot be created.
    """
    out = Path(out).resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as error:
        raise SourceError(
            _("Impossible de créer le dossier de sortie {path} : {error}.", path=out, error=error)
        ) from error
    try:
        yield staging
        try:
            out.mkdir(parents=True, exist_ok=True)
            for item in sorted(staging.iterdir()):
                item.replace(out / item.name)
        except OSError as error:
            raise _write_error(out, error, SourceError) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_output_files(out: Path, files: Iterable[tuple[str, bytes]]) -> list[Path]:
    """Write every ``(name, data)`` into the folder ``out``, all or nothing.

    Each file is written and ``fsync``-ed in a staging folder beside ``out``, then moved
    into place (:func:`atomic_output_dir`).  Returns the paths written (``out / name``), in
    the given order.
    """
    names: list[str] = []
    with atomic_output_dir(out) as staging:
        for name, data in files:
            try:
                with (staging / name).open("wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
            except OSError as error:
                raise _write_error(Path(out) / name, error, SourceError) from error
            names.append(name)
    return [Path(out) / name for name in names]


# --- zip archives ----------------------------------------------------------------------

#: What a truncated or corrupt archive raises while being opened or read.
ZIP_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError)


def zip_error(path: Path | str, role: str, error: Exception) -> SourceError:
    """Return the error of an unreadable archive: role, path, cause, what to do."""
    return SourceError(
        _(
            "L'archive {role} {path} est illisible ou tronquée ({error}). "
            "Téléchargez-la de nouveau.",
            role=role,
            path=path,
            error=error,
        )
    )


@contextmanager
def open_zip(
    path: Path | IO[bytes], *, role: str, name: Path | str | None = None
) -> Iterator[zipfile.ZipFile]:
    """Open a zip archive; a truncated or corrupt one raises :func:`zip_error`.

    Errors raised while reading members inside the block (a bad CRC, a cut member) get
    the same message.  ``name`` is the path shown when ``path`` is a stream.

    Raises
    ------
    SourceError
        The archive is illisible (the message names ``role`` and the file).
    """
    shown = name if name is not None else path
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except ZIP_ERRORS as error:
        raise zip_error(str(shown), role, error) from error


# --- spreadsheet CSV -------------------------------------------------------------------


def spreadsheet_safe(text: str) -> str:
    """Return ``text`` so that a spreadsheet shows it instead of running it as a formula.

    A text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also
    after leading spaces) gets a leading apostrophe.  Texts already starting with
    apostrophes before such a character get one more, so that
    :func:`spreadsheet_unguard` gives back exactly the original text.
    """
    return "'" + text if _GUARDED.match(text) else text


def spreadsheet_unguard(text: str) -> str:
    """Undo :func:`spreadsheet_safe`: remove the apostrophe it added, if any."""
    return text[1:] if _UNGUARD.match(text) else text


def _cell(value: object) -> str:
    if isinstance(value, str):
        return spreadsheet_safe(value)
    if value is None or (
        not isinstance(value, list | tuple | dict) and pd.isna(value)  # type: ignore[call-overload]
    ):
        return ""
    return str(value)


def spreadsheet_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ";",
) -> str:
    """Return the CSV text of ``header`` and ``rows`` (see :func:`write_spreadsheet_csv`)."""
    buffer = io.StringIO(newline="")
    _write_rows(buffer, header, rows, delimiter=delimiter)
    return buffer.getvalue()


class SpreadsheetWriter:
    """A CSV writer for spreadsheets on an open text stream (see :func:`spreadsheet_writer`)."""

    def __init__(self, stream: IO[str], header: Sequence[str], *, delimiter: str = ";") -> None:
        self._writer = csv.writer(stream, delimiter=delimiter)
        self._header = tuple(header)
        self._writer.writerow(self._header)
        self.rows = 0

    def writerow(self, row: Sequence[object] | Mapping[str, object]) -> None:
        """Write one row: values in header order, or a mapping by column name."""
        values = [row.get(name) for name in self._header] if isinstance(row, Mapping) else row
        self._writer.writerow([_cell(value) for value in values])
        self.rows += 1


def spreadsheet_writer(
    stream: IO[str], header: Sequence[str], *, delimiter: str = ";"
) -> SpreadsheetWriter:
    """Write ``header`` to ``stream`` and return a writer for the rows.

    Text cells are passed through :func:`spreadsheet_safe`; ``None`` and NaN become
    empty cells; other values are written with ``str``.  For a stream that stays open
    across a long read (a database cursor, say); :func:`write_spreadsheet_csv` is the
    usual entry point.
    """
    return SpreadsheetWriter(stream, header, delimiter=delimiter)


def _write_rows(
    stream: IO[str], header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str
) -> int:
    writer = spreadsheet_writer(stream, header, delimiter=delimiter)
    for row in rows:
        writer.writerow(row)
    return writer.rows


def write_spreadsheet_csv(
    target: Path | IO[str],
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ";",
    bom: bool = False,
    private: bool = False,
    error_type: Callable[[str], TierslieuxError] = SourceError,
) -> int:
    """Write a CSV meant for spreadsheets; return the number of data rows.

    Text cells are passed through :func:`spreadsheet_safe`; ``None`` and NaN become
    empty cells; other values are written with ``str``.  ``rows`` may be a generator
    (read lazily, e.g. from a database cursor).

    Parameters
    ----------
    target
        A path (written atomically, UTF-8, see :func:`atomic_path`) or an open text
        stream (opened with ``newline=""``).
    delimiter
        ``";"`` by default: what a French spreadsheet expects.
    bom
        Start the file with a UTF-8 byte order mark (some spreadsheets need it to
        detect UTF-8).  Ignored for streams.
    private, error_type
        See :func:`atomic_path` (paths only).
    """
    if not isinstance(target, str | os.PathLike):
        return _write_rows(target, header, rows, delimiter=delimiter)
    encoding = "utf-8-sig" if bom else "utf-8"
    with atomic_open(
        Path(target), encoding=encoding, newline="", private=private, error_type=error_type
    ) as stream:
        return _write_rows(stream, header, rows, delimiter=delimiter)


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells are :func:`spreadsheet_safe`.

    Only text cells change: numbers (``-2.5``) stay numbers.
    """
    guarded = frame.copy()
    for column in guarded.columns:
        series = guarded[column]
        if _is_text(series):
            guarded[column] = series.map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v)
    return guarded


def unguard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`guard_frame` on a frame read from a CSV (text columns only), in place."""
    for column in frame.columns:
        series = frame[column]
        if not _is_text(series):
            continue
        marked = series.str.startswith("'", na=False)
        if marked.any():
            frame.loc[marked, column] = series[marked].map(spreadsheet_unguard)
    return frame


def frame_spreadsheet_csv(
    frame: pd.DataFrame,
    *,
    delimiter: str = ",",
    bom: bool = False,
    float_format: str | None = None,
) -> bytes:
    """Return ``frame`` as CSV bytes for a spreadsheet, text cells guarded.

    The values are written by pandas (``to_csv``, no index) so that numbers, booleans
    and missing values look as in every other CSV of tierslieux; only text cells that
    start like a formula change (:func:`guard_frame`).  ``delimiter`` is ``","`` by
    default, the separator of the tables of ``diagnose``, ``communities``, ``sites``
    and ``survey analyse``.
    """
    text = guard_frame(frame).to_csv(index=False, sep=delimiter, float_format=float_format)
    return text.encode("utf-8-sig" if bom else "utf-8")
