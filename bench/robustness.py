"""Robustness run: malformed variants of every input format fed to its real reader.

Each variant is a valid sample file damaged by a few deterministic mutations
(truncation, byte flips and insertions, odd cells such as inf/NaN/negative numbers,
huge fields, header columns swapped, duplicated or dropped, Windows-1252 or UTF-16
encoding).  The reader may accept the variant or refuse it with a
:class:`~tierslieux.errors.TierslieuxError`; any other exception is an *unexpected
error* (a traceback behind the CLI's catch-all, issue 11 point 7).

Usage::

    python bench/robustness.py [--seed 0] [--variants 200] [--format NAME]

Exit status 1 when any unexpected error, with the first 3 tracebacks (format and
variant seed, to reproduce with ``--format NAME --seed S --variants 1``).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tierslieux.errors import TierslieuxError
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.inputs import teleworkable_shares
from tierslieux.pipeline.readers import read_demand_table, read_structures_table
from tierslieux.sources.communes import load_communes
from tierslieux.sources.groups import read_groups
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.survey_import import load_mapping, read_survey_csv
from tierslieux.sources.traveltimes import load_travel_times
from tierslieux.sources.zonages import load_zonages
from tierslieux.store._csv import read_contacts_csv

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SURVEY = DATA / "survey"

# Same odd cells as tests/test_validation_fuzz.py, plus a few more.
ODD_CELLS: tuple[str, ...] = (
    "",
    "inf",
    "-inf",
    "NaN",
    "nan",
    "-1",
    "-0.5",
    "1e309",
    "-1e309",
    "ZZZZZ",
    "Z",
    "2A",
    "99999",
    "=1+1",
    '"',
    '""',
    "\t",
    "\r\n",
    "é",
    "\x00",
    "1,5",
    "9" * 300,
    "x" * 100_000,
    "2030-13-45",
    "0000-00-00",
    "null",
    "[1, 2]",
    "{a: b}",
    ": :",
    "- - -",
)
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")


def mutate(base: bytes, separator: str, rng: random.Random) -> bytes:
    """A malformed variant of ``base``: 1 to 4 text mutations, an encoding, byte damage."""
    lines = _mutate_lines(base.decode("utf-8").splitlines(), separator, rng)
    text = "\n".join(lines) + rng.choice(["\n", "", "\r\n"])
    return _damage(text.encode(rng.choice(ENCODINGS), errors="replace"), rng)


def _mutate_lines(lines: list[str], separator: str, rng: random.Random) -> list[str]:
    """1 to 4 cell, header or structure mutations of the lines."""
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        kind = rng.choice(["cell", "header", "drop", "insert", "duplicate", "swap", "cut", "huge"])
        row = rng.randrange(len(lines))
        cells = lines[row].split(separator)
        column = rng.randrange(len(cells))
        header = lines[0].split(separator)
        if kind == "cell":
            cells[column] = rng.choice(ODD_CELLS)
            lines[row] = separator.join(cells)
        elif kind == "header":
            header[min(column, len(header) - 1)] = rng.choice(ODD_CELLS)
            lines[0] = separator.join(header)
        elif kind == "drop":
            del cells[column]
            lines[row] = separator.join(cells)
        elif kind == "insert":
            lines.insert(row, rng.choice(ODD_CELLS))
        elif kind == "duplicate":
            header.append(header[min(column, len(header) - 1)])
            lines[0] = separator.join(header)
        elif kind == "swap":
            other = rng.randrange(len(header))
            first = min(column, len(header) - 1)
            header[first], header[other] = header[other], header[first]
            lines[0] = separator.join(header)
        elif kind == "huge":
            cells[column] = (cells[column] or "x")[:20] * 15_000  # at most 300,000 characters
            lines[row] = separator.join(cells)
        else:
            lines = lines[: row + 1]
    return lines


def _damage(data: bytes, rng: random.Random) -> bytes:
    """Bytes cut, flipped or inserted (or left alone), after the text mutations."""
    damage = rng.choice(["none", "none", "truncate", "flip", "insert"])
    if damage == "truncate" and data:
        data = data[: rng.randrange(len(data))]
    elif damage == "flip" and data:
        raw = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        data = bytes(raw)
    elif damage == "insert":
        cut = rng.randint(0, len(data))
        data = data[:cut] + rng.randbytes(rng.randint(1, 8)) + data[cut:]
    return data


@dataclass
class Format:
    """One input format: file name, sample, separator and the CLI's reader."""

    name: str
    file_name: str
    sample: bytes
    separator: str
    read: Callable[[Path, Path], object]


@dataclass
class Outcome:
    """Counts of one format's run."""

    tried: int = 0
    refused: int = 0
    accepted: int = 0
    unexpected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


def _mobpro(path: Path, cache: Path) -> object:
    with duckdb.connect() as con:
        open_mobpro(path, con, cache_dir=cache)
        return con.execute("SELECT count(*), sum(weight) FROM mobpro").fetchall()


_QUESTIONNAIRE = load_questionnaire()
_SURVEY_COMMUNES = load_communes(SURVEY / "communes_enquete.csv").table
_MAPPING = load_mapping(SURVEY / "correspondance.yaml", _QUESTIONNAIRE)


def _survey(path: Path, _cache: Path) -> object:
    return read_survey_csv(path, _MAPPING, _QUESTIONNAIRE, _SURVEY_COMMUNES)


def _mapping(path: Path, _cache: Path) -> object:
    return load_mapping(path, _QUESTIONNAIRE)


def _zonages(path: Path, _cache: Path) -> object:
    return load_zonages(path)


def _structures(path: Path, _cache: Path) -> object:
    return read_structures_table(path)


