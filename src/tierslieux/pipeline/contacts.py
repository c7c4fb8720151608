"""Use cases of contact tracking, called by the ``tierslieux contacts`` commands.

Each function takes the :class:`~tierslieux.config.Settings` (which name the store,
see :mod:`tierslieux.pipeline.database`) and returns the store's typed views; the
store is opened through :func:`~tierslieux.pipeline.database.open_store` (one engine
per process, schema checked once).  ``demo=True`` works on the demonstration store
when no ``database_url`` is set, so that fictional data never reach the real one.

This module also re-exports what the interfaces need from the store (views, errors,
vocabulary), so that they never import the store directly.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tierslieux.errors import Input, Problem, SchemaError, StoreError, TierslieuxError
from tierslieux.files import atomic_write_text
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import CATEGORIES, category_labels, category_short_labels
from tierslieux.pipeline.database import (
    default_database_path,
    demo_database_path,
    open_store,
)
from tierslieux.pipeline.inputs import demo_files, find_inputs
from tierslieux.sources._files import read_csv_strings
from tierslieux.sources.communes import load_communes
from tierslieux.store import (
    CONSENT_BASES,
    STATUSES,
    ContactView,
    EventView,
    ExportReport,
    FieldConflict,
    ImportConflict,
    ImportIssue,
    ImportRejectedError,
    ImportReport,
    PersonView,
    Repositories,
    StaleWriteError,
    UnknownPersonError,
    UnknownStructureError,
    UpsertReport,
    event_kind_labels,
    parse_status,
    status_labels,
)
from tierslieux.store.views import fold_code

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping, Sequence

    from tierslieux.config import Settings
    from tierslieux.store.people import ErasureReport

__all__ = [
    "CONSENT_BASES",
    "PARIS",
    "STATUSES",
    "ContactListing",
    "ContactRow",
    "ContactView",
    "EventView",
    "ExportReport",
    "FieldConflict",
    "ImportConflict",
    "ImportIssue",
    "ImportRejectedError",
    "ImportReport",
    "PersonExport",
    "PersonView",
    "Repositories",
    "StaleWriteError",
    "UnknownPersonError",
    "UnknownStructureError",
    "UpsertReport",
    "add_note",
    "add_person",
    "commune_names",
    "contact_store",
    "default_database_path",
    "demo_database_path",
    "erase_person",
    "event_kind_labels",
    "export_contacts",
    "export_person",
    "find_contacts",
    "forget_person",
    "import_contacts",
    "list_contacts",
    "load_structures",
    "parse_category",
    "parse_day",
    "parse_person_ref",
    "parse_status",
    "read_structures",
    "set_next_action",
    "set_owner",
    "set_status",
    "show_contact",
    "status_labels",
]

#: Columns of ``structures.csv`` the store needs; the others are ignored.
REQUIRED_STRUCTURE_COLUMNS: tuple[str, ...] = ("identifiant", "nom")
STORED_STRUCTURE_COLUMNS: tuple[str, ...] = (
    "identifiant",
    "nom",
    "categorie",
    "code_commune",
    "themes",
    "source",
)
_PERSON_ID = re.compile(r"\d+")
#: An INSEE commune code (``05061``, ``2A004``), as a user types it.
_INSEE_CODE = re.compile(r"(?:\d{5}|2[AB]\d{3})", re.IGNORECASE)
#: Local time of the team: times in exports and import reports are shown in it.
PARIS = ZoneInfo("Europe/Paris")


@contextmanager
def contact_store(settings: Settings, *, demo: bool = False) -> Iterator[Repositories]:
    """Give the repositories of the store named by ``settings`` to a ``with`` block.

    Kept for the callers written before :func:`~tierslieux.pipeline.database.open_store`
    (which it calls): the schema is checked and upgraded once per process, and the
    engine is shared, so leaving the block closes nothing.

    Raises
    ------
    StoreError
        When the database cannot be reached, or was written by a newer version.
    """
    yield open_store(settings, demo=demo)


def read_structures(path: Path) -> list[dict[str, str]]:
    """Read a ``structures.csv`` (as written by ``tierslieux communities``).

    UTF-8 or Windows-1252, ``,`` or ``;``; only ``identifiant`` and ``nom`` are
    required, ``categorie``, ``code_commune``, ``themes`` and ``source`` are kept,
    the other columns (coordinates, reason...) are ignored.

    Raises
    ------
    SourceError, SchemaError
        When the file is missing, unreadable or lacks a required column.
    """
    frame = read_csv_strings(Path(path), role="structures.csv")
    missing = [name for name in REQUIRED_STRUCTURE_COLUMNS if name not in frame.columns]
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) manquante(s) {missing} ; un annuaire écrit par "
                "« tierslieux communities » (structures.csv) est attendu.",
                path=path,
                missing=", ".join(missing),
            )
        )
    kept = [name for name in STORED_STRUCTURE_COLUMNS if name in frame.columns]
    frame = frame[kept].astype("string").fillna("")
    return [
        {name: str(value) for name, value in zip(kept, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def load_structures(settings: Settings, path: Path, *, demo: bool = False) -> UpsertReport:
    """Load ``structures.csv`` into the contact store (idempotent).

    New structures get a contact record « à contacter »; known ones have their name,
    category, commune, themes and source updated; none is removed, so their contact
    history survives a new run of ``tierslieux communities``.

    Raises
    ------
    ImportRejectedError
        When a line lacks an identifier or a name (nothing is written).
    """
    rows = read_structures(path)
    if not rows:
        raise SchemaError(_("{path} ne contient aucune structure.", path=path))
    return open_store(settings, demo=demo).structures.upsert_structures(rows)


def parse_day(text: str, *, option: str = "date") -> date:
    """Read a date written ``AAAA-MM-JJ`` or ``JJ/MM/AAAA``.

    ``option`` is the name of the input read (``date``, ``due_before``), rendered by the
    interface (see :mod:`tierslieux.errors`).

    Raises
    ------
    TierslieuxError
        When the text is not a valid date (message names the option).
    """
    cleaned = text.strip()
    try:
        if "/" in cleaned:
            return datetime.strptime(cleaned, "%d/%m/%Y").replace(tzinfo=UTC).date()
        return date.fromisoformat(cleaned)
    except ValueError as error:
        raise TierslieuxError(
            Problem.of(
                "Date illisible pour {option} : « {value} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA).",
                field=option,
                option=Input(option),
                value=text,
            )
        ) from error


def parse_person_ref(text: str) -> int | str:
    """Read a person reference: a numeric id (``12``) or an e-mail address.

    Raises
    ------
    TierslieuxError
        When the text is neither.
    """
    cleaned = text.strip()
    if _PERSON_ID.fullmatch(cleaned):
        return int(cleaned)
    if "@" in cleaned:
        return cleaned
    raise TierslieuxError(
        _(
            "« {value} » n'est ni un numéro de personne ni une adresse e-mail.",
            value=text,
        )
    )


@dataclass(frozen=True, slots=True)
class PersonExport:
    """Outcome of :func:`export_person`."""

    path: Path
    people: int
    mentions: int


def export_person(
    settings: Settings, person: int | str, out: Path, *, demo: bool = False
) -> PersonExport:
    """Write everything stored about a person to a JSON file (RGPD right of access).

    The file is created readable by its owner only (it holds personal data) and
    written aside then renamed, so a failed write leaves no partial file.

    Raises
    ------
    UnknownPersonError
        When no person matches.
    StoreError
        When the file cannot be written.
    """
    data = open_store(settings, demo=demo).people.export_person_data(person)
    out = Path(out)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(out, text, private=True, error_type=StoreError)
    return PersonExport(
        path=out, people=len(data.get("personnes", ())), mentions=len(data.get("mentions", ()))
    )


def list_contacts(
    settings: Settings,
    *,
    status: str | None = None,
    owner: str | None = None,
    commune: str | None = None,
    due_before: date | None = None,
    details: bool = False,
    demo: bool = False,
) -> list[ContactView]:
    """List contact records, sorted by structure name (``tierslieux contacts list``).

    Parameters
    ----------
    status
        Keep this status only (code or French label).
    owner
        Keep the records of this owner only.
    commune
        Keep the structures of this INSEE commune code only.
    due_before
        Keep the records whose next action is due on or before this date.
    details
        Also load each record's history and people.

    Raises
    ------
    UnknownStatusError
        When ``status`` names no status.
    """
    return open_store(settings, demo=demo).contacts.list_contacts(
        status=status, owner=owner, commune=commune, due_before=due_before, details=details
    )


def parse_category(text: str) -> str:
    """Return the category code for a code, a short label or a label of the study.

    Whatever the case and the accents: ``"cae"``, ``"CAE"``, ``"scop_scic_tic"``,
    ``"SCOP/SCIC numérique"``, ``"Tiers-lieu existant"``...

    Raises
    ------
    SchemaError
        When the text names no category (the message lists the accepted ones).
    """
    wanted = fold_code(text)
    short = category_short_labels()
    long = category_labels()
    for code in CATEGORIES:
        if wanted in {fold_code(code), fold_code(short[code]), fold_code(long[code])}:
            return code
    raise SchemaError(
        _(
            "Catégorie inconnue : « {category} ». Catégories possibles : {expected}.",
            category=text,
            expected=", ".join(f"{code} ({short[code]})" for code in CATEGORIES),
        )
    )


def _fold_name(name: str) -> str:
    """Fold a commune name for matching: « L’Argentière-la-Bessée », « l argentiere la bessee »."""
    return fold_code(name.replace("'", " ").replace("\u2019", " "))


def _commune_codes(text: str, names: dict[str, str]) -> set[str]:
    """Return the INSEE codes ``text`` names: a code, or a commune name (any case, accents)."""
    cleaned = text.strip()
    if cleaned.upper() in names or _INSEE_CODE.fullmatch(cleaned):
        return {cleaned.upper()}
    if not names:
        raise SchemaError(
            _(
                "Commune « {commune} » : sans fichier des communes, seul un code Insee "
                "(05061) est compris ; donnez le fichier des communes (ou le dossier de "
                "données) pour chercher par nom.",
                commune=text,
            )
        )
    wanted = _fold_name(cleaned)
    codes = {code for code, name in names.items() if _fold_name(name) == wanted}
    if not codes:
        raise SchemaError(
            _(
                "Commune inconnue : « {commune} » (ni un code Insee, ni le nom d'une commune "
                "du fichier des communes).",
                commune=text,
            )
        )
    return codes


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One line of ``contacts list``: a record with the names a person reads."""

    contact: ContactView
    #: Name of the commune, ``""`` when no file of communes names it.
    commune_name: str
    #: Short label of the category (the study's step), the code when unknown.
    category_label: str


