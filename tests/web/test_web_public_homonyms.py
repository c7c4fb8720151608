"""Two communes of one name on the public form: « Nom (département) » offered and accepted.

``tests/data/communes/communes_homonymes.csv`` holds Aiglun (04001, Alpes-de-Haute-
Provence) and Aiglun (06001, Alpes-Maritimes): the form's list offers both with their
département, the server stores the commune chosen, and the bare « Aiglun » is refused
with a message that lists the two ways of writing it.  When only one of the homonyms
lies in the campaign's territory (Mane 04 for a project of the 04, not Mane 31), the
bare name is that one, on the form, the paper entry and an import alike.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from test_web_public import GOOD, _campaign, _form, _send
from web_helpers import csrf, logged_in

from tierslieux.sources.survey_import import CommuneIndex

DATA = Path(__file__).resolve().parents[1] / "data"
HOMONYMS = DATA / "communes" / "communes_homonymes.csv"
EXPORT = DATA / "survey" / "google_forms_demo.csv"


def _open_campaign(
    app, accounts, repos, *, name: str, territory: str, label: str, communes: tuple[str, bytes]
) -> tuple[str, int, int]:
    """An open campaign of a chargé de mission's project on ``territory`` whose communes
    file is ``communes`` (name, content): its slug, its id and the project's id."""
    project = repos.projects.add_project(
        name, territory=territory, territory_label=label, actor="test"
    )
    user = repos.users.get_user(accounts["charge_de_mission"])
    repos.projects.add_member(project.id, user.id, actor="test")
    repos.projects.put_dataset(
        project.id,
        role="communes",
        filename=communes[0],
        media_type="text/csv",
        content=communes[1],
        summary=None,
        actor="test",
    )
    campaign_id, found = _campaign(logged_in(app, accounts["charge_de_mission"]), project.id)
    return found, campaign_id, project.id


def _listed(text: str) -> list[str]:
    """The communes the form's list offers."""
    listed = re.search(r'<datalist id="communes">(.*?)</datalist>', text, re.DOTALL)
    assert listed
    return [html.unescape(v) for v in re.findall(r'value="([^"]*)"', listed.group(1))]


@pytest.fixture
def slug(app, accounts, repos) -> tuple[str, int]:
    """An open campaign of a project on the region, with the homonyms' communes file."""
    found, campaign_id, _project = _open_campaign(
        app,
        accounts,
        repos,
        name="Aiglun et Aiglun",
        territory="reg:93",
        label="Région 93",
        communes=(HOMONYMS.name, HOMONYMS.read_bytes()),
    )
    return found, campaign_id


def test_the_list_offers_each_homonym_with_its_departement(app, slug) -> None:
    text, _hidden = _form(TestClient(app), slug[0])
    options = _listed(text)
    assert options == ["Aiglun (04)", "Aiglun (06)", "Digne-les-Bains"]


@pytest.mark.parametrize(("typed", "code"), [("Aiglun (04)", "04001"), ("Aiglun (06)", "06001")])
def test_a_disambiguated_name_is_accepted(app, repos, slug, typed: str, code: str) -> None:
    public = TestClient(app)
    _text, hidden = _form(public, slug[0])
    done = _send(public, slug[0], hidden, answers={**GOOD, "commune_residence": typed})
    assert done.status_code == 200, done.text
    assert _stored(repos, slug[1]) == [code]


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


# -- one homonym in the campaign's territory ---------------------------------------------

#: Mane (04111, Alpes-de-Haute-Provence) and Mane (31315, Haute-Garonne), with Digne:
#: a project of the 04 has one Mane only.
MANE = (
    "insee_com,insee_reg,insee_dep,commune,commune_article,code_postal,commune_type,"
    "insee_parente,lat,lng,superficie_km2,population_2021\n"
    "04070,93,04,Digne-les-Bains,Digne-les-Bains,04000,COM,,44.0925,6.2356,117.1,16000\n"
    "04111,93,04,Mane,Mane,04300,COM,,43.94259,5.74187,22.0,1369\n"
    "31315,76,31,Mane,Mane,31260,COM,,43.08042,0.9428,6.59,959\n"
)


