"""Pages of the application on a phone-sized screen (static pages with its stylesheet)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_contact_card_fits_a_phone_screen(browser_page, site_url) -> None:
    # The state of a contact card (a two-column list: label, value) took its longest
    # label's width (« Ouverture de la communauté-base de la commune »): on a phone the
    # page was 620 px wide and the values ran off the screen.
    browser_page.set_viewport_size({"width": 390, "height": 844})
    browser_page.goto(f"{site_url}/pages/fiche.html")
    width = browser_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    value = browser_page.locator(".etat-fiche dd").last.bounding_box()
    assert value is not None
    assert value["x"] + value["width"] <= 390


def test_the_map_and_its_long_indicator_names_fit_a_phone_screen(browser_page, site_url) -> None:
    # The indicator list kept its longest name's width (« Emplois compatibles avec le
    # télétravail (estimation) »): the diagnostic screen was 473 px wide on a phone.
    browser_page.set_viewport_size({"width": 360, "height": 800})
    browser_page.goto(f"{site_url}/pages/map.html")
    browser_page.wait_for_selector('#carte[data-map-state="ready"]')
    width = browser_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360
