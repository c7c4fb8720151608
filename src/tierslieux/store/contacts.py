"""The operational store: structures, contact records, their history and people.

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

import re
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Row, and_, bindparam, exc, func, insert, or_, select, update

from tierslieux.errors import StoreError
from tierslieux.files import atomic_open
from tierslieux.i18n import gettext as _
from tierslieux.store import _csv
from tierslieux.store import survey as _survey
from tierslieux.store._engine import WRITE, create_store_engine, describe_url, migrate
from tierslieux.store._errors import (
    ImportRejectedError,
    InvalidValueError,
    StaleWriteError,
    StoreUnavailableError,
    UnknownPersonError,
    UnknownStructureError,
)
from tierslieux.store._schema import Base
from tierslieux.store.views import (
    CONSENT_BASES,
    DEFAULT_STATUS,
    ContactView,
    EventView,
    ExportReport,
    ImportIssue,
    ImportReport,
    PersonView,
    UpsertReport,
    fold_code,
    parse_status,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from types import TracebackType

    from sqlalchemy import ColumnElement, Connection, Engine

    from tierslieux.model.survey import SurveyResponse
    from tierslieux.store.survey import RespondentView, ResponsesReport

__all__ = ["Store", "open_store"]

STRUCTURES = Base.metadata.tables["structures"]
CONTACTS = Base.metadata.tables["contacts"]
EVENTS = Base.metadata.tables["contact_events"]
PEOPLE = Base.metadata.tables["people"]

_CHUNK = 500
_STRUCTURE_FIELDS = ("nom", "categorie", "code_commune", "themes", "source")
_FIELD_LIMITS = {"identifiant": 200, "categorie": 64, "code_commune": 10, "source": 200}
_MAX_SHORT = 200
_ERASED = "[donnée effacée]"
_MIN_ERASABLE_NAME = 3


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _check_author(author: str) -> str:
    cleaned = _clean(author)
    if cleaned is None:
        raise InvalidValueError(_("L'auteur de la modification est obligatoire."))
    if len(cleaned) > _MAX_SHORT:
        raise InvalidValueError(_("Nom d'auteur trop long (plus de {n} caractères).", n=_MAX_SHORT))
    return cleaned


@dataclass(frozen=True, slots=True)
class _State:
    status: str
    next_action: str | None
    next_action_date: date | None
    owner: str | None
    version: int


@dataclass(frozen=True, slots=True)
class _Change:
    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    old_value: str | None = None
    new_value: str | None = None
    old_date: date | None = None
    new_date: date | None = None
    text: str | None = None


def open_store(url: str | None, *, default_path: Path) -> Store:
    """Open the operational store, creating or upgrading its schema.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite:///path/contacts.sqlite`` or
        ``postgresql+psycopg://user@host:5432/base`` (``postgresql://`` is read as
        psycopg; ``?options=-csearch_path%3Dmy_schema`` selects a schema).  ``None``
        uses the SQLite file ``default_path``.
    default_path
        The SQLite file used when ``url`` is ``None``; its folder is created.

    Returns
    -------
    Store
        The open store; close it with :meth:`Store.close` or a ``with`` block.

    Raises
    ------
    StoreUnavailableError
        When the database cannot be reached, opened or created.
    StoreVersionError
        When the schema was written by a newer version of tierslieux.
    """
    if url is None:
        try:
            default_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailableError(
                _(
                    "Impossible de créer le dossier de la base {path} : {error}.",
                    path=default_path.parent,
                    error=error,
                )
            ) from error
        url = f"sqlite:///{default_path}"
    engine = create_store_engine(url)
    try:
        migrate(engine)
    except exc.DBAPIError as error:
        engine.dispose()
        raise StoreUnavailableError(
            _(
                "Impossible d'ouvrir la base {url} : {error}",
                url=describe_url(url),
                error=str(error.orig).strip(),
            )
        ) from error
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


class Store:
    """Contact tracking on one database (SQLite file or PostgreSQL server).

    Build it with :func:`open_store`.  Thread-safe: each method uses its own
    connection and transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def url(self) -> str:
        """Database URL, password hidden."""
        return describe_url(self._engine.url.render_as_string(hide_password=False))

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    # -- transactions --------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction; database errors become French :class:`StoreError`."""
        try:
            with self._engine.connect() as connection:
                if write:
                    connection.execution_options(**{WRITE: True})
                elif connection.dialect.name == "postgresql":
                    # One snapshot for a record, its history and its people.
                    connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
        except exc.OperationalError as error:
            raise StoreUnavailableError(
                _(
                    "La base {url} ne répond pas ou refuse l'opération : {error}",
                    url=self.url,
                    error=str(error.orig).strip(),
                )
            ) from error
        except exc.DBAPIError as error:
            raise StoreError(
                _(
                    "La base {url} a refusé l'écriture, rien n'a été enregistré : {error}",
                    url=self.url,
                    error=str(error.orig).strip(),
                )
            ) from error

    # -- structures ----------------------------------------------------------------

    def upsert_structures(self, rows: Iterable[Mapping[str, str]]) -> UpsertReport:
        """Insert new structures and update changed ones (``structures.csv`` rows).

        Idempotent: the same rows twice change nothing the second time.  Structures
        absent from ``rows`` are kept (their contact history must survive), and each
        new structure gets a contact record with status ``a_contacter``.

        Parameters
        ----------
        rows
            Mappings with ``identifiant`` and ``nom`` (required) and ``categorie``,
            ``code_commune``, ``themes``, ``source``; other keys are ignored.  Row
            ``k`` (from 0) is reported as line ``k + 2``, as in a CSV with a header.

        Returns
        -------
        UpsertReport
            Counts of inserted, updated and unchanged structures.

        Raises
        ------
        ImportRejectedError
            When a row lacks an identifier or a name, or a value is too long; nothing
            is written.
        """
        wanted: dict[str, dict[str, str]] = {}
        issues: list[ImportIssue] = []
        for line, row in enumerate(rows, start=2):
            values = {name: (row.get(name) or "").strip() for name in _STRUCTURE_FIELDS}
            identifiant = (row.get("identifiant") or "").strip()
            if not identifiant:
                issues.append(ImportIssue(line, _("identifiant de structure manquant")))
                continue
            if not values["nom"]:
                issues.append(ImportIssue(line, _("nom de structure manquant")))
            issues.extend(
                ImportIssue(
                    line, _("{column} trop long (plus de {n} caractères)", column=name, n=limit)
                )
                for name, limit in _FIELD_LIMITS.items()
                if len(identifiant if name == "identifiant" else values[name]) > limit
            )
            wanted[identifiant] = values
        if issues:
            raise ImportRejectedError(_("l'annuaire des structures"), tuple(issues))
        now = _now()
        inserted: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        unchanged = 0
        with self._transaction(write=True) as connection:
            existing: dict[str, tuple[str, ...]] = {}
            columns = [STRUCTURES.c[name] for name in _STRUCTURE_FIELDS]
            for chunk in _chunks(sorted(wanted)):
                query = select(STRUCTURES.c.identifiant, *columns).where(
                    STRUCTURES.c.identifiant.in_(chunk)
                )
                existing.update((row[0], tuple(row[1:])) for row in connection.execute(query))
            for identifiant, values in wanted.items():
                stored = existing.get(identifiant)
                if stored is None:
                    inserted.append(
                        {"identifiant": identifiant, **values, "created_at": now, "updated_at": now}
                    )
                elif stored != tuple(values[name] for name in _STRUCTURE_FIELDS):
                    changed.append({"b_identifiant": identifiant, **values, "updated_at": now})
                else:
                    unchanged += 1
            if inserted:
                connection.execute(insert(STRUCTURES), inserted)
                connection.execute(
                    insert(CONTACTS),
                    [
                        {"identifiant": row["identifiant"], "status": DEFAULT_STATUS, "version": 1}
                        for row in inserted
                    ],
                )
            if changed:
                connection.execute(
                    update(STRUCTURES).where(
                        STRUCTURES.c.identifiant == bindparam("b_identifiant")
                    ),
                    changed,
                )
        return UpsertReport(inserted=len(inserted), updated=len(changed), unchanged=unchanged)

    # -- reading -------------------------------------------------------------------

    def get_contact(self, identifiant: str) -> ContactView:
        """Return the contact record of a structure with its full history and people.

        Raises
        ------
        UnknownStructureError
            When no structure has this identifier.
        """
        with self._transaction(write=False) as connection:
            return self._read_view(connection, identifiant)

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
            self._view_query()
            .where(*conditions)
            .order_by(STRUCTURES.c.nom, STRUCTURES.c.identifiant)
        )
        with self._transaction(write=False) as connection:
            rows = connection.execute(query).all()
            if not details:
                return [self._contact_from_row(row) for row in rows]
            identifiants = [row.identifiant for row in rows]
            history = self._read_events(connection, identifiants)
            people = self._read_people(connection, identifiants)
            return [
                self._contact_from_row(
                    row,
                    history=tuple(history.get(row.identifiant, ())),
                    people=tuple(people.get(row.identifiant, ())),
                )
                for row in rows
            ]

    @staticmethod
    def _view_query() -> Any:  # noqa: ANN401  (a Select of a long column tuple)
        return select(
            STRUCTURES.c.identifiant,
            STRUCTURES.c.nom,
            STRUCTURES.c.categorie,
            STRUCTURES.c.code_commune,
            CONTACTS.c.status,
            CONTACTS.c.version,
            CONTACTS.c.next_action,
            CONTACTS.c.next_action_date,
            CONTACTS.c.owner,
            CONTACTS.c.updated_at,
            CONTACTS.c.updated_by,
        ).select_from(STRUCTURES.join(CONTACTS, CONTACTS.c.identifiant == STRUCTURES.c.identifiant))

    @staticmethod
    def _contact_from_row(
        row: Row[Any],
        *,
        history: tuple[EventView, ...] = (),
        people: tuple[PersonView, ...] = (),
    ) -> ContactView:
        return ContactView(
            identifiant=row.identifiant,
            nom=row.nom,
            categorie=row.categorie,
            code_commune=row.code_commune,
            status=row.status,
            version=row.version,
            next_action=row.next_action,
            next_action_date=row.next_action_date,
            owner=row.owner,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            history=history,
            people=people,
        )

    def _read_view(self, connection: Connection, identifiant: str) -> ContactView:
        row = connection.execute(
            self._view_query().where(STRUCTURES.c.identifiant == identifiant)
        ).one_or_none()
        if row is None:
            raise self._unknown_structure(identifiant)
        return self._contact_from_row(
            row,
            history=tuple(self._read_events(connection, [identifiant]).get(identifiant, ())),
            people=tuple(self._read_people(connection, [identifiant]).get(identifiant, ())),
        )

    @staticmethod
    def _unknown_structure(identifiant: str) -> UnknownStructureError:
        return UnknownStructureError(
            _(
                "Structure inconnue : « {identifiant} ». Chargez d'abord l'annuaire "
                "(structures.csv de la commande communities) ou vérifiez l'identifiant.",
                identifiant=identifiant,
            )
        )

    @staticmethod
    def _read_events(
        connection: Connection, identifiants: Sequence[str]
    ) -> dict[str, list[EventView]]:
        found: dict[str, list[EventView]] = defaultdict(list)
        for chunk in _chunks(identifiants):
            query = (
                select(EVENTS)
                .where(EVENTS.c.identifiant.in_(chunk))
                .order_by(EVENTS.c.identifiant, EVENTS.c.occurred_at, EVENTS.c.id)
            )
            for row in connection.execute(query):
                found[row.identifiant].append(
                    EventView(
                        uuid=row.uuid,
                        identifiant=row.identifiant,
                        kind=row.kind,
                        author=row.author,
                        occurred_at=row.occurred_at,
                        version=row.version,
                        old_value=row.old_value,
                        new_value=row.new_value,
                        old_date=row.old_date,
                        new_date=row.new_date,
                        text=row.text,
                    )
                )
        return found

    @staticmethod
    def _read_people(
        connection: Connection, identifiants: Sequence[str]
    ) -> dict[str, list[PersonView]]:
        found: dict[str, list[PersonView]] = defaultdict(list)
        for chunk in _chunks(identifiants):
            query = (
                select(PEOPLE)
                .where(PEOPLE.c.identifiant.in_(chunk))
                .order_by(PEOPLE.c.identifiant, PEOPLE.c.id)
            )
            for row in connection.execute(query):
                found[row.identifiant].append(_person_from_row(row))
        return found

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
        text = _clean(note)

        def change(state: _State) -> _Change | None:
            if state.status == code and text is None:
                return None
            return _Change(
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
        cleaned = _clean(text)
        if cleaned is None:
            raise InvalidValueError(_("La note est vide."))
        return self._mutate(
            identifiant, author, expected_version, lambda _state: _Change("note", text=cleaned)
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
        cleaned = _clean(text)

        def change(state: _State) -> _Change | None:
            if (state.next_action, state.next_action_date) == (cleaned, due):
                return None
            return _Change(
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
        cleaned = _clean(owner)
        if cleaned is not None and len(cleaned) > _MAX_SHORT:
            raise InvalidValueError(
                _("Nom de responsable trop long (plus de {n} caractères).", n=_MAX_SHORT)
            )

        def change(state: _State) -> _Change | None:
            if state.owner == cleaned:
                return None
            return _Change(
                "responsable", {"owner": cleaned}, old_value=state.owner, new_value=cleaned
            )

        return self._mutate(identifiant, author, expected_version, change)

    def _mutate(
        self,
        identifiant: str,
        author: str,
        expected_version: int | None,
        decide: Callable[[_State], _Change | None],
    ) -> ContactView:
        author = _check_author(author)
        with self._transaction(write=True) as connection:
            state = self._lock(connection, identifiant)
            if expected_version is not None and expected_version != state.version:
                raise self._stale(connection, identifiant, expected_version, state.version)
            change = decide(state)
            if change is not None:
                self._apply(connection, identifiant, state.version, author, change)
            return self._read_view(connection, identifiant)

    def _lock(self, connection: Connection, identifiant: str) -> _State:
        row = connection.execute(
            select(
                CONTACTS.c.status,
                CONTACTS.c.next_action,
                CONTACTS.c.next_action_date,
                CONTACTS.c.owner,
                CONTACTS.c.version,
            )
            .where(CONTACTS.c.identifiant == identifiant)
            .with_for_update()
        ).one_or_none()
        if row is None:
            raise self._unknown_structure(identifiant)
        return _State(*row)

    @staticmethod
    def _stale(
        connection: Connection, identifiant: str, expected: int, current: int
    ) -> StaleWriteError:
        row = connection.execute(
            select(CONTACTS.c.updated_by, CONTACTS.c.updated_at).where(
                CONTACTS.c.identifiant == identifiant
            )
        ).one_or_none()
        return StaleWriteError(
            identifiant,
            expected_version=expected,
            current_version=current,
            changed_by=None if row is None else row.updated_by,
            changed_at=None if row is None else row.updated_at,
        )

    def _apply(
        self,
        connection: Connection,
        identifiant: str,
        version: int,
        author: str,
        change: _Change,
        *,
        at: datetime | None = None,
    ) -> int:
        """Write one change on top of ``version``; return the new version."""
        now = at or _now()
        result = connection.execute(
            update(CONTACTS)
            .where(CONTACTS.c.identifiant == identifiant, CONTACTS.c.version == version)
            .values(**change.values, version=version + 1, updated_at=now, updated_by=author)
        )
        if result.rowcount != 1:
            # Only reachable if the row lock did not hold (e.g. a backend without
            # SELECT ... FOR UPDATE): refuse rather than lose a change.
            raise self._stale(connection, identifiant, version, version + 1)
        connection.execute(
            insert(EVENTS).values(
                uuid=str(uuid.uuid4()),
                identifiant=identifiant,
                kind=change.kind,
                author=author,
                occurred_at=now,
                version=version + 1,
                old_value=change.old_value,
                new_value=change.new_value,
                old_date=change.old_date,
                new_date=change.new_date,
                text=change.text,
            )
        )
        return version + 1

    # -- people (RGPD) -------------------------------------------------------------

    def add_person(
        self,
        identifiant: str,
        *,
        name: str,
        consent_basis: str,
        role: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> PersonView:
        """Record a contact person of a structure (keep only what the follow-up needs).

        Parameters
        ----------
        identifiant
            The structure.
        name, role, email, phone
            The person's data; only ``name`` is required.
        consent_basis
            Legal basis (RGPD art. 6): {``consentement``, ``interet_legitime``,
            ``mission_publique``, ``contrat``, ``obligation_legale``}.

        Raises
        ------
        InvalidValueError, UnknownStructureError
        """
        cleaned_name = _clean(name)
        basis = fold_code(consent_basis)
        cleaned_email = _clean(email)
        problems: list[str] = []
        if cleaned_name is None:
            problems.append(_("le nom de la personne est obligatoire"))
        if basis not in CONSENT_BASES:
            problems.append(
                _(
                    "base légale inconnue « {basis} » (attendu : {expected})",
                    basis=consent_basis,
                    expected=", ".join(CONSENT_BASES),
                )
            )
        if cleaned_email is not None and "@" not in cleaned_email:
            problems.append(_("adresse e-mail invalide « {email} »", email=cleaned_email))
        if problems:
            raise InvalidValueError(
                _("Personne refusée : {problems}.", problems="; ".join(problems))
            )
        values = {
            "identifiant": identifiant,
            "name": cleaned_name,
            "role": _clean(role),
            "email": cleaned_email,
            "phone": _clean(phone),
            "consent_basis": basis,
            "created_at": _now(),
        }
        with self._transaction(write=True) as connection:
            self._lock(connection, identifiant)
            result = connection.execute(insert(PEOPLE).values(**values))
            key = result.inserted_primary_key
            if key is None:  # pragma: no cover - both backends return the new id
                msg = "no id returned for the new person"
                raise RuntimeError(msg)
            person_id = key[0]
            row = connection.execute(select(PEOPLE).where(PEOPLE.c.id == person_id)).one()
            return _person_from_row(row)

    def export_person_data(self, person: int | str) -> dict[str, Any]:
        """Return everything stored about a person (RGPD right of access).

        Parameters
        ----------
        person
            The person's id, or an e-mail address (every record with it).

        Returns
        -------
        dict
            JSON-ready: ``personnes`` (the records) and ``mentions`` (history events
            and next actions whose text contains the person's name, e-mail or phone).

        Raises
        ------
        UnknownPersonError
        """
        with self._transaction(write=False) as connection:
            people = self._find_people(connection, person)
            terms = _terms(people)
            events = self._events_mentioning(connection, terms)
            actions = self._actions_mentioning(connection, terms)
        return {
            "demande": str(person),
            "genere_le": _csv.format_datetime(_now()),
            "personnes": [
                {
                    "id": row.id,
                    "identifiant": row.identifiant,
                    "nom": row.name,
                    "role": row.role,
                    "email": row.email,
                    "telephone": row.phone,
                    "base_legale": row.consent_basis,
                    "cree_le": _csv.format_datetime(row.created_at),
                }
                for row in people
            ],
            "mentions": [
                {
                    "evenement_id": row.uuid,
                    "identifiant": row.identifiant,
                    "date": _csv.format_datetime(row.occurred_at),
                    "nature": row.kind,
                    "texte": row.text,
                    "ancienne_valeur": row.old_value,
                    "nouvelle_valeur": row.new_value,
                }
                for row in events
            ]
            + [
                {"identifiant": row.identifiant, "prochaine_action": row.next_action}
                for row in actions
            ],
        }

    def forget_person(self, person: int | str, *, author: str) -> int:
        """Erase a person (RGPD right to erasure) and scrub their data from the history.

        Deletes the person records, replaces their name, e-mail and phone by
        ``[donnée effacée]`` in notes and next actions (names shorter than three
        characters are not searched), and appends to each structure concerned an
        ``effacement`` event that names nobody.

        Parameters
        ----------
        person
            The person's id, or an e-mail address (every record with it).
        author
            Who carries out the erasure.

        Returns
        -------
        int
            Number of person records deleted.

        Raises
        ------
        UnknownPersonError
        """
        author = _check_author(author)
        with self._transaction(write=True) as connection:
            people = self._find_people(connection, person)
            terms = _terms(people)
            touched = {row.identifiant for row in people}
            for row in self._events_mentioning(connection, terms):
                connection.execute(
                    update(EVENTS)
                    .where(EVENTS.c.id == row.id)
                    .values(
                        text=_scrub(row.text, terms),
                        old_value=_scrub(row.old_value, terms)
                        if row.kind == "prochaine_action"
                        else row.old_value,
                        new_value=_scrub(row.new_value, terms)
                        if row.kind == "prochaine_action"
                        else row.new_value,
                    )
                )
                touched.add(row.identifiant)
            for row in self._actions_mentioning(connection, terms):
                connection.execute(
                    update(CONTACTS)
                    .where(CONTACTS.c.identifiant == row.identifiant)
                    .values(next_action=_scrub(row.next_action, terms))
                )
                touched.add(row.identifiant)
            connection.execute(PEOPLE.delete().where(PEOPLE.c.id.in_([row.id for row in people])))
            message = _("Données personnelles d'une personne effacées à sa demande (RGPD).")
            for identifiant in sorted(touched):
                state = self._lock(connection, identifiant)
                erasure = _Change("effacement", text=message)
                self._apply(connection, identifiant, state.version, author, erasure)
        return len(people)

    @staticmethod
    def _find_people(connection: Connection, person: int | str) -> list[Row[Any]]:
        key = person.strip() if isinstance(person, str) else person
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if isinstance(key, int):
            condition = PEOPLE.c.id == key
        else:
            condition = func.lower(PEOPLE.c.email) == key.lower()
        rows = list(connection.execute(select(PEOPLE).where(condition).order_by(PEOPLE.c.id)))
        if not rows:
            raise UnknownPersonError(
                _(
                    "Aucune personne enregistrée pour « {person} » (numéro ou adresse e-mail).",
                    person=person,
                )
            )
        return rows

    @staticmethod
    def _events_mentioning(connection: Connection, terms: Sequence[str]) -> list[Row[Any]]:
        if not terms:
            return []
        columns = (EVENTS.c.text, EVENTS.c.old_value, EVENTS.c.new_value)
        condition = or_(
            *(
                func.lower(column).contains(term.lower(), autoescape=True)
                for column in columns
                for term in terms
            )
        )
        return list(connection.execute(select(EVENTS).where(condition).order_by(EVENTS.c.id)))

    @staticmethod
    def _actions_mentioning(connection: Connection, terms: Sequence[str]) -> list[Row[Any]]:
        if not terms:
            return []
        condition = or_(
            *(
                func.lower(CONTACTS.c.next_action).contains(term.lower(), autoescape=True)
                for term in terms
            )
        )
        query = select(CONTACTS.c.identifiant, CONTACTS.c.next_action).where(condition)
        return list(connection.execute(query))

    # -- CSV -----------------------------------------------------------------------

    def export_csv(self, path: Path) -> ExportReport:
        """Write every contact record and history event to a CSV file (UTF-8, ``;``).

        The file is written aside and renamed into place, from one consistent read:
        writers may keep working meanwhile.  Contact persons are not exported (see
        :meth:`export_person_data`).  Format: :mod:`tierslieux.store._csv`.

        Raises
        ------
        StoreError
            When the file cannot be written.
        """
        path = Path(path)
        contacts = events = 0
        with (
            atomic_open(path, newline="", private=True, error_type=StoreError) as stream,
            self._transaction(write=False) as connection,
        ):
            writer = _csv.contacts_writer(stream)
            for row in connection.execute(self._view_query().order_by(STRUCTURES.c.identifiant)):
                writer.writerow(_state_line(row))
                contacts += 1
            query = (
                select(EVENTS, STRUCTURES.c.nom)
                .join(STRUCTURES, STRUCTURES.c.identifiant == EVENTS.c.identifiant)
                .order_by(EVENTS.c.identifiant, EVENTS.c.occurred_at, EVENTS.c.id)
            )
            for row in connection.execute(query):
                writer.writerow(_event_line(row))
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
        with self._transaction(write=True) as connection:
            named = sorted(
                {event.identifiant for event in parsed.events}
                | {state.identifiant for state in parsed.states}
            )
            known: set[str] = set()
            for chunk in _chunks(named):
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
            added, skipped, updated = self._insert_events(
                connection, [event for event in parsed.events if event.identifiant in known]
            )
            warnings = self._compare_states(
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

    def _insert_events(
        self, connection: Connection, events: list[_csv.ParsedEvent]
    ) -> tuple[int, int, int]:
        present: set[str] = set()
        for chunk in _chunks(sorted({event.uuid for event in events})):
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
            state = self._lock(connection, identifiant)
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
            self._replay(connection, identifiant, state.version, len(new))
            added += len(new)
        return added, skipped, len(fresh)

    def _replay(self, connection: Connection, identifiant: str, version: int, added: int) -> None:
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
            raise self._stale(connection, identifiant, version, version + added)

    def _compare_states(
        self, connection: Connection, states: list[_csv.ParsedState]
    ) -> list[ImportIssue]:
        warnings: list[ImportIssue] = []
        for state in states:
            current = self._lock(connection, state.identifiant)
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

    # -- questionnaire answers -----------------------------------------------------

    def add_responses(
        self, rows: Sequence[SurveyResponse], *, skip_duplicates: bool = True
    ) -> ResponsesReport:
        """Store validated questionnaire answers, in one transaction.

        A submission whose fingerprint is already stored (or repeated in ``rows``) is
        not stored again and is reported in :attr:`ResponsesReport.duplicates`; with
        ``skip_duplicates=False`` it makes the whole call fail, storing nothing.

        Raises
        ------
        InvalidValueError
            With ``skip_duplicates=False``, when a submission is a duplicate.

        Returns
        -------
        ResponsesReport
            How many respondents were added, their pseudonymous ids, the duplicates.
        """
        with self._transaction(write=True) as connection:
            report = _survey.insert_responses(connection, list(rows))
            if report.duplicates and not skip_duplicates:
                lines = ", ".join(str(issue.line) for issue in report.duplicates)
                raise InvalidValueError(
                    _(
                        "{n} réponse(s) déjà enregistrée(s) (lignes {lines}) : rien n'a "
                        "été enregistré.",
                        n=len(report.duplicates),
                        lines=lines,
                    )
                )
            return report

    def list_responses(self) -> list[RespondentView]:
        """Return every stored respondent with their answers, oldest first."""
        with self._transaction(write=False) as connection:
            return _survey.select_responses(connection)

    def purge_responses(self, before: datetime) -> int:
        """Delete every respondent who consented before ``before`` (retention period).

        Returns
        -------
        int
            Number of respondents deleted.
        """
        with self._transaction(write=True) as connection:
            return _survey.delete_before(connection, before)

    def forget_respondent(self, respondent_id: str) -> int:
        """Delete a respondent and all their answers (RGPD right to erasure).

        Returns
        -------
        int
            Number of respondents deleted (0 or 1).

        Raises
        ------
        UnknownPersonError
            When no respondent has this id.
        """
        cleaned = respondent_id.strip()
        with self._transaction(write=True) as connection:
            deleted = _survey.delete_respondent(connection, cleaned)
        if not deleted:
            raise UnknownPersonError(
                _("Aucun répondant n'a l'identifiant « {id} ».", id=respondent_id)
            )
        return deleted


def _person_from_row(row: Row[Any]) -> PersonView:
    return PersonView(
        id=row.id,
        identifiant=row.identifiant,
        name=row.name,
        consent_basis=row.consent_basis,
        created_at=row.created_at,
        role=row.role,
        email=row.email,
        phone=row.phone,
    )


def _terms(people: Sequence[Row[Any]]) -> list[str]:
    """The strings that identify these people in free text."""
    terms: set[str] = set()
    for row in people:
        if row.name and len(row.name.strip()) >= _MIN_ERASABLE_NAME:
            terms.add(row.name.strip())
        for value in (row.email, row.phone):
            if value and value.strip():
                terms.add(value.strip())
    # Longest first, so that "Marie Dupont" goes before a shorter overlapping term.
    return sorted(terms, key=len, reverse=True)


def _scrub(text: str | None, terms: Sequence[str]) -> str | None:
    if text is None:
        return None
    for term in terms:
        text = re.sub(re.escape(term), _ERASED, text, flags=re.IGNORECASE)
    return text


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
