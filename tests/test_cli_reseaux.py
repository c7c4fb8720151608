"""`tierslieux communities` with trade names, everyday-life associations and --reseaux."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from tierslieux.cli import app

runner = CliRunner()


def _args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return [
        "communities",
        "--territory",
        "dep:05",
        "--communes",
        str(data_dir / "communes" / "communes_extrait.csv"),
        "--sirene-etablissements",
        str(data_dir / "sirene" / "StockEtablissement_noms_diffusion.csv"),
        "--sirene-unites-legales",
        str(data_dir / "sirene" / "StockUniteLegale_noms_diffusion.csv"),
        "--rna",
        str(data_dir / "rna" / "rna_waldec_20250901_vie_quotidienne.csv"),
        "--offline",
        "--out",
        str(out),
        *extra,
    ]


def test_communities_with_network_list(data_dir: Path, tmp_path: Path, env) -> None:
    out = tmp_path / "out"
    reseaux = data_dir / "actors" / "reseaux_cae.csv"
    result = runner.invoke(app, _args(data_dir, out, "--reseaux", str(reseaux)), env=env)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # the console wraps long notes
    assert "1 établissement(s) non diffusible(s) écarté(s)" in output
    assert "1 membre(s) sur 3 retrouvé(s)" in output  # Arc-en-Ciel is in 04
    structures = pd.read_csv(out / "structures.csv", dtype=str)
    assert "900000029" not in set(structures["siren"].dropna())  # legal unit P
    by_siren = structures.set_index("siren")
    assert by_siren.loc["900000026", "categorie"] == "cae"  # brand name, listed by SIREN
    assert "Coopérer pour entreprendre" in by_siren.loc["900000026", "raison"]
    assert by_siren.loc["900000028", "categorie"] == "tiers_lieu_existant"
    assert "COWORKING DU GUIL" in by_siren.loc["900000028", "noms_connus"]
    counts = structures["categorie"].value_counts().to_dict()
    assert counts["association_vie_quotidienne"] == 8
    assert counts["cae"] == 2


def test_bad_network_list_is_refused_with_lines(data_dir: Path, tmp_path: Path, env) -> None:
    bad = data_dir / "actors" / "reseaux_invalide.csv"
    result = runner.invoke(app, _args(data_dir, tmp_path / "out", "--reseaux", str(bad)), env=env)
    assert result.exit_code != 0
    output = " ".join(result.output.split())
    assert "Traceback" not in output
    assert "ligne 2 : SIREN « 12345 » invalide" in output
    assert "ligne 3" in output
    assert "ligne 4" in output