@dataclass(frozen=True, slots=True)
class ContactListing:
    """Outcome of :func:`find_contacts`: the lines, sorted by structure name."""

    rows: tuple[ContactRow, ...]
    #: Whether a file of communes was found (else the communes are shown by their code).
    communes_named: bool


def find_contacts(
    settings: Settings,
    *,
    category: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    commune: str | None = None,
    due_before: str | date | None = None,
    communes: Sequence[Path] = (),
    demo: bool = False,
) -> ContactListing:
    """List contact records with the names of their commune and category (``contacts list``).

    Parameters
    ----------
    category
        Keep this category only: code, short label or label (see :func:`parse_category`).
    status
        Keep this status only (code or label, any case and accents).
    owner
        Keep the records of this owner only (any case).
    commune
        Keep the structures of this commune: an INSEE code (``"05061"``) or a name
        (``"Gap"``, any case and accents; needs a file of communes).
    due_before
        Keep the records whose next action is due on or before this day (a date, or
        text ``AAAA-MM-JJ`` or ``JJ/MM/AAAA``).
    communes
        Files of communes for the names (else found in ``--data``, see
        :func:`commune_names`).

    Raises
    ------
    SchemaError
        When ``category`` or ``commune`` names nothing (the message says what is accepted).
    UnknownStatusError
        When ``status`` names no status (the message lists the statuses).
    TierslieuxError
        When ``due_before`` is not a date.
    """
    code = None if category is None else parse_category(category)
    wanted_status = None if status is None else parse_status(status)
    due = parse_day(due_before, option="due_before") if isinstance(due_before, str) else due_before
    names = commune_names(settings, communes, demo=demo)
    codes = None if commune is None else _commune_codes(commune, names)
    wanted_owner = None if owner is None else owner.strip().casefold()
    short = category_short_labels()
    rows = tuple(
        ContactRow(
            contact=contact,
            commune_name=names.get(contact.code_commune, ""),
            category_label=short.get(contact.categorie, contact.categorie),
        )
        for contact in list_contacts(settings, status=wanted_status, due_before=due, demo=demo)
        if (code is None or contact.categorie == code)
        and (codes is None or contact.code_commune in codes)
        and (wanted_owner is None or (contact.owner or "").strip().casefold() == wanted_owner)
    )
    return ContactListing(rows=rows, communes_named=bool(names))


