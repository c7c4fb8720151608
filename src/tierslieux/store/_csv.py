"""The contacts exchange file (CSV or XLSX): its columns, writing and reading rows.

The file is made for a spreadsheet: French Excel opens the CSV by a double click
(UTF-8 with a byte order mark, ``;``), statuses are French labels, dates are
``JJ/MM/AAAA`` and times ``JJ/MM/AAAA hh:mm:ss`` in Europe/Paris local time.  One file
holds two kinds of lines, told apart by the ``ligne`` column (in the XLSX export, each
kind has its own sheet, « fiches » and « historique »):

* ``etat``: the current record of a structure (status, owner, next action...) with its
  ``version``.  These are the lines a person edits: a changed status, owner, next action
  or due date, and a text in ``nouvelle_note``, are applied on import, unless the
  record changed in the database since the export (see
  :mod:`tierslieux.store._exchange`);
* ``evenement``: one history event, never changed by an import.  Each carries a
  stable ``evenement_id`` (UUID), so that importing a file twice adds nothing.  A
  hand-written line may leave it empty: the id is then derived from the line's
  content, which keeps re-imports idempotent too.

Reading accepts what a spreadsheet writes back: UTF-8 (with or without BOM) or
Windows-1252 (French Excel's « CSV (séparateur : point-virgule) »), ``;`` or ``,``,
statuses as labels or codes, dates ``JJ/MM/AAAA [hh:mm[:ss]]`` (Paris time) or ISO 8601,
and XLSX workbooks (every sheet whose header has an ``identifiant`` column).
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tierslieux.errors import SourceError
from tierslieux.files import (
    SpreadsheetWriter,
    ZipLimits,
    spreadsheet_unguard,
    spreadsheet_writer,
)
from tierslieux.i18n import gettext as _
from tierslieux.store._errors import ImportRejectedError, UnknownStatusError
from tierslieux.store.views import EVENT_KINDS, ImportIssue, fold_code, parse_status

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import IO

__all__ = [
    "COLUMNS",
    "PARIS",
    "ParsedEvent",
    "ParsedFile",
    "ParsedState",
    "contacts_writer",
    "format_date",
    "format_datetime",
    "format_timestamp",
    "parse_date",
    "parse_datetime",
    "read_contacts_csv",
    "read_contacts_file",
]

#: Local time of the people who read the file (dates and times are shown in it).
PARIS = ZoneInfo("Europe/Paris")

COLUMNS: tuple[str, ...] = (
    "ligne",
    "identifiant",
    "nom",
    "categorie",
    "categorie_libelle",
    "code_commune",
    "commune",
    "statut",
    "responsable",
    "prochaine_action",
    "echeance",
    "nouvelle_note",
    "version",
    "date",
    "auteur",
    "evenement_id",
    "nature",
    "ancienne_valeur",
    "nouvelle_valeur",
    "ancienne_echeance",
    "nouvelle_echeance",
    "texte",
    "horodatage_utc",
)
#: Columns a file must have; ``nature``, ``date`` and ``auteur`` only for event lines.
REQUIRED: tuple[str, ...] = ("identifiant",)
EVENT_REQUIRED: tuple[str, ...] = ("nature", "date", "auteur")
#: Columns of an ``etat`` line that a person may edit.
EDITABLE: tuple[str, ...] = (
    "statut",
    "responsable",
    "prochaine_action",
    "echeance",
    "nouvelle_note",
)
STATE_LINE = "etat"
EVENT_LINE = "evenement"
#: Sheets of the XLSX export.
STATE_SHEET = "fiches"
EVENT_SHEET = "historique"
#: Namespace of the ids derived from the content of hand-written event lines.
_NAMESPACE = uuid.UUID("5b0c8a4e-6f55-4d0e-9a43-7f1f3c1e2d10")
_MAX_SHORT = 200
#: Columns whose texts make the content of a hand-written event line (its derived id):
#: the columns of the first format, so that ids stay the same across versions.
_CONTENT = (
    "ligne",
    "identifiant",
    "statut",
    "responsable",
    "prochaine_action",
    "echeance",
    "version",
    "date",
    "auteur",
    "nature",
    "ancienne_valeur",
    "nouvelle_valeur",
    "ancienne_echeance",
    "nouvelle_echeance",
    "texte",
)
_XLSX_MAGIC = b"PK\x03\x04"
_DATETIME_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    """A valid ``evenement`` line."""

    line: int
    uuid: str
    identifiant: str
    kind: str
    author: str
    occurred_at: datetime
    old_value: str | None
    new_value: str | None
    old_date: date | None
    new_date: date | None
    text: str | None
    sheet: str | None = None
    #: Whether the ``ancienne_valeur`` cell was filled (else the store fills it in).
    has_old_value: bool = True
    letters: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> str:
        """The column ``name`` with its spreadsheet letter: ``"ancienne_valeur (F)"``."""
        letter = dict(self.letters).get(name)
        return name if letter is None else f"{name} ({letter})"


@dataclass(frozen=True, slots=True)
class ParsedState:
    """A valid ``etat`` line: what the file says the record is, and a new note.

    ``given`` holds the editable columns present in the file (a hand-written file may
    have only some); ``status`` is ``None`` when the cell is empty (no change).
    """

    line: int
    identifiant: str
    nom: str
    version: int | None
    status: str | None
    owner: str | None
    next_action: str | None
    next_action_date: date | None
    note: str | None
    given: frozenset[str]
    sheet: str | None = None
    letters: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> str:
        """The column ``name`` with its spreadsheet letter: ``"statut (H)"``."""
        letter = dict(self.letters).get(name)
        return name if letter is None else f"{name} ({letter})"


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """Every line of a contacts file, valid ones parsed, invalid ones as issues.

    ``source`` describes what was read (« CSV, Windows-1252, séparateur ; »).
    """

    events: tuple[ParsedEvent, ...]
    states: tuple[ParsedState, ...]
    issues: tuple[ImportIssue, ...]
    source: str = ""


# --- dates ---------------------------------------------------------------------------


def format_datetime(value: datetime | None) -> str:
    """Paris local time, ``JJ/MM/AAAA hh:mm:ss`` (empty for ``None``)."""
    return "" if value is None else value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def local_datetime(value: datetime | None) -> datetime | None:
    """The Paris wall-clock time of ``value``, naive (for a spreadsheet cell)."""
    return None if value is None else value.astimezone(PARIS).replace(tzinfo=None)


def format_date(value: date | None) -> str:
    """``JJ/MM/AAAA`` or empty."""
    return "" if value is None else value.strftime("%d/%m/%Y")


def parse_datetime(text: str) -> datetime:
    """Read a date or date-time; return it in UTC.

    Accepted: ``JJ/MM/AAAA``, ``JJ/MM/AAAA hh:mm`` and ``JJ/MM/AAAA hh:mm:ss`` (what a
    French spreadsheet writes), and ISO 8601 (``2026-12-31``, ``2026-12-31T14:05:00+01:00``).
    A value without a UTC offset is Europe/Paris local time.

    Raises
    ------
    ValueError
        When the text is none of these.
    """
    text = " ".join(text.split())
    for pattern in _DATETIME_FORMATS:
        try:
            value = datetime.strptime(text, pattern)  # noqa: DTZ007  (Paris, set below)
        except ValueError:
            continue
        return value.replace(tzinfo=PARIS).astimezone(UTC)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    return value.astimezone(UTC)


def format_timestamp(value: datetime | None) -> str:
    """The exact UTC time of an event (ISO 8601, microseconds), for ``horodatage_utc``."""
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def _exact(shown: datetime, stamp: str) -> datetime:
    """The exact time of ``horodatage_utc`` when it agrees with the ``date`` shown.

    ``date`` is what people read and edit (to the second, or the minute once a
    spreadsheet re-saved it); the exact stamp keeps the order of events of the same
    second across an export and an import.  A stamp that no longer matches the date
    (a line copied then edited) is ignored.
    """
    try:
        exact = datetime.fromisoformat(stamp.strip()) if stamp.strip() else None
    except ValueError:
        return shown
    if exact is None or exact.tzinfo is None:
        return shown
    exact = exact.astimezone(UTC)
    precision = 1 if shown.second or shown.microsecond else 60
    return exact if abs((exact - shown).total_seconds()) < precision else shown


def parse_date(text: str) -> date | None:
    """Read ``JJ/MM/AAAA`` or ``AAAA-MM-JJ`` (a midnight time after it is allowed).

    Empty gives ``None``.

    Raises
    ------
    ValueError
        When the text is not such a date.
    """
    text = " ".join(text.split())
    if not text:
        return None
    for suffix in (" 00:00:00", " 00:00", "T00:00:00"):
        text = text.removesuffix(suffix)
    if "/" in text:
        return datetime.strptime(text, "%d/%m/%Y").replace(tzinfo=UTC).date()
    return date.fromisoformat(text)


# --- writing -------------------------------------------------------------------------


def contacts_writer(stream: IO[str]) -> SpreadsheetWriter:
    """Write the header of a contacts CSV (``;``) to ``stream``; return the writer.

    Rows are mappings by column name.  It is a spreadsheet export: a text that a
    spreadsheet would run as a formula (a note starting with ``=``, say) gets a leading
    apostrophe, which :func:`read_contacts_file` removes again.  Open ``stream`` with
    ``encoding="utf-8-sig"`` so that Excel reads the accents right.
    """
    return spreadsheet_writer(stream, COLUMNS, delimiter=";")


# --- reading -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    """The rows of one CSV file or one workbook sheet, as texts."""

    header: list[str]
    rows: Iterable[tuple[int, list[str]]]
    sheet: str | None
    guarded: bool  # CSV cells may carry the formula-guard apostrophe


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    """Decode a CSV; return its text and the encoding's name in French."""
    candidates: tuple[tuple[str, str], ...]
    if raw.startswith(b"\xef\xbb\xbf"):
        candidates = (("utf-8-sig", _("UTF-8 avec BOM")),)
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # a spreadsheet's « Unicode text »
        candidates = (("utf-16", _("UTF-16")),)
    else:
        candidates = (("utf-8", _("UTF-8")), ("cp1252", _("Windows-1252")))
    error: UnicodeDecodeError | None = None
    for codec, name in candidates:
        try:
            return raw.decode(codec), name
        except UnicodeDecodeError as caught:
            error = caught
    assert error is not None  # noqa: S101  (the loop ran at least once)
    line = raw[: error.start].count(b"\n") + 1
    issue = ImportIssue(
        line,
        _(
            "le fichier n'est ni en UTF-8 ni en Windows-1252 (octet illisible en position "
            "{pos}) ; réenregistrez-le en « CSV UTF-8 » ou « CSV (séparateur : point-virgule) »",
            pos=error.start,
        ),
    )
    raise ImportRejectedError(path, (issue,)) from error


