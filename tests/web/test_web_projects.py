"""Projects in the web application: territory search, creation, uploads, members, audit."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf, logged_in

from tierslieux.pipeline.inputs import demo_files, resolve_communes
from tierslieux.pipeline.project_dossier import DOSSIER_KIND
from tierslieux.pipeline.project_runs import RunOutcome
from tierslieux.pipeline.projects import materialise_datasets
from tierslieux.web.app import create_app


def _create(client, name: str = "Projet démo", territory: str = "bv:00101"):
    token = csrf(client, "/projets/nouveau")
    return client.post(
        "/projets",
        data={"name": name, "territory": territory, "description": "Essai", "csrf_token": token},
        follow_redirects=False,
    )


def test_territory_search_works_without_javascript(app, accounts) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    page = client.get("/projets/nouveau", params={"q": "bourg fictif"})
    assert page.status_code == 200
    assert 'value="bv:00101"' in page.text
    assert 'value="communes:00101"' in page.text
    assert "Bassin de Bourg-Fictif (FICTIF)" in page.text
    found = client.get("/territoires", params={"q": "villedemo"}).json()
    assert found[0]["spec"] == "bv:00108"
    assert {"spec", "label", "kind", "communes"} <= set(found[0])
    assert client.get("/territoires", params={"q": "dep:00"}).json()[0]["communes"] == 16


def test_a_charge_de_mission_creates_a_project_and_becomes_its_member(app, accounts, repos) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    created = _create(client)
    assert created.status_code == 303
    home = client.get(created.headers["location"])
    assert home.status_code == 200
    assert "Projet démo" in home.text
    assert "Bassin de Bourg-Fictif (FICTIF)" in home.text
    assert "Projet « Projet démo » créé." in home.text
    assert "Projet démo" in client.get("/projets").text
    # another chargé de mission does not see it
    other = logged_in(app, accounts["lecteur"])
    assert "Projet démo" not in other.get("/projets").text
    assert other.get(created.headers["location"]).status_code == 404
    actions = [e.action for e in repos.audit.entries()]
    assert "project.create" in actions
    assert "project.member_add" in actions


def test_the_demo_territory_is_named_by_its_fictional_name(app, accounts) -> None:
    """Not « Département 00 »: the demo's invented name, marked FICTIF."""
    client = logged_in(app, accounts["charge_de_mission"])
    search = client.get("/projets/nouveau", params={"q": "dep:00"}).text
    assert "Val-Chimère (FICTIF) (département 00, 16 communes)" in search
    home = client.get(_create(client, territory="dep:00").headers["location"]).text
    assert "Val-Chimère (FICTIF)" in home
    assert "Département 00" not in home


@pytest.fixture
def bare_app(tmp_path, accounts, web_settings):
    """The application of a fresh install: no workspace, no data folder (same store)."""
    bare = dataclasses.replace(web_settings, workspace=tmp_path / "aucun-espace")
    return create_app(bare)


_NAMED_COMMUNES = (
    "code_insee,nom_standard,dep_code,dep_nom,latitude_centre,longitude_centre\n"
    "05061,Gap,05,Hautes-Alpes,44.5594,6.0786\n"
    "05023,Briançon,05,Hautes-Alpes,44.8986,6.6439\n"
).encode()


def test_a_fresh_install_says_how_to_get_names_and_takes_them_from_a_file(bare_app, accounts):
    """Without workspace the page says, in words of the application, how the project
    gets its territory's name; a file that gives it replaces « Département 05 »."""
    client = logged_in(bare_app, accounts["charge_de_mission"])
    page = " ".join(client.get("/projets/nouveau").text.split())
    assert "Recherche par nom indisponible" in page
    assert "déposez sur sa page" in page
    assert "tierslieux data build" not in page
    location = _create(client, territory="dep:05").headers["location"]
    home = client.get(location).text
    assert "Département 05 (département 05, 0 communes)" not in home
    assert _upload(client, location, "communes", "communes.csv", _NAMED_COMMUNES).status_code == 303
    home = client.get(location).text
    assert "Hautes-Alpes (département 05)" in home
    assert "Département 05" not in home


def test_without_workspace_names_are_searched_in_the_data_folder(
    tmp_path, accounts, web_settings, data_dir
):
    """The installation's data folder (TIERSLIEUX_DATA_DIR) is a reference too."""
    core = web_settings.core.model_copy(update={"data_dir": data_dir / "frontiere"})
    app = create_app(
        dataclasses.replace(web_settings, core=core, workspace=tmp_path / "aucun-espace")
    )
    client = logged_in(app, accounts["charge_de_mission"])
    page = client.get("/projets/nouveau", params={"q": "laragne"}).text
    assert "Recherche par nom indisponible" not in page
    assert 'value="bv:05070"' in page
    assert 'value="communes:05070"' in page


