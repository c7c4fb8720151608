"""Where the operational store is and how it is opened, for every use case.

The database is named by the :class:`~tierslieux.config.Settings`: ``database_url``
when set (``TIERSLIEUX_DATABASE_URL``), otherwise the SQLite file
``$XDG_DATA_HOME/tierslieux/contacts.sqlite`` (``~/.local/share/tierslieux/...``).
It lives in the *data* folder, not the cache: contact history is user data, and a
cache may be emptied at any time.  Fictional (demo) data go to
``<cache>/demo/demo.sqlite`` instead, unless a ``database_url`` is set.

Opening is cheap: one engine per database and process.  :func:`open_store` checks
the schema once per process and upgrades it when behind (what the command line
does on first use); :func:`upgrade_database` is the explicit step of
``tierslieux db upgrade``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tierslieux.store import (
    Repositories,
    SchemaStatus,
    ensure_schema,
    open_repositories,
    schema_status,
    sqlite_url,
    upgrade,
)

if TYPE_CHECKING:
    from tierslieux.config import Settings

__all__ = [
    "Repositories",
    "SchemaStatus",
    "database_status",
    "database_url",
    "default_database_path",
    "demo_database_path",
    "open_store",
    "upgrade_database",
]


def default_database_path() -> Path:
    """Return the default SQLite file of the store (XDG data folder).

    ``$XDG_DATA_HOME/tierslieux/contacts.sqlite``, or
    ``~/.local/share/tierslieux/contacts.sqlite`` when the variable is unset.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tierslieux" / "contacts.sqlite"


def demo_database_path(settings: Settings) -> Path:
    """Return the SQLite file of the demonstration store: ``<cache>/demo/demo.sqlite``.

    Fictional answers (``demo=True``) never go into the user's real store: they live
    in the cache, which may be emptied at any time.
    """
    return Path(settings.cache_dir) / "demo" / "demo.sqlite"


def database_url(settings: Settings, *, demo: bool = False) -> str:
    """Return the URL of the store named by ``settings`` (creating a SQLite file's folder).

    Raises
    ------
    StoreUnavailableError
        When the folder of the default SQLite file cannot be created.
    """
    if settings.database_url:
        return settings.database_url
    return sqlite_url(demo_database_path(settings) if demo else default_database_path())


def open_store(settings: Settings, *, demo: bool = False, upgrade: bool = True) -> Repositories:
    """Return the repositories of the store named by ``settings``.

    The first call of the process for a database reads its schema revision and, when
    it is behind (or the database is new), upgrades it; later calls change nothing
    and reuse the same engine.

    Parameters
    ----------
    demo
        Without ``database_url``, open the demonstration store of
        :func:`demo_database_path` instead of the default one.
    upgrade
        ``False`` refuses a schema that is behind instead of upgrading it (for a
        long-lived server whose schema is upgraded as a deployment step).

    Raises
    ------
    StoreError
        When the database cannot be reached, was written by a newer version, or
        (``upgrade=False``) is behind.
    """
    url = database_url(settings, demo=demo)
    ensure_schema(url, upgrade_if_behind=upgrade)
    return open_repositories(url)


def upgrade_database(settings: Settings, *, demo: bool = False) -> SchemaStatus:
    """Create or upgrade the schema of the store (``tierslieux db upgrade``).

    Returns
    -------
    SchemaStatus
        The revision before the upgrade (``current``) and the one reached (``head``).

    Raises
    ------
    StoreError
        When the database cannot be reached or was written by a newer version.
    """
    url = database_url(settings, demo=demo)
    before = schema_status(url)
    upgrade(url)
    return before


def database_status(settings: Settings, *, demo: bool = False) -> SchemaStatus:
    """Return the schema revision of the store and the latest one (changes nothing).

    Raises
    ------
    StoreUnavailableError
        When the database cannot be reached.
    """
    return schema_status(database_url(settings, demo=demo))
