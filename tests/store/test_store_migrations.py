"""Schema creation and upgrade through the bundled Alembic migrations (explicit step)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from store_sample import CAE, STRUCTURES

from tierslieux.errors import StoreError
from tierslieux.store import (
    Repositories,
    StoreUnavailableError,
    StoreVersionError,
    dispose_engine,
    engine_for,
    ensure_schema,
    head_revision,
    open_database,
    open_repositories,
    schema_status,
    upgrade,
)
from tierslieux.store import _engine as engine_module
from tierslieux.store._engine import MIGRATIONS
from tierslieux.store._schema import Base

TABLES = {
    "structures",
    "contacts",
    "contact_events",
    "people",
    "survey_respondents",
    "users",
    "scenarios",
    "runs",
    "run_results",
    "store_secrets",
    "erasure_tombstones",
    "projects",
    "project_members",
    "project_datasets",
    "project_runs",
    "audit_log",
    "setup_tokens",
    "login_throttle",
    "survey_campaigns",
    "campaign_invitations",
    "alembic_version",
}


@pytest.fixture
def fresh_url(make_url):
    """A URL of an empty database; its engine is forgotten at teardown."""
    url = make_url()
    yield url
    dispose_engine(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _alembic(url: str, action: str, revision: str) -> None:
    engine = engine_for(url)
    with engine.connect() as connection, connection.begin():
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_empty_database_is_created_at_head(fresh_url) -> None:
    assert upgrade(fresh_url) == head_revision() == "0007"
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TABLES
            assert MigrationContext.configure(connection).get_current_revision() == "0007"
            # The ORM models and the migrations describe the same schema.
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_opening_a_store_does_not_migrate(fresh_url) -> None:
    store = open_repositories(fresh_url)
    assert store.database.backend in {"sqlite", "postgresql"}
    assert "structures" not in _tables(fresh_url)
    status = schema_status(fresh_url)
    assert (status.current, status.head, status.up_to_date) == (None, "0007", False)


def test_upgrade_is_idempotent_and_keeps_data(fresh_url) -> None:
    upgrade(fresh_url)
    store = open_repositories(fresh_url)
    store.structures.upsert_structures(STRUCTURES)
    store.contacts.set_status(CAE, "contacte", author="alice")
    for _ in range(2):
        assert upgrade(fresh_url) == "0007"
        view = open_repositories(fresh_url).contacts.get_contact(CAE)
        assert view.status == "contacte"
        assert len(view.history) == 1


def test_upgrade_from_the_previous_revision_keeps_contacts_and_answers(fresh_url) -> None:
    _alembic(fresh_url, "upgrade", "0002")
    assert schema_status(fresh_url).current == "0002"
    assert "users" not in _tables(fresh_url)
    store = open_repositories(fresh_url)
    store.structures.upsert_structures(STRUCTURES)
    store.contacts.add_note(CAE, "avant la mise à jour", author="alice")
    with pytest.raises(StoreVersionError, match="tierslieux db upgrade"):
        ensure_schema(fresh_url, upgrade_if_behind=False)
    ensure_schema(fresh_url)
    assert schema_status(fresh_url).up_to_date
    assert _tables(fresh_url) >= TABLES
    assert store.contacts.get_contact(CAE).history[0].text == "avant la mise à jour"


def test_newer_unknown_revision_is_refused(fresh_url) -> None:
    upgrade(fresh_url)
    engine = create_engine(fresh_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(StoreVersionError, match="version plus récente"):
            upgrade(fresh_url)
        dispose_engine(fresh_url)  # forget the check made by the first upgrade
        with pytest.raises(StoreVersionError, match="version plus récente"):
            ensure_schema(fresh_url)
        assert not schema_status(fresh_url).known
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "9999"
    finally:
        engine.dispose()


def test_one_engine_per_database_and_process(make_url) -> None:
    url = make_url()
    barrier = threading.Barrier(8)

    def get(_index: int) -> object:
        barrier.wait()
        return engine_for(url)

    with ThreadPoolExecutor(max_workers=8) as pool:
        engines = list(pool.map(get, range(8)))
    assert all(engine is engines[0] for engine in engines)
    assert open_database(url).engine is engines[0]
    dispose_engine(url)
    assert engine_for(url) is not engines[0]
    dispose_engine(url)


def test_driverless_postgresql_url_shares_the_psycopg_engine() -> None:
    plain = "postgresql://someone@127.0.0.1:1/none"
    try:
        assert engine_for(plain) is engine_for("postgresql+psycopg://someone@127.0.0.1:1/none")
    finally:
        dispose_engine(plain)


def test_schema_is_checked_once_per_process(fresh_url, monkeypatch) -> None:
    calls: list[str] = []
    original = engine_module.schema_status

    def counting(url: str):
        calls.append(url)
        return original(url)

    monkeypatch.setattr(engine_module, "schema_status", counting)
    ensure_schema(fresh_url)
    ensure_schema(fresh_url)
    ensure_schema(fresh_url)
    assert len(calls) == 1
    assert schema_status(fresh_url).up_to_date


def test_default_path_is_a_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "sub" / "contacts.sqlite"
    database = open_database(None, default_path=path)
    url = f"sqlite:///{path}"
    try:
        assert database.backend == "sqlite"
        upgrade(url)
        Repositories.over(database).structures.upsert_structures(STRUCTURES)
        assert path.is_file()
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        finally:
            engine.dispose()
    finally:
        dispose_engine(url)


def test_sqlite_foreign_keys_and_busy_timeout_are_on(tmp_path: Path) -> None:
    database = open_database(None, default_path=tmp_path / "c.sqlite")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    dispose_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")


def test_unsupported_url_is_explained() -> None:
    with pytest.raises(StoreUnavailableError, match="non prise en charge"):
        open_database("mysql://someone@localhost/db")


def test_unreachable_server_is_a_store_error_not_a_traceback() -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    try:
        for step in (upgrade, ensure_schema, schema_status):
            with pytest.raises(StoreError, match="Impossible d'ouvrir la base") as caught:
                step(url)
            assert "secret" not in str(caught.value)
    finally:
        dispose_engine(url)


def _respondent_columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {c["name"] for c in inspect(connection).get_columns("survey_respondents")}
    finally:
        engine.dispose()


def test_0007_adds_the_consent_language_and_keeps_the_answers(fresh_url) -> None:
    _alembic(fresh_url, "upgrade", "0006")
    assert "consent_language" not in _respondent_columns(fresh_url)
    engine = engine_for(fresh_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO survey_respondents (id, commune, questionnaire_version, "
                "consent_text, consented_at, answers, fingerprint, source, created_at, channel) "
                "VALUES ('r1', '05061', '1', 'texte', :at, '{}', 'f1', '', :at, 'en_ligne')"
            ),
            {"at": "2026-12-01 10:00:00"},
        )
    ensure_schema(fresh_url)
    assert schema_status(fresh_url).current == "0007"
    assert "consent_language" in _respondent_columns(fresh_url)
    [kept] = open_repositories(fresh_url).responses.list_responses()
    assert (kept.id, kept.consent_text, kept.consent_language) == ("r1", "texte", None)
    _alembic(fresh_url, "downgrade", "0006")
    assert "consent_language" not in _respondent_columns(fresh_url)
    assert schema_status(fresh_url).current == "0006"
