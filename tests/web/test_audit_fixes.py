"""Defects found by the new-user audit of the integrated build (issues 13 and 14)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from web_helpers import create_project, csrf, logged_in

from tierslieux.errors import SchemaError
from tierslieux.model.territory import parse_territory
from tierslieux.model.types import file_name
from tierslieux.pipeline.dossier import DossierRequest, _display_name
from tierslieux.pipeline.inputs import demo_files
from tierslieux.pipeline.project_dossier import DOSSIER_KIND
from tierslieux.pipeline.project_runs import RunOutcome
from tierslieux.pipeline.projects import DATASET_ROLES, territory_display_name
from tierslieux.pipeline.readers import read_respondents, read_structures_table
from tierslieux.pipeline.site_scenarios import _results, save_scenario
from tierslieux.reports.survey import _typology_row, _typology_svg
from tierslieux.reports.templates import environment

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "tierslieux" / "reports" / "templates"


def test_merged_communes_files_are_both_named_in_the_sources() -> None:
    # A project's two communes files are merged: the sources table must name both,
    # not only the last one (the communes CSV with the populations vanished).
    merged = "/srv/in/communes.csv + /srv/in/communes-provence-alpes-cote-d-azur.geojson"
    assert file_name(merged) == "communes.csv + communes-provence-alpes-cote-d-azur.geojson"
    assert file_name("/srv/in/communes.csv") == "communes.csv"


def test_the_public_form_names_the_territory_not_its_code() -> None:
    # The project's files (a communes CSV and the zonings table) give no EPCI name:
    # the public form showed residents « EPCI 200067742 » under its title although
    # the project was created on « Communauté de communes Serre-Ponçon ».
    project_label = "Communauté de communes Serre-Ponçon (EPCI 200067742, 17 communes)"
    shown = territory_display_name("EPCI 200067742", "epci:200067742", project_label)
    assert shown == "Communauté de communes Serre-Ponçon"
    # A name read from the files is kept; a project with no better name keeps the code.
    assert territory_display_name("CC X", "epci:200067742", project_label) == "CC X"
    assert territory_display_name("Département 05", "dep:05", "Département 05") == (
        "Département 05"
    )


def test_the_scenario_comparison_names_the_sites() -> None:
    # « Comparer les scénarios » listed the chosen sites as bare codes (« 05156, 05040 »)
    # while the results page names them: the names come from the run's table of sites.
    summary = {
        "sites": ["05156", "05040"],
        "tables": {
            "sites": {
                "columns": ["rang", "code", "nom"],
                "rows": [["1", "05156", "Saint-Sauveur"], ["2", "05040", "Chorges"]],
            }
        },
    }
    rows = dict(_results(summary))
    assert rows["Sites"] == "Saint-Sauveur (05156), Chorges (05040)"
    assert dict(_results({"sites": ["05156"]}))["Sites"] == "05156"


def test_the_typology_chart_shrinks_to_a_phone() -> None:
    # A fixed 704 px chart made the questionnaire and campaign screens 704 px wide on
    # a phone: with a viewBox and the « graphique » class (max-width 100 %) it shrinks.
    typology = pd.DataFrame(
        [{"libelle": "Hommes", "part": 0.5, "ic95_bas": 0.2, "ic95_haut": 0.8, "reference": 0.67}]
    )
    svg = _typology_svg(typology)
    assert 'viewBox="0 0 ' in svg
    assert 'class="graphique"' in svg
    style = (TEMPLATES / "style.css").read_text("utf-8")
    assert "svg.graphique{max-width:100%;height:auto}" in style


def test_scrolling_tables_of_the_survey_results_take_the_keyboard_focus() -> None:
    # axe-core (serious, scrollable-region-focusable) on the questionnaire and campaign
    # screens: a table that scrolls sideways on a phone must be reachable by keyboard.
    for name in ("_survey.html", "_macros.html"):
        source = (TEMPLATES / name).read_text("utf-8")
        assert '<div class="defile">' not in source, name


def test_the_dossier_page_names_the_territory_not_its_code(app, accounts, repos) -> None:
    # The project's files give no name: the dossier page read « Dossier de EPCI
    # 200067742 » although the project was created on its official name.
    project = create_project(app, accounts, repos)
    view = repos.projects.get_project(project)
    generic = parse_territory(view.territory).label()
    official = territory_display_name(generic, view.territory, view.territory_label)
    assert official != generic
    run = app.state.runs.start(
        project,
        DOSSIER_KIND,
        lambda **_: RunOutcome(summary={"territoire": generic}),
        actor="test",
    )
    assert app.state.runs.wait(run.id, 30)
    page = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/dossier").text
    assert f"Dossier du territoire « {official} » préparé" in page
    assert f"« {generic} »" not in page


def test_the_dossier_and_its_survey_take_the_official_name() -> None:
    request = DossierRequest(territory="epci:200067742", territory_name="CC Serre-Ponçon")
    assert _display_name("EPCI 200067742", request) == "CC Serre-Ponçon"
    assert _display_name("CC lue", request) == "CC lue"
    assert _display_name("EPCI 200067742", DossierRequest(territory="epci:200067742")) == (
        "EPCI 200067742"
    )


def test_web_texts_name_no_command_where_the_web_has_the_action() -> None:
    # The project's files form read « groups.csv de tierslieux survey analyse » and
    # the questionnaire screen « le seuil … que tierslieux sites exige »: the web
    # user has screens for both.
    for role, label in DATASET_ROLES.items():
        assert "tierslieux " not in label, role
    survey = (TEMPLATES / "_survey.html").read_text(encoding="utf-8")
    assert "« tierslieux sites »" not in survey


def test_a_wrong_file_on_the_sites_form_names_no_command(tmp_path: Path) -> None:
    # A respondents or structures file without its columns, picked on the sites form,
    # was refused with « fichier respondents.csv de « tierslieux survey analyse » ».
    wrong = tmp_path / "x.csv"
    wrong.write_text("a;b\n1;2\n", encoding="utf-8")
    for reader in (read_respondents, read_structures_table):
        with pytest.raises(SchemaError) as refused:
            reader(wrong)
        assert "tierslieux " not in str(refused.value)


def test_the_scenario_comparison_shows_the_installations_minutes(app, accounts, repos) -> None:
    # « Bassin : réglage de l'installation » hid how many minutes a scenario used.
    # The page crashed too when no compared scenario had a finished run.
    project = create_project(app, accounts, repos)
    actor = repos.users.get_user(accounts["charge_de_mission"])
    saved = save_scenario(
        repos, project, name="Défaut", territory="dep:00", parameters={}, actor=actor
    )
    page = logged_in(app, accounts["lecteur"]).get(
        f"/projets/{project}/scenarios/comparer?ids={saved.id}"
    )
    assert page.status_code == 200
    # (and a comparison of scenarios never computed no longer fails: empty results)
    text = html.unescape(page.text)
    assert re.search(r"Bassin \(minutes\)</th><td>\d+ minutes \(réglage de l'installation\)", text)


def test_the_questionnaire_screen_tells_both_retentions_apart(app, accounts, repos) -> None:
    # « Conservation : 730 jours » beside a campaign's « 12 mois »: which is which?
    # The installation's period is for the downloaded questionnaire and imported
    # answers, in months when whole years; each campaign's is in the campaigns table.
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    base = f"/projets/{project}/questionnaire"
    token = csrf(client, f"{base}/campagnes/nouvelle")
    created = client.post(
        f"{base}/campagnes",
        data={
            "titre": "Vos besoins",
            "ouverture": "2026-01-01",
            "fermeture": "2099-01-01",
            "responsable": "Communauté de communes",
            "contact": "dpo@exemple.fr",
            "finalite": "Étudier la création d'un tiers-lieu.",
            "conservation": "12",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    text = html.unescape(client.get(base).text)
    assert "réponses importées (réglage de l'installation)" in text
    assert "Conservation : 24 mois (730 jours) après le consentement" in text
    assert re.search(r"<th scope=\"col\">Conservation</th>", text)
    assert "<td>12 mois</td>" in text


def test_a_typology_line_nobody_answered_says_so() -> None:
    # « 0 / 0 — — – — » when nobody answered the question: a plain sentence instead.
    row = {
        "libelle": "Femmes",
        "effectif": 0,
        "repondants": 0,
        "part": float("nan"),
        "ic95_bas": float("nan"),
        "ic95_haut": float("nan"),
        "reference": 0.33,
        "petit_echantillon": False,
    }
    line = _typology_row(row)
    assert line["empty"] == "Aucune réponse pour l'instant"
    macro = environment().get_template("_survey.html").module.typology  # type: ignore[attr-defined]
    text = str(macro({"typology_svg": "", "typology": [line], "source": ""}))
    assert "0 / 0" not in text
    assert '<td colspan="3">Aucune réponse pour l&#39;instant</td>' in text.replace(
        "&#x27;", "&#39;"
    )
    answered = _typology_row({**row, "effectif": 1, "repondants": 2, "part": 0.5})
    assert answered["counts"] == "1 / 2"
    assert not answered["empty"]


def test_a_file_without_vintage_says_it_is_not_given(app, accounts, repos) -> None:
    # communes.csv (no year in its name, not a catalogue download) showed « — » in
    # the vintage column; a file named with its year shows the year.
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    location = f"/projets/{project}"
    token = csrf(client, location)
    content = demo_files()["communes"].read_bytes()
    for name in ("communes.geojson", "communes-2024.geojson"):
        sent = client.post(
            f"{location}/fichiers",
            data={"role": "communes", "csrf_token": token},
            files={"file": (name, content)},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text[-2000:]
        page = client.get(location).text
        row = next(line for line in page.splitlines() if f"<td>{name} (" in line)
        assert ("<td>2024</td>" if "2024" in name else "<td>non indiqué</td>") in row, row
