"""An installation in English shows no French text of its own: every page a chargé de
mission sees on a project with a directory, a diagnostic, questionnaire answers, a
campaign and a sites run, the public questionnaire and the HTML reports of the runs.

The data keep their names: the demo's places and structures (all marked FICTIF or
FICTIVE), the quoted titles of the French sources, the few French terms English keeps
(``département``, ``bassin de vie``) and the respondents' own comments — the short
allow-list below, each entry explained.
"""

from __future__ import annotations

import re

from english_walk import english_app, french_texts, full_project, pages, visible_texts

from tierslieux.config import DEFAULT_SURVEY_PURPOSE, Settings
from tierslieux.i18n import use_language

#: A demo name: up to four words before its FICTIF / FICTIVE marker
#: (« Collectif coworking Démo (FICTIF) », « CC des Monts-Chimères (FICTIVE) »).
DEMO_NAME = re.compile(r"(?:[^\s(),;:]+ ){0,3}[^\s(),;:]+ \(FICTI(?:F|VE)\)")
#: A file's name (« carte-bassins.json »): the same in every language.
FILE_NAME = re.compile(r"\b[\w.-]+\.(?:json|geojson|csv|html|pdf|xlsx|gpkg|lss|yaml)\b")
#: The journal's details: the audit record as stored (``field = value``), in every language.
AUDIT_DETAILS = re.compile(r"^\w+ = .*$")

ALLOWED = (
    # French terms that the English texts keep, with a gloss where they first appear
    "départements",
    "département",
    "bassins de vie",
    "bassin de vie",
    "services à la carte",  # an English phrase
    "API Géo",  # the name of the French government's API
    # titles of French sources, quoted as published (an English gloss follows them)
    "“Tiers-lieux ruraux en PACA”",
    "“Quels usagers potentiels ? (Critères qualitatifs)”",
    '"Près de quatre emplois sur dix sont compatibles avec le télétravail"',
    "Auvergne-Rhône-Alpes",  # in the name of Insee's regional series
    # the example place names of the forms' help texts
    "Buëch",
    "“Communauté de communes du Pays de Forcalquier”",
    # the respondents' comments of the demo export (tests/data/survey)
    "un lieu près de l'école",
    "Écrivez-moi :",
    "Appelez le [phone masked] pour en parler",
)


def _french(path: str, page: str) -> list[str]:
    found = []
    for text in french_texts(page, ALLOWED):
        rest = FILE_NAME.sub(" ", DEMO_NAME.sub(" ", text))
        if path == "/admin/journal" and AUDIT_DETAILS.match(rest):
            continue
        if french_texts(f"<p>{rest}</p>", ALLOWED):
            found.append(text)
    return found


def test_no_french_text_on_any_page_of_an_english_installation(web_settings, accounts) -> None:
    app = english_app(web_settings)
    walked = pages(app, accounts, full_project(app, accounts, app.state.repos))
    assert len(walked) >= 30
    assert any(path.endswith("/fichiers/report.html") for path in walked)
    assert any(path.endswith("/fichiers/sites.html") for path in walked)
    assert any(path.endswith("/fichiers/communities.html") for path in walked)
    found = {path: texts for path, page in walked.items() if (texts := _french(path, page))}
    assert not found, found
    # the fit score quotes the study in English
    results = next(page for path, page in walked.items() if path.endswith("/resultats"))
    texts = visible_texts(results)
    assert "“Worker at a connected computer much of the time”" in texts
    assert "“Way-of-working approach”: the six wishes" in texts
    assert not [t for t in texts if "les six envies" in t]
    # the new campaign's form offers the default purpose in English
    form = next(page for path, page in walked.items() if path.endswith("/nouvelle"))
    assert "To study the creation of a tiers-lieu (shared workplace)" in form
    assert "Étudier la création" not in form


def test_the_default_purpose_follows_the_language_a_set_one_stays() -> None:
    settings = Settings(offline=True)
    with use_language("fr"):
        assert settings.purpose() == DEFAULT_SURVEY_PURPOSE
    with use_language("en"):
        assert settings.purpose().startswith("To study the creation of a tiers-lieu")
        own = Settings(offline=True, survey_purpose=" Étudier nos besoins. ")
        assert own.purpose() == "Étudier nos besoins."


def test_the_walk_finds_french_text() -> None:
    """The check itself: French UI text is found, data names and file names are not."""
    page = (
        '<p title="Télécharger">Download</p><p>Villedémo (FICTIF) — carte-bassins.json</p>'
        "<p>Résultats</p><p>Files of the project</p><script>var a = 'été';</script>"
    )
    assert _french("/x", page) == ["Télécharger", "Résultats"]
