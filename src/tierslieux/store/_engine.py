"""Engines for SQLite and PostgreSQL, and the programmatic Alembic upgrade."""

from __future__ import annotations

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

__all__ = ["MIGRATIONS", "WRITE", "create_store_engine", "describe_url", "migrate"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Execution option marking a connection whose transaction will write: on SQLite it
#: starts with ``BEGIN IMMEDIATE`` so that writers queue on the lock (busy_timeout)
#: instead of failing when a read transaction tries to become a write one.
WRITE = "tierslieux_write"
#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 60
#: Key of the PostgreSQL advisory lock that serialises concurrent schema upgrades.
_MIGRATION_LOCK_KEY = 7_401_633_201


def describe_url(url: str) -> str:
    """Return the URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def _normalise(url: str) -> str:
    """Resolve driver-less URLs to the drivers the project ships (psycopg 3)."""
    parsed = make_url(url)
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


def create_store_engine(url: str) -> Engine:
    """Create the engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    Raises
    ------
    StoreUnavailableError
        When the URL names a backend the store does not support.
    """
    try:
        normalised = _normalise(url)
        backend = make_url(normalised).get_backend_name()
    except exc.ArgumentError as error:
        raise StoreUnavailableError(
            _("Adresse de base de données illisible : {url} ({error}).", url=url, error=error)
        ) from error
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


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema to the latest revision, in one transaction.

    Parameters
    ----------
    engine
        Engine made by :func:`create_store_engine`.

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
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        msg = "no migration found"
        raise RuntimeError(msg)
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
                    raise StoreVersionError(
                        _(
                            "La base {url} a été créée ou mise à jour par une version plus "
                            "récente de tierslieux (révision de schéma {current} inconnue, "
                            "cette version connaît jusqu'à {head}). Mettez tierslieux à jour ; "
                            "la base n'a pas été modifiée.",
                            url=describe_url(str(engine.url)),
                            current=current,
                            head=head,
                        )
                    ) from error
            if current != head:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    return head
