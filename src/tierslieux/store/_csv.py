"""The contacts CSV format: writing rows, reading and validating them.

One file holds two kinds of lines, told apart by the ``ligne`` column:

* ``etat``: the current record of a structure (status, owner, next action...), for
  reading in a spreadsheet; on import these lines are informative only;
* ``evenement``: one history event; these lines are what an import writes.  Each
  carries a stable ``evenement_id`` (UUID), so that importing a file twice adds
  nothing.  A hand-written line may leave it empty: the id is then derived from the
  line's content, which keeps re-imports idempotent too.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from tierslieux.files import SpreadsheetWriter, spreadsheet_unguard, spreadsheet_writer
from tierslieux.i18n import gettext as _
from tierslieux.store._errors import ImportRejectedError, UnknownStatusError
from tierslieux.store.views import EVENT_KINDS, ImportIssue, fold_code, parse_status

if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO

__all__ = [
    "COLUMNS",
    "ParsedEvent",
    "ParsedFile",
    "ParsedState",
    "contacts_writer",
    "read_contacts_csv",
]

COLUMNS: tuple[str, ...] = (
    "ligne",
    "identifiant",
    "nom",
    "statut",
    "responsable",
    "prochaine_action",
    "echeance",
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
)
REQUIRED: tuple[str, ...] = ("identifiant", "nature", "date", "auteur")
STATE_LINE = "etat"
EVENT_LINE = "evenement"
#: Namespace of the ids derived from the content of hand-written event lines.
_NAMESPACE = uuid.UUID("5b0c8a4e-6f55-4d0e-9a43-7f1f3c1e2d10")
_MAX_SHORT = 200


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


@dataclass(frozen=True, slots=True)
class ParsedState:
    """A valid ``etat`` line (compared with the history after import)."""

    line: int
    identifiant: str
    status: str | None
    owner: str | None
    next_action: str | None
    next_action_date: date | None


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """Every line of a contacts CSV, valid ones parsed, invalid ones as issues."""

    events: tuple[ParsedEvent, ...]
    states: tuple[ParsedState, ...]
    issues: tuple[ImportIssue, ...]


def format_datetime(value: datetime | None) -> str:
    """ISO 8601 in UTC with microseconds, e.g. ``2025-03-01T09:30:00.000000+00:00``."""
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def format_date(value: date | None) -> str:
    """ISO 8601 date or empty."""
    return "" if value is None else value.isoformat()


def parse_datetime(text: str) -> datetime:
    """Read an ISO 8601 date or date-time; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_date(text: str) -> date | None:
    """Read ``AAAA-MM-JJ`` or ``JJ/MM/AAAA``; empty gives ``None``."""
    text = text.strip()
    if not text:
        return None
    if "/" in text:
        return datetime.strptime(text, "%d/%m/%Y").replace(tzinfo=UTC).date()
    return date.fromisoformat(text)


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ImportRejectedError(path, (ImportIssue(0, str(error)),)) from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        issue = ImportIssue(
            line,
            _(
                "le fichier n'est pas en UTF-8 (octet illisible en position {pos}) ; "
                "réenregistrez-le en UTF-8",
                pos=error.start,
            ),
        )
        raise ImportRejectedError(path, (issue,)) from error


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") >= header.count(",") else ","


def contacts_writer(stream: IO[str]) -> SpreadsheetWriter:
    """Write the header of a contacts CSV (UTF-8, ``;``) to ``stream``; return the writer.

    Rows are mappings by column name.  It is a spreadsheet export: a text that a
    spreadsheet would run as a formula (a note starting with ``=``, say) gets a leading
    apostrophe, which :func:`read_contacts_csv` removes again.
    """
    return spreadsheet_writer(stream, COLUMNS, delimiter=";")


def _cell(row: dict[str | None, str | list[str] | None], name: str) -> str:
    value = row.get(name)
    # The export guards formula-like texts with an apostrophe: remove it first.
    return spreadsheet_unguard(value).strip() if isinstance(value, str) else ""


