"""An installation set to English shows the web pages in English (templates translated)."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient
from web_helpers import logged_in

from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings


def _english(web_settings: WebSettings) -> WebSettings:
    return dataclasses.replace(
        web_settings, core=web_settings.core.model_copy(update={"lang": "en"})
    )


def test_login_page_in_english(web_settings: WebSettings) -> None:
    page = TestClient(create_app(_english(web_settings))).get("/connexion").text
    assert 'lang="en"' in page
    assert "Log in" in page
    assert "Se déconnecter" not in page
    assert "Aller au contenu" not in page


def test_projects_page_in_english(web_settings: WebSettings, accounts: dict[str, str]) -> None:
    client = logged_in(create_app(_english(web_settings)), accounts["charge_de_mission"])
    page = client.get("/projets").text
    assert "Log out" in page
    assert "Projects" in page
    assert "Se déconnecter" not in page


def test_french_by_default(app, accounts: dict[str, str]) -> None:
    page = logged_in(app, accounts["charge_de_mission"]).get("/projets").text
    assert "Se déconnecter" in page
