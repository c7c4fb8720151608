"""Import of a contacts file into the store: history lines, edited records, conflicts.

Called by :meth:`tierslieux.store.ContactRepository.import_file` inside one write
transaction; nothing is written before every check has passed.

**History lines** (``evenement``) already in the store (same id) are skipped.  New ones
are merged into the history by date, and the record is recomputed from it.  A status
change must start from the status in effect at its date (the ``ancienne_valeur`` of
the line, when given): a line that would put « intéressé → pas intéressé » after
« intéressé → partenaire », or slip before a recorded change and break it, is an
impossible transition and is refused with its line and column.

**Edited records** (``etat`` lines): the record as exported (the *base*) is replayed
from the file's own history lines, or, for a file without them, from the store's
history up to the line's ``version``.  A cell that differs from the base is an edit;
an edit the store already has (a second import of the same file) is no change.  The
changes are applied with the same version check as the command line: when the store
has history the file does not know (someone changed the record since the export),
nothing is applied to that record and a conflict is reported with, for each field, the
file's value, the store's value, and who changed it and when — unless the import is
forced, which applies the edits on top of the latest state (like ``set-status``
without ``--version``).  Applied edits always start from the stored state, so they
never write an impossible transition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, insert, select, update

from tierslieux.errors import Input, Problem
from tierslieux.i18n import gettext as _
from tierslieux.privacy import mask_contact_details
from tierslieux.store import _records as records
from tierslieux.store._csv import ParsedEvent, ParsedFile, ParsedState, format_date, format_datetime
from tierslieux.store._errors import ImportRejectedError, InvalidValueError
from tierslieux.store._records import CONTACTS, EVENTS, STRUCTURES, Change
from tierslieux.store.views import (
    DEFAULT_STATUS,
    EventView,
    FieldConflict,
    ImportConflict,
    ImportIssue,
    ImportReport,
    status_labels,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import date, datetime
    from pathlib import Path

    from sqlalchemy import Connection, Row

__all__ = ["import_parsed"]


class _Event(Protocol):
    """What replaying a history needs from an event (stored or read from a file)."""

    @property
    def kind(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def new_value(self) -> str | None: ...
    @property
    def new_date(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class _Record:
    """The editable part of a contact record."""

    status: str = DEFAULT_STATUS
    owner: str | None = None
    next_action: str | None = None
    next_action_date: date | None = None


def _replay(events: Iterable[_Event]) -> _Record:
    """The record that a history gives, replayed in date order."""
    record = _Record()
    for event in sorted(events, key=lambda e: e.occurred_at):
        if event.kind == "statut" and event.new_value:
            record = replace(record, status=event.new_value)
        elif event.kind == "responsable":
            record = replace(record, owner=event.new_value)
        elif event.kind == "prochaine_action":
            record = replace(record, next_action=event.new_value, next_action_date=event.new_date)
    return record


def _same(shown: str | None, stored: str | None) -> bool:
    """Whether a file's text says the stored one (possibly as the export masked it)."""
    shown, stored = records.clean(shown), records.clean(stored)
    return shown == stored or (stored is not None and shown == mask_contact_details(stored))


@dataclass(frozen=True, slots=True)
class _Edit:
    """One change an ``etat`` line asks for: its column, the change, how it shows."""

    column: str
    change: Change
    file_value: str
    database_value: str
    kinds: tuple[str, ...]


def _status_text(code: str | None) -> str:
    return status_labels().get(code or "", code or "—")


def _action_text(text: str | None, due: date | None) -> str:
    if text is None and due is None:
        return "—"
    shown = text or _("(aucune)")
    return shown + (" " + _("pour le {date}", date=format_date(due)) if due else "")