def read_contacts_csv(path: Path) -> ParsedFile:
    """Read a contacts CSV (UTF-8, ``;`` or ``,``) and validate every line.

    Checks the format only (columns, statuses, dates, kinds); whether the structures
    exist is checked by the store, inside the import transaction.

    Raises
    ------
    ImportRejectedError
        When the whole file is unusable (not UTF-8, required columns missing).
    """
    text = _decode(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:  # a header cell longer than the csv module's limit
        issue = ImportIssue(1, _("CSV mal formé : {error}", error=error))
        raise ImportRejectedError(path, (issue,)) from error
    reader.fieldnames = header
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        issue = ImportIssue(
            1,
            _(
                "colonne(s) manquante(s) : {missing} (colonnes attendues : {expected})",
                missing=", ".join(missing),
                expected=", ".join(COLUMNS),
            ),
        )
        raise ImportRejectedError(path, (issue,))
    events: list[ParsedEvent] = []
    states: list[ParsedState] = []
    issues: list[ImportIssue] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(isinstance(v, str) and v.strip() for v in row.values()):
                continue
            if row.get(None):
                issues.append(ImportIssue(line, _("plus de cellules que de colonnes")))
                continue
            kind = fold_code(_cell(row, "ligne")) or EVENT_LINE
            problems: list[str] = []
            if kind == STATE_LINE:
                state = _parse_state(row, line, problems)
                if state is not None:
                    states.append(state)
            elif kind == EVENT_LINE:
                event = _parse_event(row, line, problems)
                if event is not None:
                    events.append(event)
            else:
                problems.append(
                    _("type de ligne inconnu « {kind} » (etat ou evenement)", kind=kind)
                )
            issues.extend(ImportIssue(line, problem) for problem in problems)
    except csv.Error as error:
        issues.append(ImportIssue(reader.line_num, _("CSV mal formé : {error}", error=error)))
    return ParsedFile(tuple(events), tuple(states), tuple(issues))


def _parse_state(
    row: dict[str | None, str | list[str] | None], line: int, problems: list[str]
) -> ParsedState | None:
    identifiant = _cell(row, "identifiant")
    if not identifiant:
        problems.append(_("identifiant de structure manquant"))
    status = _optional_status(_cell(row, "statut"), problems)
    due = _optional_date(_cell(row, "echeance"), "echeance", problems)
    if problems:
        return None
    return ParsedState(
        line=line,
        identifiant=identifiant,
        status=status,
        owner=_cell(row, "responsable") or None,
        next_action=_cell(row, "prochaine_action") or None,
        next_action_date=due,
    )


def _optional_status(text: str, problems: list[str]) -> str | None:
    if not text:
        return None
    try:
        return parse_status(text)
    except UnknownStatusError as error:
        problems.append(str(error))
        return None


def _optional_date(text: str, column: str, problems: list[str]) -> date | None:
    try:
        return parse_date(text)
    except ValueError:
        problems.append(
            _(
                "date illisible « {value} » dans la colonne {column} "
                "(attendu AAAA-MM-JJ ou JJ/MM/AAAA)",
                value=text,
                column=column,
            )
        )
        return None


def _required(
    row: dict[str | None, str | list[str] | None], column: str, problems: list[str]
) -> str:
    value = _cell(row, column)
    if not value:
        problems.append(_("colonne {column} vide", column=column))
    elif len(value) > _MAX_SHORT:
        problems.append(
            _("{column} trop long (plus de {n} caractères)", column=column, n=_MAX_SHORT)
        )
    return value


def _parse_event(
    row: dict[str | None, str | list[str] | None], line: int, problems: list[str]
) -> ParsedEvent | None:
    identifiant = _required(row, "identifiant", problems)
    author = _required(row, "auteur", problems)
    kind = fold_code(_cell(row, "nature"))
    if kind not in EVENT_KINDS:
        problems.append(
            _(
                "nature d'événement inconnue « {kind} » (attendu : {expected})",
                kind=_cell(row, "nature"),
                expected=", ".join(EVENT_KINDS),
            )
        )
    occurred_at: datetime | None = None
    raw_date = _cell(row, "date")
    try:
        occurred_at = parse_datetime(raw_date)
    except ValueError:
        problems.append(
            _(
                "date illisible « {value} » (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS+00:00)",
                value=raw_date,
            )
        )
    old_value = _cell(row, "ancienne_valeur") or None
    new_value = _cell(row, "nouvelle_valeur") or None
    text = _cell(row, "texte") or None
    if kind == "statut":
        if new_value is None:
            problems.append(_("nouveau statut manquant (colonne nouvelle_valeur)"))
        else:
            new_value = _optional_status(new_value, problems)
        old_value = _optional_status(old_value or "", problems)
    if kind == "note" and text is None:
        problems.append(_("note vide (colonne texte)"))
    old_date = _optional_date(_cell(row, "ancienne_echeance"), "ancienne_echeance", problems)
    new_date = _optional_date(_cell(row, "nouvelle_echeance"), "nouvelle_echeance", problems)
    event_id = _cell(row, "evenement_id")
    if event_id:
        try:
            event_id = str(uuid.UUID(event_id))
        except ValueError:
            problems.append(_("evenement_id n'est pas un UUID : « {value} »", value=event_id))
    if problems or occurred_at is None:
        return None
    if not event_id:
        content = "\x1f".join(
            _cell(row, name) for name in COLUMNS if name not in {"nom", "evenement_id"}
        )
        event_id = str(uuid.uuid5(_NAMESPACE, content))
    return ParsedEvent(
        line=line,
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
    )
