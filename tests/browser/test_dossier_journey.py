"""Journey in Chromium: the « Dossier » action of the project page, its progress, its files.

The application (``create_app``) is served by uvicorn on a loopback port, over a
temporary SQLite store and the demo workspace (issue 15).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_app import Served, log_in_and_create_project, serve_demo_application

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "dossier-web"

EMAIL = "charge@exemple.fr"
PASSWORD = "mot de passe du parcours"  # noqa: S105 - test data


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("application")
    with serve_demo_application(root, {EMAIL: ("charge_de_mission", PASSWORD)}) as served:
        yield served


def test_the_dossier_is_launched_from_the_project_page_and_downloaded(
    browser_page, served_app: Served, axe_check
) -> None:
    page = browser_page
    base = served_app.url
    log_in_and_create_project(page, base, EMAIL, PASSWORD, "Dossier démo")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dossier-projet.png"), full_page=True)

    page.click("button:has-text('Préparer le dossier du territoire')")
    page.wait_for_url(f"{base}/projets/*/calculs/*")
    assert page.locator("h1").inner_text() == "Dossier du territoire"
    page.screenshot(path=str(SCREENSHOTS / "dossier-calcul.png"), full_page=True)
    page.wait_for_selector("a:has-text('Voir les résultats')", timeout=180_000)
    assert page.locator("#etat-calcul").get_attribute("data-statut") == "done"
    for name in ("dossier.pdf", "dossier.xlsx", "dossier.gpkg", "dossier-umap.geojson"):
        assert page.locator(f"#etat-calcul a:has-text('{name}')").count() == 1
    axe_check(page)

    page.click("a:has-text('Voir les résultats')")
    page.wait_for_selector("h1:has-text('Dossier du territoire')")
    assert "Territoire FICTIF" in page.locator("[role=alert]").inner_text()
    with page.expect_download() as download:
        page.click("a:has-text('Document PDF')")
    assert download.value.suggested_filename == "dossier.pdf"
    assert page.locator("button:has-text('Refaire le dossier')").count() == 1
    axe_check(page)
