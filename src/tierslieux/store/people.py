"""Repository of contact people and the RGPD rights (table ``people``).

People are personal data: only what the follow-up needs is kept, each with its legal
basis.  :meth:`PeopleRepository.export_person_data` answers a right of access and
:meth:`PeopleRepository.forget_person` a right to erasure, which also scrubs the
person's name, e-mail and phone from the contact history.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, insert, select, update

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

__all__ = ["ErasureChange", "ErasureReport", "PeopleRepository", "fold", "name_pattern"]

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
            matcher = _matcher(people)
            events = _events_mentioning(connection, matcher)
            actions = _actions_mentioning(connection, matcher)
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
        """Erase a person (see :meth:`erase_person`); return the number of records deleted."""
        return self.erase_person(person, author=author).people

    def erase_person(self, person: int | str, *, author: str) -> ErasureReport:
        """Erase a person (RGPD right to erasure) and scrub their data from the history.

        Deletes the person records, replaces their name (and its usual variants, see
        :func:`name_pattern`), e-mail and phone by ``[donnée effacée]`` in notes and
        next actions (names shorter than three characters are not searched), and
        appends to each structure concerned an ``effacement`` event that names nobody.

        Parameters
        ----------
        person
            The person's id, or an e-mail address (every record with it).
        author
            Who carries out the erasure.

        Returns
        -------
        ErasureReport
            Number of person records deleted, and every text changed (structure, which
            text, the pieces erased).

        Raises
        ------
        UnknownPersonError
        """
        author = records.check_author(author)
        changes: list[ErasureChange] = []
        with self._database.transaction(write=True) as connection:
            people = _find_people(connection, person)
            matcher = _matcher(people)
            touched = {row.identifiant for row in people}
            for row in _events_mentioning(connection, matcher):
                text, found = matcher.scrub(row.text)
                old_value, new_value = row.old_value, row.new_value
                if row.kind == "prochaine_action":
                    old_value, found_old = matcher.scrub(old_value)
                    new_value, found_new = matcher.scrub(new_value)
                    found += found_old + found_new
                if not found:
                    continue
                connection.execute(
                    update(EVENTS)
                    .where(EVENTS.c.id == row.id)
                    .values(text=text, old_value=old_value, new_value=new_value)
                )
                where = _(
                    "{kind} du {date}",
                    kind=row.kind,
                    date=row.occurred_at.strftime("%d/%m/%Y %H:%M"),
                )
                changes.append(ErasureChange(row.identifiant, where, tuple(found)))
                touched.add(row.identifiant)
            for row in _actions_mentioning(connection, matcher):
                action, found = matcher.scrub(row.next_action)
                connection.execute(
                    update(CONTACTS)
                    .where(CONTACTS.c.identifiant == row.identifiant)
                    .values(next_action=action)
                )
                changes.append(ErasureChange(row.identifiant, _("prochaine action"), tuple(found)))
                touched.add(row.identifiant)
            connection.execute(PEOPLE.delete().where(PEOPLE.c.id.in_([row.id for row in people])))
            message = _("Données personnelles d'une personne effacées à sa demande (RGPD).")
            for identifiant in sorted(touched):
                state = records.lock(connection, identifiant)
                erasure = Change("effacement", text=message)
                records.apply(connection, identifiant, state.version, author, erasure)
        return ErasureReport(people=len(people), changes=tuple(changes))


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


_CIVILITIES = (
    "madame",
    "mme",
    "mademoiselle",
    "mlle",
    "monsieur",
    "mr",
    "m",
    "docteur",
    "dr",
    "maitre",
    "me",
    "professeur",
    "pr",
)
_GAP = r"[\s\u00a0]+"


def _fold_char(char: str) -> str:
    # One character for one character, so that a match in the folded text is a match
    # at the same place in the original text.
    lowered = char.lower()
    base = "".join(c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c))
    return base if len(base) == 1 else (lowered if len(lowered) == 1 else char)


def fold(text: str) -> str:
    """Lower-case ``text`` without accents, keeping its length (``É`` -> ``e``)."""
    return "".join(_fold_char(c) for c in text)


def _words(name: str) -> list[str]:
    return [re.escape(w) for w in fold(name).split()]


def name_pattern(name: str) -> re.Pattern[str] | None:
    """The pattern of the usual ways of writing a person's name in free text.

    For « Jeanne Dupont »: the full name, « Dupont Jeanne », « J. Dupont », « Dupont J. »
    and a civility followed by the surname (« Mme Dupont », « M. Dupont », « Monsieur
    Dupont », « Dr Dupont »...), whatever the case and the accents.  The surname is
    what follows the first word; a one-word name is searched alone.  The pattern
    matches the text folded by :func:`fold`.  ``None`` for names shorter than three
    characters.
    """
    words = _words(name)
    if not words or len(" ".join(fold(name).split())) < _MIN_ERASABLE_NAME:
        return None
    if len(words) == 1:
        variants = [words[0]]
    else:
        first, surname = words[0], _GAP.join(words[1:])
        initial = re.escape(fold(name).split(maxsplit=1)[0][0])
        civility = "(?:" + "|".join(_CIVILITIES) + r")\.?"
        variants = [
            _GAP.join(words),
            rf"{surname}{_GAP}{first}",
            rf"{initial}\.{_GAP}?{surname}",
            rf"{surname}{_GAP}{initial}\.",
            rf"{civility}{_GAP}{first}{_GAP}{surname}",
            rf"{civility}{_GAP}{surname}",
        ]
    # Longest first: « Mme Jeanne Dupont » is erased as one piece.
    variants.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(variants) + r")(?!\w)")


@dataclass(frozen=True, slots=True)
class ErasureChange:
    """One text changed by an erasure: where, and the pieces erased (for the operator)."""

    identifiant: str
    where: str
    found: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """Outcome of :meth:`PeopleRepository.erase_person`."""

    people: int
    changes: tuple[ErasureChange, ...]


@dataclass(frozen=True)
class _Matcher:
    """What identifies the people in free text: name patterns, e-mails and phones."""

    patterns: tuple[re.Pattern[str], ...]
    literals: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.patterns or self.literals)

    def spans(self, text: str) -> list[tuple[int, int]]:
        folded = fold(text)
        found: list[tuple[int, int]] = []
        for pattern in self.patterns:
            found.extend(m.span() for m in pattern.finditer(folded))
        for literal in self.literals:
            needle = fold(literal)
            start = folded.find(needle)
            while start >= 0:
                found.append((start, start + len(needle)))
                start = folded.find(needle, start + len(needle))
        # Merge overlapping spans, so that each piece is erased once.
        merged: list[tuple[int, int]] = []
        for begin, end in sorted(found):
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        return merged

    def mentions(self, text: str | None) -> bool:
        return bool(text) and bool(self.spans(text or ""))

    def scrub(self, text: str | None) -> tuple[str | None, list[str]]:
        if not text:
            return text, []
        spans = self.spans(text)
        found = [text[begin:end] for begin, end in spans]
        for begin, end in reversed(spans):
            text = text[:begin] + _ERASED + text[end:]
        return text, found


def _matcher(people: Sequence[Row[Any]]) -> _Matcher:
    patterns = [name_pattern(row.name) for row in people if row.name]
    return _Matcher(tuple(p for p in patterns if p is not None), tuple(_terms(people)))


def _events_mentioning(connection: Connection, matcher: _Matcher) -> list[Row[Any]]:
    if not matcher:
        return []
    # Accents and name variants cannot be searched in SQL on every backend: scan.
    query = select(EVENTS).order_by(EVENTS.c.id)
    return [
        row
        for row in connection.execute(query)
        if any(matcher.mentions(v) for v in (row.text, row.old_value, row.new_value))
    ]


def _actions_mentioning(connection: Connection, matcher: _Matcher) -> list[Row[Any]]:
    if not matcher:
        return []
    query = select(CONTACTS.c.identifiant, CONTACTS.c.next_action).where(
        CONTACTS.c.next_action.is_not(None)
    )
    rows: list[Row[Any]] = list(connection.execute(query))
    return [row for row in rows if matcher.mentions(row.next_action)]


def _terms(people: Sequence[Row[Any]]) -> list[str]:
    """The e-mails and phones of these people (their names are :func:`name_pattern`)."""
    terms: set[str] = set()
    for row in people:
        for value in (row.email, row.phone):
            if value and value.strip():
                terms.add(value.strip())
    # Longest first, so that "Marie Dupont" goes before a shorter overlapping term.
    return sorted(terms, key=len, reverse=True)