def test_a_wrong_territory_or_name_is_explained_next_to_its_field(app, accounts) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    wrong = _create(client, territory="dep:99")
    assert wrong.status_code == 422
    assert 'id="erreur-territory"' in wrong.text
    assert "dep:99" in wrong.text
    assert _create(client).status_code == 303
    taken = _create(client)
    assert taken.status_code == 422
    assert "déjà" in taken.text


def test_uploaded_files_are_checked_by_the_cli_readers(app, accounts, repos) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    location = _create(client).headers["location"]
    token = csrf(client, location)
    bad = client.post(
        f"{location}/fichiers",
        data={"role": "communes", "csrf_token": token},
        files={"file": ("communes.csv", b"pas,une,table\n1,2,3\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert "communes.csv" in bad.text
    assert 'id="erreur-file"' in bad.text
    good = client.post(
        f"{location}/fichiers",
        data={"role": "communes", "csrf_token": token},
        files={"file": ("communes.geojson", demo_files()["communes"].read_bytes())},
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text[-2000:]
    page = client.get(location).text
    assert "communes.geojson" in page
    assert ">16<" in page  # rows read by the reader
    assert "project.dataset_put" in [e.action for e in repos.audit.entries()]


_NAMES_ONLY = b"code,nom,population\n00101,Bourg-Fictif,6200\n00102,Val-d'Exemple,1450\n"


def _upload(client, location: str, role: str, name: str, content: bytes):
    return client.post(
        f"{location}/fichiers",
        data={"role": role, "csrf_token": csrf(client, location)},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def test_a_project_holds_outlines_and_a_names_csv_merged_as_the_cli(
    app, accounts, repos, web_settings, tmp_path
) -> None:
    """The CLI's repeated --communes (outlines + a names CSV): two files of a project,
    read and merged by the same loader."""

    client = logged_in(app, accounts["charge_de_mission"])
    location = _create(client).headers["location"]
    assert 'value="contours"' in client.get(location).text
    # A names CSV alone has no coordinates: refused, naming the file and the columns.
    alone = _upload(client, location, "communes", "noms.csv", _NAMES_ONLY)
    assert alone.status_code == 422
    text = " ".join(alone.text.split())
    assert "noms.csv : aucune coordonnée de commune" in text
    assert "latitude et longitude" in text
    assert "coordonnées. Dans l&#x27;application : déposez d&#x27;abord les contours" in text
    # A names CSV is no outline file.
    wrong = _upload(client, location, "contours", "noms.csv", _NAMES_ONLY)
    assert wrong.status_code == 422
    assert "aucun contour de commune" in wrong.text
    outlines = demo_files()["communes"].read_bytes()
    assert _upload(client, location, "contours", "contours.geojson", outlines).status_code == 303
    assert _upload(client, location, "communes", "noms.csv", _NAMES_ONLY).status_code == 303
    project = int(location.rsplit("/", 1)[1])
    files = materialise_datasets(repos, project, tmp_path / "fichiers")
    assert sorted(p.name for p in files.communes) == ["contours.geojson", "noms.csv"]
    merged = resolve_communes(web_settings.core, files.communes)
    cli = resolve_communes(web_settings.core, (demo_files()["communes"], files.communes[0]))
    assert merged.table.equals(cli.table)
    assert merged.table["latitude"].notna().all()


def test_members_are_added_and_the_audit_page_shows_every_change(app, accounts, repos) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    location = _create(client).headers["location"]
    token = csrf(client, location)
    added = client.post(
        f"{location}/membres",
        data={"login": accounts["lecteur"], "csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 303
    unknown = client.post(f"{location}/membres", data={"login": "personne", "csrf_token": token})
    assert unknown.status_code == 422
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(location)
    assert page.status_code == 200
    assert "Lecture seule" in page.text
    assert "Déposer et vérifier" not in page.text
    admin = logged_in(app, accounts["administrateur"])
    journal = admin.get("/admin/journal").text
    for action in ("project.create", "project.member_add", "user.add", "auth.login"):
        assert action in journal


def test_an_administrator_adds_users_from_the_page(app, accounts, repos) -> None:
    admin = logged_in(app, accounts["administrateur"])
    token = csrf(admin, "/admin/utilisateurs")
    created = admin.post(
        "/admin/utilisateurs",
        data={
            "email": "elu@commune.fr",
            "display_name": "Élu",
            "role": "lecteur",
            "password": "un bon mot de passe",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert repos.users.get_user("elu@commune.fr").role == "lecteur"
    short = admin.post(
        "/admin/utilisateurs",
        data={"email": "b@c.fr", "role": "lecteur", "password": "court", "csrf_token": token},
    )
    assert short.status_code == 422
    assert "trop court" in short.text


def test_login_redirects_back_and_refuses_open_redirects(app, accounts) -> None:
    client = TestClient(app)
    first = client.get("/projets/nouveau", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/connexion?suivant=/projets/nouveau"
    token = csrf(client)
    for target, expected in (
        ("/projets/nouveau", "/projets/nouveau"),
        ("//evil.example", "/projets"),
    ):
        response = client.post(
            "/connexion",
            data={
                "login": accounts["charge_de_mission"],
                "password": "mot de passe de test",
                "suivant": target,
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected
        token = csrf(client, "/projets")
    assert client.get("/territoires", headers={"HX-Request": "true"}).status_code == 200
    assert TestClient(app).get("/territoires", headers={"HX-Request": "true"}).status_code == 401


def test_a_removed_member_or_a_disabled_account_is_refused_at_the_next_request(
    app, accounts, repos
) -> None:
    """The rights are read again on every request (one read with the user and project)."""
    from web_helpers import create_project  # noqa: PLC0415

    project_id = create_project(app, accounts, repos)
    page = f"/projets/{project_id}/contacts"
    reader = logged_in(app, accounts["lecteur"])
    editor = logged_in(app, accounts["charge_de_mission"])
    admin = logged_in(app, accounts["administrateur"])  # not a member: reads every project
    for client in (reader, editor, admin):
        assert client.get(page).status_code == 200
    assert reader.get(f"/projets/{project_id + 1}/contacts").status_code == 404
    # a lecteur reads but does not change
    token = csrf(reader, "/projets")
    refused = reader.post(
        f"/projets/{project_id}/communautes/construire",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    lecteur = repos.users.get_user(accounts["lecteur"])
    repos.projects.remove_member(project_id, lecteur.id, actor="test")
    assert reader.get(page).status_code == 404
    editor_id = repos.users.get_user(accounts["charge_de_mission"]).id
    repos.users.set_active(editor_id, active=False)
    gone = editor.get(page, follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/connexion")
    # the session was ended: enabling the account again does not log it back in
    repos.users.set_active(editor_id, active=True)
    assert editor.get(page, follow_redirects=False).status_code == 303
    assert admin.get(page).status_code == 200


_CENSUS_EXTRACT = Path(__file__).parents[1] / "data" / "mobpro" / "FD_MOBPRO_2021_extrait.csv"


def test_the_census_file_shows_its_row_count_as_the_other_files(app, accounts) -> None:
    """Walk: the census (role mobpro) showed « — » in the « Lignes » column; its rows are
    counted by DuckDB at upload, the file never loaded in memory."""
    client = logged_in(app, accounts["charge_de_mission"])
    location = _create(client).headers["location"]
    content = _CENSUS_EXTRACT.read_bytes()
    uploaded = _upload(client, location, "mobpro", "FD_MOBPRO_2021.csv", content)
    assert uploaded.status_code == 303, uploaded.text[-2000:]
    rows = len(content.decode("utf-8").splitlines()) - 1  # the header is no row
    page = client.get(location).text
    line = next(tr for tr in page.split("<tr>") if "<td>FD_MOBPRO_2021.csv (" in tr)
    assert f'<td class="n">{rows}</td>' in line, line


def _dossier_link_and_button(client, location: str) -> tuple[str, str]:
    page = html.unescape(client.get(location).text)
    link = re.search(rf'<a href="{location}/dossier">([^<]*)</a>', page)
    button = re.search(
        rf'action="{location}/dossier".*?<button type="submit">([^<]*)</button>', page, re.DOTALL
    )
    assert link, page
    assert button, page
    return link.group(1), button.group(1)


def test_the_dossier_link_and_button_say_different_things(app, accounts) -> None:
    """Walk: the screens' link (« Dossier du territoire (PDF, Excel, QGIS, uMap) ») and
    the button (« Dossier : préparer le dossier du territoire ») said the same thing:
    the link tells whether a dossier is ready, the button what a click does."""
    client = logged_in(app, accounts["charge_de_mission"])
    location = _create(client).headers["location"]
    link, button = _dossier_link_and_button(client, location)
    assert link == "Dossier du territoire (PDF, Excel, QGIS, uMap) : pas encore préparé"
    assert button == "Préparer le dossier du territoire"
    runs = app.state.runs
    project = int(location.rsplit("/", 1)[1])
    run = runs.start(
        project,
        DOSSIER_KIND,
        lambda **_: RunOutcome(summary={}),
        actor=accounts["charge_de_mission"],
    )
    assert runs.wait(run.id, 30)
    link, button = _dossier_link_and_button(client, location)
    assert link.startswith("Dossier du territoire : télécharger celui du "), link
    assert button == "Préparer un nouveau dossier du territoire, avec les fichiers d'aujourd'hui"
