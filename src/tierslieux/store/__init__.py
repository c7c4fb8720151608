"""Operational store: structures, contacts, questionnaire answers, users, scenarios, runs.

SQLite file by default, PostgreSQL by URL.  One engine per database and process
(:func:`engine_for`); opening a store changes nothing in it: the schema is created
and upgraded by the Alembic migrations of :mod:`tierslieux.store.migrations` through
the explicit step :func:`upgrade` (``tierslieux db upgrade``), or
:func:`ensure_schema`, which the command line runs on first use.

One repository per aggregate, each a small class over a :class:`Database`, grouped
by :class:`Repositories`:

- :class:`StructureRepository`: the directory of structures;
- :class:`ContactRepository`: contact records, their history, CSV export and import
  (see :mod:`tierslieux.store.contacts` for the concurrency rules);
- :class:`PeopleRepository`: contact people and the RGPD rights;
- :class:`ResponseRepository`: questionnaire respondents (pseudonymous);
- :class:`UserRepository`, :class:`ScenarioRepository`, :class:`RunRepository`: the
  web application's users, saved scenarios, and runs with their result files;
- :class:`ProjectRepository`, :class:`AuditRepository`, :class:`SecurityRepository`:
  its projects (territory, members, input files, runs), the audit log of every
  change, one-time setup links and login throttling;
- :class:`CampaignRepository`: collection campaigns of the public questionnaire, their
  one-time invitations and the answers given through them.

>>> from pathlib import Path
>>> upgrade("sqlite:///contacts.sqlite")  # doctest: +SKIP
>>> repos = open_repositories("sqlite:///contacts.sqlite")  # doctest: +SKIP
>>> repos.contacts.list_contacts(status="intéressé")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.store._engine import (
    SchemaStatus,
    dispose_engine,
    dispose_engines,
    engine_for,
    ensure_schema,
    head_revision,
    schema_status,
    upgrade,
)
from tierslieux.store._errors import (
    ImportRejectedError,
    InvalidValueError,
    RunPendingError,
    StaleRecordError,
    StaleWriteError,
    StoreUnavailableError,
    StoreVersionError,
    UnknownPersonError,
    UnknownRecordError,
    UnknownStatusError,
    UnknownStructureError,
)
from tierslieux.store.audit import AuditRepository, AuditView
from tierslieux.store.campaigns import (
    CampaignRepository,
    CampaignView,
    InvitationRefusedError,
    SubmitOutcome,
)
from tierslieux.store.contacts import ContactRepository
from tierslieux.store.database import Database, open_database, sqlite_url
from tierslieux.store.people import PeopleRepository
from tierslieux.store.projects import DatasetView, ProjectRepository, ProjectView, ProjectVisit
from tierslieux.store.repositories import Repositories
from tierslieux.store.responses import RespondentView, ResponseRepository, ResponsesReport
from tierslieux.store.runs import FINAL_RUN_STATUSES, ResultView, RunRepository, RunView
from tierslieux.store.scenarios import ScenarioRepository, ScenarioView
from tierslieux.store.security import SecurityRepository
from tierslieux.store.structures import StructureRepository
from tierslieux.store.users import (
    UserRepository,
    UserView,
    hash_password,
    needs_rehash,
    parse_role,
    verify_password,
)
from tierslieux.store.views import (
    CONSENT_BASES,
    EVENT_KINDS,
    ROLES,
    RUN_STATUSES,
    STATUSES,
    ContactView,
    EventView,
    ExportReport,
    FieldConflict,
    ImportConflict,
    ImportIssue,
    ImportReport,
    PersonView,
    UpsertReport,
    event_kind_labels,
    parse_status,
    status_labels,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "CONSENT_BASES",
    "EVENT_KINDS",
    "FINAL_RUN_STATUSES",
    "ROLES",
    "RUN_STATUSES",
    "STATUSES",
    "AuditRepository",
    "AuditView",
    "CampaignRepository",
    "CampaignView",
    "ContactRepository",
    "ContactView",
    "Database",
    "DatasetView",
    "EventView",
    "ExportReport",
    "FieldConflict",
    "ImportConflict",
    "ImportIssue",
    "ImportRejectedError",
    "ImportReport",
    "InvalidValueError",
    "InvitationRefusedError",
    "PeopleRepository",
    "PersonView",
    "ProjectRepository",
    "ProjectView",
    "ProjectVisit",
    "Repositories",
    "RespondentView",
    "ResponseRepository",
    "ResponsesReport",
    "ResultView",
    "RunPendingError",
    "RunRepository",
    "RunView",
    "ScenarioRepository",
    "ScenarioView",
    "SchemaStatus",
    "SecurityRepository",
    "StaleRecordError",
    "StaleWriteError",
    "StoreUnavailableError",
    "StoreVersionError",
    "StructureRepository",
    "SubmitOutcome",
    "UnknownPersonError",
    "UnknownRecordError",
    "UnknownStatusError",
    "UnknownStructureError",
    "UpsertReport",
    "UserRepository",
    "UserView",
    "dispose_engine",
    "dispose_engines",
    "engine_for",
    "ensure_schema",
    "event_kind_labels",
    "hash_password",
    "head_revision",
    "needs_rehash",
    "open_database",
    "open_repositories",
    "parse_role",
    "parse_status",
    "schema_status",
    "sqlite_url",
    "status_labels",
    "upgrade",
    "verify_password",
]


def open_repositories(url: str | None, *, default_path: Path | None = None) -> Repositories:
    """Return every repository of the database at ``url`` (see :func:`open_database`).

    Changes nothing in the database: call :func:`upgrade` (or :func:`ensure_schema`)
    first on a new or older one.
    """
    return Repositories.over(open_database(url, default_path=default_path))
