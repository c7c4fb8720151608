"""The public questionnaire in Chromium: a resident answers with the keyboard, on a phone.

A campaign of the demo territory is published; the resident opens its link, sends the
form with mistakes, sees the error summary, follows its link to the field, corrects,
consents, sends, gets the receipt code and uses it to erase the answer.  The form, the
error page and the confirmation pass axe-core (0 serious or critical violations);
screenshots of the form on a phone and on a desktop, of the errors and of the receipt
are written with the others.
"""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
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


@contextmanager
def public_campaign(root: Path, lang: str = "fr") -> Iterator[tuple[str, Any]]:
    """The demo application in ``lang`` with an open campaign: its public link, the store."""
    users = {CHARGE: ("charge_de_mission", PASSWORD)}
    with serve_demo_application(root, users, lang=lang) as served:
        _project, campaign = open_demo_campaign(served, CHARGE)
        yield f"{served.url}/q/{campaign.slug}", served.repos


@pytest.fixture(scope="module")
def campaign_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    with public_campaign(tmp_path_factory.mktemp("public")) as found:
        yield found


def _shot(page: Any, name: str) -> Path:
    written = conftest._written
    if not written and SCREENSHOTS.name == "screenshots":
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's pictures only
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    written.append(target)
    return target


def test_phone_form_without_javascript(chromium_browser, campaign_url, axe_check) -> None:
    url, _repos = campaign_url
    context = chromium_browser.new_context(
        locale="fr-FR",
        viewport={"width": 375, "height": 812},
        is_mobile=True,
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        page.goto(url)
        assert page.locator("h1").inner_text() == "Un tiers-lieu près de chez vous ?"
        # nothing wider than the phone's screen
        width = page.evaluate("document.documentElement.scrollWidth")  # runs in CDP, not page JS
        assert width <= 380
        _shot(page, "public_form_phone")
    finally:
        context.close()


def test_resident_journey_keyboard_only(browser_page, campaign_url, axe_check) -> None:
    url, repos = campaign_url
    page = browser_page
    page.goto(url)
    axe_check(page)
    _shot(page, "public_form_desktop")
    before = len(repos.responses.list_responses())
    # mistakes: a commune that is none, a number that is not one, no consent
    page.focus("#champ-commune_residence")
    page.keyboard.type("Atlantide")
    page.focus("#champ-temps_trajet")
    page.keyboard.type("beaucoup")
    page.focus("#champ-commentaire")
    page.keyboard.type("Un lieu <b>convivial</b> serait bien")
    page.focus("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".resume-erreurs")
    assert page.title().startswith("Erreur")
    summary = page.locator(".resume-erreurs")
    assert "n'est pas une commune" in summary.inner_text()
    assert page.input_value("#champ-commune_residence") == "Atlantide"
    assert "convivial</b> serait bien" in page.input_value("#champ-commentaire")
    axe_check(page)
    _shot(page, "public_form_errors")
    # the summary's link takes the keyboard to the field
    summary.locator("a[href='#champ-commune_residence']").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "champ-commune_residence"
    page.keyboard.press("Control+A")
    page.keyboard.type("Bourg-Fictif (FICTIF)")
    page.fill("#champ-temps_trajet", "25")
    for selector in (
        "#champ-statut-salarie",
        "#champ-part_ordinateur-plus_75",
        "#champ-envies-proche",
        "#champ-envies-convivial",
        "#champ-consentement",
    ):
        page.focus(selector)
        page.keyboard.press("Space")
    assert page.is_checked("#champ-consentement")
    page.focus("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".code-recu")
    code = page.locator(".code-recu").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
    assert len(repos.responses.list_responses()) == before + 1
    axe_check(page)
    _shot(page, "public_receipt_code")
    # the receipt: see the answer, then erase it
    page.goto(url + "/recu")
    page.fill("#champ-code", code)
    page.keyboard.press("Enter")
    page.wait_for_selector("table")
    assert "Salarié(e)" in page.content()
    axe_check(page)
    page.click("button.danger")
    page.wait_for_selector("text=Votre réponse est effacée")
    assert len(repos.responses.list_responses()) == before
    assert not page.outside_requests()
    # the one console line: the 422 of the form sent with mistakes (expected)
    assert [e for e in page.errors if "422" not in e] == []
