"""A campaign's tools (issue 14): flyer, paper version and entry, live results, purge."""

from __future__ import annotations

import html
import io
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import update
from test_web_public import GOOD, _campaign, _form, _project, _send, _today
from typer.testing import CliRunner
from web_helpers import csrf, logged_in

from tierslieux.cli import app as cli
from tierslieux.pipeline.campaign_tools import (
    campaign_counts,
    purge_campaigns,
    retention_limit,
)
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.projects import get_project
from tierslieux.pipeline.survey import purge_expired
from tierslieux.reports.flyer import qr_code, qr_matrix, render_flyer_html
from tierslieux.store.responses import RESPONDENTS, TOMBSTONES
from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings, WebSettingsError

PUBLIC = "https://enquete.exemple.fr"


@pytest.fixture
def desk(web_settings, accounts, repos):
    """An app with a public base URL, a project and an open campaign."""
    app = create_app(replace(web_settings, public_base_url=PUBLIC + "/"))
    charge, project_id = _project(app, accounts, repos)
    campaign_id, slug = _campaign(charge, project_id)
    base = f"/projets/{project_id}/questionnaire/campagnes/{campaign_id}"
    return app, charge, project_id, campaign_id, slug, base


def _paper(client: TestClient, base: str, answers=None, **extra):
    token = csrf(client, base + "/papier")
    data = {**(GOOD if answers is None else answers), "csrf_token": token, **extra}
    return client.post(base + "/papier", data=data, follow_redirects=False)


def _decode(matrix) -> str | None:
    """Decode a QR matrix with zbar (None when zbar is not installed)."""
    try:
        from PIL import Image  # noqa: PLC0415 - optional: zbar
        from pyzbar.pyzbar import decode  # noqa: PLC0415
    except ImportError:
        return None
    size = len(matrix) + 8
    image = Image.new("L", (size, size), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x + 4, y + 4), 0)
    found = decode(image.resize((size * 8, size * 8), Image.NEAREST))
    return found[0].data.decode("utf-8") if found else None


# -- flyer -----------------------------------------------------------------------------


