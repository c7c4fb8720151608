"""Journey of the experimentation sites screen in Chromium, on the application itself.

A chargé de mission logs in, fills the scenario form of the demo project, launches the
run, follows its progress and sees the numbered sites on the map with their catchments;
launches another and cancels it; compares the saved scenarios.  Each page passes
axe-core (0 serious or critical violations); screenshots go to ``build/screenshots/``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_app import serve_demo_application

from tierslieux.i18n import format_number
from tierslieux.pipeline.projects import TerritoryIndex, create_project
from tierslieux.pipeline.workspace import Workspace

pytestmark = pytest.mark.browser

PASSWORD = "mot de passe du parcours"  # noqa: S105 - test data
EMAIL = "charge@exemple.fr"


@dataclass(frozen=True)
class LiveApp:
    url: str
    app: Any
    repos: Any
    project: int


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The application on loopback with the demo project (one worker: runs queue)."""
    root = tmp_path_factory.mktemp("parcours-sites")
    users = {EMAIL: ("charge_de_mission", PASSWORD)}
    with serve_demo_application(root, users, run_workers=1) as served:
        repos = served.repos
        index = TerritoryIndex.from_workspace(Workspace.open(served.workspace))
        user = repos.users.get_user(EMAIL)
        project = create_project(repos, name="Démo", territory="dep:00", index=index, actor=user)
        yield LiveApp(served.url, served.app, repos, project.id)


def _log_in(page: Any, live: LiveApp) -> None:
    page.goto(f"{live.url}/connexion")
    page.fill("#champ-login", EMAIL)
    page.fill("#champ-password", PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{live.url}/projets")


def _fill_scenario(page: Any, name: str, count: str) -> None:
    page.fill("#champ-name", name)
    page.fill("#champ-count", count)
    page.fill("#champ-time_limit", "10")


def test_scenario_form(browser_page: Any, live_app: LiveApp, axe_check: Any) -> None:
    page = browser_page
    _log_in(page, live_app)
    page.goto(f"{live_app.url}/projets/{live_app.project}")
    page.click("ul.ecrans a:has-text('Sites d')")
    page.wait_for_url(f"{live_app.url}/projets/{live_app.project}/sites")
    assert page.is_visible("#champ-count")
    # A typed error comes back on its field, with what was typed kept.
    _fill_scenario(page, "Erreur", "zéro")
    page.click("button[value=enregistrer]")
    page.wait_for_selector("#erreur-count")
    assert page.input_value("#champ-count") == "zéro"
    assert page.get_attribute("#champ-count", "aria-invalid") == "true"
    axe_check(page)
    # Chromium logs the form's own 422 answer as a console error: nothing else.
    assert all("status of 422" in e for e in page.errors), page.errors
    assert not page.outside_requests()


def test_run_a_site_selection_and_see_the_sites_on_the_map(
    browser_page: Any, live_app: LiveApp, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, live_app)
    page.goto(f"{live_app.url}/projets/{live_app.project}/sites")
    _fill_scenario(page, "Deux sites", "2")
    page.click("button[value=lancer]")
    page.wait_for_url(f"{live_app.url}/projets/{live_app.project}/sites/*")
    run_id = page.url.rsplit("/", 1)[1]
    assert live_app.app.state.runs.wait(run_id, 120)
    run = live_app.repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    page.reload()
    page.wait_for_selector('#carte-sites[data-map-state="ready"]')
    page.wait_for_selector('#carte-un-de-plus[data-map-state="ready"]')
    markers = page.locator("#carte-sites .carte-site")
    assert markers.count() == len(run.summary["sites"])
    assert markers.all_inner_texts() == [str(i) for i in range(1, markers.count() + 1)]
    # The table numbers the sites as the map does.
    first_cells = page.locator("#tableau-sites tbody tr td:first-child").all_inner_texts()
    assert first_cells == ["1", "2"]
    assert format_number(run.summary["objectif"]) in page.inner_text("main")
    assert "FICTIF" in page.inner_text(".alerte")
    # Clicking site 1 shows its catchment and its figures.
    markers.first.click()
    page.wait_for_selector("#carte-sites .carte-bassin")
    details = page.inner_text("#carte-sites .carte-detail")
    assert "site 1" in details
    assert "communes dans le bassin" in details
    assert page.get_attribute("#carte-un-de-plus", "data-indicator") == ("gain_site_supplementaire")
    axe_check(page)
    assert not page.errors, page.errors
    assert not page.outside_requests()


def test_start_another_run_and_cancel_it(
    browser_page: Any, live_app: LiveApp, axe_check: Any
) -> None:
    page = browser_page
    _log_in(page, live_app)
    # The application's one run worker is held by another computation, so that this
    # run waits its turn until it is cancelled: the demo run itself ends within a
    # second on an idle machine, before a click could reach it.
    held = threading.Event()
    busy = live_app.app.state.runs.runner.submit(lambda **_progress: held.wait(120))
    try:
        page.goto(f"{live_app.url}/projets/{live_app.project}/sites")
        _fill_scenario(page, "Cinq sites", "5")
        page.click("button[value=lancer]")
        page.wait_for_url(f"{live_app.url}/projets/{live_app.project}/sites/*")
        run_id = page.url.rsplit("/", 1)[1]
        page.wait_for_selector("progress")
        default = Path(__file__).resolve().parents[2] / "build" / "screenshots"
        shots = Path(os.environ.get("TIERSLIEUX_SCREENSHOTS", default))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "sites_calcul_en_cours.png"), full_page=True)
        axe_check(page)
        assert live_app.repos.runs.get_run(run_id).status == "queued"
        page.click("button:has-text('Annuler le calcul')")
        page.wait_for_selector("text=Calcul annulé")
        axe_check(page)
    finally:
        held.set()
    assert busy.wait(120)
    assert live_app.app.state.runs.wait(run_id, 120)
    assert live_app.repos.runs.get_run(run_id).status == "cancelled"
    assert not live_app.repos.runs.list_results(run_id)
    assert not page.errors, page.errors


def test_compare_the_saved_scenarios(browser_page: Any, live_app: LiveApp, axe_check: Any) -> None:
    page = browser_page
    _log_in(page, live_app)
    page.goto(f"{live_app.url}/projets/{live_app.project}/sites")
    for box in page.locator("input[name=ids]").all():
        box.check()
    page.click("button:has-text('Comparer les scénarios cochés')")
    page.wait_for_url(f"{live_app.url}/projets/{live_app.project}/scenarios/comparer*")
    text = page.inner_text("table.comparaison")
    assert "Deux sites" in text
    assert "Cinq sites" in text
    assert "Usagers potentiels couverts" in text
    axe_check(page)
    assert not page.errors, page.errors