def show_contact(settings: Settings, identifiant: str, *, demo: bool = False) -> ContactView:
    """Return the contact record of a structure with its history and people.

    Raises
    ------
    UnknownStructureError
    """
    return open_store(settings, demo=demo).contacts.get_contact(identifiant)


def set_status(
    settings: Settings,
    identifiant: str,
    status: str,
    *,
    author: str,
    expected_version: int | None = None,
    note: str | None = None,
    demo: bool = False,
) -> ContactView:
    """Change the status of a contact record (see ``ContactRepository.set_status``).

    Raises
    ------
    UnknownStatusError, UnknownStructureError, StaleWriteError, InvalidValueError
    """
    return open_store(settings, demo=demo).contacts.set_status(
        identifiant, status, author=author, expected_version=expected_version, note=note
    )


def add_note(
    settings: Settings,
    identifiant: str,
    text: str,
    *,
    author: str,
    expected_version: int | None = None,
    demo: bool = False,
) -> ContactView:
    """Append a dated note to a structure's history.

    Raises
    ------
    InvalidValueError, UnknownStructureError, StaleWriteError
    """
    return open_store(settings, demo=demo).contacts.add_note(
        identifiant, text, author=author, expected_version=expected_version
    )


def set_next_action(
    settings: Settings,
    identifiant: str,
    text: str | None,
    due: date | None,
    *,
    author: str,
    expected_version: int | None = None,
    demo: bool = False,
) -> ContactView:
    """Set (or clear, with ``None``) the next action of a contact record and its date.

    Raises
    ------
    UnknownStructureError, StaleWriteError, InvalidValueError
    """
    return open_store(settings, demo=demo).contacts.set_next_action(
        identifiant, text, due, author=author, expected_version=expected_version
    )


