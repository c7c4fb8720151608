"""Benchmark of ``diagnose``: PACA (946 communes) and all of France, synthetic MOBPRO.

Prints, for each run, the time of the full diagnostic and, as the floor, the time of a
plain DuckDB aggregation of the same file (sum of IPONDI by commune of residence),
plus the peak memory of the process. Uses the real commune geography of
../shared/data/real/communes/communes.csv; skips with a message when it is absent.

Usage: .venv/bin/python bench/bench_diagnose.py [--france] [--rows-paca N] [--rows-france N]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from tierslieux.config import Settings
from tierslieux.pipeline import DiagnoseRequest, resolve_communes, run_diagnosis, synthesise_mobpro
from tierslieux.reports.diagnosis import write_diagnosis
from tierslieux.sources.communes import Communes

ROOT = Path(__file__).resolve().parents[1]
COMMUNES = ROOT.parent / "shared" / "data" / "real" / "communes" / "communes.csv"
ZONAGES = ROOT.parent / "shared" / "data" / "real" / "zonages" / "table_supracom_2024_PACA.csv"


def peak_rss_mb() -> float:
    # VmHWM is reset by execve; ru_maxrss is not (a child forked from a large parent would
    # report the parent's peak), so prefer /proc where it exists.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor_seconds(path: Path) -> float:
    start = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(
            f"SELECT COMMUNE, SUM(CAST(IPONDI AS DOUBLE)) FROM read_csv('{path}', delim=';', header=true, "
            "all_varchar=true) GROUP BY 1"
        ).fetchall()
    return time.perf_counter() - start


def run(label: str, territory: str, rows: int, communes: Communes, work: Path) -> None:
    mobpro = work / f"FD_MOBPRO_2021_{label}_SYNTHETIQUE.csv"
    start = time.perf_counter()
    mobpro = synthesise_mobpro(communes, mobpro, seed=1, rows=rows)
    synth = time.perf_counter() - start
    # The diagnostic runs in a child process so that its peak memory is measured alone
    # (generating 8 million synthetic rows costs far more memory than reading them).
    proc = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child", territory, str(mobpro), str(work), label],
        capture_output=True,
        text=True,
        check=True,
    )
    total, rss = (float(x) for x in proc.stdout.split())
    floor = floor_seconds(mobpro)
    print(
        f"{label:7s} rows={rows:9d} synth={synth:6.1f}s diagnose={total:6.1f}s "
        f"floor(duckdb)={floor:5.1f}s ratio={total / floor:4.1f} "
        f"diagnose_peak_rss={rss:7.0f} MB"
    )


def child(territory: str, mobpro: Path, work: Path, label: str) -> None:
    settings = Settings(cache_dir=work / "cache", offline=True)
    request = DiagnoseRequest(
        territory=territory,
        communes=(COMMUNES,),
        mobpro=mobpro,
        zonages=ZONAGES if label == "PACA" else None,
    )
    start = time.perf_counter()
    diagnosis = run_diagnosis(settings, request)
    write_diagnosis(diagnosis, work / f"out-{label}")
    print(time.perf_counter() - start, peak_rss_mb())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--france", action="store_true", help="also run all of France")
    parser.add_argument("--rows-paca", type=int, default=500_000)
    parser.add_argument("--rows-france", type=int, default=8_000_000)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        territory, mobpro, work, label = args.child
        child(territory, Path(mobpro), Path(work), label)
        return 0
    if not COMMUNES.is_file():
        print(f"absent: {COMMUNES} (../shared missing) - benchmark skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = Settings(cache_dir=work / "cache", offline=True)
        france = resolve_communes(settings, (COMMUNES,))
        paca = Communes(
            table=france.table[france.table["reg"] == "93"].reset_index(drop=True),
            geometries={},
            provenance=france.provenance,
        )
        run("PACA", "region:93", args.rows_paca, paca, work)
        if args.france:
            run("France", "france", args.rows_france, france, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
