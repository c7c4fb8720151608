"""``tierslieux sites`` with candidate places, questionnaire respondents as demand, and
the per-flow CO₂ rule in ``exclure`` mode (demo territory, hand-checked optima)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sites_helpers import write_cget
from tierslieux.cli import app
from tierslieux.config import Settings
from tierslieux.errors import SchemaError
from tierslieux.pipeline import demo_files
from tierslieux.pipeline.sites import SitesRequest, run_sites
from tierslieux.sources.communes import load_communes

runner = CliRunner()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(offline=True, cache_dir=tmp_path / "cache")


def _centres() -> dict[str, tuple[float, float]]:
    table = load_communes(demo_files()["communes"]).table
    return {
        str(c): (float(lat), float(lon))
        for c, lat, lon in zip(table["code"], table["latitude"], table["longitude"], strict=True)
    }


def _places(
    path: Path, rows: list[str], header: str = "identifiant,nom,latitude,longitude"
) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _at_every_centre(path: Path) -> Path:
    rows = [f"P{code},Lieu {code},{lat},{lon}" for code, (lat, lon) in _centres().items()]
    return _places(path, rows)


@pytest.mark.parametrize("objective", ["couverture", "co2"])
def test_places_at_commune_centres_give_the_commune_optimum(
    tmp_path: Path, settings: Settings, objective: str
) -> None:
    base = SitesRequest(territory="france", count=2, objective=objective, demo=True)
    by_commune = run_sites(settings, base)
    places = _at_every_centre(tmp_path / "lieux.csv")
    by_place = run_sites(settings, replace(base, candidates=places))
    assert by_place.result.objective == pytest.approx(by_commune.result.objective)
    chosen = {f"P{c}" for c in by_commune.sites["code"]}
    assert set(by_place.sites["code"]) == chosen
    # Each place lies in the commune whose centre it stands on.
    assert list(by_place.sites["code_commune"]) == [c[1:] for c in by_place.sites["code"]]
    assert set(by_place.coverage["code_site"]) == chosen


def test_place_without_commune_goes_to_the_nearest_centre(
    tmp_path: Path, settings: Settings
) -> None:
    lat, lon = _centres()["00108"]
    places = _places(tmp_path / "lieux.csv", [f"G,Gare,{lat + 0.004},{lon - 0.003}"])
    res = run_sites(
        settings, SitesRequest(territory="france", count=1, demo=True, candidates=places)
    )
    assert list(res.sites["code"]) == ["G"]
    assert list(res.sites["code_commune"]) == ["00108"]
    assert any("1 rattaché(s) à la commune" in n for n in res.notes)
    # Its coverage is the communes within 20 minutes of its own coordinates.
    assert "00108" in set(res.coverage["code_commune"])


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("F,Loin,48.85,2.35", "ligne 2 : à plus de 30 km de toute commune du territoire"),
        ("00101,Homonyme,44.63,5.845", "« 00101 » est aussi un code commune"),
    ],
)
def test_bad_places_are_explained(
    tmp_path: Path, settings: Settings, row: str, expected: str
) -> None:
    places = _places(tmp_path / "lieux.csv", [row])
    with pytest.raises(SchemaError) as error:
        run_sites(settings, SitesRequest(territory="france", count=1, demo=True, candidates=places))
    assert expected in str(error.value)


def test_place_in_a_commune_outside_the_territory(tmp_path: Path, settings: Settings) -> None:
    places = _places(tmp_path / "lieux.csv", ["A,Ailleurs,05061"], "identifiant,nom,code_commune")
    with pytest.raises(SchemaError) as error:
        run_sites(settings, SitesRequest(territory="france", count=1, demo=True, candidates=places))
    assert "commune 05061 hors du territoire" in str(error.value)


def test_places_with_an_imported_matrix_take_their_commune_times(
    tmp_path: Path, settings: Settings
) -> None:
    # Two places in 00101 and 00108; 00101 reaches 00102 in 5 min, 00108 nothing else.
    matrix = tmp_path / "tt.csv"
    matrix.write_text("origin,destination,minutes\n00101,00102,5\n00108,00103,45\n")
    demand = tmp_path / "d.csv"
    demand.write_text("code,demand\n00101,100\n00102,80\n00108,150\n00103,500\n")
    places = _places(
        tmp_path / "lieux.csv", ["A,Mairie,00101", "B,Gare,00108"], "identifiant,nom,code_commune"
    )
    res = run_sites(
        settings,
        SitesRequest(
            territory="france",
            count=1,
            demo=True,
            candidates=places,
            travel_times=matrix,
            demand=demand,
        ),
    )
    # A covers 00101 + 00102 = 180 > B's 150 (00103 is 45 min away).
    assert list(res.sites["code"]) == ["A"]
    assert res.result.objective == pytest.approx(180.0)


def test_kept_tiers_lieu_is_added_to_the_places(tmp_path: Path, settings: Settings) -> None:
    places = _places(
        tmp_path / "lieux.csv", ["A,Mairie,00101", "B,Gare,00102"], "identifiant,nom,code_commune"
    )
    tl = write_cget(tmp_path / "tl.csv", "00108")
    res = run_sites(
        settings,
        SitesRequest(territory="france", count=2, demo=True, candidates=places, tiers_lieux=tl),
    )
    fixed = res.sites[res.sites["impose"]]
    assert list(fixed["code"]) == ["00108"]
    assert len(res.sites) == 2
    assert set(res.sites["code"]) - {"00108"} <= {"A", "B"}


def test_respondents_add_to_the_demand_of_their_commune(tmp_path: Path, settings: Settings) -> None:
    demand = tmp_path / "d.csv"
    demand.write_text("code,demand\n00101,10\n00108,12\n")
    respondents = tmp_path / "respondents.csv"
    respondents.write_text(
        "repondant,commune,score\n1,00101,0.8\n2,00101,0.5\n3,00101,0.9\n4,,0.1\n5,05061,0.3\n"
    )
    base = SitesRequest(territory="france", count=1, minutes=1.0, demo=True, demand=demand)
    alone = run_sites(settings, base)
    assert list(alone.sites["code"]) == ["00108"]
    both = run_sites(settings, replace(base, respondents=respondents))
    # 10 + 3 respondents = 13 > 12: the choice flips to 00101.
    assert list(both.sites["code"]) == ["00101"]
    assert both.result.objective == pytest.approx(13.0)
    assert any("3 ajoutés" in n and "2 hors du territoire" in n for n in both.notes)


def test_bad_respondents_file(tmp_path: Path, settings: Settings) -> None:
    respondents = tmp_path / "respondents.csv"
    respondents.write_text("repondant,commune\n1,00101\n2,Gap\n")
    with pytest.raises(SchemaError) as error:
        run_sites(
            settings,
            SitesRequest(territory="france", count=1, demo=True, respondents=respondents),
        )
    assert "ligne 3" in str(error.value)
    assert "« Gap »" in str(error.value)


def test_co2_flows_near_an_excluded_tiers_lieu_gain_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    base = SitesRequest(territory="france", count=1, objective="co2", demo=True)
    free = run_sites(settings, base)
    assert list(free.sites["code"]) == ["00101"]
    # An existing place in Val-d'Exemple (00102), next to Bourg-Fictif (00101); the
    # 1-minute exclusion radius leaves 00101 open as a candidate.
    tl = write_cget(tmp_path / "tl.csv", "00102")
    excluded = run_sites(
        settings, replace(base, tiers_lieux=tl, tiers_lieux_mode="exclure", exclusion_minutes=1.0)
    )
    # Commuters living within 20 minutes of 00102 (Bourg-Fictif's residents among them)
    # are served already: 00101 loses its gain and the optimum moves elsewhere.
    assert list(excluded.sites["code"]) != ["00101"]
    assert excluded.result.objective < free.result.objective


def test_cli_places_and_map_markers(tmp_path: Path) -> None:
    places = _at_every_centre(tmp_path / "lieux.csv")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["sites", "--demo", "--count", "2", "--candidats", str(places), "--out", str(out)],
        env={"TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    with (out / "sites.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(r["code"].startswith("P") for r in rows)
    page = (out / "sites.html").read_text(encoding="utf-8")
    assert page.count('class="repere"') == 2
    assert "Site 1 : Lieu" in page


def test_co2_flows_to_unknown_communes_are_dropped_and_coverage_sums_to_objective(
    tmp_path: Path, settings: Settings
) -> None:
    base = SitesRequest(territory="france", count=2, objective="co2", demo=True)
    run_sites(settings, base)  # writes the demo's synthetic MOBPRO into the cache
    demo = next((settings.cache_dir / "demo").glob("*MOBPRO*.csv"))
    lines = demo.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    dclt = header.index("DCLT")
    changed = []
    for number, line in enumerate(lines[1:], start=1):
        cells = line.split(";")
        if number % 7 == 0 and cells[dclt] not in {"ZZZZZ", cells[header.index("COMMUNE")]}:
            cells[dclt] = "13055"  # Marseille: absent from the demo's communes file
        changed.append(";".join(cells))
    mobpro = tmp_path / "FD_MOBPRO_2021_X.csv"
    mobpro.write_text("\n".join([lines[0], *changed]) + "\n", encoding="utf-8")
    res = run_sites(settings, replace(base, mobpro=mobpro))
    assert any("vers des communes absentes" in n and "13055" in n for n in res.notes)
    # coverage.csv lists the flows that use each site: its gains sum to the objective.
    assert res.coverage["demande"].sum() == pytest.approx(res.result.objective)
    assert set(res.coverage["code_site"]) <= set(res.sites["code"])
    assert (res.coverage["navetteurs"] > 0).all()


def test_demand_file_duplicates_and_unknown_codes(tmp_path: Path, settings: Settings) -> None:
    demand = tmp_path / "d.csv"
    base = SitesRequest(territory="france", count=1, demo=True, demand=demand)
    demand.write_text("code,demand\n00101,10\n00101,12\n")
    with pytest.raises(SchemaError, match="code\\(s\\) en double : 00101"):
        run_sites(settings, base)
    demand.write_text("code,demand\n101,10\n99999,12\n")
    with pytest.raises(SchemaError, match="aucun code ne désigne une commune du territoire"):
        run_sites(settings, base)
    demand.write_text("code,demand\n00101,10\n99999,12\n")
    res = run_sites(settings, base)
    assert any("1 code(s) hors du territoire ignoré(s) : 99999" in n for n in res.notes)


@pytest.mark.usefixtures("cli_labels")
def test_user_terms_for_impossible_requests(tmp_path: Path, settings: Settings) -> None:
    from tierslieux.errors import InfeasibleError  # noqa: PLC0415

    base = SitesRequest(territory="france", count=20, demo=True)
    with pytest.raises(InfeasibleError, match="il n'y a que 16 candidats"):
        run_sites(settings, base)
    with pytest.raises(SchemaError, match="--time-limit"):
        run_sites(settings, replace(base, count=1, time_limit=-1.0))
    res = run_sites(settings, replace(base, count=1, tiers_lieux_mode="exclure"))
    assert any("aucun lieu n'est exclu" in n for n in res.notes)
    structures = tmp_path / "s.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\ns1,Coop,cae,tic,00101\n"
        "s2,Asso,association_teleactivites,culture,00108\n"
    )
    with pytest.raises(InfeasibleError) as error:
        run_sites(settings, replace(base, count=3, structures=structures))
    assert "--themes-libres" in str(error.value)
    assert "--min-structures" in str(error.value)


def test_excluded_tiers_lieu_just_outside_the_territory_counts(
    tmp_path: Path, settings: Settings
) -> None:
    # Territory: every demo commune but Bourg-Fictif (00101), which hosts a tiers-lieu.
    listed = tmp_path / "communes.txt"
    listed.write_text("\n".join(c for c in _centres() if c != "00101") + "\n")
    base = SitesRequest(territory=f"communes:{listed}", count=1, demo=True)
    free = run_sites(settings, base)
    tl = write_cget(tmp_path / "tl.csv", "00101")
    excluded = run_sites(settings, replace(base, tiers_lieux=tl, tiers_lieux_mode="exclure"))
    assert any("1 lieu(x) juste hors du territoire" in n for n in excluded.notes)
    # Bourg-Fictif's neighbours (within 20 minutes) get no site and their demand is served.
    from tierslieux.analysis.traveltime import StraightLineEngine  # noqa: PLC0415

    centres = pd.DataFrame(
        [(c, lat, lon) for c, (lat, lon) in _centres().items()],
        columns=["code", "latitude", "longitude"],
    )
    pairs = StraightLineEngine().within(centres[centres["code"] == "00101"], centres, 20.0)
    near = set(pairs["destination"]) - {"00101"}
    assert near
    assert excluded.result.total_demand < free.result.total_demand
    many = run_sites(settings, replace(base, count=4, tiers_lieux=tl, tiers_lieux_mode="exclure"))
    assert not set(many.sites["code"]) & near


def test_structures_file_without_required_columns(tmp_path: Path, settings: Settings) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text("identifiant,nom\ns1,Coop\n")
    with pytest.raises(SchemaError) as error:
        run_sites(
            settings, SitesRequest(territory="france", count=1, demo=True, structures=structures)
        )
    assert "categorie, themes, code_commune manquante(s)" in str(error.value)
    assert str(structures) in str(error.value)


def test_tiers_lieux_note_names_the_file_not_its_server_path(
    tmp_path: Path, settings: Settings
) -> None:
    tl = write_cget(tmp_path / "CGET_TiersLieux_2019.csv", "00108")
    base = SitesRequest(territory="france", count=2, demo=True, tiers_lieux=tl)
    kept = run_sites(settings, base)
    note = next(n for n in kept.notes if n.startswith("Tiers-lieux existants"))
    assert "(CGET_TiersLieux_2019.csv)" in note
    assert str(tmp_path) not in " ".join(kept.notes)
    assert "1 lieu(x) dans 1 commune(s)" in note


def test_no_tiers_lieu_in_the_territory_is_said_plainly(tmp_path: Path, settings: Settings) -> None:
    # A census with no place in the territory: no « 0 lieu(x) … gardées comme sites imposés ».
    tl = write_cget(tmp_path / "tl.csv", "99999")
    res = run_sites(settings, SitesRequest(territory="france", count=2, demo=True, tiers_lieux=tl))
    note = next(n for n in res.notes if n.startswith("Tiers-lieux existants"))
    assert "aucun lieu dans le territoire" in note
    assert "0 lieu(x)" not in note
    assert not res.sites["impose"].any()
