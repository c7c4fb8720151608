"""A campaign's paper entry and live results in Chromium (issue 14).

A chargé de mission types in two paper sheets (one with a mistake first, corrected with
the keyboard), then opens the campaign page: counts per channel, the typology and the
map of the campaign's answers.  Every page passes axe-core (0 serious or critical
violations); screenshots are written with the others.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import pytest
from browser_app import open_demo_campaign, serve_demo_application

import conftest
from conftest import SCREENSHOTS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.browser

CHARGE = "charge@exemple.fr"
PASSWORD = "mot de passe du navigateur"  # noqa: S105 - test data


@pytest.fixture(scope="module")
def campaign_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Any]]:
    root = tmp_path_factory.mktemp("desk")
    with serve_demo_application(root, {CHARGE: ("charge_de_mission", PASSWORD)}) as served:
        repos = served.repos
        project, campaign = open_demo_campaign(served, CHARGE)
        path = f"/projets/{project.id}/questionnaire/campagnes/{campaign.id}"
        yield served.url, path, repos


def _shot(page: Any, name: str) -> Path:
    written = conftest._written
    if not written and SCREENSHOTS.name == "screenshots":
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's pictures only
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    written.append(target)
    return target


def _log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/connexion")
    page.fill("#champ-login", CHARGE)
    page.fill("#champ-password", PASSWORD)
    page.click("button[type=submit]:not(.secondaire)")
    page.wait_for_url(f"{base}/projets")


def _sheet(page: Any, number: str, commune: str) -> None:
    page.fill("#champ-feuille", number)
    page.fill("#champ-commune_residence", commune)
    for selector in (
        "#champ-statut-salarie",
        "#champ-part_ordinateur-plus_75",
        "#champ-envies-proche",
        "#champ-envies-convivial",
        "#champ-consentement",
    ):
        page.check(selector)
    page.click("button[type=submit]:has-text('Enregistrer cette feuille')")


def test_paper_entry_then_live_results(browser_page, axe_check, campaign_page) -> None:
    base, path, repos = campaign_page
    page = browser_page
    _log_in(page, base)
    page.goto(base + path + "/papier")
    axe_check(page)
    _sheet(page, "1", "Atlantide")
    page.wait_for_selector(".resume-erreurs")
    assert "n'est pas une commune" in page.locator(".resume-erreurs").inner_text()
    assert page.input_value("#champ-feuille") == "1"
    axe_check(page)
    _shot(page, "campaign_paper_errors")
    page.locator(".resume-erreurs a[href='#champ-commune_residence']").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "champ-commune_residence"
    page.keyboard.press("Control+A")
    page.keyboard.type("Bourg-Fictif (FICTIF)")
    page.click("button[type=submit]:has-text('Enregistrer cette feuille')")
    page.wait_for_selector("text=Feuille n° 1 enregistrée")
    _sheet(page, "2", "Montfictif (FICTIF)")
    page.wait_for_selector("text=Feuille n° 2 enregistrée")
    _sheet(page, "2", "Montfictif (FICTIF)")
    page.wait_for_selector("text=déjà saisie")
    page.goto(base + path)
    main = page.inner_text("main")
    assert "2\nréponse(s) en tout" in main
    assert "Typologie comparée au profil de référence de l'étude" in main
    page.wait_for_selector('#carte-groupes[data-map-state="ready"]')
    axe_check(page)
    _shot(page, "campaign_results")
    stored = [r for r in repos.responses.list_responses() if r.channel == "papier"]
    assert len(stored) == 2
    assert not page.outside_requests()
    assert [e for e in page.errors if "422" not in e] == []
