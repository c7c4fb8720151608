"""An installation set to English shows the web pages in English (templates translated)."""

from __future__ import annotations

import dataclasses
import html
import json
import re

from fastapi.testclient import TestClient
from web_helpers import logged_in

from tierslieux.web.app import create_app
from tierslieux.web.rendering import SCRIPT_MESSAGES
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


def test_the_scripts_texts_in_english(web_settings: WebSettings, accounts: dict[str, str]) -> None:
    """The maps' and tables' texts (static/js) come translated in the page's
    ``tierslieux-messages`` meta; a French page has none (the scripts' defaults)."""
    client = logged_in(create_app(_english(web_settings)), accounts["charge_de_mission"])
    page = client.get("/projets").text
    found = re.search(r'<meta name="tierslieux-messages" content="([^"]+)">', page)
    assert found, page[:2000]
    messages = json.loads(html.unescape(found.group(1)))
    assert messages["map"]["sameValue"] == "Every commune has the same value: {value}"
    assert messages["map"]["noData"] == "No data"
    assert messages["table"]["filter"] == "Filter the rows"
    assert set(messages) == set(SCRIPT_MESSAGES)
    for script, texts in SCRIPT_MESSAGES.items():
        assert set(messages[script]) == set(texts), script


def test_a_french_page_has_no_messages_meta(app, accounts: dict[str, str]) -> None:
    page = logged_in(app, accounts["charge_de_mission"]).get("/projets").text
    assert "tierslieux-messages" not in page
