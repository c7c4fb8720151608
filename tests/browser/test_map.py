"""The map of communes (static/js/map.js) in Chromium, on the demo territory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from shapely.geometry import shape

from tierslieux.i18n import format_number
from tierslieux.reports.maps import PALETTE, choropleth_svg, class_breaks

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MAP = "#carte"
HANDLE = f"document.querySelector('{MAP}').tierslieuxMap"


def open_map(page, site_url: str, name: str = "map.html") -> None:
    page.goto(f"{site_url}/pages/{name}")
    page.wait_for_selector(f'{MAP}[data-map-state="ready"]')
    page.wait_for_function(f"() => {HANDLE}.map.loaded()")


def legend(page) -> tuple[str, list[str], list[str]]:
    """Title, row texts and swatch colours (#rrggbb) of the legend."""
    title = page.inner_text(".carte-legende-titre")
    rows = page.locator(".carte-legende-classes li")
    texts = [t.strip() for t in rows.all_inner_texts()]
    colours = page.eval_on_selector_all(
        ".carte-pastille",
        """nodes => nodes.map(n => {
            const [r, g, b] = getComputedStyle(n).backgroundColor.match(/\\d+/g).map(Number);
            return "#" + [r, g, b].map(v => v.toString(16).padStart(2, "0")).join("");
        })""",
    )
    return title, texts, colours


def report_legend(diagnosis, key: str) -> list[str]:
    """The legend rows the HTML report writes under its SVG map of ``key``."""
    html = choropleth_svg(diagnosis.communes, key, diagnosis.geometries, label=key)
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", html)]


def commune_point(page, demo_map_data, code: str) -> tuple[float, float]:
    """Page coordinates of a point inside commune ``code``'s polygon."""
    collection = json.loads((demo_map_data.folder / "communes.geojson").read_text("utf-8"))
    feature = next(f for f in collection["features"] if f["properties"]["code"] == code)
    inside = shape(feature["geometry"]).representative_point()
    return tuple(
        page.evaluate(
            f"""([lon, lat]) => {{
                const m = {HANDLE}.map, p = m.project([lon, lat]);
                const box = m.getCanvas().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }}""",
            [inside.x, inside.y],
        )
    )


def start_map(
    page, site_url: str, div_id: str, geojson_url: str, points_url: str | None = None, *, first=""
) -> None:
    """One more map on the test page: a ``div`` of id ``div_id`` on the communes of
    ``geojson_url`` (and the points of ``points_url``), started by map.js after the
    script ``first`` (run in the page, in the same function)."""
    page.goto(f"{site_url}/pages/map.html")
    page.evaluate(
        f"""async ([id, geojsonUrl, pointsUrl]) => {{{first}
            const div = document.createElement("div");
            div.id = id;
            div.dataset.map = "";
            div.dataset.geojsonUrl = geojsonUrl;
            if (pointsUrl) div.dataset.pointsUrl = pointsUrl;
            document.querySelector("main").append(div);
            const module = await import("/static/js/map.js");
            module.startMaps();
        }}""",
        [div_id, geojson_url, points_url],
    )


def test_map_page_loads_offline_without_errors(browser_page, site_url, axe_check) -> None:
    open_map(browser_page, site_url)
    assert browser_page.errors == []
    assert browser_page.outside_requests() == []
    assert browser_page.blocked == []
    # Everything the map needed came from the application itself.
    paths = [url.removeprefix(site_url) for url in browser_page.requests]
    assert "/static/vendor/maplibre-gl.mjs" in paths
    assert "/donnees/communes.geojson" in paths
    canvas = browser_page.locator(f"{MAP} canvas.maplibregl-canvas")
    assert canvas.get_attribute("aria-label") == "Carte des communes du territoire fictif"
    # No basemap by default: no raster source, white background, grey outlines.
    style = browser_page.evaluate(f"() => {HANDLE}.map.getStyle()")
    assert set(style["sources"]) == {"communes"}
    assert not style.get("glyphs")
    assert not style.get("sprite")
    assert browser_page.locator(".maplibregl-ctrl-attrib").count() == 0
    axe_check(browser_page)


def test_legend_shows_the_reports_classes(browser_page, site_url, demo_map_data) -> None:
    open_map(browser_page, site_url)
    diagnosis = demo_map_data.diagnosis
    for key in ("potentiel", "actifs_occupes", "tic"):
        browser_page.select_option(f"{MAP} select[name=indicateur]", key)
        browser_page.wait_for_function(
            f"() => document.querySelector('{MAP}').dataset.indicator === '{key}'"
        )
        _title, texts, colours = legend(browser_page)
        assert texts == report_legend(diagnosis, key), key
        assert colours == list(PALETTE[: len(texts)])


def test_indicator_change_updates_legend_and_colours(browser_page, site_url) -> None:
    open_map(browser_page, site_url)
    title, texts, _ = legend(browser_page)
    assert title == "Usagers potentiels d'un tiers-lieu (estimation)"
    assert browser_page.inner_text(".carte-legende-unite") == "Unité : personnes"
    browser_page.select_option(f"{MAP} select[name=indicateur]", label="Actifs occupés résidents")
    new_title, new_texts, _ = legend(browser_page)
    assert new_title == "Actifs occupés résidents"
    assert new_texts != texts
    paint = browser_page.evaluate(
        f"() => {HANDLE}.map.getPaintProperty('communes-fill', 'fill-color')"
    )
    assert "actifs_occupes" in json.dumps(paint)
    assert browser_page.errors == []


def test_hover_and_click_show_the_commune_and_its_catchment(
    browser_page, site_url, demo_map_data, axe_check
) -> None:
    open_map(browser_page, site_url)
    diagnosis = demo_map_data.diagnosis
    row = diagnosis.communes.set_index("code").loc["00101"]
    shown = f"Bourg-Fictif (FICTIF) (00101) : {format_number(round(row['potentiel'], 1))}"
    x, y = commune_point(browser_page, demo_map_data, "00101")
    browser_page.mouse.move(x, y)
    hover = browser_page.locator(".carte-survol .maplibregl-popup-content")
    hover.wait_for()
    assert hover.inner_text().strip() == shown

    browser_page.mouse.click(x, y)
    popup = browser_page.locator(".carte-info .maplibregl-popup-content")
    popup.wait_for()
    assert shown in popup.inner_text()
    # The popup can be closed from the keyboard: its button has a French name.
    assert browser_page.locator(".carte-info button").get_attribute("aria-label") == "Fermer"
    bassin = browser_page.locator(".carte-bassin")
    bassin.wait_for()
    catchment = json.loads((demo_map_data.folder / "bassins" / "00101.json").read_text("utf-8"))
    text = bassin.inner_text()
    assert "Bassin de 20 minutes autour de Bourg-Fictif (FICTIF)" in text
    assert f"{catchment['nb_communes']} communes dans le bassin" in text
    figures = dict(
        zip(
            bassin.locator("dt").all_inner_texts(),
            bassin.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    catchment_row = diagnosis.catchments.set_index("code").loc["00101"]
    assert figures["Usagers potentiels d'un tiers-lieu (estimation)"] == format_number(
        catchment_row["potentiel"]
    )
    members = browser_page.evaluate(f"() => {HANDLE}.map.getFilter('catchment-outline')[2][1]")
    assert sorted(members) == catchment["communes"]
    assert len(members) == catchment_row["nb_communes"]
    assert browser_page.errors == []
    axe_check(browser_page)


def test_keyboard_reaches_the_map_controls(browser_page, site_url) -> None:
    open_map(browser_page, site_url)
    reached = []
    for _ in range(8):
        browser_page.keyboard.press("Tab")
        reached.append(
            browser_page.evaluate(
                """() => { const e = document.activeElement;
                    return e.getAttribute("aria-label") || e.name || e.className || e.tagName; }"""
            )
        )
    assert "indicateur" in reached
    assert "commune" in reached
    assert "Carte des communes du territoire fictif" in reached  # the map's canvas
    assert "Zoomer" in reached
    assert "Dézoomer" in reached

    # A commune is chosen from the keyboard in the list; the details are announced.
    browser_page.focus(f"{MAP} select[name=commune]")
    browser_page.keyboard.press("ArrowDown")
    code = browser_page.eval_on_selector(f"{MAP} select[name=commune]", "s => s.value")
    assert code
    browser_page.wait_for_function(
        f"() => document.querySelector('{MAP}').dataset.selected === '{code}'"
    )
    details = browser_page.locator(f"{MAP} .carte-detail[role=status]")
    assert f"({code}) : " in details.inner_text()
    browser_page.locator(".carte-bassin").wait_for()

    # The focused map zooms with the keyboard.
    zoom = browser_page.evaluate(f"() => {HANDLE}.map.getZoom()")
    browser_page.focus(f"{MAP} canvas.maplibregl-canvas")
    browser_page.keyboard.press("Equal")
    browser_page.wait_for_function(f"(z) => {HANDLE}.map.getZoom() > z + 0.5", arg=zoom)
    assert browser_page.errors == []


def test_basemap_is_an_option_with_a_configurable_url(browser_page, site_url, axe_check) -> None:
    open_map(browser_page, site_url, "map-fond.html")
    paths = [url.removeprefix(site_url) for url in browser_page.requests]
    assert any(re.fullmatch(r"/tuiles/\d+/\d+/\d+\.png", p) for p in paths)
    assert browser_page.outside_requests() == []
    assert browser_page.errors == []
    assert "Fond d'essai (tuile grise)" in browser_page.inner_text(".maplibregl-ctrl-attrib")
    axe_check(browser_page)


def test_the_installation_basemap_comes_from_the_page_meta(
    browser_page, site_url, axe_check
) -> None:
    """``tierslieux web --basemap-url``: web/layout.html writes the meta, every map uses it."""
    open_map(browser_page, site_url, "map-fond-installation.html")
    paths = [url.removeprefix(site_url) for url in browser_page.requests]
    assert any(re.fullmatch(r"/tuiles/\d+/\d+/\d+\.png", p) for p in paths)
    assert browser_page.outside_requests() == []
    assert browser_page.errors == []
    credit = browser_page.inner_text(".maplibregl-ctrl-attrib")
    assert "Fond de l'installation (tuile grise)" in credit
    axe_check(browser_page)


def test_missing_data_is_reported_not_thrown(browser_page, site_url) -> None:
    start_map(browser_page, site_url, "absente", "/donnees/absent.geojson")
    browser_page.wait_for_selector('#absente[data-map-state="error"]')
    alert = browser_page.inner_text("#absente [role=alert]")
    assert alert.startswith("La carte n'a pas pu être chargée (404")


def test_a_map_says_it_is_loading_then_why_it_failed(browser_page, site_url) -> None:
    """Audit: the campaign's map stayed blank while its documents came, then said
    only a status on failure; it now says « Chargement de la carte… », then the
    server's own message."""
    held_fetch = """
            const real = window.fetch;
            let release;
            const held = new Promise((resolve) => { release = resolve; });
            window.releaseMap = release;
            window.fetch = (url, options) => String(url).includes("/lente")
                ? held.then(() => new Response(JSON.stringify({detail: "Campagne inconnue."}),
                    {status: 404, headers: {"content-type": "application/json"}}))
                : real(url, options);"""
    start_map(browser_page, site_url, "lente", "/lente/carte.geojson", first=held_fetch)
    browser_page.wait_for_selector('#lente[data-map-state="loading"]')
    assert browser_page.inner_text("#lente [role=status]") == "Chargement de la carte…"
    browser_page.evaluate("() => window.releaseMap()")
    browser_page.wait_for_selector('#lente[data-map-state="error"]')
    alert = browser_page.inner_text("#lente [role=alert]")
    assert alert == "La carte n'a pas pu être chargée (Campagne inconnue.)."
    assert browser_page.locator("#lente [role=status]").count() == 0


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 0.0, 0.0, 1.0, 2.5, 7.25, 7.25, 100.0],
        [3.0],
        [1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9, 10.1, 11.3, 12.7, 1e6],
        [float(i) * 0.1 for i in range(997)],
    ],
)
def test_class_breaks_in_the_browser_are_the_reports(browser_page, site_url, values) -> None:
    browser_page.goto(f"{site_url}/pages/map.html")
    breaks = browser_page.evaluate(
        "async (values) => (await import('/static/js/map.js')).classBreaks(values)", values
    )
    assert breaks == class_breaks(values)


