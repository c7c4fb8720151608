"""Repository of the web application's projects (tables ``projects``, ``project_*``).

A project is a territory (its ``kind:code`` specification and its label) with its
members (users), its input files (one per role, kept as bytes) and its runs.  Every
change writes its row of the audit log in the same transaction
(:func:`~tierslieux.store.audit.write_audit`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError, StaleRecordError, UnknownRecordError
from tierslieux.store._schema import Base
from tierslieux.store.audit import write_audit
from tierslieux.store.scenarios import decode_json, encode_json
from tierslieux.store.users import USER_BY_ID, user_from_row

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy import Connection

    from tierslieux.store.database import Database
    from tierslieux.store.users import UserView

__all__ = ["DatasetView", "ProjectRepository", "ProjectView", "ProjectVisit"]

PROJECTS = Base.metadata.tables["projects"]
MEMBERS = Base.metadata.tables["project_members"]
DATASETS = Base.metadata.tables["project_datasets"]
PROJECT_RUNS = Base.metadata.tables["project_runs"]
USERS = Base.metadata.tables["users"]
_MAX_NAME = 200
# The reads of every request on a project, built once (a statement built per call costs
# SQLAlchemy more than the read itself).
_PROJECT_BY_ID = select(PROJECTS).where(PROJECTS.c.id == bindparam("project"))
_DATASET_STAMPS = (
    select(DATASETS.c.role, DATASETS.c.uploaded_at)
    .where(DATASETS.c.project_id == bindparam("project"))
    .order_by(DATASETS.c.role)
)
_MEMBERSHIP = select(MEMBERS.c.user_id).where(
    MEMBERS.c.project_id == bindparam("project"), MEMBERS.c.user_id == bindparam("user")
)
_MAX_FILENAME = 255


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A project as stored."""

    id: int
    name: str
    territory: str
    territory_label: str
    description: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    version: int


@dataclass(frozen=True, slots=True)
class DatasetView:
    """An input file of a project, without its bytes."""

    id: int
    project_id: int
    role: str
    filename: str
    media_type: str
    size: int
    sha256: str
    summary: dict[str, Any]
    uploaded_at: datetime
    uploaded_by: str


@dataclass(frozen=True, slots=True)
class ProjectVisit:
    """A user, a project and whether the user is a member, as stored at one moment.

    ``user`` is ``None`` when there is no such user (a disabled one is returned, with
    ``active`` false); ``project`` is ``None`` when there is no such project.
    """

    user: UserView | None
    project: ProjectView | None
    member: bool


def _project(row: Row[Any]) -> ProjectView:
    return ProjectView(
        id=row.id,
        name=row.name,
        territory=row.territory,
        territory_label=row.territory_label,
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        version=row.version,
    )


def _dataset(row: Row[Any]) -> DatasetView:
    return DatasetView(
        id=row.id,
        project_id=row.project_id,
        role=row.role,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        summary=decode_json(row.summary),
        uploaded_at=row.uploaded_at,
        uploaded_by=row.uploaded_by,
    )


_DATASET_COLUMNS = [column for column in DATASETS.c if column.name != "content"]


def _unknown(project: int) -> UnknownRecordError:
    return UnknownRecordError(_("Aucun projet n° {id}.", id=project))


