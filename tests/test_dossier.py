"""The territory dossier (issue 15): PDF, workbook, GeoPackage and uMap file of the demo.

One dossier is made for the module, on the fictional demo territory with a few
questionnaire answers, through :func:`tierslieux.reports.dossier.make_dossier` (the
call a web job makes); the tests read its files back.  The PDF's pages are rendered
to PNG in ``build/dossier-pages/`` (when ``pdftoppm`` is installed) for a reader to
look at.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from tierslieux.config import Settings
from tierslieux.i18n import format_number
from tierslieux.model.siting import format_gap
from tierslieux.model.types import ProgressEvent
from tierslieux.pipeline import InputFiles, SurveyContext, load_inputs
from tierslieux.pipeline.dossier import DossierRequest
from tierslieux.pipeline.inputs import territory_name
from tierslieux.reports.diagnosis import diagnosis_files
from tierslieux.reports.dossier import DOSSIER_FILES, WrittenDossier, make_dossier
from tierslieux.reports.dossier.geopackage import LAYER_STYLES_COLUMNS
from tierslieux.reports.dossier.pdf import render_dossier_html
from tierslieux.reports.labels import column_label, survey_theme_label, value_label
from tierslieux.reports.sites import sites_files

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "build" / "dossier-pages"

_ANSWERS = [
    (
        "Bourg-Fictif (FICTIF)",
        "independant",
        "envies",
        "proche;convivial",
        "vie_quotidienne",
        "enfants",
    ),
    (
        "Bourg-Fictif (FICTIF)",
        "salarie",
        "envies",
        "proche;rencontres",
        "vie_quotidienne",
        "enfants",
    ),
    ("Val-d'Exemple (FICTIF)", "independant", "envies", "convivial", "vie_quotidienne", "enfants"),
    (
        "Villedémo (FICTIF)",
        "associatif",
        "envies",
        "flexible",
        "vie_quotidienne",
        "circuits_courts",
    ),
]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[WrittenDossier, list[ProgressEvent]]:
    folder = tmp_path_factory.mktemp("dossier")
    settings = Settings(
        offline=True,
        cache_dir=folder / "cache",
        database_url=f"sqlite:///{folder / 'dossier.sqlite'}",
    )
    inputs = load_inputs(settings, InputFiles(demo=True))
    survey = SurveyContext.from_inputs(settings, inputs)
    for index, (commune, status, q1, a1, q2, a2) in enumerate(_ANSWERS):
        survey.submit(
            {
                "commune_residence": commune,
                "statut": status,
                "part_ordinateur": "Plus des trois quarts",
                q1: a1,
                q2: a2,
                "consentement": "oui",
            },
            submission=f"dossier-{index}",
        )
    events: list[ProgressEvent] = []
    written = make_dossier(
        settings,
        DossierRequest(territory="dep:00", demo=True, count=2),
        folder / "out",
        inputs=inputs,
        progress=events.append,
    )
    return written, events


def _text(pdf: bytes) -> list[str]:
    from pypdf import PdfReader  # noqa: PLC0415

    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    return [re.sub(r"\s+", " ", p.replace("\u202f", " ").replace("\xa0", " ")) for p in pages]


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_files_and_progress(made: tuple[WrittenDossier, list[ProgressEvent]]) -> None:
    written, events = made
    assert sorted(p.name for p in written.files) == sorted(DOSSIER_FILES)
    fractions = [e.fraction for e in events if e.fraction is not None]
    assert fractions == sorted(fractions)  # one bar, never going back
    assert fractions[-1] == 1.0
    assert {"diagnostic", "communautes", "questionnaire", "sites", "ecriture"} <= {
        e.phase for e in events
    }
    assert written.dossier.survey is not None
    assert written.dossier.sites is not None


def test_pdf_text_has_the_figures_name_and_banners(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    written, _events = made
    dossier = written.dossier
    pages = _text((written.files[0].parent / "dossier.pdf").read_bytes())
    text = " ".join(pages)
    assert dossier.territory_name in pages[0]
    for page in pages:  # the running banner is on every page
        assert "SYNTHÉTIQUE" in page
        assert "FICTIF" in page
    # Key figures of the CSV files, as the other commands write them.
    files = dict(diagnosis_files(dossier.diagnosis))
    communes = pd.read_csv(io.BytesIO(files["communes.csv"]), dtype={"code": str})
    assert _plain(format_number(communes["potentiel"].sum())) in text
    assert _plain(format_number(communes["actifs_occupes"].sum())) in text
    assert dossier.sites is not None
    sites = pd.read_csv(io.BytesIO(dict(sites_files(dossier.sites))["sites.csv"]), dtype=str)
    for name in sites["nom"]:
        assert name in text
    for gain in sites["gain_marginal"].astype(float):
        assert _plain(format_number(gain)) in text
    # Readers' labels, never column names or codes.
    assert "Gain marginal" in text
    for raw in ("gain_marginal", "structures_communaute", "vie:enfants", "acteur_developpement"):
        assert raw not in text
    assert "engine = " not in text
    assert "detour_factor" not in text


def test_pdf_counts_of_people_are_whole_numbers(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    """Weighted census counts and rates per 1,000 read « 52 », never « 51,6 »; the sites'
    base community is named by its structures, not by the word « structures »."""
    from tierslieux.reports.dossier.pdf import _context  # noqa: PLC0415

    written, _events = made
    context = _context(written.dossier)
    for key in ("communes_table", "catchments_table", "bassins_table"):
        table = context[key]
        for index, column in enumerate(table["columns"]):
            if column["numeric"] and column["label"] != column_label("diametre_minutes"):
                for row in table["rows"]:
                    assert "," not in row[index], (key, column["label"], row[index])
    sites = context["sites_table"]
    labels = [c["label"] for c in sites["columns"]]
    base = labels.index(column_label("communaute_base"))
    assert column_label("structures_communaute") not in labels  # not repeated
    for row in sites["rows"]:
        assert row[base] not in {"structures", "non", ""}
        assert "(FICTIVE)" in row[base]
        for index, column in enumerate(sites["columns"]):
            if column["numeric"]:
                assert "," not in row[index], (column["label"], row[index])


def test_pdf_pages_rendered_to_png(made: tuple[WrittenDossier, list[ProgressEvent]]) -> None:
    written, _events = made
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) absent")
    if PAGES.exists():
        shutil.rmtree(PAGES)
    PAGES.mkdir(parents=True)
    pdf = written.files[0].parent / "dossier.pdf"
    command = [pdftoppm, "-r", "60", "-png", str(pdf), str(PAGES / "page")]
    subprocess.run(command, check=True, timeout=120)  # noqa: S603 (fixed arguments)
    pages = sorted(PAGES.glob("page-*.png"))
    assert len(pages) == len(_text(pdf.read_bytes()))


def test_maps_share_the_page_of_their_part(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    """Each map (and its legend) is printed on the page its part starts on: a map too
    tall for the room left went to the next page and left this one mostly blank."""
    written, _events = made
    pages = _text((written.files[0].parent / "dossier.pdf").read_bytes())

    def page_of(title: str) -> str:
        return next(p for p in pages if title in p)

    diagnostic = page_of("1. Diagnostic")
    assert "Carte : usagers potentiels pour 1 000 actifs occupés" in diagnostic
    assert "par commune de résidence" in diagnostic  # the legend's unit
    assert "Ouverture de la communauté-base du bassin de" in page_of("2. Communautés-base")
    assert "Communes à moins de" in page_of("4. Sites d'expérimentation")


def test_pdf_words_for_roles_occupations_sites_and_solver(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    written, _events = made
    dossier = written.dossier
    text = " ".join(_text((written.files[0].parent / "dossier.pdf").read_bytes()))
    assert "Recensement : navettes domicile-travail (MOBPRO)" in text
    assert "CS1 3 (Cadres et professions intellectuelles supérieures)" in text
    assert "Solveur : HiGHS" in text
    assert dossier.sites is not None
    # The alternatives and the sensitivity name their sites, not their INSEE codes.
    for codes in dossier.sites.alternatives["sites"].dropna():
        for code in str(codes).split(";"):
            if code:
                assert f" {code}" not in text, text[
                    text.find(f" {code}") - 200 : text.find(f" {code}") + 50
                ]


def test_a_part_without_content_follows_the_previous_one(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    written, _events = made
    with_survey = render_dossier_html(written.dossier)
    without = render_dossier_html(replace(written.dossier, survey=None))
    assert 'class="partie courte"' not in with_survey
    assert 'class="partie courte"' in without


def test_no_table_wider_than_the_page(made: tuple[WrittenDossier, list[ProgressEvent]]) -> None:
    from weasyprint import HTML  # noqa: PLC0415
    from weasyprint.formatting_structure.boxes import TableBox, TextBox  # noqa: PLC0415

    written, _events = made
    document = HTML(string=render_dossier_html(written.dossier)).render()
    tables = 0

    words = 0

    def walk(box: Any, right: float, table: float | None = None) -> None:
        nonlocal tables, words
        if isinstance(box, TableBox):
            tables += 1
            assert box.position_x + box.margin_width() <= right + 0.5, box.element.get("class")
            table = box.position_x + box.margin_width()
        elif table is not None and isinstance(box, TextBox) and box.text.strip():
            # No word of a cell runs out of its table (a long number or name kept on
            # one line would print over the margin even in a table of the page's width).
            assert box.position_x + box.width <= table + 0.5, box.text
            words += 1
        for child in getattr(box, "children", ()):
            walk(child, right, table)

    for page in document.pages:
        root = page._page_box
        right = root.content_box_x() + root.width
        walk(root, right)
    assert tables > 10
    assert words > 500


def test_workbook_types_headers_panes_filters(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # noqa: PLC0415

    written, _events = made
    book = load_workbook(written.files[0].parent / "dossier.xlsx")
    assert {"Communes", "Structures", "Communautés-base", "Sites", "Typologie", "Sources"} <= set(
        book.sheetnames
    )
    for sheet in book.worksheets:
        headers = [cell.value for cell in sheet[1]]
        assert all(isinstance(h, str) and "_" not in h for h in headers), (sheet.title, headers)
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref
    communes = book["Communes"]
    headers = [cell.value for cell in communes[1]]
    row = list(communes[2])
    code = row[headers.index(column_label("code"))]
    assert code.data_type == "s"
    assert re.fullmatch(r"00\d{3}", code.value)
    # A weighted count of people: the exact value in the cell, shown rounded to the unit.
    potential = row[headers.index(column_label("potentiel"))]
    assert isinstance(potential.value, float)
    assert not potential.value.is_integer()
    assert potential.number_format == "#,##0"
    rate = row[headers.index(column_label("taux_potentiel"))]
    assert rate.number_format == "#,##0"
    flagged = {
        c.value
        for c in next(
            communes.iter_cols(
                min_col=headers.index(column_label("effectifs_faibles")) + 1,
                max_col=headers.index(column_label("effectifs_faibles")) + 1,
                min_row=2,
            )
        )
    }
    assert "tic" not in flagged  # indicators in words, not their codes
    sites = book["Sites"]
    site_headers = [cell.value for cell in sites[1]]
    assert len(set(site_headers)) == len(site_headers)
    base = sites.cell(2, site_headers.index(column_label("communaute_base")) + 1).value
    assert base not in {"structures", "non"}
    assert "(FICTIVE)" in base  # the names of the base community's structures
    assert (
        sites.cell(2, site_headers.index(column_label("gain_marginal")) + 1).number_format
        == "#,##0"
    )
    for sheet in book.worksheets:  # no two columns with the same header
        headers = [cell.value for cell in sheet[1]]
        assert len(set(headers)) == len(headers), (sheet.title, headers)
    sources = book["Sources"]
    assert [c.value for c in sources[1]][:4] == [
        "Rôle",
        "Fichier ou adresse",
        "Millésime",
        "Licence",
    ]
    structures = book["Structures"]
    categories = {c.value for c in next(structures.iter_cols(min_col=3, max_col=3, min_row=2))}
    assert "acteur_developpement" not in categories


def test_geopackage_layers_crs_counts_styles(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    import pyogrio  # noqa: PLC0415

    written, _events = made
    dossier = written.dossier
    path = written.files[0].parent / "dossier.gpkg"
    layers = {name for name, _kind in pyogrio.list_layers(path)}
    assert {
        "communes",
        "bassins_de_vie",
        "intercommunalites",
        "departement",
        "structures",
        "lieux_existants",
        "sites",
        "couverture",
        "bassins_20min",
    } <= layers
    info = pyogrio.read_info(path, layer="communes")
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == len(dossier.diagnosis.communes)
    assert dossier.sites is not None
    assert pyogrio.read_info(path, layer="sites")["features"] == len(dossier.sites.sites)
    with sqlite3.connect(path) as connection:  # the base community named, not « structures »
        bases = [row[0] for row in connection.execute("SELECT communaute_base FROM sites")]
    assert all("(FICTIVE)" in base for base in bases), bases
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(layer_styles)")]
        styles = connection.execute(
            "SELECT f_table_name, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
    assert tuple(c for c in columns if c != "id") == LAYER_STYLES_COLUMNS
    styled = {name for name, _qml, _default in styles}
    assert styled == layers - {"layer_styles"}
    for _name, qml, default in styles:  # QGIS style documents, used by default
        assert default == 1
        root = ET.fromstring(qml)  # noqa: S314 (our own output)
        assert root.tag == "qgis"
        renderer = root.find("renderer-v2")
        assert renderer is not None
        assert renderer.find("symbols") is not None


def test_umap_geojson(made: tuple[WrittenDossier, list[ProgressEvent]]) -> None:
    written, _events = made
    collection = json.loads((written.files[0].parent / "dossier-umap.geojson").read_bytes())
    assert collection["type"] == "FeatureCollection"
    assert "avertissement" in collection["properties"]
    for feature in collection["features"]:
        properties = feature["properties"]
        assert properties["name"]
        assert "description" in properties
        assert "_umap_options" in properties
        assert all("_" not in key for key in properties if key != "_umap_options")
    names = [f["properties"]["name"] for f in collection["features"]]
    assert any(name.startswith("Site 1") for name in names)
    site = next(f for f in collection["features"] if f["properties"]["name"].startswith("Site 1"))
    assert "Communauté-base : structures." not in site["properties"]["description"]
    assert "(FICTIVE)" in site["properties"]["description"]
    # Counts of people are whole numbers, as in the tables (weighted census counts).
    people = (column_label("actifs_occupes"), column_label("potentiel"))
    communes = [f for f in collection["features"] if people[0] in f["properties"]]
    assert communes
    for feature in communes:
        for key in people:
            value = feature["properties"][key]
            assert value is None or isinstance(value, int), (key, value)
    assert written.dossier.sites is not None
    if written.dossier.sites.objective == "couverture":
        assert isinstance(site["properties"][column_label("valeur")], int)


def test_labels_are_french() -> None:
    assert column_label("gain_marginal") == "Gain marginal"
    assert "enfants" in survey_theme_label("vie:enfants").lower()
    assert value_label("categorie", "acteur_developpement").startswith("Acteur du développement")
    assert value_label("themes", "tic;circuits_courts") == "Numérique (TIC), Circuits courts"
    assert value_label("communaute_base", "structures ; groupe 2") == (
        "structures de l'annuaire ; groupe 2 du questionnaire"
    )
    assert value_label("communaute_base", "non") == "aucune"
    assert value_label("communaute_base", True) is True  # the communities' flag: kept
    assert value_label("effectifs_faibles", "tic;independants") == (
        "Actifs du secteur information-communication (TIC), Indépendants et employeurs"
    )
    assert value_label("solveur", "highs") == "HiGHS"


def test_territory_official_name() -> None:
    inputs: Any = SimpleNamespace(
        fictional=False,
        communes=None,
        zonages=SimpleNamespace(labels={"dep": {"05": "Hautes-Alpes"}, "epci": {}}),
    )
    assert territory_name(inputs, "dep:05") == "Hautes-Alpes"
    assert territory_name(inputs, "epci:200067445") == "EPCI 200067445"  # no label: kept
    # A communes file naming its zones (dep_nom, epci_nom...) names them too.
    table = pd.DataFrame(
        {"code": ["05061"], "dep": ["05"], "epci": ["200067445"], "epci_nom": ["CA Gap-Tallard"]}
    )
    named: Any = SimpleNamespace(
        fictional=False, communes=SimpleNamespace(table=table), zonages=None
    )
    assert territory_name(named, "epci:200067445") == "CA Gap-Tallard"


def test_cli_dossier(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from tierslieux.cli import app  # noqa: PLC0415

    result = CliRunner().invoke(
        app,
        [
            "dossier",
            "--demo",
            "--count",
            "2",
            "--sans-questionnaire",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(
        p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")
    ) == sorted(DOSSIER_FILES)
    assert "Territoire fictif de démonstration" in result.output


def test_a_dossier_job_is_cancelled_at_a_progress_point(tmp_path: Path) -> None:
    from tierslieux.pipeline import JobRunner, JobStatus  # noqa: PLC0415

    settings = Settings(
        offline=True,
        cache_dir=tmp_path / "cache",
        database_url=f"sqlite:///{tmp_path / 'job.sqlite'}",
    )
    with JobRunner(max_workers=1) as runner:
        job = runner.submit(
            make_dossier, settings, DossierRequest(territory="dep:00", demo=True), tmp_path / "out"
        )
        job.cancel()
        assert job.wait(300)
    assert job.status is JobStatus.CANCELLED
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_maps_made_for_print(made: tuple[WrittenDossier, list[ProgressEvent]]) -> None:
    """Each map: legend with its title (and unit), scale bar, north arrow, the three
    outlines, names of the sites' communes and of the main towns, structures with their
    own symbols, sites numbered as in the tables; rates coloured beside counts."""
    from html import escape  # noqa: PLC0415

    from tierslieux.reports.dossier.pdf import _main_towns, _maps  # noqa: PLC0415

    written, _events = made
    dossier = written.dossier
    assert dossier.sites is not None
    maps = _maps(dossier)
    assert set(maps) == {"potentiel", "communautes", "sites"}
    names = dict(
        zip(
            dossier.diagnosis.communes["code"].astype(str),
            dossier.diagnosis.communes["nom"],
            strict=True,
        )
    )
    always = [*dossier.sites.sites["code_commune"].astype(str), *_main_towns(dossier)]
    for key, svg in maps.items():
        text = str(svg)
        assert 'class="titre-legende"' in text, key
        assert '<g class="echelle">' in text, key
        assert " km</text>" in text, key
        assert '<g class="nord">' in text, key
        for outline in ("Département", "Intercommunalités (EPCI)", "Bassins de vie 2022"):
            assert outline in text, (key, outline)
        for code in always:  # always named, in bold
            assert f'font-weight="bold" fill="#000">{escape(names[code])}</text>' in text, (
                key,
                names[code],
            )
        if key != "potentiel":
            for rank in dossier.sites.sites["rang"]:  # numbered as in the tables
                assert f'fill="#fff">{rank}</text>' in text, (key, rank)
            assert escape("Site d'expérimentation (numéro des tableaux)") in text
    potential = str(maps["potentiel"])
    assert "Usagers potentiels pour 1 000 actifs occupés (par commune de résidence)" in potential
    assert escape("Cercles : nombre d'usagers potentiels") in potential  # counts beside the rate
    communities = str(maps["communautes"])
    for label in ("Coopérative d'activité et d'emploi (étape 1)", "Tiers-lieu existant"):
        assert escape(label) in communities
    # Distinct shapes: circles (CAE), squares (SCOP), polygons (stars, triangles...).
    assert "<rect " in communities
    assert "<polygon " in communities


def test_sites_screen_tables_round_people_and_say_codes_in_words(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    """The web sites screen's tables (``sites_summary``) share the rule: people counted
    as whole numbers, a site's base community in words, not « structures »."""
    from tierslieux.reports.sites import sites_summary  # noqa: PLC0415

    written, _events = made
    assert written.dossier.sites is not None
    tables = sites_summary(written.dossier.sites)["tables"]
    sites = tables["sites"]
    for column in ("valeur", "gain_marginal", "perte_si_retire"):
        index = sites["columns"].index(column)
        assert all("," not in row[index] for row in sites["rows"]), column
    base = sites["columns"].index("communaute_base")
    assert all(row[base] == "structures de l'annuaire" for row in sites["rows"])
    alternatives = tables["alternatives"]
    loss = alternatives["columns"].index("perte")
    assert all("," not in row[loss] for row in alternatives["rows"])


