"""Security state of the web application: one-time setup links and login throttling.

- ``setup_tokens``: a one-time link (creating the first administrator) is a random
  token of which only the SHA-256 is stored, with its expiry; :meth:`consume_token`
  marks it used in the same transaction that checks it, so it works once, also with
  several worker processes.
- ``login_throttle``: failed logins per key (``compte:<login>``, ``ip:<address>``); after
  ``limit`` failures within ``window`` the key is locked for ``lock`` (shared by every
  process of a server through the database).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update

from tierslieux.store import _records as records
from tierslieux.store._schema import Base

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta

    from tierslieux.store.database import Database

__all__ = ["SecurityRepository", "token_digest"]

TOKENS = Base.metadata.tables["setup_tokens"]
THROTTLE = Base.metadata.tables["login_throttle"]
_TOKEN_BYTES = 32
_MAX_KEY = 400


def token_digest(token: str) -> str:
    """The SHA-256 (hex) of a token: what the store keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SecurityRepository:
    """One-time tokens and failed-login counters."""

    def __init__(self, database: Database) -> None:
        self._database = database

    # -- one-time tokens -------------------------------------------------------------

    def create_token(self, purpose: str, *, lifetime: timedelta) -> tuple[str, datetime]:
        """Create a one-time token for ``purpose``; return it (never stored) and its expiry."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        moment = records.now()
        expires = moment + lifetime
        with self._database.transaction(write=True) as connection:
            connection.execute(
                insert(TOKENS).values(
                    token_hash=token_digest(token),
                    purpose=purpose,
                    created_at=moment,
                    expires_at=expires,
                    used_at=None,
                )
            )
        return token, expires

    def token_is_valid(self, token: str, purpose: str) -> bool:
        """Whether ``token`` is an unused, unexpired token of ``purpose`` (changes nothing)."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(
                select(TOKENS).where(TOKENS.c.token_hash == token_digest(token))
            ).first()
        return bool(
            row is not None
            and row.purpose == purpose
            and row.used_at is None
            and row.expires_at > records.now()
        )

    def consume_token(self, token: str, purpose: str) -> bool:
        """Mark ``token`` used if it is valid; ``True`` only for the first caller."""
        moment = records.now()
        with self._database.transaction(write=True) as connection:
            result = connection.execute(
                update(TOKENS)
                .where(
                    TOKENS.c.token_hash == token_digest(token),
                    TOKENS.c.purpose == purpose,
                    TOKENS.c.used_at.is_(None),
                    TOKENS.c.expires_at > moment,
                )
                .values(used_at=moment)
            )
            return result.rowcount == 1

    # -- login throttling ------------------------------------------------------------

    def locked_until(self, keys: Iterable[str]) -> datetime | None:
        """The latest lock still in force among ``keys`` (``None`` when none is locked)."""
        moment = records.now()
        wanted = [key[:_MAX_KEY] for key in keys]
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                select(THROTTLE.c.locked_until).where(THROTTLE.c.key.in_(wanted))
            )
            locks = [row.locked_until for row in rows if row.locked_until is not None]
        current = [lock for lock in locks if lock > moment]
        return max(current) if current else None

    def register_failure(
        self, keys: Iterable[str], *, limit: int, window: timedelta, lock: timedelta
    ) -> datetime | None:
        """Count one failed login for each key; return the lock now in force, if any.

        A counter older than ``window`` starts again from one; reaching ``limit``
        failures locks the key for ``lock``.
        """
        moment = records.now()
        locks: list[datetime] = []
        with self._database.transaction(write=True) as connection:
            for raw in keys:
                key = raw[:_MAX_KEY]
                row = connection.execute(select(THROTTLE).where(THROTTLE.c.key == key)).first()
                if row is None or row.first_failure_at < moment - window:
                    failures, first = 1, moment
                else:
                    failures, first = row.failures + 1, row.first_failure_at
                locked = moment + lock if failures >= limit else None
                if row is not None and row.locked_until is not None and row.locked_until > moment:
                    locked = row.locked_until if locked is None else max(locked, row.locked_until)
                values = {"failures": failures, "first_failure_at": first, "locked_until": locked}
                if row is None:
                    connection.execute(insert(THROTTLE).values(key=key, **values))
                else:
                    connection.execute(update(THROTTLE).where(THROTTLE.c.key == key).values(values))
                if locked is not None:
                    locks.append(locked)
        return max(locks) if locks else None

    def clear_failures(self, keys: Iterable[str]) -> None:
        """Forget the failures of ``keys`` (after a successful login)."""
        wanted = [key[:_MAX_KEY] for key in keys]
        with self._database.transaction(write=True) as connection:
            connection.execute(delete(THROTTLE).where(THROTTLE.c.key.in_(wanted)))
