"""Leftovers of the web screens (issue 13): authors by display name on every page, a
directory read in the page's language, the dossier on the latest directory run."""

from __future__ import annotations

import dataclasses
import html
import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from test_web_communities import _project as directory_project
from test_web_public import _campaign as new_campaign
from test_web_questionnaire import _import as import_answers
from web_helpers import create_project, csrf, logged_in

from tierslieux.i18n import format_datetime
from tierslieux.pipeline.project_runs import RunOutcome
from tierslieux.web.app import create_app

DEADLINE = 180
#: The chargé de mission's display name: not their login (« charge »).
NAME = "Camille Martin-Durand"


@pytest.fixture
def display_names() -> dict[str, str]:
    """Each user of the shared ``accounts`` fixture with a display name that is not the login."""
    return {"administrateur": "Alix Admin", "charge_de_mission": NAME, "lecteur": "Léo Lecteur"}


def _t(response) -> str:
    assert response.status_code == 200, response.text[-2000:]
    return html.unescape(response.text)


def _post_run(app, client: TestClient, path: str, project: int) -> str:
    token = csrf(client, path)
    response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert app.state.runs.wait(run_id, DEADLINE)
    run = app.state.runs.get(project, run_id)
    assert run.status == "done", run.error
    return run_id


def _shown(text: str, login: str = "charge") -> None:
    """The display name is shown, the login only as its title."""
    assert f'<span class="personne" title="{login}">{NAME}</span>' in text, text[-3000:]


def test_every_page_shows_the_author_by_display_name(app, accounts, repos) -> None:
    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    diagnostic = _post_run(app, client, f"/projets/{project}/diagnostic", project)
    _post_run(app, client, f"/projets/{project}/communautes/construire", project)
    runs = app.state.runs

    def quick(*, progress) -> RunOutcome:
        del progress
        return RunOutcome(summary={"territoire": "Démo"})

    dossier = runs.start(project, "dossier", quick, actor="charge")
    sites = runs.start(project, "sites", quick, actor="charge")
    for run in (dossier, sites):
        assert runs.wait(run.id, 30)

    _shown(_t(client.get(f"/projets/{project}/diagnostic")))
    _shown(_t(client.get(f"/projets/{project}/calculs/{diagnostic}")))
    _shown(_t(client.get(f"/projets/{project}/dossier")))
    _shown(_t(client.get(f"/projets/{project}/sites")))
    _shown(_t(client.get(f"/projets/{project}/communautes")))
    home = _t(client.get(f"/projets/{project}"))
    _shown(home)  # its runs and its members
    assert "Léo Lecteur" in home
    _shown(_t(client.get("/projets")))  # who created the project
    # the questionnaire: a campaign's author, an import's author
    campaign, _slug = new_campaign(client, project)
    _shown(_t(client.get(f"/projets/{project}/questionnaire/campagnes/{campaign}")))
    assert import_answers(client, project).status_code in {200, 303}
    questionnaire = _t(client.get(f"/projets/{project}/questionnaire"))
    _shown(questionnaire)
    assert "<td>charge</td>" not in questionnaire
    for page in ("diagnostic", f"calculs/{diagnostic}", "dossier", "sites"):
        text = _t(client.get(f"/projets/{project}/{page}"))
        assert "par charge" not in text, page
        assert "<td>charge</td>" not in text, page
    # The audit log keeps the login visible beside the name.
    journal = _t(logged_in(app, accounts["administrateur"]).get("/admin/journal"))
    assert f"{NAME}</span> <code>charge</code>" in journal


def _english(app_settings):
    return dataclasses.replace(
        app_settings, core=app_settings.core.model_copy(update={"lang": "en"})
    )


def test_a_directory_built_in_french_reads_in_english(app, web_settings, accounts, repos) -> None:
    """The same process serves the directory in French then in English: the themes,
    categories, reasons and the map's indicators come in English (a cache of the
    first language kept them French)."""
    client, project = directory_project(app, repos, accounts)
    _post_run(app, client, f"/projets/{project}/communautes/construire", project)
    french = _t(client.get(f"/projets/{project}/communautes"))
    assert "de la méthode." in french
    english_app = create_app(_english(web_settings))
    english = logged_in(english_app, accounts["charge_de_mission"])
    page = _t(english.get(f"/projets/{project}/communautes"))
    assert "Why ranked here" in page
    table = page.split("<table", 1)[1]
    assert "Actor reported by the project team: Activity and employment cooperative" in table
    assert "step 3 of the method." in table
    assert "de la méthode" not in table
    assert "Acteur signalé" not in table
    assert "Coopérative d'activité et d'emploi (étape 1)" not in table  # the category
    # the theme filter's labels in English, though French was read first
    themes = page.split('name="theme"', 1)[1].split("</select>", 1)[0]
    assert "Digital (ICT)" in themes or "ICT" in themes, themes
    assert "Numérique" not in themes
    geojson = json.loads(english.get(f"/projets/{project}/communautes/communes.geojson").text)
    labels = [i["libelle"] for i in geojson["indicateurs_carte"]["indicateurs"]]
    french_map = json.loads(client.get(f"/projets/{project}/communautes/communes.geojson").text)
    french_labels = [i["libelle"] for i in french_map["indicateurs_carte"]["indicateurs"]]
    assert labels
    assert all(a != b for a, b in zip(labels, french_labels, strict=True)), labels
    # French again: unchanged by the English reading
    assert "de la méthode." in _t(client.get(f"/projets/{project}/communautes"))


