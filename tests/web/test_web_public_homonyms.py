"""Two communes of one name on the public form: « Nom (département) » offered and accepted.

``tests/data/communes/communes_homonymes.csv`` holds Aiglun (04001, Alpes-de-Haute-
Provence) and Aiglun (06001, Alpes-Maritimes): the form's list offers both with their
département, the server stores the commune chosen, and the bare « Aiglun » is refused
with a message that lists the two ways of writing it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_public import GOOD, _campaign, _form, _send
from web_helpers import logged_in

HOMONYMS = Path(__file__).resolve().parents[1] / "data" / "communes" / "communes_homonymes.csv"


@pytest.fixture
def slug(app, accounts, repos) -> tuple[str, int]:
    """An open campaign of a project on the region, with the homonyms' communes file."""
    project = repos.projects.add_project(
        "Aiglun et Aiglun", territory="reg:93", territory_label="Région 93", actor="test"
    )
    user = repos.users.get_user(accounts["charge_de_mission"])
    repos.projects.add_member(project.id, user.id, actor="test")
    repos.projects.put_dataset(
        project.id,
        role="communes",
        filename=HOMONYMS.name,
        media_type="text/csv",
        content=HOMONYMS.read_bytes(),
        summary=None,
        actor="test",
    )
    campaign_id, found = _campaign(logged_in(app, accounts["charge_de_mission"]), project.id)
    return found, campaign_id


def test_the_list_offers_each_homonym_with_its_departement(app, slug) -> None:
    text, _hidden = _form(TestClient(app), slug[0])
    listed = re.search(r'<datalist id="communes">(.*?)</datalist>', text, re.DOTALL)
    assert listed
    options = [html.unescape(v) for v in re.findall(r'value="([^"]*)"', listed.group(1))]
    assert options == ["Aiglun (04)", "Aiglun (06)", "Digne-les-Bains"]


@pytest.mark.parametrize(("typed", "code"), [("Aiglun (04)", "04001"), ("Aiglun (06)", "06001")])
def test_a_disambiguated_name_is_accepted(app, repos, slug, typed: str, code: str) -> None:
    public = TestClient(app)
    _text, hidden = _form(public, slug[0])
    done = _send(public, slug[0], hidden, answers={**GOOD, "commune_residence": typed})
    assert done.status_code == 200, done.text
    stored = [r for r in repos.responses.list_responses() if r.campaign_id == slug[1]]
    assert [r.commune for r in stored] == [code]


def test_the_bare_ambiguous_name_is_refused_with_the_choices(app, repos, slug) -> None:
    public = TestClient(app)
    _text, hidden = _form(public, slug[0])
    refused = _send(public, slug[0], hidden, answers={**GOOD, "commune_residence": "Aiglun"})
    assert refused.status_code == 422
    message = re.search(r'id="erreur-commune_residence">(.*?)</p>', refused.text, re.DOTALL)
    assert message, refused.text[-2000:]
    text = html.unescape(message.group(1))
    assert "« Aiglun » désigne plusieurs communes" in text
    assert "« Aiglun (04) »" in text
    assert "« Aiglun (06) »" in text
    assert 'value="Aiglun"' in refused.text  # the answer is kept in the field
    assert not [r for r in repos.responses.list_responses() if r.campaign_id == slug[1]]
