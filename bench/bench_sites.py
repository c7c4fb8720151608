"""Benchmark: exact (HiGHS) vs greedy + swap maximal covering on all PACA communes.

Candidates and demand points are the ~946 communes of Provence-Alpes-Côte d'Azur
(region 93) from ../shared/data/real/communes/communes.csv; demand is the active
population aged 15-64 (2021); a site covers the communes within 20 minutes by car
(straight-line engine); K = 10.  With ``--france``: all ~35,000 communes of France as
candidates and demand points, K = 10 and 50 (exact with a 60 s limit, then greedy with
its Lagrangian bound).  Skips when ../shared is absent.

With ``--co2``: the whole ``run_sites`` use case, objective co2 with the per-flow rule,
on a synthetic MOBPRO detail file for PACA (``tierslieux synth mobpro``, seed 0, written
once in a temporary folder, not timed; or ``--mobpro FILE``), real communes and zonages
(../shared/data/real), every commune a candidate, no existing tiers-lieux file, 20
minutes: Hautes-Alpes (dep:05) K = 3 and 10, PACA (region:93) K = 10.  Times include
reading the files, building the flows, the main solve, the alternatives (K re-solves)
and the sensitivity table (5 re-solves); the load average of the machine is printed.

Run: .venv/bin/python bench/bench_sites.py [--france | --co2 [--mobpro FILE]]
"""

from __future__ import annotations

import os
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


REAL = COMMUNES.parents[1]


def bench_co2(mobpro: Path | None) -> int:
    """Objective co2 end to end (see the module docstring)."""
    import tempfile  # noqa: PLC0415

    import duckdb  # noqa: PLC0415

    from tierslieux.config import Settings  # noqa: PLC0415
    from tierslieux.pipeline import synthesise_mobpro_for  # noqa: PLC0415
    from tierslieux.pipeline.sites import SitesRequest, run_sites  # noqa: PLC0415
    from tierslieux.sources.mobpro import open_mobpro  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        settings = Settings(cache_dir=cache, offline=True)
        if mobpro is None:
            mobpro = synthesise_mobpro_for(
                settings, (COMMUNES,), Path(tmp) / "FD_MOBPRO_PACA.csv", territory="region:93"
            )
        zonages = REAL / "zonages" / "table_supracom_2024_PACA.csv"
        # A CSV census is converted once to Parquet in the cache: timed apart.
        started = time.perf_counter()
        with duckdb.connect() as con:
            open_mobpro(mobpro, con, cache_dir=cache / "mobpro")
        print(f"MOBPRO CSV -> Parquet cache, once: {time.perf_counter() - started:.1f} s")
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
        print(f"{'territory':>10} {'K':>3} {'t/an':>9} {'range':>17} {'gap':>7} {'s':>6}  status")
        for territory, k in (("dep:05", 3), ("dep:05", 10), ("region:93", 10)):
            request = SitesRequest(
                territory=territory,
                count=k,
                objective="co2",
                communes=(COMMUNES,),
                zonages=zonages,
                mobpro=mobpro,
            )
            started = time.perf_counter()
            result = run_sites(settings, request)
            seconds = time.perf_counter() - started
            co2 = result.co2
            if co2 is None:
                print("no CO2 estimate: the per-flow rule did not apply")
                return 1
            limited = int((result.alternatives.get("message", "") != "").sum())
            print(
                f"{territory:>10} {k:>3} {co2.tonnes.central:>9,.0f} "
                f"{co2.tonnes.low:>8,.0f}-{co2.tonnes.high:<8,.0f} {result.result.gap:>7.3%} "
                f"{seconds:>6.1f}  {result.result.status}; "
                f"{len(result.alternatives)} alternatives, {len(result.sensitivity)} "
                f"sensitivity rows, {limited} rows with a message"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


def main() -> int:
    if not COMMUNES.exists():
        print(f"skipped: {COMMUNES} absent")
        return 0
    if "--co2" in sys.argv[1:]:
        args = sys.argv[1:]
        given = Path(args[args.index("--mobpro") + 1]) if "--mobpro" in args else None
        return bench_co2(given)
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
