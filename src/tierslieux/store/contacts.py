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

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select

from tierslieux.errors import StoreError
from tierslieux.files import atomic_open, write_spreadsheet_xlsx
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import category_labels
from tierslieux.model.text import collation_key
from tierslieux.privacy import mask_contact_details
from tierslieux.store import _csv
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError
from tierslieux.store._exchange import import_parsed
from tierslieux.store._records import CONTACTS, EVENTS, MAX_SHORT, STRUCTURES, Change, State
from tierslieux.store.views import (
    ContactView,
    ExportReport,
    ImportReport,
    parse_status,
    status_labels,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from sqlalchemy import ColumnElement

    from tierslieux.store.database import Database

__all__ = ["ContactRepository"]

_JOINED = STRUCTURES.join(CONTACTS, CONTACTS.c.identifiant == STRUCTURES.c.identifiant)


def _by_name(row: Any) -> tuple[tuple[str, str], str]:  # noqa: ANN401 - any row of names
    """Structures by name (:func:`~tierslieux.model.text.collation_key`), then identifier."""
    return collation_key(row.nom), row.identifiant


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
        """List contact records, sorted by structure name (case and accents ignored).

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
        conditions = _conditions(status, owner, commune, due_before)
        query = records.view_query().where(*conditions)
        with self._database.transaction(write=False) as connection:
            rows = sorted(connection.execute(query).all(), key=_by_name)
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

    def contacts_page(
        self,
        among: Collection[str],
        *,
        status: str | None = None,
        owner: str | None = None,
        commune: str | None = None,
        due_before: date | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[int, list[ContactView]]:
        """One page of the records of the structures ``among``, sorted by structure name
        (case and accents ignored: :func:`~tierslieux.model.text.collation_key`).

        The filters (as :meth:`list_contacts`) are applied in SQL, which returns only
        the identifiers in order; the page's records are then read by identifier, so
        that a page never builds every record (any number of structures, no
        parameter-count limit of the database).

        Returns
        -------
        tuple
            The number of records kept by the filters, and the records of the page
            (without history nor people).
        """
        conditions = _conditions(status, owner, commune, due_before)
        scan = (
            select(STRUCTURES.c.identifiant, STRUCTURES.c.nom)
            .select_from(_JOINED)
            .where(*conditions)
        )
        with self._database.transaction(write=False) as connection:
            # Fetched at once (not row by row) and sorted on (key, identifier) pairs:
            # this scan runs on every list page, over every record of the store.
            kept = sorted(
                (collation_key(nom), identifiant)
                for identifiant, nom in connection.execute(scan).all()
                if identifiant in among
            )
            start = max(offset, 0)
            chosen = [identifiant for _key, identifiant in kept[start : start + max(limit, 0)]]
            rows = (
                connection.execute(
                    records.view_query().where(STRUCTURES.c.identifiant.in_(chosen))
                ).all()
                if chosen
                else []
            )
        return len(kept), [records.contact_from_row(row) for row in sorted(rows, key=_by_name)]

    def contacts_overview(self, among: Collection[str]) -> tuple[int, list[str]]:
        """The number of records of the structures ``among`` and their owners, sorted."""
        query = select(CONTACTS.c.identifiant, CONTACTS.c.owner)
        with self._database.transaction(write=False) as connection:
            found = [
                owner
                for identifiant, owner in connection.execute(query).all()
                if identifiant in among
            ]
        return len(found), sorted({owner for owner in found if owner}, key=collation_key)

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
        if expected_version is not None and (
            isinstance(expected_version, bool) or expected_version < 1
        ):
            # Not a concurrent change: a version the record can never have had.
            raise InvalidValueError(
                _(
                    "Version {version} invalide : les versions d'une fiche commencent à 1 "
                    "(la version affichée par « contacts show »).",
                    version=expected_version,
                )
            )
        with self._database.transaction(write=True) as connection:
            state = records.lock(connection, identifiant)
            if expected_version is not None and expected_version != state.version:
                raise records.stale(connection, identifiant, expected_version, state.version)
            change = decide(state)
            if change is not None:
                records.apply(connection, identifiant, state.version, author, change)
            return records.read_view(connection, identifiant)

    # -- exchange file (CSV, XLSX) ------------------------------------------------

    def export_file(
        self,
        path: Path,
        *,
        file_format: str | None = None,
        mask: bool = True,
        commune_names: Mapping[str, str] | None = None,
        identifiants: Collection[str] | None = None,
    ) -> ExportReport:
        """Write every contact record and history event to a spreadsheet file.

        ``file_format`` is ``"csv"`` (UTF-8 with BOM, ``;``: French Excel opens it by a
        double click) or ``"xlsx"`` (sheets « fiches » and « historique »); ``None``
        takes it from the suffix of ``path`` (``.xlsx``, else CSV).  Statuses are French
        labels, dates ``JJ/MM/AAAA`` and times Europe/Paris local time; each record
        has its category in words and, with ``commune_names`` (INSEE code → name), its
        commune's name.  Format: :mod:`tierslieux.store._csv`.

        The file is written aside and renamed into place, from one consistent read:
        writers may keep working meanwhile.  Contact persons are not exported (see
        :meth:`~tierslieux.store.PeopleRepository.export_person_data`).  With ``mask``
        (the default), e-mail addresses and phone numbers in notes and next actions are
        masked (:func:`tierslieux.privacy.mask_contact_details`).  With ``identifiants``,
        only the records of these structures and their history are written (a web
        project's directory).

        Raises
        ------
        StoreError
            When the file cannot be written.
        InvalidValueError
            When ``file_format`` is neither ``csv`` nor ``xlsx``.
        """
        path = Path(path)
        kind = file_format or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
        if kind not in {"csv", "xlsx"}:
            raise InvalidValueError(
                _("Format d'export inconnu : « {value} » (csv ou xlsx).", value=kind)
            )
        names = dict(commune_names or {})
        labels = category_labels()
        with self._database.transaction(write=False) as connection:
            order = records.view_query().order_by(STRUCTURES.c.identifiant)
            keep = None if identifiants is None else frozenset(identifiants)
            states = [
                _masked(_state_line(row, labels, names), mask=mask)
                for row in connection.execute(order)
                if keep is None or row.identifiant in keep
            ]
            query = (
                select(EVENTS, STRUCTURES.c.nom)
                .join(STRUCTURES, STRUCTURES.c.identifiant == EVENTS.c.identifiant)
                .order_by(EVENTS.c.identifiant, EVENTS.c.occurred_at, EVENTS.c.id)
            )
            events = [
                _masked(_event_line(row), mask=mask)
                for row in connection.execute(query)
                if keep is None or row.identifiant in keep
            ]
        if kind == "xlsx":
            header = _csv.COLUMNS
            write_spreadsheet_xlsx(
                path,
                {
                    _csv.STATE_SHEET: (header, [_typed(line, header) for line in states]),
                    _csv.EVENT_SHEET: (header, [_typed(line, header) for line in events]),
                },
                private=False,
                error_type=StoreError,
            )
        else:
            with atomic_open(
                path, encoding="utf-8-sig", newline="", error_type=StoreError
            ) as stream:
                writer = _csv.contacts_writer(stream)
                for line in (*states, *events):
                    writer.writerow(_texts(line))
        return ExportReport(
            path=path,
            contacts=len(states),
            events=len(events),
            communes_named=sum(1 for line in states if line.get("commune")),
            format=kind,
        )

    def export_csv(self, path: Path, *, mask: bool = True) -> ExportReport:
        """Write the CSV export (see :meth:`export_file`)."""
        return self.export_file(path, file_format="csv", mask=mask)

    def import_file(
        self,
        path: Path,
        *,
        partial: bool = False,
        force: bool = False,
        author: str | None = None,
        among: Collection[str] | None = None,
    ) -> ImportReport:
        """Import a contacts file (CSV or XLSX, as exported, possibly edited in Excel).

        History lines not yet in the store are merged (importing a file twice adds
        nothing); the edits made in the ``etat`` lines (status, owner, next action and
        due date, ``nouvelle_note``) are applied as changes by ``author``, with the same
        version check as the command line: a record changed in the store since the
        export is left as it is and reported in :attr:`ImportReport.conflicts` (both
        values, who and when), unless ``force``.  The rules, including the refusal of
        impossible status transitions: :mod:`tierslieux.store._exchange`.

        Parameters
        ----------
        path
            CSV (UTF-8 or Windows-1252, ``;`` or ``,``) or XLSX file.
        partial
            ``False`` (default): any invalid line rejects the whole file and nothing
            is written.  ``True``: invalid lines are skipped and reported.
        force
            Apply the edits of records changed meanwhile on top of their latest state
            (the conflicts are still reported, as overwritten).
        author
            Who made the edits of the ``etat`` lines (required when there are some).
        among
            The structures the file may change (a project's directory), ``None``: any
            structure of the store.  A line of another structure is invalid (see
            ``partial``), its message naming the line and the structure.

        Raises
        ------
        ImportRejectedError
            When the file is unusable, or has invalid lines and ``partial`` is false.
        InvalidValueError
            When ``etat`` lines change records and ``author`` is missing.
        """
        path = Path(path)
        parsed = _csv.read_contacts_file(path)
        with self._database.transaction(write=True) as connection:
            return import_parsed(
                connection, path, parsed, partial=partial, force=force, author=author, among=among
            )

    #: The name of :meth:`import_file` before XLSX files were read.
    import_csv = import_file


_FREE_TEXT = ("prochaine_action", "texte", "ancienne_valeur", "nouvelle_valeur")
_INTEGERS = frozenset({"version"})

Cell = str | int | date | datetime | None


def _conditions(
    status: str | None, owner: str | None, commune: str | None, due_before: date | None
) -> list[ColumnElement[bool]]:
    """The ``WHERE`` conditions of the filters of :meth:`ContactRepository.list_contacts`."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(CONTACTS.c.status == parse_status(status))
    if owner is not None:
        conditions.append(CONTACTS.c.owner == owner)
    if commune is not None:
        conditions.append(STRUCTURES.c.code_commune == commune)
    if due_before is not None:
        conditions.append(CONTACTS.c.next_action_date <= due_before)
    return conditions


def _masked(line: dict[str, Cell], *, mask: bool) -> dict[str, Cell]:
    if mask:
        for name in _FREE_TEXT:
            value = line.get(name)
            if isinstance(value, str) and value:
                line[name] = mask_contact_details(value)
    return line


def _texts(line: Mapping[str, Cell]) -> dict[str, str]:
    """A line's cells as CSV texts (French dates, Paris times)."""
    texts: dict[str, str] = {}
    for name, value in line.items():
        if isinstance(value, datetime):
            texts[name] = _csv.format_datetime(value)
        elif isinstance(value, date):
            texts[name] = _csv.format_date(value)
        else:
            texts[name] = "" if value is None else str(value)
    return texts


def _typed(line: Mapping[str, Cell], header: tuple[str, ...]) -> list[Cell]:
    """A line's cells for a workbook: numbers, dates and Paris wall-clock times."""
    cells: list[Cell] = []
    for name in header:
        value = line.get(name)
        if isinstance(value, datetime):
            value = _csv.local_datetime(value)
        elif value == "":
            value = None
        cells.append(value)
    return cells


def _status_label(code: str | None) -> str:
    return "" if code is None else status_labels().get(code, code)


def _state_line(
    row: Row[Any], labels: Mapping[str, str], names: Mapping[str, str]
) -> dict[str, Cell]:
    return {
        "ligne": _csv.STATE_LINE,
        "identifiant": row.identifiant,
        "nom": row.nom,
        "categorie": row.categorie,
        "categorie_libelle": labels.get(row.categorie, ""),
        "code_commune": row.code_commune,
        "commune": names.get(row.code_commune, ""),
        "statut": _status_label(row.status),
        "responsable": row.owner or "",
        "prochaine_action": row.next_action or "",
        "echeance": row.next_action_date,
        "nouvelle_note": "",
        "version": row.version,
        "date": row.updated_at,
        "auteur": row.updated_by or "",
    }


def _event_line(row: Row[Any]) -> dict[str, Cell]:
    status = row.kind == "statut"
    return {
        "ligne": _csv.EVENT_LINE,
        "identifiant": row.identifiant,
        "nom": row.nom,
        "version": row.version,
        "date": row.occurred_at,
        "auteur": row.author,
        "evenement_id": row.uuid,
        "nature": row.kind,
        "ancienne_valeur": _status_label(row.old_value) if status else row.old_value or "",
        "nouvelle_valeur": _status_label(row.new_value) if status else row.new_value or "",
        "ancienne_echeance": row.old_date,
        "nouvelle_echeance": row.new_date,
        "texte": row.text or "",
        "horodatage_utc": _csv.format_timestamp(row.occurred_at),
    }
