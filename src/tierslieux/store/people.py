"""Repository of contact people and the RGPD rights (table ``people``).

People are personal data: only what the follow-up needs is kept, each with its legal
basis.  :meth:`PeopleRepository.export_person_data` answers a right of access and
:meth:`PeopleRepository.forget_person` a right to erasure, which also scrubs the
person's name, e-mail and phone from the contact history.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, insert, or_, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store import _csv
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError, UnknownPersonError
from tierslieux.store._records import CONTACTS, EVENTS, PEOPLE, Change
from tierslieux.store.views import CONSENT_BASES, PersonView, fold_code

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Connection

    from tierslieux.store.database import Database

__all__ = ["PeopleRepository"]

_ERASED = "[donnée effacée]"
_MIN_ERASABLE_NAME = 3


class PeopleRepository:
    """Contact people of the structures, with the RGPD rights of access and erasure."""

    def __init__(self, database: Database) -> None:
        self._database = database

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
        cleaned_name = records.clean(name)
        basis = fold_code(consent_basis)
        cleaned_email = records.clean(email)
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
            "role": records.clean(role),
            "email": cleaned_email,
            "phone": records.clean(phone),
            "consent_basis": basis,
            "created_at": records.now(),
        }
        with self._database.transaction(write=True) as connection:
            records.lock(connection, identifiant)
            result = connection.execute(insert(PEOPLE).values(**values))
            key = result.inserted_primary_key
            if key is None:  # pragma: no cover - both backends return the new id
                msg = "no id returned for the new person"
                raise RuntimeError(msg)
            row = connection.execute(select(PEOPLE).where(PEOPLE.c.id == key[0])).one()
            return records.person_from_row(row)

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
        with self._database.transaction(write=False) as connection:
            people = _find_people(connection, person)
            terms = _terms(people)
            events = _events_mentioning(connection, terms)
            actions = _actions_mentioning(connection, terms)
        return {
            "demande": str(person),
            "genere_le": _csv.format_datetime(records.now()),
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
        author = records.check_author(author)
        with self._database.transaction(write=True) as connection:
            people = _find_people(connection, person)
            terms = _terms(people)
            touched = {row.identifiant for row in people}
            for row in _events_mentioning(connection, terms):
                scrub_values = row.kind == "prochaine_action"
                connection.execute(
                    update(EVENTS)
                    .where(EVENTS.c.id == row.id)
                    .values(
                        text=_scrub(row.text, terms),
                        old_value=_scrub(row.old_value, terms) if scrub_values else row.old_value,
                        new_value=_scrub(row.new_value, terms) if scrub_values else row.new_value,
                    )
                )
                touched.add(row.identifiant)
            for row in _actions_mentioning(connection, terms):
                connection.execute(
                    update(CONTACTS)
                    .where(CONTACTS.c.identifiant == row.identifiant)
                    .values(next_action=_scrub(row.next_action, terms))
                )
                touched.add(row.identifiant)
            connection.execute(PEOPLE.delete().where(PEOPLE.c.id.in_([row.id for row in people])))
            message = _("Données personnelles d'une personne effacées à sa demande (RGPD).")
            for identifiant in sorted(touched):
                state = records.lock(connection, identifiant)
                erasure = Change("effacement", text=message)
                records.apply(connection, identifiant, state.version, author, erasure)
        return len(people)


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
