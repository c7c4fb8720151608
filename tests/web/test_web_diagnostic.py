"""Runs and the diagnostic screen: launch, progress page, cancel, map documents, roles.

The project is the demo territory (``dep:00``) on the demo workspace; its diagnostic
must give the numbers of ``tierslieux diagnose --demo``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import PASSWORD, create_project, csrf, logged_in

from tierslieux.cli import app as cli_app
from tierslieux.model.types import ProgressCallback, ProgressReporter
from tierslieux.pipeline.accounts import add_user
from tierslieux.pipeline.project_runs import RunOutcome

DEADLINE = 120


@pytest.fixture
def project(app, accounts, repos) -> int:
    """The demo project, the chargé de mission and the lecteur being members."""
    return create_project(app, accounts, repos)


def _launch(app, client: TestClient, project: int, **data: str) -> str:
    token = csrf(client, f"/projets/{project}/diagnostic")
    response = client.post(
        f"/projets/{project}/diagnostic",
        data={"csrf_token": token, **data},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"/projets/{project}/calculs/")
    run_id = location.rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, DEADLINE)
    return run_id


@pytest.fixture
def done(app, accounts, project) -> str:
    """A finished diagnostic of the demo project."""
    run_id = _launch(app, logged_in(app, accounts["charge_de_mission"]), project)
    assert app.state.runs.get(project, run_id).status == "done", app.state.runs.get(
        project, run_id
    ).error
    return run_id


def test_the_diagnostic_runs_and_shows_map_table_downloads_and_method(
    app, accounts, project, done
) -> None:
    reader = logged_in(app, accounts["lecteur"])
    run_page = reader.get(f"/projets/{project}/calculs/{done}")
    assert run_page.status_code == 200
    assert "Terminé" in run_page.text
    assert f'href="/projets/{project}/diagnostic?calcul={done}"' in run_page.text
    assert "communes.csv" in run_page.text
    assert "Annuler le calcul" not in run_page.text
    page = reader.get(f"/projets/{project}/diagnostic")
    assert page.status_code == 200
    text = page.text
    assert "data-map" in text
    assert f'data-geojson-url="/projets/{project}/diagnostic/{done}/communes.geojson"' in text
    assert (
        f'data-catchment-url="/projets/{project}/diagnostic/{done}/bassins/{{code}}.json"' in text
    )
    assert "data-table" in text
    assert "Territoire FICTIF" in text  # banner
    assert "SYNTHÉTIQUE" in text
    assert "Avertissement sur les petits effectifs" in text
    assert "Sources et millésimes" in text
    assert "Lancer le diagnostic" not in text  # a lecteur cannot launch
    assert "Relancer le diagnostic" not in text
    for name in ("communes-excel.csv", "communes.csv", "communes.geojson", "report.html"):
        assert f"/projets/{project}/calculs/{done}/fichiers/{name}" in text
    assert "<script>" not in text
    # the project page lists the run with French labels, and links the screen
    home = reader.get(f"/projets/{project}").text
    assert '<ul class="ecrans">' in home
    assert f'href="/projets/{project}/diagnostic"' in home
    assert "Diagnostic territorial" in home
    assert "Terminé" in home
    assert re.search(r"\d{2}/\d{2}/\d{4}", home)


def test_map_documents_are_read_from_the_run(app, accounts, project, done) -> None:
    reader = logged_in(app, accounts["lecteur"])
    base = f"/projets/{project}/diagnostic/{done}"
    geojson = reader.get(f"{base}/communes.geojson")
    assert geojson.status_code == 200
    assert geojson.headers["content-type"].startswith("application/geo+json")
    features = geojson.json()["features"]
    assert len(features) == 16
    assert geojson.headers["content-encoding"] == "gzip"  # the test client takes gzip
    unchanged = reader.get(
        f"{base}/communes.geojson", headers={"If-None-Match": geojson.headers["etag"]}
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert {"code", "nom", "potentiel"} <= set(features[0]["properties"])
    metadata = reader.get(f"{base}/indicateurs.json").json()
    keys = [item["cle"] for item in metadata["indicateurs"]]
    assert "potentiel" in keys
    assert metadata["indicateurs"][0]["unite"] == "personnes"
    assert metadata["minutes_bassin"] == 20
    code = features[0]["properties"]["code"]
    catchment = reader.get(f"{base}/bassins/{code}.json").json()
    assert code in catchment["communes"]
    assert catchment["nb_communes"] == len(catchment["communes"])
    assert catchment["minutes"] == 20
    assert reader.get(f"{base}/bassins/99999.json").status_code == 404
    assert reader.get(f"/projets/{project}/diagnostic/inconnu/communes.geojson").status_code == 404


def test_same_numbers_as_the_command_line(app, accounts, project, done, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        cli_app, ["diagnose", "--demo", "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    reader = logged_in(app, accounts["lecteur"])
    files = f"/projets/{project}/calculs/{done}/fichiers"
    for name in ("communes.csv", "catchments.csv", "bassins.csv"):
        served = reader.get(f"{files}/{name}")
        assert served.status_code == 200
        assert "attachment" in served.headers["content-disposition"]
        assert served.content == (out / name).read_bytes(), name
    web_geojson = json.loads(reader.get(f"{files}/communes.geojson").content)
    cli_geojson = json.loads((out / "communes.geojson").read_text(encoding="utf-8"))
    # same features; the warning names the CLI's options there, the web's words here
    assert web_geojson["features"] == cli_geojson["features"]
    excel = reader.get(f"{files}/communes-excel.csv").content
    assert excel.startswith("\ufeff".encode())
    header, first = excel.decode("utf-8-sig").splitlines()[:2]
    assert header.split(";")[:2] == ["Code commune", "Commune"]
    assert "Usagers potentiels d'un tiers-lieu (estimation)" in header
    assert re.search(r";\d+,\d;", first)


def test_tables_and_excel_file_name_columns_and_codes_in_words(
    app, accounts, project, done
) -> None:
    """One label layer (reports/labels.py): the method's indicators, the small-count
    cells and the Excel file's headers are in words, as in the dossier's workbook."""
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/diagnostic").text
    method = page[page.index("<h2>Méthode</h2>") :]
    # Walk: each label was followed by its column name (``actifs_occupes``) and a
    # definition sent the reader to « (salaries_lieu_travail_hors_calcul) ».
    assert '<th scope="row">Actifs occupés résidents</th>' in method
    words = method[: method.index("<h3>")]
    assert re.findall(r"[a-z0-9]+_[a-z0-9_]+", words) == [], words
    assert "dans la colonne « Salariés travaillant à l'étranger ou sans temps" in html.unescape(
        words
    )
    assert "<tr><td><code>" not in method
    table = page[
        page.index('<table id="communes"') : page.index(
            "</table>", page.index('<table id="communes"')
        )
    ]
    flagged = re.findall(r"<summary>(\d+) indicateur\(s\)</summary>([^<>]*)</details>", table)
    assert flagged, "the demo has communes under the caution threshold"
    for count, words in flagged:
        assert "_" not in words, words
        assert "independants" not in words, words
        assert len(words.split(", ")) >= int(count)
    files = f"/projets/{project}/calculs/{done}/fichiers"
    excel = reader.get(f"{files}/communes-excel.csv").content.decode("utf-8-sig")
    header, *rows = excel.splitlines()
    names = header.split(";")
    assert "Effectifs faibles (< 200)" in names
    assert "Bassin de vie 2022" in names
    assert "Commune rurale" in names
    assert not [n for n in names if "_" in n], names
    assert not any("actifs_occupes" in row for row in rows)


def test_roles_on_the_new_routes(app, accounts, project, done) -> None:
    reader = logged_in(app, accounts["lecteur"])
    token = csrf(reader, "/projets")
    refused = [
        (f"/projets/{project}/diagnostic", {"csrf_token": token}),
        (f"/projets/{project}/calculs/{done}/annuler", {"csrf_token": token}),
    ]
    for path, data in refused:
        assert reader.post(path, data=data, follow_redirects=False).status_code == 403, path
    anonymous = TestClient(app)
    pages = [
        f"/projets/{project}/diagnostic",
        f"/projets/{project}/calculs/{done}",
        f"/projets/{project}/calculs/{done}/etat",
        f"/projets/{project}/calculs/{done}/fichiers/communes.csv",
        f"/projets/{project}/diagnostic/{done}/communes.geojson",
    ]
    for path in pages:
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/connexion")
    assert anonymous.get(pages[-1], headers={"accept": "application/json"}).status_code == 401
    # a chargé de mission of another project does not see this one
    add_user(
        app.state.repos,
        "autre@exemple.fr",
        role="charge_de_mission",
        actor="test",
        password=PASSWORD,
    )
    stranger = logged_in(app, "autre@exemple.fr")
    for path in pages:
        assert stranger.get(path).status_code == 404, path
    admin = logged_in(app, accounts["administrateur"])
    assert admin.get(pages[0]).status_code == 200
    assert reader.get(f"/projets/{project}/calculs/inconnu").status_code == 404
    assert reader.get(f"/projets/{project}/calculs/{done}/fichiers/absent.csv").status_code == 404


def test_progress_fragment_polls_and_cancel_stops_the_run(app, accounts, project) -> None:
    import threading  # noqa: PLC0415

    release = threading.Event()

    def slow(*, progress: ProgressCallback) -> RunOutcome:
        report = ProgressReporter(progress)
        while not release.wait(0.05):
            report("attente", "Lecture des fichiers", 0.3)
        return RunOutcome(summary={})

    try:
        _cancel_journey(app, accounts, project, slow, release)
    finally:
        release.set()
    actions = [e.action for e in app.state.repos.audit.entries()]
    assert "run.cancel" in actions


def _cancel_journey(app, accounts, project, slow, release) -> None:
    runs = app.state.runs
    run = runs.start(project, "sites", slow, actor="charge@exemple.fr")
    charge = logged_in(app, accounts["charge_de_mission"])
    url = f"/projets/{project}/calculs/{run.id}"
    deadline = 200
    while runs.get(project, run.id).progress < 0.3 and deadline:
        release.wait(0.05)
        deadline -= 1
    page = charge.get(url)
    assert page.status_code == 200
    assert "<progress" in page.text
    assert 'hx-get="' + url + '/etat"' in page.text
    assert '<noscript><meta http-equiv="refresh"' in page.text
    assert "Annuler le calcul" in page.text
    assert "expérimentation" in page.text
    fragment = charge.get(f"{url}/etat", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<div")
    assert "Lecture des fichiers" in fragment.text
    reader = logged_in(app, accounts["lecteur"])
    assert "Annuler le calcul" not in reader.get(url).text
    token = csrf(charge, url)
    cancelled = charge.post(f"{url}/annuler", data={"csrf_token": token}, follow_redirects=False)
    assert cancelled.status_code == 303
    assert runs.wait(run.id, DEADLINE)
    assert not release.is_set()
    after = charge.get(url)
    assert "Annulé" in after.text
    assert "Calcul annulé" in after.text
    assert "hx-get" not in charge.get(f"{url}/etat").text  # polling stops
    again = charge.post(f"{url}/annuler", data={"csrf_token": token})
    assert "déjà terminé" in again.text


def test_a_bad_threshold_is_refused_in_french(app, accounts, project) -> None:
    charge = logged_in(app, accounts["charge_de_mission"])
    token = csrf(charge, f"/projets/{project}/diagnostic")
    response = charge.post(
        f"/projets/{project}/diagnostic", data={"csrf_token": token, "minutes": "douze"}
    )
    assert response.status_code == 422
    assert "Seuil du bassin invalide" in response.text
    assert app.state.runs.list_runs(project) == []


def test_a_failed_diagnostic_shows_its_french_error(app, accounts, repos, tmp_path) -> None:
    charge = logged_in(app, accounts["charge_de_mission"])
    token = csrf(charge, "/projets/nouveau")
    created = charge.post(
        "/projets",
        data={"name": "Sans recensement", "territory": "dep:00", "csrf_token": token},
        follow_redirects=False,
    )
    project = int(created.headers["location"].rsplit("/", 1)[1])
    # a communes file only: the census is missing, offline
    from tierslieux.pipeline.inputs import demo_files  # noqa: PLC0415

    communes = demo_files()["communes"]
    token = csrf(charge, f"/projets/{project}")
    uploaded = charge.post(
        f"/projets/{project}/fichiers",
        data={"role": "communes", "csrf_token": token},
        files={"file": (communes.name, communes.read_bytes())},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    run_id = _launch(app, charge, project)
    run = app.state.runs.get(project, run_id)
    assert run.status == "failed"
    page = charge.get(f"/projets/{project}/calculs/{run_id}").text
    assert "Le calcul a échoué" in page
    assert "Traceback" not in page


def test_the_small_counts_note_names_the_column_of_the_page(app, accounts, project, done) -> None:
    # Walk: the note sent the reader to « la colonne effectifs_faibles de communes.csv »,
    # a file's column name, while the page's table heads it « Effectifs < 200 ».
    text = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/diagnostic").text
    assert '<th scope="col">Effectifs &lt; 200</th>' in text
    assert "voir la colonne « Effectifs &lt; 200 » du tableau des communes" in text
    assert "voir la colonne effectifs_faibles" not in text


def test_without_neighbours_as_the_note_offers(app, accounts, repos) -> None:
    # Walk: the note on neighbours without workers says « Donnez le fichier national, ou
    # « sans communes voisines » », an option the screen's form did not have.
    project = create_project(app, accounts, repos, name="Partie", territory="epci:000000001")
    client = logged_in(app, accounts["charge_de_mission"])
    form = client.get(f"/projets/{project}/diagnostic").text
    assert 'name="neighbours"' in form
    assert ">Sans communes voisines : bassins limités aux communes du territoire</label>" in form
    default = app.state.runs.get(project, _launch(app, client, project))
    assert default.summary["voisines"] > 0
    assert default.parameters["sans_communes_voisines"] is False
    alone = app.state.runs.get(project, _launch(app, client, project, neighbours="1"))
    assert alone.status == "done", alone.error
    assert alone.summary["voisines"] == 0
    assert alone.parameters["sans_communes_voisines"] is True
    page = client.get(f"/projets/{project}/diagnostic").text
    assert re.search(r'<input type="checkbox" id="champ-neighbours"[^>]* checked>', page)