def set_owner(
    settings: Settings,
    identifiant: str,
    owner: str | None,
    *,
    author: str,
    expected_version: int | None = None,
    demo: bool = False,
) -> ContactView:
    """Set (or clear, with ``None``) the person in charge of a contact record.

    Raises
    ------
    UnknownStructureError, StaleWriteError, InvalidValueError
    """
    return open_store(settings, demo=demo).contacts.set_owner(
        identifiant, owner, author=author, expected_version=expected_version
    )


def add_person(
    settings: Settings,
    identifiant: str,
    *,
    name: str,
    consent_basis: str,
    role: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    demo: bool = False,
) -> PersonView:
    """Record a contact person of a structure, with the RGPD legal basis.

    Raises
    ------
    InvalidValueError, UnknownStructureError
    """
    return open_store(settings, demo=demo).people.add_person(
        identifiant, name=name, consent_basis=consent_basis, role=role, email=email, phone=phone
    )


def forget_person(settings: Settings, person: int | str, *, author: str, demo: bool = False) -> int:
    """Erase a person and scrub their data from the history (RGPD); return how many records.

    Raises
    ------
    UnknownPersonError, InvalidValueError
    """
    return erase_person(settings, person, author=author, demo=demo).people


def erase_person(
    settings: Settings, person: int | str, *, author: str, demo: bool = False
) -> ErasureReport:
    """Erase a person and scrub their data from the history (RGPD); say what changed.

    Besides the exact name, e-mail and phone, the usual variants of the name are
    erased (« Mme Dupont », « Dupont Marie », « M. Dupont »...), whatever the case and
    the accents.

    Raises
    ------
    UnknownPersonError, InvalidValueError
    """
    return open_store(settings, demo=demo).people.erase_person(person, author=author)


