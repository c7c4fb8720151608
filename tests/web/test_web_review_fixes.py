"""Defects found by the review of the whole method on a real territory."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tierslieux.pipeline.project_runs import run_kind_label
from tierslieux.reports import labels
from tierslieux.reports.dossier import pdf
from tierslieux.reports.labels import (
    engine_label,
    engine_sentences,
    file_name,
    solver_label,
    source_role_label,
)
from tierslieux.reports.templates import environment


def test_favicon_is_served_and_linked(app, accounts) -> None:
    client = TestClient(app)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.content
    assert client.get("/static/favicon.svg").status_code == 200
    page = client.get("/connexion")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text


def test_run_kind_label_says_communautes_base() -> None:
    assert run_kind_label("communities") == "Communautés-base"


def test_labels_of_engines_solvers_roles_and_paths() -> None:
    assert engine_label("straight_line") == "estimation à vol d'oiseau"
    assert solver_label("highs") == "HiGHS"
    assert solver_label("HiGHS") == "HiGHS"
    assert source_role_label("mobpro") == "Recensement : navettes domicile-travail (MOBPRO)"
    assert file_name("/srv/work/tierslieux-run-ab12/communes.geojson") == "communes.geojson"
    assert file_name("https://router.example/osrm") == "https://router.example/osrm"
    lines = engine_sentences("straight_line", {"detour_factor": 1.343, "speed_kmh": 60})
    assert lines[0] == "Moteur de temps de trajet : estimation à vol d'oiseau."
    assert "detour_factor" not in " ".join(lines)
    assert lines[1].startswith("Facteur de détour (distance routière")  # a sentence: capital
    assert "1,343" in lines[1]


def test_dossier_pdf_uses_the_one_label_table() -> None:
    assert pdf._ENGINES is labels.ENGINE_LABELS
    assert pdf._PARAMETERS is labels.PARAMETER_LABELS


def test_diagnostic_method_in_words_without_server_paths() -> None:
    template = environment().from_string(
        '{% from "_diagnostic_method.html" import diagnostic_method %}'
        "{{ diagnostic_method(d, {}, 200, 0) }}"
    )
    d = {
        "minutes": 20,
        "long_commute_minutes": 30,
        "teleworkable_shares": {},
        "teleworkable_source": "x",
        "engine": "straight_line",
        "engine_parameters": {"detour_factor": "1.343"},
        "unavailable": [],
        "provenance": [
            {
                "role": "mobpro",
                "location": "/work/tmp/tierslieux-run-xyz/FD_MOBPRO_2021.csv",
                "vintage": "2021",
                "licence": None,
                "sha256": None,
                "synthetic": False,
            }
        ],
    }

    class _D(dict):  # attribute access, as the templates read a mapping
        __getattr__ = dict.__getitem__

    html = template.render(d=_D(d))
    assert "straight_line" not in html
    assert "detour_factor" not in html
    assert "estimation à vol d&#39;oiseau" in html
    assert "Recensement : navettes domicile-travail (MOBPRO)" in html
    assert "tierslieux-run-xyz" not in html
    assert "FD_MOBPRO_2021.csv" in html
