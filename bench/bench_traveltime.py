"""Benchmark: StraightLineEngine.within on every commune of France.

Reads the real commune centres in ``../shared/data/real/communes/communes.csv`` (one
row per commune and postal code: deduplicated on the INSEE code; ``commune_type``
``COM`` only) and prints, for 20 and 30 minutes, the seconds spent in ``within``, the
number of pairs and the median catchment size.  Run::

    .venv/bin/python bench/bench_traveltime.py [--csv PATH]

It prints a message and exits when the file is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from tierslieux.analysis.traveltime import StraightLineEngine

DEFAULT_CSV = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "real"
    / "communes"
    / "communes.csv"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"Fichier absent : {args.csv} ; benchmark ignoré.")
        return 0
    communes = pd.read_csv(args.csv, dtype=str)
    communes = communes[communes["commune_type"] == "COM"].drop_duplicates("insee_com")
    points = pd.DataFrame(
        {
            "code": communes["insee_com"].to_numpy(),
            "latitude": pd.to_numeric(communes["lat"]).to_numpy(),
            "longitude": pd.to_numeric(communes["lng"]).to_numpy(),
        }
    )
    print(f"{len(points)} communes ({points['latitude'].isna().sum()} sans coordonnées)")
    engine = StraightLineEngine()
    print(f"paramètres : {engine.parameters()}")
    for minutes in (20.0, 30.0):
        start = time.perf_counter()
        od = engine.within(points, points, minutes)
        elapsed = time.perf_counter() - start
        sizes = od.groupby("origin").size()
        print(
            f"within {minutes:.0f} min : {elapsed:.2f} s, {len(od)} paires, "
            f"bassin médian {sizes.median():.0f} communes (max {sizes.max()})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
