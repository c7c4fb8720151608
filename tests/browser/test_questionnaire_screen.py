"""The questionnaire screen in Chromium, against the application served on loopback.

A chargé de mission imports a hand-written Google Forms export
(``tests/data/survey/google_forms_demo.csv``) on a project of the demo territory,
reviews the mapping, sees every rejected line, then the typology and the map of the
candidate base communities.  Each test ends on the page its screenshot shows; every
page passes axe-core without serious or critical violations.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import pytest

from tierslieux.config import Settings
from tierslieux.pipeline.accounts import add_user
from tierslieux.pipeline.database import open_store
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.projects import TerritoryIndex, create_project
from tierslieux.pipeline.workspace import build_workspace
from tierslieux.store import dispose_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

EXPORT = Path(__file__).resolve().parents[1] / "data" / "survey" / "google_forms_demo.csv"
PASSWORD = "mot de passe du navigateur"  # noqa: S105 - test data
CHARGE = "charge@exemple.fr"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AppServer:
    """The application (``create_app``) served by uvicorn in a thread, on 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        uvicorn = pytest.importorskip("uvicorn")
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                msg = "the application did not start"
                raise RuntimeError(msg)
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def questionnaire_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The application on the demo workspace, a chargé de mission and a project on an EPCI."""
    from tierslieux.web.app import create_app  # noqa: PLC0415 - the web extra
    from tierslieux.web.settings import WebSettings  # noqa: PLC0415

    root = tmp_path_factory.mktemp("questionnaire-app")
    workspace = root / "workspace"
    built = build_workspace(
        Settings(cache_dir=root / "cache", offline=True), workspace, InputFiles(demo=True)
    )
    url = f"sqlite:///{root / 'web.sqlite'}"
    core = Settings(database_url=url, cache_dir=root / "cache", offline=True)
    repos = open_store(core)
    user = add_user(repos, CHARGE, role="charge_de_mission", actor="test", password=PASSWORD)
    project = create_project(
        repos,
        name="Questionnaire du Val",
        territory="epci:000000001",
        index=TerritoryIndex.from_workspace(built),
        actor=user,
    )
    app = create_app(WebSettings(core=core, secret_key="b" * 40, workspace=workspace))
    with AppServer(app) as server:
        yield server.url, project.id
    dispose_engine(url)


def _log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/connexion")
    page.fill("#champ-login", CHARGE)
    page.fill("#champ-password", PASSWORD)
    page.click("button[type=submit]:not(.secondaire)")
    page.wait_for_url(f"{base}/projets")


def _review(page: Any, base: str, project: int) -> None:
    page.goto(f"{base}/projets/{project}")
    page.click("ul.ecrans >> text=Questionnaire")
    page.wait_for_url(f"{base}/projets/{project}/questionnaire")
    page.set_input_files("#champ-file", str(EXPORT))
    page.click("text=Déposer et voir la correspondance")
    page.wait_for_selector("#champ-correspondance")


def _open_results(page: Any, base: str, project: int) -> None:
    """Log in and open the questionnaire screen, importing the export when run alone."""
    _log_in(page, base)
    page.goto(f"{base}/projets/{project}/questionnaire")
    if "Aucune réponse pour l'instant" in page.inner_text("main"):
        _review(page, base, project)
        page.click("text=Importer les réponses")
        page.wait_for_selector("text=Lignes rejetées")
        page.goto(f"{base}/projets/{project}/questionnaire")


def test_import_review_shows_the_mapping(browser_page, axe_check, questionnaire_app) -> None:
    base, project = questionnaire_app
    _log_in(browser_page, base)
    _review(browser_page, base, project)
    assert "Google Forms" in browser_page.inner_text("main")
    assert "commune_residence" in browser_page.input_value("#champ-correspondance")
    axe_check(browser_page)
    assert not browser_page.errors
    assert not browser_page.outside_requests()


def test_import_lists_every_rejected_line(browser_page, axe_check, questionnaire_app) -> None:
    base, project = questionnaire_app
    _log_in(browser_page, base)
    _review(browser_page, base, project)
    browser_page.click("text=Importer les réponses")
    browser_page.wait_for_selector("text=Lignes rejetées")
    text = browser_page.inner_text("main")
    assert "6 enregistrée(s), 2 ligne(s) rejetée(s)" in text
    assert "Atlantis" in text
    assert "réponse obligatoire manquante" in text
    axe_check(browser_page)
    assert not browser_page.errors


def test_results_show_the_typology_and_the_groups_map(
    browser_page, axe_check, questionnaire_app
) -> None:
    base, project = questionnaire_app
    _open_results(browser_page, base, project)
    main = browser_page.inner_text("main")
    assert "Typologie comparée au profil de référence de l'étude" in main
    assert "Secteur des TIC" in main
    assert browser_page.locator('svg[aria-label="Typologie"] rect').count() >= 4
    browser_page.wait_for_selector('#carte-groupes[data-map-state="ready"]')
    assert browser_page.get_attribute("#carte-groupes", "data-indicator") == "membres_candidats"
    groups = browser_page.locator("#groupes ~ .defile table").first.inner_text()
    assert "Bourg-Fictif (FICTIF)" in groups
    assert "Territoire FICTIF de démonstration" in browser_page.inner_text(".alerte")
    axe_check(browser_page)
    assert not browser_page.errors, browser_page.errors
    assert not browser_page.outside_requests()


def test_every_question_and_the_comments(browser_page, axe_check, questionnaire_app) -> None:
    base, project = questionnaire_app
    _open_results(browser_page, base, project)
    browser_page.click("text=Voir les effectifs et parts de chaque question")
    browser_page.wait_for_selector("#commentaires")
    main = browser_page.inner_text("main")
    assert "Dans quelle commune habitez-vous ?" in main
    # the comments are text: the script typed by a respondent never runs
    assert "<script>alert('xss')</script>" in main
    assert "<img src=x onerror=alert(1)>" in main
    assert "jeanne.essai@exemple.fr" not in main
    axe_check(browser_page)
    assert not browser_page.errors, browser_page.errors
