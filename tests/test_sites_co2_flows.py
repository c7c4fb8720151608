"""``tierslieux sites --objective co2`` with the per-flow rule on the demo's MOBPRO."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sites_helpers import read_rows
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.pipeline.sites import SitesRequest, run_sites

runner = CliRunner()


def test_demo_co2_uses_the_flow_rule(tmp_path: Path) -> None:
    out = tmp_path / "co2"
    result = runner.invoke(
        app,
        ["sites", "--demo", "--count", "2", "--objective", "co2", "--out", str(out)],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    sites = read_rows(out / "sites.csv")
    assert len(sites) == 2
    assert float(sites[0]["valeur"]) > 0
    assert len(read_rows(out / "sensitivity.csv")) >= 4


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


# --------------------------------------------------------------------------------------
# Take-up model: tonnes per year with a range, assumptions printed, questionnaire days
# --------------------------------------------------------------------------------------


def _demo_co2(tmp_path: Path, **changes: object):
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    request = SitesRequest(territory="france", count=2, objective="co2", demo=True)
    return run_sites(settings, SitesRequest(**{**request.__dict__, **changes}))


def test_annual_range_and_assumptions(tmp_path: Path) -> None:
    res = _demo_co2(tmp_path)
    assert res.co2 is not None
    tonnes = res.co2.tonnes
    assert 0 < tonnes.low <= tonnes.central <= tonnes.high
    assert res.result.objective == pytest.approx(tonnes.central)
    assert "par an" in res.unit
    # The per-day figure is derived from the annual one (218 working days by default).
    assert res.co2.kg_per_day == pytest.approx(tonnes.central * 1000 / 218)
    # The ceiling (everyone every day) is far above the central estimate.
    assert res.co2.ceiling_kg_per_day > res.co2.kg_per_day * 10
    table = res.co2.assumptions
    assert {"parametre", "bas", "central", "haut", "source"} <= set(table.columns)
    # Every row but the rebound (a loss, applied to the low estimate) is ordered.
    ordered = table[table["parametre"] != "effet rebond"]
    assert (ordered["bas"] <= ordered["central"] + 1e-12).all()
    assert (ordered["central"] <= ordered["haut"] + 1e-12).all()
    assert any("Dares" in s for s in table["source"])
    assert any("L3121-64" in s for s in table["source"])
    assert any("Fréquentation" in n for n in res.notes)
    # Sites carry their range, the sum of their marginal gains is the objective.
    sites = res.sites
    assert (sites["tonnes_co2e_an_bas"] <= sites["valeur"] + 1e-9).all()
    assert (sites["valeur"] <= sites["tonnes_co2e_an_haut"] + 1e-9).all()
    assert (sites["usagers_estimes"] <= sites["navetteurs_eligibles"]).all()


def test_take_up_scales_the_objective_without_changing_the_sites(tmp_path: Path) -> None:
    base = _demo_co2(tmp_path)
    given = _demo_co2(tmp_path, users_share=0.5, days_per_week=5.0, working_days=200.0)
    assert given.result.chosen == base.result.chosen
    assert given.co2 is not None
    assert given.co2.tonnes.low == pytest.approx(given.co2.tonnes.high * (1 - 0.31))
    # Everyone every day on 200 days: the ceiling per day times 200, times one half.
    assert given.co2.tonnes.central == pytest.approx(
        given.co2.ceiling_kg_per_day * 0.5 * 200 / 1000
    )


def _respondents(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = ["repondant,commune,score,jours_par_semaine"]
    lines += [f"R{i:04d},{c},5,{d}" for i, (c, d) in enumerate(rows, start=1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_questionnaire_days_per_week_are_used(tmp_path: Path) -> None:
    answers = [("00101", "1"), ("00102", "3"), ("00103", "2"), ("00104", "0"), ("00105", "")]
    respondents = _respondents(tmp_path / "respondents.csv", answers)
    res = _demo_co2(tmp_path, respondents=respondents)
    assert res.co2 is not None
    days = res.co2.uptake.days_per_week
    assert days.central == pytest.approx(2.0)  # mean of 1, 3, 2 (0 = would not come)
    assert 1.0 <= days.low <= days.central <= days.high <= 3.0
    assert "questionnaire" in res.co2.uptake.days_source
    # The option wins over the questionnaire.
    forced = _demo_co2(tmp_path, respondents=respondents, days_per_week=4.0)
    assert forced.co2 is not None
    assert forced.co2.uptake.days_per_week.central == 4.0


def test_bad_days_in_respondents_are_refused_with_the_line(tmp_path: Path) -> None:
    respondents = _respondents(tmp_path / "respondents.csv", [("00101", "2"), ("00102", "huit")])
    with pytest.raises(SchemaError, match="ligne 3"):
        _demo_co2(tmp_path, respondents=respondents)


def test_respondents_without_days_fall_back_to_cited_defaults(tmp_path: Path) -> None:
    old = tmp_path / "respondents.csv"
    old.write_text("repondant,commune,score\nR0001,00101,5\n", encoding="utf-8")
    res = _demo_co2(tmp_path, respondents=old)
    assert res.co2 is not None
    assert res.co2.uptake.days_per_week.central == pytest.approx(1.4)
    assert any("jours_par_semaine" in n for n in res.notes)


@pytest.mark.parametrize(
    ("option", "value", "name"),
    [
        ("--part-usagers", "1.5", "--part-usagers"),
        ("--part-usagers", "0", "--part-usagers"),
        ("--jours-par-semaine", "6", "--jours-par-semaine"),
        ("--jours-ouvres", "400", "--jours-ouvres"),
    ],
)
def test_take_up_options_are_validated(tmp_path: Path, option: str, value: str, name: str) -> None:
    result = runner.invoke(
        app,
        [
            "sites",
            "--demo",
            "--count",
            "2",
            "--objective",
            "co2",
            option,
            value,
            "--out",
            str(tmp_path / "out"),
        ],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code != 0
    assert name in result.output
    assert "Traceback" not in result.output


def test_cli_prints_the_annual_range_and_writes_the_assumptions(tmp_path: Path) -> None:
    out = tmp_path / "co2"
    result = runner.invoke(
        app,
        ["sites", "--demo", "--count", "2", "--objective", "co2", "--out", str(out)],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    assert "t CO₂e évitées par an" in result.output
    assert "fourchette" in result.output
    assert "Hypothèses du CO₂" in result.output
    rows = read_rows(out / "hypotheses_co2.csv")
    assert rows[0]["parametre"].startswith("part des navetteurs")
    assert "Hypothèses du CO₂" in (out / "sites.html").read_text(encoding="utf-8")
