"""Defects found by walking through the application as a new user (README command, real files).

- a refused upload names the file as the user knows it, not its temporary copy on the
  server, and the form keeps the kind of file chosen;
- messages name inputs as the web forms do, even under ``tierslieux web``, whose
  context carries the command line's labeller;
- an EPCI keeps its acronym in a territory's label.
"""

from __future__ import annotations

import asyncio
import html
import re

import httpx
from web_helpers import csrf, logged_in

from tierslieux.cli.common import cli_label
from tierslieux.errors import Problem, use_labels
from tierslieux.pipeline.projects import TerritoryChoice


def _project(client) -> str:
    token = csrf(client, "/projets/nouveau")
    created = client.post(
        "/projets",
        data={"name": "Parcours", "territory": "bv:00101", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303
    return str(created.headers["location"])


def test_a_refused_upload_names_the_file_not_its_temporary_copy(app, accounts) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    location = _project(client)
    token = csrf(client, location)
    header = "CODE_COMMUNE_X,LIBGEO,DEP\n00101,Bourg,00\n"
    refused = client.post(
        f"{location}/fichiers",
        data={"role": "zonages", "csrf_token": token},
        files={"file": ("zonages.csv", header.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "zonages.csv" in refused.text
    assert "CODGEO" in refused.text  # what was expected
    assert "tierslieux-upload-" not in refused.text
    assert not re.search(r"/tmp/|\\Temp\\", refused.text)  # noqa: S108 - must not show
    # The kind of file chosen stays selected, for the next try.
    assert '<option value="zonages" selected>' in refused.text


def test_messages_name_inputs_as_the_forms_do_under_the_cli_labeller(app) -> None:
    @app.get("/essai-libelle")
    def label() -> dict[str, str]:
        return {"text": Problem("Donnez {densite} ou {neighbours}.").render()}

    async def fetch() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/essai-libelle")
        return str(answer.json()["text"])

    # ``tierslieux web`` serves the application inside the CLI's context.
    with use_labels(cli_label):
        text = asyncio.run(fetch())
    assert "--densite" not in text
    assert "--sans-communes-voisines" not in text
    assert "« grille de densité »" in text


def test_an_epci_keeps_its_acronym_in_a_territory_label() -> None:
    choice = TerritoryChoice("epci:200067445", "epci", "200067445", "CC Buëch-Dévoluy", 20)
    assert choice.label == "CC Buëch-Dévoluy (EPCI 200067445, 20 communes)"
    department = TerritoryChoice("dep:05", "dep", "05", "Hautes-Alpes", 162)
    assert department.label == "Hautes-Alpes (département 05, 162 communes)"


def test_a_picture_uploaded_as_data_is_called_a_picture(app, accounts) -> None:
    client = logged_in(app, accounts["charge_de_mission"])
    location = _project(client)
    token = csrf(client, location)
    refused = client.post(
        f"{location}/fichiers",
        data={"role": "zonages", "csrf_token": token},
        files={"file": ("carte.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")},
    )
    assert refused.status_code == 422
    found = re.search(r'<p class="erreur" id="erreur-file">([^<]*)</p>', refused.text)
    assert found, refused.text[-3000:]
    message = html.unescape(found.group(1))
    assert "« carte.png » refusé : c'est une image PNG, pas un fichier de données" in message
    assert "table d'appartenance" in message  # what is expected