def _csv_table(path: Path, raw: bytes) -> tuple[_Table, str]:
    text, encoding = _decode(path, raw)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as error:  # a header cell longer than the csv module's limit
        issue = ImportIssue(1, _("CSV mal formé : {error}", error=error))
        raise ImportRejectedError(path, (issue,)) from error

    def rows() -> Iterator[tuple[int, list[str]]]:
        # line_num counts physical lines: a cell with a line break spans several.
        start = reader.line_num + 1
        for row in reader:
            yield start, row
            start = reader.line_num + 1

    source = _("CSV, {encoding}, séparateur « {sep} »", encoding=encoding, sep=delimiter)
    return _Table(header, rows(), None, guarded=True), source


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_tables(path: Path, raw: bytes) -> tuple[list[_Table], str]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        # A workbook is a zip archive: refuse one that would expand beyond the limits.
        limits = ZipLimits.from_environment()
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            for info in archive.infolist():
                limits.check(info, path=path, role=_("classeur des contacts"))
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except SourceError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged workbook
        issue = ImportIssue(0, _("classeur XLSX illisible : {error}", error=error))
        raise ImportRejectedError(path, (issue,)) from error
    tables: list[_Table] = []
    try:
        for sheet in workbook.worksheets:
            rows = [[_xlsx_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
            if not rows:
                continue
            header = [name.strip() for name in rows[0]]
            if "identifiant" not in header:
                continue
            numbered = [(number, row) for number, row in enumerate(rows[1:], start=2)]
            tables.append(_Table(header, numbered, str(sheet.title), guarded=False))
    finally:
        workbook.close()
    return tables, _("classeur XLSX")


def _tables(path: Path) -> tuple[list[_Table], str]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ImportRejectedError(path, (ImportIssue(0, str(error)),)) from error
    if raw.startswith(_XLSX_MAGIC):
        tables, source = _xlsx_tables(path, raw)
        if not tables:
            issue = ImportIssue(
                1,
                _(
                    "aucune feuille du classeur n'a de colonne identifiant "
                    "(colonnes attendues : {expected})",
                    expected=", ".join(COLUMNS),
                ),
            )
            raise ImportRejectedError(path, (issue,))
        return tables, source
    table, source = _csv_table(path, raw)
    return [table], source


def read_contacts_file(path: Path) -> ParsedFile:
    """Read a contacts file (CSV or XLSX, see the module) and validate every line.

    Checks the format only (columns, statuses, dates, kinds); whether the structures
    exist, and whether an edited record changed meanwhile, is checked by the store
    inside the import transaction.

    Raises
    ------
    ImportRejectedError
        When the whole file is unusable (unreadable encoding, required columns missing).
    """
    path = Path(path)
    tables, source = _tables(path)
    events: list[ParsedEvent] = []
    states: list[ParsedState] = []
    issues: list[ImportIssue] = []
    for table in tables:
        _require(path, table, REQUIRED)
        _read_table(path, table, events, states, issues)
    return ParsedFile(tuple(events), tuple(states), tuple(issues), source)


def read_contacts_csv(path: Path) -> ParsedFile:
    """Read a contacts CSV; the same as :func:`read_contacts_file` (kept for callers)."""
    return read_contacts_file(path)


class _Line:
    """One line of a table, its cells by column name, and the problems found on it."""

    def __init__(self, table: _Table, number: int, cells: list[str]) -> None:
        self.table = table
        self.number = number
        self.values: Row = {}
        for name, value in zip(table.header, cells, strict=False):
            if name and name not in self.values:
                cleaned = spreadsheet_unguard(value) if table.guarded else value
                self.values[name] = cleaned.strip()
        self.extra = len(cells) > len(table.header) and any(
            cell.strip() for cell in cells[len(table.header) :]
        )
        # A CSV line with fewer cells than the header: a separator deleted by hand, the
        # following values shifted (a workbook's rows are as wide as the sheet).
        self.short = table.guarded and len(cells) < len(table.header)
        self.cells = len(cells)
        self.problems: list[ImportIssue] = []

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def column(self, name: str) -> str:
        try:
            return f"{name} ({_letter(self.table.header.index(name))})"
        except ValueError:
            return name

    def problem(self, message: str, column: str | None = None) -> None:
        where = None if column is None else self.column(column)
        self.problems.append(ImportIssue(self.number, message, where, self.table.sheet))

    def letters(self, names: Iterable[str]) -> tuple[tuple[str, str], ...]:
        wanted = set(names)
        return tuple(
            (name, _letter(index)) for index, name in enumerate(self.table.header) if name in wanted
        )


def _read_table(
    path: Path,
    table: _Table,
    events: list[ParsedEvent],
    states: list[ParsedState],
    issues: list[ImportIssue],
) -> None:
    has_event_columns = all(name in table.header for name in EVENT_REQUIRED)
    if not has_event_columns and not any(name in table.header for name in EDITABLE):
        # Neither history lines nor record lines can be read from such a header.
        _require(path, table, EVENT_REQUIRED)
    try:
        for number, cells in table.rows:
            if not any(cell.strip() for cell in cells):
                continue
            line = _Line(table, number, cells)
            width = _width_problem(line)
            if width is not None:
                line.problem(width)
            else:
                kind = fold_code(line.get("ligne"))
                if not kind:
                    kind = EVENT_LINE if has_event_columns else STATE_LINE
                if kind == STATE_LINE:
                    state = _parse_state(line)
                    if state is not None:
                        states.append(state)
                elif kind == EVENT_LINE:
                    _require(path, table, EVENT_REQUIRED)
                    event = _parse_event(line)
                    if event is not None:
                        events.append(event)
                else:
                    line.problem(
                        _("type de ligne inconnu « {kind} » (etat ou evenement)", kind=kind),
                        "ligne",
                    )
            issues.extend(line.problems)
    except csv.Error as error:
        issues.append(ImportIssue(0, _("CSV mal formé : {error}", error=error), None, table.sheet))


def _width_problem(line: _Line) -> str | None:
    """Values beyond the header, or (CSV) fewer cells than the header: the line is wrong."""
    if line.extra:
        return _("plus de cellules que de colonnes")
    if line.short:
        return _(
            "{cells} cellule(s) pour {columns} colonnes : un séparateur a peut-être été effacé",
            cells=line.cells,
            columns=len(line.table.header),
        )
    return None


def _require(path: Path, table: _Table, names: tuple[str, ...]) -> None:
    """Refuse the whole file when ``table`` lacks one of the columns ``names``."""
    missing = [name for name in names if name not in table.header]
    if not missing:
        return
    issue = ImportIssue(
        1,
        _(
            "colonne(s) manquante(s) : {missing} (colonnes attendues : {expected})",
            missing=", ".join(missing),
            expected=", ".join(COLUMNS),
        ),
        sheet=table.sheet,
    )
    raise ImportRejectedError(path, (issue,))


def _parse_state(line: _Line) -> ParsedState | None:
    identifiant = line.get("identifiant")
    if not identifiant:
        line.problem(_("identifiant de structure manquant"), "identifiant")
    status = _optional_status(line, "statut")
    due = _optional_date(line, "echeance")
    version: int | None = None
    raw_version = line.get("version")
    if raw_version:
        try:
            version = int(raw_version)
        except ValueError:
            line.problem(
                _(
                    "version illisible « {value} » (un nombre entier est attendu)",
                    value=raw_version,
                ),
                "version",
            )
        else:
            if version < 1:
                line.problem(
                    _(
                        "version illisible « {value} » (un nombre entier est attendu)",
                        value=raw_version,
                    ),
                    "version",
                )
    owner = line.get("responsable") or None
    if owner is not None and len(owner) > _MAX_SHORT:
        line.problem(
            _("{column} trop long (plus de {n} caractères)", column="responsable", n=_MAX_SHORT),
            "responsable",
        )
    if line.problems:
        return None
    return ParsedState(
        line=line.number,
        identifiant=identifiant,
        nom=line.get("nom"),
        version=version,
        status=status,
        owner=owner,
        next_action=line.get("prochaine_action") or None,
        next_action_date=due,
        note=line.get("nouvelle_note") or None,
        given=frozenset(name for name in EDITABLE if name in line.table.header),
        sheet=line.table.sheet,
        letters=line.letters((*EDITABLE, "version")),
    )


def _optional_status(line: _Line, column: str, text: str | None = None) -> str | None:
    text = line.get(column) if text is None else text
    if not text:
        return None
    try:
        return parse_status(text)
    except UnknownStatusError as error:
        line.problem(str(error), column)
        return None


def _optional_date(line: _Line, column: str) -> date | None:
    text = line.get(column)
    try:
        return parse_date(text)
    except ValueError:
        line.problem(
            _(
                "date illisible « {value} » dans la colonne {column} "
                "(attendu JJ/MM/AAAA ou AAAA-MM-JJ)",
                value=text,
                column=column,
            ),
            column,
        )
        return None


def _required(line: _Line, column: str) -> str:
    value = line.get(column)
    if not value:
        line.problem(_("colonne {column} vide", column=column), column)
    elif len(value) > _MAX_SHORT:
        line.problem(
            _("{column} trop long (plus de {n} caractères)", column=column, n=_MAX_SHORT), column
        )
    return value


def _parse_event(line: _Line) -> ParsedEvent | None:
    identifiant = _required(line, "identifiant")
    author = _required(line, "auteur")
    kind = fold_code(line.get("nature"))
    if kind not in EVENT_KINDS:
        line.problem(
            _(
                "nature d'événement inconnue « {kind} » (attendu : {expected})",
                kind=line.get("nature"),
                expected=", ".join(EVENT_KINDS),
            ),
            "nature",
        )
    occurred_at: datetime | None = None
    raw_date = line.get("date")
    try:
        occurred_at = _exact(parse_datetime(raw_date), line.get("horodatage_utc"))
    except ValueError:
        line.problem(
            _(
                "date illisible « {value} » (attendu JJ/MM/AAAA hh:mm, JJ/MM/AAAA "
                "ou AAAA-MM-JJTHH:MM:SS+01:00)",
                value=raw_date,
            ),
            "date",
        )
    old_value = line.get("ancienne_valeur") or None
    new_value = line.get("nouvelle_valeur") or None
    text = line.get("texte") or None
    if kind == "statut":
        if new_value is None:
            line.problem(_("nouveau statut manquant (colonne nouvelle_valeur)"), "nouvelle_valeur")
        else:
            new_value = _optional_status(line, "nouvelle_valeur")
        old_value = _optional_status(line, "ancienne_valeur")
    if kind == "note" and text is None:
        line.problem(_("note vide (colonne texte)"), "texte")
    old_date = _optional_date(line, "ancienne_echeance")
    new_date = _optional_date(line, "nouvelle_echeance")
    event_id = line.get("evenement_id")
    if event_id:
        try:
            event_id = str(uuid.UUID(event_id))
        except ValueError:
            line.problem(
                _("evenement_id n'est pas un UUID : « {value} »", value=event_id), "evenement_id"
            )
    if line.problems or occurred_at is None:
        return None
    if not event_id:
        content = "\x1f".join(line.get(name) for name in _CONTENT)
        event_id = str(uuid.uuid5(_NAMESPACE, content))
    return ParsedEvent(
        line=line.number,
        uuid=event_id,
        identifiant=identifiant,
        kind=kind,
        author=author,
        occurred_at=occurred_at,
        old_value=old_value,
        new_value=new_value,
        old_date=old_date,
        new_date=new_date,
        text=text,
        sheet=line.table.sheet,
        has_old_value=bool(line.get("ancienne_valeur")),
        letters=line.letters(("ancienne_valeur", "date")),
    )
