"""The job runner: progress, cancellation, time limit, errors, real use cases."""

from __future__ import annotations

import _thread
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tierslieux.analysis.optimise import solve_max_coverage
from tierslieux.config import Settings
from tierslieux.errors import InfeasibleError
from tierslieux.i18n import use_language
from tierslieux.model.types import ProgressCallback, ProgressEvent, ProgressReporter
from tierslieux.pipeline import demo_files
from tierslieux.pipeline.communities import CommunitiesRequest, run_communities
from tierslieux.pipeline.diagnose import DiagnoseRequest, run_diagnosis
from tierslieux.pipeline.jobs import (
    JobCancelledError,
    JobFailedError,
    JobProgress,
    JobRunner,
    JobStatus,
    JobTimedOutError,
    run_cancellable,
)
from tierslieux.pipeline.sites import SitesRequest, run_sites


def _steps(n: int, *, pause: float = 0.0, progress: ProgressCallback) -> str:
    """A fake use case: ``n`` progress points, ``pause`` seconds apart."""
    report = ProgressReporter(progress)
    for i in range(n):
        report("etape", f"Étape {i + 1}", i / n, step=i + 1, total=n)
        time.sleep(pause)
    return "fini"


def _gate(gate: threading.Event, *, progress: ProgressCallback) -> str:
    """A fake use case that waits for ``gate`` then reaches one progress point."""
    progress(ProgressEvent("debut", "Début", 0.0, fraction=0.0))
    assert gate.wait(10)
    progress(ProgressEvent("suite", "Suite", 0.0, fraction=0.5))
    return "pas annulé"


@pytest.fixture
def runner() -> Any:
    with JobRunner(max_workers=2) as pool:
        yield pool


def test_progress_events_in_order_with_increasing_fractions(runner: JobRunner) -> None:
    updates: list[JobProgress] = []
    job = runner.submit(_steps, 5, pause=0.01)
    job.subscribe(updates.append)
    assert job.get(10) == "fini"
    assert job.status is JobStatus.DONE
    assert [e.step for e in job.events] == [1, 2, 3, 4, 5]
    running = [u for u in updates if u.status is JobStatus.RUNNING and u.phase == "etape"]
    assert running, updates
    fractions = [u.fraction for u in updates]
    assert fractions == sorted(fractions)
    assert [u.step for u in running] == sorted(u.step or 0 for u in running)
    assert updates[-1].status is JobStatus.DONE
    assert updates[-1].fraction == 1.0
    assert job.snapshot().fraction == 1.0
    elapsed = job.snapshot().elapsed
    assert elapsed > 0
    time.sleep(0.05)
    assert job.snapshot().elapsed == elapsed  # frozen once finished


def test_submit_returns_at_once_and_the_caller_is_not_blocked(runner: JobRunner) -> None:
    gate = threading.Event()
    started = time.perf_counter()
    job = runner.submit(_gate, gate)
    assert time.perf_counter() - started < 0.5
    assert not job.wait(0.2)
    assert job.status in {JobStatus.QUEUED, JobStatus.RUNNING}
    assert runner.job(job.id) is job
    gate.set()
    assert job.get(10) == "pas annulé"


def test_cancel_stops_the_job_at_the_next_progress_point(runner: JobRunner) -> None:
    gate = threading.Event()
    job = runner.submit(_gate, gate)
    deadline = time.perf_counter() + 10
    while not job.events and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert job.status is JobStatus.RUNNING
    assert job.cancel()
    gate.set()
    assert job.wait(10)
    assert job.status is JobStatus.CANCELLED
    assert job.result is None
    assert isinstance(job.error, JobCancelledError)
    assert "annulé" in str(job.error)
    assert [e.phase for e in job.events] == ["debut"]  # stopped before recording "suite"
    assert job.snapshot().error == str(job.error)
    with pytest.raises(JobCancelledError):
        job.get(0)
    assert not job.cancel()  # already finished


def test_cancel_a_queued_job() -> None:
    gate = threading.Event()
    with JobRunner(max_workers=1) as pool:
        first = pool.submit(_gate, gate)
        second = pool.submit(_steps, 3)
        assert second.status is JobStatus.QUEUED
        assert second.cancel()
        assert second.wait(1)
        assert second.status is JobStatus.CANCELLED
        gate.set()
        assert first.get(10) == "pas annulé"
    assert second.events == ()


def test_time_limit_gives_timed_out(runner: JobRunner) -> None:
    job = runner.submit(_steps, 50, pause=0.05, time_limit=0.3)
    assert job.wait(10)
    assert job.status is JobStatus.TIMED_OUT
    assert isinstance(job.error, JobTimedOutError)
    assert "durée maximale" in str(job.error)
    assert 3 <= len(job.events) < 50


