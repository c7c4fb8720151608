"""The survey results page and files: every question, comments escaped and masked, maps,
candidate base communities and leads (fictional demo answers, a temporary store)."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.i18n import use_language
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.survey import (
    GROUP_CANDIDATE,
    GROUP_LEAD,
    MIN_GROUP_SIZE,
    SurveyAnalysisRequest,
    SurveyContext,
    analyse_survey,
)
from tierslieux.reports.survey import (
    render_survey,
    survey_files,
    survey_map_data,
    survey_sections,
)

if TYPE_CHECKING:
    from tierslieux.pipeline.survey import SurveyAnalysis

SURVEY = Path(__file__).resolve().parent / "data" / "survey"
BOURG, VAL, MONT = "Bourg-Fictif (FICTIF)", "Val-d'Exemple (FICTIF)", "Mont-Chimère (FICTIF)"
BASE = {"statut": "independant", "part_ordinateur": "plus_75", "consentement": "oui"}
# Three in Bourg-Fictif share skills (a candidate base community at the default size of
# 3); two in Mont-Chimère, more than 20 minutes away, share time (a lead).
ANSWERS = [
    {"commune_residence": BOURG, "envies": "proche;convivial", "partages": "competences",
     "jours_par_semaine": "2", "budget_mensuel": "80", "sexe": "femme",
     "commentaire": "<script>alert(1)</script> Écrivez à jeanne@example.org"},
    {"commune_residence": BOURG, "envies": "proche", "partages": "competences",
     "jours_par_semaine": "3", "commentaire": "=1+1"},
    {"commune_residence": BOURG, "envies": "outils", "partages": "competences",
     "mode_trajet": "voiture", "commentaire": "Appelez le 06 12 34 56 78"},
    {"commune_residence": MONT, "envies": "flexible", "partages": "temps"},
    {"commune_residence": MONT, "envies": "flexible", "partages": "temps"},
    {"commune_residence": VAL, "envies": "rencontres"},
]  # fmt: skip


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("survey-report")
    settings = Settings(
        offline=True,
        cache_dir=folder / "cache",
        database_url=f"sqlite:///{folder / 'reponses.sqlite'}",
    )
    with use_language("fr"):
        context = SurveyContext.load(settings, demo=True)
        for number, answers in enumerate(ANSWERS):
            context.submit({**BASE, **answers}, submission=f"fictif-{number}")
    return settings


@pytest.fixture(scope="module")
def analysis(settings: Settings) -> SurveyAnalysis:
    with use_language("fr"):
        return analyse_survey(settings, SurveyAnalysisRequest(demo=True))


@pytest.fixture(scope="module")
def page(analysis: SurveyAnalysis) -> str:
    with use_language("fr"):
        return render_survey(analysis)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_every_question_has_its_results(page: str, analysis: SurveyAnalysis) -> None:
    for question in load_questionnaire().questions:
        if question.type == "consent":
            assert html.escape(question.label) not in page
            continue
        assert f'<h3 id="q-{question.id}">{html.escape(question.label)}</h3>' in page
    assert "6 répondant(s) sur 6 ont répondu (100" in page  # commune, status, wishes
    # Travel mode: one answer only, flagged.
    start = page.index('id="q-mode_trajet"')
    block = page[start : page.index("<h3", start + 1)]
    assert "1 répondant(s) sur 6 ont répondu" in block
    assert "petit échantillon" in block
    assert "Plusieurs réponses possibles" in page
    assert "Médiane : 2,5 jours (de 2 à 3)." in page
    assert "Réponse (jours)" in page
    assert "Avertissement sur les petits effectifs" in page
    answers = {(r.question, r.modalite): r for r in analysis.answers.itertuples()}
    assert answers["envies", "proche"].effectif == 2
    assert answers["envies", "flexible"].effectif == 2
    assert answers["partages", "competences"].repondants == 5  # Val-d'Exemple left it blank


def test_comments_are_escaped_and_masked(page: str, analysis: SurveyAnalysis) -> None:
    assert "<script" not in page
    # Masked, and flagged for the team (issue 11).
    masked = " — coordonnées masquées dans ce rapport</span></li>"
    assert (
        "<li>&lt;script&gt;alert(1)&lt;/script&gt; Écrivez à [courriel masqué] "
        '<span class="petit">contient une adresse e-mail' + masked
    ) in page
    assert (
        '<li>Appelez le [téléphone masqué] <span class="petit">contient un numéro de téléphone'
        + masked
    ) in page
    assert "jeanne@example.org" not in page
    assert "06 12 34 56 78" not in page
    files = dict(survey_files(analysis))
    comments = _rows(files["comments.csv"])
    assert [c["texte"] for c in comments] == [
        "<script>alert(1)</script> Écrivez à [courriel masqué]",
        "'=1+1",  # formula guarded for spreadsheets
        "Appelez le [téléphone masqué]",
    ]
    # No respondent number nor commune; the flag says a comment held contact details.
    assert set(comments[0]) == {"question", "libelle_question", "texte", "coordonnees"}


def test_groups_below_the_minimum_are_leads(page: str, analysis: SurveyAnalysis) -> None:
    assert analysis.min_group_size == MIN_GROUP_SIZE == 3
    groups = analysis.groups.set_index("theme")
    assert groups.loc["partage:competences", "statut"] == GROUP_CANDIDATE
    assert groups.loc["partage:temps", "statut"] == GROUP_LEAD
    assert groups.loc["partage:temps", "membres"] == 2
    candidates = page[page.index("<h2>Communautés-base candidates (") : page.index("<h2>Pistes")]
    leads = page[page.index("<h2>Pistes") :]
    assert "Partage : Des compétences" in candidates
    assert "Partage : Du temps" not in candidates
    assert "Partage : Du temps" in leads
    assert "Taille minimale d&#x27;une communauté-base candidate : 3 membres" in page
    assert "« une ou quelques personnes »" in page
    written = {r["theme"]: r for r in _rows(dict(survey_files(analysis))["groups.csv"])}
    assert written["partage:temps"]["statut"] == "piste"
    assert written["partage:competences"]["statut"] == "communaute_base_candidate"


def test_a_larger_minimum_turns_every_group_into_a_lead(settings: Settings) -> None:
    with use_language("fr"):
        strict = analyse_survey(settings, SurveyAnalysisRequest(demo=True, min_group_size=4))
        page = render_survey(strict)
    assert set(strict.groups["statut"]) == {GROUP_LEAD}
    assert "Aucune communauté-base candidate : aucun groupe n&#x27;atteint 4 membres." in page
    assert "pas de carte des groupes" in page
    with pytest.raises(SchemaError, match="au moins 2 attendu") as caught:
        analyse_survey(settings, SurveyAnalysisRequest(demo=True, min_group_size=1))
    assert caught.value.problems[0].field == "min_group_size"


def test_the_web_map_opens_on_an_indicator_with_data(
    settings: Settings, analysis: SurveyAnalysis
) -> None:
    """Audit: with only « pistes » (no candidate yet) the map opened on the members of
    candidates, all zeros; it opens on the respondents and says why."""
    with use_language("fr"):
        sections = survey_sections(analysis)
        strict = analyse_survey(settings, SurveyAnalysisRequest(demo=True, min_group_size=4))
        only_leads = survey_sections(strict)
        _geojson, metadata = survey_map_data(strict)
    assert sections["map_indicator"] == "membres_candidats"
    assert sections["map_note"] == ""
    assert only_leads["map_indicator"] == "repondants"
    assert "Aucune communauté-base candidate pour l'instant (au moins 4 membres)" in str(
        only_leads["map_note"]
    )
    # the figures themselves are unchanged: both indicators still on the map
    keys = [item["cle"] for item in metadata["indicateurs"]]  # type: ignore[attr-defined]
    assert keys == ["membres_candidats", "repondants"]


def test_maps_of_respondents_and_groups(page: str, analysis: SurveyAnalysis) -> None:
    assert page.count('class="carte"') == 2
    assert 'aria-label="Répondants par commune"' in page
    assert "Groupe 1 : Partage : Des compétences, 3 membres (Bourg-Fictif (FICTIF))" in page
    communes = analysis.communes.set_index("code")
    bourg = communes[communes["nom"] == BOURG].iloc[0]
    assert (bourg["repondants"], bourg["membres_candidats"]) == (3, 3)
    assert communes["repondants"].sum() == len(ANSWERS)
    collection = json.loads(dict(survey_files(analysis))["survey_communes.geojson"])
    assert len(collection["features"]) == len(analysis.communes)
    assert collection["avertissement"].startswith("Territoire FICTIF")
    counted = {
        f["properties"]["nom"]: f["properties"]["repondants"] for f in collection["features"]
    }
    assert counted[BOURG] == 3
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in collection["features"])


def test_no_map_without_outlines_or_coordinates(analysis: SurveyAnalysis) -> None:
    nowhere = dataclasses.replace(
        analysis,
        geometries={},
        communes=analysis.communes.assign(latitude=math.nan, longitude=math.nan),
    )
    with use_language("fr"):
        page = render_survey(nowhere)
    assert 'class="carte"' not in page
    assert page.count("Carte non disponible : les communes fournies n&#x27;ont ni contours") == 2


def test_fictional_answers_keep_the_banner(page: str) -> None:
    banner = page[page.index('<div class="alerte"') : page.index("</div>", page.index("alerte"))]
    assert "Territoire FICTIF de démonstration" in banner


# --- command line ----------------------------------------------------------------------


def test_cli_min_group_size(tmp_path: Path, store_env: dict[str, str]) -> None:
    runner = CliRunner()
    env = store_env
    communes = str(SURVEY / "communes_enquete.csv")
    mapping = str(SURVEY / "correspondance.yaml")
    answers = str(SURVEY / "reponses_valides.csv")
    result = runner.invoke(
        app, ["survey", "import", answers, "--mapping", mapping, "--communes", communes], env=env
    )
    assert result.exit_code == 0, result.output
    help_text = runner.invoke(app, ["survey", "analyse", "--help"], env=env).stdout
    assert "--min-group-size" in help_text
    assert "défaut 3" in " ".join(help_text.split())
    base = ["survey", "analyse", "--territory", "dep:05", "--communes", communes]
    out = tmp_path / "deux"
    result = runner.invoke(app, [*base, "--min-group-size", "2", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "(2 membres ou plus)" in result.stdout
    with (out / "groups.csv").open(encoding="utf-8") as handle:
        statuses = {r["statut"] for r in csv.DictReader(handle)}
    assert statuses == {"communaute_base_candidate"}  # groups of 2 at a minimum of 2
    page = (out / "survey.html").read_text(encoding="utf-8")
    assert page.count('class="carte"') == 2  # points of communes_enquete.csv (no outlines)
    with (out / "questions.csv").open(encoding="utf-8") as handle:
        questions = {r["question"]: r for r in csv.DictReader(handle)}
    assert questions["sexe"]["repondants"] == "5"
    result = runner.invoke(
        app, [*base, "--min-group-size", "1", "--out", str(tmp_path / "x")], env=env
    )
    assert result.exit_code == 1
    assert "--min-group-size vaut 1" in result.stderr
    assert not (tmp_path / "x").exists()
