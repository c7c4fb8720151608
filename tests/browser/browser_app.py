"""The application served on loopback for the browser journeys (not a test module).

:func:`serve_demo_application` builds the demo workspace and a fresh SQLite store in a
folder, adds the given users, and serves ``create_app`` with uvicorn on a free
loopback port while the ``with`` block runs; :func:`log_in_and_create_project` walks a
user through the login and the creation of a project on the demo territory.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tierslieux.config import Settings
from tierslieux.i18n import PARIS
from tierslieux.pipeline.accounts import add_user
from tierslieux.pipeline.campaigns import CampaignRequest, create_campaign
from tierslieux.pipeline.database import open_store
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.projects import TerritoryIndex, create_project
from tierslieux.pipeline.workspace import Workspace, build_workspace
from tierslieux.store import dispose_engine
from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path


@dataclass(frozen=True)
class Served:
    """The served application: its base URL, the app, its store and its workspace."""

    url: str
    app: Any
    repos: Any
    workspace: Path


@contextmanager
def serve_demo_application(
    root: Path, users: Mapping[str, tuple[str, str]], *, run_workers: int = 2, lang: str = "fr"
) -> Iterator[Served]:
    """Serve the application over the demo workspace; ``users``: e-mail -> (role, password);
    ``lang``: the installation's language (``TIERSLIEUX_LANG``)."""
    cache = root / "cache"
    workspace = root / "workspace"
    build_workspace(Settings(cache_dir=cache, offline=True), workspace, InputFiles(demo=True))
    with serve_application(root, users, workspace, run_workers=run_workers, lang=lang) as served:
        yield served


@contextmanager
def serve_application(
    root: Path,
    users: Mapping[str, tuple[str, str]],
    workspace: Path,
    *,
    data_dir: Path | None = None,
    run_workers: int = 2,
    lang: str = "fr",
) -> Iterator[Served]:
    """Serve the application over ``workspace`` (registries in ``data_dir``, as
    ``TIERSLIEUX_DATA_DIR``), a fresh SQLite store in ``root`` and the given users."""
    uvicorn = pytest.importorskip("uvicorn")
    cache = root / "cache"
    url = f"sqlite:///{root / 'web.sqlite'}"
    settings = WebSettings(
        core=Settings(
            database_url=url, cache_dir=cache, offline=True, data_dir=data_dir, lang=lang
        ),
        secret_key="s" * 40,
        workspace=workspace,
        run_workers=run_workers,
    )
    repos = open_store(settings.core)
    for email, (role, password) in users.items():
        add_user(repos, email, role=role, actor="test", password=password)
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", app, repos, workspace)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        dispose_engine(url)


def log_in_and_create_project(
    page: Any, base: str, email: str, password: str, name: str, territory: str = "dep:00"
) -> None:
    """Log in as ``email``, then create the project ``name`` on ``territory``."""
    page.goto(f"{base}/connexion")
    page.fill("#champ-login", email)
    page.fill("#champ-password", password)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{base}/projets")
    page.goto(f"{base}/projets/nouveau")
    page.fill("#champ-q", territory)
    page.click("button:has-text('Chercher')")
    page.wait_for_selector(f"input[name=territory][value='{territory}']")
    page.check(f"input[name=territory][value='{territory}']")
    page.fill("#champ-name", name)
    page.click("button:has-text('Créer le projet')")
    page.wait_for_selector(f"h1:has-text('{name}')")


def open_demo_campaign(served: Served, email: str) -> tuple[Any, Any]:
    """A project on the demo territory and an open campaign of it, made by ``email``.

    The campaign opened yesterday and closes in 30 days (Paris days); returns the
    project and the campaign.
    """
    repos = served.repos
    user = repos.users.get_user(email)
    workspace = Workspace.open(served.workspace)
    project = create_project(
        repos,
        name="Démo",
        territory="dep:00",
        index=TerritoryIndex.from_workspace(workspace),
        actor=user,
    )
    settings = served.app.state.settings.core
    with project_inputs(repos, settings, project.id, workspace, mobpro=False) as inputs:
        pass  # loaded in memory
    today = datetime.now(PARIS).date()
    campaign = create_campaign(
        settings,
        repos,
        project,
        inputs,
        CampaignRequest(
            title="Un tiers-lieu près de chez vous ?",
            opens=(today - timedelta(days=1)).isoformat(),
            closes=(today + timedelta(days=30)).isoformat(),
            controller_name="Communauté de communes de démonstration",
            controller_contact="dpo@exemple.fr",
            purpose="Étudier la création d'un tiers-lieu sur le territoire.",
            retention_months="12",
        ),
        actor=user,
    )
    return project, campaign
