"""The audit log of the web application (table ``audit_log``): who changed what, when.

Append-only: :func:`write_audit` adds a row inside the caller's transaction (so that a
change and its audit row are committed together), :meth:`AuditRepository.record` in a
transaction of its own; nothing updates or deletes a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, insert, select

from tierslieux.store import _records as records
from tierslieux.store._schema import Base
from tierslieux.store.scenarios import decode_json, encode_json

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy import Connection

    from tierslieux.store.database import Database

__all__ = ["AuditRepository", "AuditView", "write_audit"]

AUDIT = Base.metadata.tables["audit_log"]
_MAX_ACTOR = 200
_MAX_ACTION = 64
_MAX_IP = 64
#: Built once: every change writes its row (the parameters given at execution).
_INSERT = insert(AUDIT)


@dataclass(frozen=True, slots=True)
class AuditView:
    """One row of the audit log."""

    id: int
    occurred_at: datetime
    actor: str | None
    action: str
    target: str
    details: dict[str, Any]
    ip: str | None


def write_audit(
    connection: Connection,
    *,
    actor: str | None,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Add one row to the audit log inside the open transaction of ``connection``."""
    connection.execute(
        _INSERT,
        {
            "occurred_at": records.now(),
            "actor": None if actor is None else actor[:_MAX_ACTOR],
            "action": action[:_MAX_ACTION],
            "target": target,
            "details": encode_json(details, field="details") if details else None,
            "ip": None if ip is None else ip[:_MAX_IP],
        },
    )


def _from_row(row: Row[Any]) -> AuditView:
    return AuditView(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=decode_json(row.details),
        ip=row.ip,
    )


class AuditRepository:
    """The audit log: append and read."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(
        self,
        *,
        actor: str | None,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        """Add one row (``action`` such as ``user.add``; ``target`` what it acted on)."""
        with self._database.transaction(write=True) as connection:
            write_audit(
                connection, actor=actor, action=action, target=target, details=details, ip=ip
            )

    def entries(
        self, *, limit: int = 100, offset: int = 0, action: str | None = None
    ) -> list[AuditView]:
        """Return the latest rows first (optionally of one ``action``)."""
        query = select(AUDIT).order_by(AUDIT.c.occurred_at.desc(), AUDIT.c.id.desc())
        if action:
            query = query.where(AUDIT.c.action == action)
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(query.limit(limit).offset(offset))
            return [_from_row(row) for row in rows]

    def count(self) -> int:
        """Number of rows of the audit log."""
        with self._database.transaction(write=False) as connection:
            return int(connection.execute(select(func.count()).select_from(AUDIT)).scalar_one())