def test_the_dossier_uses_the_latest_directory_run_and_says_which(
    app, accounts, repos, monkeypatch, tmp_path
) -> None:
    from tierslieux.errors import TierslieuxError  # noqa: PLC0415
    from tierslieux.pipeline.site_scenarios import (  # noqa: PLC0415
        default_structures,
        structures_file,
    )
    from tierslieux.web import dossier as web_dossier  # noqa: PLC0415

    project = create_project(app, accounts, repos)
    client = logged_in(app, accounts["charge_de_mission"])
    before = _t(client.get(f"/projets/{project}/dossier"))
    assert "Un nouveau dossier utilisera les registres (Sirene, RNA, tiers-lieux)" in before
    directory = _post_run(app, client, f"/projets/{project}/communautes/construire", project)
    run = repos.runs.get_run(directory)
    when = format_datetime(run.finished_at)
    page = _t(client.get(f"/projets/{project}/dossier"))
    assert (
        "Un nouveau dossier utilisera l'annuaire de l'écran des communautés-base "
        f"construit le {when} (heure de Paris)." in page
    )
    # One loader: the dossier's structures.csv is the directory run's.
    chosen = default_structures(repos, project)
    assert chosen["annuaire_calcul"] == directory
    assert datetime.fromisoformat(chosen["annuaire_date"]) == run.finished_at
    written = structures_file(repos, project, chosen, tmp_path)
    assert written is not None
    assert written.read_bytes() == repos.runs.read_result(directory, "structures.csv")

    # The launch pins that directory: it is in the run's parameters and given to the use case.
    seen = {}

    def stub(repos_, settings, project_, **kwargs):
        seen.update(kwargs)
        raise TierslieuxError("arrêt du test")

    monkeypatch.setattr(web_dossier, "run_project_dossier", stub)
    token = csrf(client, f"/projets/{project}/dossier")
    response = client.post(
        f"/projets/{project}/dossier", data={"csrf_token": token}, follow_redirects=False
    )
    launched = response.headers["location"].rsplit("/", 1)[1]
    assert app.state.runs.wait(launched, 30)
    assert seen["structures"]["annuaire_calcul"] == directory
    parameters = repos.runs.get_run(launched).parameters
    assert parameters["structures"] == "annuaire"
    assert parameters["annuaire_calcul"] == directory
    # A finished dossier says which directory it used.
    shown = web_dossier.structures_used(parameters)
    assert (
        shown == f"l'annuaire de l'écran des communautés-base construit le {when} (heure de Paris)"
    )
    assert web_dossier.structures_used({"structures": "structures"}) == (
        "le fichier « annuaire des structures (structures.csv des communautés-base) » déposé "
        "dans les fichiers du projet"
    )
    assert web_dossier.structures_used({"territoire": "dep:00"}) == ""  # an older run


def test_a_dossiers_notes_read_in_english(app, web_settings, accounts, repos) -> None:
    """The notes kept by a dossier built in French come in the English page's language
    when they are the catalogue's sentences."""
    from tierslieux.i18n import gettext, use_language  # noqa: PLC0415

    project = create_project(app, accounts, repos)
    note = gettext(
        "Sites : aucune structure des étapes 1, 2 ou 4 trouvée ; les sites sont "
        "choisis sans exiger de communauté-base dans leur bassin."
    )
    with use_language("en"):
        english_note = gettext(
            "Sites : aucune structure des étapes 1, 2 ou 4 trouvée ; les sites sont "
            "choisis sans exiger de communauté-base dans leur bassin."
        )
    assert english_note != note

    def quick(*, progress) -> RunOutcome:
        del progress
        return RunOutcome(summary={"territoire": "Démo", "notes": [note]})

    run = app.state.runs.start(project, "dossier", quick, actor="charge")
    assert app.state.runs.wait(run.id, 30)
    assert note in _t(
        logged_in(app, accounts["charge_de_mission"]).get(f"/projets/{project}/dossier")
    )
    english = logged_in(create_app(_english(web_settings)), accounts["charge_de_mission"])
    page = _t(english.get(f"/projets/{project}/dossier"))
    assert english_note in page
    assert note not in page
