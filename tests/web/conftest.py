"""Fixtures of the web application's tests: a temporary SQLite store, the demo workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import PASSWORD, SECRET

from tierslieux.config import Settings
from tierslieux.pipeline.accounts import LoginPolicy, add_user
from tierslieux.pipeline.database import open_store
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.workspace import build_workspace
from tierslieux.store import dispose_engine
from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory's workspace, built once."""
    folder = tmp_path_factory.mktemp("workspace")
    cache = tmp_path_factory.mktemp("cache")
    build_workspace(Settings(cache_dir=cache, offline=True), folder, InputFiles(demo=True))
    return folder


@pytest.fixture
def web_settings(tmp_path: Path, demo_workspace: Path) -> Iterator[WebSettings]:
    url = f"sqlite:///{tmp_path / 'web.sqlite'}"
    core = Settings(database_url=url, cache_dir=tmp_path / "cache", offline=True)
    yield WebSettings(
        core=core,
        secret_key=SECRET,
        workspace=demo_workspace,
        login_policy=LoginPolicy(account_failures=3, address_failures=10),
    )
    dispose_engine(url)


@pytest.fixture
def app(web_settings: WebSettings):
    return create_app(web_settings)


@pytest.fixture
def repos(web_settings: WebSettings):
    return open_store(web_settings.core)


@pytest.fixture
def display_names() -> dict[str, str]:
    """The users' display names by role: none here (each shows the first part of its
    login); a test module overrides this fixture to give them names of their own."""
    return {}


@pytest.fixture
def accounts(repos, display_names: dict[str, str]) -> dict[str, str]:
    """One user of each role: role -> e-mail address."""
    emails = {
        "administrateur": "admin@exemple.fr",
        "charge_de_mission": "charge@exemple.fr",
        "lecteur": "lecteur@exemple.fr",
    }
    for role, email in emails.items():
        add_user(
            repos,
            email,
            role=role,
            actor="test",
            password=PASSWORD,
            display_name=display_names.get(role),
        )
    return emails
