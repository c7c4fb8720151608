"""Rurality: one definition (model.rurality), shown per commune, focus of diagnose and sites.

The demo territory is given a hand-written density grid
(tests/data/densite/grille_densite_7_niveaux_demo.csv): 00101 Bourg-Fictif, the largest
commune, is a "grand centre urbain" (a Marseille-like city) and 00102 a "ceinture
urbaine"; every other commune is "rural à habitat dispersé".
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sites_helpers import read_rows
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.model.rurality import RuralDefinition, rural_flags
from tierslieux.pipeline import demo_files
from tierslieux.pipeline.sites import SitesRequest, run_sites
from tierslieux.sources.communes import load_communes

runner = CliRunner()
GRID = Path(__file__).resolve().parent / "data" / "densite" / "grille_densite_7_niveaux_demo.csv"
URBAN = {"00101", "00102"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(offline=True, cache_dir=tmp_path / "cache")


# --------------------------------------------------------------------------------------
# The definition


def test_grid_levels_five_to_seven_are_rural() -> None:
    density = {str(i): str(i) for i in range(1, 8)}
    flags, definition = rural_flags([*density, "x"], density=density)
    assert flags == [False, False, False, False, True, True, True, None]
    assert definition == RuralDefinition.GRID


def test_grid_wins_over_the_zonings_proxy() -> None:
    flags, definition = rural_flags(
        ["a"], density={"a": "1"}, urban_unit={"a": "04000"}, aav_category={"a": "30"}
    )
    assert (flags, definition) == ([False], RuralDefinition.GRID)


def test_proxy_outside_urban_unit_or_outside_city_attraction() -> None:
    units = {"hors_uu": "04000", "bourg_isole": "04101", "ville": "00759", "sans_uu": ""}
    categories = {"hors_uu": "20", "bourg_isole": "30", "ville": "11", "sans_uu": "30"}
    flags, definition = rural_flags([*units, "inconnue"], urban_unit=units, aav_category=categories)
    assert flags == [True, True, False, True, None]
    assert definition == RuralDefinition.PROXY


def test_nothing_known() -> None:
    assert rural_flags(["a"]) == ([None], RuralDefinition.NONE)


# --------------------------------------------------------------------------------------
# Diagnostic: columns and the rural focus


def _diagnose(tmp_path: Path, env: dict[str, str], *options: str) -> Path:
    out = tmp_path / "diag"
    result = runner.invoke(
        app, ["diagnose", "--demo", "--densite", str(GRID), *options, "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    return out


def test_diagnostic_shows_density_urban_area_and_rural(tmp_path: Path, env: dict[str, str]) -> None:
    out = _diagnose(tmp_path, env)
    rows = {r["code"]: r for r in read_rows(out / "communes.csv")}
    assert rows["00101"]["densite"] == "1"
    assert rows["00101"]["densite_libelle"] == "Grands centres urbains"
    assert rows["00101"]["categorie_aav"] == "11"
    assert rows["00101"]["categorie_aav_libelle"] == "Commune-centre"
    assert rows["00101"]["rural"] == "False"
    assert rows["00104"]["densite_libelle"] == "Rural à habitat dispersé"
    assert rows["00104"]["rural"] == "True"
    features = json.loads((out / "communes.geojson").read_text(encoding="utf-8"))["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert by_code["00104"]["rural"] is True
    assert by_code["00101"]["densite_libelle"] == "Grands centres urbains"
    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sources["parametres"]["definition_rural"] == "grille_densite"
    assert any(e["role"] == "grille de densité" for e in sources["entrees"])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<td>Bourg-Fictif (FICTIF) (00101)</td>" in page
    assert "niveaux 5 à 7 de la grille communale de densité" in page


def test_diagnose_rural_limits_the_report_tables(tmp_path: Path, env: dict[str, str]) -> None:
    out = _diagnose(tmp_path, env, "--rural")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Tableaux limités aux communes rurales" in page
    # The map keeps every commune; the catchment and commune tables only rural ones.
    assert "<td>Bourg-Fictif (FICTIF) (00101)</td>" not in page
    assert "<td>Val-d'Exemple (FICTIF) (00102)</td>" not in page
    assert "<td>Villedémo (FICTIF) (00108)</td>" in page
    assert "Les 20 premières communes rurales" in page
    # The CSV files keep every commune.
    assert len(read_rows(out / "communes.csv")) == 16
    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sources["parametres"]["tableaux_communes_rurales"] is True


def test_diagnostic_without_grid_uses_the_stated_proxy(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "diag"
    result = runner.invoke(app, ["diagnose", "--demo", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in read_rows(out / "communes.csv")}
    assert rows["00104"]["rural"] == "True"  # CATEAAV2020 = 30
    assert rows["00102"]["rural"] == "False"  # couronne, no UU2020 in the demo zonings
    assert rows["00104"]["densite"] == ""
    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sources["parametres"]["definition_rural"] == "approximation_zonages"
    assert "approximation" in " ".join(sources["notes"])


# --------------------------------------------------------------------------------------
# Sites: rural candidates, rural demand


def _demand(path: Path, values: dict[str, float]) -> Path:
    path.write_text(
        "code,demand\n" + "".join(f"{c},{v}\n" for c, v in values.items()), encoding="utf-8"
    )
    return path


def test_urban_communes_are_not_chosen_with_rural_candidates(
    tmp_path: Path, settings: Settings
) -> None:
    # 1-minute catchments: each site covers its own commune; the two urban communes
    # carry most of the demand, so they win without the option.
    demand = _demand(tmp_path / "d.csv", {"00101": 100, "00102": 80, "00108": 10, "00104": 5})
    base = SitesRequest(
        territory="france", count=2, minutes=1, demand=demand, demo=True, densite=GRID
    )
    plain = run_sites(settings, base)
    assert set(plain.sites["code"]) == URBAN
    assert not plain.sites["rural"].any()
    rural = run_sites(settings, replace(base, rural="candidats"))
    assert set(rural.sites["code"]) == {"00108", "00104"}
    assert rural.sites["rural"].all()
    assert rural.result.objective == pytest.approx(15)
    assert any("Sites limités aux communes rurales" in n for n in rural.notes)
    assert any("niveaux 5 à 7" in n for n in rural.notes)
    communes = rural.communes.set_index("code")
    assert communes.loc["00101", "densite_libelle"] == "Grands centres urbains"
    assert not communes.loc["00101", "rural"]


def test_demand_restriction_changes_the_objective(settings: Settings) -> None:
    base = SitesRequest(territory="france", count=2, demo=True, densite=GRID, rural="candidats")
    candidates_only = run_sites(settings, base)
    with_demand = run_sites(settings, replace(base, rural="candidats-et-demande"))
    assert not set(candidates_only.sites["code"]) & URBAN
    assert not set(with_demand.sites["code"]) & URBAN
    # Urban demand within 20 minutes of the rural sites no longer counts.
    covered_urban = candidates_only.coverage["code_commune"].isin(URBAN)
    assert covered_urban.any()
    urban_part = candidates_only.coverage.loc[covered_urban, "demande"].sum()
    assert with_demand.result.objective < candidates_only.result.objective
    assert with_demand.result.objective >= candidates_only.result.objective - urban_part - 1e-6
    assert any(
        "seule la demande des 14 commune(s) rurale(s) sur 16" in n for n in with_demand.notes
    )


def test_rural_candidate_places_use_their_commune(tmp_path: Path, settings: Settings) -> None:
    table = load_communes(demo_files()["communes"]).table.set_index("code")
    rows = [
        f"P{code},Lieu {code},{table.loc[code, 'latitude']},{table.loc[code, 'longitude']},{code}"
        for code in ("00101", "00104")
    ]
    places = tmp_path / "lieux.csv"
    places.write_text(
        "identifiant,nom,latitude,longitude,code_commune\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    demand = _demand(tmp_path / "d.csv", {"00101": 100, "00104": 5})
    base = SitesRequest(
        territory="france",
        count=1,
        minutes=1,
        demand=demand,
        demo=True,
        densite=GRID,
        candidates=places,
    )
    assert list(run_sites(settings, base).sites["code"]) == ["P00101"]
    chosen = run_sites(settings, replace(base, rural="candidats")).sites
    assert list(chosen["code"]) == ["P00104"]
    assert chosen["rural"].all()


@pytest.mark.usefixtures("cli_labels")
def test_unknown_rural_value_is_refused(settings: Settings) -> None:
    request = SitesRequest(territory="france", count=1, demo=True, rural="oui")
    with pytest.raises(SchemaError, match="--rural « oui » inconnu : non, candidats"):
        run_sites(settings, request)


@pytest.mark.usefixtures("cli_labels")
def test_rural_without_any_definition_is_explained(tmp_path: Path, settings: Settings) -> None:
    zonages = tmp_path / "zonages.csv"
    codes = load_communes(demo_files()["communes"]).table["code"]
    zonages.write_text(
        "CODGEO,EPCI\n" + "".join(f"{c},000000001\n" for c in codes), encoding="utf-8"
    )
    request = SitesRequest(
        territory="france", count=1, demo=True, zonages=zonages, rural="candidats"
    )
    with pytest.raises(SchemaError, match="--rural candidats : Ruralité inconnue"):
        run_sites(settings, request)


def test_cli_sites_rural(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "sites"
    result = runner.invoke(
        app,
        [
            "sites",
            "--demo",
            "--count",
            "2",
            "--densite",
            str(GRID),
            "--rural",
            "candidats-et-demande",
            "--out",
            str(out),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Sites limités aux communes rurales" in result.output
    sites = read_rows(out / "sites.csv")
    assert {r["rural"] for r in sites} == {"True"}
    assert not {r["code"] for r in sites} & URBAN
