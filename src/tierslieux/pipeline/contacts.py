"""Use cases of contact tracking, called by the ``tierslieux contacts`` commands.

The operational store (:mod:`tierslieux.store`) is opened from the
:class:`~tierslieux.config.Settings`: ``database_url`` when set (``--database-url``
or ``TIERSLIEUX_DATABASE_URL``), otherwise the SQLite file
``$XDG_DATA_HOME/tierslieux/contacts.sqlite`` (``~/.local/share/tierslieux/...``).
It lives in the *data* folder, not the cache: contact history is user data, and a
cache may be emptied at any time.

This module also re-exports what the interfaces need from the store (views, errors,
vocabulary), so that they never import the store directly.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tierslieux.errors import Input, Problem, SchemaError, StoreError, TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.sources._files import read_csv_strings
from tierslieux.store import (
    CONSENT_BASES,
    STATUSES,
    ContactView,
    EventView,
    ExportReport,
    ImportIssue,
    ImportRejectedError,
    ImportReport,
    PersonView,
    StaleWriteError,
    Store,
    UnknownPersonError,
    UnknownStructureError,
    UpsertReport,
    event_kind_labels,
    open_store,
    parse_status,
    status_labels,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tierslieux.config import Settings

__all__ = [
    "CONSENT_BASES",
    "STATUSES",
    "ContactView",
    "EventView",
    "ExportReport",
    "ImportIssue",
    "ImportRejectedError",
    "ImportReport",
    "PersonExport",
    "PersonView",
    "StaleWriteError",
    "Store",
    "UnknownPersonError",
    "UnknownStructureError",
    "UpsertReport",
    "contact_store",
    "default_database_path",
    "demo_database_path",
    "event_kind_labels",
    "export_person",
    "load_structures",
    "parse_day",
    "parse_person_ref",
    "parse_status",
    "read_structures",
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


def default_database_path() -> Path:
    """Return the default SQLite file of the contacts (XDG data folder).

    ``$XDG_DATA_HOME/tierslieux/contacts.sqlite``, or
    ``~/.local/share/tierslieux/contacts.sqlite`` when the variable is unset.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tierslieux" / "contacts.sqlite"


def demo_database_path(settings: Settings) -> Path:
    """Return the SQLite file of the demonstration store: ``<cache>/demo/demo.sqlite``.

    Fictional answers (``demo=True``) never go into the user's real store: they live
    in the cache, which may be emptied at any time.
    """
    return Path(settings.cache_dir) / "demo" / "demo.sqlite"


@contextmanager
def contact_store(settings: Settings, *, demo: bool = False) -> Iterator[Store]:
    """Open the contact store named by ``settings`` for the duration of a ``with`` block.

    The schema is created or upgraded on opening.  With ``demo`` and no
    ``database_url``, the demonstration store of :func:`demo_database_path` is opened
    instead of the default one, so that fictional data never reach the real store.

    Raises
    ------
    StoreError
        When the database cannot be reached, or was written by a newer version.
    """
    default = demo_database_path(settings) if demo else default_database_path()
    store = open_store(settings.database_url or None, default_path=default)
    try:
        yield store
    finally:
        store.close()


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


def load_structures(settings: Settings, path: Path) -> UpsertReport:
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
    with contact_store(settings) as store:
        return store.upsert_structures(rows)


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


def export_person(settings: Settings, person: int | str, out: Path) -> PersonExport:
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
    with contact_store(settings) as store:
        data = store.export_person_data(person)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as error:
        message = _("Impossible d'écrire {path} : {error}.", path=out, error=error)
        raise StoreError(message) from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, ensure_ascii=False, indent=2)
            stream.write("\n")
        Path(staging).replace(out)
    except OSError as error:
        Path(staging).unlink(missing_ok=True)
        message = _("Impossible d'écrire {path} : {error}.", path=out, error=error)
        raise StoreError(message) from error
    return PersonExport(
        path=out, people=len(data.get("personnes", ())), mentions=len(data.get("mentions", ()))
    )
