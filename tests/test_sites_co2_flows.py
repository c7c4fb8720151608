"""``tierslieux sites --objective co2`` with the per-flow rule on the demo's MOBPRO."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.pipeline_sites import SitesRequest, run_sites

runner = CliRunner()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_demo_co2_uses_the_flow_rule(tmp_path: Path) -> None:
    out = tmp_path / "co2"
    result = runner.invoke(
        app,
        ["sites", "--demo", "--count", "2", "--objective", "co2", "--out", str(out)],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    sites = _rows(out / "sites.csv")
    assert len(sites) == 2
    assert float(sites[0]["valeur"]) > 0
    assert len(_rows(out / "sensitivity.csv")) >= 4


def test_flow_rule_objective_and_gain_minimal(tmp_path: Path) -> None:
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    base = SitesRequest(territory="france", count=2, objective="co2", demo=True)
    res = run_sites(settings, base)
    assert any("règle par flux" in n for n in res.notes)
    assert not any("par défaut = trajet long" in n for n in res.notes)
    assert res.result.objective > 0
    assert sum(s.marginal_gain for s in res.result.sites) == pytest.approx(res.result.objective)
    # A stricter rule (more minutes to save) can only lower the optimum.
    strict = run_sites(settings, SitesRequest(**{**base.__dict__, "gain_minimal": 25.0}))
    assert strict.result.objective <= res.result.objective + 1e-6
