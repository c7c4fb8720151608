"""Command ``tierslieux sites`` end to end on the fictional demo territory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sites_helpers import read_rows, write_cget
from tierslieux.cli import app

runner = CliRunner()


def test_demo_sites(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "sites"
    result = runner.invoke(app, ["sites", "--demo", "--count", "2", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "HiGHS" in result.output
    sites = read_rows(out / "sites.csv")
    assert len(sites) == 2
    assert list(sites[0])[:7] == [
        "rang",
        "code",
        "nom",
        "valeur",
        "gain_marginal",
        "theme",
        "communaute_base",
    ]
    assert len(read_rows(out / "alternatives.csv")) == 2
    sensitivity = read_rows(out / "sensitivity.csv")
    assert {(r["minutes"], r["nb_sites"]) for r in sensitivity} >= {
        ("15.0", "2"),
        ("20.0", "2"),
        ("30.0", "2"),
        ("20.0", "1"),
        ("20.0", "3"),
    }
    assert read_rows(out / "coverage.csv")
    page = (out / "sites.html").read_text(encoding="utf-8")
    assert "<svg" in page
    assert "FICTIF" in page
    assert "Comment lire ce résultat" in page
    assert "pourquoi ici et pas là" in page


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
    sites = read_rows(out / "sites.csv")
    assert all(r["communaute_base"] == "structures" for r in sites)
    assert len({r["theme"] for r in sites}) == 2
    # Who makes each site's base community: the step-1, 2, 4 structures of its
    # catchment, by name and category (French labels, no longer the codes).
    named = " ".join(r["structures_communaute"] for r in sites)
    assert "Coop A (CAE)" in named
    assert "Asso B (association télé-activités)" in named
    assert "Gare" not in named  # a point d'appui is not one of steps 1, 2, 4


def test_too_many_distinct_themes_is_one_line_error(tmp_path: Path, env: dict[str, str]) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\ns1,Coop A,cae,culture,00101\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "sites",
            "--demo",
            "--count",
            "3",
            "--structures",
            str(structures),
            "--out",
            str(tmp_path / "x"),
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
            "sites",
            "--demo",
            "--count",
            "1",
            "--objective",
            "co2",
            "--demand",
            str(demand),
            "--out",
            str(out),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "CO₂" in result.output
    assert read_rows(out / "sites.csv")


# --------------------------------------------------------------------------------------
# Existing tiers-lieux, minimum per intercommunality, theme rule switch
# --------------------------------------------------------------------------------------


def _demand(path: Path, values: dict[str, float]) -> Path:
    body = "".join(f"{c},{v}\n" for c, v in values.items())
    path.write_text("code,demand\n" + body, encoding="utf-8")
    return path


def _sites(tmp_path: Path, env: dict[str, str], *options: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    result = runner.invoke(app, ["sites", "--demo", *options, "--out", str(out)], env=env)
    return result.exit_code, result.output, out


# Demand on three communes only, 1-minute catchments: each site covers its own commune,
# so the optimum is read off by hand.  00101 and 00102 are in EPCI 000000001, 00108 in
# EPCI 000000002 (src/tierslieux/data/demo/zonages_fictifs.csv).
_HAND = {"00101": 100.0, "00102": 80.0, "00108": 10.0}


def test_existing_tiers_lieu_kept_is_a_fixed_site_counted_in_k(
    tmp_path: Path, env: dict[str, str]
) -> None:
    demand = _demand(tmp_path / "d.csv", _HAND)
    places = write_cget(tmp_path / "CGET_TiersLieux_2019.csv", "00108", "00108")
    code, output, out = _sites(
        tmp_path,
        env,
        "--count",
        "2",
        "--minutes",
        "1",
        "--demand",
        str(demand),
        "--tiers-lieux",
        str(places),
    )
    assert code == 0, output
    sites = read_rows(out / "sites.csv")
    # Two places in one commune: one fixed site, the other slot goes to the best commune.
    assert {r["code"] for r in sites} == {"00108", "00101"}
    fixed = [r for r in sites if r["impose"] == "True"]
    assert [r["code"] for r in fixed] == ["00108"]
    assert fixed[0]["tiers_lieux_existants"] == "Lieu Test 1 ; Lieu Test 2"
    assert "2 lieu(x) dans 1 commune(s)" in output
    alternatives = read_rows(out / "alternatives.csv")
    assert any("existant" in r["message"] for r in alternatives)
    page = (out / "sites.html").read_text(encoding="utf-8")
    assert "<td>oui</td>" in page  # booleans in words, shares as percentages
    assert "True" not in page
    assert "\u202f%</td>" in page


def test_existing_tiers_lieux_more_than_k_is_explained(tmp_path: Path, env: dict[str, str]) -> None:
    places = write_cget(tmp_path / "tl.csv", "00101", "00102", "00108")
    code, output, out = _sites(tmp_path, env, "--count", "2", "--tiers-lieux", str(places))
    assert code == 1
    assert "3 communes du territoire ont déjà un tiers-lieu" in output
    assert "--tiers-lieux-mode exclure" in output
    assert not out.exists()


def test_existing_tiers_lieu_excluded_and_its_demand_not_counted(
    tmp_path: Path, env: dict[str, str]
) -> None:
    demand = _demand(tmp_path / "d.csv", _HAND)
    places = write_cget(tmp_path / "tl.csv", "00101")
    code, output, out = _sites(
        tmp_path,
        env,
        "--count",
        "1",
        "--minutes",
        "1",
        "--demand",
        str(demand),
        "--tiers-lieux",
        str(places),
        "--tiers-lieux-mode",
        "exclure",
    )
    assert code == 0, output
    sites = read_rows(out / "sites.csv")
    assert [r["code"] for r in sites] == ["00102"]
    assert float(sites[0]["valeur"]) == pytest.approx(80.0)
    # A wide exclusion radius leaves no candidate near Bourg-Fictif: explained.
    code, output, _out = _sites(
        tmp_path,
        env,
        "--count",
        "16",
        "--tiers-lieux",
        str(places),
        "--tiers-lieux-mode",
        "exclure",
        "--exclusion-minutes",
        "60",
    )
    assert code == 1
    assert "--exclusion-minutes" in output
    assert "Traceback" not in output


def test_existing_tiers_lieux_found_in_data_dir(tmp_path: Path) -> None:
    from tierslieux.config import Settings  # noqa: PLC0415
    from tierslieux.pipeline import demo_files  # noqa: PLC0415
    from tierslieux.pipeline.sites import SitesRequest, run_sites  # noqa: PLC0415

    data = tmp_path / "data"
    data.mkdir()
    write_cget(data / "CGET_TiersLieux_2019.csv", "00108")
    demand = _demand(tmp_path / "d.csv", _HAND)
    settings = Settings(data_dir=data, cache_dir=tmp_path / "cache", offline=True)
    files = demo_files()
    request = SitesRequest(
        territory="dep:00",
        count=2,
        minutes=1,
        demand=demand,
        communes=(files["communes"],),
        zonages=files["zonages"],
    )
    result = run_sites(settings, request)
    assert set(result.sites["code"]) == {"00101", "00108"}
    assert result.sites.set_index("code").loc["00108", "impose"]
    assert any("CGET_TiersLieux_2019.csv" in n for n in result.notes)


def test_min_per_epci(tmp_path: Path, env: dict[str, str]) -> None:
    demand = _demand(tmp_path / "d.csv", _HAND)
    base = ["--count", "2", "--minutes", "1", "--demand", str(demand)]
    code, output, out = _sites(tmp_path, env, *base)
    assert code == 0, output
    assert {r["code"] for r in read_rows(out / "sites.csv")} == {"00101", "00102"}
    code, output, out = _sites(tmp_path, env, *base, "--min-par-epci", "1")
    assert code == 0, output
    sites = read_rows(out / "sites.csv")
    assert {r["code"] for r in sites} == {"00101", "00108"}
    assert {r["intercommunalite"] for r in sites} == {
        "CC du Val-d'Exemple (FICTIVE) (000000001)",
        "CC des Monts-Chimères (FICTIVE) (000000002)",
    }
    code, output, out = _sites(tmp_path, env, "--count", "3", "--min-par-epci", "2")
    assert code == 1
    assert "2 intercommunalités du territoire en exigent 4" in output
    assert "--min-par-epci" in output


def test_theme_rule_switch(tmp_path: Path, env: dict[str, str]) -> None:
    # Both structures carry one theme: two sites with different themes are impossible
    # unless the rule is switched off.
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\n"
        "s1,Coop A,cae,culture,00101\n"
        "s2,Coop B,cae,culture,00108\n",
        encoding="utf-8",
    )
    base = ["--count", "2", "--structures", str(structures)]
    code, output, _out = _sites(tmp_path, env, *base)
    assert code == 1
    assert "thèmes différents" in output
    code, output, out = _sites(tmp_path, env, *base, "--themes-libres")
    assert code == 0, output
    sites = read_rows(out / "sites.csv")
    assert len(sites) == 2
    assert {r["theme"] for r in sites} == {"culture"}
    assert all(r["communaute_base"] == "structures" for r in sites)
    code, output, _out = _sites(tmp_path, env, *base, "--themes-differents")
    assert code == 1


def test_kept_tiers_lieu_takes_no_theme_from_new_sites(tmp_path: Path, env: dict[str, str]) -> None:
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\ns1,Coop A,cae,culture,00108\n",
        encoding="utf-8",
    )
    places = write_cget(tmp_path / "tl.csv", "00101")
    code, output, out = _sites(
        tmp_path,
        env,
        "--count",
        "2",
        "--structures",
        str(structures),
        "--tiers-lieux",
        str(places),
    )
    assert code == 0, output
    sites = {r["code"]: r for r in read_rows(out / "sites.csv")}
    assert sites["00101"]["impose"] == "True"
    assert sites["00101"]["theme"] == "tiers-lieu existant (00101)"
    other = next(r for c, r in sites.items() if c != "00101")
    assert other["theme"] == "culture"


@pytest.mark.usefixtures("cli_labels")
def test_min_per_epci_without_zonages_is_explained(tmp_path: Path) -> None:
    from tierslieux.config import Settings  # noqa: PLC0415
    from tierslieux.errors import SchemaError  # noqa: PLC0415
    from tierslieux.pipeline import demo_files  # noqa: PLC0415
    from tierslieux.pipeline.sites import SitesRequest, run_sites  # noqa: PLC0415

    demand = _demand(tmp_path / "d.csv", _HAND)
    settings = Settings(cache_dir=tmp_path / "cache", offline=True)
    request = SitesRequest(
        territory="dep:00",
        count=2,
        demand=demand,
        communes=(demo_files()["communes"],),
        min_per_epci=1,
    )
    with pytest.raises(SchemaError, match="--zonages"):
        run_sites(settings, request)


def _groups(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


# Columns as written by ``tierslieux survey analyse`` (groups.csv); 1-minute catchments,
# so a group is a base community only of the communes where its members live.
_GROUPS = (
    "groupe,theme,membres,communes,noms_communes\n"
    "1,partage:temps,3,00101,Bourg\n"
    "2,partage:temps,4,00102,Val\n"
    "3,secteur:tic,3,00108,Ville\n"
)


def test_questionnaire_groups_are_base_communities(tmp_path: Path, env: dict[str, str]) -> None:
    demand = _demand(tmp_path / "d.csv", _HAND)
    groups = _groups(tmp_path / "groups.csv", _GROUPS)
    base = ["--minutes", "1", "--demand", str(demand), "--groups", str(groups)]
    # Unconstrained optimum {00101, 00102} = 180; both carry partage:temps, so with
    # distinct themes the best is 00101 + 00108 = 110 (00102 + 00108 = 90).
    code, output, out = _sites(tmp_path, env, "--count", "2", *base)
    assert code == 0, output
    sites = {r["code"]: r for r in read_rows(out / "sites.csv")}
    assert set(sites) == {"00101", "00108"}
    assert sites["00101"]["communaute_base"] == "groupe 1"
    assert sites["00108"]["communaute_base"] == "groupe 3"
    assert sites["00108"]["theme"] == "secteur:tic"
    code, output, out = _sites(tmp_path, env, "--count", "2", *base, "--themes-libres")
    assert code == 0, output
    assert {r["code"] for r in read_rows(out / "sites.csv")} == {"00101", "00102"}
    # At least 4 members: only group 2 (00102) remains.
    code, output, out = _sites(tmp_path, env, "--count", "1", *base, "--min-membres", "4")
    assert code == 0, output
    assert [r["code"] for r in read_rows(out / "sites.csv")] == ["00102"]


def test_groups_and_structures_together(tmp_path: Path, env: dict[str, str]) -> None:
    demand = _demand(tmp_path / "d.csv", _HAND)
    groups = _groups(
        tmp_path / "groups.csv",
        "groupe,theme,membres,communes\n2,partage:temps,4,00102\n3,secteur:tic,3,00108\n",
    )
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "identifiant,nom,categorie,themes,code_commune\ns1,Coop A,cae,culture,00102\n",
        encoding="utf-8",
    )
    code, output, out = _sites(
        tmp_path,
        env,
        "--count",
        "2",
        "--minutes",
        "1",
        "--demand",
        str(demand),
        "--groups",
        str(groups),
        "--structures",
        str(structures),
    )
    assert code == 0, output
    sites = {r["code"]: r for r in read_rows(out / "sites.csv")}
    assert set(sites) == {"00102", "00108"}
    assert sites["00102"]["communaute_base"] == "structures ; groupe 2"
    assert sites["00102"]["themes_disponibles"] == "culture;partage:temps"


def test_group_members_counted_per_commune(tmp_path: Path, env: dict[str, str]) -> None:
    demand = _demand(tmp_path / "d.csv", _HAND)
    base = ["--count", "1", "--minutes", "1", "--demand", str(demand)]
    # 5 members over 00101 and 00108: without the split, only a lower bound of one
    # member per commune is known, below 3: no base community anywhere.
    groups = _groups(
        tmp_path / "g.csv", "groupe,theme,membres,communes\n7,vie:garde,5,00101;00108\n"
    )
    code, output, _out = _sites(tmp_path, env, *base, "--groups", str(groups))
    assert code == 1
    assert "Traceback" not in output
    split = _groups(
        tmp_path / "g2.csv",
        "groupe,theme,membres,communes,membres_par_commune\n"
        "7,vie:garde,5,00101;00108,00101:1;00108:4\n",
    )
    code, output, out = _sites(tmp_path, env, *base, "--groups", str(split))
    assert code == 0, output
    assert [(r["code"], r["communaute_base"]) for r in read_rows(out / "sites.csv")] == [
        ("00108", "groupe 7")
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("groupe,theme,membres\n1,a,3\n", "colonne(s) communes manquante(s)"),
        ("groupe,theme,membres,communes\n1,a,3,00101\n2,b,3,0010X\n", "ligne 3"),
        ("groupe,theme,membres,communes\n1,a,trois,00101\n", "nombre de membres"),
        ("groupe,theme,membres,communes\n,a,3,00101\n", "identifiant de groupe vide"),
    ],
)
def test_bad_groups_file_is_explained(
    tmp_path: Path, env: dict[str, str], body: str, expected: str
) -> None:
    groups = _groups(tmp_path / "groups.csv", body)
    code, output, out = _sites(tmp_path, env, "--count", "1", "--groups", str(groups))
    assert code == 1
    assert expected in output
    assert "groups.csv" in output
    assert "Traceback" not in output
    assert not out.exists()
