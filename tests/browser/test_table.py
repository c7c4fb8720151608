"""Sortable, filterable tables (static/js/table.js): progressive enhancement."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TABLE = "#communes"


def names(page) -> list[str]:
    return page.locator(f"{TABLE} tbody tr:not([hidden]) td:first-child").all_inner_texts()


def test_headers_sort_numbers_and_keep_missing_values_last(browser_page, site_url, axe_check):
    browser_page.goto(f"{site_url}/pages/table.html")
    browser_page.wait_for_selector(f'{TABLE}[data-table-state="ready"]')
    header = browser_page.locator(f"{TABLE} th").nth(1)
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert names(browser_page) == [
        "Hameau-Test (FICTIF)",  # 47
        "Bourg-Fictif (FICTIF)",  # 389,1
        "Val-d'Exemple (FICTIF)",  # 1 428,5 (French thousands separator)
        "Combe-Essai (FICTIF)",  # data-sort-value 9000
        "Écart-Démo (FICTIF)",  # — (no value): last
    ]
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert names(browser_page)[:4] == [
        "Combe-Essai (FICTIF)",
        "Val-d'Exemple (FICTIF)",
        "Bourg-Fictif (FICTIF)",
        "Hameau-Test (FICTIF)",
    ]
    assert names(browser_page)[-1] == "Écart-Démo (FICTIF)"
    first = browser_page.locator(f"{TABLE} th").nth(0)
    first.get_by_role("button").click()
    assert first.get_attribute("aria-sort") == "ascending"
    assert header.get_attribute("aria-sort") is None
    assert names(browser_page) == [  # É sorts as E, in French order
        "Bourg-Fictif (FICTIF)",
        "Combe-Essai (FICTIF)",
        "Écart-Démo (FICTIF)",
        "Hameau-Test (FICTIF)",
        "Val-d'Exemple (FICTIF)",
    ]
    assert browser_page.errors == []
    axe_check(browser_page)


def test_filter_ignores_case_and_accents_and_announces_the_count(browser_page, site_url, axe_check):
    browser_page.goto(f"{site_url}/pages/table.html")
    field = browser_page.get_by_label("Filtrer les lignes")
    status = browser_page.locator(".tableau-filtre [role=status]")
    assert status.inner_text() == "Lignes affichées : 5 sur 5"
    field.fill("ecart")
    assert names(browser_page) == ["Écart-Démo (FICTIF)"]
    assert status.inner_text() == "Lignes affichées : 1 sur 5"
    field.fill("")
    assert len(names(browser_page)) == 5
    assert browser_page.errors == []
    axe_check(browser_page)


def test_without_javascript_the_table_is_a_plain_table(chromium_browser, site_url):
    context = chromium_browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{site_url}/pages/table.html")
        assert page.locator(f"{TABLE} tbody tr").count() == 5
        assert page.locator(".tableau-filtre").count() == 0
        assert page.locator(f"{TABLE} th button").count() == 0
    finally:
        context.close()


def test_text_sort_ignores_case_and_accents_as_the_server(browser_page, site_url):
    """The client-side sort and the server's lists (tierslieux.model.text.collation_key)
    follow one rule: « abeille » before « Écureuil » before « Zèbre »."""
    from tierslieux.model.text import collation_key  # noqa: PLC0415

    words = ["Zèbre", "abeille", "Écureuil", "eau", "Œuvre", "orge"]
    browser_page.goto(f"{site_url}/pages/table.html")
    shown = browser_page.evaluate(
        """async (words) => {
            const table = document.createElement("table");
            table.innerHTML = "<thead><tr><th>Nom</th></tr></thead><tbody>"
                + words.map((w) => `<tr><td>${w}</td></tr>`).join("") + "</tbody>";
            document.querySelector("main").append(table);
            const module = await import("/static/js/table.js");
            module.enhanceTable(table).sort(0);
            return [...table.tBodies[0].rows].map((row) => row.cells[0].textContent);
        }""",
        words,
    )
    assert shown == sorted(words, key=collation_key)
    assert shown == ["abeille", "eau", "Écureuil", "Œuvre", "orge", "Zèbre"]
