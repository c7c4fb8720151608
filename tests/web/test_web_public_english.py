"""The public questionnaire of an installation set to English (issue 14: "French first,
English complete when asked"): questions, options, messages, consent, receipt, flyer
and paper version in English, the language recorded with the consent; French unchanged."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from test_web_public import GOOD, _close, _code, _form, _future_campaign, _publish, _receipt, _send

from tierslieux.i18n import use_language
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.questionnaire import questionnaire_document
from tierslieux.reports.flyer import render_flyer_html
from tierslieux.reports.questionnaire import questionnaire_file
from tierslieux.web.app import create_app
from tierslieux.web.settings import WebSettings

#: A few questions and options as the French definition writes them, then in English.
FRENCH = (
    "Dans quelle commune habitez-vous ?",
    "Quelle est votre situation professionnelle ?",
    "Indépendant(e), freelance, auto-entrepreneur",
    "Qu'attendriez-vous d'un lieu de travail partagé ?",
    "J'accepte que mes réponses soient conservées",
)
ENGLISH = (
    "Which commune do you live in?",
    "What is your employment situation?",
    "Self-employed, freelance, sole trader",
    "What would you expect from a shared workplace?",
    "I agree that my answers are kept",
)


def _english(web_settings: WebSettings) -> WebSettings:
    return dataclasses.replace(
        web_settings, core=web_settings.core.model_copy(update={"lang": "en"})
    )


def _french_texts() -> list[str]:
    """Every text of the definition that English writes otherwise, as a page escapes it."""
    french = load_questionnaire()
    with use_language("en"):
        english = french.translated()
    pairs = [(french.title, english.title)]
    for fr_q, en_q in zip(french.questions, english.questions, strict=True):
        pairs.append((fr_q.label, en_q.label))
        pairs.extend(
            (fr_o.label, en_o.label) for fr_o, en_o in zip(fr_q.options, en_q.options, strict=True)
        )
    return [str(escape(fr)) for fr, en in pairs if fr != en]


@pytest.fixture
def english(web_settings, accounts, repos):
    app = create_app(_english(web_settings))
    return (app, *_publish(app, accounts, repos))


def test_english_form_has_no_french_question_text(english) -> None:
    app, _charge, _project_id, _campaign_id, slug = english
    text, _hidden = _form(TestClient(app), slug)
    assert '<html lang="en">' in text
    for sentence in ENGLISH:
        assert str(escape(sentence)) in text
    for sentence in FRENCH:
        assert str(escape(sentence)) not in text
    found = [french for french in _french_texts() if french in text]
    assert not found  # no question, option or title left in French
    assert "Data controller" in text
    assert "(required)" in text
    assert "(obligatoire)" not in text
    assert "Send my answers" in text


def test_english_mistakes_are_reported_in_english_and_answers_kept(english) -> None:
    app, *_rest, slug = english
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    wrong = {**GOOD, "statut": "", "commune_residence": "Nowhere-Town"}
    page = _send(public, slug, hidden, wrong)
    assert page.status_code == 422
    assert '<html lang="en">' in page.text
    assert "Your answer was not sent" in page.text
    assert "Votre réponse n'a pas été envoyée" not in page.text
    assert 'href="#champ-statut-independant">What is your employment situation?' in page.text
    assert 'value="Nowhere-Town"' in page.text  # kept
    for sentence in FRENCH:
        assert str(escape(sentence)) not in page.text


def test_english_answer_records_lang_en_and_its_receipt_says_so(english, repos) -> None:
    app, _charge, _project_id, campaign_id, slug = english
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    done = _send(public, slug, hidden)
    assert done.status_code == 200, done.text
    assert "your answer is recorded" in done.text
    code = _code(done.text)
    [stored] = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert stored.consent_language == "en"
    assert stored.answers["statut"] == "salarie"  # codes, whatever the language
    assert "Data controller" in stored.consent_text
    assert "I agree that my answers are kept" in stored.consent_text
    seen = _receipt(public, slug, hidden, code)
    assert "language: English" in seen.text
    assert "<td>Bourg-Fictif (FICTIF)</td>" in seen.text  # the commune's name, not its code
    assert "<td>yes</td>" in seen.text
    assert "Employee of a company or a public body" in seen.text
    assert "Salarié(e)" not in seen.text
    as_json = _receipt(public, slug, hidden, code, "telecharger", format="json")
    document = json.loads(as_json.content)
    assert document["consentement"]["langue"] == "en"
    assert document["reponses"]["statut"] == "salarie"
    csv_file = _receipt(public, slug, hidden, code, "telecharger", format="csv")
    as_csv = csv_file.content.decode("utf-8-sig")
    assert "consentement_langue;Language of consent;en" in as_csv
    assert "statut;What is your employment situation?;salarie" in as_csv


def test_french_answer_records_lang_fr(app, accounts, repos) -> None:
    _charge, _project_id, campaign_id, slug = _publish(app, accounts, repos)
    public = TestClient(app)
    text, hidden = _form(public, slug)
    assert '<html lang="fr">' in text
    assert str(escape("Dans quelle commune habitez-vous ?")) in text
    code = _code(_send(public, slug, hidden).text)
    [stored] = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert stored.consent_language == "fr"
    seen = _receipt(public, slug, hidden, code)
    assert "langue : français" in seen.text


def test_cached_form_is_keyed_by_language(web_settings, accounts, repos) -> None:
    """One cache of forms (as a process serving both languages would have): the English
    page never gets the French form."""
    french = create_app(web_settings)
    *_rest, slug = _publish(french, accounts, repos)
    assert str(escape(FRENCH[0])) in _form(TestClient(french), slug)[0]
    english = create_app(_english(web_settings))
    english.state.public_forms = french.state.public_forms
    english.state.public_lock = threading.Lock()
    text = _form(TestClient(english), slug)[0]
    assert ENGLISH[0] in text
    assert str(escape(FRENCH[0])) not in text
    assert len(french.state.public_forms) == 2


def test_closed_campaign_page_in_english(english) -> None:
    app, charge, project_id, campaign_id, slug = english
    _close(charge, project_id, campaign_id)
    page = TestClient(app).get(f"/q/{slug}")
    assert page.status_code == 410
    assert '<html lang="en">' in page.text
    assert "This questionnaire has been closed since" in page.text
    assert "Questionnaire fermé" not in page.text
    page = TestClient(app).get(f"/q/{_future_campaign(charge, project_id)}")
    assert page.status_code == 403
    assert "This questionnaire opens on" in page.text
    assert "ouvrira" not in page.text


def test_flyer_and_paper_version_in_english(english, repos, web_settings) -> None:
    _app, _charge, _project_id, campaign_id, _slug = english
    campaign = repos.campaigns.get_campaign(campaign_id)
    with use_language("en"):
        flyer = render_flyer_html(campaign, "https://enquete.exemple.fr/q/x", "Territory")
        paper = questionnaire_file(
            questionnaire_document(web_settings.core), "html", campaign
        ).decode("utf-8")
    assert '<html lang="en">' in flyer
    assert "Questionnaire aux habitants" not in flyer
    assert "Vos données" not in flyer
    assert '<html lang="en">' in paper
    for sentence in ENGLISH:
        assert str(escape(sentence)) in paper
    assert not [french for french in _french_texts() if french in paper]
    with use_language("fr"):
        french = questionnaire_file(questionnaire_document(web_settings.core), "html").decode()
    assert '<html lang="fr">' in french
    assert str(escape(FRENCH[0])) in french


def test_results_of_english_answers_are_in_english(english) -> None:
    app, charge, project_id, _campaign_id, slug = english
    public = TestClient(app)
    _text, hidden = _form(public, slug)
    assert _send(public, slug, hidden).status_code == 200
    page = charge.get(f"/projets/{project_id}/questionnaire/resultats").text
    assert "Employee of a company or a public body" in page
    assert str(escape("What is your employment situation?")) in page
    assert str(escape("Salarié(e) d'une entreprise")) not in page
    assert str(escape("Quelle est votre situation professionnelle ?")) not in page
    definition = charge.get(f"/projets/{project_id}/questionnaire").text
    assert str(escape("Which commune do you live in?")) in definition
    assert str(escape(FRENCH[0])) not in definition
