"""The questionnaire of a project on a real EPCI whose communes file has no EPCI column.

The project's zonings file gives the communes their EPCI, as for the diagnostic
(:func:`~tierslieux.pipeline.project_runs.project_inputs`): the questionnaire page, its
results page and a campaign's page select the territory's communes and, while nobody
answered, show the empty state « Aucune réponse pour l'instant » instead of the error
« Aucune commune ne correspond à epci:… (colonne epci) ».
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_public import GOOD, _campaign, _form, _send
from web_helpers import logged_in

from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.survey import territory_communes

DATA = Path(__file__).resolve().parents[1] / "data"
TERRITORY = "epci:200067445"  # Veynes and Val Buëch-Méouge in the extracts
EMPTY = "Aucune réponse pour l'instant"
ERROR = "Aucune commune ne correspond"


def _put(repos, project: int, role: str, path: Path) -> None:
    repos.projects.put_dataset(
        project,
        role=role,
        filename=path.name,
        media_type="text/csv",
        content=path.read_bytes(),
        summary=None,
        actor="test",
    )


@pytest.fixture
def project(accounts, repos) -> int:
    """A project on the EPCI with the communes (no EPCI column) and the zonings files."""
    created = repos.projects.add_project(
        "Buëch-Dévoluy", territory=TERRITORY, territory_label="CC Buëch-Dévoluy", actor="test"
    )
    for role in ("charge_de_mission", "lecteur"):
        user = repos.users.get_user(accounts[role])
        repos.projects.add_member(created.id, user.id, actor="test")
    _put(repos, created.id, "communes", DATA / "communes" / "communes_extrait.csv")
    _put(repos, created.id, "zonages", DATA / "zonages" / "table_supracom_2024_extrait.csv")
    return created.id


def test_the_communes_file_has_no_epci_column() -> None:
    header = (DATA / "communes" / "communes_extrait.csv").read_text(encoding="utf-8")
    assert "epci" not in header.splitlines()[0].lower()


def test_questionnaire_pages_without_answers_show_the_empty_state(app, accounts, project) -> None:
    reader = logged_in(app, accounts["lecteur"])
    page = reader.get(f"/projets/{project}/questionnaire")
    assert page.status_code == 200
    assert ERROR not in page.text
    assert EMPTY in html.unescape(page.text)
    assert "0</b>" in page.text  # no respondent on the territory
    results = reader.get(f"/projets/{project}/questionnaire/resultats")
    assert results.status_code == 200, results.text
    assert ERROR not in results.text
    assert EMPTY in html.unescape(results.text)
    assert 'id="aucune-reponse"' in results.text


def test_a_campaign_on_the_territory_then_its_first_answer(
    app, accounts, project, repos, web_settings
) -> None:
    charge = logged_in(app, accounts["charge_de_mission"])
    campaign_id, slug = _campaign(charge, project)
    page = charge.get(f"/projets/{project}/questionnaire/campagnes/{campaign_id}")
    assert page.status_code == 200
    assert ERROR not in page.text
    assert "Pas encore de résultats" in page.text or EMPTY in html.unescape(page.text)
    # The public form offers the EPCI's communes (selected through the zonings).
    public = TestClient(app)
    text, hidden = _form(public, slug)
    assert '<option value="Veynes">' in text
    assert '<option value="Gap">' not in text  # another EPCI
    done = _send(public, slug, hidden, answers={**GOOD, "commune_residence": "Veynes"})
    assert done.status_code == 200, done.text
    stored = [r for r in repos.responses.list_responses() if r.campaign_id == campaign_id]
    assert [r.commune for r in stored] == ["05179"]
    # Now the results are computed on the territory.
    results = charge.get(f"/projets/{project}/questionnaire/resultats")
    assert results.status_code == 200, results.text
    assert EMPTY not in results.text
    assert "Veynes" in results.text
    assert "--min-group-size" not in results.text
    listing = charge.get(f"/projets/{project}/questionnaire")
    assert "1</b>" in listing.text
    assert "--" not in listing.text.split('id="resultats"', 1)[1].split("<script", 1)[0]


def test_territory_communes_reads_the_zonings(web_settings, repos, project) -> None:
    with project_inputs(repos, web_settings.core, project, None, mobpro=False) as inputs:
        codes, _label = territory_communes(inputs, TERRITORY)
    assert codes == ["05118", "05179"]
