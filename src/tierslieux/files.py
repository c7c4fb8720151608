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
  one into the one French message, whatever the reader; members that would expand
  beyond :class:`ZipLimits` (size, compression ratio) are refused, and
  :func:`extract_member` streams a member to a temporary file removed on refusal.
* **Spreadsheet CSV.** :func:`write_spreadsheet_csv` (rows) and
  :func:`frame_spreadsheet_csv` (a data frame) are the writers of every CSV meant to be
  opened in a spreadsheet; text cells that a spreadsheet would run as a formula get a
  leading apostrophe (:func:`spreadsheet_safe`), which :func:`spreadsheet_unguard` (and
  the readers of tierslieux's own files) removes again.
* **Spreadsheet XLSX.** :func:`write_spreadsheet_xlsx` writes typed cells (texts,
  numbers, dates) in one or more sheets; no cell is ever a formula (texts that look like
  one are quote-prefixed text cells).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import pandas as pd

from tierslieux.errors import SourceError, TierslieuxError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = [
    "SpreadsheetWriter",
    "ZipLimits",
    "atomic_open",
    "atomic_output_dir",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "clean_partial_files",
    "clean_staging",
    "extract_member",
    "frame_spreadsheet_csv",
    "guard_frame",
    "open_zip",
    "spreadsheet_csv",
    "spreadsheet_safe",
    "spreadsheet_unguard",
    "spreadsheet_writer",
    "spreadsheet_xlsx_bytes",
    "unguard_frame",
    "write_output_files",
    "write_spreadsheet_csv",
    "write_spreadsheet_xlsx",
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


def _run_tag() -> str:
    """``HOST-PID`` of this process (host as 6 hex digits), in temporary file names."""
    host = hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:6]
    return f"{host}-{os.getpid()}"


_PART = re.compile(r"\..+\.(?:(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-)?[0-9a-f]{8}\.part")
_PART_MAX_AGE = 24 * 3600.0  # a temporary file of another host this old is left over


def clean_partial_files(folder: Path) -> list[Path]:
    """Remove the ``.NAME.….part`` files left in ``folder`` by interrupted writes.

    :func:`atomic_path` names its temporary file after the host and process writing
    it: a file whose process is gone (same host) is removed at once, one of another
    host (a shared cache) or without that record when it has not changed for a day.
    Downloads and archive extractions call it on their cache folder, so that a
    download interrupted by Ctrl-C, a kill or a power cut does not leave its partial
    file forever.  Returns the files removed.
    """
    host = _run_tag().split("-", 1)[0]
    removed: list[Path] = []
    now = time.time()
    try:
        candidates = [p for p in Path(folder).iterdir() if _PART.fullmatch(p.name)]
    except OSError:
        return removed
    for part in candidates:
        match = _PART.fullmatch(part.name)
        assert match is not None  # noqa: S101 - filtered above
        try:
            if not part.is_file() or part.is_symlink():
                continue
            if match["host"] == host and match["pid"] is not None:
                stale = not _pid_alive(int(match["pid"]))
            else:
                stale = now - part.stat().st_mtime > _PART_MAX_AGE
            if stale:
                part.unlink()
                removed.append(part)
        except OSError:
            continue
    return removed


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
        staging = target.with_name(f".{target.name}.{_run_tag()}-{secrets.token_hex(4)}.part")
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


_STAGING_OWNER = ".owner"
_STAGING_MAX_AGE = 24 * 3600.0  # a staging folder without a live owner this old is left over
MANIFEST = ".tierslieux-fichiers.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _left_over(staging: Path, now: float) -> bool:
    """Whether a staging folder was left by a run that is over (killed, crashed)."""
    try:
        owner = (staging / _STAGING_OWNER).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        owner = []
    if len(owner) == 2 and owner[1].isdigit() and owner[0] == socket.gethostname():
        return not _pid_alive(int(owner[1]))
    try:
        return now - staging.stat().st_mtime > _STAGING_MAX_AGE
    except OSError:
        return False


def clean_staging(out: Path) -> list[Path]:
    """Remove the staging folders ``.NAME.*`` left beside ``out`` by interrupted runs.

    A staging folder records the host and process that created it: it is removed when
    that process is gone (same host), or, without that record (another host, an older
    version), when it is more than a day old.  Returns the folders removed.
    """
    out = Path(out)
    pattern = re.compile(rf"\.{re.escape(out.name)}\.[A-Za-z0-9_]{{8}}")
    removed: list[Path] = []
    now = time.time()
    try:
        candidates = [p for p in out.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return removed
    for staging in candidates:
        if staging.is_dir() and not staging.is_symlink() and _left_over(staging, now):
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


def _read_manifest(out: Path) -> dict[str, list[str]]:
    try:
        raw = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    owners = raw.get("commandes") if isinstance(raw, dict) else None
    if not isinstance(owners, dict):
        return {}
    return {
        str(k): [str(n) for n in v if isinstance(n, str)]
        for k, v in owners.items()
        if isinstance(v, list)
    }


def _update_manifest(out: Path, owner: str, names: Sequence[str]) -> list[Path]:
    """Record ``names`` as the files of ``owner`` in ``out``; remove its stale files."""
    owners = _read_manifest(out)
    new = set(names)
    removed: list[Path] = []
    for name in sorted(set(owners.get(owner, ())) - new):
        path = out / name
        # Only plain file names written by this command: never a path elsewhere.
        if Path(name).name == name and not name.startswith(".") and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    for other, files in owners.items():
        owners[other] = [n for n in files if n not in new]
    owners[owner] = sorted(new)
    text = json.dumps({"commandes": owners}, ensure_ascii=False, indent=2, sort_keys=True)
    atomic_write_text(out / MANIFEST, text + "\n")
    return removed


@contextmanager
def atomic_output_dir(out: Path, *, owner: str | None = None) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out``, else drop it.

    The staging folder sits beside ``out`` (same file system) so that each move is a
    rename.  If the block raises, ``out`` is left exactly as it was.  Staging folders
    left beside ``out`` by killed runs are removed first (:func:`clean_staging`).

    With ``owner`` (the command, e.g. ``"sites"``), the files written are recorded in
    ``out/.tierslieux-fichiers.json``, and the files the same command wrote there in an
    earlier run and did not write this time are removed: re-using an output folder
    never leaves stale results of that command beside the new ones.  Files of other
    commands, and files that tierslieux did not write, are left alone.

    Raises
    ------
    SourceError
        When the output folder cannot be created, or ``out`` is a file.
    """
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise SourceError(
            _(
                "Le dossier de sortie {path} est un fichier : indiquez un dossier.",
                path=out,
            )
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_staging(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        (staging / _STAGING_OWNER).write_text(
            f"{socket.gethostname()} {os.getpid()}", encoding="ascii"
        )
    except OSError as error:
        raise SourceError(
            _("Impossible de créer le dossier de sortie {path} : {error}.", path=out, error=error)
        ) from error
    try:
        yield staging
        try:
            out.mkdir(parents=True, exist_ok=True)
            names: list[str] = []
            for item in sorted(staging.iterdir()):
                if item.name == _STAGING_OWNER:
                    continue
                item.replace(out / item.name)
                names.append(item.name)
            if owner is not None:
                _update_manifest(out, owner, names)
        except OSError as error:
            raise _write_error(out, error, SourceError) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_output_files(
    out: Path, files: Iterable[tuple[str, bytes]], *, owner: str | None = None
) -> list[Path]:
    """Write every ``(name, data)`` into the folder ``out``, all or nothing.

    Each file is written and ``fsync``-ed in a staging folder beside ``out``, then moved
    into place (:func:`atomic_output_dir`, which ``owner`` is passed to: the stale
    files of an earlier run of the same command are removed).  Returns the paths
    written (``out / name``), in the given order.
    """
    names: list[str] = []
    with atomic_output_dir(out, owner=owner) as staging:
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


_GB = 1_000_000_000
#: Largest member extracted or read (bytes, uncompressed): real INSEE and Sirene
#: members stay far below (StockEtablissement: about 6 GB).
DEFAULT_ZIP_MAX_MEMBER = 20 * _GB
#: Largest compression ratio (uncompressed / compressed) of a member bigger than
#: :data:`ZIP_RATIO_FLOOR`: text tables compress 3 to 30 times, a zip bomb thousands.
DEFAULT_ZIP_MAX_RATIO = 200.0
#: Members smaller than this (bytes) are never refused for their ratio.
ZIP_RATIO_FLOOR = 10_000_000
_ENV_MAX_MEMBER = "TIERSLIEUX_ZIP_MAX_MEMBER_GB"
_ENV_MAX_RATIO = "TIERSLIEUX_ZIP_MAX_RATIO"


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What an archive member may expand to: size in bytes and compression ratio."""

    max_member: int = DEFAULT_ZIP_MAX_MEMBER
    max_ratio: float = DEFAULT_ZIP_MAX_RATIO

    @classmethod
    def from_environment(cls) -> ZipLimits:
        """The limits, overridden by ``TIERSLIEUX_ZIP_MAX_MEMBER_GB`` and ``..._RATIO``.

        Raises
        ------
        SourceError
            When a variable is not a positive finite number.
        """
        values: dict[str, float] = {}
        for name, default in (
            (_ENV_MAX_MEMBER, DEFAULT_ZIP_MAX_MEMBER / _GB),
            (_ENV_MAX_RATIO, DEFAULT_ZIP_MAX_RATIO),
        ):
            text = os.environ.get(name, "").strip()
            try:
                value = float(text.replace(",", ".")) if text else default
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value <= 0:
                raise SourceError(
                    _(
                        "Réglage {name} invalide : « {value} » (attendu : un nombre positif).",
                        name=name,
                        value=text,
                    )
                )
            values[name] = value
        return cls(int(values[_ENV_MAX_MEMBER] * _GB), values[_ENV_MAX_RATIO])

    def check(self, info: zipfile.ZipInfo, *, path: Path | str, role: str) -> None:
        """Refuse a member that would expand beyond the limits.

        Raises
        ------
        SourceError
            Naming the archive, the member, its size and the limit.
        """
        if info.file_size > self.max_member:
            raise SourceError(
                _(
                    "L'archive {role} {path} est refusée : le fichier {member} y occupe "
                    "{size} Go une fois décompressé (au plus {limit} Go ; réglage "
                    "TIERSLIEUX_ZIP_MAX_MEMBER_GB).",
                    role=role,
                    path=path,
                    member=info.filename,
                    size=f"{info.file_size / _GB:.1f}",
                    limit=f"{self.max_member / _GB:g}",
                )
            )
        if info.file_size > ZIP_RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > self.max_ratio:
                raise SourceError(
                    _(
                        "L'archive {role} {path} est refusée : le fichier {member} se "
                        "décompresse {ratio} fois (au plus {limit} ; réglage "
                        "TIERSLIEUX_ZIP_MAX_RATIO) — archive piégée ou corrompue ?",
                        role=role,
                        path=path,
                        member=info.filename,
                        ratio=f"{ratio:.0f}",
                        limit=f"{self.max_ratio:g}",
                    )
                )


@contextmanager
def open_zip(
    path: Path | IO[bytes],
    *,
    role: str,
    name: Path | str | None = None,
    limits: ZipLimits | None = None,
) -> Iterator[zipfile.ZipFile]:
    """Open a zip archive; a truncated or corrupt one raises :func:`zip_error`.

    Errors raised while reading members inside the block (a bad CRC, a cut member) get
    the same message.  ``name`` is the path shown when ``path`` is a stream.  Every
    member is checked against ``limits`` (default :meth:`ZipLimits.from_environment`)
    before the block runs: an archive holding a member that would expand beyond them
    is refused.  A member cannot expand past its declared size (:mod:`zipfile` stops
    there and reports a bad CRC).

    Raises
    ------
    SourceError
        The archive is illisible or refused (the message names ``role`` and the file).
    """
    shown = name if name is not None else path
    checked = limits if limits is not None else ZipLimits.from_environment()
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                checked.check(info, path=str(shown), role=role)
            yield archive
    except ZIP_ERRORS as error:
        raise zip_error(str(shown), role, error) from error


def extract_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    *,
    path: Path | str,
    role: str,
    limits: ZipLimits | None = None,
) -> Path:
    """Stream one member into ``target`` (atomically), within ``limits``.

    The member is written to a temporary file beside ``target``, counted as it goes,
    and renamed into place only when complete; a member refused (too big, too
    compressed, more bytes than declared) or illisible leaves no file behind.

    Raises
    ------
    SourceError
        When the member is refused or cannot be read or written.
    """
    checked = limits if limits is not None else ZipLimits.from_environment()
    checked.check(info, path=path, role=role)
    with archive.open(info) as src, atomic_open(target, "wb") as out:
        written = 0
        while block := src.read(1 << 20):
            written += len(block)
            if written > min(info.file_size, checked.max_member):
                raise SourceError(
                    _(
                        "L'archive {role} {path} est refusée : le fichier {member} dépasse "
                        "la taille annoncée ({size} octets).",
                        role=role,
                        path=path,
                        member=info.filename,
                        size=info.file_size,
                    )
                )
            out.write(block)
    return target


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


# --- spreadsheet XLSX ------------------------------------------------------------------

#: Characters an XLSX cell cannot hold (XML 1.0 control characters), removed on write.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's own limit on the length of a cell's text.
_XLSX_MAX_TEXT = 32_767
_XLSX_SHEET_NAME = re.compile(r"[^\[\]:*?/\\]{1,31}")
_XLSX_MIN_WIDTH, _XLSX_MAX_WIDTH = 8, 60
#: Lines looked at to size the columns (the rest of a long sheet keeps those widths).
_XLSX_WIDTH_SAMPLE = 1_000
#: Number formats: codes are locale independent, Excel shows them in the user's locale.
XLSX_DATE_FORMAT = "dd/mm/yyyy"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"

XlsxSheet = tuple["Sequence[str]", "Iterable[Sequence[object]]"]


def _xlsx_value(value: object) -> tuple[object, str | None, bool]:
    """Return the value to store, its number format, and whether it is guarded text."""
    # Imported here: the type names are only needed when a workbook is written.
    from datetime import date, datetime  # noqa: PLC0415

    if value is None:
        return None, None, False
    if isinstance(value, bool):
        return value, None, False
    if isinstance(value, datetime):
        # Excel has no time zone: an aware value is written as its own wall-clock time.
        return value.replace(tzinfo=None), XLSX_DATETIME_FORMAT, False
    if isinstance(value, date):
        return value, XLSX_DATE_FORMAT, False
    if isinstance(value, int | float):
        return (
            (None if isinstance(value, float) and not math.isfinite(value) else value),
            None,
            False,
        )
    text = _XLSX_ILLEGAL.sub("", value if isinstance(value, str) else _cell(value))[:_XLSX_MAX_TEXT]
    return text, None, bool(_GUARDED.match(text))


def write_spreadsheet_xlsx(
    target: Path,
    sheets: Mapping[str, XlsxSheet],
    *,
    private: bool = False,
    error_type: Callable[[str], TierslieuxError] = SourceError,
    number_formats: Mapping[str, Sequence[str | None]] | None = None,
) -> dict[str, int]:
    """Write an Excel workbook, one sheet per entry of ``sheets``; return rows per sheet.

    The workbook is that of :func:`spreadsheet_xlsx_bytes` (same cells, same guard),
    written atomically (:func:`atomic_path`; ``private`` and ``error_type`` as there).
    """
    workbook, counts = _xlsx_workbook(sheets, number_formats)
    with atomic_path(Path(target), private=private, error_type=error_type) as staging:
        workbook.save(staging)
    return counts


def spreadsheet_xlsx_bytes(
    sheets: Mapping[str, XlsxSheet],
    *,
    number_formats: Mapping[str, Sequence[str | None]] | None = None,
) -> bytes:
    """Return an Excel workbook as bytes (for a web response or an output folder).

    See :func:`write_spreadsheet_xlsx`, which writes the same workbook to a file.
    """
    import io  # noqa: PLC0415

    workbook, _counts = _xlsx_workbook(sheets, number_formats)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_workbook(
    sheets: Mapping[str, XlsxSheet],
    number_formats: Mapping[str, Sequence[str | None]] | None,
) -> tuple[Any, dict[str, int]]:
    """Build the workbook of :func:`write_spreadsheet_xlsx`; return it with rows per sheet.

    Each sheet is ``(header, rows)``: the header is written in bold, the first row is
    frozen and filterable, and the columns are sized to their content.  Cells keep
    their type: texts are text cells, ``int``/``float`` numbers (NaN and infinities
    become empty cells), ``date`` and ``datetime`` dates shown ``JJ/MM/AAAA`` and
    ``JJ/MM/AAAA hh:mm:ss`` (an aware ``datetime`` is written as its own wall-clock
    time: convert it to the reader's zone first), ``bool`` booleans, ``None`` empty.

    Formula guard, the XLSX form of :func:`spreadsheet_safe`: no cell is ever a
    formula.  A text that a spreadsheet would run as one (``=``, ``+``, ``-``, ``@``...)
    is written as a text cell marked with Excel's "quote prefix" (what typing an
    apostrophe in front does), so Excel shows it as typed and never runs it; the text
    itself is unchanged, so a reader of the workbook gets it back exactly.  Characters
    an XLSX file cannot hold (control characters other than tab and line breaks) are
    removed.

    ``number_formats`` gives, per sheet name, the Excel number format of each column
    (``"#,##0"``, ``"0.0 %"``...; ``None`` keeps the default): a format applies to the
    column's numbers only, a text cell stays text (codes such as ``05001`` or a SIRET
    are given as strings and keep their leading zeros and digits).

    Raises
    ------
    ValueError
        When a sheet name is not a valid Excel sheet name (1 to 31 characters, none of
        ``[]:*?/\\``).
    """
    from openpyxl import Workbook  # type: ignore[import-untyped]  # noqa: PLC0415
    from openpyxl.styles import Font  # type: ignore[import-untyped]  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]  # noqa: PLC0415

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    counts: dict[str, int] = {}
    for name, (header, rows) in sheets.items():
        if not _XLSX_SHEET_NAME.fullmatch(name):
            msg = f"invalid Excel sheet name: {name!r}"
            raise ValueError(msg)
        sheet = workbook.create_sheet(title=name)
        formats = list((number_formats or {}).get(name, ()))
        widths = [len(str(title)) for title in header]
        for column, title in enumerate(header, start=1):
            sheet.cell(row=1, column=column, value=_XLSX_ILLEGAL.sub("", str(title))).font = bold
        count = 0
        for count, row in enumerate(rows, start=1):
            for column, raw in enumerate(row, start=1):
                value, number_format, guarded = _xlsx_value(raw)
                if value is None:
                    continue
                cell = sheet.cell(row=count + 1, column=column)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                    cell.quotePrefix = guarded
                if number_format is not None:
                    cell.number_format = number_format
                elif (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and column <= len(formats)
                    and formats[column - 1]
                ):
                    cell.number_format = formats[column - 1]
                if count <= _XLSX_WIDTH_SAMPLE and column <= len(widths):
                    longest = max((len(part) for part in str(raw).split("\n")), default=0)
                    widths[column - 1] = max(widths[column - 1], 19 if number_format else longest)
        counts[name] = count
        sheet.freeze_panes = "A2"
        if header:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
        for column, width in enumerate(widths, start=1):
            letter = get_column_letter(column)
            sheet.column_dimensions[letter].width = min(
                max(width + 2, _XLSX_MIN_WIDTH), _XLSX_MAX_WIDTH
            )
    return workbook, counts
