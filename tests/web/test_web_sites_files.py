"""The file options of the sites form (``--groups``, ``--demand``, ``--candidats``,
``--repondants`` of ``tierslieux sites``): chosen among the project's files, checked as
the command checks them, and the same numbers as the command on the same files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_helpers import csrf, logged_in

from tierslieux.cli import app as cli
from tierslieux.pipeline.site_scenarios import parse_scenario

DEMAND = "code,demand\n00101,100\n00102,80\n00108,10\n"
GROUPS = (
    "groupe,theme,membres,communes,noms_communes\n"
    "1,partage:temps,3,00101,Bourg\n"
    "2,partage:temps,4,00102,Val\n"
    "3,secteur:tic,3,00108,Ville\n"
)
RESPONDENTS = "repondant,commune,score\n1,00108,0.8\n2,00108,0.5\n3,,0.1\n"
PLACES = "identifiant,nom,code_commune\nL1,Médiathèque (FICTIVE),00101\nL2,Gare (FICTIVE),00108\n"


@pytest.fixture
def project(app, accounts) -> tuple[object, int]:
    client = logged_in(app, accounts["charge_de_mission"])
    response = client.post(
        "/projets",
        data={"name": "Démo fichiers", "territory": "dep:00", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    return client, int(response.headers["location"].rsplit("/", 1)[1])


def _upload(client, project: int, role: str, name: str, text: str):
    return client.post(
        f"/projets/{project}/fichiers",
        data={"role": role, "csrf_token": csrf(client, f"/projets/{project}")},
        files={"file": (name, text.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )


def _launch(client, project: int, **fields: str):
    data = {"name": "Avec fichiers", "count": "2", "objective": "couverture", "_cases": "1"}
    data |= {"distinct_themes": "1", "neighbours": "1", "tiers_lieux_mode": "garder"}
    data |= {"rural": "non", "time_limit": "10", "gain_minimal": "10", "min_structures": "1"}
    data |= {"min_per_epci": "0", "min_members": "3", "minutes": "1", "action": "lancer"}
    data |= fields
    data["csrf_token"] = csrf(client, f"/projets/{project}/sites")
    return client.post(f"/projets/{project}/sites", data=data, follow_redirects=False)


def _cli(tmp_path: Path, out: Path, *options: str) -> dict[str, bytes]:
    result = CliRunner().invoke(
        cli,
        [
            "sites",
            "--demo",
            "--territory",
            "dep:00",
            "--time-limit",
            "10",
            "--out",
            str(out),
            *options,
        ],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".csv"}


def _run_files(app, repos, response) -> dict[str, bytes]:
    assert response.status_code == 303, response.text
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, 120)
    run = repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    return {
        r.name: repos.runs.read_result(run_id, r.name)
        for r in repos.runs.list_results(run_id)
        if r.name.endswith(".csv")
    }


def _figures(content: bytes) -> list[list[str]]:
    """The cells of a CSV result that are not sentences (codes, numbers)."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return [[cell for cell in row if " " not in cell] for row in rows]


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_form_offers_the_project_files_and_the_run_gives_the_cli_numbers(
    app, repos, project, tmp_path: Path
) -> None:
    client, project_id = project
    page = client.get(f"/projets/{project_id}/sites").text
    assert 'id="champ-demand"' in page
    assert 'value="demande"' not in page  # no file yet: « aucun » only
    for role, name, text in (
        ("demande", "demande.csv", DEMAND),
        ("groupes", "groups.csv", GROUPS),
        ("repondants", "respondents.csv", RESPONDENTS),
        ("candidats", "lieux.csv", PLACES),
    ):
        assert _upload(client, project_id, role, name, text).status_code == 303
    page = client.get(f"/projets/{project_id}/sites").text
    assert 'value="demande"' in page
    assert "demande.csv" in page
    web = _run_files(
        app,
        repos,
        _launch(client, project_id, demand="demande", groups="groupes", respondents="repondants"),
    )
    expected = _cli(
        tmp_path,
        tmp_path / "cli",
        *("--count", "2", "--minutes", "1", "--min-membres", "3"),
        *("--demand", _write(tmp_path, "d.csv", DEMAND)),
        *("--groups", _write(tmp_path, "g.csv", GROUPS)),
        *("--repondants", _write(tmp_path, "r.csv", RESPONDENTS)),
    )
    assert web["sites.csv"] == expected["sites.csv"]
    assert web["coverage.csv"] == expected["coverage.csv"]
    # The alternatives' explanations name options as each interface does (« thèmes
    # libres » here, --themes-libres on the command line); their figures are the same.
    assert _figures(web["alternatives.csv"]) == _figures(expected["alternatives.csv"])
    assert _figures(web["sensitivity.csv"]) == _figures(expected["sensitivity.csv"])
    # Candidate places instead of the communes.
    web = _run_files(app, repos, _launch(client, project_id, count="1", candidates="candidats"))
    expected = _cli(
        tmp_path,
        tmp_path / "cli2",
        *("--count", "1", "--minutes", "1"),
        "--candidats",
        _write(tmp_path, "l.csv", PLACES),
    )
    assert web["sites.csv"] == expected["sites.csv"]
    assert b"L1" in web["sites.csv"] or b"L2" in web["sites.csv"]


def test_a_file_the_project_lacks_is_a_field_error(app, project) -> None:
    client, project_id = project
    response = _launch(client, project_id, demand="demande", candidates="candidats")
    assert response.status_code == 422
    text = response.text
    assert 'id="erreur-demand"' in text
    assert 'id="erreur-candidates"' in text
    assert "pas de fichier « demande »" in text
    # A value that is no file of this option: refused by the form, per field.
    response = _launch(client, project_id, groups="demande")
    assert response.status_code == 422
    assert 'id="erreur-groups"' in response.text


def test_an_upload_is_checked_as_the_cli_reads_it(project) -> None:
    client, project_id = project
    refused = _upload(client, project_id, "demande", "demande.csv", "code,demand\n00101,beaucoup\n")
    assert refused.status_code == 422
    assert "demand" in refused.text
    assert "ligne 2" in refused.text
    refused = _upload(client, project_id, "groupes", "groups.csv", "groupe,theme\n1,x\n")
    assert refused.status_code == 422
    assert "groups.csv" in refused.text


def test_parse_scenario_keeps_the_file_choices() -> None:
    values = parse_scenario({"demand": "demande", "groups": ""})
    assert (values["demand"], values["groups"], values["candidates"]) == ("demande", "", "")
