"""Runs of a project (pipeline.project_runs) on SQLite and PostgreSQL.

Two ``ProjectRuns`` over two stores opened on the same database stand for two worker
processes of the web application.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tierslieux.errors import TierslieuxError
from tierslieux.model.types import ProgressCallback, ProgressReporter
from tierslieux.pipeline import project_runs as project_runs_module
from tierslieux.pipeline.jobs import JobRunner
from tierslieux.pipeline.project_runs import (
    OWNER_KEY,
    ProjectRuns,
    RunOutcome,
    run_kind_label,
    run_status_label,
)
from tierslieux.store import (
    InvalidValueError,
    Repositories,
    UnknownRecordError,
    open_repositories,
    upgrade,
)

DEADLINE = 20.0


@pytest.fixture
def url(make_url: Callable[[], str]) -> str:
    value = make_url()
    upgrade(value)
    return value


@pytest.fixture
def repos(url: str) -> Repositories:
    return open_repositories(url)


@pytest.fixture
def project(repos: Repositories) -> int:
    return repos.projects.add_project(
        "Essai", territory="dep:00", territory_label="Démo", actor="test"
    ).id


@pytest.fixture
def runs(repos: Repositories) -> Iterator[ProjectRuns]:
    service = ProjectRuns(repos, JobRunner(max_workers=2, log_errors=False), progress_interval=0)
    yield service
    service.runner.shutdown(wait=True, cancel=True)


def _until(check: Callable[[], bool]) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < end, "condition never met"
        time.sleep(0.02)


def _quick(*, progress: ProgressCallback) -> RunOutcome:
    report = ProgressReporter(progress)
    report("lecture", "Lecture", 0.1)
    report("calcul", "Calcul", 0.6)
    return RunOutcome(
        summary={"communes": 3},
        files=[("communes.csv", b"code\n05061\n"), ("communes.geojson", b"{}")],
        vintages={"communes": "2024"},
    )


class Gate:
    """A use case that reports progress, then waits until released (or cancelled)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, *, progress: ProgressCallback) -> RunOutcome:
        report = ProgressReporter(progress)
        report("debut", "Début", 0.25)
        self.started.set()
        while not self.release.wait(0.02):
            report("attente", "Attente", 0.5)
        return RunOutcome(summary={"ok": True}, files=[("a.csv", b"x")])


def test_a_run_goes_queued_running_done_with_its_summary_and_files(
    runs: ProjectRuns, repos: Repositories, project: int
) -> None:
    run = runs.start(project, "diagnostic", _quick, actor="alice", parameters={"minutes": 20})
    assert run.status == "queued"
    assert run.parameters["minutes"] == 20
    assert run.parameters[OWNER_KEY]["pid"] == os.getpid()
    assert runs.wait(run.id, DEADLINE)
    done = runs.get(project, run.id)
    assert done.status == "done"
    assert done.progress == 1.0
    assert done.author == "alice"
    assert done.summary == {"communes": 3}
    assert done.vintages == {"communes": "2024"}
    results = {r.name: r.media_type for r in runs.results(project, run.id)}
    assert results == {
        "communes.csv": "text/csv; charset=utf-8",
        "communes.geojson": "application/geo+json",
    }
    assert runs.read_result(project, run.id, "communes.csv") == b"code\n05061\n"
    assert [r.id for r in runs.list_runs(project)] == [run.id]
    assert runs.latest(project, "diagnostic", status="done") == done
    actions = [e.action for e in repos.audit.entries()]
    assert "run.start" in actions


def test_progress_is_written_to_the_store_while_running(runs: ProjectRuns, project: int) -> None:
    gate = Gate()
    run = runs.start(project, "sites", gate, actor="alice")
    assert gate.started.wait(DEADLINE)
    _until(lambda: runs.get(project, run.id).progress >= 0.5)
    running = runs.get(project, run.id)
    assert running.status == "running"
    assert running.step == "Attente"
    assert running.started_at is not None
    gate.release.set()
    assert runs.wait(run.id, DEADLINE)
    assert runs.get(project, run.id).status == "done"


def test_progress_writes_are_throttled(repos: Repositories, project: int) -> None:
    calls: list[float] = []
    original = repos.runs.report_progress

    def counting(run_id: str, fraction: float, step: str | None = None) -> Any:
        calls.append(fraction)
        return original(run_id, fraction, step)

    repos.runs.report_progress = counting  # type: ignore[method-assign]

    def chatty(*, progress: ProgressCallback) -> RunOutcome:
        report = ProgressReporter(progress)
        for i in range(500):
            report("boucle", "Boucle", i / 1000)
        return RunOutcome(summary={})

    service = ProjectRuns(repos, JobRunner(max_workers=1), progress_interval=60)
    with service.runner:
        run = service.start(project, "sites", chatty, actor="alice")
        assert service.wait(run.id, DEADLINE)
    assert service.get(project, run.id).status == "done"
    assert len(calls) == 1  # one step: written once, then throttled


