"""The site selection's summary says each number once, with what it counts (issue of the
sites screen's audit): the objective the command line prints, split between the
territory and the neighbouring communes when those count; the proven gap as achieved,
never a rounded false zero, and the solver's tolerance named as such; readers' tables
without coordinates rounded to nothing nor a second column of the same codes."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sites_helpers import border_mobpro
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.i18n import format_number
from tierslieux.model.siting import MIP_GAP, format_gap
from tierslieux.pipeline.sites import SitesRequest, SitesResult, run_sites
from tierslieux.reports.labels import column_labels
from tierslieux.reports.sites import objective_split, render_sites, sites_summary

DATA = Path(__file__).parent / "data" / "frontiere"


def _border_mobpro(folder: Path) -> Path:
    return border_mobpro(DATA, folder)


def _options(mobpro: Path) -> list[str]:
    return [
        "--territory",
        "dep:05",
        "--communes",
        str(DATA / "communes_frontiere.csv"),
        "--zonages",
        str(DATA / "table_supracom_2024_frontiere.csv"),
        "--mobpro",
        str(mobpro),
        "--count",
        "1",
        "--offline",
    ]


@cache
def _border(folder: Path) -> SitesResult:
    mobpro = _border_mobpro(folder)
    request = SitesRequest(
        territory="dep:05",
        count=1,
        communes=(DATA / "communes_frontiere.csv",),
        zonages=DATA / "table_supracom_2024_frontiere.csv",
        mobpro=mobpro,
    )
    return run_sites(Settings(cache_dir=folder / "cache", offline=True), request)


@pytest.fixture(scope="module")
def border(tmp_path_factory: pytest.TempPathFactory) -> SitesResult:
    return _border(tmp_path_factory.mktemp("frontiere"))


def test_the_objective_is_split_between_the_territory_and_its_neighbours(
    border: SitesResult,
) -> None:
    summary = sites_summary(border)
    outside = border.coverage[border.coverage["hors_territoire"]]
    assert list(outside["code_commune"]) == ["04209"]
    sisteron = float(outside["demande"].iloc[0])
    assert border.objective_outside == pytest.approx(sisteron)
    assert border.outside_covered == 1
    # One number of people covered: the objective, as the command line prints it.
    assert summary["usagers_couverts"] == pytest.approx(border.result.objective)
    assert summary["objectif_territoire"] + summary["objectif_voisines"] == pytest.approx(
        border.result.objective
    )
    split = objective_split(border)
    assert split == summary["repartition"]
    inside = format_number(round(border.result.objective) - round(sisteron))
    assert split == (
        f"Dont {inside} dans les communes du territoire et {format_number(sisteron)} "
        "dans 1 commune(s) voisine(s) à portée des sites."
    )
    # The note on the neighbours says the same number of people (whole, as people).
    assert any(
        f"soit {format_number(sisteron)} usagers potentiels (Sisteron (04209))" in n
        for n in border.notes
    )


def test_cli_and_report_say_the_same_split(border: SitesResult, tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    mobpro = _border_mobpro(tmp_path)
    done = CliRunner().invoke(
        app,
        ["sites", *_options(mobpro), "--out", str(out)],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "400"},
    )
    assert done.exit_code == 0, done.output
    printed = " ".join(done.output.split())
    value = format_number(border.result.objective)
    assert f"{value} usagers potentiels couverts" in printed
    assert objective_split(border) in printed
    report = " ".join(unescape((out / "sites.html").read_text(encoding="utf-8")).split())
    assert f"{value} usagers potentiels couverts" in report
    assert objective_split(border) in report
    assert objective_split(border) in " ".join(unescape(render_sites(border)).split())


def test_no_split_without_neighbours(border: SitesResult) -> None:
    assert objective_split(replace(border, objective_outside=0.0, outside_covered=0)) == ""


def test_the_gap_never_rounds_to_a_false_zero() -> None:
    assert format_gap(0.0) == "0\u202f%"
    assert format_gap(0.00003) == "moins de 0,01\u202f%"
    assert format_gap(0.0037) == "0,37\u202f%"
    assert format_gap(0.00005) == "0,01\u202f%"
    assert pytest.approx(1e-4) == MIP_GAP


def test_the_solver_reason_names_its_tolerance_and_the_gap_achieved(
    border: SitesResult,
) -> None:
    reason = border.result.reason
    assert "à 0,01\u202f% près" not in reason  # the tolerance is not the gap proven
    assert f"écart prouvé à l'optimum : {format_gap(border.result.gap)} (" in reason
    assert "sa tolérance de 0,01\u202f%" in reason
    summary = sites_summary(border)
    assert summary["raison"] == reason


def test_readers_tables_have_no_coordinates_nor_repeated_codes(border: SitesResult) -> None:
    labels = column_labels()
    tables = sites_summary(border)["tables"]
    for name, table in tables.items():
        columns = table["columns"]
        assert "latitude" not in columns, name
        assert "longitude" not in columns, name
        shown = [labels.get(c, c) for c in columns]
        assert len(set(shown)) == len(shown), (name, shown)
    # Each site is a commune: its code once (the CSV keeps code_commune).
    assert "code_commune" not in tables["sites"]["columns"]
    assert "code_commune" in border.sites.columns
    assert "latitude" in border.sites.columns
    page = unescape(render_sites(border))
    header = re.search(r"<h2>Sites retenus</h2>(.*?)</table>", page, re.DOTALL)
    assert header
    assert "Latitude" not in header.group(1)


def test_readers_tables_drop_the_columns_empty_on_every_row(border: SitesResult) -> None:
    # Without a directory the base community and theme columns are empty: the page does
    # not show them (the CSV keeps them), and the note says no base community was required.
    assert border.sites["communaute_base"].fillna("").astype(str).str.strip().eq("").all()
    columns = sites_summary(border)["tables"]["sites"]["columns"]
    assert "communaute_base" not in columns
    assert "communaute_base" in border.sites.columns
    assert {"rang", "code", "nom", "valeur"} <= set(columns)
    assert any(n.startswith("Aucune communauté-base exigée") for n in border.notes)
    assert not any(n.startswith("Sans annuaire") for n in border.notes)
