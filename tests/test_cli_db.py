"""``tierslieux db`` and the store's lifetime: one engine per process, explicit upgrades."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner, Result

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import StoreError
from tierslieux.pipeline.contacts import contact_store
from tierslieux.pipeline.database import database_url, open_store
from tierslieux.store import _engine as engine_module
from tierslieux.store import dispose_engine, head_revision

HEAD = head_revision()  # the newest migration: a new one must not break these tests

runner = CliRunner()

STRUCTURES_CSV = (
    "identifiant,nom,categorie,code_commune\nsiret:12345678900011,CAE Alpes,cae,05061\n"
)


@pytest.fixture
def url(tmp_path: Path):
    value = f"sqlite:///{tmp_path / 'base.sqlite'}"
    yield value
    dispose_engine(value)


def _env(url: str, tmp_path: Path) -> dict[str, str | None]:
    return {
        "TIERSLIEUX_DATABASE_URL": url,
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "COLUMNS": "200",
    }


def _db(url: str, tmp_path: Path, *args: str) -> Result:
    return runner.invoke(app, ["db", *args], env=_env(url, tmp_path))


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_schema_of_an_empty_sqlite_file(url: str, tmp_path: Path) -> None:
    status = _db(url, tmp_path, "status")
    assert status.exit_code == 0, status.output
    assert f"révision — (dernière connue : {HEAD}) — base vide" in status.stdout
    created = _db(url, tmp_path, "upgrade")
    assert created.exit_code == 0, created.output
    assert f"schéma créé (révision {HEAD})" in created.stdout
    assert {"structures", "contacts", "users", "scenarios", "runs", "run_results"} <= _tables(url)
    again = _db(url, tmp_path, "upgrade")
    assert f"schéma déjà à jour (révision {HEAD})" in again.stdout
    assert (
        f"révision {HEAD} (dernière connue : {HEAD}) — à jour"
        in _db(url, tmp_path, "status").stdout
    )


def test_db_upgrade_option_names_the_database(tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'autre.sqlite'}"
    try:
        result = runner.invoke(
            app,
            ["db", "upgrade", "--database-url", other],
            env=_env(f"sqlite:///{tmp_path / 'base.sqlite'}", tmp_path),
        )
        assert result.exit_code == 0, result.output
        assert "autre.sqlite" in result.stdout
        assert "users" in _tables(other)
        assert not (tmp_path / "base.sqlite").exists()
    finally:
        dispose_engine(other)


def test_a_database_of_a_newer_version_is_refused_by_every_command(
    url: str, tmp_path: Path
) -> None:
    assert _db(url, tmp_path, "upgrade").exit_code == 0
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    dispose_engine(url)  # a new process
    for result in (
        _db(url, tmp_path, "upgrade"),
        runner.invoke(app, ["contacts", "list"], env=_env(url, tmp_path)),
    ):
        assert result.exit_code == 1, result.output
        assert "version plus récente de tierslieux" in result.output
        assert "Traceback" not in result.output
    assert "écrite par une version plus récente" in _db(url, tmp_path, "status").stdout


def test_second_store_reuses_the_engine_and_does_not_migrate(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    original = engine_module.migrate

    def counting(engine):
        calls.append(engine)
        return original(engine)

    monkeypatch.setattr(engine_module, "migrate", counting)
    settings = Settings(offline=True, cache_dir=tmp_path / "cache", database_url=url)
    with contact_store(settings) as first:
        engine = first.database.engine
    assert len(calls) == 1  # first use: the empty database is created
    with contact_store(settings) as second:
        assert second.database.engine is engine
    assert open_store(settings).database.engine is engine
    assert len(calls) == 1


def test_the_command_line_upgrades_on_first_use(url: str, tmp_path: Path) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(STRUCTURES_CSV, encoding="utf-8")
    result = runner.invoke(app, ["contacts", "load", str(structures)], env=_env(url, tmp_path))
    assert result.exit_code == 0, result.output
    assert "1 nouvelles" in result.stdout
    assert "users" in _tables(url)


def test_open_store_without_upgrade_refuses_an_empty_database(tmp_path: Path) -> None:
    settings = Settings(
        offline=True,
        cache_dir=tmp_path / "cache",
        database_url=f"sqlite:///{tmp_path / 'vide.sqlite'}",
    )
    try:
        with pytest.raises(StoreError, match="tierslieux db upgrade"):
            open_store(settings, upgrade=False)
    finally:
        dispose_engine(database_url(settings))
