"""Fixtures of the store tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL tests use the server on 127.0.0.1:5432 (database ``test``, trust
authentication, user ``postgres`` or ``root``); each test gets its own schema, dropped
at teardown, so parallel runs do not collide.  Without a server they are skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, exc, text
from store_sample import STRUCTURES

from tierslieux.store import Repositories, dispose_engine, open_repositories, upgrade

PG_HOST = "127.0.0.1:5432"
PG_USERS = ("postgres", "root")
PG_SKIP = "PostgreSQL absent sur 127.0.0.1:5432 : tests du mode serveur ignorés"

MakeUrl = Callable[[], str]


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    """URL of the PostgreSQL test database; skips the test when no server answers."""
    errors = []
    for user in PG_USERS:
        url = f"postgresql+psycopg://{user}@{PG_HOST}/test"
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except exc.OperationalError as error:
            errors.append(str(error.orig))
            continue
        finally:
            engine.dispose()
        return url
    pytest.skip(PG_SKIP)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the backend the test runs on."""
    return str(request.param)


@pytest.fixture
def make_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MakeUrl]:
    """Factory of URLs of fresh, empty databases on the test's backend."""
    if backend == "sqlite":
        counter = iter(range(1_000))
        yield lambda: f"sqlite:///{tmp_path / f'store{next(counter)}.sqlite'}"
        return
    base = request.getfixturevalue("pg_base_url")
    admin = create_engine(base)
    schemas: list[str] = []

    def fresh() -> str:
        schema = f"t_{uuid.uuid4().hex}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        return f"{base}?options=-csearch_path%3D{schema}"

    yield fresh
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def make_store(make_url: MakeUrl) -> Iterator[Callable[[], Repositories]]:
    """Factory of stores on fresh, upgraded databases, holding the three test structures."""
    urls: list[str] = []

    def fresh() -> Repositories:
        url = make_url()
        upgrade(url)
        store = open_repositories(url)
        store.structures.upsert_structures(STRUCTURES)
        urls.append(url)
        return store

    yield fresh
    for url in urls:
        dispose_engine(url)


@pytest.fixture
def store(make_store: Callable[[], Repositories]) -> Repositories:
    """An open store on a fresh database with the three test structures."""
    return make_store()
