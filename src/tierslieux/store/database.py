"""The database a store lives in: the shared engine and the transaction helper.

Every repository (:mod:`~tierslieux.store.structures`, :mod:`~tierslieux.store.contacts`,
:mod:`~tierslieux.store.people`, :mod:`~tierslieux.store.responses`,
:mod:`~tierslieux.store.users`, :mod:`~tierslieux.store.scenarios`,
:mod:`~tierslieux.store.runs`) is a small class over one :class:`Database`; each
public method of a repository is one transaction opened with
:meth:`Database.transaction`.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

from sqlalchemy import exc

from tierslieux.errors import StoreError
from tierslieux.i18n import gettext as _
from tierslieux.store._engine import WRITE, describe_url, engine_for, write_lock
from tierslieux.store._errors import StoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Connection, Engine

__all__ = ["Database", "open_database", "sqlite_url"]


def sqlite_url(path: Path) -> str:
    """Return the URL of the SQLite file ``path``, creating its folder.

    Raises
    ------
    StoreUnavailableError
        When the folder cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreUnavailableError(
            _(
                "Impossible de créer le dossier de la base {path} : {error}.",
                path=path.parent,
                error=error,
            )
        ) from error
    return f"sqlite:///{path}"


def open_database(url: str | None, *, default_path: Path | None = None) -> Database:
    """Return the :class:`Database` at ``url`` over the process-wide engine.

    Changes nothing in the database (no migration: see
    :func:`~tierslieux.store.upgrade` and :func:`~tierslieux.store.ensure_schema`).

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite:///path/contacts.sqlite`` or
        ``postgresql+psycopg://user@host:5432/base`` (``postgresql://`` is read as
        psycopg; ``?options=-csearch_path%3Dmy_schema`` selects a schema).  ``None``
        uses the SQLite file ``default_path``.
    default_path
        The SQLite file used when ``url`` is ``None``; its folder is created.

    Raises
    ------
    StoreUnavailableError
        When the URL is unreadable or unsupported, or the folder cannot be created.
    """
    if url is None:
        if default_path is None:
            msg = "open_database needs a URL or a default path"
            raise ValueError(msg)
        url = sqlite_url(default_path)
    return Database(engine_for(url))


class Database:
    """One database (SQLite file or PostgreSQL server) and its transactions.

    Thread-safe: each transaction uses its own pooled connection.  The engine is
    shared by the whole process (:func:`~tierslieux.store.engine_for`), so a
    :class:`Database` is cheap to build and needs no closing.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (shared by the process)."""
        return self._engine

    @property
    def url(self) -> str:
        """Database URL, password hidden."""
        return describe_url(self._engine.url.render_as_string(hide_password=False))

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction; database errors become French :class:`StoreError`.

        Parameters
        ----------
        write
            ``True`` for a transaction that writes: on SQLite it takes the write
            lock at once (``BEGIN IMMEDIATE``), so writers queue instead of failing.
            Read transactions see one snapshot (``REPEATABLE READ`` on PostgreSQL).
        """
        queue = write_lock(self._engine) if write else None
        try:
            with queue or nullcontext(), self._engine.connect() as connection:
                if write:
                    connection.execution_options(**{WRITE: True})
                elif connection.dialect.name == "postgresql":
                    # One snapshot for a record, its history and its people.
                    connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
        except exc.OperationalError as error:
            raise StoreUnavailableError(
                _(
                    "La base {url} ne répond pas ou refuse l'opération : {error}",
                    url=self.url,
                    error=str(error.orig).strip(),
                )
            ) from error
        except exc.DBAPIError as error:
            raise StoreError(
                _(
                    "La base {url} a refusé l'écriture, rien n'a été enregistré : {error}",
                    url=self.url,
                    error=str(error.orig).strip(),
                )
            ) from error
