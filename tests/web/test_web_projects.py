"""Projects in the web application: territory search, creation, uploads, members, audit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from web_helpers import csrf, logged_in

from tierslieux.pipeline.inputs import demo_files


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