def _edits(
    state: ParsedState,
    base: _Record,
    current: _Record,
    notes_since: Sequence[str | None],
) -> list[_Edit]:
    """The changes of an ``etat`` line: edited (≠ base) and not already stored."""
    edits: list[_Edit] = []
    given = state.given
    if "statut" in given and state.status and state.status not in (base.status, current.status):
        edits.append(
            _Edit(
                state.column("statut"),
                Change(
                    "statut",
                    {"status": state.status},
                    old_value=current.status,
                    new_value=state.status,
                ),
                _status_text(state.status),
                _status_text(current.status),
                ("statut",),
            )
        )
    if (
        "responsable" in given
        and not _same(state.owner, base.owner)
        and not _same(state.owner, current.owner)
    ):
        edits.append(
            _Edit(
                state.column("responsable"),
                Change(
                    "responsable",
                    {"owner": state.owner},
                    old_value=current.owner,
                    new_value=state.owner,
                ),
                state.owner or "—",
                current.owner or "—",
                ("responsable",),
            )
        )
    text_edited = "prochaine_action" in given and not _same(state.next_action, base.next_action)
    date_edited = "echeance" in given and state.next_action_date != base.next_action_date
    text = state.next_action if text_edited else current.next_action
    due = state.next_action_date if date_edited else current.next_action_date
    if (text_edited or date_edited) and (
        not _same(text, current.next_action) or due != current.next_action_date
    ):
        columns = [
            name
            for name, edited in (("prochaine_action", text_edited), ("echeance", date_edited))
            if edited
        ]
        edits.append(
            _Edit(
                " + ".join(state.column(name) for name in columns),
                Change(
                    "prochaine_action",
                    {"next_action": records.clean(text), "next_action_date": due},
                    old_value=current.next_action,
                    new_value=records.clean(text),
                    old_date=current.next_action_date,
                    new_date=due,
                ),
                _action_text(text, due),
                _action_text(current.next_action, current.next_action_date),
                ("prochaine_action",),
            )
        )
    note = records.clean(state.note)
    if note is not None and not any(_same(note, seen) for seen in notes_since):
        edits.append(
            _Edit(
                state.column("nouvelle_note"),
                Change("note", text=note),
                note,
                "—",
                ("note",),
            )
        )
    return edits


@dataclass
class _Plan:
    """What an import will write, built before any write."""

    issues: list[ImportIssue]
    warnings: list[ImportIssue]
    new_events: dict[str, list[ParsedEvent]]
    skipped: int
    edits: dict[str, list[_Edit]]
    conflicts: list[ImportConflict]


def _load(
    connection: Connection, named: Sequence[str]
) -> tuple[dict[str, Row[Any]], dict[str, list[EventView]]]:
    rows: dict[str, Row[Any]] = {}
    for chunk in records.chunks(named):
        query = records.view_query().where(STRUCTURES.c.identifiant.in_(chunk))
        rows.update((row.identifiant, row) for row in connection.execute(query))
    return rows, records.read_events(connection, sorted(rows))


def _record_of(row: Row[Any]) -> _Record:
    return _Record(row.status, row.owner, row.next_action, row.next_action_date)


def _present_uuids(connection: Connection, uuids: Sequence[str]) -> set[str]:
    present: set[str] = set()
    for chunk in records.chunks(uuids):
        present.update(
            connection.execute(select(EVENTS.c.uuid).where(EVENTS.c.uuid.in_(chunk))).scalars()
        )
    return present


def _edited_history_warning(event: ParsedEvent, stored: EventView) -> ImportIssue | None:
    """A warning when a history line already stored was edited in the file."""
    for column, shown, kept in (
        ("nouvelle_valeur", event.new_value, stored.new_value),
        ("texte", event.text, stored.text),
    ):
        if not _same(shown, kept):
            return ImportIssue(
                event.line,
                _(
                    "cette ligne d'historique a été modifiée dans le fichier ; l'historique "
                    "n'est jamais réécrit : la modification est ignorée (pour changer la "
                    "fiche, modifiez sa ligne « etat »)"
                ),
                column,
                event.sheet,
            )
    return None


