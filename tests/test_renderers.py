"""Renderers: one Jinja environment and base template, text/bytes out, no disk, escaping,
GeoJSON through Shapely, spreadsheet-safe CSV exports that read back."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from markupsafe import Markup

from tierslieux.config import Settings
from tierslieux.i18n import gettext, use_language
from tierslieux.pipeline import (
    CommunitiesRequest,
    DiagnoseRequest,
    SitesRequest,
    SurveyAnalysisRequest,
    analyse_survey,
    demo_files,
    demo_note,
    export_answers,
    run_communities,
    run_diagnosis,
    run_sites,
    submit_answers,
    synthetic_note,
)
from tierslieux.pipeline.contacts import read_structures
from tierslieux.reports.communities import communities_files, render_communities
from tierslieux.reports.diagnosis import diagnosis_files, render_diagnosis
from tierslieux.reports.geojson import feature_collection, geojson_bytes
from tierslieux.reports.labels import column_label
from tierslieux.reports.sites import render_sites, sites_files
from tierslieux.reports.survey import render_survey, survey_files
from tierslieux.reports.templates import environment, render_page, split_notes
from tierslieux.sources._files import read_csv_strings
from tierslieux.store import dispose_engine, open_repositories, upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

SCRIPT = "<script>alert(1)</script>"
#: Names a spreadsheet would run as formulas.
FORMULAS = ('=HYPERLINK("http://x.invalid","clic")', "\t=1+1", "@SUM(A1:A2)", "-2+3")
#: The same names once read from a CSV of actors (cells are stripped).
NAMES = tuple(f.strip() for f in FORMULAS)
TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "tierslieux" / "reports" / "templates"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("renderers")


@pytest.fixture(scope="module")
def settings(workdir: Path) -> Settings:
    return Settings(
        offline=True,
        cache_dir=workdir / "cache",
        database_url=f"sqlite:///{workdir / 'base.sqlite'}",
    )


@pytest.fixture(scope="module")
def actors(workdir: Path) -> Path:
    path = workdir / "acteurs.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["nom", "categorie", "code_commune", "identifiant", "themes"])
        writer.writerow([f"Coop {SCRIPT}", "cae", "00108", "", "ess_cooperation"])
        for number, name in enumerate(FORMULAS):
            writer.writerow([name, "scop_scic_tic", f"0010{number + 1}", "", "tic"])
    return path


@pytest.fixture(scope="module")
def communities(settings: Settings, actors: Path) -> Any:
    files = demo_files()
    request = CommunitiesRequest(
        territory="dep:00",
        communes=(files["communes"],),
        zonages=files["zonages"],
        acteurs=actors,
    )
    with use_language("fr"):
        return run_communities(settings, request)


@pytest.fixture(scope="module")
def diagnosis(settings: Settings) -> Any:
    with use_language("fr"):
        result = run_diagnosis(settings, DiagnoseRequest(territory="dep:00", demo=True))
    names = result.communes["nom"].astype(object).copy()
    names.iloc[0] = f"Bourg {SCRIPT}"
    return dataclasses.replace(result, communes=result.communes.assign(nom=names))


@pytest.fixture(scope="module")
def sites(settings: Settings, workdir: Path, communities: Any) -> Any:
    structures = workdir / "structures.csv"
    structures.write_bytes(dict(communities_files(communities))["structures.csv"])
    request = SitesRequest(territory="dep:00", count=2, demo=True, structures=structures)
    with use_language("fr"):
        result = run_sites(settings, request)
    names = result.sites["nom"].astype(object).copy()
    names.iloc[0] = f"Site {SCRIPT}"
    return dataclasses.replace(result, sites=result.sites.assign(nom=names))


@pytest.fixture(scope="module")
def survey(settings: Settings) -> Any:
    with use_language("fr"):
        for number, comment in enumerate([SCRIPT, *FORMULAS]):
            submit_answers(
                settings,
                {
                    "commune_residence": "Bourg-Fictif (FICTIF)",
                    "statut": "independant",
                    "part_ordinateur": "Plus des trois quarts",
                    "envies": "proche",
                    "commentaire": comment,
                    "consentement": "oui",
                },
                demo=True,
                submission=f"formulaire-{number}",
            )
        return analyse_survey(settings, SurveyAnalysisRequest(demo=True))


@pytest.fixture(scope="module")
def pages(diagnosis: Any, communities: Any, sites: Any, survey: Any) -> dict[str, str]:
    with use_language("fr"):
        return {
            "diagnostic": render_diagnosis(diagnosis),
            "communities": render_communities(communities),
            "sites": render_sites(sites),
            "survey": render_survey(survey),
        }


# --- one environment, one base template ------------------------------------------------


def test_one_environment_with_autoescape_and_strict_undefined() -> None:
    env = environment()
    assert env is environment()
    assert env.autoescape("page.html") is True
    assert env.autoescape("page.xml") is True
    with pytest.raises(Exception, match="absent"):
        env.from_string("{{ absent }}").render()
    assert env.from_string("{{ x }}").render(x=SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_a_markup_placeholder_stays_html_in_an_escaped_sentence() -> None:
    """``_()`` of the templates keeps a Markup placeholder (a person with its title) as
    HTML and escapes the sentence and the other placeholders."""
    env = environment()
    template = env.from_string('{{ _("Construit le {when} par {who}.", when=w, who=p) }}')
    shown = template.render(w=SCRIPT, p=Markup('<span title="a">Alice</span>'))
    assert shown == (
        'Construit le &lt;script&gt;alert(1)&lt;/script&gt; par <span title="a">Alice</span>.'
    )
    assert template.render(w="1", p="<b>") == "Construit le 1 par &lt;b&gt;."


def test_every_page_template_extends_base() -> None:
    pages = [p for p in TEMPLATES.glob("*.html") if not p.name.startswith(("_", "base"))]
    assert {p.name for p in pages} == {
        "diagnostic.html",
        "communities.html",
        "sites.html",
        "survey.html",
        "questionnaire.html",
        "dossier.html",
        "flyer.html",
    }
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.startswith('{% extends "base.html" %}'), page.name
        assert "<style" not in text, page.name
        assert "<html" not in text, page.name


def test_every_page_has_one_style_block_and_the_language(pages: dict[str, str]) -> None:
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8").strip()
    for name, page in pages.items():
        assert page.count("<style") == 1, name
        assert css in page, name
        assert page.startswith('<!DOCTYPE html>\n<html lang="fr">'), name
        assert "Content-Security-Policy" in page, name
        assert page.count("<footer>") == 1, name
    with use_language("en"):
        assert render_page("base.html").startswith('<!DOCTYPE html>\n<html lang="en">')


def test_names_are_escaped_in_every_page(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        assert "<script" not in page, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["diagnostic"]
    assert "Coop &lt;script&gt;" in pages["communities"]
    assert "Site &lt;script&gt;" in pages["sites"]
    assert "<script" not in pages["survey"]  # free texts are not shown at all


def test_warnings_in_the_banner_infos_apart(pages: dict[str, str], diagnosis: Any) -> None:
    warnings, infos = split_notes(diagnosis.notes)
    assert warnings == [synthetic_note(), demo_note()]
    assert infos
    page = pages["diagnostic"]
    banner = page[page.index('<div class="alerte"') : page.index("</div>", page.index("alerte"))]
    assert synthetic_note() in banner
    for info in infos:
        assert info not in banner
        assert f'<p class="info">{info}</p>'.replace("'", "&#x27;") in page


def test_wide_tables_scroll_inside_their_container(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        tables = page.count("<table")
        assert tables, name
        # Each in its scrolling box, which takes the keyboard focus (axe-core).
        boxes = re.findall(r'<div class="defile"( tabindex="0")?><table', page)
        assert len(boxes) == tables, name
        assert all(boxes), name
    assert ".defile{overflow-x:auto" in pages["diagnostic"]


# --- renderers return text or bytes and never touch the disk ---------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_diagnostic_method_names_indicators_in_words_not_columns(
    diagnosis: Any, language: str
) -> None:
    """Walk: the method table showed ``actifs_occupes`` beside each label, and its
    definitions sent the reader to ``salaries_lieu_travail_hors_calcul`` and
    ``effectifs_faibles`` — column names, not words an officer reads."""
    with use_language(language):
        page = render_diagnosis(diagnosis)
        apart = column_label("salaries_lieu_travail_hors_calcul")
        active = column_label("actifs_occupes")
        start = page.index(f"<h2>{gettext('Avertissement sur les petits effectifs')}</h2>")
    method = page[start : page.index("<h3>", start)]
    assert re.findall(r"[a-z0-9]+_[a-z0-9_]+", method) == []
    assert "<code>" not in method
    assert f'<th scope="row">{active}</th>' in method
    quoted = {"fr": f"« {apart} »", "en": f"“{apart}”"}[language]
    assert quoted in html.unescape(method)


def test_renderers_do_not_touch_the_disk(
    diagnosis: Any,
    communities: Any,
    sites: Any,
    survey: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a renderer wrote to the disk")

    for name in ("write_text", "write_bytes", "mkdir", "open", "replace", "touch"):
        monkeypatch.setattr(Path, name, forbidden)
    monkeypatch.setattr("builtins.open", forbidden)
    monkeypatch.setattr("os.open", forbidden)
    renderers: list[tuple[Callable[[Any], list[tuple[str, bytes]]], Any, set[str]]] = [
        (
            diagnosis_files,
            diagnosis,
            {"communes.csv", "communes.geojson", "catchments.csv", "bassins.csv"},
        ),
        (communities_files, communities, {"structures.csv", "communities.html"}),
        (sites_files, sites, {"sites.csv", "coverage.csv", "sites.html"}),
        (survey_files, survey, {"respondents.csv", "groups.csv", "survey.html"}),
    ]
    for render, result, expected in renderers:
        files = dict(render(result))
        assert expected <= set(files)
        assert all(isinstance(data, bytes) and data for data in files.values())
    assert isinstance(render_diagnosis(diagnosis), str)


# --- GeoJSON ---------------------------------------------------------------------------


def test_geojson_through_shapely_keeps_numbers_and_refuses_nan(diagnosis: Any) -> None:
    collection = json.loads(dict(diagnosis_files(diagnosis))["communes.geojson"])
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(diagnosis.communes)
    first = collection["features"][0]
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    code = first["properties"]["code"]
    assert first["geometry"]["coordinates"][0][0] == pytest.approx(
        diagnosis.geometries[code]["coordinates"][0][0]
    )
    assert first["properties"]["synthetique"] is True
    assert "avertissement" in collection
    frame = pd.DataFrame(
        {
            "code": ["a", "b", "c"],
            "v": [1.5, float("nan"), float("inf")],
            "latitude": [44.5, float("nan"), 45.0],
            "longitude": [6.1, 6.2, float("inf")],
        }
    )
    data = json.loads(geojson_bytes(feature_collection(frame)))
    features = data["features"]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [6.1, 44.5]}
    assert [f["properties"]["v"] for f in features] == [1.5, None, None]
    assert features[1]["geometry"] is None
    assert features[2]["geometry"] is None
    with pytest.raises(ValueError, match="JSON"):
        geojson_bytes({"type": "FeatureCollection", "x": float("nan")})


def test_structures_geojson_points(communities: Any) -> None:
    collection = json.loads(dict(communities_files(communities))["structures.geojson"])
    located = [f for f in collection["features"] if f["geometry"] is not None]
    assert located
    assert all(f["geometry"]["type"] == "Point" for f in located)
    assert {f["properties"]["nom"] for f in collection["features"]} >= set(NAMES)


# --- spreadsheet-safe CSV exports ------------------------------------------------------


def _column(data: bytes, column: str, delimiter: str = ",") -> list[str]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    return [row[column] for row in reader]


def test_structures_and_communities_csv_are_guarded_and_read_back(
    communities: Any, workdir: Path
) -> None:
    files = dict(communities_files(communities))
    names = _column(files["structures.csv"], "nom")
    for name in NAMES:
        assert "'" + name in names
        assert name not in names
    reach = _column(files["communities.csv"], "structures_communaute")
    assert not any(re.match(r"[ \t]*[=+\-@\t\r]", cell) for cell in reach)
    path = workdir / "relu" / "structures.csv"
    path.parent.mkdir()
    path.write_bytes(files["structures.csv"])
    # ``sites`` and ``contacts load`` read the names back as they were computed.
    assert set(NAMES) <= set(read_csv_strings(path, role="structures")["nom"])
    assert set(NAMES) <= {row["nom"] for row in read_structures(path)}


def test_sites_csv_is_guarded_once(sites: Any) -> None:
    cells = _column(dict(sites_files(sites))["sites.csv"], "structures_communaute")
    assert any(NAMES[0] in cell for cell in cells)
    assert not any(cell.startswith("''") for cell in cells)
    for cell in cells:
        assert not re.match(r"[ \t]*[=+\-@\t\r]", cell), cell


def test_groups_csv_is_guarded(survey: Any) -> None:
    analysis = dataclasses.replace(
        survey,
        groups=pd.DataFrame(
            {
                "groupe": [1],
                "theme": ["=1+1"],
                "repondants": ["R1"],
                "membres": [3],
                "noms_communes": ["@Gap"],
                "diametre_minutes": [12.5],
            }
        ),
    )
    files = dict(survey_files(analysis))
    assert _column(files["groups.csv"], "theme") == ["'=1+1"]
    assert _column(files["groups.csv"], "noms_communes") == ["'@Gap"]
    assert "<td>@Gap</td>" in files["survey.html"].decode()  # the page shows the text


def test_survey_export_guards_every_formula(settings: Settings, survey: Any, workdir: Path) -> None:
    del survey  # the answers are stored
    out = workdir / "export.csv"
    export_answers(settings, out)
    comments = _column(out.read_bytes(), "commentaire", delimiter=";")
    for name in NAMES:  # answers are stored stripped
        assert "'" + name in comments


def test_contacts_export_is_guarded_and_imports_back(communities: Any, workdir: Path) -> None:
    structures = workdir / "contacts-structures.csv"
    structures.write_bytes(dict(communities_files(communities))["structures.csv"])
    urls = [f"sqlite:///{workdir / name}" for name in ("contacts-a.sqlite", "contacts-b.sqlite")]
    for url in urls:
        upgrade(url)
    source, target = (open_repositories(url) for url in urls)
    try:
        rows = read_structures(structures)
        source.structures.upsert_structures(rows)
        target.structures.upsert_structures(rows)
        identifiant = next(r["identifiant"] for r in rows if r["nom"] == NAMES[0])
        for formula in FORMULAS:
            source.contacts.add_note(identifiant, formula, author="@alice")
        path = workdir / "contacts.csv"
        source.contacts.export_csv(path)
        text = path.read_text(encoding="utf-8")
        reader = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
        notes = [r["texte"] for r in reader if r["nature"] == "note"]
        assert sorted(notes) == sorted("'" + n for n in NAMES)  # notes are stored stripped
        assert {r["auteur"] for r in reader if r["auteur"]} == {"'@alice"}
        assert any(r["nom"] == "'" + NAMES[0] for r in reader)
        target.contacts.import_csv(path)
        history = target.contacts.get_contact(identifiant).history
        imported = sorted(e.text for e in history if e.kind == "note")
        assert imported == sorted(NAMES)
        assert {e.author for e in history if e.kind == "note"} == {"@alice"}
    finally:
        for url in urls:
            dispose_engine(url)


def test_communities_page_shows_openness_labels_not_codes(communities: Any) -> None:
    page = render_communities(communities)
    assert "« à élargir »" in page
    assert "« fermée »" in page
    assert "a_elargir" not in page
    assert "« fermee »" not in page
