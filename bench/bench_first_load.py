"""Benchmark of the first reading of a project's own input files in a web worker.

A project of région 93 whose communes (all of France's names and populations), PACA
outlines and zonings were uploaded through the page (``../shared/data/real``, read
in place): every screen that needs its loaded inputs (questionnaire, campaigns, and
each diagnostic, sites or directory run) reads them through
:func:`tierslieux.pipeline.project_runs.project_inputs`.  Prints, each in a fresh
process (the first screen of a worker; Python imports excluded):

- ``files``: the files read as before (written out, then the command line's readers
  and merge: :func:`~tierslieux.pipeline.inputs.load_inputs`);
- ``prepared``: ``project_inputs`` as the web application calls it (the form the
  upload's check kept, read back from Parquet);

and the time of each upload (check, storing, preparation).  Figures are printed,
never asserted.

Run: ``.venv/bin/python bench/bench_first_load.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
FILES = {
    "contours": REAL / "communes" / "communes-provence-alpes-cote-d-azur.geojson",
    "communes": REAL / "communes" / "communes.csv",
    "zonages": REAL / "zonages" / "table_supracom_2024_PACA.csv",
}


def _settings(base: Path):
    from tierslieux.config import Settings  # noqa: PLC0415

    return Settings(
        database_url=f"sqlite:///{base / 'banc.sqlite'}", cache_dir=base / "cache", offline=True
    )


def prepare(base: Path) -> int:
    """A store with the project and its uploaded files; returns the project's id."""
    from tierslieux.pipeline.accounts import add_user  # noqa: PLC0415
    from tierslieux.pipeline.database import open_store  # noqa: PLC0415
    from tierslieux.pipeline.projects import create_project, upload_dataset  # noqa: PLC0415

    core = _settings(base)
    repos = open_store(core)
    user = add_user(
        repos, "banc@exemple.fr", role="charge_de_mission", actor="banc", password="x" * 16
    )
    project = create_project(repos, name="Banc PACA", territory="region:93", index=None, actor=user)
    for role, path in FILES.items():
        started = time.perf_counter()
        upload_dataset(
            repos,
            core,
            project.id,
            role=role,
            filename=path.name,
            content=path.read_bytes(),
            actor=user,
        )
        print(f"upload {role:<9} ({path.name}): {time.perf_counter() - started:.2f} s")
    return project.id


def child(mode: str, base: Path, project: int) -> None:
    """One reading in this process (its first), the seconds printed."""
    from tierslieux.pipeline.database import open_store  # noqa: PLC0415
    from tierslieux.pipeline.inputs import load_inputs  # noqa: PLC0415
    from tierslieux.pipeline.project_runs import project_inputs  # noqa: PLC0415
    from tierslieux.pipeline.projects import materialise_datasets  # noqa: PLC0415

    core = _settings(base)
    repos = open_store(core)
    repos.projects.datasets(project)  # the store opened and migrated: not timed
    started = time.perf_counter()
    if mode == "files":
        with tempfile.TemporaryDirectory(dir=base) as folder:
            files = materialise_datasets(repos, project, Path(folder))
            inputs = load_inputs(core, files, mobpro=False)
    else:
        with project_inputs(repos, core, project, None, mobpro=False) as inputs:
            pass
    elapsed = time.perf_counter() - started
    print(f"{elapsed:.3f} {len(inputs.communes.table)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "BASE", "PROJECT"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return 0
    missing = [str(p) for p in FILES.values() if not p.is_file()]
    if missing:
        print(f"real extracts absent: {', '.join(missing)}")
        return 1
    with tempfile.TemporaryDirectory(prefix="banc-premier-") as tmp:
        base = Path(tmp)
        project = prepare(base)
        for mode in ("files", "prepared"):
            seconds = []
            for _ in range(args.repeat):
                done = subprocess.run(  # noqa: S603 - this script, by its path
                    [sys.executable, __file__, "--child", mode, str(base), str(project)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                value, rows = done.stdout.split()[-2:]
                seconds.append(float(value))
            print(
                f"first reading in a fresh process, {mode:<8}: median "
                f"{statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max "
                f"{max(seconds):.2f}; {rows} communes, {args.repeat} processes)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