class ProjectRepository:
    """Projects, their members, input files and runs."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add_project(
        self,
        name: str,
        *,
        territory: str,
        territory_label: str,
        description: str | None = None,
        actor: str,
        ip: str | None = None,
    ) -> ProjectView:
        """Create a project (its name is unique, case-insensitive).

        Raises
        ------
        InvalidValueError
            When the name is empty, too long or taken, or the territory is empty.
        """
        cleaned = records.clean(name)
        author = records.check_author(actor)
        if cleaned is None or len(cleaned) > _MAX_NAME:
            raise InvalidValueError(
                _("Nom de projet invalide : obligatoire, au plus {n} caractères.", n=_MAX_NAME)
            )
        spec = records.clean(territory)
        label = records.clean(territory_label)
        if spec is None or label is None:
            raise InvalidValueError(_("Le territoire du projet est obligatoire."))
        moment = records.now()
        with self._database.transaction(write=True) as connection:
            taken = connection.execute(
                select(PROJECTS.c.id).where(func.lower(PROJECTS.c.name) == cleaned.lower())
            ).first()
            if taken is not None:
                raise InvalidValueError(_("Un projet s'appelle déjà « {name} ».", name=cleaned))
            result = connection.execute(
                insert(PROJECTS).values(
                    name=cleaned,
                    territory=spec,
                    territory_label=label,
                    description=records.clean(description),
                    created_at=moment,
                    created_by=author,
                    updated_at=moment,
                    updated_by=author,
                    version=1,
                )
            )
            key = result.inserted_primary_key
            if key is None:  # pragma: no cover - both backends return the new id
                msg = "no id returned for the new project"
                raise RuntimeError(msg)
            project = self._read(connection, int(key[0]))
            write_audit(
                connection,
                actor=author,
                action="project.create",
                target=f"project:{project.id}",
                details={"name": cleaned, "territory": spec},
                ip=ip,
            )
            return project

    def get_project(self, project: int) -> ProjectView:
        """Return a project by id.

        Raises
        ------
        UnknownRecordError
        """
        with self._database.transaction(write=False) as connection:
            return self._read(connection, project)

    def visit(self, project: int, user: int) -> ProjectVisit:
        """The user ``user`` (an id), the project and the membership, in one read.

        What a request on a project needs to decide whether the user may see it: one
        transaction instead of three, every request (no rights kept between them).
        """
        with self._database.transaction(write=False) as connection:
            user_row = connection.execute(USER_BY_ID, {"user": user}).first()
            if user_row is None:
                return ProjectVisit(user=None, project=None, member=False)
            row = connection.execute(_PROJECT_BY_ID, {"project": project}).first()
            member = (
                row is not None
                and connection.execute(_MEMBERSHIP, {"project": project, "user": user}).first()
                is not None
            )
        return ProjectVisit(
            user=user_from_row(user_row),
            project=None if row is None else _project(row),
            member=member,
        )

    def list_projects(self, *, member: int | None = None) -> list[ProjectView]:
        """Every project sorted by name, or only those ``member`` (a user id) belongs to."""
        query = select(PROJECTS).order_by(func.lower(PROJECTS.c.name))
        if member is not None:
            query = query.where(
                PROJECTS.c.id.in_(select(MEMBERS.c.project_id).where(MEMBERS.c.user_id == member))
            )
        with self._database.transaction(write=False) as connection:
            return [_project(row) for row in connection.execute(query)]

    def update_project(
        self,
        project: int,
        *,
        expected_version: int,
        actor: str,
        name: str | None = None,
        description: str | None = None,
        territory_label: str | None = None,
        ip: str | None = None,
    ) -> ProjectView:
        """Rename a project, change its description or its territory's name (its
        official name, once a file gives it); refused if changed meanwhile.

        Raises
        ------
        StaleRecordError, UnknownRecordError, InvalidValueError
        """
        author = records.check_author(actor)
        values: dict[str, Any] = {}
        if name is not None:
            cleaned = records.clean(name)
            if cleaned is None or len(cleaned) > _MAX_NAME:
                raise InvalidValueError(
                    _("Nom de projet invalide : obligatoire, au plus {n} caractères.", n=_MAX_NAME)
                )
            values["name"] = cleaned
        if description is not None:
            values["description"] = records.clean(description)
        if territory_label is not None and (label := records.clean(territory_label)):
            values["territory_label"] = label
        with self._database.transaction(write=True) as connection:
            current = self._read(connection, project)
            if current.version != expected_version:
                raise StaleRecordError(
                    _(
                        "Le projet « {name} » a été modifié par {who} entre-temps (version "
                        "{current}, vous partiez de la version {expected}) : rien n'a été "
                        "enregistré.",
                        name=current.name,
                        who=current.updated_by,
                        current=current.version,
                        expected=expected_version,
                    ),
                    expected_version=expected_version,
                    current_version=current.version,
                )
            connection.execute(
                update(PROJECTS)
                .where(PROJECTS.c.id == project)
                .values(
                    **values,
                    updated_at=records.now(),
                    updated_by=author,
                    version=current.version + 1,
                )
            )
            write_audit(
                connection,
                actor=author,
                action="project.update",
                target=f"project:{project}",
                details=values,
                ip=ip,
            )
            return self._read(connection, project)

    # -- members ---------------------------------------------------------------------

    def add_member(self, project: int, user: int, *, actor: str, ip: str | None = None) -> None:
        """Make ``user`` (an id) a member of ``project`` (nothing if already one).

        Raises
        ------
        UnknownRecordError
            When the project or the user does not exist.
        """
        author = records.check_author(actor)
        with self._database.transaction(write=True) as connection:
            self._read(connection, project)
            login = connection.execute(select(USERS.c.login).where(USERS.c.id == user)).scalar()
            if login is None:
                raise UnknownRecordError(_("Aucun utilisateur « {user} ».", user=user))
            present = connection.execute(
                select(MEMBERS.c.user_id).where(
                    MEMBERS.c.project_id == project, MEMBERS.c.user_id == user
                )
            ).first()
            if present is not None:
                return
            connection.execute(
                insert(MEMBERS).values(
                    project_id=project, user_id=user, added_at=records.now(), added_by=author
                )
            )
            write_audit(
                connection,
                actor=author,
                action="project.member_add",
                target=f"project:{project}",
                details={"user": login},
                ip=ip,
            )

    def remove_member(self, project: int, user: int, *, actor: str, ip: str | None = None) -> bool:
        """Remove ``user`` from ``project``; ``False`` when they were not a member."""
        author = records.check_author(actor)
        with self._database.transaction(write=True) as connection:
            result = connection.execute(
                delete(MEMBERS).where(MEMBERS.c.project_id == project, MEMBERS.c.user_id == user)
            )
            if result.rowcount != 1:
                return False
            write_audit(
                connection,
                actor=author,
                action="project.member_remove",
                target=f"project:{project}",
                details={"user_id": user},
                ip=ip,
            )
            return True

    def member_ids(self, project: int) -> list[int]:
        """Ids of the members of ``project``."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                select(MEMBERS.c.user_id).where(MEMBERS.c.project_id == project)
            )
            return sorted(int(row.user_id) for row in rows)

    def is_member(self, project: int, user: int) -> bool:
        """Whether ``user`` belongs to ``project``."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(_MEMBERSHIP, {"project": project, "user": user}).first()
            return row is not None

    # -- input files -----------------------------------------------------------------

    def put_dataset(
        self,
        project: int,
        *,
        role: str,
        filename: str,
        media_type: str,
        content: bytes,
        summary: Mapping[str, Any] | None,
        actor: str,
        ip: str | None = None,
    ) -> DatasetView:
        """Store (or replace) the input file of ``role`` of a project.

        Raises
        ------
        UnknownRecordError
            When the project does not exist.
        """
        author = records.check_author(actor)
        name = (records.clean(filename) or role)[-_MAX_FILENAME:]
        digest = hashlib.sha256(content).hexdigest()
        with self._database.transaction(write=True) as connection:
            self._read(connection, project)
            connection.execute(
                delete(DATASETS).where(DATASETS.c.project_id == project, DATASETS.c.role == role)
            )
            connection.execute(
                insert(DATASETS).values(
                    project_id=project,
                    role=role,
                    filename=name,
                    media_type=media_type[:100],
                    size=len(content),
                    sha256=digest,
                    content=content,
                    summary=encode_json(summary, field="summary") if summary else None,
                    uploaded_at=records.now(),
                    uploaded_by=author,
                )
            )
            write_audit(
                connection,
                actor=author,
                action="project.dataset_put",
                target=f"project:{project}",
                details={"role": role, "filename": name, "size": len(content), "sha256": digest},
                ip=ip,
            )
            row = connection.execute(
                select(*_DATASET_COLUMNS).where(
                    DATASETS.c.project_id == project, DATASETS.c.role == role
                )
            ).one()
            return _dataset(row)

    def datasets(self, project: int) -> list[DatasetView]:
        """The input files of a project, by role."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                select(*_DATASET_COLUMNS)
                .where(DATASETS.c.project_id == project)
                .order_by(DATASETS.c.role)
            )
            return [_dataset(row) for row in rows]

    def dataset_stamps(self, project: int) -> tuple[tuple[str, datetime], ...]:
        """``(role, uploaded_at)`` of each input file of a project, by role: what tells
        whether anything read from the files is still current (nothing else is read)."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(_DATASET_STAMPS, {"project": project})
            return tuple((str(row.role), row.uploaded_at) for row in rows)

    def dataset_content(self, project: int, role: str) -> bytes:
        """The bytes of the input file of ``role``.

        Raises
        ------
        UnknownRecordError
        """
        with self._database.transaction(write=False) as connection:
            content = connection.execute(
                select(DATASETS.c.content).where(
                    DATASETS.c.project_id == project, DATASETS.c.role == role
                )
            ).scalar()
        if content is None:
            raise UnknownRecordError(
                _("Le projet n° {id} n'a pas de fichier « {role} ».", id=project, role=role)
            )
        return bytes(content)

    # -- runs --------------------------------------------------------------------------

    def link_run(self, project: int, run_id: str) -> None:
        """Attach a run (see :class:`~tierslieux.store.RunRepository`) to a project."""
        with self._database.transaction(write=True) as connection:
            connection.execute(insert(PROJECT_RUNS).values(project_id=project, run_id=run_id))

    def run_ids(self, project: int) -> list[str]:
        """Ids of the runs of a project."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                select(PROJECT_RUNS.c.run_id).where(PROJECT_RUNS.c.project_id == project)
            )
            return [str(row.run_id) for row in rows]

    @staticmethod
    def _read(connection: Connection, project: int) -> ProjectView:
        row = connection.execute(_PROJECT_BY_ID, {"project": project}).first()
        if row is None:
            raise _unknown(project)
        return _project(row)