def _check_chain(
    identifiant: str, stored: list[EventView], new: list[ParsedEvent], issues: list[ImportIssue]
) -> list[ParsedEvent] | None:
    """Merge new history lines into a history; ``None`` when a transition is impossible.

    Status lines without ``ancienne_valeur`` get the status in effect at their date.
    """
    merged: list[tuple[datetime, int, EventView | ParsedEvent]] = [
        (event.occurred_at, 0, event) for event in stored
    ]
    merged += [(event.occurred_at, 1, event) for event in new]
    merged.sort(key=lambda item: (item[0], item[1]))
    status = DEFAULT_STATUS
    setter: ParsedEvent | None = None
    filled: dict[str, ParsedEvent] = {}
    broken = False
    for _at, origin, event in merged:
        if event.kind != "statut" or not event.new_value:
            continue
        if origin == 1:
            assert isinstance(event, ParsedEvent)  # noqa: S101  (origin 1 is a file line)
            if not event.has_old_value:
                event = replace(event, old_value=status)  # noqa: PLW2901
            elif event.old_value != status:
                broken = True
                issues.append(
                    ImportIssue(
                        event.line,
                        _(
                            "changement de statut impossible pour {identifiant} : « {old} → "
                            "{new} » alors que la fiche est « {current} » à cette date "
                            "({when}, heure de Paris) ; partez de la fiche actuelle (ligne "
                            "« etat ») plutôt que d'une ligne d'historique",
                            identifiant=identifiant,
                            old=_status_text(event.old_value),
                            new=_status_text(event.new_value),
                            current=_status_text(status),
                            when=format_datetime(event.occurred_at),
                        ),
                        event.column("ancienne_valeur"),
                        event.sheet,
                    )
                )
            filled[event.uuid] = event
            setter = event
        else:
            if event.old_value is not None and event.old_value != status and setter is not None:
                broken = True
                issues.append(
                    ImportIssue(
                        setter.line,
                        _(
                            "changement de statut impossible pour {identifiant} : daté du "
                            "{when}, il se placerait avant le changement « {old} → {new} » "
                            "enregistré le {stored_at} par {author} (heure de Paris), qui "
                            "ne partirait plus du bon statut",
                            identifiant=identifiant,
                            when=format_datetime(setter.occurred_at),
                            old=_status_text(event.old_value),
                            new=_status_text(event.new_value),
                            stored_at=format_datetime(event.occurred_at),
                            author=event.author,
                        ),
                        setter.column("date"),
                        setter.sheet,
                    )
                )
            setter = None
        status = event.new_value or status
    if broken:
        return None
    return [filled.get(event.uuid, event) for event in new]


def _unknown_structures(parsed: ParsedFile, rows: Mapping[str, Any]) -> list[ImportIssue]:
    lines = [(e.line, e.identifiant, e.sheet) for e in parsed.events]
    lines += [(s.line, s.identifiant, s.sheet) for s in parsed.states]
    return [
        ImportIssue(
            line,
            _("structure inconnue « {identifiant} »", identifiant=ident),
            "identifiant",
            sheet,
        )
        for line, ident, sheet in lines
        if ident not in rows
    ]


@dataclass
class _History:
    """The history lines of a file, by structure: all of them, and the new ones."""

    in_file: dict[str, list[ParsedEvent]]
    new: dict[str, list[ParsedEvent]]
    skipped: int


def _history(
    connection: Connection,
    parsed: ParsedFile,
    stored: Mapping[str, list[EventView]],
    known: Mapping[str, Any],
    issues: list[ImportIssue],
    warnings: list[ImportIssue],
) -> _History:
    """Sort the file's history lines: stored ones skipped, new ones checked and merged."""
    by_uuid = {event.uuid: event for events in stored.values() for event in events}
    others = sorted({e.uuid for e in parsed.events} - set(by_uuid))
    present = _present_uuids(connection, others) | set(by_uuid)
    in_file: dict[str, list[ParsedEvent]] = defaultdict(list)
    new: dict[str, list[ParsedEvent]] = defaultdict(list)
    seen: set[str] = set()
    skipped = 0
    for event in parsed.events:
        if event.identifiant not in known:
            continue
        in_file[event.identifiant].append(event)
        if event.uuid in present or event.uuid in seen:
            skipped += 1
            kept = by_uuid.get(event.uuid)
            warning = None if kept is None else _edited_history_warning(event, kept)
            if warning is not None:
                warnings.append(warning)
            continue
        seen.add(event.uuid)
        new[event.identifiant].append(event)
    for ident in sorted(new):
        found = len(issues)
        merged = _check_chain(ident, stored.get(ident, []), new[ident], issues)
        if merged is not None:
            new[ident] = merged
            continue
        blamed = {(issue.sheet, issue.line) for issue in issues[found:]}
        issues.extend(
            ImportIssue(
                event.line,
                _(
                    "non importée : l'historique de {identifiant} aurait un changement "
                    "de statut impossible (voir les autres lignes)",
                    identifiant=ident,
                ),
                None,
                event.sheet,
            )
            for event in new[ident]
            if (event.sheet, event.line) not in blamed
        )
        del new[ident]
    return _History(dict(in_file), dict(new), skipped)


