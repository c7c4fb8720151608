"""The site sets of the alternatives and sensitivity tables, and the neighbours of the
demand note, are named « Nom (code), … » for the people who read the pages (sites.html,
the web results page); the CSV files keep the codes joined by « ; » for analysts.  The
names come from every candidate and every loaded commune; an unknown code stays a code."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from functools import cache
from html import unescape
from pathlib import Path

import pytest

from sites_helpers import border_mobpro
from tierslieux.config import Settings
from tierslieux.model.codes import named_code, named_codes
from tierslieux.pipeline import demo_files
from tierslieux.pipeline.sites import SitesRequest, SitesResult, run_sites
from tierslieux.reports.sites import render_sites, sites_files, sites_summary
from tierslieux.sources.communes import load_communes

DATA = Path(__file__).parent / "data" / "frontiere"


@cache
def _border(folder: Path) -> SitesResult:
    request = SitesRequest(
        territory="dep:05",
        count=1,
        communes=(DATA / "communes_frontiere.csv",),
        zonages=DATA / "table_supracom_2024_frontiere.csv",
        mobpro=border_mobpro(DATA, folder),
    )
    return run_sites(Settings(cache_dir=folder / "cache", offline=True), request)


@pytest.fixture(scope="module")
def border(tmp_path_factory: pytest.TempPathFactory) -> SitesResult:
    return _border(tmp_path_factory.mktemp("frontiere"))


def _site_cells(result: SitesResult, name: str) -> list[str]:
    table = sites_summary(result)["tables"][name]
    at = table["columns"].index("sites")
    return [row[at] for row in table["rows"]]


def _csv_column(result: SitesResult, file: str, column: str) -> list[str]:
    content = dict(sites_files(result))[file].decode("utf-8-sig")
    return [row[column] for row in csv.DictReader(io.StringIO(content))]


def _page_table(page: str, heading: str) -> str:
    found = re.search(rf"<h2>{heading}</h2>(.*?)</table>", unescape(page), re.DOTALL)
    assert found, heading
    return found.group(1)


def test_named_code_falls_back_to_the_bare_code() -> None:
    names = {"05070": "Laragne-Montéglin", "05173": "Upaix", "05999": ""}
    assert named_code("05070", names) == "Laragne-Montéglin (05070)"
    assert named_code("99999", names) == "99999"
    assert named_code("05999", names) == "05999"  # an empty name is no name
    assert named_codes(["05173", "99999", "05070"], names) == (
        "Upaix (05173), 99999, Laragne-Montéglin (05070)"
    )


def test_alternatives_and_sensitivity_name_their_sites_csv_keeps_codes(
    border: SitesResult,
) -> None:
    # Laragne-Montéglin (05070), never chosen as the site, is in the alternative and in
    # the 15 and 30 minutes rows; both communes in the row with one site more.
    assert _site_cells(border, "alternatives") == ["Laragne-Montéglin (05070)"]
    sensitivity = _site_cells(border, "sensibilite")
    assert "Upaix (05173), Laragne-Montéglin (05070)" in sensitivity
    assert "Laragne-Montéglin (05070)" in sensitivity
    assert all(";" not in cell for cell in sensitivity)
    # The CSV files keep the codes, as the analysts script them.
    assert _csv_column(border, "alternatives.csv", "sites") == ["05070"]
    assert "05173;05070" in _csv_column(border, "sensitivity.csv", "sites")
    assert "05173;05070" in list(border.sensitivity["sites"])
    page = render_sites(border)
    assert "Upaix (05173), Laragne-Montéglin (05070)" in _page_table(page, "Sensibilité")
    assert "05173;05070" not in unescape(page)


def test_an_unknown_code_stays_a_code(border: SitesResult) -> None:
    odd = replace(border, sensitivity=border.sensitivity.assign(sites="05173;99999"))
    assert set(_site_cells(odd, "sensibilite")) == {"Upaix (05173), 99999"}
    assert "Upaix (05173), 99999" in _page_table(render_sites(odd), "Sensibilité")


def test_the_demand_note_names_the_neighbours(border: SitesResult) -> None:
    # Sisteron (04209) is outside the territory: named from the communes loaded for the
    # catchments, not from the territory's.
    assert "04209" not in set(border.communes["code"])
    note = next(n for n in border.notes if n.startswith("Demande : les usagers potentiels"))
    assert note.endswith("usagers potentiels (Sisteron (04209)).")
    assert any("Sisteron (04209)" in n for n in sites_summary(border)["notes"])
    assert "Sisteron (04209)" in unescape(render_sites(border))


def test_candidate_places_not_chosen_are_named_too(tmp_path: Path) -> None:
    # Places at every commune centre: the alternatives bring in places never chosen,
    # absent from the table of sites; their names come from the candidates.
    table = load_communes(demo_files()["communes"]).table
    rows = [
        f"P{code},Lieu {code},{lat},{lon}"
        for code, lat, lon in zip(table["code"], table["latitude"], table["longitude"], strict=True)
    ]
    places = tmp_path / "lieux.csv"
    places.write_text("identifiant,nom,latitude,longitude\n" + "\n".join(rows) + "\n", "utf-8")
    request = SitesRequest(territory="france", count=2, demo=True, candidates=places)
    result = run_sites(Settings(offline=True, cache_dir=tmp_path / "cache"), request)
    chosen = set(result.sites["code"])
    raw = [c for value in result.alternatives["sites"].dropna() for c in str(value).split(";") if c]
    assert set(raw) - chosen  # a place never chosen stands in an alternative
    for name in ("alternatives", "sensibilite"):
        for cell in _site_cells(result, name):
            for part in filter(None, cell.split(", ")):
                code = part.rsplit(" (", 1)[-1].rstrip(")")
                assert part == f"Lieu {code[1:]} ({code})", (name, cell)
    for cell in _replacement_cells(result):
        assert cell
        for part in cell.split(", "):
            code = part.rsplit(" (", 1)[-1].rstrip(")")
            assert part == f"Lieu {code[1:]} ({code})", cell


def _replacement_cells(result: SitesResult) -> list[str]:
    table = sites_summary(result)["tables"]["alternatives"]
    at = table["columns"].index("remplacant")
    return [row[at] for row in table["rows"]]


def test_the_replacements_are_named_as_the_sites_csv_keeps_codes(border: SitesResult) -> None:
    # Walk: the « Remplaçant » column showed the CSV's « 05070 Laragne-Montéglin »
    # (« 04111 Mane;04190 Saint-Martin-les-Eaux » for two) next to the named sites.
    assert _replacement_cells(border) == ["Laragne-Montéglin (05070)"]
    assert _csv_column(border, "alternatives.csv", "remplacant") == ["05070 Laragne-Montéglin"]
    page = render_sites(border)
    assert "05070 Laragne-Montéglin" not in unescape(page)