def _extra_map(page, site_url: str, demo_map_data, name: str, points=None) -> None:
    """A second map on the test page, on the demo communes with only a ``zero``
    indicator (every commune 0) and, when given, the points collection ``points``."""
    collection = json.loads((demo_map_data.folder / "communes.geojson").read_text("utf-8"))
    for feature in collection["features"]:
        feature["properties"] = {
            "code": feature["properties"]["code"],
            "nom": feature["properties"]["nom"],
            "zero": 0,
        }
    (demo_map_data.folder / f"{name}.geojson").write_text(json.dumps(collection), "utf-8")
    if points is not None:
        (demo_map_data.folder / f"{name}-points.geojson").write_text(json.dumps(points), "utf-8")
    with_points = f"/donnees/{name}-points.geojson" if points is not None else None
    start_map(page, site_url, name, f"/donnees/{name}.geojson", with_points)
    page.wait_for_selector(f'#{name}[data-map-state="ready"]')


def test_the_first_view_holds_the_points_outside_the_communes(
    browser_page, site_url, demo_map_data
) -> None:
    """A structure outside the territory (a CAE seated in the next département) is in
    the initial view: the bounds are those of every feature, not the communes only."""
    collection = json.loads((demo_map_data.folder / "communes.geojson").read_text("utf-8"))
    west, south, east, north = shape(
        {
            "type": "GeometryCollection",
            "geometries": [f["geometry"] for f in collection["features"]],
        }
    ).bounds
    outside = [east + (east - west), (south + north) / 2]  # one territory's width east
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": outside},
                "properties": {"nom": "CAE voisine (FICTIVE)", "couleur": "#d95f02"},
            }
        ],
    }
    _extra_map(browser_page, site_url, demo_map_data, "hors-territoire", points)
    inside = browser_page.evaluate(
        """(point) => {
            const map = document.querySelector("#hors-territoire").tierslieuxMap.map;
            return map.getBounds().contains(point);
        }""",
        outside,
    )
    assert inside
    assert browser_page.errors == []