def _base(
    state: ParsedState,
    row: Row[Any],
    history: list[EventView],
    files: _History,
    *,
    history_in_file: bool,
) -> tuple[_Record, list[EventView]] | ImportIssue:
    """The record as exported, and the stored history the file does not know."""
    if history_in_file:
        known = {event.uuid for event in files.in_file.get(state.identifiant, [])}
        base = _replay(files.in_file.get(state.identifiant, []))
        return base, [event for event in history if event.uuid not in known]
    if state.version is None:
        return _record_of(row), []
    if state.version > row.version:
        return ImportIssue(
            state.line,
            _(
                "version {version} inconnue : la fiche {identifiant} n'en est qu'à "
                "la version {current} dans la base (ce fichier vient-il d'une autre "
                "base ?)",
                version=state.version,
                identifiant=state.identifiant,
                current=row.version,
            ),
            state.column("version"),
            state.sheet,
        )
    base = _replay(event for event in history if event.version <= state.version)
    return base, [event for event in history if event.version > state.version]


def _duplicate_state(state: ParsedState, first: int) -> ImportIssue:
    return ImportIssue(
        state.line,
        _(
            "deuxième ligne « etat » pour {identifiant} (la première est la "
            "ligne {line}) : gardez-en une seule",
            identifiant=state.identifiant,
            line=first,
        ),
        "identifiant",
        state.sheet,
    )


def _outsiders(
    parsed: ParsedFile, rows: dict[str, Row[Any]], among: Collection[str]
) -> list[ImportIssue]:
    """The lines of structures that exist but are not ``among`` (another project's):
    one issue per line, naming the structure; they are taken out of ``rows``."""
    lines = [(e.line, e.identifiant, e.sheet) for e in parsed.events]
    lines += [(s.line, s.identifiant, s.sheet) for s in parsed.states]
    found = [
        ImportIssue(
            line,
            _(
                "la structure « {nom} » ({identifiant}) n'est pas dans l'annuaire de ce "
                "projet : ligne refusée",
                nom=rows[ident].nom,
                identifiant=ident,
            ),
            "identifiant",
            sheet,
        )
        for line, ident, sheet in lines
        if ident in rows and ident not in among
    ]
    for ident in [ident for ident in rows if ident not in among]:
        del rows[ident]
    return found


def _plan(
    connection: Connection,
    parsed: ParsedFile,
    *,
    force: bool,
    among: Collection[str] | None = None,
) -> _Plan:
    issues = list(parsed.issues)
    warnings: list[ImportIssue] = []
    named = sorted(
        {event.identifiant for event in parsed.events}
        | {state.identifiant for state in parsed.states}
    )
    rows, stored = _load(connection, named)
    issues.extend(_unknown_structures(parsed, rows))
    if among is not None:
        issues.extend(_outsiders(parsed, rows, among))
    files = _history(connection, parsed, stored, rows, issues, warnings)
    edits: dict[str, list[_Edit]] = {}
    conflicts: list[ImportConflict] = []
    first_line: dict[str, int] = {}
    for state in parsed.states:
        ident = state.identifiant
        if ident not in rows:
            continue
        if ident in first_line:
            issues.append(_duplicate_state(state, first_line[ident]))
            continue
        first_line[ident] = state.line
        row, history = rows[ident], stored.get(ident, [])
        found = _base(state, row, history, files, history_in_file=bool(parsed.events))
        if isinstance(found, ImportIssue):
            issues.append(found)
            continue
        base, unknown = found
        new = files.new.get(ident)
        current = _replay([*history, *new]) if new else _record_of(row)
        # Notes added since the export: a note of the file among them is already there.
        since = unknown if (parsed.events or state.version is not None) else history
        wanted = _edits(state, base, current, [e.text for e in since if e.kind == "note"])
        if not wanted:
            continue
        if unknown:
            conflicts.append(_conflict(state, row, unknown, wanted, overwritten=force))
            if not force:
                files.new.pop(ident, None)
                continue
        edits[ident] = wanted
    return _Plan(issues, warnings, files.new, files.skipped, edits, conflicts)


def _conflict(
    state: ParsedState,
    row: Row[Any],
    unknown: list[EventView],
    wanted: list[_Edit],
    *,
    overwritten: bool,
) -> ImportConflict:
    latest = max(unknown, key=lambda event: event.occurred_at)
    fields: list[FieldConflict] = []
    for edit in wanted:
        touching = [event for event in unknown if event.kind in edit.kinds]
        last = max(touching, key=lambda event: event.occurred_at) if touching else latest
        fields.append(
            FieldConflict(
                column=edit.column,
                file_value=edit.file_value,
                database_value=edit.database_value,
                changed_by=last.author,
                changed_at=last.occurred_at,
            )
        )
    return ImportConflict(
        identifiant=state.identifiant,
        nom=row.nom,
        line=state.line,
        sheet=state.sheet,
        file_version=state.version,
        database_version=row.version,
        fields=tuple(fields),
        overwritten=overwritten,
    )