def test_an_error_fails_the_run_with_its_french_message(runs: ProjectRuns, project: int) -> None:
    def refused(*, progress: ProgressCallback) -> RunOutcome:
        ProgressReporter(progress)("lecture", "Lecture", 0.1)
        raise TierslieuxError("Fichier communes.csv, ligne 3 : code commune manquant.")

    def broken(*, progress: ProgressCallback) -> RunOutcome:
        del progress
        raise ZeroDivisionError("division by zero")

    first = runs.start(project, "diagnostic", refused, actor="alice")
    second = runs.start(project, "diagnostic", broken, actor="alice")
    assert runs.wait(first.id, DEADLINE)
    assert runs.wait(second.id, DEADLINE)
    failed = runs.get(project, first.id)
    assert failed.status == "failed"
    assert failed.error == "Fichier communes.csv, ligne 3 : code commune manquant."
    assert runs.results(project, first.id) == []
    unexpected = runs.get(project, second.id)
    assert unexpected.status == "failed"
    assert "Erreur inattendue" in (unexpected.error or "")
    assert "ZeroDivisionError" in (unexpected.error or "")


def test_the_time_limit_fails_the_run(runs: ProjectRuns, project: int) -> None:
    gate = Gate()
    run = runs.start(project, "sites", gate, actor="alice", time_limit=0.2)
    assert runs.wait(run.id, DEADLINE)
    stopped = runs.get(project, run.id)
    assert stopped.status == "failed"
    assert "durée maximale" in (stopped.error or "")


def test_cancel_stops_a_running_run_and_keeps_no_result(
    runs: ProjectRuns, repos: Repositories, project: int
) -> None:
    gate = Gate()
    run = runs.start(project, "sites", gate, actor="alice")
    assert gate.started.wait(DEADLINE)
    cancelled = runs.cancel(project, run.id, actor="bob")
    assert cancelled.status == "cancelled"
    assert runs.wait(run.id, DEADLINE)
    assert runs.get(project, run.id).status == "cancelled"
    assert runs.results(project, run.id) == []
    assert "run.cancel" in [e.action for e in repos.audit.entries()]
    with pytest.raises(InvalidValueError):
        runs.cancel(project, run.id, actor="bob")


def test_cancel_of_a_queued_run(repos: Repositories, project: int) -> None:
    gate = Gate()
    service = ProjectRuns(repos, JobRunner(max_workers=1), progress_interval=0)
    with service.runner:
        first = service.start(project, "sites", gate, actor="alice")
        queued = service.start(project, "sites", _quick, actor="alice")
        assert gate.started.wait(DEADLINE)
        assert service.cancel(project, queued.id, actor="alice").status == "cancelled"
        gate.release.set()
        assert service.wait(first.id, DEADLINE)
        assert service.wait(queued.id, DEADLINE)
    assert service.get(project, first.id).status == "done"
    assert service.get(project, queued.id).status == "cancelled"
    assert service.get(project, queued.id).started_at is None


def test_a_cancel_asked_by_another_process_stops_the_run(url: str, project: int) -> None:
    worker = ProjectRuns(open_repositories(url), JobRunner(max_workers=1), progress_interval=0)
    other = ProjectRuns(open_repositories(url), JobRunner(max_workers=1))
    gate = Gate()
    with worker.runner, other.runner:
        run = worker.start(project, "sites", gate, actor="alice")
        assert gate.started.wait(DEADLINE)
        _until(lambda: other.get(project, run.id).status == "running")
        other.cancel(project, run.id, actor="bob")  # this process has no job of it
        assert worker.wait(run.id, DEADLINE)  # stopped at a progress point, not released
    assert not gate.release.is_set()
    assert other.get(project, run.id).status == "cancelled"
    assert other.results(project, run.id) == []


def test_runs_belong_to_their_project(runs: ProjectRuns, repos: Repositories, project: int) -> None:
    elsewhere = repos.projects.add_project(
        "Autre", territory="dep:05", territory_label="Hautes-Alpes", actor="test"
    ).id
    run = runs.start(project, "diagnostic", _quick, actor="alice")
    assert runs.wait(run.id, DEADLINE)
    with pytest.raises(UnknownRecordError):
        runs.get(elsewhere, run.id)
    with pytest.raises(UnknownRecordError):
        runs.read_result(elsewhere, run.id, "communes.csv")
    with pytest.raises(UnknownRecordError):
        runs.cancel(elsewhere, run.id, actor="alice")
    with pytest.raises(UnknownRecordError):
        runs.start(9999, "diagnostic", _quick, actor="alice")
    assert runs.list_runs(elsewhere) == []


