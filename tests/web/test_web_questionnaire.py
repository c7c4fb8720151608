"""The questionnaire screen: definition and downloads, import with review, results, roles."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_helpers import PASSWORD, csrf, logged_in

from tierslieux.cli import app as cli_app
from tierslieux.pipeline.accounts import add_user
from tierslieux.pipeline.survey import SurveyAnalysisRequest, analyse_survey

DATA = Path(__file__).resolve().parents[1] / "data" / "survey"
EXPORT = DATA / "google_forms_demo.csv"
TERRITORY = "epci:000000001"


@pytest.fixture
def project(app, accounts, repos) -> int:
    """A project on a part of the demo territory; the lecteur is a member."""
    client = logged_in(app, accounts["charge_de_mission"])
    token = csrf(client, "/projets/nouveau")
    created = client.post(
        "/projets",
        data={"name": "Questionnaire démo", "territory": TERRITORY, "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    project_id = int(created.headers["location"].rsplit("/", 1)[1])
    lecteur = repos.users.get_user(accounts["lecteur"])
    repos.projects.add_member(project_id, lecteur.id, actor="test")
    return project_id


def _upload(client, project: int, path: Path = EXPORT, content: bytes | None = None):
    token = csrf(client, f"/projets/{project}/questionnaire")
    body = path.read_bytes() if content is None else content
    return client.post(
        f"/projets/{project}/questionnaire/import",
        data={"csrf_token": token},
        files={"file": (path.name, body, "text/csv")},
    )


def _staged_token(page: str) -> str:
    found = re.search(r'action="/projets/\d+/questionnaire/import/([A-Za-z0-9_-]+)"', page)
    assert found, page[:2000]
    return found.group(1)


def _mapping(page: str) -> str:
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.DOTALL)
    assert found
    return html.unescape(found.group(1))


def _import(client, project: int, **form: str):
    review = _upload(client, project)
    assert review.status_code == 200, review.text
    token = _staged_token(review.text)
    data = {"csrf_token": csrf(client, f"/projets/{project}/questionnaire"), **form}
    return client.post(f"/projets/{project}/questionnaire/import/{token}", data=data)


def _imported(app, accounts, project: int):
    """A lecteur's client, after a chargé de mission imported the demo export."""
    assert _import(logged_in(app, accounts["charge_de_mission"]), project).status_code == 200
    return logged_in(app, accounts["lecteur"])


def test_the_project_page_links_to_the_questionnaire_screen(app, accounts, project) -> None:
    page = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}").text
    listed = re.search(
        r'<p class="sous-titre">.*?</p>\s*<ul class="ecrans">(.*?)</ul>', page, re.DOTALL
    )
    assert listed, page
    assert f'href="/projets/{project}/questionnaire"' in listed.group(1)


def test_a_lecteur_reads_the_questionnaire_but_cannot_import(app, accounts, project) -> None:
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/questionnaire")
    assert page.status_code == 200
    text = page.text
    assert "Vos besoins d" in text or "Dans quelle commune habitez-vous ?" in text
    assert "commune_residence" in text
    assert "questionnaire.lss" in text
    assert f'action="/projets/{project}/questionnaire/import"' not in text
    assert "Territoire FICTIF de démonstration" in text  # the red banner
    assert "Aucune réponse pour l" in text or "Aucun répondant" in text
    refused = _upload(reader, project)
    assert refused.status_code == 403
    token = csrf(reader, f"/projets/{project}/questionnaire")
    forged = reader.post(
        f"/projets/{project}/questionnaire/import/{'a' * 32}",
        data={"csrf_token": token, "correspondance": "x"},
    )
    assert forged.status_code == 403
    yaml = reader.get(f"/projets/{project}/questionnaire/import/{'a' * 32}/correspondance.yaml")
    assert yaml.status_code == 403


