"""The experimentation sites screen: form, saved scenarios, results, comparison, roles."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import pytest
from sites_runs import demo_sites_result, store_done_run
from web_helpers import PASSWORD, csrf, logged_in

from tierslieux.errors import SchemaError
from tierslieux.i18n import format_number, use_language
from tierslieux.pipeline.accounts import add_user
from tierslieux.pipeline.site_scenarios import parse_scenario
from tierslieux.reports.labels import column_label
from tierslieux.web.app import create_app


@pytest.fixture
def project(app, accounts, repos) -> int:
    """The demo project, with the lecteur as a member."""
    client = logged_in(app, accounts["charge_de_mission"])
    response = client.post(
        "/projets",
        data={"name": "Démo", "territory": "dep:00", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    project_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/projets/{project_id}")
    client.post(
        f"/projets/{project_id}/membres",
        data={"login": accounts["lecteur"], "csrf_token": csrf(client, f"/projets/{project_id}")},
    )
    assert page.status_code == 200
    return project_id


def _save(client, project: int, **fields: str):
    data = {"name": "Trois sites", "count": "3", "objective": "couverture", "_cases": "1"}
    data |= {"distinct_themes": "1", "neighbours": "1", "tiers_lieux_mode": "garder"}
    data |= {"rural": "non", "time_limit": "10", "gain_minimal": "10", "min_structures": "1"}
    data |= {"min_per_epci": "0", "action": "enregistrer"} | fields
    data["csrf_token"] = csrf(client, f"/projets/{project}/sites")
    return client.post(f"/projets/{project}/sites", data=data, follow_redirects=False)


def test_project_page_links_to_the_sites_screen(app, accounts, project) -> None:
    page = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}").text
    found = re.search(
        r'<p class="sous-titre">.*?</p>\s*<ul class="ecrans">(.*?)</ul>', page, re.DOTALL
    )
    assert found
    assert f'href="/projets/{project}/sites"' in found.group(1)


def test_editor_sees_the_form_lecteur_does_not(app, accounts, project) -> None:
    editor = logged_in(app, accounts["charge_de_mission"]).get(f"/projets/{project}/sites")
    assert editor.status_code == 200
    for label in (
        "Nombre de sites",
        "Objectif",
        "Bassin d'un site",
        "Tiers-lieux existants",
        "Exiger une communauté-base",
        "Thèmes de communauté-base différents",
    ):
        assert label.replace("'", "&#x27;") in editor.text or label in editor.text
    reader = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/sites")
    assert reader.status_code == 200
    assert 'name="count"' not in reader.text
    assert "Lecture seule" in reader.text


def test_save_a_scenario_then_refill_the_form(app, accounts, project, repos) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    response = _save(client, project, minutes="25,5")
    assert response.status_code == 303, re.findall(
        r'class="alerte"[^>]*>(.*?)</div>', response.text, re.DOTALL
    )
    (scenario,) = [s for s in repos.scenarios.list_scenarios() if s.parameters["projet"] == project]
    assert scenario.name == "Trois sites"
    assert scenario.parameters["count"] == 3
    assert scenario.parameters["minutes"] == 25.5
    page = client.get(response.headers["location"]).text
    assert "Scénario « Trois sites » enregistré." in page
    assert 'value="25,5"' in page
    assert 'value="Trois sites"' in page


def test_per_field_errors_keep_what_was_typed(app, accounts, project, repos) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    response = _save(client, project, count="trois", minutes="-4", users_share="2", name="")
    assert response.status_code == 422
    page = response.text
    for field in ("count", "minutes", "users_share", "name"):
        assert f'id="erreur-{field}"' in page, field
    assert 'value="trois"' in page
    assert 'value="-4"' in page
    assert "« nombre de sites » : « trois » n&#x27;est pas un nombre entier" in page
    assert not repos.scenarios.list_scenarios()


def test_parse_scenario_gathers_every_problem() -> None:
    with pytest.raises(SchemaError) as caught:
        parse_scenario({"count": "0", "objective": "vitesse", "time_limit": ""})
    assert {p.field for p in caught.value.problems} == {"count", "objective", "time_limit"}
    assert parse_scenario({"count": "4", "minutes": "30"})["minutes"] == 30.0


def test_lecteur_cannot_save_launch_or_cancel(app, accounts, project, repos) -> None:
    editor = logged_in(app, accounts["charge_de_mission"])
    _save(editor, project)
    (scenario,) = repos.scenarios.list_scenarios()
    run_id = store_done_run(repos, project, scenario.id, author="charge")
    reader = logged_in(app, accounts["lecteur"])
    token = csrf(reader, f"/projets/{project}/sites")
    for path in (
        f"/projets/{project}/sites",
        f"/projets/{project}/scenarios/{scenario.id}/lancer",
        f"/projets/{project}/calculs/{run_id}/annuler",
    ):
        response = reader.post(path, data={"csrf_token": token, "name": "x", "count": "2"})
        assert response.status_code == 403, path
    assert len(repos.scenarios.list_scenarios()) == 1
    assert repos.runs.get_run(run_id).status == "done"


def test_results_page_shows_the_cli_numbers(app, accounts, project, repos) -> None:
    run_id = store_done_run(repos, project, None, author="charge")
    result = demo_sites_result(2)
    page = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/sites/{run_id}")
    assert page.status_code == 200
    text = page.text
    assert format_number(result.result.objective) in text  # as the CLI prints it
    assert "SYNTHÉTIQUE" in text
    assert "FICTIF" in text  # the banners
    for heading in (
        "Ce qu&#x27;un site de plus ajouterait ici",
        "Alternatives",
        "Sensibilité",
        "Méthode et limites",
        "Téléchargements",
    ):
        assert heading in text
    for code in result.sites["code"]:
        assert code in text
    assert 'data-map data-geojson-url="/projets/' in text
    assert "Annuler le calcul" not in text  # finished


def test_results_tables_name_the_site_sets_csv_keeps_codes(app, accounts, project, repos) -> None:
    # Alternatives and sensitivity: « Nom (code), Nom (code) » on the page, the
    # sensitivity.csv download keeps the codes joined by « ; ».
    run_id = store_done_run(repos, project, None, author="charge")
    result = demo_sites_result(2)
    reader = logged_in(app, accounts["lecteur"])
    page = html.unescape(reader.get(f"/projets/{project}/sites/{run_id}").text)
    for table_id, frame in (
        ("tableau-alternatives", result.alternatives),
        ("tableau-sensibilite", result.sensitivity),
    ):
        shown = re.search(rf'id="{table_id}">(.*?)</table>', page, re.DOTALL)
        assert shown, table_id
        for value in filter(None, frame["sites"].dropna()):
            codes = str(value).split(";")
            named = ", ".join(f"{result.names[c]} ({c})" for c in codes)
            assert f"<td>{named}</td>" in shown.group(1), (table_id, value)
            if len(codes) > 1:
                assert str(value) not in shown.group(1)
    download = reader.get(f"/projets/{project}/calculs/{run_id}/fichiers/sensitivity.csv")
    assert download.status_code == 200
    for value in result.sensitivity["sites"].dropna():
        assert f",{value}," in download.text, value


def test_map_document_and_downloads(app, accounts, project, repos) -> None:
    run_id = store_done_run(repos, project, None, author="charge")
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/sites/{run_id}").text
    url = re.search(r'data-geojson-url="([^"]+)"', page).group(1)
    assert url == f"/projets/{project}/calculs/{run_id}/fichiers/sites_carte.geojson"
    document = reader.get(url)
    assert document.status_code == 200
    data = json.loads(document.text)
    result = demo_sites_result(2)
    assert [s["rang"] for s in data["sites_carte"]] == list(result.sites["rang"])
    keys = [i["cle"] for i in data["indicateurs_carte"]["indicateurs"]]
    assert "gain_site_supplementaire" in keys
    covered = set(result.coverage["code_commune"])
    assert set(data["bassins_carte"]) == covered
    for name in ("sites.csv", "one_more_site.csv", "sensitivity.csv", "sites.html"):
        assert f"/calculs/{run_id}/fichiers/{name}" in page, name
    csv = reader.get(f"/projets/{project}/calculs/{run_id}/fichiers/sites.csv")
    assert csv.status_code == 200
    assert "attachment" in csv.headers["content-disposition"]


def test_the_covered_demand_map_shows_uncovered_communes_as_0_not_no_data(
    app, accounts, project, repos
) -> None:
    """Walk (CC Haute-Provence-Pays de Banon): the « Demande couverte » map drew the
    communes no site covers grey, « Sans donnée »; they have data: 0, « non couverte »."""
    run_id = store_done_run(repos, project, None, author="charge")
    reader = logged_in(app, accounts["lecteur"])
    base = f"/projets/{project}/calculs/{run_id}/fichiers"
    data = json.loads(reader.get(f"{base}/sites_carte.geojson").text)
    result = demo_sites_result(2)
    covered = set(result.coverage["code_commune"].astype(str))
    values = {
        f["properties"]["code"]: f["properties"]["demande_couverte"] for f in data["features"]
    }
    uncovered = set(values) - covered
    assert uncovered, "the demo selection leaves communes uncovered"
    assert {values[c] for c in uncovered} == {0}
    assert all(values[c] and values[c] > 0 for c in covered & set(values))
    (entry,) = [
        i for i in data["indicateurs_carte"]["indicateurs"] if i["cle"] == "demande_couverte"
    ]
    assert entry["libelle_zero"] == "0 (non couverte)"
    assert entry["seuils"][0] == 0  # 0 is a class of its own
    assert entry["seuils"][1] > 0
    # the report's SVG: the same class, « Sans donnée » only for a missing demand
    report = html.unescape(reader.get(f"{base}/sites.html").text)
    legend = report.split('<ul class="legende">', 1)[1].split("</ul>", 1)[0]
    assert "0 (non couverte)</li>" in legend
    assert "Sans donnée" not in legend
    assert 'fill="#dddddd"' not in report.split('<ul class="legende">', 1)[0]


def test_a_run_of_another_project_is_not_found(app, accounts, project, repos) -> None:
    run = repos.runs.create_run("sites", {}, author="x")
    client = logged_in(app, accounts["administrateur"])
    assert client.get(f"/projets/{project}/sites/{run.id}").status_code == 404
    assert client.get(f"/projets/{project}/sites/inconnu").status_code == 404


def test_compare_saved_scenarios_side_by_side(app, accounts, project, repos) -> None:
    editor = logged_in(app, accounts["charge_de_mission"])
    _save(editor, project, name="Deux sites", count="2")
    _save(editor, project, name="Quatre sites", count="4", minutes="30")
    two, four = sorted(repos.scenarios.list_scenarios(), key=lambda s: s.parameters["count"])
    store_done_run(repos, project, two.id, author="charge")
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/scenarios/comparer?ids={two.id},{four.id}")
    assert page.status_code == 200
    text = page.text
    assert "Deux sites" in text
    assert "Quatre sites" in text
    result = demo_sites_result(2)
    assert format_number(result.result.objective) in text
    assert "Usagers potentiels couverts" in text
    assert "aucun calcul terminé" in text
    again = reader.get(f"/projets/{project}/scenarios/comparer?ids={two.id}&ids={four.id}")
    assert again.status_code == 200
    assert reader.get(f"/projets/{project}/scenarios/comparer?ids=999").status_code == 404
    assert reader.get(f"/projets/{project}/scenarios/comparer?ids=x").status_code == 422


def test_outsider_reaches_nothing(app, accounts, project, repos) -> None:
    add_user(repos, "autre@exemple.fr", role="charge_de_mission", actor="t", password=PASSWORD)
    run_id = store_done_run(repos, project, None, author="charge")
    other = logged_in(app, "autre@exemple.fr")
    for path in (
        f"/projets/{project}/sites",
        f"/projets/{project}/sites/{run_id}",
        f"/projets/{project}/calculs/{run_id}/fichiers/sites_carte.geojson",
        f"/projets/{project}/scenarios/comparer?ids=1",
    ):
        assert other.get(path).status_code == 404, path


def test_launch_runs_the_cli_selection_and_cancel_stops_another(
    app, accounts, project, repos
) -> None:
    editor = logged_in(app, accounts["charge_de_mission"])
    response = _save(editor, project, count="2", action="lancer")
    assert response.status_code == 303
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, 120)
    run = repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    expected = demo_sites_result(2)
    assert run.summary["objectif"] == pytest.approx(expected.result.objective)
    assert run.summary["sites"] == list(expected.sites["code"])
    page = editor.get(response.headers["location"]).text
    assert format_number(expected.result.objective) in page
    # Launch the saved scenario again, then cancel it at once.
    scenario = run.scenario_id
    token = csrf(editor, f"/projets/{project}/sites")
    again = editor.post(
        f"/projets/{project}/scenarios/{scenario}/lancer",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 303
    second = again.headers["location"].rsplit("/", 1)[1]
    running = editor.get(f"/projets/{project}/sites/{second}").text
    assert "Annuler le calcul" in running
    editor.post(f"/projets/{project}/calculs/{second}/annuler", data={"csrf_token": token})
    assert app.state.runs.wait(second, 120)
    assert repos.runs.get_run(second).status == "cancelled"
    assert not repos.runs.list_results(second)


def test_base_community_without_structures_is_a_field_error(app, accounts, project) -> None:
    editor = logged_in(app, accounts["charge_de_mission"])
    response = _save(editor, project, base_community="1", action="lancer")
    assert response.status_code == 422
    assert 'id="erreur-base_community"' in response.text


def test_results_table_headings_follow_each_installation_language(
    app, accounts, project, repos, web_settings
) -> None:
    """A French page first, then an English installation in the same process: the
    tables' column labels are English (the labels' template module was kept by Jinja in
    the language of the first page)."""
    run_id = store_done_run(repos, project, None, author="charge")
    french = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/sites/{run_id}").text
    assert "Perte si retiré" in french
    english_app = create_app(
        dataclasses.replace(web_settings, core=web_settings.core.model_copy(update={"lang": "en"}))
    )
    english = logged_in(english_app, accounts["lecteur"]).get(f"/projets/{project}/sites/{run_id}")
    assert english.status_code == 200
    assert "Perte si retiré" not in english.text
    with use_language("en"):
        assert column_label("perte_si_retire") in english.text
