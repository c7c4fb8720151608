"""Journey in Chromium against the application itself: log in, create a project on the
demo territory, run the diagnostic, see the map, hover and click a commune.

The application (``create_app``) is served by uvicorn on a loopback port, over a
temporary SQLite store and the demo workspace.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_app import Served, log_in_and_create_project, serve_demo_application
from shapely.geometry import shape

pytestmark = pytest.mark.browser

EMAIL = "charge@exemple.fr"
PASSWORD = "mot de passe du parcours"  # noqa: S105 - test data
HANDLE = "document.querySelector('#carte').tierslieuxMap"


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("application")
    with serve_demo_application(root, {EMAIL: ("charge_de_mission", PASSWORD)}) as served:
        yield served


def _commune_point(
    page, geojson_url: str, code: str | None = None
) -> tuple[str, str, float, float]:
    """Code, name and page coordinates of a point inside a commune of the map."""
    collection = page.evaluate(
        "async (url) => (await fetch(url, {credentials: 'same-origin'})).json()", geojson_url
    )
    features = [f for f in collection["features"] if f.get("geometry")]
    feature = next((f for f in features if f["properties"]["code"] == code), features[0])
    inside = shape(feature["geometry"]).representative_point()
    x, y = page.evaluate(
        f"""([lon, lat]) => {{
            const m = {HANDLE}.map, p = m.project([lon, lat]);
            const box = m.getCanvas().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }}""",
        [inside.x, inside.y],
    )
    return feature["properties"]["code"], feature["properties"]["nom"], x, y


def _log_in_and_create_the_project(page, base: str, axe_check) -> None:
    log_in_and_create_project(page, base, EMAIL, PASSWORD, "Parcours démo")
    axe_check(page)


def test_log_in_create_a_project_run_the_diagnostic_and_read_the_map(
    browser_page, served_app: Served, axe_check
) -> None:
    page = browser_page
    base = served_app.url
    _log_in_and_create_the_project(page, base, axe_check)
    page.click("ul.ecrans a:has-text('Diagnostic territorial')")
    page.wait_for_selector("h1:has-text('Diagnostic territorial')")
    page.click("button:has-text('Lancer le diagnostic')")
    page.wait_for_url(f"{base}/projets/*/calculs/*")
    axe_check(page)
    # htmx polls the status fragment until the run is done, then offers the results
    page.wait_for_selector("a:has-text('Voir les résultats')", timeout=120_000)
    assert page.locator("#etat-calcul").get_attribute("data-statut") == "done"
    page.click("a:has-text('Voir les résultats')")

    page.wait_for_selector('#carte[data-map-state="ready"]', timeout=60_000)
    page.wait_for_function(f"() => {HANDLE}.map.loaded()")
    drawn = page.evaluate(
        f"() => {HANDLE}.map.queryRenderedFeatures({{layers: ['communes-fill']}}).length"
    )
    assert drawn > 0
    assert "Territoire FICTIF" in page.inner_text("body")
    assert page.inner_text(".carte-legende-titre").strip()
    assert page.locator("#communes tbody tr").count() == 16

    name = _hover_and_click_a_commune(page)

    # the table sorts and filters (table.js)
    page.fill("#communes-filtre", name.split(" ")[0])
    assert 1 <= page.locator("#communes tbody tr:visible").count() < 16
    page.fill("#communes-filtre", "")
    header = page.locator("#communes thead th").nth(1)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") in {"ascending", "descending"}
    assert page.errors == [], page.errors
    assert page.outside_requests() == []
    axe_check(page)
    page.locator(".carte-bassin").scroll_into_view_if_needed()


def _hover_and_click_a_commune(page) -> str:
    """Hover then click commune 00101; return its name."""
    geojson_url = page.get_attribute("#carte", "data-geojson-url")
    page.locator("#carte").scroll_into_view_if_needed()
    code, name, x, y = _commune_point(page, geojson_url, "00101")
    page.mouse.move(x, y)
    hover = page.locator(".carte-survol .maplibregl-popup-content")
    hover.wait_for()
    assert name in hover.inner_text()
    page.mouse.click(x, y)
    bassin = page.locator(".carte-bassin")
    bassin.wait_for()
    assert f"Bassin de 20 minutes autour de {name}" in bassin.inner_text()
    assert "communes dans le bassin" in bassin.inner_text()
    members = page.evaluate(f"() => {HANDLE}.map.getFilter('catchment-outline')[2][1]")
    assert code in members
    assert page.get_attribute("#carte", "data-selected") == code
    return name