def commune_names(
    settings: Settings, paths: Sequence[Path] = (), *, demo: bool = False
) -> dict[str, str]:
    """Return the name of each commune (INSEE code → name) for the contacts export.

    From ``paths`` (files of communes, as for the other commands), else the communes
    file found in ``settings.data_dir`` (``--data``), else the demo's communes with
    ``demo``; ``{}`` when there is none (nothing is downloaded for an export).

    Raises
    ------
    SourceError, SchemaError
        When a file given cannot be read.
    """
    if not paths:
        if demo:
            paths = (demo_files()["communes"],)
        elif settings.data_dir is not None:
            paths = find_inputs(settings.data_dir, "communes")
    names: dict[str, str] = {}
    for path in paths:
        table = load_communes(Path(path)).table
        for code, name in zip(table["code"].astype(str), table["nom"].astype(str), strict=True):
            names.setdefault(code, name)
    return names


def export_contacts(
    settings: Settings,
    out: Path,
    *,
    demo: bool = False,
    mask: bool = True,
    file_format: str | None = None,
    communes: Sequence[Path] = (),
    names: Mapping[str, str] | None = None,
    identifiants: Collection[str] | None = None,
) -> ExportReport:
    """Write every contact record and its history to a spreadsheet file (no personal data).

    CSV for French Excel (UTF-8 with BOM, ``;``) or XLSX (``file_format="xlsx"`` or an
    ``.xlsx`` suffix); statuses in words, dates in French and Paris time, category and
    commune names (see :func:`commune_names` for ``communes``).  E-mail addresses and
    phone numbers in notes and next actions are masked unless ``mask`` is false.
    ``names`` (INSEE code → commune name) replaces the reading of ``communes``;
    ``identifiants`` keeps the records of these structures only (a web project).

    Raises
    ------
    StoreError
        When the file cannot be written.
    InvalidValueError
        When ``file_format`` is neither ``csv`` nor ``xlsx``.
    """
    if names is None:
        names = commune_names(settings, communes, demo=demo)
    return open_store(settings, demo=demo).contacts.export_file(
        out, file_format=file_format, mask=mask, commune_names=names, identifiants=identifiants
    )


def import_contacts(
    settings: Settings,
    source: Path,
    *,
    partial: bool = False,
    force: bool = False,
    author: str | None = None,
    demo: bool = False,
    among: Collection[str] | None = None,
) -> ImportReport:
    """Import a contacts file (CSV or XLSX, possibly edited in Excel).

    New history lines are merged, edited ``etat`` lines applied by ``author`` with the
    version check of the command line; records changed in the database since the
    export are reported as conflicts and left alone unless ``force`` (see
    :meth:`~tierslieux.store.ContactRepository.import_file`).  Importing the same file
    twice changes nothing.  ``among`` limits the structures the file may change (a
    project's directory): the lines of any other are refused, naming line and structure.

    Raises
    ------
    ImportRejectedError
        When the file is unusable, or has invalid lines and ``partial`` is false.
    InvalidValueError
        When ``etat`` lines change records and no ``author`` is given.
    """
    return open_store(settings, demo=demo).contacts.import_file(
        source, partial=partial, force=force, author=author, among=among
    )