def test_default_time_limit_of_the_runner() -> None:
    with JobRunner(max_workers=1, time_limit=0.2) as pool:
        job = pool.submit(_steps, 50, pause=0.05)
        assert job.wait(10)
        assert job.status is JobStatus.TIMED_OUT


def _infeasible(*, progress: ProgressCallback) -> None:
    progress(ProgressEvent("resolution", "Résolution", 0.0))
    raise InfeasibleError("Aucune combinaison de 3 sites.")


def _bug(*, progress: ProgressCallback) -> None:
    progress(ProgressEvent("calcul", "Calcul", 0.0))
    raise KeyError("latitude")


def test_a_failing_use_case_keeps_its_error(runner: JobRunner) -> None:
    job = runner.submit(_infeasible)
    assert job.wait(10)
    assert job.status is JobStatus.FAILED
    assert isinstance(job.error, InfeasibleError)
    assert str(job.error) == "Aucune combinaison de 3 sites."
    assert job.traceback is None
    with pytest.raises(InfeasibleError, match="Aucune combinaison"):
        job.get()


def test_an_unexpected_exception_is_recorded_not_lost(runner: JobRunner) -> None:
    job = runner.submit(_bug)
    assert job.wait(10)
    assert job.status is JobStatus.FAILED
    assert isinstance(job.error, JobFailedError)
    assert isinstance(job.error.original, KeyError)
    assert "Erreur inattendue" in str(job.error)
    assert "KeyError" in str(job.error)
    assert job.traceback is not None
    assert "KeyError" in job.traceback


def test_an_unexpected_exception_is_logged_unless_the_caller_reports_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="tierslieux.pipeline.jobs"):
        with JobRunner(max_workers=1) as pool:
            assert pool.submit(_bug).wait(10)
        assert any(r.exc_info for r in caplog.records)
        caplog.clear()
        with pytest.raises(KeyError):
            run_cancellable(_bug)
        assert not caplog.records


def _exit(*, progress: ProgressCallback) -> None:
    progress(ProgressEvent("x", "x", 0.0))
    raise SystemExit(3)


def test_a_system_exit_in_a_job_still_finishes_it(runner: JobRunner) -> None:
    job = runner.submit(_exit)
    assert job.wait(10)
    assert job.status is JobStatus.FAILED
    assert isinstance(job.error, JobFailedError)
    assert isinstance(job.error.original, SystemExit)


def test_a_failing_listener_does_not_stop_the_job(runner: JobRunner) -> None:
    def broken(update: JobProgress) -> None:
        raise RuntimeError(update.job_id)

    job = runner.submit(_steps, 3)
    job.subscribe(broken)
    assert job.get(10) == "fini"


def test_unsubscribe_and_late_subscription(runner: JobRunner) -> None:
    job = runner.submit(_steps, 3)
    assert job.get(10) == "fini"
    seen: list[JobProgress] = []
    unsubscribe = job.subscribe(seen.append)
    assert [u.status for u in seen] == [JobStatus.DONE]  # the current state at once
    unsubscribe()
    runner.forget(job.id)
    assert runner.job(job.id) is None


def test_a_progress_argument_of_the_caller_is_still_called(runner: JobRunner) -> None:
    mine: list[ProgressEvent] = []
    job = runner.submit(_steps, 4, progress=mine.append)
    assert job.get(10) == "fini"
    assert mine == list(job.events)


def _language(*, progress: ProgressCallback) -> str:
    progress(ProgressEvent("x", "x", 0.0))
    from tierslieux.i18n import current_language  # noqa: PLC0415

    return current_language()


def test_the_job_runs_in_the_language_of_its_submitter(runner: JobRunner) -> None:
    with use_language("en"):
        job = runner.submit(_language)
    assert job.get(10) == "en"


def _hard_instance() -> tuple[Any, Any]:
    rng = np.random.default_rng(1)  # HiGHS needs well over 10 s to prove this optimal
    return rng.random((200, 1000)) < 0.03, rng.random(1000)


def test_cancel_interrupts_the_exact_solver(runner: JobRunner) -> None:
    """HiGHS runs in C: its periodic callback is a progress point that stops it."""
    coverage, weights = _hard_instance()

    def solve(*, progress: ProgressCallback) -> Any:
        return solve_max_coverage(
            coverage, weights, 15, method="exact", time_limit=60, progress=progress
        )

    solving = threading.Event()

    def watch(update: JobProgress) -> None:
        if sum(e.phase == "resolution" for e in job.events) >= 2:  # in the branch and bound
            solving.set()

    job = runner.submit(solve)
    job.subscribe(watch)
    assert solving.wait(60), job.snapshot()
    asked = time.perf_counter()
    job.cancel()
    assert job.wait(20)
    assert job.status is JobStatus.CANCELLED, job.error
    assert time.perf_counter() - asked < 5


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True))


