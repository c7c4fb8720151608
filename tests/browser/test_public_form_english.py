"""The public questionnaire of an installation set to English, in Chromium (issue 14).

A resident answers on a phone with the keyboard: every question in English, the error
summary in English, the receipt showing the language of the consent; the form, the
error page and the receipt pass axe-core (0 serious or critical violations, with
``<html lang="en">``); screenshots are written with the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from test_public_form import _shot, public_campaign

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def english_campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    with public_campaign(tmp_path_factory.mktemp("public_en"), lang="en") as found:
        yield found


def test_english_resident_journey_on_a_phone(chromium_browser, english_campaign, axe_check) -> None:
    url, repos = english_campaign
    context = chromium_browser.new_context(
        locale="en-GB", viewport={"width": 375, "height": 812}, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto(url)
        assert page.get_attribute("html", "lang") == "en"
        text = page.locator("main").inner_text()
        assert "Which commune do you live in?" in text
        assert "Self-employed, freelance, sole trader" in text
        assert "Dans quelle commune habitez-vous ?" not in text
        assert "(obligatoire)" not in text
        assert page.evaluate("document.documentElement.scrollWidth") <= 380
        axe_check(page)
        _shot(page, "public_form_phone_english")
        page.focus("#champ-commune_residence")
        page.keyboard.type("Atlantis")
        page.focus("button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector(".resume-erreurs")
        assert page.title().startswith("Error")
        summary = page.locator(".resume-erreurs").inner_text()
        assert "Your answer was not sent" in summary
        assert "What is your employment situation?" in summary
        axe_check(page)
        _shot(page, "public_form_errors_english")
        page.fill("#champ-commune_residence", "Bourg-Fictif (FICTIF)")
        for selector in (
            "#champ-statut-salarie",
            "#champ-part_ordinateur-plus_75",
            "#champ-envies-proche",
            "#champ-consentement",
        ):
            page.focus(selector)
            page.keyboard.press("Space")
        page.focus("button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector(".code-recu")
        code = page.locator(".code-recu").inner_text().strip()
        [stored] = repos.responses.list_responses()
        assert stored.consent_language == "en"
        page.goto(url + "/recu")
        page.fill("#champ-code", code)
        page.keyboard.press("Enter")
        page.wait_for_selector("table")
        receipt = page.locator("main").inner_text()
        assert "language: English" in receipt
        assert "Employee of a company or a public body" in receipt
        axe_check(page)
        _shot(page, "public_receipt_english")
    finally:
        context.close()
