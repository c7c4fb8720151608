"""``tierslieux survey``: import, export, analyse and forget, end to end."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tierslieux.cli import app

SURVEY = Path(__file__).resolve().parent / "data" / "survey"
MAPPING = str(SURVEY / "correspondance.yaml")
COMMUNES = str(SURVEY / "communes_enquete.csv")
runner = CliRunner()


@pytest.fixture
def env(store_env: dict[str, str]) -> dict[str, str | None]:
    """This module's CLI runs have a store of their own (tests/conftest.py)."""
    return {**store_env}


def run(env: dict[str, str | None], *args: str) -> Result:
    return runner.invoke(app, ["survey", *args], env=env)


def _import(env: dict[str, str | None], name: str) -> Result:
    return run(env, "import", str(SURVEY / name), "--mapping", MAPPING, "--communes", COMMUNES)


def test_import_analyse_export_forget(env: dict[str, str | None], tmp_path: Path) -> None:
    result = _import(env, "reponses_valides.csv")
    assert result.exit_code == 0, result.output
    assert "6 réponse(s) lue(s)" in result.stdout
    assert "6 enregistrée(s), 0 ligne(s) rejetée(s)" in result.stdout
    result = _import(env, "reponses_adverses.csv")
    assert result.exit_code == 0, result.output
    assert (
        "ligne 3, colonne « Commune de résidence » (commune_residence) : « Atlantis » n'est pas"
        in result.stderr
    )
    assert "4 enregistrée(s), 6 ligne(s) rejetée(s)" in result.stdout
    assert "valeur impossible : -5 minutes" in result.stderr  # optional: dropped, noted

    out = tmp_path / "analyse"
    result = run(env, "analyse", "--territory", "dep:05", "--communes", COMMUNES, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "10 répondant(s)" in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".tierslieux-fichiers.json",
        "answer_counts.csv",
        "comments.csv",
        "groups.csv",
        "questions.csv",
        "respondents.csv",
        "survey.html",
        "survey_communes.csv",
        "survey_communes.geojson",
        "typology.csv",
    ]
    with (out / "respondents.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10
    assert all(r["repondant"].startswith("R0") for r in rows)
    assert "commentaire" not in rows[0]
    with (out / "typology.csv").open(encoding="utf-8") as handle:
        typology = {r["indicateur"]: r for r in csv.DictReader(handle)}
    assert typology["part_hommes"]["repondants"] == "5"
    with (out / "groups.csv").open(encoding="utf-8") as handle:
        groups = list(csv.DictReader(handle))
    assert groups
    assert "repondants" not in groups[0]
    page = (out / "survey.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "Communautés-base candidates" in page
    assert html.escape("Coop-connect, pré-étude « Tiers-lieux ruraux en PACA »") in page

    export = tmp_path / "export.csv"
    result = run(env, "export", "--out", str(export), "--avec-identifiants")
    assert result.exit_code == 0, result.output
    with export.open(encoding="utf-8", newline="") as handle:
        ids = [r["repondant"] for r in csv.DictReader(handle, delimiter=";")]
    assert len(ids) == 10
    result = run(env, "forget", ids[0])
    assert result.exit_code == 0, result.output
    assert "1 répondant(s) effacé(s)" in result.stdout
    result = run(env, "export", "--out", str(export), "--avec-identifiants")
    assert ids[0] not in export.read_text(encoding="utf-8")
    result = run(env, "forget", ids[0])
    assert result.exit_code == 1
    assert "Aucun répondant" in result.stderr


def test_errors_are_one_line(env: dict[str, str | None]) -> None:
    result = _import(env, "reponses_tabulations.csv")
    assert result.exit_code == 1
    assert "aucun séparateur de colonnes reconnu" in result.stderr
    assert "Traceback" not in result.output
    result = run(env, "analyse", "--out", "x")
    assert result.exit_code == 1
    assert "--territory" in result.stderr


def test_analyse_without_respondents_is_explained(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    result = run(env, "analyse", "--demo", "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "Aucun répondant" in result.stderr
    # The same message reaches the web's dossier page: it names the web's ways to
    # collect answers, not the command alone (audit of the integrated build).
    said = " ".join(result.stderr.split())
    assert "campagne en ligne" in said
    assert "écran « Questionnaire »" in said
    assert not (tmp_path / "o").exists()


def test_purge_follows_the_retention_setting(env: dict[str, str | None]) -> None:
    assert _import(env, "reponses_latin1.csv").exit_code == 0
    result = run(env, "purge")
    assert result.exit_code == 0, result.output
    assert (
        "0 répondant(s) importé(s) effacé(s) (consentement de plus de 730 jours)" in result.stdout
    )
    result = run({**env, "TIERSLIEUX_SURVEY_RETENTION_DAYS": "1"}, "purge")
    assert "2 répondant(s) importé(s) effacé(s)" in result.stdout


def test_html_escapes_names_from_input_files(env: dict[str, str | None], tmp_path: Path) -> None:
    communes = tmp_path / "communes.csv"
    text = (SURVEY / "communes_enquete.csv").read_text(encoding="utf-8")
    communes.write_text(
        text.replace("Pelleautier", "<script>alert(1)</script>Pelleautier"), encoding="utf-8"
    )
    answers = tmp_path / "reponses.csv"
    answers.write_text(
        (SURVEY / "reponses_valides.csv")
        .read_text(encoding="utf-8")
        .replace(",Pelleautier,", ",05101,"),
        encoding="utf-8",
    )
    base = ["--communes", str(communes)]
    result = run(env, "import", str(answers), "--mapping", MAPPING, *base)
    assert result.exit_code == 0, result.output
    out = tmp_path / "o"
    result = run(env, "analyse", "--territory", "dep:05", *base, "--out", str(out))
    assert result.exit_code == 0, result.output
    page = (out / "survey.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Pelleautier" in page


def _typology(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {r["indicateur"]: r for r in csv.DictReader(handle)}


def test_analyse_with_sites_measures_distance_to_the_space(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    assert _import(env, "reponses_valides.csv").exit_code == 0
    base = ["analyse", "--territory", "dep:05", "--communes", COMMUNES]
    out = tmp_path / "sans"
    result = run(env, *base, "--out", str(out))
    assert result.exit_code == 0, result.output
    row = _typology(out / "typology.csv")["part_loin_du_site"]
    assert row["remarque"] == "non calculé : aucun site fourni"
    assert row["part"] == ""

    # One site in Gap (05061); the only time given is Pelleautier -> Gap, 15 minutes.
    # The six respondents live in 05061 (a), 05101 (b), 05123, 05179, 05023, 05085:
    # a and b are within 20 minutes, the four others are farther.
    sites = tmp_path / "sites.csv"
    sites.write_text("code\n05061\n", encoding="utf-8")  # a single column is enough
    times = tmp_path / "times.csv"
    times.write_text("origin,destination,minutes\n05101,05061,15\n", encoding="utf-8")
    out = tmp_path / "avec"
    result = run(env, *base, "--sites", str(sites), "--travel-times", str(times), "--out", str(out))
    assert result.exit_code == 0, result.output
    row = _typology(out / "typology.csv")["part_loin_du_site"]
    assert (row["effectif"], row["repondants"]) == ("4", "6")
    assert float(row["part"]) == pytest.approx(4 / 6, abs=1e-4)
    assert row["reference"] == ""
    assert row["reference_texte"] == "majorité (non chiffrée par l'étude)"
    assert row["comparaison"] == "qualitative"
    page = (out / "survey.html").read_text(encoding="utf-8")
    assert html.escape("Habite à plus de 20 minutes de l'espace de coworking") in page
    assert html.escape("majorité (non chiffrée par l'étude)") in page
    assert "comparaison qualitative" in page

    # A sites.csv whose sites are places: their commune is read in code_commune.
    sites.write_text("rang,code,nom,code_commune\n1,gare-gap,Gare de Gap,05061\n", encoding="utf-8")
    result = run(
        env,
        *base,
        "--sites",
        str(sites),
        "--travel-times",
        str(times),
        "--out",
        str(tmp_path / "lieux"),
    )
    assert result.exit_code == 0, result.output
    row = _typology(tmp_path / "lieux" / "typology.csv")["part_loin_du_site"]
    assert (row["effectif"], row["repondants"]) == ("4", "6")

    sites.write_text("rang,code,nom\n1,05061,Gap\n2,99999,Nulle-Part\n", encoding="utf-8")
    result = run(env, *base, "--sites", str(sites), "--out", str(tmp_path / "x"))
    assert result.exit_code == 1
    assert "ligne 3" in result.stderr
    assert "99999" in result.stderr
    assert not (tmp_path / "x").exists()
