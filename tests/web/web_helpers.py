"""Helpers of the web tests (a module of its own: several test folders have a conftest)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PASSWORD = "mot de passe de test"  # noqa: S105 - test data
SECRET = "k" * 40


def csrf(client: TestClient, path: str = "/connexion") -> str:
    """The CSRF token of the client's session, read from a page."""
    page = client.get(path)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def logged_in(app, email: str) -> TestClient:
    """A client logged in as ``email``."""
    client = TestClient(app)
    token = csrf(client)
    response = client.post(
        "/connexion",
        data={"login": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def create_project(app, accounts, repos, *, name: str = "Démo", territory: str = "dep:00") -> int:
    """A project made by the chargé de mission on ``territory``; the lecteur is a member."""
    client = logged_in(app, accounts["charge_de_mission"])
    token = csrf(client, "/projets/nouveau")
    created = client.post(
        "/projets",
        data={"name": name, "territory": territory, "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    project_id = int(created.headers["location"].rsplit("/", 1)[1])
    repos.projects.add_member(
        project_id, repos.users.get_user(accounts["lecteur"]).id, actor="test"
    )
    return project_id