def test_a_single_class_legend_says_every_commune_has_the_same_value(
    browser_page, site_url, demo_map_data
) -> None:
    _extra_map(browser_page, site_url, demo_map_data, "valeur-unique")
    rows = browser_page.locator("#valeur-unique .carte-legende-classes li").all_inner_texts()
    assert [r.strip() for r in rows] == ["Toutes les communes ont la même valeur : 0"]
    partial = browser_page.evaluate(
        "async () => (await import('/static/js/map.js')).legendRows([2, null, 2], [2], "
        "{noData: 'Sans donnée'}).map((row) => row.text)"
    )
    assert partial == ["Toutes les communes renseignées ont la même valeur : 2", "Sans donnée"]
    assert browser_page.errors == []


def test_after_a_class_of_zero_whole_counts_start_at_one(browser_page, site_url) -> None:
    """Walk: « 0 » then « 0 – 4 » on the questionnaire map; whole counts read « 1 – 4 »
    after the class of 0, as reports/maps.py (tests/test_reports_write.py)."""
    browser_page.goto(f"{site_url}/pages/map.html")
    rows = browser_page.evaluate(
        "async () => { const m = await import('/static/js/map.js');"
        " const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 4];"
        " return [m.classBreaks(v), m.legendRows(v, m.classBreaks(v)).map((r) => r.text),"
        " m.legendRows([0, 0.3, 4], [0, 4]).map((r) => r.text)]; }"
    )
    assert rows == [[0, 4], ["0", "1 – 4"], ["0", "0 – 4"]]
    assert browser_page.errors == []


