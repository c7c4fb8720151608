"""The base-communities and contacts screens in Chromium, against the application.

One application (``create_app``, uvicorn in a thread on loopback, SQLite store, the demo
workspace) with a project whose directory is built; two chargés de mission in two
browser contexts change the status of the same contact: the second sees the conflict
with both values.  Each page passes axe-core (no serious or critical violation) and is
written to ``build/screenshots/``.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import conftest
from conftest import SCREENSHOTS, is_loopback
from tierslieux.config import Settings
from tierslieux.pipeline.accounts import add_user
from tierslieux.pipeline.database import open_store
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.jobs import JobRunner
from tierslieux.pipeline.project_communities import start_directory
from tierslieux.pipeline.project_runs import ProjectRuns
from tierslieux.pipeline.projects import create_project, upload_dataset
from tierslieux.pipeline.workspace import build_workspace
from tierslieux.reports.communities import directory_files
from tierslieux.store import dispose_engine
from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings

if TYPE_CHECKING:
    from collections.abc import Iterator

PASSWORD = "mot de passe de test"  # noqa: S105 - test data
ACTORS = (
    "nom,categorie,code_commune,themes\n"
    "Coop Démo (FICTIVE),cae,00108,ess_cooperation\n"
    "SCIC Numérique Démo (FICTIVE),scop_scic_tic,00102,tic;communication\n"
    "Collectif coworking Démo (FICTIF),association_teleactivites,00103,tic\n"
    "Tiers-lieu Démo (FICTIF),tiers_lieu_existant,00101,tiers_lieu\n"
)
USERS = {"camille": "camille@exemple.fr", "dominique": "dominique@exemple.fr"}
#: Display names of the users (shown as authors, the login as title).
NAMES = {"camille": "Camille Martin", "dominique": "Dominique Roux"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def application(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    uvicorn = pytest.importorskip("uvicorn")
    root = tmp_path_factory.mktemp("application")
    core = Settings(
        database_url=f"sqlite:///{root / 'web.sqlite'}", cache_dir=root / "cache", offline=True
    )
    workspace = root / "workspace"
    build_workspace(core, workspace, InputFiles(demo=True))
    settings = WebSettings(core=core, secret_key="k" * 40, workspace=workspace)
    repos = open_store(core)
    users = [
        add_user(
            repos,
            email,
            role="charge_de_mission",
            actor="test",
            password=PASSWORD,
            display_name=NAMES[key],
        )
        for key, email in USERS.items()
    ]
    project = create_project(
        repos, name="Annuaire démo", territory="dep:00", index=None, actor=users[0]
    )
    repos.projects.add_member(project.id, users[1].id, actor="test")
    upload_dataset(
        repos,
        core,
        project.id,
        role="acteurs",
        filename="acteurs.csv",
        content=ACTORS.encode("utf-8"),
        actor=users[0],
    )
    runs = ProjectRuns(repos, JobRunner(max_workers=1))
    run = start_directory(
        runs, core, project, workspace=workspace, render=directory_files, actor=users[0]
    )
    assert runs.wait(run.id, timeout=120)
    assert repos.runs.get_run(run.id).status == "done"
    runs.shutdown()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "project": project.id}
    server.should_exit = True
    thread.join(timeout=10)
    dispose_engine(core.database_url or "")


def _context(browser: Any) -> Any:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.route(
        "**/*",
        lambda route: route.continue_() if is_loopback(route.request.url) else route.abort(),
    )
    return context


def _log_in(page: Any, url: str, email: str, target: str) -> None:
    page.goto(f"{url}/connexion?suivant={target}")
    page.fill("#champ-login", email)
    page.fill("#champ-password", PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{url}{target}")


def _shot(page: Any, name: str) -> Path:
    """A full-page screenshot, listed with those of the ``browser_page`` fixture."""
    written = conftest._written
    if not written and SCREENSHOTS.name == "screenshots":
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's pictures only
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    written.append(target)
    return target


def _contact_path(page: Any, url: str, project: int, name: str) -> str:
    page.goto(f"{url}/projets/{project}/communautes")
    link = page.get_by_role("link", name=f"Fiche « {name} »")
    return str(link.get_attribute("href"))


def test_directory_list_and_contact_pages(chromium_browser, application, axe_check) -> None:
    url, project = application["url"], application["project"]
    context = _context(chromium_browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _log_in(page, url, USERS["camille"], f"/projets/{project}/communautes")
        page.wait_for_selector(
            "#carte-annuaire[data-map-state=ready]", state="attached", timeout=30_000
        )
        assert page.get_attribute("#carte-annuaire", "data-points") == "6"
        assert page.locator("table[data-table] tbody tr").count() == 6
        page.select_option("#filtre-etape", "1")
        page.click("button:has-text('Filtrer')")
        page.wait_for_selector(
            "#carte-annuaire[data-map-state=ready]", state="attached", timeout=30_000
        )
        assert page.get_attribute("#carte-annuaire", "data-points") == "1"
        assert page.locator("table[data-table] tbody tr").count() == 1
        page.goto(f"{url}/projets/{project}/communautes")
        page.wait_for_selector(
            "#carte-annuaire[data-map-state=ready]", state="attached", timeout=30_000
        )
        axe_check(page)
        _shot(page, "communautes_annuaire")

        page.goto(f"{url}/projets/{project}/contacts")
        assert page.locator("table[data-table] tbody tr").count() == 6
        axe_check(page)
        _shot(page, "contacts_liste")

        path = _contact_path(page, url, project, "Coop Démo (FICTIVE)")
        page.goto(f"{url}{path}")
        page.fill("#champ-note", "Rencontrée au forum de l'emploi")
        page.click(".fiche-note button[type=submit]")
        page.wait_for_selector("text=Note ajoutée.")
        assert "Rencontrée au forum de l'emploi" in page.inner_text("table")
        # the author by display name, the login as title
        author = page.locator("table tbody tr").first.locator("td").nth(1)
        assert author.inner_text() == "Camille Martin"
        assert author.locator("span").get_attribute("title") == "camille"
        axe_check(page)
        _shot(page, "contact_fiche")
        assert errors == []
    finally:
        context.close()


def test_two_colleagues_change_the_same_status(chromium_browser, application, axe_check) -> None:
    url, project = application["url"], application["project"]
    first_context, second_context = _context(chromium_browser), _context(chromium_browser)
    try:
        first, second = first_context.new_page(), second_context.new_page()
        _log_in(first, url, USERS["camille"], f"/projets/{project}/contacts")
        _log_in(second, url, USERS["dominique"], f"/projets/{project}/contacts")
        path = _contact_path(first, url, project, "SCIC Numérique Démo (FICTIVE)")
        # both open the same contact, at the same version
        first.goto(f"{url}{path}")
        second.goto(f"{url}{path}")
        first.select_option("#champ-statut", label="intéressé")
        first.fill("#champ-statut-note", "Très motivée")
        second.select_option("#champ-statut", label="pas intéressé")
        second.fill("#champ-statut-note", "Pas disponible cette année")
        first.click(".fiche-statut button[type=submit]")
        first.wait_for_selector("text=Statut enregistré.")
        second.click(".fiche-statut button[type=submit]")
        conflict = second.locator(".conflit")
        conflict.wait_for()
        text = conflict.inner_text()
        assert "Conflit" in text
        assert "Camille Martin" in text  # who changed it, by display name
        assert "à contacter → intéressé" in text  # their value
        assert "pas intéressé" in text  # yours
        # nothing lost: your choice and note are in the re-apply form
        assert second.input_value("#reprise-champ-statut-note") == "Pas disponible cette année"
        assert (
            second.eval_on_selector(
                "#reprise-champ-statut", "el => el.options[el.selectedIndex].text"
            )
            == "pas intéressé"
        )
        axe_check(second)
        _shot(second, "contact_conflit")
        # re-applied knowingly, on the latest version
        second.click(".conflit button[type=submit]")
        second.wait_for_selector("text=Statut enregistré.")
        history = second.inner_text("table")
        assert "intéressé → pas intéressé" in history
        assert "à contacter → intéressé" in history
        _shot(second, "contact_apres_reprise")
    finally:
        first_context.close()
        second_context.close()
