"""Repository of contact records and their history (tables ``contacts``, ``contact_events``).

Every public write is one transaction.  Contact records carry a ``version``: each
write runs ``UPDATE contacts ... WHERE version = <version read>`` under a row lock
(``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and checks
the row count, then appends exactly one history event.  So concurrent writers never
lose a change: without ``expected_version`` each write is applied on top of the
latest one (both events kept, version incremented once per write); with
``expected_version`` a write based on an outdated read is refused with
:class:`~tierslieux.store.StaleWriteError`.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, and_, insert, select, update

from tierslieux.errors import StoreError
from tierslieux.files import atomic_open
from tierslieux.i18n import gettext as _
from tierslieux.privacy import mask_contact_details
from tierslieux.store import _csv
from tierslieux.store import _records as records
from tierslieux.store._errors import ImportRejectedError, InvalidValueError
from tierslieux.store._records import CONTACTS, EVENTS, MAX_SHORT, STRUCTURES, Change, State
from tierslieux.store.views import (
    DEFAULT_STATUS,
    ContactView,
    ExportReport,
    ImportIssue,
    ImportReport,
    parse_status,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from sqlalchemy import ColumnElement, Connection

    from tierslieux.store.database import Database

__all__ = ["ContactRepository"]


class ContactRepository:
    """Contact records of the structures, their history, and their CSV exchange."""

    def __init__(self, database: Database) -> None:
        self._database = database

    # -- reading -------------------------------------------------------------------

    def get_contact(self, identifiant: str) -> ContactView:
        """Return the contact record of a structure with its full history and people.

        Raises
        ------
        UnknownStructureError
            When no structure has this identifier.
        """
        with self._database.transaction(write=False) as connection:
            return records.read_view(connection, identifiant)

    def list_contacts(
        self,
        *,
        status: str | None = None,
        owner: str | None = None,
        commune: str | None = None,
        due_before: date | None = None,
        details: bool = False,
    ) -> list[ContactView]:
        """List contact records, sorted by structure name.

        Parameters
        ----------
        status
            Keep this status only (code or French label).
        owner
            Keep the records of this owner only.
        commune
            Keep the structures of this INSEE commune code only (``"05061"``).
        due_before
            Keep the records whose next action is due on or before this date.
        details
            Also load each record's history and people (slower).

        Returns
        -------
        list of ContactView
            Without history nor people unless ``details`` is true.
        """
        conditions: list[ColumnElement[bool]] = []
        if status is not None:
            conditions.append(CONTACTS.c.status == parse_status(status))
        if owner is not None:
            conditions.append(CONTACTS.c.owner == owner)
        if commune is not None:
            conditions.append(STRUCTURES.c.code_commune == commune)
        if due_before is not None:
            conditions.append(CONTACTS.c.next_action_date <= due_before)
        query = (
            records.view_query()
            .where(*conditions)
            .order_by(STRUCTURES.c.nom, STRUCTURES.c.identifiant)
        )
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(query).all()
            if not details:
                return [records.contact_from_row(row) for row in rows]
            identifiants = [row.identifiant for row in rows]
            history = records.read_events(connection, identifiants)
            people = records.read_people(connection, identifiants)
            return [
                records.contact_from_row(
                    row,
                    history=tuple(history.get(row.identifiant, ())),
                    people=tuple(people.get(row.identifiant, ())),
                )
                for row in rows
            ]

    # -- writing -------------------------------------------------------------------

    def set_status(
        self,
        identifiant: str,
        status: str,
        *,
        author: str,
        expected_version: int | None = None,
        note: str | None = None,
    ) -> ContactView:
        """Change the status of a structure's contact record.

        Parameters
        ----------
        identifiant
            The structure (``"siret:..."``, ``"rna:W..."``, ``"acteur:..."``).
        status
            Code or French label: {``a_contacter``, ``contacte``, ``interesse``,
            ``partenaire``, ``pas_interesse``}.
        author
            Who makes the change (kept in the history).
        expected_version
            The version the author's change is based on; when it is no longer the
            stored one, the write is refused.  ``None`` applies it on top of the
            latest state.
        note
            Optional note kept with the change.  Setting the current status again
            without a note writes nothing.

        Returns
        -------
        ContactView
            The record after the change, with its history.

        Raises
        ------
        UnknownStatusError, UnknownStructureError, StaleWriteError, InvalidValueError
        """
        code = parse_status(status)
        text = records.clean(note)

        def change(state: State) -> Change | None:
            if state.status == code and text is None:
                return None
            return Change(
                "statut", {"status": code}, old_value=state.status, new_value=code, text=text
            )

        return self._mutate(identifiant, author, expected_version, change)

    def add_note(
        self,
        identifiant: str,
        text: str,
        *,
        author: str,
        expected_version: int | None = None,
    ) -> ContactView:
        """Append a dated note to a structure's history.

        Raises
        ------
        InvalidValueError
            When the note is empty.
        UnknownStructureError, StaleWriteError
        """
        cleaned = records.clean(text)
        if cleaned is None:
            raise InvalidValueError(_("La note est vide."))
        return self._mutate(
            identifiant, author, expected_version, lambda _state: Change("note", text=cleaned)
        )

    def set_next_action(
        self,
        identifiant: str,
        text: str | None,
        due: date | None,
        *,
        author: str,
        expected_version: int | None = None,
    ) -> ContactView:
        """Set (or clear, with ``None``) the next action and its due date.

        Raises
        ------
        UnknownStructureError, StaleWriteError, InvalidValueError
        """
        cleaned = records.clean(text)

        def change(state: State) -> Change | None:
            if (state.next_action, state.next_action_date) == (cleaned, due):
                return None
            return Change(
                "prochaine_action",
                {"next_action": cleaned, "next_action_date": due},
                old_value=state.next_action,
                new_value=cleaned,
                old_date=state.next_action_date,
                new_date=due,
            )

        return self._mutate(identifiant, author, expected_version, change)

    def set_owner(
        self,
        identifiant: str,
        owner: str | None,
        *,
        author: str,
        expected_version: int | None = None,
    ) -> ContactView:
        """Set (or clear, with ``None``) the person in charge of the contact.

        Raises
        ------
        UnknownStructureError, StaleWriteError, InvalidValueError
        """
        cleaned = records.clean(owner)
        if cleaned is not None and len(cleaned) > MAX_SHORT:
            raise InvalidValueError(
                _("Nom de responsable trop long (plus de {n} caractères).", n=MAX_SHORT)
            )

        def change(state: State) -> Change | None:
            if state.owner == cleaned:
                return None
            return Change(
                "responsable", {"owner": cleaned}, old_value=state.owner, new_value=cleaned
            )

        return self._mutate(identifiant, author, expected_version, change)

    def _mutate(
        self,
        identifiant: str,
        author: str,
        expected_version: int | None,
        decide: Callable[[State], Change | None],
    ) -> ContactView:
        author = records.check_author(author)
        with self._database.transaction(write=True) as connection:
            state = records.lock(connection, identifiant)
            if expected_version is not None and expected_version != state.version:
                raise records.stale(connection, identifiant, expected_version, state.version)
            change = decide(state)
            if change is not None:
                records.apply(connection, identifiant, state.version, author, change)
            return records.read_view(connection, identifiant)

    # -- CSV -----------------------------------------------------------------------

    def export_csv(self, path: Path, *, mask: bool = True) -> ExportReport:
        """Write every contact record and history event to a CSV file (UTF-8, ``;``).

        The file is written aside and renamed into place, from one consistent read:
        writers may keep working meanwhile.  Contact persons are not exported (see
        :meth:`~tierslieux.store.PeopleRepository.export_person_data`).  Format:
        :mod:`tierslieux.store._csv`.  With ``mask`` (the default), e-mail addresses
        and phone numbers in notes and next actions are masked
        (:func:`tierslieux.privacy.mask_contact_details`).

        Raises
        ------
        StoreError
            When the file cannot be written.
        """
        path = Path(path)
        contacts = events = 0
        with (
            atomic_open(path, newline="", private=True, error_type=StoreError) as stream,
            self._database.transaction(write=False) as connection,
        ):
            writer = _csv.contacts_writer(stream)
            for row in connection.execute(records.view_query().order_by(STRUCTURES.c.identifiant)):
                writer.writerow(_masked(_state_line(row), mask=mask))
                contacts += 1
            query = (
                select(EVENTS, STRUCTURES.c.nom)
                .join(STRUCTURES, STRUCTURES.c.identifiant == EVENTS.c.identifiant)
                .order_by(EVENTS.c.identifiant, EVENTS.c.occurred_at, EVENTS.c.id)
            )
            for row in connection.execute(query):
                writer.writerow(_masked(_event_line(row), mask=mask))
                events += 1
        return ExportReport(path=path, contacts=contacts, events=events)

    def import_csv(self, path: Path, *, partial: bool = False) -> ImportReport:
        """Import the history events of a contacts CSV (as written by :meth:`export_csv`).

        Events already in the store (same ``evenement_id``) are skipped, so importing
        a file twice adds nothing.  The records of the structures concerned are then
        recomputed from their whole history, in date order; each new event counts as
        one change of version.  ``etat`` lines are informative: they change nothing,
        and a warning lists those that differ from the resulting record.

        Parameters
        ----------
        path
            CSV file, UTF-8, ``;`` or ``,`` separated.
        partial
            ``False`` (default): any invalid line rejects the whole file and nothing
            is written.  ``True``: invalid lines are skipped and reported.

        Returns
        -------
        ImportReport

        Raises
        ------
        ImportRejectedError
            When the file is unusable, or has invalid lines and ``partial`` is false.
        """
        path = Path(path)
        parsed = _csv.read_contacts_csv(path)
        issues = list(parsed.issues)
        with self._database.transaction(write=True) as connection:
            named = sorted(
                {event.identifiant for event in parsed.events}
                | {state.identifiant for state in parsed.states}
            )
            known: set[str] = set()
            for chunk in records.chunks(named):
                query = select(STRUCTURES.c.identifiant).where(STRUCTURES.c.identifiant.in_(chunk))
                known.update(connection.execute(query).scalars())
            lines: list[tuple[int, str]] = [(e.line, e.identifiant) for e in parsed.events]
            lines += [(s.line, s.identifiant) for s in parsed.states]
            issues.extend(
                ImportIssue(line, _("structure inconnue « {identifiant} »", identifiant=ident))
                for line, ident in lines
                if ident not in known
            )
            issues.sort(key=lambda issue: issue.line)
            if issues and not partial:
                raise ImportRejectedError(path, tuple(issues))
            added, skipped, updated = _insert_events(
                connection, [event for event in parsed.events if event.identifiant in known]
            )
            warnings = _compare_states(
                connection, [state for state in parsed.states if state.identifiant in known]
            )
        return ImportReport(
            events_added=added,
            events_skipped=skipped,
            contacts_updated=updated,
            state_rows=len(parsed.states),
            issues=tuple(issues),
            warnings=tuple(warnings),
        )


def _insert_events(connection: Connection, events: list[_csv.ParsedEvent]) -> tuple[int, int, int]:
    present: set[str] = set()
    for chunk in records.chunks(sorted({event.uuid for event in events})):
        query = select(EVENTS.c.uuid).where(EVENTS.c.uuid.in_(chunk))
        present.update(connection.execute(query).scalars())
    fresh: dict[str, list[_csv.ParsedEvent]] = defaultdict(list)
    skipped = 0
    for event in events:
        if event.uuid in present:
            skipped += 1
            continue
        present.add(event.uuid)
        fresh[event.identifiant].append(event)
    added = 0
    for identifiant in sorted(fresh):
        state = records.lock(connection, identifiant)
        new = sorted(fresh[identifiant], key=lambda event: event.occurred_at)
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
        _replay(connection, identifiant, state.version, len(new))
        added += len(new)
    return added, skipped, len(fresh)


def _replay(connection: Connection, identifiant: str, version: int, added: int) -> None:
    """Recompute a record from its whole history after an import."""
    values: dict[str, Any] = {
        "status": DEFAULT_STATUS,
        "owner": None,
        "next_action": None,
        "next_action_date": None,
    }
    last: Row[Any] | None = None
    query = (
        select(EVENTS)
        .where(EVENTS.c.identifiant == identifiant)
        .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
    )
    for row in connection.execute(query):
        last = row
        if row.kind == "statut" and row.new_value:
            values["status"] = row.new_value
        elif row.kind == "responsable":
            values["owner"] = row.new_value
        elif row.kind == "prochaine_action":
            values["next_action"] = row.new_value
            values["next_action_date"] = row.new_date
    if last is not None:
        values["updated_at"] = last.occurred_at
        values["updated_by"] = last.author
    result = connection.execute(
        update(CONTACTS)
        .where(and_(CONTACTS.c.identifiant == identifiant, CONTACTS.c.version == version))
        .values(**values, version=version + added)
    )
    if result.rowcount != 1:
        raise records.stale(connection, identifiant, version, version + added)


def _compare_states(connection: Connection, states: list[_csv.ParsedState]) -> list[ImportIssue]:
    warnings: list[ImportIssue] = []
    for state in states:
        current = records.lock(connection, state.identifiant)
        stated = (state.status, state.owner, state.next_action, state.next_action_date)
        stored = (
            current.status if state.status is not None else None,
            current.owner,
            current.next_action,
            current.next_action_date,
        )
        if stated != stored:
            warnings.append(
                ImportIssue(
                    state.line,
                    _(
                        "l'état indiqué pour « {identifiant} » diffère de celui qui "
                        "résulte de l'historique ; seules les lignes « evenement » "
                        "modifient la base",
                        identifiant=state.identifiant,
                    ),
                )
            )
    return warnings


_FREE_TEXT = ("prochaine_action", "texte", "ancienne_valeur", "nouvelle_valeur")


def _masked(line: dict[str, str], *, mask: bool) -> dict[str, str]:
    if mask:
        for name in _FREE_TEXT:
            if line.get(name):
                line[name] = mask_contact_details(line[name])
    return line


def _state_line(row: Row[Any]) -> dict[str, str]:
    return {
        "ligne": _csv.STATE_LINE,
        "identifiant": row.identifiant,
        "nom": row.nom,
        "statut": row.status,
        "responsable": row.owner or "",
        "prochaine_action": row.next_action or "",
        "echeance": _csv.format_date(row.next_action_date),
        "version": str(row.version),
        "date": _csv.format_datetime(row.updated_at),
        "auteur": row.updated_by or "",
    }


def _event_line(row: Row[Any]) -> dict[str, str]:
    return {
        "ligne": _csv.EVENT_LINE,
        "identifiant": row.identifiant,
        "nom": row.nom,
        "version": str(row.version),
        "date": _csv.format_datetime(row.occurred_at),
        "auteur": row.author,
        "evenement_id": row.uuid,
        "nature": row.kind,
        "ancienne_valeur": row.old_value or "",
        "nouvelle_valeur": row.new_value or "",
        "ancienne_echeance": _csv.format_date(row.old_date),
        "nouvelle_echeance": _csv.format_date(row.new_date),
        "texte": row.text or "",
    }