@pytest.fixture
def mane(app, accounts, repos) -> tuple[str, int, int]:
    """An open campaign of a project on the 04, whose communes hold both Mane."""
    return _open_campaign(
        app,
        accounts,
        repos,
        name="Mane",
        territory="dep:04",
        label="Alpes-de-Haute-Provence",
        communes=("communes_mane.csv", MANE.encode()),
    )


def _stored(repos, campaign_id: int) -> list[str]:
    return [r.commune for r in repos.responses.list_responses() if r.campaign_id == campaign_id]


def test_the_homonym_of_the_territory_is_offered_and_taken_by_its_bare_name(
    app, repos, mane
) -> None:
    public = TestClient(app)
    text, hidden = _form(public, mane[0])
    options = _listed(text)
    assert options == ["Digne-les-Bains", "Mane"]
    done = _send(public, mane[0], hidden, answers={**GOOD, "commune_residence": "Mane"})
    assert done.status_code == 200, done.text
    assert _stored(repos, mane[1]) == ["04111"]


def test_the_other_homonym_can_still_be_named_with_its_departement(app, repos, mane) -> None:
    public = TestClient(app)
    _text, hidden = _form(public, mane[0])
    done = _send(public, mane[0], hidden, answers={**GOOD, "commune_residence": "Mane (31)"})
    assert done.status_code == 200, done.text
    assert _stored(repos, mane[1]) == ["31315"]


def test_the_paper_entry_takes_the_homonym_of_the_territory(app, accounts, repos, mane) -> None:
    charge = logged_in(app, accounts["charge_de_mission"])
    base = f"/projets/{mane[2]}/questionnaire/campagnes/{mane[1]}"
    token = csrf(charge, base + "/papier")
    sent = charge.post(
        base + "/papier",
        data={**GOOD, "commune_residence": "Mane", "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[-2000:]
    assert _stored(repos, mane[1]) == ["04111"]


def test_an_import_takes_the_homonym_of_the_territory(app, accounts, repos, mane) -> None:
    rows = list(csv.reader(io.StringIO(EXPORT.read_text(encoding="utf-8"))))
    line = [*rows[1]]
    line[1] = line[2] = "Mane"
    content = io.StringIO()
    csv.writer(content).writerows([rows[0], line])
    project = mane[2]
    client = logged_in(app, accounts["charge_de_mission"])
    token = csrf(client, f"/projets/{project}/questionnaire")
    review = client.post(
        f"/projets/{project}/questionnaire/import",
        data={"csrf_token": token},
        files={"file": (EXPORT.name, content.getvalue().encode(), "text/csv")},
    )
    assert review.status_code == 200, review.text[-2000:]
    staged = re.search(r'action="/projets/\d+/questionnaire/import/([A-Za-z0-9_-]+)"', review.text)
    assert staged
    done = client.post(
        f"/projets/{project}/questionnaire/import/{staged.group(1)}",
        data={"csrf_token": csrf(client, f"/projets/{project}")},
    )
    assert done.status_code == 200, done.text[-2000:]
    assert "1 enregistrée(s)" in done.text
    assert [r.commune for r in repos.responses.list_responses()] == ["04111"]


def test_index_asks_when_several_or_no_homonym_lie_in_the_territory() -> None:
    table = pd.DataFrame({"code": ["04111", "31315"], "nom": ["Mane", "Mane"], "dep": ["04", "31"]})
    assert CommuneIndex(table, ["04111"]).resolve("Mane") == ("04111", None)
    assert CommuneIndex(table, ["31315", "31555"]).resolve("mane") == ("31315", None)
    for territory in ([], ["04070"], ["04111", "31315"]):
        code, reason = CommuneIndex(table, territory).resolve("Mane")
        assert code is None
        assert reason
        assert "« Mane (04) »" in reason
        assert "« Mane (31) »" in reason
