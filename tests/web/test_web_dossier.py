"""The dossier screen: a chargé de mission launches it, a lecteur downloads it (issue 15).

The project is the demo territory (``dep:00``) on the demo workspace; the run keeps the
four files of ``tierslieux dossier`` and offers them for download.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from web_helpers import create_project, csrf, logged_in

DEADLINE = 180
FILES = ("dossier.pdf", "dossier.xlsx", "dossier.gpkg", "dossier-umap.geojson")


@pytest.fixture
def project(app, accounts, repos) -> int:
    """The demo project, the chargé de mission and the lecteur being members."""
    return create_project(app, accounts, repos)


@pytest.fixture
def done(app, accounts, project) -> str:
    """A dossier launched from the project page by the chargé de mission, finished."""
    client = logged_in(app, accounts["charge_de_mission"])
    home = client.get(f"/projets/{project}").text
    assert f'action="/projets/{project}/dossier"' in home  # the « Dossier » action
    token = csrf(client, f"/projets/{project}")
    response = client.post(
        f"/projets/{project}/dossier", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"/projets/{project}/calculs/")
    run_id = location.rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, DEADLINE)
    run = app.state.runs.get(project, run_id)
    assert run.status == "done", run.error
    return run_id


def test_the_run_page_offers_the_four_files(app, accounts, project, done) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    page = client.get(f"/projets/{project}/calculs/{done}")
    assert page.status_code == 200
    assert "Dossier du territoire" in page.text  # the kind's label, not « dossier »
    assert "Terminé" in page.text
    assert f'href="/projets/{project}/dossier?calcul={done}"' in page.text
    for name in FILES:
        assert f"/projets/{project}/calculs/{done}/fichiers/{name}" in page.text


def test_a_lecteur_downloads_the_dossier_but_cannot_launch_one(
    app, accounts, project, done
) -> None:
    reader = logged_in(app, accounts["lecteur"])
    home = reader.get(f"/projets/{project}").text
    assert f'href="/projets/{project}/dossier"' in home
    assert f'action="/projets/{project}/dossier"' not in home
    page = reader.get(f"/projets/{project}/dossier")
    assert page.status_code == 200
    assert "Préparer le dossier" not in page.text
    assert "Refaire le dossier" not in page.text
    assert "Territoire FICTIF" in page.text  # banner of the demo
    assert "SYNTHÉTIQUE" in page.text
    assert "Classeur Excel" in page.text
    base = f"/projets/{project}/calculs/{done}/fichiers"
    pdf = reader.get(f"{base}/dossier.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF")
    workbook = reader.get(f"{base}/dossier.xlsx")
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(workbook.content)).namelist()
    geopackage = reader.get(f"{base}/dossier.gpkg")
    assert geopackage.headers["content-type"] == "application/geopackage+sqlite3"
    assert geopackage.content.startswith(b"SQLite format 3")
    umap = reader.get(f"{base}/dossier-umap.geojson")
    assert umap.json()["type"] == "FeatureCollection"
    # launching stays with the chargés de mission
    token = csrf(reader, f"/projets/{project}/dossier")
    refused = reader.post(
        f"/projets/{project}/dossier", data={"csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert len([r for r in app.state.runs.list_runs(project) if r.kind == "dossier"]) == 1


def test_the_charge_de_mission_sees_the_relaunch_button(app, accounts, project, done) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    page = client.get(f"/projets/{project}/dossier").text
    assert "Refaire le dossier" in page
    assert f"/projets/{project}/calculs/{done}/fichiers/dossier.pdf" in page
    assert client.get(f"/projets/{project}/dossier?calcul=inconnu").status_code == 404


def test_without_dossier_the_page_says_who_can_prepare_one(app, accounts, project) -> None:
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/dossier")
    assert page.status_code == 200
    assert "Aucun dossier préparé pour ce projet." in page.text
    assert "Un chargé de mission du projet peut le préparer." in page.text
    editor = logged_in(app, accounts["charge_de_mission"]).get(f"/projets/{project}/dossier")
    assert "Préparer le dossier" in editor.text


def test_anonymous_visitors_are_sent_to_the_login(app, project) -> None:
    from fastapi.testclient import TestClient  # noqa: PLC0415

    anonymous = TestClient(app)
    response = anonymous.get(f"/projets/{project}/dossier", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


# A directory made by hand: one cooperative where the demo's generated directory has
# another (« Coopérative d'activité et d'emploi du Val »), and hand-added associations
# (three themes, for the three sites of different themes).
_STRUCTURES = (
    "identifiant;nom;categorie;themes;code_commune\n"
    "main:1;Coopérative Essai du Plateau (FICTIVE);cae;ess;00108\n"
    "main:2;Association Essai des Monts (FICTIVE);association_teleactivites;tic;00104\n"
    "main:3;AMAP Essai du Val (FICTIVE);association_vie_quotidienne;circuits_courts;00113\n"
)


def test_the_dossier_uses_the_projects_directory_of_structures(
    web_settings, accounts, repos, project
) -> None:
    """As on the sites screen, the project's structures.csv (role « structures ») is
    the dossier's directory: its structures, not a directory computed again."""
    from tierslieux.pipeline.project_dossier import run_project_dossier  # noqa: PLC0415
    from tierslieux.pipeline.projects import upload_dataset  # noqa: PLC0415
    from tierslieux.reports.dossier.tables import dossier_tables  # noqa: PLC0415

    user = repos.users.get_user(accounts["charge_de_mission"])
    upload_dataset(
        repos,
        web_settings.core,
        project,
        role="structures",
        filename="structures.csv",
        content=_STRUCTURES.encode("utf-8"),
        actor=user,
    )
    dossier = run_project_dossier(
        repos,
        web_settings.core,
        repos.projects.get_project(project),
        workspace=web_settings.workspace_path,
    )
    names = set(dossier.communities.structures["nom"])
    assert names == {
        "Coopérative Essai du Plateau (FICTIVE)",
        "Association Essai des Monts (FICTIVE)",
        "AMAP Essai du Val (FICTIVE)",
    }
    assert "structures" in {p.role for p in dossier.provenance}
    assert dossier.sites is not None
    sites = next(t for t in dossier_tables(dossier) if t.key == "sites").frame
    assert sites["communaute_base"].str.contains("Essai").all()


