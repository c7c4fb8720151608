"""Engines for SQLite and PostgreSQL: one per database per process, and the migrations.

:func:`engine_for` returns the process-wide engine of a URL (created on first use,
thread-safe, disposed when the process exits).  Opening a store never changes its
schema: :func:`upgrade` is the explicit step (``tierslieux db upgrade``), and
:func:`ensure_schema` is what the command line runs on first use — it reads the
schema revision once per process and database, upgrades when behind, refuses a
database written by a newer version.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import make_url

from tierslieux.i18n import gettext as _
from tierslieux.store._errors import StoreUnavailableError, StoreVersionError

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "MIGRATIONS",
    "WRITE",
    "SchemaStatus",
    "create_store_engine",
    "describe_url",
    "dispose_engine",
    "dispose_engines",
    "engine_for",
    "ensure_schema",
    "head_revision",
    "migrate",
    "schema_status",
    "upgrade",
    "write_lock",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Execution option marking a connection whose transaction will write: on SQLite it
#: starts with ``BEGIN IMMEDIATE`` so that writers queue on the lock (busy_timeout)
#: instead of failing when a read transaction tries to become a write one.
WRITE = "tierslieux_write"
#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 60
#: Key of the PostgreSQL advisory lock that serialises concurrent schema upgrades.
_MIGRATION_LOCK_KEY = 7_401_633_201

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
#: One lock per SQLite engine that the process's writers take before ``BEGIN
#: IMMEDIATE``: they queue on it in turn, instead of polling SQLite's lock with the
#: growing sleeps of busy_timeout (up to 100 ms each), which made the slowest of 20
#: concurrent writers wait a second.  Other processes still queue on busy_timeout.
_write_locks: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
#: Normalised URLs whose schema :func:`ensure_schema` found (or made) current.
_checked: set[str] = set()


def describe_url(url: str) -> str:
    """Return the URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def _normalise(url: str) -> str:
    """Resolve driver-less URLs to the drivers the project ships (psycopg 3)."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise StoreUnavailableError(
            _("Adresse de base de données illisible : {url} ({error}).", url=url, error=error)
        ) from error
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
    del record
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own transaction
    # handling does not cover DDL, which the migrations need transactional).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    # FULL: a committed contact change survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    writing = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def write_lock(engine: Engine) -> threading.RLock | None:
    """The lock this process's writers take on a SQLite ``engine`` (``None``: PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return None
    with _lock:
        found = _write_locks.get(engine)
        if found is None:
            found = _write_locks[engine] = threading.RLock()
        return found


def create_store_engine(url: str) -> Engine:
    """Create a new engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    Most callers want :func:`engine_for`, which shares one engine per process.

    Raises
    ------
    StoreUnavailableError
        When the URL is unreadable or names a backend the store does not support.
    """
    normalised = _normalise(url)
    backend = make_url(normalised).get_backend_name()
    if backend == "sqlite":
        connect_args: dict[str, Any] = {
            "timeout": SQLITE_BUSY_TIMEOUT_S,
            "check_same_thread": False,
        }
        engine = create_engine(normalised, connect_args=connect_args)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if backend == "postgresql":
        return create_engine(normalised, pool_pre_ping=True)
    raise StoreUnavailableError(
        _(
            "Base de données non prise en charge : {url}. Utilisez un fichier SQLite "
            "(sqlite:///chemin/contacts.sqlite) ou PostgreSQL "
            "(postgresql+psycopg://utilisateur@hôte/base).",
            url=describe_url(url),
        )
    )


