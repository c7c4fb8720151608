"""The sites screen after its user audit: the base communities of the project's latest
directory by default (said with its date, Paris time; another file can be chosen), one
number of people covered that agrees with the command line, the proven gap as achieved,
readers' tables without rounded coordinates nor a repeated code, and no command-line
option named to web users."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from sites_runs import demo_sites_result, store_done_run
from typer.testing import CliRunner
from web_helpers import create_project, csrf, logged_in

from tierslieux.cli import app as cli
from tierslieux.i18n import format_datetime, format_number
from tierslieux.model.siting import format_gap
from tierslieux.pipeline.site_scenarios import RUN_KIND, SCENARIO_DEFAULTS, parse_scenario
from tierslieux.reports.sites import sites_summary
from tierslieux.reports.templates import WEB_TEMPLATES

#: Two structures of the demo territory that make base communities (steps 1 and 4).
STRUCTURES = (
    "identifiant,nom,categorie,themes,code_commune\n"
    "coop,Coopérative (FICTIVE),cae,tic,00102\n"
    "asso,Association (FICTIVE),association_teleactivites,culture,00108\n"
)
#: Another directory: one cooperative only, in another commune.
OTHER = "identifiant,nom,categorie,themes,code_commune\nc2,Autre coop (FICTIVE),cae,tic,00114\n"


def _directory_run(repos, project: int, content: str, *, categories: dict[str, int]) -> str:
    """A finished directory run of ``project`` holding ``structures.csv``."""
    run = repos.runs.create_run("communities", {"territoire": "dep:00"}, author="charge")
    repos.projects.link_run(project, run.id)
    repos.runs.start_run(run.id)
    repos.runs.add_result(
        run.id, "structures.csv", content.encode("utf-8"), media_type="text/csv; charset=utf-8"
    )
    repos.runs.finish_run(run.id, summary={"structures": 2, "categories": categories})
    return run.id


def _launch(client, project: int, **fields: str):
    data = {"name": "Avec l'annuaire", "count": "2", "objective": "couverture", "_cases": "1"}
    data |= {"distinct_themes": "1", "neighbours": "1", "tiers_lieux_mode": "garder"}
    data |= {"rural": "non", "time_limit": "10", "gain_minimal": "10", "min_structures": "1"}
    data |= {"min_per_epci": "0", "min_members": "3", "action": "lancer"} | fields
    data["csrf_token"] = csrf(client, f"/projets/{project}/sites")
    return client.post(f"/projets/{project}/sites", data=data, follow_redirects=False)


def _done(app, repos, response):
    assert response.status_code == 303, re.findall(r'class="erreur"[^>]*>(.*?)<', response.text)
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, 120)
    run = repos.runs.get_run(run_id)
    assert run.status == "done", run.error
    return run


def _cli_sites(tmp_path: Path, structures: str, *options: str) -> bytes:
    path = tmp_path / "structures.csv"
    path.write_text(structures, encoding="utf-8")
    out = tmp_path / "cli"
    done = CliRunner().invoke(
        cli,
        [
            *("sites", "--demo", "--territory", "dep:00", "--time-limit", "10"),
            *("--count", "2", "--structures", str(path), "--out", str(out), *options),
        ],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.exit_code == 0, done.output
    return (out / "sites.csv").read_bytes()


def _words(text: str) -> str:
    """``text`` with its spaces (no-break ones too) as single plain spaces."""
    return " ".join(text.split())


def _selected(page: str, field: str) -> str:
    select = re.search(rf'<select id="champ-{field}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select, field
    chosen = re.search(r'<option value="([^"]*)" selected>([^<]*)</option>', select.group(1))
    assert chosen, select.group(1)
    return f"{chosen.group(1)}|{unescape(chosen.group(2))}"


def test_the_form_uses_the_latest_directory_by_default(app, accounts, repos, tmp_path) -> None:
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    page = client.get(f"/projets/{project}/sites").text
    # No directory yet: the constraint is off and the form says how to get one.
    assert 'id="champ-base_community" name="base_community" value="1" checked' not in page
    assert "construisez-le sur l&#x27;écran des communautés-base" in page
    old = _directory_run(repos, project, OTHER, categories={"cae": 1})
    latest = _directory_run(repos, project, STRUCTURES, categories={"cae": 1, "x": 1})
    finished = repos.runs.get_run(latest).finished_at
    assert finished is not None
    page = client.get(f"/projets/{project}/sites").text
    when = format_datetime(finished)  # Paris time, as every date shown
    assert _selected(page, "structures") == f"annuaire|Dernier annuaire construit, calcul du {when}"
    assert f"celui du {when} (heure de Paris)" in unescape(page)
    assert 'id="champ-base_community" name="base_community" value="1" checked' in page
    # Launched with the form's defaults: the sites rest on the latest directory, as
    # « tierslieux sites --structures » on its structures.csv.
    run = _done(app, repos, _launch(client, project, base_community="1", structures="annuaire"))
    assert run.parameters["annuaire_calcul"] == latest != old
    web = repos.runs.read_result(run.id, "sites.csv")
    assert web == _cli_sites(tmp_path, STRUCTURES)
    assert b"Coop\xc3\xa9rative (FICTIVE)" in web
    shown = unescape(client.get(f"/projets/{project}/sites/{run.id}").text)
    assert f"annuaire des communautés-base du {when}" in shown  # the run's parameters


def test_another_structures_file_can_be_chosen(app, accounts, repos, tmp_path) -> None:
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    _directory_run(repos, project, STRUCTURES, categories={"cae": 1})
    uploaded = client.post(
        f"/projets/{project}/fichiers",
        data={"role": "structures", "csrf_token": csrf(client, f"/projets/{project}")},
        files={"file": ("corrige.csv", OTHER.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    page = client.get(f"/projets/{project}/sites").text
    assert 'value="structures">corrige.csv' in page
    run = _done(
        app,
        repos,
        _launch(client, project, count="1", base_community="1", structures="structures"),
    )
    assert "annuaire_calcul" not in run.parameters
    web = repos.runs.read_result(run.id, "sites.csv")
    assert web == _cli_sites(tmp_path, OTHER, "--count", "1")
    # A scenario saved before the choice existed keeps the project's file.
    saved = repos.scenarios.save_scenario(
        "Ancien",
        "dep:00",
        {k: v for k, v in SCENARIO_DEFAULTS.items() if k != "structures"}
        | {"projet": project, "base_community": True, "count": 1, "time_limit": 10.0},
        author="charge",
    )
    form = client.get(f"/projets/{project}/sites?scenario={saved.id}").text
    assert _selected(form, "structures").startswith("structures|corrige.csv")


def test_a_directory_of_partners_alone_leaves_the_constraint_unchecked(
    app, accounts, repos
) -> None:
    project = create_project(app, accounts, repos)
    _directory_run(repos, project, STRUCTURES, categories={"epci": 1})
    page = logged_in(app, accounts["charge_de_mission"]).get(f"/projets/{project}/sites").text
    assert 'id="champ-base_community" name="base_community" value="1" checked' not in page
    assert "ne compte aucune structure qui fasse une communauté-base" in unescape(page)
    assert _selected(page, "structures").startswith("annuaire|")


def test_the_constraint_without_a_directory_is_a_field_error(app, accounts, repos) -> None:
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    for source, words in (
        ("annuaire", "le projet n'en a pas encore"),
        ("structures", "pas de fichier « annuaire des structures »"),
        ("", "choisissez-en un"),
    ):
        response = _launch(client, project, base_community="1", structures=source)
        assert response.status_code == 422, source
        assert 'id="erreur-base_community"' in response.text
        assert words in unescape(response.text), source
    assert parse_scenario({"structures": ""})["structures"] == ""
    assert parse_scenario({})["structures"] == "annuaire"


def test_the_summary_says_each_number_once(app, accounts, repos) -> None:
    project = create_project(app, accounts, repos)
    run_id = store_done_run(repos, project, None, author="charge")
    result = demo_sites_result(2)
    summary = sites_summary(result)
    # Neighbours counted: the summary splits the objective, never a second « covered ».
    run = repos.runs.create_run(RUN_KIND, dict(SCENARIO_DEFAULTS), author="charge")
    repos.projects.link_run(project, run.id)
    repos.runs.start_run(run.id)
    split = "Dont 700 dans les communes du territoire et 23 dans 2 commune(s) voisine(s)."
    repos.runs.finish_run(run.id, summary=summary | {"repartition": split, "ecart": 0.00003})
    client = logged_in(app, accounts["lecteur"])
    for shown_id, gap in ((run_id, result.result.gap), (run.id, 0.00003)):
        page = _words(unescape(client.get(f"/projets/{project}/sites/{shown_id}").text))
        assert "Usagers potentiels couverts :" not in page
        value = format_number(result.result.objective)
        assert _words(f"{value} usagers potentiels couverts") in page
        assert _words(f"Écart prouvé à l'optimum : {format_gap(gap)}.") in page
        assert "à 0,01 % près" not in page
    assert split in page
    assert "moins de 0,01 %" in page


def test_result_tables_show_no_coordinates_nor_two_codes(app, accounts, repos) -> None:
    project = create_project(app, accounts, repos)
    run_id = store_done_run(repos, project, None, author="charge")
    page = logged_in(app, accounts["lecteur"]).get(f"/projets/{project}/sites/{run_id}").text
    for table in ("tableau-sites", "tableau-un-de-plus"):
        found = re.search(
            rf'<table data-table id="{table}">.*?<thead>(.*?)</thead>', page, re.DOTALL
        )
        assert found, table
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", found.group(1))
        assert "Latitude" not in headers
        assert "Longitude" not in headers
        assert "Code commune" not in headers  # each site is a commune: its code once
        assert len(set(headers)) == len(headers), headers


def test_no_command_line_option_is_named_on_the_web_pages() -> None:
    # Places where explaining a command is the point (an administrator's tool named
    # beside the web page or button doing the same) are listed here.
    explained = {
        "login.html": "tierslieux users add",
        "project_new.html": "tierslieux data build",
        "_campaign_results.html": "tierslieux survey purge",
    }
    for template in sorted(Path(WEB_TEMPLATES).glob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\(--[a-z]", text), template.name
        for command in re.findall(r"« (tierslieux [a-z]+(?: [a-z]+)?) »", text):
            assert explained.get(template.name) == command, (template.name, command)


@pytest.mark.parametrize("path", ["/sites"])
def test_the_sites_form_names_no_option(app, accounts, repos, path: str) -> None:
    project = create_project(app, accounts, repos)
    page = logged_in(app, accounts["charge_de_mission"]).get(f"/projets/{project}{path}").text
    main = re.search(r"<main.*?</main>", page, re.DOTALL)
    assert main
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    # The session's random CSRF token (in the forms' htmx headers) may hold « -- ».
    text = main.group(0).replace(token.group(1), "")
    assert "--" not in re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    assert "tierslieux sites" not in main.group(0)


def test_finished_dates_are_paris_time() -> None:
    # The date shown for a directory run is the store's UTC moment in Paris time.
    moment = datetime(2026, 12, 4, 19, 18, tzinfo=UTC)
    assert format_datetime(moment) == "04/12/2026 20:18"
    assert format_datetime(moment + timedelta(days=200)).endswith("21:18")
