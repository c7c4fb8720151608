"""Every repository over one :class:`~tierslieux.store.database.Database`.

:class:`Repositories` only groups the repositories of one database (it holds no
logic of its own), so that a use case opens the store once and reaches each
aggregate: ``repos.contacts.set_status(...)``, ``repos.responses.add_responses(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierslieux.store.audit import AuditRepository
from tierslieux.store.campaigns import CampaignRepository
from tierslieux.store.contacts import ContactRepository
from tierslieux.store.people import PeopleRepository
from tierslieux.store.projects import ProjectRepository
from tierslieux.store.responses import ResponseRepository
from tierslieux.store.runs import RunRepository
from tierslieux.store.scenarios import ScenarioRepository
from tierslieux.store.security import SecurityRepository
from tierslieux.store.structures import StructureRepository
from tierslieux.store.users import UserRepository

if TYPE_CHECKING:
    from tierslieux.store.database import Database

__all__ = ["Repositories"]


@dataclass(frozen=True, slots=True)
class Repositories:
    """The repositories of one database, one per aggregate."""

    database: Database
    structures: StructureRepository
    contacts: ContactRepository
    people: PeopleRepository
    responses: ResponseRepository
    users: UserRepository
    scenarios: ScenarioRepository
    runs: RunRepository
    projects: ProjectRepository
    audit: AuditRepository
    security: SecurityRepository
    campaigns: CampaignRepository

    @classmethod
    def over(cls, database: Database) -> Repositories:
        """Build every repository over ``database``."""
        return cls(
            database=database,
            structures=StructureRepository(database),
            contacts=ContactRepository(database),
            people=PeopleRepository(database),
            responses=ResponseRepository(database),
            users=UserRepository(database),
            scenarios=ScenarioRepository(database),
            runs=RunRepository(database),
            projects=ProjectRepository(database),
            audit=AuditRepository(database),
            security=SecurityRepository(database),
            campaigns=CampaignRepository(database),
        )
