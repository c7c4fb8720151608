"""Schema creation and upgrade through the bundled Alembic migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from store_sample import CAE, STRUCTURES

from tierslieux.errors import StoreError
from tierslieux.store import StoreUnavailableError, StoreVersionError, open_store
from tierslieux.store._schema import Base

TABLES = {
    "structures",
    "contacts",
    "contact_events",
    "people",
    "survey_respondents",
    "alembic_version",
}


def test_empty_database_is_created_at_head(make_url, tmp_path: Path) -> None:
    url = make_url()
    with open_store(url, default_path=tmp_path / "x.sqlite"):
        pass
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
            assert MigrationContext.configure(connection).get_current_revision() == "0002"
            # The ORM models and the migrations describe the same schema.
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_reopening_is_idempotent_and_keeps_data(make_url, tmp_path: Path) -> None:
    url = make_url()
    with open_store(url, default_path=tmp_path / "x.sqlite") as store:
        store.upsert_structures(STRUCTURES)
        store.set_status(CAE, "contacte", author="alice")
    for _ in range(2):
        with open_store(url, default_path=tmp_path / "x.sqlite") as store:
            view = store.get_contact(CAE)
            assert view.status == "contacte"
            assert len(view.history) == 1


def test_newer_unknown_revision_is_refused(make_url, tmp_path: Path) -> None:
    url = make_url()
    with open_store(url, default_path=tmp_path / "x.sqlite"):
        pass
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(StoreVersionError, match="version plus récente"):
            open_store(url, default_path=tmp_path / "x.sqlite")
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "9999"
    finally:
        engine.dispose()


def test_default_path_is_a_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "sub" / "contacts.sqlite"
    with open_store(None, default_path=path) as store:
        assert store.backend == "sqlite"
        store.upsert_structures(STRUCTURES)
    assert path.is_file()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_sqlite_foreign_keys_and_busy_timeout_are_on(tmp_path: Path) -> None:
    with open_store(None, default_path=tmp_path / "c.sqlite") as store:
        engine = store._engine
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_unsupported_url_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="non prise en charge"):
        open_store("mysql://someone@localhost/db", default_path=tmp_path / "x.sqlite")


def test_unreachable_server_is_a_store_error_not_a_traceback(tmp_path: Path) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    with pytest.raises(StoreError, match="Impossible d'ouvrir la base") as caught:
        open_store(url, default_path=tmp_path / "x.sqlite")
    assert "secret" not in str(caught.value)
