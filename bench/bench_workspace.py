"""Benchmark of the analytical workspace on the real PACA extracts (issue 10).

Builds a workspace from ../shared/data/real (communes.csv for all of France merged with
the PACA contours, PACA zonings) plus a SYNTHETIC MOBPRO detail file for PACA
(``synthesise_mobpro_for``, seed 0, written once in a temporary folder, not timed),
then prints:

- the build and the opening of the workspace;
- one questionnaire answer validated and stored: through ``submit_answers`` (reads and
  merges the communes at every call, as before) and through a ``SurveyContext`` bound to
  the opened workspace (communes loaded once): median of 20 answers, the validation
  alone and validation + store (SQLite in a temporary folder; the store API is
  ``pipeline.contacts.contact_store``, opened per answer, then opened once);
- the Hautes-Alpes diagnostic (``dep:05``) from the files and from the workspace;
- ``run_sites`` (dep:05, K = 3, objective couverture) from the files and the workspace.

Figures are printed, never asserted.  Skips when ../shared is absent.

Run: ``.venv/bin/python bench/bench_workspace.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

ANSWERS = {
    "commune_residence": "Gap",
    "statut": "independant",
    "part_ordinateur": "Plus des trois quarts",
    "envies": "proche;Un lieu convivial",
    "consentement": "oui",
}


def _timed(label: str, call: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = call()
    print(f"{label:58s} {time.perf_counter() - started:8.3f} s")
    return result


def _per_answer(label: str, call: Callable[[int], object], n: int = 20) -> None:
    times = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - started)
    median = statistics.median(times) * 1000
    print(f"{label:58s} {median:8.1f} ms (median of {n}, max {max(times) * 1000:.1f} ms)")


def main() -> int:
    """Run the benchmark (see the module docstring)."""
    from tierslieux.config import Settings  # noqa: PLC0415
    from tierslieux.pipeline import (  # noqa: PLC0415
        DiagnoseRequest,
        SitesRequest,
        run_diagnosis,
        run_sites,
        submit_answers,
        synthesise_mobpro_for,
    )
    from tierslieux.pipeline.contacts import contact_store  # noqa: PLC0415
    from tierslieux.pipeline.inputs import InputFiles  # noqa: PLC0415
    from tierslieux.pipeline.survey import SurveyContext  # noqa: PLC0415
    from tierslieux.pipeline.workspace import Workspace  # noqa: PLC0415

    if not REAL.is_dir():
        print(f"{REAL} absent: benchmark skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = Settings(
            data_dir=REAL,
            cache_dir=base / "cache",
            offline=True,
            database_url=f"sqlite:///{base / 'survey.sqlite'}",
        )
        mobpro = synthesise_mobpro_for(
            settings, (), base / "FD_MOBPRO_2021_PACA_SYNTHETIQUE.csv", territory="region:93"
        )
        print(f"SYNTHETIC census: {mobpro.name} (PACA residents, seed 0)")
        files = InputFiles(mobpro=mobpro)
        _timed(
            "data build (communes, zonings, MOBPRO -> Parquet)",
            lambda: Workspace.build(settings, base / "ws", files),
        )
        workspace = _timed("Workspace.open", lambda: Workspace.open(base / "ws"))
        inputs = workspace.inputs(settings)

        _timed(
            "submit_answers (files: communes read at every call)",
            lambda: submit_answers(settings, ANSWERS, submission="bench-files"),
        )
        context = SurveyContext.from_inputs(settings, inputs)
        _per_answer(
            "SurveyContext.validate (workspace)",
            lambda i: context.validate(ANSWERS, submission=f"v{i}"),
        )
        _per_answer(
            "SurveyContext.submit: validate + store (workspace)",
            lambda i: context.submit(ANSWERS, submission=f"s{i}"),
        )

        # The same, the store opened once (what one engine per process will give).
        with contact_store(settings) as store:
            # The repositories of the store refactoring (store.responses), or the old Store.
            responses = getattr(store, "responses", store)
            _per_answer(
                "validate + store, store opened once (contact_store)",
                lambda i: responses.add_responses(
                    [context.validate(ANSWERS, submission=f"o{i}")], skip_duplicates=False
                ),
            )

        request = DiagnoseRequest(territory="dep:05", mobpro=mobpro)
        _timed("diagnostic dep:05 (files)", lambda: run_diagnosis(settings, request))
        _timed(
            "diagnostic dep:05 (workspace)",
            lambda: run_diagnosis(settings, request, inputs=inputs),
        )
        sites = SitesRequest(territory="dep:05", count=3, mobpro=mobpro)
        _timed("run_sites dep:05 K=3 (files, each source once)", lambda: run_sites(settings, sites))
        _timed(
            "run_sites dep:05 K=3 (workspace)",
            lambda: run_sites(settings, sites, inputs=inputs),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
