"""Roles on every route, CSRF, security headers, login throttling, passwords, setup link."""

from __future__ import annotations

import re
import stat

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from web_helpers import PASSWORD, SECRET, csrf, logged_in

from tierslieux.pipeline.accounts import create_setup_link
from tierslieux.web.app import create_app, route_table
from tierslieux.web.routes import PUBLIC_PATHS
from tierslieux.web.settings import SECRET_FILE, SecretKeyError, WebSettings, resolve_secret_key

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Changes of one's own session only, open to every logged-in role.
OWN_SESSION = {"/deconnexion"}


def _routes(app) -> list[tuple[str, str]]:
    return route_table(app)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_route_table_every_non_public_route_needs_a_login(app, accounts, repos) -> None:
    routes = _routes(app)
    assert len(routes) >= 14
    anonymous = TestClient(app)
    token = csrf(anonymous)
    for method, path in routes:
        if path in PUBLIC_PATHS:
            continue
        response = anonymous.request(
            method,
            _concrete(path),
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code in {303, 401, 403}, (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/connexion")


def test_route_table_a_lecteur_changes_nothing(app, accounts, repos) -> None:
    admin = logged_in(app, accounts["administrateur"])
    token = csrf(admin, "/projets/nouveau")
    created = admin.post(
        "/projets",
        data={"name": "Démo", "territory": "dep:00", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303
    project_id = int(created.headers["location"].rsplit("/", 1)[1])
    lecteur = repos.users.get_user(accounts["lecteur"])
    repos.projects.add_member(project_id, lecteur.id, actor="test")
    reader = logged_in(app, accounts["lecteur"])
    token = csrf(reader, "/projets")
    before = repos.audit.count()
    checked = 0
    for method, path in _routes(app):
        if method not in STATE_CHANGING or path in PUBLIC_PATHS | OWN_SESSION:
            continue
        url = re.sub(r"\{project_id\}", str(project_id), path)
        response = reader.request(
            method,
            url,
            data={"csrf_token": token, "name": "x", "territory": "dep:00", "login": "x"},
            files={"file": ("communes.csv", b"code\n00101\n")},
            follow_redirects=False,
        )
        assert response.status_code == 403, (method, path, response.status_code)
        checked += 1
    assert checked >= 4
    assert repos.audit.count() == before
    # ... but reads the project it belongs to
    assert reader.get(f"/projets/{project_id}").status_code == 200


def test_admin_pages_are_refused_to_other_roles(app, accounts) -> None:
    for role in ("charge_de_mission", "lecteur"):
        client = logged_in(app, accounts[role])
        assert client.get("/admin/journal").status_code == 403
        assert client.get("/admin/utilisateurs").status_code == 403
    assert logged_in(app, accounts["lecteur"]).get("/projets/nouveau").status_code == 403


def test_state_changing_requests_without_the_csrf_token_are_refused(app, accounts) -> None:
    admin = logged_in(app, accounts["administrateur"])
    good = csrf(admin, "/projets")
    for data, headers in (({}, {}), ({"csrf_token": "faux"}, {}), ({}, {"X-CSRF-Token": "x"})):
        response = admin.post(
            "/admin/utilisateurs",
            data={"email": "x@y.fr", "password": PASSWORD, **data},
            headers=headers,
        )
        assert response.status_code == 403
        assert "CSRF" in response.text
    # the htmx variant: the token in the header
    ok = admin.post(
        "/admin/utilisateurs",
        data={"email": "x@y.fr", "password": PASSWORD, "role": "lecteur"},
        headers={"X-CSRF-Token": good, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    # login itself needs the token
    assert (
        TestClient(app).post("/connexion", data={"login": "a", "password": "b"}).status_code == 403
    )


def test_every_response_has_the_security_headers(app, accounts) -> None:
    client = logged_in(app, accounts["administrateur"])
    for path in (
        "/connexion",
        "/projets",
        "/static/base.css",
        "/static/css/web.css",
        "/inconnue",
        "/sante",
    ):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert client.get("/inconnue").status_code == 404


def test_pages_have_no_inline_script_or_style(app, accounts) -> None:
    client = logged_in(app, accounts["administrateur"])
    for path in (
        "/connexion",
        "/projets",
        "/projets/nouveau?q=bourg",
        "/admin/utilisateurs",
        "/admin/journal",
    ):
        page = client.get(path).text
        assert "<style" not in page
        assert "style=" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert '<html lang="fr">' in page
        assert 'href="#contenu"' in page


def test_session_cookie_is_httponly_and_lax(app, accounts, web_settings) -> None:
    client = TestClient(app)
    token = csrf(client)
    response = client.post(
        "/connexion",
        data={"login": accounts["lecteur"], "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    production = create_app(WebSettings(core=web_settings.core, secret_key=SECRET, production=True))
    client = TestClient(production, base_url="https://testserver")
    token = csrf(client)
    response = client.post(
        "/connexion",
        data={"login": accounts["lecteur"], "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert "secure" in response.headers["set-cookie"].lower()
    assert "strict-transport-security" in response.headers


def test_login_is_throttled_per_account(app, accounts, repos) -> None:
    client = TestClient(app)
    token = csrf(client)
    email = accounts["charge_de_mission"]
    for _attempt in range(3):
        wrong = client.post(
            "/connexion", data={"login": email, "password": "faux", "csrf_token": token}
        )
        assert wrong.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in wrong.text
    locked = client.post(
        "/connexion", data={"login": email, "password": PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    assert "Trop d&#x27;échecs" in locked.text
    assert repos.audit.entries()[0].action == "auth.locked"
    # another account from elsewhere still logs in
    assert logged_in(app, accounts["lecteur"]).get("/projets").status_code == 200


def test_passwords_are_stored_as_argon2_hashes_only(web_settings, accounts) -> None:
    engine = create_engine(web_settings.core.database_url)
    with engine.connect() as connection:
        hashes = [row[0] for row in connection.execute(text("SELECT password_hash FROM users"))]
        dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM users")))
    engine.dispose()
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert PASSWORD not in dump


def test_setup_link_creates_the_first_administrator_once(app, repos) -> None:
    token, _expires = create_setup_link(repos)
    client = TestClient(app)
    assert client.get("/installation/inconnu").status_code == 404
    form = client.get(f"/installation/{token}")
    assert form.status_code == 200
    csrf_token = csrf(client, f"/installation/{token}")
    data = {
        "email": "premiere@exemple.fr",
        "display_name": "Première",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "csrf_token": csrf_token,
    }
    mismatch = client.post(f"/installation/{token}", data={**data, "password_confirm": "autre"})
    assert mismatch.status_code == 422
    done = client.post(f"/installation/{token}", data=data, follow_redirects=False)
    assert done.status_code == 303
    assert repos.users.get_user("premiere@exemple.fr").role == "administrateur"
    assert client.get("/projets").status_code == 200  # logged in
    again = TestClient(app)
    assert again.get(f"/installation/{token}").status_code == 404
    assert repos.security.consume_token(token, "setup") is False
    assert "user.add" in [e.action for e in repos.audit.entries()]


def test_production_refuses_a_missing_or_default_secret(web_settings, tmp_path) -> None:
    for given in ({}, {"TIERSLIEUX_SECRET_KEY": "changeme"}, {"TIERSLIEUX_SECRET_KEY": "court"}):
        with pytest.raises(SecretKeyError, match="TIERSLIEUX_SECRET_KEY"):
            resolve_secret_key(web_settings.core, production=True, environ=given)
    with pytest.raises(SecretKeyError):
        create_app(WebSettings(core=web_settings.core, secret_key="changeme", production=True))  # noqa: S106
    assert (
        resolve_secret_key(
            web_settings.core, production=True, environ={"TIERSLIEUX_SECRET_KEY": SECRET}
        )
        == SECRET
    )


def test_development_secret_is_drawn_once_beside_the_database(web_settings, tmp_path) -> None:
    first = resolve_secret_key(web_settings.core, production=False, environ={})
    path = tmp_path / SECRET_FILE
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert resolve_secret_key(web_settings.core, production=False, environ={}) == first


#: The public questionnaire's routes: the only ones besides login and setup that answer
#: without an account (tierslieux.web.public).
PUBLIC_QUESTIONNAIRE = {
    "/q/{slug}",
    "/q/{slug}/recu",
    "/q/{slug}/recu/telecharger",
    "/q/{slug}/recu/effacer",
}


def test_public_paths_are_exactly_the_declared_ones(app) -> None:
    declared = {"/", "/connexion", "/installation/{token}", "/sante", "/static/base.css", "/static"}
    declared.add("/favicon.ico")  # the icon every browser asks for, public by nature
    assert declared | PUBLIC_QUESTIONNAIRE == PUBLIC_PATHS
    paths = {path for _method, path in _routes(app)}
    # every route of the public form is under /q/ and declared; no other route is there
    assert {p for p in paths if p.startswith("/q/")} == PUBLIC_QUESTIONNAIRE


def test_the_public_side_reaches_nothing_else(app, accounts, repos) -> None:
    """An anonymous visitor who answered a campaign still reaches no workspace page, no
    other answer, and a forged slug or receipt code shows nothing."""
    from test_web_public import GOOD, _campaign, _form, _project, _send  # noqa: PLC0415

    charge, project_id = _project(app, accounts, repos)
    campaign_id, slug = _campaign(charge, project_id)
    other = TestClient(app)
    _text, hidden = _form(other, slug)
    assert (
        _send(other, slug, hidden, {**GOOD, "commentaire": "réponse d'un autre"}).status_code == 200
    )
    visitor = TestClient(app)
    _text, hidden = _form(visitor, slug)
    assert _send(visitor, slug, hidden).status_code == 200
    token = hidden["csrf_token"]
    # the visitor's session opens no route of the workspace
    for method, path in _routes(app):
        if path in PUBLIC_PATHS:
            continue
        url = _concrete(path).replace("/projets/1", f"/projets/{project_id}")
        response = visitor.request(method, url, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code in {303, 401, 403}, (method, path, response.status_code)
    # public routes with a forged slug, or a forged receipt code, show nothing
    _text, hidden = _form(visitor, slug)  # « /deconnexion » above ended the session
    token = hidden["csrf_token"]
    for method, path in _routes(app):
        if path not in PUBLIC_QUESTIONNAIRE:
            continue
        for slug_given in ("B" * 24, slug):
            response = visitor.request(
                method,
                path.replace("{slug}", slug_given),
                data={"csrf_token": token, "code": "AAAA-BBBB-CCCC-DDDD", "format": "json"},
            )
            assert "réponse d'un autre" not in response.text, (method, path)
            if slug_given != slug or (method == "POST" and path != "/q/{slug}"):
                assert response.status_code == 404, (method, path, response.status_code)
    assert campaign_id


def test_the_route_walk_covers_the_dossier(app) -> None:
    """The walks above reach the dossier's routes: launching is a state change a lecteur
    is refused, the page and the files are read with the project viewers' rights."""
    routes = set(_routes(app))
    assert ("POST", "/projets/{project_id}/dossier") in routes
    assert ("GET", "/projets/{project_id}/dossier") in routes
    assert ("GET", "/projets/{project_id}/calculs/{run_id}/fichiers/{name}") in routes
