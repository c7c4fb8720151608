"""The map of communes (static/js/map.js) in Chromium, on the demo territory."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

MAP = "#carte"


def open_map(page, site_url: str, name: str = "map.html") -> None:
    page.goto(f"{site_url}/pages/{name}")
    page.wait_for_selector(f'{MAP}[data-map-state="ready"]')
    page.wait_for_function(f"() => document.querySelector('{MAP}').tierslieuxMap.map.loaded()")


def test_map_page_loads_offline_without_errors(browser_page, site_url) -> None:
    open_map(browser_page, site_url)
    assert browser_page.errors == []
    assert browser_page.outside_requests() == []
