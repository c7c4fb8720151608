"""Command line: the demo end to end, and one-line errors without traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.model.indicators import INDICATORS

runner = CliRunner()


def test_demo_runs_offline_and_is_labelled(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["diagnose", "--demo", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "bassins.csv",
            "catchments.csv",
            "communes.csv",
            "communes.geojson",
            "report.html",
            "sources.json",
            ".tierslieux-fichiers.json",
        ]
    )
    communes = pd.read_csv(out / "communes.csv", dtype={"code": str})
    assert list(communes.columns[: 2 + len(INDICATORS)]) == ["code", "nom", *INDICATORS]
    assert len(communes) == 16
    assert communes["potentiel"].sum() > 0
    catchments = pd.read_csv(out / "catchments.csv", dtype={"code": str})
    assert {"code", "nb_communes", *INDICATORS} <= set(catchments.columns)
    assert (catchments["nb_communes"] >= 1).all()
    # a catchment sums at least its own commune
    merged = catchments.merge(communes, on="code", suffixes=("_c", ""))
    assert (merged["actifs_occupes_c"] >= merged["actifs_occupes"] - 0.1).all()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "SYNTHÉTIQUE" in report
    assert "FICTIF" in report
    assert "<svg" in report
    assert "http://" not in report.replace("http://www.w3.org/2000/svg", "")
    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sources["synthetique"] is True
    assert any(entry["synthetic"] for entry in sources["entrees"])
    geo = json.loads((out / "communes.geojson").read_text(encoding="utf-8"))
    assert len(geo["features"]) == 16
    assert geo["features"][0]["properties"]["synthetique"] is True


def test_missing_territory_is_one_line_error(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["diagnose", "--out", str(tmp_path / "x")], env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "--territory" in result.output


def test_bad_territory_is_clear(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        ["diagnose", "--territory", "canton:12", "--demo", "--out", str(tmp_path / "x")],
        env=env,
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_missing_mobpro_file_names_it(tmp_path: Path, env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        [
            "diagnose",
            "--demo",
            "--mobpro",
            str(tmp_path / "absent.csv"),
            "--out",
            str(tmp_path / "x"),
        ],
        env=env,
    )
    assert result.exit_code == 1
    assert "absent.csv" in result.output
    assert not (tmp_path / "x").exists()


def test_fetch_lists_catalog(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["fetch"], env=env)
    assert result.exit_code == 0
    assert "mobpro-2021" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert "tierslieux" in result.output


def test_english_messages_follow_through_the_translation_layer(
    tmp_path: Path, env: dict[str, str]
) -> None:
    result = runner.invoke(app, ["diagnose", "--lang", "en", "--out", str(tmp_path / "x")], env=env)
    assert result.exit_code == 1
    assert "Error" in result.output
    assert "Give --territory" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["diagnose", "--demo", "--minutes", "inf"], "Option --minutes invalide : inf"),
        (["diagnose", "--demo", "--minutes", "0"], "Option --minutes invalide : 0"),
        (["diagnose", "--demo", "--trajet-long", "-5"], "Option --trajet-long invalide : -5"),
        (["sites", "--demo", "--count", "-1"], "Option --count invalide : -1"),
        (["sites", "--demo", "--count", "2", "--time-limit", "1e12"], "Option --time-limit"),
        (["sites", "--demo", "--count", "2", "--minutes", "nan"], "Option --minutes invalide"),
    ],
)
def test_option_values_refused_by_name(tmp_path: Path, args: list[str], expected: str) -> None:
    # Issue 11: absurd option values get a message naming the option, not the catch-all.
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "inattendue" not in result.output


def test_invalid_memory_limit_setting_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERSLIEUX_DUCKDB_MEMORY_LIMIT", "beaucoup")
    result = runner.invoke(app, ["diagnose", "--demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "TIERSLIEUX_DUCKDB_MEMORY_LIMIT" in result.output
    assert "inattendue" not in result.output
