"""``sites`` honours TIERSLIEUX_CATCHMENT_MINUTES like the other commands; --minutes wins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from sites_helpers import read_rows
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.pipeline.inputs import load_inputs
from tierslieux.pipeline.sites import SitesRequest, choose_sites, run_sites

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def _sites(tmp_path: Path, env: dict[str, str], *options: str) -> tuple[set[str], str]:
    """Run ``sites --demo``; return the minutes of the K-1/K+1 sensitivity rows and the page."""
    out = tmp_path / "sites"
    args = ["sites", "--demo", "--count", "2", *options, "--out", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "sensitivity.csv")
    # The K-1 and K+1 rows are computed at the request's own minutes.
    minutes = {r["minutes"] for r in rows if r["nb_sites"] in {"1", "3"}}
    return minutes, (out / "sites.html").read_text(encoding="utf-8")


def test_sites_reads_the_catchment_setting(tmp_path: Path, env: dict[str, str]) -> None:
    minutes, page = _sites(tmp_path, {**env, "TIERSLIEUX_CATCHMENT_MINUTES": "25"})
    assert minutes == {"25.0"}
    assert "bassin de 25 minutes" in page


def test_minutes_option_wins_over_the_setting(tmp_path: Path, env: dict[str, str]) -> None:
    minutes, page = _sites(
        tmp_path, {**env, "TIERSLIEUX_CATCHMENT_MINUTES": "25"}, "--minutes", "30"
    )
    assert minutes == {"30.0"}
    assert "bassin de 30 minutes" in page
    assert "bassin de 25 minutes" not in page


def test_use_case_takes_the_minutes_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", offline=True, catchment_minutes=25.0)
    result = run_sites(settings, SitesRequest(territory="france", count=2, demo=True))
    assert result.minutes == 25.0
    given = run_sites(settings, SitesRequest(territory="france", count=2, minutes=15, demo=True))
    assert given.minutes == 15.0


def test_choose_sites_on_loaded_inputs_takes_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: choose_sites (the workspace API) must resolve minutes=None like run_sites.
    monkeypatch.setenv("TIERSLIEUX_CATCHMENT_MINUTES", "25")
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    request = SitesRequest(territory="dep:00", count=2, demo=True)
    inputs = load_inputs(settings, request.files())
    result = choose_sites(settings, inputs, request)
    assert result.minutes == 25