def test_runs_left_by_a_dead_process_are_marked_interrupted(
    repos: Repositories, project: int
) -> None:
    def orphan(status: str, owner: dict[str, Any] | None) -> str:
        parameters = {} if owner is None else {OWNER_KEY: owner}
        run = repos.runs.create_run("diagnostic", parameters, author="alice")
        repos.projects.link_run(project, run.id)
        if status == "running":
            repos.runs.start_run(run.id)
        return run.id

    import socket  # noqa: PLC0415

    host = socket.gethostname()
    dead = orphan("running", {"hote": host, "pid": 2**22 + 12345, "debut": "1"})
    queued = orphan("queued", {"hote": host, "pid": 2**22 + 12345, "debut": "1"})
    reused = orphan("running", {"hote": host, "pid": os.getpid(), "debut": "autre"})
    unowned = orphan("running", None)
    alive = orphan("running", {"hote": host, "pid": os.getpid(), "debut": None})
    remote = orphan("running", {"hote": host + "-ailleurs", "pid": 1, "debut": "1"})
    service = ProjectRuns(repos, JobRunner(max_workers=1))
    with service.runner:
        marked = {r.id for r in service.recover_interrupted()}
    assert marked == {dead, queued, reused, unowned}
    for run_id in marked:
        run = repos.runs.get_run(run_id)
        assert run.status == "failed"
        assert "interrompu (serveur arrêté)" in (run.error or "")
    assert repos.runs.get_run(alive).status == "running"
    assert repos.runs.get_run(remote).status == "running"


def test_shutdown_marks_this_process_runs_interrupted(repos: Repositories, project: int) -> None:
    gate = Gate()
    service = ProjectRuns(repos, JobRunner(max_workers=1), progress_interval=0)
    run = service.start(project, "sites", gate, actor="alice")
    assert gate.started.wait(DEADLINE)
    service.shutdown(wait=True)
    stopped = repos.runs.get_run(run.id)
    assert stopped.status == "failed"
    assert "interrompu" in (stopped.error or "")


def test_labels_are_french() -> None:
    assert run_kind_label("diagnostic") == "Diagnostic territorial"
    assert run_kind_label("inconnu") == "inconnu"
    assert run_status_label("running") == "En cours"
    assert run_status_label("cancelled") == "Annulé"


def test_finished_results_are_read_once_and_parsed_once(
    runs: ProjectRuns, repos: Repositories, project: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished run's files never change: the store is read once per process and a
    JSON document parsed once; an unfinished run is always read from the store."""
    run = runs.start(project, "diagnostic", _quick, actor="camille")
    assert runs.wait(run.id, DEADLINE)
    reads: list[str] = []
    original = repos.runs.read_result

    def counted(run_id: str, name: str) -> bytes:
        reads.append(name)
        return original(run_id, name)

    monkeypatch.setattr(repos.runs, "read_result", counted)
    first = runs.read_result_json(project, run.id, "communes.geojson")
    assert first == {}
    assert runs.read_result_json(project, run.id, "communes.geojson") is first
    assert runs.read_result(project, run.id, "communes.csv") == b"code\n05061\n"
    assert runs.read_result(project, run.id, "communes.csv") == b"code\n05061\n"
    assert reads == ["communes.geojson", "communes.csv"]
    with pytest.raises(UnknownRecordError):
        runs.read_result(project, run.id, "absent.csv")
    # Runs of another project stay out of reach, cached or not.
    other = repos.projects.add_project(
        "Autre", territory="dep:05", territory_label="Hautes-Alpes", actor="camille"
    )
    with pytest.raises(UnknownRecordError):
        runs.read_result(other.id, run.id, "communes.csv")


def test_a_cancel_after_the_last_progress_point_keeps_no_result(
    runs: ProjectRuns, repos: Repositories, project: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user cancels while the run's files are being kept (after its last progress
    point; the browser test of the sites screen met it): the run ends cancelled with no
    file, never cancelled with its results nor done without them."""
    monkeypatch.setattr(project_runs_module._Progress, "check", lambda _self: None)
    holder: dict[str, str] = {}

    def cancelled_at_the_end(*, progress: ProgressCallback) -> RunOutcome:
        outcome = _quick(progress=progress)
        repos.runs.cancel_run(holder["run"])  # the user's click, through the store
        return outcome

    run = runs.start(project, "sites", cancelled_at_the_end, actor="alice")
    holder["run"] = run.id
    assert runs.wait(run.id, DEADLINE)
    assert runs.get(project, run.id).status == "cancelled"
    assert runs.results(project, run.id) == []


def test_finishing_a_cancelled_run_writes_nothing(repos: Repositories) -> None:
    run = repos.runs.create_run("sites", {}, author="alice")
    repos.runs.start_run(run.id)
    repos.runs.cancel_run(run.id)
    with pytest.raises(InvalidValueError):
        repos.runs.finish_run(run.id, summary={}, results=[("a.csv", b"x", "text/csv")])
    assert repos.runs.list_results(run.id) == []
    assert repos.runs.get_run(run.id).status == "cancelled"
    done = repos.runs.create_run("sites", {}, author="alice")
    repos.runs.start_run(done.id)
    repos.runs.finish_run(done.id, summary={}, results=[("a.csv", b"x", "text/csv")])
    assert [r.name for r in repos.runs.list_results(done.id)] == ["a.csv"]