def test_flyer_pdf_has_the_public_url_and_its_qr_code(desk) -> None:
    app, charge, _project_id, _campaign_id, slug, base = desk
    url = f"{PUBLIC}/q/{slug}"
    page = charge.get(base)
    assert url in page.text  # the setting, not the test client's address
    assert "affiche.pdf" in page.text
    response = charge.get(base + "/affiche.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    assert abs(float(reader.pages[0].mediabox.width) - 419.5) < 1  # A5
    text = reader.pages[0].extract_text()
    assert url in text.replace("\n", "")
    assert "Communauté de communes de démonstration" in text
    assert "12 mois" in text
    # The campaign opened yesterday in Paris (between 23:00 and midnight UTC, Paris is
    # already the next day).
    opens = (_today() - timedelta(days=1)).strftime("%d/%m/%Y")
    assert opens in text
    # The QR code drawn is the URL's, and decodes back to it.
    decoded = _decode(qr_matrix(url))
    if decoded is not None:
        assert decoded == url
    matrix = qr_matrix(url)
    assert len(matrix) == qr_code(url).symbol_size(border=0)[0]
    assert qr_code(url).error == "M"
    del app


def test_flyer_html_embeds_the_qr_of_the_url_and_escapes_the_title(desk, repos) -> None:
    _app, _charge, _project_id, campaign_id, slug, _base = desk
    campaign = repos.campaigns.get_campaign(campaign_id)
    campaign = replace(campaign, title="<script>x()</script>")
    url = f"{PUBLIC}/q/{slug}"
    page = render_flyer_html(campaign, url, "Territoire")
    assert "<script>x()" not in page
    assert "&lt;script&gt;" in page
    found = re.search(r'<img src="([^"]+)"', page)
    assert found
    expected = qr_code(url).svg_data_uri(border=4, dark="#000", light="#fff", scale=4)
    assert html.unescape(found.group(1)) == expected


def test_public_url_setting_is_checked() -> None:
    assert WebSettings(public_base_url="https://a.fr/").public_base_url == "https://a.fr"
    with pytest.raises(WebSettingsError, match="https://"):
        WebSettings(public_base_url="ftp://a.fr")
    settings = WebSettings.from_environment(
        {"TIERSLIEUX_WEB_PUBLIC_URL": "http://mairie.fr/enquete", "TIERSLIEUX_SECRET_KEY": "k" * 40}
    )
    assert settings.public_base_url == "http://mairie.fr/enquete"


# -- paper version and entry --------------------------------------------------------------


def test_paper_version_carries_the_campaign_notice_and_a_sheet_box(desk) -> None:
    _app, charge, _project_id, _campaign_id, _slug, base = desk
    html = charge.get(base + "/questionnaire.html")
    assert html.status_code == 200
    assert "N° de feuille" in html.text
    assert "Communauté de communes de démonstration (dpo@exemple.fr)" in html.text
    assert "Conservation : 12 mois" in html.text
    pdf = charge.get(base + "/questionnaire.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert "N° de feuille" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()


def test_paper_entry_has_the_public_form_checks_and_messages(desk, repos) -> None:
    app, charge, _project_id, campaign_id, slug, base = desk
    bad = {**GOOD, "commune_residence": "Atlantide", "consentement": ""}
    refused = _paper(charge, base, bad, feuille="7")
    assert refused.status_code == 422
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    online = _send(public, slug, hidden, bad)
    assert online.status_code == 422
    messages = re.findall(r'<p class="erreur" id="erreur-([a-z_]+)">([^<]+)</p>', online.text)
    assert {m[0] for m in messages} >= {"commune_residence", "consentement"}
    for field, text in messages:  # one piece of code: the same message at the same field
        assert f'<p class="erreur" id="erreur-{field}">{text}</p>' in refused.text
    assert 'value="Atlantide"' in refused.text  # kept
    assert 'value="7"' in refused.text
    assert 'href="#champ-commune_residence"' in refused.text  # the summary links
    assert not repos.campaigns.campaign_answers(campaign_id)
    bad_sheet = _paper(charge, base, feuille="<b>")
    assert bad_sheet.status_code == 422
    assert "N° de feuille" in bad_sheet.text
    assert "&lt;b&gt;" in bad_sheet.text


def test_same_sheet_typed_twice_is_stored_once(desk, repos) -> None:
    _app, charge, _project_id, campaign_id, _slug, base = desk
    first = _paper(charge, base, feuille="A-12")
    assert first.status_code == 303
    assert "enregistrée" in charge.get(first.headers["location"]).text
    again = _paper(charge, base, {**GOOD, "statut": "retraite"}, feuille="a-12")
    assert again.status_code == 303
    assert "déjà saisie" in charge.get(again.headers["location"]).text
    unnumbered = _paper(charge, base)
    assert unnumbered.status_code == 303
    stored = repos.campaigns.campaign_answers(campaign_id)
    assert len(stored) == 2
    assert {r.channel for r in stored} == {"papier"}
    assert stored[0].answers["statut"] == "salarie"  # the first typing kept
    assert stored[0].consent_version == "papier-1"
    assert stored[0].consent_text.startswith("Consentement recueilli sur papier")
    assert "dpo@exemple.fr" in stored[0].consent_text
    entries = repos.audit.entries(limit=10, action="campaign.paper")
    assert len(entries) == 3
    assert {e.details["enregistree"] for e in entries} == {True, False}
    page = charge.get(base)
    assert "papier" in page.text
    assert re.search(r"<b>2</b>dont papier", page.text)


def test_lecteur_cannot_enter_paper_answers(desk, accounts, repos) -> None:
    app, charge, project_id, campaign_id, _slug, base = desk
    lecteur = repos.users.get_user(accounts["lecteur"])
    repos.projects.add_member(project_id, lecteur.id, actor="test")
    reader = logged_in(app, accounts["lecteur"])
    assert reader.get(base).status_code == 200
    assert "/papier" not in reader.get(base).text
    assert reader.get(base + "/papier").status_code == 403
    token = csrf(reader, base)
    sent = reader.post(base + "/papier", data={**GOOD, "csrf_token": token})
    assert sent.status_code == 403
    assert reader.post(base + "/purger", data={"csrf_token": token}).status_code == 403
    assert reader.get(base + "/affiche.pdf").status_code == 200
    assert not repos.campaigns.campaign_answers(campaign_id)
    del charge


# -- results ---------------------------------------------------------------------------------


def test_results_count_per_day_commune_and_channel(desk, repos, web_settings) -> None:
    app, charge, _project_id, _campaign_id, slug, base = desk
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    assert _send(public, slug, hidden).status_code == 200
    _paper(charge, base, feuille="1")
    _paper(charge, base, {**GOOD, "commune_residence": "Montfictif (FICTIF)"}, feuille="2")
    page = charge.get(base)
    assert page.status_code == 200
    assert re.search(r"<b>3</b>réponse\(s\) en tout", page.text)
    assert re.search(r"<b>1</b>dont en ligne", page.text)
    assert re.search(r"<b>2</b>dont papier", page.text)
    assert "Réponses par jour" in page.text
    assert "Profil" in page.text or "typolog" in page.text.lower()
    assert 'data-geojson-url="' + base + "/carte.geojson" in page.text
    assert charge.get(base + "/carte.geojson").status_code == 200
    assert charge.get(base + "/carte.json").status_code == 200
    # per commune of residence: en ligne, papier, total
    assert re.search(
        r'<td>Bourg-Fictif \(FICTIF\)</td><td>[^<]+</td><td class="n">1</td>'
        r'<td class="n">1</td><td class="n">2</td>',
        page.text,
    )
    export = charge.get(base + "/reponses.csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("repondant;commune;version_questionnaire;date_consentement;canal")
    assert len(lines) == 4
    assert lines[1].startswith("R0001;")
    assert sorted(line.split(";")[4] for line in lines[1:]) == ["en_ligne", "papier", "papier"]
    assert repos.audit.entries(limit=5, action="survey.export")
    # the project's questionnaire screen counts the channels too
    project = charge.get(base.rsplit("/campagnes", 1)[0])
    assert "papier 2" in project.text
    assert "en ligne 1" in project.text


def test_campaign_counts_use_paris_days(desk, repos, web_settings) -> None:
    _app, charge, project_id, campaign_id, _slug, base = desk
    _paper(charge, base, feuille="1")
    _paper(charge, base, feuille="2")
    stored = repos.campaigns.campaign_answers(campaign_id)
    with repos.responses._database.transaction(write=True) as connection:
        # 23:30 UTC on 31 Dec is 00:30 on 1 Jan in Paris
        connection.execute(
            update(RESPONDENTS)
            .where(RESPONDENTS.c.id == stored[0].id)
            .values(created_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
        )
    project = get_project(repos, project_id)
    with project_inputs(
        repos, web_settings.core, project.id, web_settings.workspace_path, mobpro=False
    ) as inputs:
        pass  # loaded in memory
    counts = campaign_counts(web_settings.core, project, inputs, campaign_id)
    assert counts.total == 2
    assert counts.channels == (("papier", 2),)
    assert [d.isoformat() for d, _per, _n in counts.days][-1] == "2027-01-01"
    assert counts.days[-1][1] == {"papier": 1}
    assert counts.communes[0][3] == 2


# -- retention ---------------------------------------------------------------------------------


def _age(repos, respondent_id: str, days: int) -> None:
    with repos.responses._database.transaction(write=True) as connection:
        connection.execute(
            update(RESPONDENTS)
            .where(RESPONDENTS.c.id == respondent_id)
            .values(consented_at=datetime.now(UTC) - timedelta(days=days))
        )


def _tombstones(repos) -> int:
    with repos.responses._database.transaction(write=False) as connection:
        return len(connection.execute(TOMBSTONES.select()).all())


def test_purge_button_applies_the_campaign_retention(desk, repos) -> None:
    _app, charge, _project_id, campaign_id, _slug, base = desk
    for sheet in ("1", "2", "3"):
        _paper(charge, base, feuille=sheet)
    stored = repos.campaigns.campaign_answers(campaign_id)
    _age(repos, stored[0].id, 400)  # past 12 months
    _age(repos, stored[1].id, 300)  # within
    token = csrf(charge, base)
    done = charge.post(base + "/purger", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "1 réponse(s) effacée(s)" in charge.get(base).text
    left = {r.id for r in repos.campaigns.campaign_answers(campaign_id)}
    assert left == {stored[1].id, stored[2].id}
    assert _tombstones(repos) == 1
    assert repos.audit.entries(limit=5, action="campaign.purge")[0].details["effacees"] == 1
    # the same sheet typed again is not brought back
    again = _paper(charge, base, feuille="1")
    assert again.status_code == 409
    assert "conservation" in again.text


def test_survey_purge_uses_each_campaign_retention(desk, repos, web_settings, caplog) -> None:
    app, charge, project_id, campaign_id, _slug, base = desk
    short_id, _short_slug = _campaign(charge, project_id, conservation="1", titre="Courte")
    short_base = base.rsplit("/", 1)[0] + f"/{short_id}"
    _paper(charge, base, feuille="1")
    _paper(charge, short_base, feuille="1")
    long_answer = repos.campaigns.campaign_answers(campaign_id)[0]
    short_answer = repos.campaigns.campaign_answers(short_id)[0]
    _age(repos, long_answer.id, 60)
    _age(repos, short_answer.id, 60)
    # the settings' retention (days) applies to imported answers only
    assert purge_expired(web_settings.core.model_copy(update={"survey_retention_days": 1})) == 0
    with caplog.at_level(logging.INFO, logger="tierslieux.campaigns"):
        done = purge_campaigns(web_settings.core)
    by_id = {d.campaign.id: d.deleted for d in done}
    assert by_id == {campaign_id: 0, short_id: 1}
    assert len([r for r in caplog.records if "answer(s) deleted" in r.getMessage()]) == 2
    assert repos.campaigns.campaign_answers(campaign_id)
    assert not repos.campaigns.campaign_answers(short_id)
    del app


def test_survey_purge_command_prints_a_line_per_campaign(desk, web_settings) -> None:
    _app, _charge, _project_id, campaign_id, _slug, _base = desk
    result = CliRunner().invoke(
        cli, ["survey", "purge", "--database-url", web_settings.core.database_url]
    )
    assert result.exit_code == 0, result.output
    assert f"Campagne {campaign_id} « Vos besoins d'un tiers-lieu »" in result.output
    assert "0 réponse(s) effacée(s)" in result.output


def test_retention_limit_counts_calendar_months() -> None:
    now = datetime(2027, 3, 31, 12, tzinfo=UTC)
    assert retention_limit(now, 1) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert retention_limit(now, 12) == datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert retention_limit(now, 3) == datetime(2026, 12, 31, 12, tzinfo=UTC)


def test_results_map_reads_the_project_files_once(desk, monkeypatch) -> None:
    """Audit: with the project's own communes file (all PACA's outlines, say), each of
    the page, ``carte.geojson`` and ``carte.json`` read and merged it again (7 s each on
    a real EPCI); the loaded inputs are now kept per state of the project's files."""
    from tierslieux.pipeline import project_runs  # noqa: PLC0415
    from tierslieux.pipeline.inputs import demo_files  # noqa: PLC0415

    app, charge, project_id, _campaign_id, slug, base = desk
    communes = demo_files()["communes"]
    uploaded = charge.post(
        f"/projets/{project_id}/fichiers",
        data={"role": "communes", "csrf_token": csrf(charge, f"/projets/{project_id}")},
        files={"file": (communes.name, communes.read_bytes())},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    assert _send(public, slug, hidden).status_code == 200
    assert charge.get(base).status_code == 200
    loads: list[object] = []
    real = project_runs.load_inputs

    def counted(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(project_runs, "load_inputs", counted)
    for path in ("", "/carte.geojson", "/carte.json", "/carte.geojson"):
        assert charge.get(base + path).status_code == 200
    assert loads == []
    # a new file of the project: read again, once
    again = charge.post(
        f"/projets/{project_id}/fichiers",
        data={"role": "communes", "csrf_token": csrf(charge, f"/projets/{project_id}")},
        files={"file": ("autre.geojson", communes.read_bytes().replace(b"\n", b"\n "))},
        follow_redirects=False,
    )
    assert again.status_code == 303, again.text
    assert charge.get(base + "/carte.geojson").status_code == 200
    assert charge.get(base + "/carte.json").status_code == 200
    assert len(loads) == 1
