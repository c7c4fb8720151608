"""Every shell example of the README runs as printed and does what its text says.

The blocks are run in a temporary folder laid out like a checkout next to ``../shared``
(``../shared`` is a link to the real extracts), with the files the README names written
there by the test: ``FD_MOBPRO_2021.csv`` (synthetic, dep:05), the Sirene stocks as
Parquet and the RNA zip built from ``tests/data`` (plus the establishment
``siret:12345678900012`` the contacts example names, a copy of a fictional CAE),
``mes_acteurs.csv``, the survey exports (generic and LimeSurvey), the mapping and
``communes.csv``.  The contact
and survey database is a temporary SQLite file (``TIERSLIEUX_DATABASE_URL``), HOME a
temporary folder: the user's real store is never touched.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DATA = ROOT / "tests" / "data"
#: Blocks not run here, with the reason.
NOT_RUN = {
    "scripts/test.sh": "runs this test suite itself",
    "tierslieux web": "starts a server that runs until stopped (tests/web/test_cli_web.py)",
}

pytestmark = pytest.mark.shared


def shell_blocks() -> list[str]:
    """The ```bash blocks of the README, in order."""
    return re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def ordered(blocks: list[str]) -> list[str]:
    """README order, except that a block reading ``X/...`` runs after the block ``--out X``."""
    outs = [set(re.findall(r"--out (\S+)", block)) for block in blocks]
    order = list(range(len(blocks)))
    for i, block in enumerate(blocks):
        for j in range(i + 1, len(blocks)):
            if any(f"{out}/" in block for out in outs[j]):
                order.remove(i)
                order.insert(order.index(j) + 1, i)
    return [blocks[i] for i in order]


def _sirene(work: Path) -> None:
    """Sirene stocks as Parquet, with one more establishment: siret 12345678900012."""
    for name, key in (("StockEtablissement", "siret"), ("StockUniteLegale", "siren")):
        source = DATA / "sirene" / f"{name}_utf8.csv"
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        copy = dict(next(r for r in rows if r["siren"] == "900000002"))
        copy["siren"] = "123456789"
        if key == "siret":
            copy["nic"], copy["siret"] = "00012", "12345678900012"
        staged = work / f"{name}.csv"
        with staged.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows([*rows, copy])
        target = work / f"{name}_utf8.parquet"
        duckdb.sql(
            f"COPY (SELECT * FROM read_csv('{staged}', all_varchar = true, header = true)) "
            f"TO '{target}' (FORMAT parquet)"
        )
        staged.unlink()


def _workspace(tmp_path: Path, shared: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "shared").symlink_to(shared.parent.parent, target_is_directory=True)
    work = tmp_path / "checkout"
    work.mkdir()
    venv = ROOT / ".venv" / "bin"
    env = {
        **os.environ,
        "PATH": f"{venv}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"),
        "TIERSLIEUX_DATABASE_URL": f"sqlite:///{tmp_path / 'base.sqlite'}",
        "TIERSLIEUX_OFFLINE": "true",
        "COLUMNS": "250",  # wide tables: the notes are printed whole
    }
    env.pop("XDG_DATA_HOME", None)
    subprocess.run(  # noqa: S603
        [
            str(venv / "tierslieux"),
            "synth",
            "mobpro",
            "--communes",
            "../shared/data/real/communes/communes.csv",
            "--territory",
            "dep:05",
            "--out",
            "FD_MOBPRO_2021.csv",
        ],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    for synthetic in work.glob("FD_MOBPRO_2021_synthetique.csv*"):
        synthetic.rename(work / synthetic.name.replace("_synthetique", ""))
    _sirene(work)
    with zipfile.ZipFile(work / "rna_waldec_20250901.zip", "w") as archive:
        archive.write(DATA / "rna" / "rna_import_20250901_dpt_05.csv", "rna_waldec_20250901.csv")
    shutil.copy(DATA / "actors" / "acteurs_exemple.csv", work / "mes_acteurs.csv")
    shutil.copy(DATA / "survey" / "reponses_valides.csv", work / "export.csv")
    shutil.copy(DATA / "survey" / "correspondance.yaml", work / "correspondance.yaml")
    shutil.copy(DATA / "survey" / "limesurvey_codes.csv", work / "limesurvey.csv")
    shutil.copy(shared / "communes" / "communes.csv", work / "communes.csv")
    return work, env


def _rows(path: Path, separator: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=separator))


def test_every_shell_example_of_the_readme_runs_and_does_what_it_says(
    tmp_path: Path, shared_real: Path
) -> None:
    work, env = _workspace(tmp_path, shared_real)
    printed: dict[str, str] = {}
    for block in ordered(shell_blocks()):
        if block.strip() in NOT_RUN:
            continue
        script = block.replace("scripts/tierslieux.sh", str(ROOT / "scripts" / "tierslieux.sh"))
        done = subprocess.run(  # noqa: S603
            ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
        printed[block.split()[1]] = printed.get(block.split()[1], "") + done.stdout + done.stderr

    # diagnose: the demo report, and the Hautes-Alpes (162 communes) with synthetic MOBPRO
    assert (work / "sortie-demo" / "report.html").is_file()
    communes = _rows(work / "sortie-hautes-alpes" / "communes.csv")
    assert len(communes) > 100
    assert all(row["code"].startswith("05") for row in communes)
    # communities: structures of the four steps, the named one among them
    structures = _rows(work / "communautes-05" / "structures.csv")
    assert "siret:12345678900012" in {row["identifiant"] for row in structures}
    assert (work / "communautes-05" / "communities.csv").is_file()
    # contacts: status, note and next action recorded; re-import adds nothing
    contacts = printed["contacts"]
    assert "intéressé" in contacts
    assert "Rencontre le 12/12" in contacts
    assert "Visite du local" in contacts
    assert (work / "contacts.csv").is_file()
    assert "0 événement(s) ajouté(s), 3 déjà présent(s)" in contacts
    # survey: six answers imported, the distance to the chosen sites computed, one forgotten
    analysis = {row["indicateur"]: row for row in _rows(work / "analyse" / "typology.csv")}
    far = analysis["part_loin_du_site"]
    assert "non calculé" not in " ".join(far.values())
    assert (work / "analyse" / "groups.csv").is_file()
    exported = _rows(work / "reponses.csv", ";")
    assert len(exported) == 6  # exported before the erasure
    assert not exported[0]["repondant"].startswith("R0")  # --avec-identifiants
    # the questionnaire out: shown, for LimeSurvey, on paper
    assert "1. Dans quelle commune habitez-vous ?" in printed["survey"]
    assert b"<LimeSurveyDocType>Survey" in (work / "questionnaire.lss").read_bytes()
    assert (work / "questionnaire.pdf").read_bytes().startswith(b"%PDF")
    # survey mapping: the LimeSurvey export recognised, then imported without --mapping
    proposed = (work / "correspondance-proposee.yaml").read_text(encoding="utf-8")
    assert "# Outil reconnu : LimeSurvey." in proposed
    assert "2 enregistrée(s), 1 ligne(s) rejetée(s)" in printed["survey"]
    # sites: the 3 existing tiers-lieux are kept and at least one new site is proposed
    sites = _rows(work / "sites-05" / "sites.csv")
    assert len(sites) == 5
    assert sum(row["impose"] == "True" for row in sites) == 3
    assert [row for row in sites if row["impose"] == "False"]
    # never the user's real store
    assert not (tmp_path / "home" / ".local" / "share" / "tierslieux").exists()


def test_the_blocks_that_read_an_output_run_after_the_block_writing_it() -> None:
    blocks = ["a --out x", "b x/f.csv", "c --out y", "d y/g.csv --out z", "e --out x2"]
    blocks_out = ["b x/f.csv --sites z/s.csv", "a --out z"]
    assert ordered(blocks) == blocks
    assert ordered(blocks_out) == ["a --out z", "b x/f.csv --sites z/s.csv"]
