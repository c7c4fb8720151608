"""What the store returns: frozen views of contacts, events and people, and reports.

Also holds the vocabulary of contact statuses and event kinds, with their French
labels for display.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierslieux.i18n import gettext as _
from tierslieux.store._errors import UnknownStatusError

if TYPE_CHECKING:
    from datetime import date, datetime
    from pathlib import Path

__all__ = [
    "CONSENT_BASES",
    "DEFAULT_STATUS",
    "EVENT_KINDS",
    "ROLES",
    "RUN_STATUSES",
    "STATUSES",
    "ContactView",
    "EventView",
    "ExportReport",
    "FieldConflict",
    "ImportConflict",
    "ImportIssue",
    "ImportReport",
    "PersonView",
    "UpsertReport",
    "event_kind_labels",
    "fold_code",
    "parse_status",
    "status_labels",
]

#: Contact statuses, in the order of the study's follow-up.
STATUSES: tuple[str, ...] = (
    "a_contacter",
    "contacte",
    "interesse",
    "partenaire",
    "pas_interesse",
)
DEFAULT_STATUS = "a_contacter"

#: Kinds of history events. ``effacement`` records an RGPD erasure (no personal data).
EVENT_KINDS: tuple[str, ...] = ("statut", "note", "prochaine_action", "responsable", "effacement")

#: Legal bases (RGPD article 6) accepted for keeping a contact person's data.
CONSENT_BASES: tuple[str, ...] = (
    "consentement",
    "interet_legitime",
    "mission_publique",
    "contrat",
    "obligation_legale",
)


#: Roles of the web application's users, from the most to the least powerful.
ROLES: tuple[str, ...] = ("administrateur", "charge_de_mission", "lecteur")

#: States of a run of a use case; the last three are final.
RUN_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")


def status_labels() -> dict[str, str]:
    """Return the French label of each status code."""
    return {
        "a_contacter": _("à contacter"),
        "contacte": _("contacté"),
        "interesse": _("intéressé"),
        "partenaire": _("partenaire"),
        "pas_interesse": _("pas intéressé"),
    }


def event_kind_labels() -> dict[str, str]:
    """Return the French label of each event kind."""
    return {
        "statut": _("changement de statut"),
        "note": _("note"),
        "prochaine_action": _("prochaine action"),
        "responsable": _("responsable"),
        "effacement": _("effacement de données personnelles (RGPD)"),
    }


def fold_code(text: str) -> str:
    """Lower-case, strip accents and turn spaces and dashes into underscores."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "_".join(plain.replace("-", " ").replace("_", " ").split())


def parse_status(text: str) -> str:
    """Return the status code for a code or a French label, whatever its accents or case.

    Parameters
    ----------
    text
        ``"interesse"``, ``"intéressé"``, ``"Pas intéressé"``, ``"à contacter"``...

    Returns
    -------
    str
        One of :data:`STATUSES`.

    Raises
    ------
    UnknownStatusError
        When the text names no status.
    """
    code = fold_code(text)
    if code in STATUSES:
        return code
    # A label in the language of the interface (an export written with --lang en).
    for known, label in status_labels().items():
        if fold_code(label) == code:
            return known
    raise UnknownStatusError(
        _(
            "Statut inconnu : « {status} ». Statuts possibles : {expected}.",
            status=text,
            expected=", ".join(status_labels().values()),
        )
    )