def test_someone_outside_the_project_sees_nothing(app, accounts, project, repos) -> None:
    add_user(repos, "autre@exemple.fr", role="lecteur", actor="test", password=PASSWORD)
    outsider = logged_in(app, "autre@exemple.fr")
    for path in (
        "",
        "/resultats",
        "/questionnaire.lss",
        "/carte.geojson",
        "/carte.json",
        "/reponses.csv",
    ):
        assert outsider.get(f"/projets/{project}/questionnaire{path}").status_code == 404, path
    anonymous = logged_in(app, accounts["lecteur"])
    anonymous.cookies.clear()
    response = anonymous.get(f"/projets/{project}/questionnaire", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


def test_questionnaire_downloads(app, accounts, project) -> None:
    reader = logged_in(app, accounts["lecteur"])
    base = f"/projets/{project}/questionnaire/questionnaire"
    lss = reader.get(f"{base}.lss")
    assert lss.status_code == 200
    assert lss.content.startswith(b"<?xml")
    assert "questionnaire_v1.lss" in lss.headers["content-disposition"]
    page = reader.get(f"{base}.html")
    assert page.status_code == 200
    assert "attachment" in page.headers["content-disposition"]
    assert "Dans quelle commune habitez-vous" in page.text
    pdf = reader.get(f"{base}.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert reader.get(f"{base}.docx").status_code == 404


def test_import_shows_the_mapping_then_every_rejection(app, accounts, project, repos) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    review = _upload(client, project)
    assert review.status_code == 200
    assert "Google Forms" in review.text
    assert "commune_residence" in _mapping(review.text)
    token = _staged_token(review.text)
    yaml = client.get(f"/projets/{project}/questionnaire/import/{token}/correspondance.yaml")
    assert yaml.status_code == 200
    assert "attachment" in yaml.headers["content-disposition"]
    assert "commune_residence" in yaml.text
    done = client.post(
        f"/projets/{project}/questionnaire/import/{token}",
        data={
            "csrf_token": csrf(client, f"/projets/{project}"),
            "correspondance": _mapping(review.text),
        },
    )
    assert done.status_code == 200, done.text
    text = done.text
    assert "8 réponse(s) lue(s)" in text
    assert "6 enregistrée(s), 2 ligne(s) rejetée(s)" in text
    rows = re.findall(
        r"<tr><td class=\"n\">(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", text
    )
    assert [(line, question) for line, _c, question, _r in rows] == [
        ("8", "commune_residence"),
        ("9", "statut"),
    ]
    assert "Atlantis" in rows[0][3]
    assert "Dans quelle commune habitez-vous ?" in rows[0][1]
    assert "réponse obligatoire manquante" in rows[1][3]
    # the staged file is gone: a resent form imports nothing twice
    again = client.post(
        f"/projets/{project}/questionnaire/import/{token}",
        data={"csrf_token": csrf(client, f"/projets/{project}")},
    )
    assert again.status_code == 404
    assert "plus disponible" in again.text
    entry = repos.audit.entries(action="survey.import")[0]
    assert entry.details["outil"] == "google_forms"
    assert entry.details["ajoutees"] == 6
    assert entry.target == f"project:{project}"
    # the batch and its tool on the page
    page = client.get(f"/projets/{project}/questionnaire").text
    assert "google_forms_demo.csv" in page
    assert "Google Forms" in page


def test_an_edited_mapping_is_used_and_its_errors_shown(app, accounts, project) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    wrong = _import(client, project, correspondance="colonnes: [pas une correspondance")
    assert wrong.status_code == 422
    assert 'role="alert"' in wrong.text
    assert "pas une correspondance" in wrong.text  # the text typed is kept
    # ... and the staged file is kept to try again
    token = _staged_token(wrong.text)
    ok = client.post(
        f"/projets/{project}/questionnaire/import/{token}",
        data={"csrf_token": csrf(client, f"/projets/{project}"), "correspondance": ""},
    )
    assert ok.status_code == 200
    assert "6 enregistrée(s)" in ok.text


def test_an_unreadable_export_is_refused_next_to_the_field(app, accounts, project) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    refused = _upload(client, project, DATA / "reponses_tabulations.csv")
    assert refused.status_code == 422
    assert 'id="erreur-file"' in refused.text
    empty = _upload(client, project, content=b"")
    assert empty.status_code == 422
    assert "est vide" in empty.text


def test_results_are_the_cli_numbers_and_comments_are_escaped(
    app, accounts, project, web_settings, tmp_path
) -> None:
    reader = _imported(app, accounts, project)
    page = reader.get(f"/projets/{project}/questionnaire")
    assert page.status_code == 200
    text = page.text
    # same analysis as « tierslieux survey analyse --territory epci:000000001 »
    analysis = analyse_survey(
        web_settings.core, SurveyAnalysisRequest(territory=TERRITORY, demo=True)
    )
    assert len(analysis.respondents) == 5
    for row in analysis.typology.to_dict("records"):
        if int(row["repondants"]):
            assert f"{row['effectif']} / {row['repondants']}" in text, row["libelle"]
    assert "Typologie comparée au profil de référence" in text
    assert 'aria-label="Typologie"' in text
    assert "Taille minimale d&#x27;une communauté-base candidate : 3 membres" in text
    assert "Défaut : 3" in text
    assert "style=" not in text
    # every question and the comments: on their own page
    assert f'href="/projets/{project}/questionnaire/resultats?taille=3"' in text
    details = reader.get(f"/projets/{project}/questionnaire/resultats")
    assert details.status_code == 200
    text = details.text
    assert "Résultats question par question" in text
    assert "Dans quelle commune habitez-vous ?" in text
    assert "Bourg-Fictif (FICTIF) (00101)" in text
    assert "Territoire FICTIF de démonstration" in text
    # comments: inert text, contact details masked
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert "jeanne.essai@exemple.fr" not in text
    assert "06 12 34 56 78" not in text
    assert "style=" not in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)
    # the map's data: the report's survey_communes.geojson
    geojson = reader.get(f"/projets/{project}/questionnaire/carte.geojson")
    assert geojson.status_code == 200
    features = geojson.json()["features"]
    assert {f["properties"]["code"] for f in features} == set(analysis.communes["code"])
    metadata = reader.get(f"/projets/{project}/questionnaire/carte.json").json()
    assert [i["cle"] for i in metadata["indicateurs"]] == ["membres_candidats", "repondants"]
    # the CLI writes the same file
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        cli_app,
        [
            "survey",
            "analyse",
            "--demo",
            "--territory",
            TERRITORY,
            "--out",
            str(out),
            "--database-url",
            web_settings.core.database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    cli_geojson = json.loads((out / "survey_communes.geojson").read_text(encoding="utf-8"))
    assert cli_geojson == geojson.json()
    assert "2 communauté(s)-base candidate(s)" in result.output
    assert text.count("communaute_base_candidate") == 0  # statuses are shown in words


def test_minimum_group_size_option(app, accounts, project) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    assert _import(client, project).status_code == 200
    base = f"/projets/{project}/questionnaire"
    default = client.get(base).text
    assert 'value="3"' in default
    pairs = client.get(base, params={"taille": "2"}).text
    assert "2 membres ou plus" in pairs
    assert 'value="2"' in pairs
    wrong = client.get(base, params={"taille": "abc"})
    assert wrong.status_code == 200
    assert 'id="erreur-taille"' in wrong.text
    geojson = client.get(f"{base}/carte.geojson", params={"taille": "2"}).json()
    members = sum(f["properties"]["membres_candidats"] for f in geojson["features"])
    assert members >= sum(
        f["properties"]["membres_candidats"]
        for f in client.get(f"{base}/carte.geojson").json()["features"]
    )


def test_export_is_pseudonymised_and_limited_to_the_territory(
    app, accounts, project, repos
) -> None:
    reader = _imported(app, accounts, project)
    export = reader.get(f"/projets/{project}/questionnaire/reponses.csv")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    body = export.content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 1 + 5  # Villedémo (outside the EPCI) is not exported
    assert lines[1].startswith("R0001;")
    assert "jeanne.essai@exemple.fr" not in body
    assert "00108" not in body.split("\n", 1)[1].split(";")[1]
    assert repos.audit.entries(action="survey.export")[0].actor == "lecteur"


def test_the_results_page_names_the_territory_as_the_other_screens(app, accounts, project) -> None:
    # The analysis names the territory from the zonings' labels only (« EPCI 200071025 »
    # when the project's zonings came without them): the page shows the project's name.
    reader = _imported(app, accounts, project)
    subtitle = re.compile(r'<p class="sous-titre">(.*?)</p>', re.DOTALL)
    expected = subtitle.findall(reader.get(f"/projets/{project}/questionnaire").text)
    assert "(EPCI 000000001, 8 communes)" in expected[0]
    results = reader.get(f"/projets/{project}/questionnaire/resultats").text
    assert subtitle.findall(results) == expected
    # ... and the counts of answers say whose territory they are.
    page = html.unescape(reader.get(f"/projets/{project}/questionnaire").text)
    assert "qui habitent son territoire, CC du Val-d'Exemple (FICTIVE) (EPCI 000000001" in page
