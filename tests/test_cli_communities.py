"""Command ``tierslieux communities`` then ``sites`` on the demo territory: an
intercommunality alone is no base community, and no site rests on one."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sites_helpers import read_rows
from tierslieux.cli import app
from tierslieux.pipeline import demo_files

runner = CliRunner()


def _communities(tmp_path: Path, env: dict[str, str], *options: str) -> tuple[int, str, Path]:
    files = demo_files()
    # The same EPCI (SIREN 000000001) as in the zonings, entered by hand a second time.
    actors = tmp_path / "acteurs.csv"
    actors.write_text(
        "nom,categorie,code_commune,identifiant,themes\n"
        "Coop Démo,cae,00108,,ess_cooperation\n"
        "CC du Val (saisie),acteur_developpement,00101,000000001,\n",
        encoding="utf-8",
    )
    out = tmp_path / "communautes"
    result = runner.invoke(
        app,
        [
            "communities",
            "--territory",
            "dep:00",
            "--communes",
            str(files["communes"]),
            "--zonages",
            str(files["zonages"]),
            "--minutes",
            "1",
            "--acteurs",
            str(actors),
            "--offline",
            *options,
            "--out",
            str(out),
        ],
        env=env,
    )
    return result.exit_code, result.output, out


def test_epci_alone_is_no_base_community_and_no_site(tmp_path: Path, env: dict[str, str]) -> None:
    code, output, out = _communities(tmp_path, env)
    assert code == 0, output
    structures = read_rows(out / "structures.csv")
    # One row for the EPCI found in the zonings and in the actors file, both sources kept.
    epci = [r for r in structures if "000000001" in r["identifiant"] + r["identifiants_fusionnes"]]
    assert len(epci) == 1
    assert "INSEE intercommunalités" in epci[0]["sources"]
    assert "Liste d'acteurs fournie (acteurs.csv)" in epci[0]["sources"]
    assert "1 doublon(s) fusionné(s)" in output
    communities = {r["code"]: r for r in read_rows(out / "communities.csv")}
    # 00101: the intercommunality is the only structure in reach: no base community.
    assert communities["00101"]["ouverture"] == "absente"
    assert communities["00101"]["communaute_base"] == "False"
    assert communities["00101"]["partenaires"] == "CC du Val (saisie) (acteur du développement)"
    assert "Partenaires à solliciter" in communities["00101"]["ouverture_raison"]
    assert communities["00108"]["communaute_base"] == "True"
    assert communities["00108"]["structures_communaute"] == "Coop Démo (CAE)"

    # Sites: 00101 carries most of the demand but rests on its EPCI alone: not chosen.
    demand = tmp_path / "d.csv"
    demand.write_text("code,demand\n00101,100\n00102,80\n00108,10\n", encoding="utf-8")
    base = ["sites", "--demo", "--minutes", "1", "--demand", str(demand)]
    base += ["--structures", str(out / "structures.csv")]
    sites_out = tmp_path / "sites"
    result = runner.invoke(app, [*base, "--count", "1", "--out", str(sites_out)], env=env)
    assert result.exit_code == 0, result.output
    (site,) = read_rows(sites_out / "sites.csv")
    assert site["code"] == "00108"
    assert site["structures_communaute"] == "Coop Démo (CAE)"
    assert site["partenaires"] == "CC des Monts-Chimères (FICTIVE) (acteur du développement)"
    assert site["nb_structures_communaute"] == "1"
    page = (sites_out / "sites.html").read_text(encoding="utf-8")
    assert "Coop Démo (CAE)" in page
    # Two sites would need a second base community: infeasible, with the levers named.
    result = runner.invoke(app, [*base, "--count", "2", "--out", str(tmp_path / "x")], env=env)
    assert result.exit_code == 1
    assert "seuls 1 candidats (sur 16) ont une communauté-base" in result.output
    assert "ne suffisent pas seuls" in result.output
    assert "--min-structures" in result.output
    assert "Traceback" not in result.output


def test_questionnaire_group_makes_a_base_community(tmp_path: Path, env: dict[str, str]) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text("groupe,theme,membres,communes\n4,vie:garde,3,00101\n", encoding="utf-8")
    code, output, out = _communities(tmp_path, env, "--groups", str(groups))
    assert code == 0, output
    row = {r["code"]: r for r in read_rows(out / "communities.csv")}["00101"]
    assert row["communaute_base"] == "True"
    assert row["groupes"] == "groupe 4 (3 membres)"
    # One kind (a group) with a partner to call: to widen, not closed.
    assert row["ouverture"] == "a_elargir"
    code, output, out = _communities(tmp_path, env, "--groups", str(groups), "--min-membres", "4")
    assert code == 0, output
    assert {r["code"]: r for r in read_rows(out / "communities.csv")}["00101"][
        "ouverture"
    ] == "absente"


def test_min_structures_zero_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    code, output, _out = _communities(tmp_path, env, "--min-structures", "0")
    assert code == 1
    assert "--min-structures vaut 0 : au moins 1 attendu" in output
    assert "Traceback" not in output


def test_new_site_needs_a_base_community_beside_kept_tiers_lieux(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from sites_helpers import write_cget  # noqa: PLC0415

    code, output, out = _communities(tmp_path, env)
    assert code == 0, output
    places = write_cget(tmp_path / "CGET_TiersLieux_2019.csv", "00101")
    options = ["sites", "--demo", "--minutes", "1", "--themes-libres"]
    options += ["--structures", str(out / "structures.csv"), "--tiers-lieux", str(places)]
    # 00101 is kept (existing tiers-lieu); a second site can only be 00108 (Coop Démo).
    result = runner.invoke(app, [*options, "--count", "2", "--out", str(tmp_path / "s")], env=env)
    assert result.exit_code == 0, result.output
    assert {r["code"] for r in read_rows(tmp_path / "s" / "sites.csv")} == {"00101", "00108"}
    result = runner.invoke(app, [*options, "--count", "3", "--out", str(tmp_path / "t")], env=env)
    assert result.exit_code == 1
    assert "dont 1 tiers-lieux existants imposés : il faut 2 nouveau(x) site(s)" in result.output
    assert "seuls 1 candidat(s) en ont une" in result.output


def test_summary_counts_communes_with_a_base_community(tmp_path: Path, env: dict[str, str]) -> None:
    code, output, _out = _communities(tmp_path, env)
    assert code == 0, output
    assert "1 commune(s) sur 16 avec une communauté-base à portée" in output


def test_rna_alone_without_sirene_nor_places(
    tmp_path: Path, env: dict[str, str], data_dir: Path
) -> None:
    # Bug: the RNA gives no coordinates; alone it crashed with KeyError 'latitude'.
    communes = tmp_path / "communes.csv"
    communes.write_text(
        "code,nom,latitude,longitude\n05179,Veynes,44.53,5.82\n05023,Briançon,44.9,6.64\n",
        encoding="utf-8",
    )
    out = tmp_path / "rna-seule"
    result = runner.invoke(
        app,
        [
            "communities",
            "--territory",
            "dep:05",
            "--communes",
            str(communes),
            "--rna",
            str(data_dir / "rna" / "rna_import_20250901_dpt_05.csv"),
            "--offline",
            "--out",
            str(out),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "inattendue" not in result.output
    rows = read_rows(out / "structures.csv")
    assert rows
    assert all(r["latitude"] and r["position_approchee"] == "True" for r in rows)