def engine_for(url: str) -> Engine:
    """Return the process-wide engine of ``url``, creating it on first use.

    Thread-safe; ``postgresql://`` and ``postgresql+psycopg://`` share one engine.
    Engines are disposed when the process exits (or by :func:`dispose_engines`).

    Raises
    ------
    StoreUnavailableError
        When the URL is unreadable or names an unsupported backend.
    """
    key = _normalise(url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_store_engine(key)
            _engines[key] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url``'s engine and forget it (and its check)."""
    key = _normalise(url)
    with _lock:
        engine = _engines.pop(key, None)
        _checked.discard(key)
    if engine is not None:
        engine.dispose()


@atexit.register
def dispose_engines() -> None:
    """Close every engine of the process (run at exit)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
        _checked.clear()
    for engine in engines:
        engine.dispose()


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    """Return the latest schema revision this version of tierslieux knows."""
    head = _script().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        msg = "no migration found"
        raise RuntimeError(msg)
    return head


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Schema revision of a database compared with this version's latest one.

    ``current`` is ``None`` for an empty database.
    """

    url: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """Whether the schema is at the latest revision."""
        return self.current == self.head

    @property
    def known(self) -> bool:
        """Whether this version of tierslieux knows the current revision."""
        if self.current is None:
            return True
        try:
            _script().get_revision(self.current)
        except (RevisionError, CommandError):
            return False
        return True


def _unreachable(url: str, error: exc.DBAPIError) -> StoreUnavailableError:
    return StoreUnavailableError(
        _(
            "Impossible d'ouvrir la base {url} : {error}",
            url=describe_url(url),
            error=str(error.orig).strip(),
        )
    )


def _newer(url: str, current: str, head: str) -> StoreVersionError:
    return StoreVersionError(
        _(
            "La base {url} a été créée ou mise à jour par une version plus "
            "récente de tierslieux (révision de schéma {current} inconnue, "
            "cette version connaît jusqu'à {head}). Mettez tierslieux à jour ; "
            "la base n'a pas été modifiée.",
            url=describe_url(url),
            current=current,
            head=head,
        )
    )


def schema_status(url: str) -> SchemaStatus:
    """Read the schema revision of the database at ``url`` (changes nothing).

    Raises
    ------
    StoreUnavailableError
        When the database cannot be reached.
    """
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except exc.DBAPIError as error:
        raise _unreachable(url, error) from error
    return SchemaStatus(url=describe_url(url), current=current, head=head_revision())


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema of ``engine``'s database to the latest revision.

    One transaction (DDL included, also on SQLite), serialised between processes on
    PostgreSQL by an advisory lock.

    Returns
    -------
    str
        The revision the database is at afterwards.

    Raises
    ------
    StoreVersionError
        When the database is at a revision this version of tierslieux does not know
        (written by a newer version): it is left untouched.
    """
    script = _script()
    head = head_revision()
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None:
                try:
                    script.get_revision(current)
                except (RevisionError, CommandError) as error:
                    url = engine.url.render_as_string(hide_password=False)
                    raise _newer(url, current, head) from error
            if current != head:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    return head


def upgrade(url: str) -> str:
    """Create or upgrade the schema of the database at ``url`` (``tierslieux db upgrade``).

    Idempotent: a database already at the latest revision is left as it is.

    Returns
    -------
    str
        The revision the database is at afterwards.

    Raises
    ------
    StoreUnavailableError
        When the database cannot be reached, opened or created.
    StoreVersionError
        When the schema was written by a newer version of tierslieux.
    """
    engine = engine_for(url)
    try:
        head = migrate(engine)
    except exc.DBAPIError as error:
        raise _unreachable(url, error) from error
    with _lock:
        _checked.add(_normalise(url))
    return head


def ensure_schema(url: str, *, upgrade_if_behind: bool = True) -> None:
    """Make sure the schema at ``url`` is current, checking once per process.

    The first call for a database reads its revision; when it is behind (or the
    database is empty) it is upgraded, or, with ``upgrade_if_behind=False``, refused.
    Later calls return at once.

    Raises
    ------
    StoreUnavailableError
        When the database cannot be reached.
    StoreVersionError
        When the schema was written by a newer version of tierslieux, or is behind
        and ``upgrade_if_behind`` is false.
    """
    key = _normalise(url)
    with _lock:
        if key in _checked:
            return
    status = schema_status(url)
    if status.current is not None and not status.known:
        raise _newer(url, status.current, status.head)
    if not status.up_to_date:
        if not upgrade_if_behind:
            raise StoreVersionError(
                _(
                    "Le schéma de la base {url} n'est pas à jour (révision {current}, "
                    "attendue {head}) : mettez-la à jour avec « tierslieux db upgrade ».",
                    url=describe_url(url),
                    current=status.current or "—",
                    head=status.head,
                )
            )
        upgrade(url)
        return
    with _lock:
        _checked.add(key)
