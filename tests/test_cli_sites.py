"""Command ``tierslieux sites`` end to end on the fictional demo territory."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierslieux.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_demo_sites(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "sites"
    result = runner.invoke(app, ["sites", "--demo", "--count", "2", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "HiGHS" in result.output
    sites = _rows(out / "sites.csv")
    assert len(sites) == 2
    assert list(sites[0])[:7] == [
        "rang", "code", "nom", "valeur", "gain_marginal", "theme", "communaute_base",
    ]
    assert len(_rows(out / "alternatives.csv")) == 2
    sensitivity = _rows(out / "sensitivity.csv")
    assert {(r["minutes"], r["nb_sites"]) for r in sensitivity} >= {
        ("15.0", "2"), ("20.0", "2"), ("30.0", "2"), ("20.0", "1"), ("20.0", "3"),
    }
    assert _rows(out / "coverage.csv")
    page = (out / "sites.html").read_text(encoding="utf-8")
    assert "<svg" in page
    assert "FICTIF" in page


def test_demo_sites_with_structures_and_themes(tmp_path: Path, env: dict[str, str]) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\n"
        "s1,Coop A,cae,ess_cooperation,00101\n"
        "s2,Asso B,association_teleactivites,culture;tic,00108\n"
        "s3,Gare,point_appui,,00102\n",
        encoding="utf-8",
    )
    out = tmp_path / "sites"
    result = runner.invoke(
        app,
        ["sites", "--demo", "--count", "2", "--structures", str(structures), "--out", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    sites = _rows(out / "sites.csv")
    assert all(r["communaute_base"] == "oui" for r in sites)
    assert len({r["theme"] for r in sites}) == 2


def test_too_many_distinct_themes_is_one_line_error(tmp_path: Path, env: dict[str, str]) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\ns1,Coop A,cae,culture,00101\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "sites", "--demo", "--count", "3", "--structures", str(structures),
            "--out", str(tmp_path / "x"),
        ],
        env=env,
    )
    assert result.exit_code == 1
    assert "thèmes différents" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_demand_file_and_co2(tmp_path: Path, env: dict[str, str]) -> None:
    demand = tmp_path / "demand.csv"
    demand.write_text("code,demand,km\n00101,100,10\n00108,50,40\n00114,10,5\n", encoding="utf-8")
    out = tmp_path / "co2"
    result = runner.invoke(
        app,
        [
            "sites", "--demo", "--count", "1", "--objective", "co2", "--demand", str(demand),
            "--out", str(out),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "CO₂" in result.output
    assert _rows(out / "sites.csv")