@dataclass(frozen=True, slots=True)
class EventView:
    """One entry of a contact's history (never modified, except by an RGPD erasure).

    ``old_value``/``new_value`` hold the status, owner or next-action text before and
    after the change; ``old_date``/``new_date`` the next-action dates; ``text`` the
    note.  ``version`` is the contact version this change produced.
    """

    uuid: str
    identifiant: str
    kind: str
    author: str
    occurred_at: datetime
    version: int
    old_value: str | None = None
    new_value: str | None = None
    old_date: date | None = None
    new_date: date | None = None
    text: str | None = None

    @property
    def kind_label(self) -> str:
        """French label of the event kind."""
        return event_kind_labels().get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class PersonView:
    """A contact person of a structure (personal data, RGPD)."""

    id: int
    identifiant: str
    name: str
    consent_basis: str
    created_at: datetime
    role: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class ContactView:
    """The contact record of one structure, as read in one consistent snapshot.

    ``history`` (oldest first) and ``people`` are filled by
    :meth:`~tierslieux.store.Store.get_contact` and the write methods, and left empty
    by :meth:`~tierslieux.store.Store.list_contacts` unless ``details=True``.
    ``updated_at``/``updated_by`` are ``None`` while the record has never changed.
    """

    identifiant: str
    nom: str
    categorie: str
    code_commune: str
    status: str
    version: int
    next_action: str | None = None
    next_action_date: date | None = None
    owner: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    history: tuple[EventView, ...] = ()
    people: tuple[PersonView, ...] = ()

    @property
    def status_label(self) -> str:
        """French label of the status (``"intéressé"``...)."""
        return status_labels().get(self.status, self.status)


@dataclass(frozen=True, slots=True)
class UpsertReport:
    """Outcome of :meth:`~tierslieux.store.Store.upsert_structures`."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        """Number of distinct structures read."""
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A problem found on one line of an imported file (1-based, header is line 1).

    ``column`` names the column at fault when there is one (with its spreadsheet
    letter, ``"ancienne_valeur (S)"``); ``sheet`` the sheet of a workbook.
    """

    line: int
    message: str
    column: str | None = None
    sheet: str | None = None

    def where(self) -> str:
        """Where the problem is, in French: « ligne 5, colonne statut (H) »."""
        place = _("ligne {line}", line=self.line) if self.line > 0 else _("fichier")
        if self.sheet is not None:
            place = _("feuille « {sheet} », {place}", sheet=self.sheet, place=place)
        if self.column is not None:
            place = _("{place}, colonne {column}", place=place, column=self.column)
        return place


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """One field that a file would change although the database changed meanwhile.

    ``file_value`` and ``database_value`` are as shown to people (status labels,
    dates ``JJ/MM/AAAA``); ``changed_by``/``changed_at`` (UTC) tell the latest change of
    this field in the database since the export, or, when the field itself did not
    change, the latest change of the record.
    """

    column: str
    file_value: str
    database_value: str
    changed_by: str | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """A record edited in the file and changed in the database since the export.

    Nothing of the file is applied to it unless the import is forced (``overwritten``).
    """

    identifiant: str
    nom: str
    line: int
    sheet: str | None
    file_version: int | None
    database_version: int
    fields: tuple[FieldConflict, ...]
    overwritten: bool = False


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Outcome of :meth:`~tierslieux.store.Store.import_csv`.

    ``events_added`` new history events were written, ``events_skipped`` were already
    in the store (same event id), ``contacts_updated`` contact records were recomputed,
    ``state_rows`` ``etat`` lines were read, and ``changes_applied`` changes made in
    them (status, owner, next action, new note) were applied; ``conflicts`` lists the
    records edited in the file that had changed in the database meanwhile (not applied
    unless the import was forced); ``issues`` lists the rejected lines (only non-empty
    for a partial import) and ``warnings`` what was read but not applied (an edited
    history line, say).  ``source`` describes the file read (format, encoding,
    separator).
    """

    events_added: int = 0
    events_skipped: int = 0
    contacts_updated: int = 0
    state_rows: int = 0
    issues: tuple[ImportIssue, ...] = ()
    warnings: tuple[ImportIssue, ...] = field(default=())
    changes_applied: int = 0
    conflicts: tuple[ImportConflict, ...] = ()
    source: str = ""

    @property
    def unchanged(self) -> bool:
        """Whether the import changed nothing in the database."""
        return self.events_added == 0 and self.changes_applied == 0


@dataclass(frozen=True, slots=True)
class ExportReport:
    """Outcome of :meth:`~tierslieux.store.ContactRepository.export_file`.

    ``communes_named`` records have their commune's name in the file; ``format`` is
    ``csv`` or ``xlsx``.
    """

    path: Path
    contacts: int
    events: int
    communes_named: int = 0
    format: str = "csv"