def _tile(url: str) -> bytes:
    """A fake tile server's answer: a 256-pixel PNG (no network in the tests)."""
    from PIL import Image  # noqa: PLC0415

    del url
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 240)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_optional_basemap_under_the_print_maps(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    """Off by default; when asked, its tiles are warped under every map with its credit;
    when they cannot be loaded the maps are drawn without it (never required)."""
    from tierslieux.reports.dossier import Basemap  # noqa: PLC0415
    from tierslieux.reports.dossier.pdf import _maps  # noqa: PLC0415

    written, _events = made
    dossier = written.dossier
    assert all("<image " not in str(svg) for svg in _maps(dossier).values())
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return _tile(url)

    basemap = Basemap("https://tuiles.exemple/{z}/{x}/{y}.png", "© tuiles d'essai", fetch)
    with_tiles = _maps(dossier, basemap)
    for svg in with_tiles.values():
        assert '<image href="data:image/png;base64,' in str(svg)
        assert "tuiles d&#x27;essai" in str(svg)
    assert asked
    assert all(re.fullmatch(r"https://tuiles\.exemple/\d+/\d+/\d+\.png", u) for u in asked)

    def offline(url: str) -> bytes:
        raise OSError(url)

    without = _maps(dossier, Basemap("https://tuiles.exemple/{z}/{x}/{y}.png", "", offline))
    assert set(without) == set(with_tiles)
    assert all("<image " not in str(svg) for svg in without.values())


def test_cli_refuses_a_basemap_that_is_not_a_tile_template(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from tierslieux.cli import app  # noqa: PLC0415

    result = CliRunner().invoke(
        app,
        [
            "dossier",
            "--demo",
            "--basemap-url",
            "http://tuiles.exemple/carte.png",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code != 0
    assert "Adresse du fond de carte invalide" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_cli_offline_draws_the_maps_without_basemap(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from tierslieux.cli import app  # noqa: PLC0415

    result = CliRunner().invoke(
        app,
        [
            "dossier",
            "--demo",
            "--offline",
            "--sans-questionnaire",
            "--sans-sites",
            "--basemap-url",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Hors ligne : fond de carte ignoré" in result.output
    assert (tmp_path / "out" / "dossier.pdf").exists()


def test_a_tiny_proven_gap_is_not_printed_as_zero(
    made: tuple[WrittenDossier, list[ProgressEvent]],
) -> None:
    # HiGHS stops under its tolerance: a gap of 0.003 % is « moins de 0,01 % », not
    # « 0,0 % » (which would claim the bound is met); the same words as the sites screen.
    written, _events = made
    sites = written.dossier.sites
    assert sites is not None
    tiny = replace(sites, result=replace(sites.result, gap=0.00003))
    page = render_dossier_html(replace(written.dossier, sites=tiny))
    assert f"plus de {format_gap(0.00003)} (écart prouvé" in page
    assert format_gap(0.00003).startswith("moins de 0,01")
    assert "Écart prouvé : " + format_gap(0.00003) in page
