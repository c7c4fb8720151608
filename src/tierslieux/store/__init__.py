"""Operational store: structures, contact tracking and questionnaire answers.

SQLite file by default, PostgreSQL by URL; the schema is created and upgraded by the
Alembic migrations bundled in :mod:`tierslieux.store.migrations` when the store is
opened.  Every write is one transaction, and every change of a contact record is kept
as a history event (see :mod:`tierslieux.store.contacts` for the concurrency rules).
Questionnaire respondents are pseudonymous (:mod:`tierslieux.store.survey`).

>>> from pathlib import Path
>>> store = open_store(None, default_path=Path("contacts.sqlite"))  # doctest: +SKIP
"""

from tierslieux.store._errors import (
    ImportRejectedError,
    InvalidValueError,
    StaleWriteError,
    StoreUnavailableError,
    StoreVersionError,
    UnknownPersonError,
    UnknownStatusError,
    UnknownStructureError,
)
from tierslieux.store.contacts import Store, open_store
from tierslieux.store.survey import RespondentView, ResponsesReport
from tierslieux.store.views import (
    CONSENT_BASES,
    EVENT_KINDS,
    STATUSES,
    ContactView,
    EventView,
    ExportReport,
    ImportIssue,
    ImportReport,
    PersonView,
    UpsertReport,
    event_kind_labels,
    parse_status,
    status_labels,
)

__all__ = [
    "CONSENT_BASES",
    "EVENT_KINDS",
    "STATUSES",
    "ContactView",
    "EventView",
    "ExportReport",
    "ImportIssue",
    "ImportRejectedError",
    "ImportReport",
    "InvalidValueError",
    "PersonView",
    "RespondentView",
    "ResponsesReport",
    "StaleWriteError",
    "Store",
    "StoreUnavailableError",
    "StoreVersionError",
    "UnknownPersonError",
    "UnknownStatusError",
    "UnknownStructureError",
    "UpsertReport",
    "event_kind_labels",
    "open_store",
    "parse_status",
    "status_labels",
]