STRUCTURES = (
    "identifiant,nom,categorie,themes,code_commune,latitude,longitude\n"
    "siret:12345678900011,CAE Alpes,cae,emploi:creation,05061,44.56,6.08\n"
    "rna:W051000001,Asso Gap,association,vie:garde;culture,05061,44.55,6.07\n"
    "siret:98765432100012,Coworking Briançon,tiers_lieu,,05023,44.90,6.64\n"
)
CONTACTS = (
    "ligne;identifiant;nom;statut;responsable;prochaine_action;echeance;version;date;auteur;"
    "evenement_id;nature;ancienne_valeur;nouvelle_valeur;ancienne_echeance;nouvelle_echeance;texte\n"
    "etat;siret:12345678900011;CAE Alpes;contacte;Alice;Rappeler;2030-02-01;3;;;;;;;;;\n"
    "evenement;siret:12345678900011;CAE Alpes;;;;;;2030-01-02;Alice;;note;;;;;Note valable\n"
    "evenement;siret:12345678900011;CAE Alpes;;;;;;2030-01-03;Alice;;statut;;contacte;;;\n"
)


def formats() -> list[Format]:
    """Every format the CLI reads, with a valid sample."""
    return [
        Format(
            "mobpro",
            "FD_MOBPRO_2021.csv",
            (DATA / "mobpro" / "FD_MOBPRO_2021_extrait.csv").read_bytes(),
            ";",
            _mobpro,
        ),
        Format(
            "communes",
            "communes.csv",
            (DATA / "communes" / "communes_extrait.csv").read_bytes(),
            ",",
            lambda path, _cache: load_communes(path),
        ),
        Format(
            "traveltimes",
            "od.csv",
            (DATA / "traveltimes" / "od_valide.csv").read_bytes(),
            ",",
            lambda path, _cache: load_travel_times(path),
        ),
        Format(
            "teleworkable",
            "parts.csv",
            b"cs1,part,source\n1,0.03,x\n2,0.33,x\n3,0.72,x\n4,0.48,x\n5,0.36,x\n6,0.02,x\n",
            ",",
            lambda path, _cache: teleworkable_shares(path),
        ),
        Format(
            "zonages",
            "table_supracom_2024.csv",
            (DATA / "zonages" / "table_supracom_2024_extrait.csv").read_bytes(),
            ",",
            _zonages,
        ),
        Format("structures", "structures.csv", STRUCTURES.encode(), ",", _structures),
        Format(
            "groups",
            "groups.csv",
            b"groupe,theme,membres,communes\n4,vie:garde,3,05061\n5,emploi:creation,2,05023\n",
            ",",
            lambda path, _cache: read_groups(path),
        ),
        Format(
            "demand",
            "demande.csv",
            b"code,demand,km\n05061,12.5,20\n05023,3,\n05046,0,4.5\n",
            ",",
            lambda path, _cache: read_demand_table(path),
        ),
        Format(
            "survey",
            "reponses.csv",
            (SURVEY / "reponses_valides.csv").read_bytes(),
            ",",
            _survey,
        ),
        Format(
            "mapping",
            "correspondance.yaml",
            (SURVEY / "correspondance.yaml").read_bytes(),
            ":",
            _mapping,
        ),
        Format(
            "contacts", "contacts.csv", CONTACTS.encode(), ";", lambda p, _c: read_contacts_csv(p)
        ),
    ]


def run_format(fmt: Format, seed: int, count: int) -> Outcome:
    """Feed ``count`` variants of ``fmt`` (seeds ``seed`` .. ``seed + count - 1``)."""
    outcome = Outcome()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for variant in range(seed, seed + count):
            data = mutate(fmt.sample, fmt.separator, random.Random(f"{fmt.name}:{variant}"))
            work = Path(folder) / str(variant)
            work.mkdir()
            path = work / fmt.file_name
            path.write_bytes(data)
            outcome.tried += 1
            try:
                fmt.read(path, work / "cache")
            except TierslieuxError:
                outcome.refused += 1
            except Exception:  # noqa: BLE001 - counting crashes is the point
                outcome.unexpected.append((variant, traceback.format_exc()))
            else:
                outcome.accepted += 1
    outcome.seconds = time.perf_counter() - start
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Run the variants and print a table per format, then the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="first variant seed")
    parser.add_argument("--variants", type=int, default=200, help="variants per format")
    parser.add_argument("--format", dest="only", help="one format (name)")
    args = parser.parse_args(argv)
    chosen = [f for f in formats() if args.only in {None, f.name}]
    if not chosen:
        parser.error(f"unknown format {args.only!r}: " + ", ".join(f.name for f in formats()))
    header = f"{'format':<14}{'tried':>7}{'refused':>9}{'accepted':>10}{'unexpected':>12}{'s':>8}"
    print(header)
    print("-" * len(header))
    totals = Outcome()
    crashes: list[tuple[str, int, str]] = []
    for fmt in chosen:
        outcome = run_format(fmt, args.seed, args.variants)
        print(
            f"{fmt.name:<14}{outcome.tried:>7}{outcome.refused:>9}{outcome.accepted:>10}"
            f"{len(outcome.unexpected):>12}{outcome.seconds:>8.1f}",
            flush=True,
        )
        totals.tried += outcome.tried
        totals.refused += outcome.refused
        totals.accepted += outcome.accepted
        totals.seconds += outcome.seconds
        crashes.extend((fmt.name, seed, text) for seed, text in outcome.unexpected)
    print("-" * len(header))
    print(
        f"{'total':<14}{totals.tried:>7}{totals.refused:>9}{totals.accepted:>10}"
        f"{len(crashes):>12}{totals.seconds:>8.1f}"
    )
    for name, seed, text in crashes[:3]:
        print(f"\n--- {name}, variant seed {seed} (--format {name} --seed {seed} --variants 1)")
        print(text.rstrip())
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
