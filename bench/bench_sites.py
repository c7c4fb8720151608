"""Benchmark: exact (HiGHS) vs greedy + swap maximal covering on all PACA communes.

Candidates and demand points are the ~946 communes of Provence-Alpes-Côte d'Azur
(region 93) from ../shared/data/real/communes/communes.csv; demand is the active
population aged 15-64 (2021); a site covers the communes within 20 minutes by car
(straight-line engine); K = 10.  With ``--france``: all ~35,000 communes of France as
candidates and demand points, K = 10 and 50 (exact with a 60 s limit, then greedy with
its Lagrangian bound).  Skips when ../shared is absent.

Run: .venv/bin/python bench/bench_sites.py [--france]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from tierslieux.analysis.catchment import catchment_pairs
from tierslieux.analysis.optimise import solve_max_coverage
from tierslieux.analysis.traveltime import StraightLineEngine

COMMUNES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "communes" / "communes.csv"
)


def main() -> int:
    if not COMMUNES.exists():
        print(f"skipped: {COMMUNES} absent")
        return 0
    frame = pd.read_csv(COMMUNES, dtype=str)
    for column in ("lat", "lng", "pop_15_64_active_2021"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    france = "--france" in sys.argv[1:]
    paca = frame[(frame["commune_type"] == "COM") & (france | (frame["insee_reg"] == "93"))]
    label = "France" if france else "PACA"
    points = (
        pd.DataFrame({"code": paca["insee_com"], "latitude": paca["lat"], "longitude": paca["lng"]})
        .dropna()
        .drop_duplicates("code")
        .reset_index(drop=True)
    )
    demand = (
        paca.drop_duplicates("insee_com")
        .set_index("insee_com")["pop_15_64_active_2021"]
        .reindex(points["code"])
        .fillna(0)
    ).to_numpy(dtype=float)
    codes = list(points["code"])
    index = {c: i for i, c in enumerate(codes)}
    t0 = time.perf_counter()
    pairs = catchment_pairs(StraightLineEngine(), points, 20.0)
    rows = pairs["origin"].map(index).to_numpy()
    cols = pairs["destination"].map(index).to_numpy()
    coverage = sparse.csr_matrix(
        (np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(codes), len(codes))
    )
    print(
        f"{label}: {len(codes)} communes, {coverage.nnz} links within 20 min "
        f"({time.perf_counter() - t0:.1f} s to build)"
    )
    print(f"{'K':>3} {'method':>8} {'objective':>12} {'bound':>12} {'gap':>8} {'seconds':>8}")
    for k in (10, 50) if france else (10,):
        for method in ("exact", "greedy"):
            res = solve_max_coverage(coverage, demand, k, method=method, time_limit=60.0)
            print(
                f"{k:>3} {method:>8} {res.objective:>12,.0f} {res.bound:>12,.0f} "
                f"{res.gap:>8.4%} {res.seconds:>8.2f}  {res.status}"
            )
    rng = np.random.default_rng(0)
    random_demand = rng.gamma(0.5, 500.0, len(codes))
    for method in ("exact", "greedy"):
        res = solve_max_coverage(coverage, random_demand, 10, method=method, time_limit=60.0)
        print(
            f"{10:>3} {method:>8} {res.objective:>12,.0f} {res.bound:>12,.0f} "
            f"{res.gap:>8.4%} {res.seconds:>8.2f}  {res.status} (random demand)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