def test_the_zero_class_is_named_by_the_metadata(browser_page, site_url) -> None:
    """The sites' « Demande couverte » map: the class of 0 reads « 0 (non couverte) »
    (the metadata's ``libelle_zero``), as reports/maps.py (tests/test_reports_write.py);
    « Sans donnée » stays for missing values."""
    browser_page.goto(f"{site_url}/pages/map.html")
    rows = browser_page.evaluate(
        "async () => (await import('/static/js/map.js')).legendRows([0, 0, 3, 20, null],"
        " [0, 3, 20], {zeroLabel: '0 (non couverte)', noData: 'Sans donnée'})"
        ".map((row) => row.text)"
    )
    assert rows == ["0 (non couverte)", "1 – 3", "3 – 20", "Sans donnée"]
    assert browser_page.errors == []


def test_the_scripts_french_texts_are_those_the_server_translates(browser_page, site_url) -> None:
    """map.js and table.js MESSAGES (the French defaults) are the msgids of
    tierslieux.web.rendering.SCRIPT_MESSAGES, key for key."""
    from tierslieux.web.rendering import SCRIPT_MESSAGES  # noqa: PLC0415

    browser_page.goto(f"{site_url}/pages/map.html")
    defaults = browser_page.evaluate(
        """async () => ({
            map: (await import("/static/js/map.js")).MESSAGES,
            table: (await import("/static/js/table.js")).MESSAGES,
        })"""
    )
    assert defaults == SCRIPT_MESSAGES


