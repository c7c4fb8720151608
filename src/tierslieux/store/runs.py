"""Repository of runs of the use cases and their result files (``runs``, ``run_results``).

A run goes ``queued`` → ``running`` → ``done``, ``failed`` or ``cancelled`` (it can
also be cancelled or fail while queued).  While running it reports a progress fraction
(0 to 1) and a step label; when done it keeps a summary (JSON object), the vintages
of the inputs it used (JSON object), and its result files as bytes.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, bindparam, func, insert, select, update

from tierslieux.i18n import gettext as _
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError, RunPendingError, UnknownRecordError
from tierslieux.store._schema import Base
from tierslieux.store.scenarios import decode_json, encode_json

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Connection

    from tierslieux.store.database import Database

__all__ = ["FINAL_RUN_STATUSES", "ResultView", "RunRepository", "RunView"]

RUNS = Base.metadata.tables["runs"]
_PROJECTS = Base.metadata.tables["projects"]
_PROJECT_RUNS = Base.metadata.tables["project_runs"]
RESULTS = Base.metadata.tables["run_results"]
PROJECT_RUNS = Base.metadata.tables["project_runs"]
#: States a run never leaves.
FINAL_RUN_STATUSES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
_MAX_KIND = 32
_MAX_NAME = 200
_MAX_MEDIA = 100
# The latest run of a kind of a project, built once (the query of every directory page).
_OF_PROJECT = (
    select(RUNS)
    .join(PROJECT_RUNS, PROJECT_RUNS.c.run_id == RUNS.c.id)
    .where(PROJECT_RUNS.c.project_id == bindparam("project"), RUNS.c.kind == bindparam("kind"))
)
_LATEST_DONE = (
    _OF_PROJECT.where(RUNS.c.status == "done")
    .order_by(func.coalesce(RUNS.c.finished_at, RUNS.c.created_at).desc(), RUNS.c.id.desc())
    .limit(1)
)
_LATEST_PENDING = (
    _OF_PROJECT.where(RUNS.c.status.not_in(sorted(FINAL_RUN_STATUSES)))
    .order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc())
    .limit(1)
)
#: Allowed transitions: from each state, the states a run may move to.
_NEXT: dict[str, frozenset[str]] = {
    "queued": frozenset({"running", "failed", "cancelled"}),
    "running": frozenset({"done", "failed", "cancelled"}),
}


@dataclass(frozen=True, slots=True)
class RunView:
    """One run of a use case and its state."""

    id: str
    kind: str
    parameters: dict[str, Any]
    status: str
    progress: float
    created_at: datetime
    step: str | None = None
    author: str | None = None
    scenario_id: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None
    vintages: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        """Whether the run is done, failed or cancelled."""
        return self.status in FINAL_RUN_STATUSES


@dataclass(frozen=True, slots=True)
class ResultView:
    """A result file of a run, without its content (see :meth:`RunRepository.read_result`)."""

    run_id: str
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


def _run_from_row(row: Row[Any]) -> RunView:
    return RunView(
        id=row.id,
        kind=row.kind,
        parameters=decode_json(row.parameters),
        status=row.status,
        progress=row.progress,
        created_at=row.created_at,
        step=row.step,
        author=row.author,
        scenario_id=row.scenario_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        summary=None if row.summary is None else decode_json(row.summary),
        vintages=None if row.vintages is None else decode_json(row.vintages),
    )


def _result_from_row(row: Row[Any]) -> ResultView:
    return ResultView(
        run_id=row.run_id,
        name=row.name,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


def _unknown(run_id: str) -> UnknownRecordError:
    return UnknownRecordError(_("Aucune exécution « {id} ».", id=run_id))


class RunRepository:
    """Runs of the use cases (state, progress, outcome) and their result files."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def create_run(
        self,
        kind: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        author: str | None = None,
        scenario_id: int | None = None,
        project: int | None = None,
        exclusive: bool = False,
    ) -> RunView:
        """Record a new run, ``queued``, with a random id.

        With ``project`` the run is attached to that project in the same transaction;
        with ``exclusive`` too, it is only created when no run of the same kind of the
        project is queued or running.  The check and the creation are one write
        transaction, the project's row locked (``SELECT ... FOR UPDATE`` on PostgreSQL,
        the write lock taken at ``BEGIN IMMEDIATE`` on SQLite): two requests at once,
        from two threads or two processes, never both create a run.

        Raises
        ------
        InvalidValueError
            When the kind is empty or too long, or the parameters are not JSON.
        UnknownRecordError
            When ``project`` does not exist.
        RunPendingError
            With ``exclusive``, when a run of that kind is already under way (its id in
            ``run_id``); nothing is written.
        """
        cleaned = records.clean(kind)
        if cleaned is None or len(cleaned) > _MAX_KIND:
            raise InvalidValueError(_("Nature d'exécution invalide « {kind} ».", kind=kind))
        run_id = str(uuid.uuid4())
        values = {
            "id": run_id,
            "kind": cleaned,
            "parameters": encode_json(parameters, field=_("paramètres")),
            "status": "queued",
            "progress": 0.0,
            "author": None if author is None else records.check_author(author),
            "scenario_id": scenario_id,
            "created_at": records.now(),
        }
        with self._database.transaction(write=True) as connection:
            if project is not None:
                self._claim(connection, project, cleaned, exclusive=exclusive)
            connection.execute(insert(RUNS).values(**values))
            if project is not None:
                connection.execute(insert(_PROJECT_RUNS).values(project_id=project, run_id=run_id))
            return self._read(connection, run_id)

    @staticmethod
    def _claim(connection: Connection, project: int, kind: str, *, exclusive: bool) -> None:
        """Lock the project's row; with ``exclusive``, refuse a second run of ``kind``."""
        locked = connection.execute(
            select(_PROJECTS.c.id).where(_PROJECTS.c.id == project).with_for_update()
        ).first()
        if locked is None:
            raise UnknownRecordError(_("Aucun projet n° {id}.", id=project))
        if not exclusive:
            return
        pending = connection.execute(
            select(RUNS.c.id)
            .join(_PROJECT_RUNS, _PROJECT_RUNS.c.run_id == RUNS.c.id)
            .where(
                _PROJECT_RUNS.c.project_id == project,
                RUNS.c.kind == kind,
                RUNS.c.status.not_in(sorted(FINAL_RUN_STATUSES)),
            )
            .order_by(RUNS.c.created_at.desc())
        ).first()
        if pending is not None:
            raise RunPendingError(
                _("Un calcul de ce type est déjà en cours pour ce projet."),
                run_id=str(pending.id),
            )

    def get_run(self, run_id: str) -> RunView:
        """Return a run.

        Raises
        ------
        UnknownRecordError
        """
        with self._database.transaction(write=False) as connection:
            return self._read(connection, run_id)

    def list_runs(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        scenario_id: int | None = None,
        limit: int = 100,
    ) -> list[RunView]:
        """Return the most recent runs first, optionally filtered."""
        query = select(RUNS).order_by(RUNS.c.created_at.desc(), RUNS.c.id).limit(limit)
        return self._select(query, status=status, kind=kind, scenario_id=scenario_id)

    def project_runs(
        self, project: int, *, kind: str | None = None, status: str | None = None
    ) -> list[RunView]:
        """The runs linked to ``project`` (one query), latest first, optionally filtered."""
        query = (
            select(RUNS)
            .join(PROJECT_RUNS, PROJECT_RUNS.c.run_id == RUNS.c.id)
            .where(PROJECT_RUNS.c.project_id == project)
            .order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc())
        )
        return self._select(query, status=status, kind=kind)

    def latest_done_run(self, project: int, kind: str) -> RunView | None:
        """The ``done`` run of ``kind`` of ``project`` that finished last (one row read)."""
        return self._first(_LATEST_DONE, project, kind)

    def latest_pending_run(self, project: int, kind: str) -> RunView | None:
        """The latest created run of ``kind`` of ``project`` still queued or running."""
        return self._first(_LATEST_PENDING, project, kind)

    def _first(self, query: Select[Any], project: int, kind: str) -> RunView | None:
        with self._database.transaction(write=False) as connection:
            row = connection.execute(query, {"project": project, "kind": kind}).first()
        return None if row is None else _run_from_row(row)

    def _select(
        self,
        query: Select[Any],
        *,
        status: str | None,
        kind: str | None,
        scenario_id: int | None = None,
    ) -> list[RunView]:
        """The runs of ``query`` kept by the filters that are given."""
        for column, value in (("status", status), ("kind", kind), ("scenario_id", scenario_id)):
            if value is not None:
                query = query.where(RUNS.c[column] == value)
        with self._database.transaction(write=False) as connection:
            return [_run_from_row(row) for row in connection.execute(query)]

    def start_run(self, run_id: str) -> RunView:
        """Move a queued run to ``running`` and record when it started.

        Raises
        ------
        UnknownRecordError, InvalidValueError
            When the run is unknown or not queued.
        """
        return self._move(run_id, "running", started_at=records.now())

    def report_progress(self, run_id: str, fraction: float, step: str | None = None) -> RunView:
        """Record the progress of a running run (fraction from 0 to 1, step label).

        Raises
        ------
        UnknownRecordError, InvalidValueError
            When the run is unknown or not running, or the fraction is out of range.
        """
        if not 0.0 <= fraction <= 1.0:
            raise InvalidValueError(
                _("Avancement hors de l'intervalle 0–1 : {value}.", value=fraction)
            )
        with self._database.transaction(write=True) as connection:
            current = self._lock(connection, run_id)
            if current != "running":
                raise self._refused(run_id, current, "running")
            connection.execute(
                update(RUNS).where(RUNS.c.id == run_id).values(progress=fraction, step=step)
            )
            return self._read(connection, run_id)

    def finish_run(
        self,
        run_id: str,
        *,
        summary: Mapping[str, Any] | None = None,
        vintages: Mapping[str, Any] | None = None,
        results: Sequence[tuple[str, bytes, str]] = (),
    ) -> RunView:
        """Mark a running run ``done`` with its summary, the vintages it used and its
        result files ``(name, content, media type)``, in one transaction.

        A run cancelled meanwhile (by its user, from any process) is refused with
        nothing written: a cancelled run never keeps results, a done run has them all.

        Raises
        ------
        UnknownRecordError, InvalidValueError
        """
        values = {
            "progress": 1.0,
            "finished_at": records.now(),
            "summary": encode_json(summary, field=_("résumé")),
            "vintages": None if vintages is None else encode_json(vintages, field=_("millésimes")),
        }
        with self._database.transaction(write=True) as connection:
            current = self._lock(connection, run_id)
            if "done" not in _NEXT.get(current, frozenset()):
                raise self._refused(run_id, current, "done")
            for name, content, media_type in results:
                self._insert_result(connection, run_id, name, content, media_type)
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id, RUNS.c.status == current)
                .values(status="done", **values)
            )
            return self._read(connection, run_id)

    def fail_run(self, run_id: str, error: str) -> RunView:
        """Mark a queued or running run ``failed`` with its error text.

        Raises
        ------
        UnknownRecordError, InvalidValueError
        """
        return self._move(run_id, "failed", finished_at=records.now(), error=error)

    def cancel_run(self, run_id: str) -> RunView:
        """Mark a queued or running run ``cancelled``.

        Raises
        ------
        UnknownRecordError, InvalidValueError
        """
        return self._move(run_id, "cancelled", finished_at=records.now())

    def add_result(self, run_id: str, name: str, content: bytes, *, media_type: str) -> ResultView:
        """Keep a result file of a run (``communes.csv``, ``rapport.html``...).

        Raises
        ------
        UnknownRecordError
            When the run is unknown.
        InvalidValueError
            When the name or media type is empty or too long, or the run already has
            a result of this name.
        """
        with self._database.transaction(write=True) as connection:
            self._lock(connection, run_id)
            return self._insert_result(connection, run_id, name, content, media_type)

    @staticmethod
    def _insert_result(
        connection: Connection, run_id: str, name: str, content: bytes, media_type: str
    ) -> ResultView:
        """Insert one result file of a run (its lock held by the caller)."""
        cleaned = records.clean(name)
        media = records.clean(media_type)
        if cleaned is None or len(cleaned) > _MAX_NAME:
            raise InvalidValueError(_("Nom de résultat invalide « {name} ».", name=name))
        if media is None or len(media) > _MAX_MEDIA:
            raise InvalidValueError(_("Type de résultat invalide « {media} ».", media=media_type))
        existing = connection.execute(
            select(RESULTS.c.id).where(RESULTS.c.run_id == run_id, RESULTS.c.name == cleaned)
        ).first()
        if existing is not None:
            raise InvalidValueError(
                _("L'exécution {id} a déjà un résultat « {name} ».", id=run_id, name=cleaned)
            )
        connection.execute(
            insert(RESULTS).values(
                run_id=run_id,
                name=cleaned,
                media_type=media,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                created_at=records.now(),
            )
        )
        row = connection.execute(
            select(RESULTS).where(RESULTS.c.run_id == run_id, RESULTS.c.name == cleaned)
        ).one()
        return _result_from_row(row)

    def list_results(self, run_id: str) -> list[ResultView]:
        """Return the result files of a run (without content), by name.

        Raises
        ------
        UnknownRecordError
        """
        columns = [column for column in RESULTS.c if column.name != "content"]
        with self._database.transaction(write=False) as connection:
            self._read(connection, run_id)
            query = select(*columns).where(RESULTS.c.run_id == run_id).order_by(RESULTS.c.name)
            return [_result_from_row(row) for row in connection.execute(query)]

    def read_result(self, run_id: str, name: str) -> bytes:
        """Return the content of a result file.

        Raises
        ------
        UnknownRecordError
            When the run has no result of this name.
        """
        with self._database.transaction(write=False) as connection:
            content = connection.execute(
                select(RESULTS.c.content).where(RESULTS.c.run_id == run_id, RESULTS.c.name == name)
            ).scalar_one_or_none()
        if content is None:
            raise UnknownRecordError(
                _("L'exécution {id} n'a pas de résultat « {name} ».", id=run_id, name=name)
            )
        return bytes(content)

    def _move(self, run_id: str, target: str, **values: Any) -> RunView:  # noqa: ANN401
        with self._database.transaction(write=True) as connection:
            current = self._lock(connection, run_id)
            if target not in _NEXT.get(current, frozenset()):
                raise self._refused(run_id, current, target)
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id, RUNS.c.status == current)
                .values(status=target, **values)
            )
            return self._read(connection, run_id)

    @staticmethod
    def _refused(run_id: str, current: str, target: str) -> InvalidValueError:
        return InvalidValueError(
            _(
                "L'exécution {id} est « {current} » : elle ne peut pas passer à « {target} ».",
                id=run_id,
                current=current,
                target=target,
            )
        )

    @staticmethod
    def _lock(connection: Connection, run_id: str) -> str:
        status = connection.execute(
            select(RUNS.c.status).where(RUNS.c.id == run_id).with_for_update()
        ).scalar_one_or_none()
        if status is None:
            raise _unknown(run_id)
        return str(status)

    @staticmethod
    def _read(connection: Connection, run_id: str) -> RunView:
        row = connection.execute(select(RUNS).where(RUNS.c.id == run_id)).one_or_none()
        if row is None:
            raise _unknown(run_id)
        return _run_from_row(row)
