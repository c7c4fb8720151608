"""Robustness run: malformed variants of every input format fed to its real reader.

Each variant is a valid sample file damaged by a few deterministic mutations
(truncation, byte flips and insertions, odd cells such as inf/NaN/negative numbers,
huge fields, header columns swapped, duplicated or dropped, Windows-1252 or UTF-16
encoding); the generator and the formats are shared with the fuzz tests
(``tests/malformed.py``).  The reader may refuse the variant with a
:class:`~tierslieux.errors.TierslieuxError` or accept it; any other exception is an
*unexpected error* (a traceback behind the CLI's catch-all, issue 11 point 7).  An
accepted variant goes to its format's oracle: *acceptée mais fausse* when the result
is silently wrong compared with the file (line with a wrong number of cells accepted,
rows dropped or a total changed without a note, non-finite or negative weights or
minutes loaded, codes outside the dictionaries kept without being counted).

Usage::

    python bench/robustness.py [--seed 0] [--variants 200] [--format NAME]

Exit status 1 when any unexpected error or silently wrong result, with the first 3 of
each (format and variant seed, to reproduce with ``--format NAME --seed S --variants 1``).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from malformed import ENCODINGS, ODD_CELLS, Format, formats, mutate, oracle
from tierslieux.errors import TierslieuxError

__all__ = ["ENCODINGS", "ODD_CELLS", "Format", "Outcome", "formats", "main", "mutate", "run_format"]


@dataclass
class Outcome:
    """Counts of one format's run."""

    tried: int = 0
    refused: int = 0
    accepted: int = 0
    unexpected: list[tuple[int, str]] = field(default_factory=list)
    wrong: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


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
                result = fmt.read(path, work / "cache")
            except TierslieuxError:
                outcome.refused += 1
            except Exception:  # noqa: BLE001 - counting crashes is the point
                outcome.unexpected.append((variant, traceback.format_exc()))
            else:
                outcome.accepted += 1
                try:
                    problems = oracle(fmt, data, result)
                except Exception:  # noqa: BLE001 - an oracle crash is reported, not hidden
                    problems = ["oracle : " + traceback.format_exc(limit=2)]
                if problems:
                    outcome.wrong.append((variant, "; ".join(problems)))
    outcome.seconds = time.perf_counter() - start
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Run the variants and print a table per format, then the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="first variant seed")
    parser.add_argument("--variants", type=int, default=200, help="variants per format")
    parser.add_argument("--format", dest="only", help="one format (name)")
    parser.add_argument("--show", type=int, default=3, help="problems shown of each kind")
    args = parser.parse_args(argv)
    chosen = [f for f in formats() if args.only in {None, f.name}]
    if not chosen:
        parser.error(f"unknown format {args.only!r}: " + ", ".join(f.name for f in formats()))
    header = (
        f"{'format':<14}{'tried':>7}{'refused':>9}{'accepted':>10}"
        f"{'acceptées mais fausses':>24}{'unexpected':>12}{'s':>8}"
    )
    print(header)
    print("-" * len(header))
    totals = Outcome()
    crashes: list[tuple[str, int, str]] = []
    wrong: list[tuple[str, int, str]] = []
    for fmt in chosen:
        outcome = run_format(fmt, args.seed, args.variants)
        print(
            f"{fmt.name:<14}{outcome.tried:>7}{outcome.refused:>9}{outcome.accepted:>10}"
            f"{len(outcome.wrong):>24}{len(outcome.unexpected):>12}{outcome.seconds:>8.1f}",
            flush=True,
        )
        totals.tried += outcome.tried
        totals.refused += outcome.refused
        totals.accepted += outcome.accepted
        totals.seconds += outcome.seconds
        crashes.extend((fmt.name, seed, text) for seed, text in outcome.unexpected)
        wrong.extend((fmt.name, seed, text) for seed, text in outcome.wrong)
    print("-" * len(header))
    print(
        f"{'total':<14}{totals.tried:>7}{totals.refused:>9}{totals.accepted:>10}"
        f"{len(wrong):>24}{len(crashes):>12}{totals.seconds:>8.1f}"
    )
    for name, seed, text in wrong[: args.show]:
        print(
            f"\n--- acceptée mais fausse : {name}, variant seed {seed} (--format {name} --seed {seed} --variants 1)"
        )
        print(text.rstrip()[:2000])
    for name, seed, text in crashes[: args.show]:
        print(f"\n--- {name}, variant seed {seed} (--format {name} --seed {seed} --variants 1)")
        print(text.rstrip())
    return 1 if crashes or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