def test_an_english_page_gives_the_map_its_texts(browser_page, site_url, demo_map_data) -> None:
    """The page's ``tierslieux-messages`` meta (tierslieux.web.rendering) translates the
    map; without it the texts stay French."""
    browser_page.add_init_script(
        """document.addEventListener("DOMContentLoaded", () => {
            const meta = document.createElement("meta");
            meta.name = "tierslieux-messages";
            meta.content = JSON.stringify({map: {
                sameValue: "Every commune has the same value: {value}",
                chooseCommune: "— choose a commune —",
            }});
            document.head.append(meta);
        });"""
    )
    _extra_map(browser_page, site_url, demo_map_data, "en-anglais")
    rows = browser_page.locator("#en-anglais .carte-legende-classes li").all_inner_texts()
    assert [r.strip() for r in rows] == ["Every commune has the same value: 0"]
    first = browser_page.locator("#en-anglais select[name=commune] option").first
    assert first.inner_text() == "— choose a commune —"
    assert browser_page.errors == []


def test_the_catchment_panel_stays_inside_the_map_under_the_reports_stylesheet(
    browser_page, site_url
) -> None:
    # The application's pages load the reports' stylesheet (base.css), whose `.carte`
    # rule caps the reports' SVG maps at 720px: the interactive map, which takes the
    # same class, was cut there and its catchment figures were drawn over the section
    # below (« Télécharger » on the diagnostic screen).
    style = (ROOT / "src" / "tierslieux" / "reports" / "templates" / "style.css").read_text("utf-8")
    open_map(browser_page, site_url)
    browser_page.evaluate(
        "css => { const sheet = new CSSStyleSheet(); sheet.replaceSync(css);"
        " document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet]; }",
        style,
    )
    assert (
        browser_page.evaluate(f"() => getComputedStyle(document.querySelector('{MAP}')).maxHeight")
        == "none"
    )
    browser_page.select_option("#carte-commune", "00101")
    browser_page.locator(".carte-bassin dd").first.wait_for()
    inside = browser_page.evaluate(
        f"() => {{ const map = document.querySelector('{MAP}').getBoundingClientRect();"
        " const panel = document.querySelector('.carte-bassin').getBoundingClientRect();"
        " return panel.bottom <= map.bottom + 1; }"
    )
    assert inside