def test_the_runner_with_run_sites_gives_the_direct_result(
    tmp_path: Path, runner: JobRunner
) -> None:
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    request = SitesRequest(territory="dep:00", count=2, demo=True)
    direct = run_sites(settings, request)
    job = runner.submit(run_sites, settings, request, time_limit=600)
    shown: list[JobProgress] = []
    job.subscribe(shown.append)
    result = job.get(300)
    assert job.status is JobStatus.DONE
    assert [s.index for s in result.result.sites] == [s.index for s in direct.result.sites]
    assert result.result.objective == pytest.approx(direct.result.objective)
    for name in ("sites", "coverage", "alternatives", "sensitivity"):
        _same(getattr(result, name), getattr(direct, name))
    phases = [e.phase for e in job.events]
    assert phases[0] == "territoire"
    assert {"recensement", "resolution", "alternatives", "sensibilite"} <= set(phases)
    fractions = [u.fraction for u in shown]
    assert fractions == sorted(fractions)
    assert len(set(fractions)) >= 4  # the phases move the bar


def test_run_diagnosis_reports_its_steps(tmp_path: Path) -> None:
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    events: list[ProgressEvent] = []
    run_diagnosis(settings, DiagnoseRequest(territory="dep:00", demo=True), progress=events.append)
    assert [e.phase for e in events] == ["sources", "trajets", "indicateurs", "bassins"]
    fractions = [e.fraction for e in events]
    assert all(f is not None for f in fractions)
    assert fractions == sorted(fractions)  # type: ignore[type-var]
    assert all(e.message for e in events)


def test_run_communities_reports_its_steps(tmp_path: Path) -> None:
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    demo = demo_files()
    request = CommunitiesRequest(
        territory="dep:00", communes=(demo["communes"],), zonages=demo["zonages"]
    )
    events: list[ProgressEvent] = []
    run_communities(settings, request, progress=events.append)
    assert [e.phase for e in events] == ["sources", "trajets", "registres", "fusion", "communautes"]
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)  # type: ignore[type-var]


def test_cancel_stops_a_real_diagnosis(tmp_path: Path, runner: JobRunner) -> None:
    settings = Settings(offline=True, cache_dir=tmp_path / "cache")
    job = runner.submit(run_diagnosis, settings, DiagnoseRequest(territory="dep:00", demo=True))
    job.cancel()
    assert job.wait(60)
    assert job.status is JobStatus.CANCELLED


def _interrupted(*, progress: ProgressCallback) -> str:
    """Ctrl-C arrives (in the main thread) while the use case runs."""
    progress(ProgressEvent("debut", "Début", 0.0))
    _thread.interrupt_main()
    for _ in range(500):
        time.sleep(0.01)
        progress(ProgressEvent("suite", "Suite", 0.0))
    return "pas interrompu"


def test_run_cancellable_gives_the_direct_result_and_errors() -> None:
    assert run_cancellable(_steps, 3) == "fini"
    with pytest.raises(InfeasibleError, match="Aucune combinaison"):
        run_cancellable(_infeasible)
    with pytest.raises(KeyError, match="latitude"):  # the exception itself, not wrapped
        run_cancellable(_bug)


def test_run_cancellable_stops_the_job_on_ctrl_c() -> None:
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_cancellable(_interrupted)
    assert time.perf_counter() - started < 3  # the job stopped well before its 5 s


_CTRL_C = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from tierslieux.analysis.optimise import solve_max_coverage
    from tierslieux.pipeline.jobs import run_cancellable

    rng = np.random.default_rng(1)
    cover, weights = rng.random((200, 1000)) < 0.03, rng.random(1000)
    said = []

    def show(event):
        if event.phase == "resolution" and len(said) < 2:
            said.append(1)
            if len(said) == 2:
                print("RESOLUTION", flush=True)

    def solve(*, progress):
        return solve_max_coverage(
            cover, weights, 15, method="exact", time_limit=60, progress=progress
        )

    try:
        run_cancellable(solve, progress=show)
        print("FINI", flush=True)
    except KeyboardInterrupt:
        print("INTERROMPU", flush=True)
    """
)


def test_ctrl_c_during_the_exact_solver_stops_it() -> None:
    """Before, the KeyboardInterrupt raised in HiGHS's callback was swallowed by HiGHS."""
    child = subprocess.Popen(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", _CTRL_C], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "RESOLUTION"
        asked = time.perf_counter()
        child.send_signal(signal.SIGINT)
        out, _err = child.communicate(timeout=50)
    finally:
        child.kill()
    assert out.strip() == "INTERROMPU"
    assert time.perf_counter() - asked < 10
