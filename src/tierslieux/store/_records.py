"""Connection-level helpers on contact records, shared by the repositories.

The contact repository writes records; the people repository locks a record before
adding a person and appends erasure events.  Both go through these functions, which
take an open :class:`~sqlalchemy.Connection` inside the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, bindparam, insert, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store._errors import InvalidValueError, StaleWriteError, UnknownStructureError
from tierslieux.store._schema import Base
from tierslieux.store.views import ContactView, EventView, PersonView

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from sqlalchemy import Connection

STRUCTURES = Base.metadata.tables["structures"]
CONTACTS = Base.metadata.tables["contacts"]
EVENTS = Base.metadata.tables["contact_events"]
PEOPLE = Base.metadata.tables["people"]

CHUNK = 500
MAX_SHORT = 200


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """Slices of at most :data:`CHUNK` values (for ``IN`` lists)."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def clean(value: str | None) -> str | None:
    """Strip a text; an empty one becomes ``None``."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_author(author: str) -> str:
    """Return the cleaned author of a change, refusing an empty or too long one."""
    cleaned = clean(author)
    if cleaned is None:
        raise InvalidValueError(_("L'auteur de la modification est obligatoire."))
    if len(cleaned) > MAX_SHORT:
        raise InvalidValueError(_("Nom d'auteur trop long (plus de {n} caractères).", n=MAX_SHORT))
    return cleaned


@dataclass(frozen=True, slots=True)
class State:
    """The writable part of a contact record, as locked."""

    status: str
    next_action: str | None
    next_action_date: date | None
    owner: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a contact record and the history event that records it."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    old_value: str | None = None
    new_value: str | None = None
    old_date: date | None = None
    new_date: date | None = None
    text: str | None = None


# Built once (a statement built per call costs SQLAlchemy more than the write itself).
_LOCK = (
    select(
        CONTACTS.c.status,
        CONTACTS.c.next_action,
        CONTACTS.c.next_action_date,
        CONTACTS.c.owner,
        CONTACTS.c.version,
    )
    .where(CONTACTS.c.identifiant == bindparam("identifiant"))
    .with_for_update()
)
_INSERT_EVENT = insert(EVENTS)
#: The columns set are those of the parameters given at execution.
_UPDATE_CONTACT = update(CONTACTS).where(
    CONTACTS.c.identifiant == bindparam("w_identifiant"),
    CONTACTS.c.version == bindparam("w_version"),
)


def unknown_structure(identifiant: str) -> UnknownStructureError:
    """The error for a structure that is not in the store."""
    return UnknownStructureError(
        _(
            "Structure inconnue : « {identifiant} ». Chargez d'abord l'annuaire "
            "(structures.csv de la commande communities) ou vérifiez l'identifiant.",
            identifiant=identifiant,
        )
    )


def lock(connection: Connection, identifiant: str) -> State:
    """Lock a contact record for the transaction and return its state."""
    row = connection.execute(_LOCK, {"identifiant": identifiant}).one_or_none()
    if row is None:
        raise unknown_structure(identifiant)
    return State(*row)


def stale(connection: Connection, identifiant: str, expected: int, current: int) -> StaleWriteError:
    """The error for a write based on version ``expected`` when ``current`` is stored."""
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


def apply(
    connection: Connection,
    identifiant: str,
    version: int,
    author: str,
    change: Change,
    *,
    at: datetime | None = None,
) -> int:
    """Write one change on top of ``version``, append its event; return the new version."""
    moment = at or now()
    result = connection.execute(
        _UPDATE_CONTACT,
        {
            **change.values,
            "version": version + 1,
            "updated_at": moment,
            "updated_by": author,
            "w_identifiant": identifiant,
            "w_version": version,
        },
    )
    if result.rowcount != 1:
        # Only reachable if the row lock did not hold (e.g. a backend without
        # SELECT ... FOR UPDATE): refuse rather than lose a change.
        raise stale(connection, identifiant, version, version + 1)
    connection.execute(
        _INSERT_EVENT,
        {
            "uuid": str(uuid.uuid4()),
            "identifiant": identifiant,
            "kind": change.kind,
            "author": author,
            "occurred_at": moment,
            "version": version + 1,
            "old_value": change.old_value,
            "new_value": change.new_value,
            "old_date": change.old_date,
            "new_date": change.new_date,
            "text": change.text,
        },
    )
    return version + 1


def view_query() -> Any:  # noqa: ANN401  (a Select of a long column tuple)
    """The query of contact records joined with their structure."""
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


# The reads of one contact page, built once (a statement built per call costs
# SQLAlchemy more than the read itself).
_VIEW_OF = view_query().where(STRUCTURES.c.identifiant == bindparam("identifiant"))
_EVENTS_OF = (
    select(EVENTS)
    .where(EVENTS.c.identifiant.in_(bindparam("identifiants", expanding=True)))
    .order_by(EVENTS.c.identifiant, EVENTS.c.occurred_at, EVENTS.c.id)
)
_PEOPLE_OF = (
    select(PEOPLE)
    .where(PEOPLE.c.identifiant.in_(bindparam("identifiants", expanding=True)))
    .order_by(PEOPLE.c.identifiant, PEOPLE.c.id)
)


def contact_from_row(
    row: Row[Any],
    *,
    history: tuple[EventView, ...] = (),
    people: tuple[PersonView, ...] = (),
) -> ContactView:
    """A :class:`ContactView` from a row of :func:`view_query`."""
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


def person_from_row(row: Row[Any]) -> PersonView:
    """A :class:`PersonView` from a row of ``people``."""
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


def read_events(connection: Connection, identifiants: Sequence[str]) -> dict[str, list[EventView]]:
    """The history of each structure, oldest first."""
    found: dict[str, list[EventView]] = defaultdict(list)
    for chunk in chunks(identifiants):
        for row in connection.execute(_EVENTS_OF, {"identifiants": list(chunk)}):
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


def read_people(connection: Connection, identifiants: Sequence[str]) -> dict[str, list[PersonView]]:
    """The contact people of each structure."""
    found: dict[str, list[PersonView]] = defaultdict(list)
    for chunk in chunks(identifiants):
        for row in connection.execute(_PEOPLE_OF, {"identifiants": list(chunk)}):
            found[row.identifiant].append(person_from_row(row))
    return found


def read_view(connection: Connection, identifiant: str) -> ContactView:
    """The contact record of a structure with its history and people."""
    row = connection.execute(_VIEW_OF, {"identifiant": identifiant}).one_or_none()
    if row is None:
        raise unknown_structure(identifiant)
    return contact_from_row(
        row,
        history=tuple(read_events(connection, [identifiant]).get(identifiant, ())),
        people=tuple(read_people(connection, [identifiant]).get(identifiant, ())),
    )