def import_parsed(
    connection: Connection,
    path: Path,
    parsed: ParsedFile,
    *,
    partial: bool,
    force: bool,
    author: str | None,
    among: Collection[str] | None = None,
) -> ImportReport:
    """Check then write a parsed contacts file (see the module); return the report.

    ``among``: the structures the file may change (a project's directory); the lines of
    any other structure are refused, one issue per line naming the structure.

    Raises
    ------
    ImportRejectedError
        When a line is invalid (unknown structure, impossible transition...) and
        ``partial`` is false; nothing is written.
    InvalidValueError
        When ``etat`` lines change records and no ``author`` is given.
    """
    plan = _plan(connection, parsed, force=force, among=among)
    plan.issues.sort(key=lambda issue: (issue.sheet or "", issue.line))
    if plan.issues and not partial:
        raise ImportRejectedError(path, tuple(plan.issues))
    if plan.edits:
        if author is None or records.clean(author) is None:
            raise InvalidValueError(
                Problem.of(
                    "Le fichier modifie {n} fiche(s) (lignes « etat ») : indiquez avec "
                    "{auteur} qui a fait ces modifications (gardé dans l'historique).",
                    field="auteur",
                    n=len(plan.edits),
                    auteur=Input("auteur"),
                )
            )
        author = records.check_author(author)
    added, updated = _insert_events(connection, plan.new_events)
    applied = 0
    for ident in sorted(plan.edits):
        for edit in plan.edits[ident]:
            state = records.lock(connection, ident)
            change = edit.change
            if change.kind == "statut":
                change = replace(change, old_value=state.status)
            elif change.kind == "responsable":
                change = replace(change, old_value=state.owner)
            elif change.kind == "prochaine_action":
                change = replace(
                    change, old_value=state.next_action, old_date=state.next_action_date
                )
            records.apply(connection, ident, state.version, str(author), change)
            applied += 1
        updated.add(ident)
    return ImportReport(
        events_added=added,
        events_skipped=plan.skipped,
        contacts_updated=len(updated),
        state_rows=len(parsed.states),
        issues=tuple(plan.issues),
        warnings=tuple(plan.warnings),
        changes_applied=applied,
        conflicts=tuple(plan.conflicts),
        source=parsed.source,
    )


def _insert_events(
    connection: Connection, fresh: dict[str, list[ParsedEvent]]
) -> tuple[int, set[str]]:
    added = 0
    updated: set[str] = set()
    for identifiant in sorted(fresh):
        new = sorted(fresh[identifiant], key=lambda event: event.occurred_at)
        if not new:
            continue
        state = records.lock(connection, identifiant)
        connection.execute(
            insert(EVENTS),
            [
                {
                    "uuid": event.uuid,
                    "identifiant": identifiant,
                    "kind": event.kind,
                    "author": event.author,
                    "occurred_at": event.occurred_at,
                    "version": state.version + rank,
                    "old_value": event.old_value,
                    "new_value": event.new_value,
                    "old_date": event.old_date,
                    "new_date": event.new_date,
                    "text": event.text,
                }
                for rank, event in enumerate(new, start=1)
            ],
        )
        _store_replay(connection, identifiant, state.version, len(new))
        added += len(new)
        updated.add(identifiant)
    return added, updated


def _store_replay(connection: Connection, identifiant: str, version: int, added: int) -> None:
    """Recompute a record from its whole stored history after new history lines."""
    query = (
        select(EVENTS)
        .where(EVENTS.c.identifiant == identifiant)
        .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
    )
    rows = list(connection.execute(query))
    record = _replay(rows)
    values: dict[str, Any] = {
        "status": record.status,
        "owner": record.owner,
        "next_action": record.next_action,
        "next_action_date": record.next_action_date,
    }
    if rows:
        last = rows[-1]
        values["updated_at"] = last.occurred_at
        values["updated_by"] = last.author
    result = connection.execute(
        update(CONTACTS)
        .where(and_(CONTACTS.c.identifiant == identifiant, CONTACTS.c.version == version))
        .values(**values, version=version + added)
    )
    if result.rowcount != 1:
        raise records.stale(connection, identifiant, version, version + added)