def test_two_launches_at_once_start_one_dossier(app, accounts, repos, project) -> None:
    """Two clicks at once (two threads, as two requests of the server): the store checks
    and creates the run in one transaction, so one run starts and the other request is
    sent to it."""
    import threading  # noqa: PLC0415

    from tierslieux.pipeline.project_dossier import DOSSIER_KIND  # noqa: PLC0415
    from tierslieux.pipeline.project_runs import RunOutcome, RunPendingError  # noqa: PLC0415

    runs = app.state.runs
    release = threading.Event()

    def slow(*, progress) -> RunOutcome:
        del progress
        release.wait(30)
        return RunOutcome(summary={})

    barrier = threading.Barrier(4)
    started: list[str] = []
    refused: list[str] = []

    def launch() -> None:
        barrier.wait()
        try:
            run = runs.start(project, DOSSIER_KIND, slow, actor="test", exclusive=True)
            started.append(run.id)
        except RunPendingError as error:
            refused.append(error.run_id)

    threads = [threading.Thread(target=launch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert len(started) == 1, (started, refused)
        assert refused == started * 3  # each refused request is told which run runs
        dossiers = [r for r in runs.list_runs(project) if r.kind == DOSSIER_KIND]
        assert [r.id for r in dossiers] == started
        # Another kind of run, or the same once finished, is not held back.
        release.set()
        assert runs.wait(started[0], 30)
        again = runs.start(project, DOSSIER_KIND, slow, actor="test", exclusive=True)
        assert runs.wait(again.id, 30)
    finally:
        release.set()


def test_a_second_click_is_sent_to_the_dossier_under_way(app, accounts, repos, project) -> None:
    import threading  # noqa: PLC0415

    from tierslieux.pipeline.project_dossier import DOSSIER_KIND  # noqa: PLC0415
    from tierslieux.pipeline.project_runs import RunOutcome  # noqa: PLC0415

    release = threading.Event()

    def slow(*, progress) -> RunOutcome:
        del progress
        release.wait(30)
        return RunOutcome(summary={})

    runs = app.state.runs
    under_way = runs.start(project, DOSSIER_KIND, slow, actor="test", exclusive=True)
    try:
        client = logged_in(app, accounts["charge_de_mission"])
        token = csrf(client, f"/projets/{project}")
        response = client.post(
            f"/projets/{project}/dossier", data={"csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/projets/{project}/calculs/{under_way.id}"
        assert [r.id for r in runs.list_runs(project) if r.kind == DOSSIER_KIND] == [under_way.id]
    finally:
        release.set()
        runs.wait(under_way.id, 30)


def test_the_installations_basemap_goes_under_the_pdf_maps(
    web_settings, accounts, repos, monkeypatch
) -> None:
    """With ``TIERSLIEUX_BASEMAP_URL`` the dossier's PDF maps get the same basemap as
    the pages (its credit included); the tiles are not fetched here."""
    from dataclasses import replace  # noqa: PLC0415

    from tierslieux.reports.dossier import printmap  # noqa: PLC0415
    from tierslieux.web.app import create_app  # noqa: PLC0415

    asked = []

    def no_tiles(basemap, **frame) -> None:
        asked.append(basemap)

    monkeypatch.setattr(printmap, "basemap_image", no_tiles)
    osm = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    app = create_app(replace(web_settings, basemap_url=osm))
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    token = csrf(client, f"/projets/{project}")
    response = client.post(
        f"/projets/{project}/dossier", data={"csrf_token": token}, follow_redirects=False
    )
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, DEADLINE)
    assert app.state.runs.get(project, run_id).status == "done"
    assert asked
    assert {b.url for b in asked} == {osm}
    assert {b.credit for b in asked} == {"© les contributeurs d'OpenStreetMap"}


def test_the_dossier_line_names_the_territory_without_a_missing_article(
    app, accounts, project, done
) -> None:
    # Walk: « Dossier de Communauté de communes Haute-Provence-Pays de Banon préparé… »
    # (« de Hautes-Alpes » for a département): the name goes between quotation marks.
    page = html.unescape(
        logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/dossier").text
    )
    found = re.search(r"Dossier du territoire « ([^»]+) » préparé le \d{2}/\d{2}/\d{4}", page)
    assert found, page[-3000:]
    assert "Dossier de " not in page
