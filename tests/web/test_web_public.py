"""The public questionnaire (issue 14): campaigns, the form, receipts, integrity."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf, logged_in

from tierslieux.i18n import PARIS
from tierslieux.web.app import create_app

SCRIPT = '<script>alert("x")</script><b onmouseover="x()">gras</b>'


def _today() -> date:
    return datetime.now(PARIS).date()


def _project(app, accounts, repos) -> tuple[TestClient, int]:
    charge = logged_in(app, accounts["charge_de_mission"])
    token = csrf(charge, "/projets/nouveau")
    created = charge.post(
        "/projets",
        data={"name": "Démo", "territory": "dep:00", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    project_id = int(created.headers["location"].rsplit("/", 1)[1])
    return charge, project_id


def _campaign(client: TestClient, project_id: int, **fields: str) -> tuple[int, str]:
    token = csrf(client, f"/projets/{project_id}/questionnaire/campagnes/nouvelle")
    data = {
        "titre": "Vos besoins d'un tiers-lieu",
        "ouverture": (_today() - timedelta(days=1)).isoformat(),
        "fermeture": (_today() + timedelta(days=30)).isoformat(),
        "responsable": "Communauté de communes de démonstration",
        "contact": "dpo@exemple.fr",
        "finalite": "Étudier la création d'un tiers-lieu.",
        "conservation": "12",
        "csrf_token": token,
        **fields,
    }
    response = client.post(
        f"/projets/{project_id}/questionnaire/campagnes", data=data, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    campaign_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(response.headers["location"])
    slug = re.search(r"/q/([A-Za-z0-9_-]{16,64})", page.text)
    assert slug, page.text
    return campaign_id, slug.group(1)


def _publish(app, accounts, repos) -> tuple[TestClient, int, int, str]:
    """A project of the chargé de mission with an open campaign: the chargé de mission's
    client, the project, the campaign and its public slug."""
    charge, project_id = _project(app, accounts, repos)
    campaign_id, slug = _campaign(charge, project_id)
    return charge, project_id, campaign_id, slug


@pytest.fixture
def published(app, accounts, repos):
    return _publish(app, accounts, repos)


def _close(charge: TestClient, project_id: int, campaign_id: int) -> None:
    base = f"/projets/{project_id}/questionnaire/campagnes/{campaign_id}"
    token = csrf(charge, base)
    closed = charge.post(f"{base}/fermer", data={"csrf_token": token}, follow_redirects=False)
    assert closed.status_code == 303


def _future_campaign(charge: TestClient, project_id: int) -> str:
    """The slug of a campaign opening in ten days."""
    _id, slug = _campaign(
        charge,
        project_id,
        ouverture=(_today() + timedelta(days=10)).isoformat(),
        fermeture=(_today() + timedelta(days=20)).isoformat(),
    )
    return slug


def _form(client: TestClient, slug: str, query: str = "") -> tuple[str, dict[str, str]]:
    page = client.get(f"/q/{slug}{query}")
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return page.text, hidden


GOOD = {
    "commune_residence": "Bourg-Fictif (FICTIF)",
    "statut": "salarie",
    "part_ordinateur": "plus_75",
    "envies": ["proche", "convivial"],
    "consentement": "oui",
}


def _send(client: TestClient, slug: str, hidden: dict[str, str], answers=None, **extra):
    data = {**hidden, **(GOOD if answers is None else answers), **extra}
    return client.post(f"/q/{slug}", data=data)


def _receipt(
    client: TestClient, slug: str, hidden: dict[str, str], code: str, action: str = "", **extra
):
    """A receipt page: ``action`` "" (see it), "telecharger" (with a ``format``) or "effacer"."""
    path = f"/q/{slug}/recu/{action}" if action else f"/q/{slug}/recu"
    return client.post(path, data={"code": code, "csrf_token": hidden["csrf_token"], **extra})


def _code(text: str) -> str:
    found = re.search(r'class="code-recu">([A-Z0-9-]{19})<', text)
    assert found, text[-1500:]
    return found.group(1)


def test_campaign_created_listed_and_its_form_answered(app, published, repos) -> None:
    charge, project_id, campaign_id, slug = published
    listing = charge.get(f"/projets/{project_id}/questionnaire")
    assert "un tiers-lieu</a>" in listing.text
    assert repos.audit.entries(limit=5, action="campaign.create")
    public = TestClient(app)
    text, hidden = _form(public, slug)
    assert "Communauté de communes de démonstration" in text  # controller shown
    assert "12 mois" in text
    assert '<datalist id="communes">' in text
    assert "<fieldset" in text
    assert "<legend>" in text
    done = _send(public, slug, hidden)
    assert done.status_code == 200, done.text
    code = _code(done.text)
    page = charge.get(f"/projets/{project_id}/questionnaire/campagnes/{campaign_id}")
    assert "R0001" in page.text
    assert "en ligne" in page.text
    # the answer counts in the project's results too
    assert "1</b>" in charge.get(f"/projets/{project_id}/questionnaire").text
    # receipt: see, download, delete
    seen = _receipt(public, slug, hidden, code.lower())
    assert seen.status_code == 200
    assert "Salarié(e)" in seen.text
    assert "Communauté de communes de démonstration" in seen.text  # the consent text kept
    as_json = _receipt(public, slug, hidden, code, "telecharger", format="json")
    document = json.loads(as_json.content)
    assert document["reponses"]["statut"] == "salarie"
    assert document["consentement"]["version"] == "campagne-1"
    as_csv = _receipt(public, slug, hidden, code, "telecharger", format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "statut;" in as_csv.content.decode("utf-8-sig")
    erased = _receipt(public, slug, hidden, code, "effacer")
    assert "Votre réponse est effacée" in erased.text
    assert not [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    again = _receipt(public, slug, hidden, code)
    assert again.status_code == 404


def test_blank_fields_are_rendered_once_per_form_and_not_for_a_corrected_page(
    app, published
) -> None:
    _charge, _project_id, _campaign_id, slug = published
    public = TestClient(app)
    _first, hidden = _form(public, slug)
    [kept] = app.state.public_fields.values()
    _second, again = _form(public, slug)
    assert hidden["cle_envoi"] != again["cle_envoi"]  # drawn per page, outside the markup
    [again_kept] = app.state.public_fields.values()
    assert again_kept is kept  # not rendered again
    wrong = _send(public, slug, hidden, {**GOOD, "commentaire": "Je garde ce texte"}, statut="")
    assert wrong.status_code == 422
    assert "Je garde ce texte</textarea>" in wrong.text  # typed answers: this page only
    assert list(app.state.public_fields.values()) == [kept]


def test_mistakes_are_listed_at_the_top_and_answers_kept(app, published) -> None:
    _charge, _project_id, _campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    wrong = {
        "commune_residence": "Atlantide",
        "temps_trajet": "beaucoup",
        "envies": ["proche"],
        "commentaire": "Je garde ce texte",
    }
    response = _send(public, slug, hidden, wrong)
    assert response.status_code == 422
    page = response.text
    assert 'class="alerte resume-erreurs" role="alert"' in page
    assert 'href="#champ-commune_residence"' in page
    assert 'href="#champ-statut-independant"' in page  # a choice: its first option
    assert "est pas une commune" in page
    assert 'value="Atlantide"' in page
    assert 'value="beaucoup"' in page
    assert "Je garde ce texte</textarea>" in page
    assert 'value="proche" checked' in page
    assert page.count('aria-invalid="true"') >= 3
    # the same idempotency key is kept for the corrected form
    assert hidden["cle_envoi"] in page


def test_homonyms_need_the_departement(app, published) -> None:
    _c, _p, _i, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    response = _send(public, slug, hidden, {**GOOD, "commune_residence": "Nulle-Part-Du-Tout"})
    assert response.status_code == 422


def test_script_in_every_free_text_is_stored_and_escaped(app, published, repos) -> None:
    charge, project_id, campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    response = _send(public, slug, hidden, {**GOOD, "commentaire": SCRIPT})
    assert response.status_code == 200
    stored = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert stored[0].answers["commentaire"] == SCRIPT
    for page in (
        charge.get(f"/projets/{project_id}/questionnaire/campagnes/{campaign_id}").text,
        charge.get(f"/projets/{project_id}/questionnaire/resultats").text,
        _receipt(public, slug, hidden, _code(response.text)).text,
    ):
        assert "<script>alert" not in page
        assert 'onmouseover="x()"' not in page
        assert "&lt;script&gt;" in page
    # a script typed as a wrong commune comes back escaped too
    _text, hidden = _form(public, slug)
    wrong = _send(public, slug, hidden, {**GOOD, "commune_residence": SCRIPT})
    assert wrong.status_code == 422
    assert "<script>alert" not in wrong.text


def test_ten_thousand_characters_are_refused_with_a_clear_message(app, published, repos) -> None:
    _c, _p, campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    long = "a" * 10_000
    response = _send(public, slug, hidden, {**GOOD, "commentaire": long, "commune_travail": long})
    assert response.status_code == 422
    assert "réponse trop longue (10000 caractères) : 2000 caractères au plus" in response.text
    assert "réponse trop longue (10000 caractères) : 200 caractères au plus" in response.text
    assert not [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]


def test_same_idempotency_key_twice_stores_once_and_shows_the_same_receipt(
    app, published, repos
) -> None:
    _c, _p, campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    first = _send(public, slug, hidden)
    second = _send(public, slug, hidden)
    assert _code(first.text) == _code(second.text)
    stored = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert len(stored) == 1
    # concurrent resends of one form: still one answer
    _text, hidden = _form(public, slug)
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _i: _code(_send(public, slug, hidden).text), range(4)))
    assert len(set(codes)) == 1
    stored = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert len(stored) == 2


def test_honeypot_filled_pretends_success_and_stores_nothing(app, published, repos, caplog) -> None:
    _c, _p, campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    response = _send(public, slug, hidden, site_web="http://spam.example")
    assert response.status_code == 200
    assert "votre réponse est enregistrée" in response.text
    assert not [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert "honeypot" in caplog.text


def test_forged_csrf_is_refused_with_a_clear_page(app, published, repos) -> None:
    _c, _p, campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    response = _send(public, slug, {**hidden, "csrf_token": "forge"})
    assert response.status_code == 403
    assert "Jeton de sécurité (CSRF)" in response.text
    assert f'href="/q/{slug}"' in response.text
    assert "Se déconnecter" not in response.text
    stranger = TestClient(app)  # no session at all
    assert stranger.post(f"/q/{slug}", data={**GOOD, "cle_envoi": "x" * 24}).status_code == 403
    assert not [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]


def test_forged_slug_is_a_404_page(app, published) -> None:
    public = TestClient(app)
    for slug in ("inconnu", "A" * 24, "..%2F..%2Fprojets"):
        response = public.get(f"/q/{slug}")
        assert response.status_code == 404
    assert "Questionnaire introuvable" in public.get("/q/" + "B" * 24).text
    token = csrf(public)
    assert public.post("/q/" + "B" * 24, data={"csrf_token": token}).status_code == 404
    assert public.get("/q/" + "B" * 24 + "/recu").status_code == 404


def test_closed_and_future_campaigns_refuse_answers(app, published, repos) -> None:
    charge, project_id, campaign_id, slug = published
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    _close(charge, project_id, campaign_id)
    assert repos.audit.entries(limit=5, action="campaign.close")
    assert public.get(f"/q/{slug}").status_code == 410
    refused = _send(public, slug, hidden)
    assert refused.status_code == 410
    assert "Questionnaire fermé" in refused.text
    page = public.get(f"/q/{_future_campaign(charge, project_id)}")
    assert page.status_code == 403
    assert "ouvrira le" in page.text


def test_campaign_form_errors_are_per_field(app, accounts, repos) -> None:
    charge, project_id = _project(app, accounts, repos)
    token = csrf(charge, f"/projets/{project_id}/questionnaire/campagnes/nouvelle")
    response = charge.post(
        f"/projets/{project_id}/questionnaire/campagnes",
        data={"titre": "", "ouverture": "demain", "conservation": "0", "csrf_token": token},
    )
    assert response.status_code == 422
    for field in ("titre", "ouverture", "fermeture", "responsable", "contact", "conservation"):
        assert f'href="#champ-{field}"' in response.text


def test_invitation_only_needs_an_unused_token(app, accounts, repos) -> None:
    charge, project_id = _project(app, accounts, repos)
    campaign_id, slug = _campaign(charge, project_id, sur_invitation="1")
    public = TestClient(app)
    assert public.get(f"/q/{slug}").status_code == 403
    assert public.get(f"/q/{slug}?invitation=forge" + "x" * 20).status_code == 403
    base = f"/projets/{project_id}/questionnaire/campagnes/{campaign_id}"
    token = csrf(charge, base)
    page = charge.post(f"{base}/invitations", data={"nombre": "2", "csrf_token": token})
    links = re.findall(r"\?invitation=([A-Za-z0-9_-]+)</code>", page.text)
    assert len(links) == 2
    assert repos.audit.entries(limit=5, action="campaign.invitations")
    _text, hidden = _form(public, slug, f"?invitation={links[0]}")
    assert hidden["invitation"] == links[0]
    assert _send(public, slug, hidden).status_code == 200
    # used: the link no longer opens the form, and a forged one is refused at submit
    assert public.get(f"/q/{slug}?invitation={links[0]}").status_code == 403
    _text, fresh = _form(public, slug, f"?invitation={links[1]}")
    reused = _send(public, slug, {**fresh, "invitation": links[0]})
    assert reused.status_code == 403
    assert "déjà servi" in reused.text
    assert _send(public, slug, {**fresh, "invitation": "forge" + "y" * 20}).status_code == 403
    stored = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert len(stored) == 1
    assert "1 utilisée(s) sur 2" in charge.get(base).text


def test_rate_limit_per_address_is_configurable(web_settings, accounts, repos) -> None:
    from dataclasses import replace  # noqa: PLC0415

    app = create_app(replace(web_settings, public_rate_limit=2))
    *_rest, slug = _publish(app, accounts, repos)
    public = TestClient(app)
    for _i in range(2):
        _text, hidden = _form(public, slug)
        assert _send(public, slug, hidden).status_code == 200
    _text, hidden = _form(public, slug)
    blocked = _send(public, slug, hidden)
    assert blocked.status_code == 429
    assert "envois depuis cette adresse" in blocked.text


def test_default_rate_limit_lets_a_town_hall_send_sixty_answers() -> None:
    from tierslieux.web.public import RateLimiter  # noqa: PLC0415
    from tierslieux.web.settings import WebSettings  # noqa: PLC0415

    settings = WebSettings()
    limiter = RateLimiter(settings.public_rate_limit, settings.public_rate_window_s)
    assert all(limiter.allow("10.0.0.1", now=float(i)) for i in range(60))
    assert not limiter.allow("10.0.0.1", now=61.0)
    assert limiter.allow("10.0.0.2", now=61.0)
    assert limiter.allow("10.0.0.1", now=601.0)


def test_settings_read_from_the_environment() -> None:
    from tierslieux.web.settings import WebSettings, WebSettingsError  # noqa: PLC0415

    env = {
        "TIERSLIEUX_SECRET_KEY": "s" * 40,
        "TIERSLIEUX_WEB_PUBLIC_RATE_LIMIT": "200",
        "TIERSLIEUX_WEB_TRUST_FORWARDED_FOR": "1",
    }
    settings = WebSettings.from_environment(env)
    assert settings.public_rate_limit == 200
    assert settings.trust_forwarded_for
    with pytest.raises(WebSettingsError, match="TIERSLIEUX_WEB_PUBLIC_RATE_LIMIT"):
        WebSettings.from_environment({**env, "TIERSLIEUX_WEB_PUBLIC_RATE_LIMIT": "zéro"})


def test_lecteur_reads_campaigns_but_changes_nothing(app, accounts, repos, published) -> None:
    _charge, project_id, campaign_id, _slug = published
    lecteur = repos.users.get_user(accounts["lecteur"])
    repos.projects.add_member(project_id, lecteur.id, actor="test")
    reader = logged_in(app, accounts["lecteur"])
    base = f"/projets/{project_id}/questionnaire/campagnes"
    assert reader.get(f"{base}/{campaign_id}").status_code == 200
    assert "Fermer la campagne" not in reader.get(f"{base}/{campaign_id}").text
    assert reader.get(f"{base}/nouvelle").status_code == 403
    token = csrf(reader, "/projets")
    assert (
        reader.post(f"{base}/{campaign_id}/fermer", data={"csrf_token": token}).status_code == 403
    )
    # another project's campaign is not reachable through this one
    assert reader.get(f"/projets/{project_id}/questionnaire/campagnes/999").status_code == 404


def test_public_pages_have_no_script_and_no_workspace_link(app, published) -> None:
    _c, _p, _i, slug = published
    public = TestClient(app)
    text, hidden = _form(public, slug)
    pages = [text, _send(public, slug, hidden, {"commune_residence": "x"}).text]
    pages.append(public.get(f"/q/{slug}/recu").text)
    for page in pages:
        assert "<script" not in page
        assert "style=" not in page
        assert "/projets" not in page
        assert "/connexion" not in page
