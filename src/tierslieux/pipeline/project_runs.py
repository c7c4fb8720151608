"""Runs of the use cases for a project: started, followed and kept in the store.

Every screen of the web application that computes something (diagnostic, base
communities, experimentation sites, questionnaire...) goes through one
:class:`ProjectRuns` of the process::

    runs = ProjectRuns(repos, JobRunner(max_workers=2))
    run = runs.start(project.id, "diagnostic", use_case, parameters={...}, actor=user)
    runs.get(project.id, run.id).progress       # 0.4, read from the store
    runs.cancel(project.id, run.id, actor=user)  # from any worker process
    runs.read_result(project.id, run.id, "communes.csv")

``use_case`` is called in a worker thread as ``use_case(progress=callback)``, where
``callback`` is a :data:`~tierslieux.model.types.ProgressCallback`, and returns a
:class:`RunOutcome`: the summary and the result files (the bytes the command line
writes: CSV, GeoJSON, HTML...). The run lives in the store, never in the browser:

- created ``queued`` and linked to the project, then ``running`` once a worker
  thread takes it; progress is written to the store at most every
  ``progress_interval`` seconds (and at each change of step);
- ``done`` with its summary and files once the use case returns; ``failed`` with the
  French message of the error (a :class:`~tierslieux.errors.TierslieuxError`, the
  job's time limit, or an unexpected error, logged with its traceback);
  ``cancelled`` on request;
- a cancellation is written to the store at once (so any worker process can ask for
  it); the process running the job sees it at the next progress point where it
  writes its progress, and stops there without keeping any result;
- :meth:`ProjectRuns.recover_interrupted` (called when the application starts) marks
  ``failed`` « interrompu (serveur arrêté) » the runs left queued or running by a
  process of this machine that no longer exists; :meth:`ProjectRuns.shutdown` does the
  same for this process's unfinished runs when the server stops.

Each run records the process that owns it (host, pid, start time of the process) in
its parameters under ``_processus``; runs of another host are left alone.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.pipeline._prepared_inputs import read_project_files
from tierslieux.pipeline.inputs import InputFiles, load_inputs, resolve_zonages
from tierslieux.pipeline.jobs import (
    Job,
    JobCancelledError,
    JobRunner,
    estimate_fraction,
)
from tierslieux.pipeline.projects import write_dataset
from tierslieux.pipeline.workspace import Workspace
from tierslieux.store import (
    InvalidValueError,
    ResultView,
    RunPendingError,
    RunView,
    UnknownRecordError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback, ProgressEvent
    from tierslieux.pipeline.inputs import LoadedInputs
    from tierslieux.sources.zonages import Zonages
    from tierslieux.store import DatasetView, Repositories

__all__ = [
    "INPUT_ROLES",
    "OWNER_KEY",
    "RUN_KINDS",
    "InvalidValueError",
    "ProjectRuns",
    "ResultView",
    "RunOutcome",
    "RunPendingError",
    "RunUseCase",
    "RunView",
    "UnknownRecordError",
    "finished_result",
    "finished_result_json",
    "interrupted_message",
    "project_inputs",
    "run_kind_label",
    "run_status_label",
]

log = logging.getLogger(__name__)

#: Key of the run's parameters that names the process running it.
OWNER_KEY = "_processus"
#: Kinds of runs of a project (code -> untranslated label; see :func:`run_kind_label`).
RUN_KINDS: Mapping[str, str] = {
    "diagnostic": N_("Diagnostic territorial"),
    "communities": N_("Communautés-base"),
    "sites": N_("Sites d'expérimentation"),
    "survey": N_("Questionnaire"),
    "dossier": N_("Dossier du territoire"),
}
_STATUS_LABELS: Mapping[str, str] = {
    "queued": N_("En attente"),
    "running": N_("En cours"),
    "done": N_("Terminé"),
    "failed": N_("Échec"),
    "cancelled": N_("Annulé"),
}
_UNFINISHED = ("queued", "running")
_SCAN_LIMIT = 10_000


#: Roles of a project's files that replace the workspace's inputs (communes and their
#: outlines, zonings, census, density grid:
#: :func:`~tierslieux.pipeline._prepared_inputs.read_project_files`).
INPUT_ROLES = ("communes", "contours", "zonages", "mobpro", "densite")


def run_kind_label(kind: str) -> str:
    """The French (or current language's) name of a kind of run."""
    label = RUN_KINDS.get(kind)
    return _(label) if label is not None else kind


def run_status_label(status: str) -> str:
    """The French (or current language's) name of a run's status."""
    label = _STATUS_LABELS.get(status)
    return _(label) if label is not None else status


def interrupted_message() -> str:
    """The error of a run its process left unfinished."""
    return _("Calcul interrompu (serveur arrêté) : relancez-le.")


@dataclass(frozen=True)
class RunOutcome:
    """What a use case of a run returns.

    Attributes
    ----------
    summary
        A JSON object shown with the run (counts, territory, notes...).
    files
        ``(name, bytes)`` of each result file; the media type is guessed from the
        name unless given in ``media_types``.
    vintages
        The vintages of the inputs used (JSON object), when known.
    media_types
        Media type of some files by name (``{"x.bin": "application/octet-stream"}``).
    """

    summary: Mapping[str, Any]
    files: Sequence[tuple[str, bytes]] = ()
    vintages: Mapping[str, Any] | None = None
    media_types: Mapping[str, str] = field(default_factory=dict)

    def media_type(self, name: str) -> str:
        """The media type of the result file ``name``."""
        if name in self.media_types:
            return self.media_types[name]
        if name.endswith(".geojson"):
            return "application/geo+json"
        if name.endswith(".csv"):
            return "text/csv; charset=utf-8"
        guessed = mimetypes.guess_type(name)[0]
        return guessed or "application/octet-stream"


class RunUseCase(Protocol):
    """A use case run for a project: ``use_case(progress=callback) -> RunOutcome``."""

    def __call__(self, *, progress: ProgressCallback) -> RunOutcome:  # pragma: no cover
        """Compute, calling ``progress`` at each step; return the outcome."""
        ...


@contextmanager
def project_inputs(
    repos: Repositories,
    settings: Settings,
    project: int,
    workspace: Workspace | Path | None,
    *,
    mobpro: bool = True,
) -> Iterator[LoadedInputs]:
    """The loaded inputs of a project, while the ``with`` block runs.

    The one rule of every screen (diagnostic, sites, base communities, questionnaire):
    the project's own input files when it has any of :data:`INPUT_ROLES` (written to
    a temporary folder, read as the command line reads them; the roles it lacks are
    resolved as the command line does, from ``settings.data_dir`` or the catalogue),
    else the installation's workspace (``workspace``: its folder, or the workspace
    already opened, as a web process keeps it).  The project's other files
    (directory, tiers-lieux, actors, the site selection's files...) are not inputs of
    this kind: each use case reads those itself.

    ``mobpro``: the census is needed (diagnostic, sites); without it (directory,
    questionnaire) none is read and the zonings are not downloaded, only looked for in
    the data folder.  The inputs are loaded in memory: with ``mobpro=False`` they stay
    usable after the block.

    Raises
    ------
    TierslieuxError
        When a file is refused, or the project has no file and there is no workspace.
    """
    datasets = [d for d in repos.projects.datasets(project) if d.role in INPUT_ROLES]
    if datasets:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tierslieux-run-", dir=settings.cache_dir) as tmp:
            folder = Path(tmp)

            def write(dataset: DatasetView) -> Path:
                return write_dataset(repos, dataset, folder)

            # The communes, outlines, zonings and density grid are read once per
            # installation, then taken back prepared (Parquet); the census stays a
            # file DuckDB reads, written only when needed.
            read = read_project_files(settings, datasets, folder, write)
            census = next((d for d in datasets if d.role == "mobpro"), None)
            loaded = load_inputs(
                settings,
                InputFiles(mobpro=write(census) if mobpro and census is not None else None),
                mobpro=mobpro,
                download_zonages=mobpro and not settings.offline,
                read=read,
            )
            yield _named_by_reference(loaded, settings, workspace)
        return
    if workspace is None:
        raise TierslieuxError(
            _("Ce projet n'a aucun fichier d'entrée et l'installation n'a pas d'espace de travail.")
        )
    opened = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    yield opened.inputs(settings)


def _reference_zonages(settings: Settings, workspace: Workspace | Path | None) -> Zonages | None:
    """The installation's reference zonings: the workspace's, else those of its data
    folder (``settings.data_dir``, with their sibling labels file, read as the command
    line reads them: nothing downloaded), as the search of « Nouveau projet » names
    the territories; ``None`` when neither gives any."""
    known = None
    if workspace is not None:
        # A folder named but not built (the default ``<cache>/workspace``) is no workspace.
        with suppress(TierslieuxError):
            opened = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
            known = opened.zonages
    if known is None:
        with suppress(TierslieuxError):
            known = resolve_zonages(settings, None)
    return known


def _named_by_reference(
    inputs: LoadedInputs, settings: Settings, workspace: Workspace | Path | None
) -> LoadedInputs:
    """The project's zonings named by the installation's reference too.

    A project's zonings table uploaded alone (the Insee table without its sibling
    labels file) names no zone: its EPCI would be « Intercommunalité 200067320 » in
    the directory although the installation (workspace, or data folder without
    one) knows their official names.  The project's own labels win; the reference's
    fill the zones they lack (by code: a fictional workspace's codes are no real zone's).
    The reference is read only for a project that has zonings.
    """
    if inputs.zonages is None:
        return inputs
    known = _reference_zonages(settings, workspace)
    if known is None:
        return inputs
    own = inputs.zonages.labels
    labels = {
        level: {**known.labels.get(level, {}), **own.get(level, {})}
        for level in {*known.labels, *own}
    }
    if labels == own:
        return inputs
    return replace(inputs, zonages=replace(inputs.zonages, labels=labels))


def project_inputs_key(repos: Repositories, project: int) -> tuple[object, ...]:
    """What :func:`project_inputs` reads for ``project``: a key for a cache of its
    loaded inputs (the project's input files, by id and content; empty: the workspace).
    """
    return tuple(
        (d.role, d.id, d.sha256)
        for d in sorted(repos.projects.datasets(project), key=lambda d: d.id)
        if d.role in INPUT_ROLES
    )


class _ResultCache:
    """Result files of finished runs kept in memory (LRU, bounded in bytes).

    A finished run's results never change (the store refuses a second result of one
    name and a run gets its results before it is marked done), so the key is the
    run's id and the file's name; parsed JSON documents are kept the same way.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._items: OrderedDict[tuple[str, str, str], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> Any:  # noqa: ANN401
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: tuple[str, str, str], value: object, size: int) -> None:
        if size > self._limit // 4:
            return
        with self._lock:
            previous = self._items.pop(key, None)
            if previous is not None:
                self._size -= previous[1]
            self._items[key] = (value, size)
            self._size += size
            while self._size > self._limit and self._items:
                _key, (_value, dropped) = self._items.popitem(last=False)
                self._size -= dropped


#: Bytes of finished results (and of their parsed JSON, counted at their size) kept.
_RESULTS_KEPT_BYTES = 96 * 1024 * 1024
_results = _ResultCache(_RESULTS_KEPT_BYTES)


def finished_result(repos: Repositories, run: RunView, name: str) -> bytes:
    """The content of a result file of ``run``, from memory once read when it is finished.

    Raises
    ------
    UnknownRecordError
        When the run has no such file.
    """
    if not run.finished:
        return repos.runs.read_result(run.id, name)
    key = (run.id, name, "bytes")
    content: bytes | None = _results.get(key)
    if content is None:
        content = repos.runs.read_result(run.id, name)
        _results.put(key, content, len(content))
    return content


def finished_result_json(repos: Repositories, run: RunView, name: str) -> Any:  # noqa: ANN401
    """The parsed JSON of a result file of a finished ``run``, parsed once per process.

    The value is shared: callers must not change it.

    Raises
    ------
    UnknownRecordError
        When the run has no such file.
    """
    key = (run.id, name, "json")
    found = _results.get(key) if run.finished else None
    if found is None:
        content = finished_result(repos, run, name)
        found = json.loads(content)
        if run.finished:
            _results.put(key, found, len(content))
    return found


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"hote": socket.gethostname(), "pid": pid, "debut": _process_start(pid)}


def _alive(owner: Mapping[str, Any]) -> bool:
    """Whether the process ``owner`` (of this host) still runs."""
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    started = owner.get("debut")
    return started is None or started == _process_start(pid)


class _Progress:
    """Write a run's progress to the store, throttled; stop the run once cancelled there."""

    def __init__(self, repos: Repositories, run_id: str, interval: float) -> None:
        self._repos = repos
        self._run_id = run_id
        self._interval = interval
        self._last = float("-inf")
        self._phase: str | None = None
        self._fraction = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        estimate = estimate_fraction(event)
        if estimate is not None:
            self._fraction = max(self._fraction, estimate)
        now = time.monotonic()
        if event.phase == self._phase and now - self._last < self._interval:
            return
        self._phase = event.phase
        self._last = now
        try:
            self._repos.runs.report_progress(self._run_id, self._fraction, event.message)
        except InvalidValueError:
            self.check()

    def check(self) -> None:
        """Raise :class:`JobCancelledError` when the run is no longer running in the store."""
        if self._repos.runs.get_run(self._run_id).status != "running":
            raise JobCancelledError(_("Calcul annulé à la demande."))


class ProjectRuns:
    """The runs of every project, for one process (see the module documentation).

    Parameters
    ----------
    repos
        The store's repositories.
    runner
        The process's job runner (worker threads).
    progress_interval
        Least seconds between two progress writes of a run within one step.
    """

    def __init__(
        self, repos: Repositories, runner: JobRunner, *, progress_interval: float = 0.5
    ) -> None:
        self.repos = repos
        self.runner = runner
        self.progress_interval = progress_interval
        self._jobs: dict[str, Job[Any]] = {}
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------

    def list_runs(self, project: int) -> list[RunView]:
        """The runs of a project, latest first."""
        return self.repos.runs.project_runs(project)

    def latest(self, project: int, kind: str, *, status: str | None = None) -> RunView | None:
        """The latest run of ``kind`` of a project (only ``status`` ones when given)."""
        found = self.repos.runs.project_runs(project, kind=kind, status=status)
        return found[0] if found else None

    def get(self, project: int, run_id: str) -> RunView:
        """A run of a project.

        Raises
        ------
        UnknownRecordError
            When the run does not exist or belongs to another project.
        """
        if run_id not in set(self.repos.projects.run_ids(project)):
            raise UnknownRecordError(_("Aucune exécution « {id} ».", id=run_id))
        return self.repos.runs.get_run(run_id)

    def results(self, project: int, run_id: str) -> list[ResultView]:
        """The result files of a run of a project (without content)."""
        self.get(project, run_id)
        return self.repos.runs.list_results(run_id)

    def read_result(self, project: int, run_id: str, name: str) -> bytes:
        """The content of a result file of a run of a project.

        Raises
        ------
        UnknownRecordError
            When the run is not the project's or has no such file.
        """
        return finished_result(self.repos, self.get(project, run_id), name)

    def read_result_json(self, project: int, run_id: str, name: str) -> Any:  # noqa: ANN401
        """The parsed JSON of a result file of a run of a project (shared: do not change it).

        Raises
        ------
        UnknownRecordError
            When the run is not the project's or has no such file.
        """
        return finished_result_json(self.repos, self.get(project, run_id), name)

    # -- changing ----------------------------------------------------------------------

    def start(  # noqa: PLR0913 (keyword-only options of one start)
        self,
        project: int,
        kind: str,
        use_case: RunUseCase,
        *,
        actor: str,
        parameters: Mapping[str, Any] | None = None,
        time_limit: float | None = None,
        scenario_id: int | None = None,
        ip: str | None = None,
        exclusive: bool = False,
    ) -> RunView:
        """Create a run of ``kind`` for ``project`` and hand ``use_case`` to the runner.

        Returns the run as stored (``queued``) at once; ``actor`` is the login of the
        user who started it (recorded as its author and in the audit log).  With
        ``exclusive``, no second run of ``kind`` of the project starts while one is
        queued or running: the store checks and creates in one transaction
        (:class:`RunPendingError` names the run under way).

        Raises
        ------
        UnknownRecordError
            When the project does not exist.
        InvalidValueError
            When the kind or the parameters are refused.
        RunPendingError
            With ``exclusive``, when a run of ``kind`` of the project is under way.
        """
        self.repos.projects.get_project(project)
        values = {**(parameters or {}), OWNER_KEY: _this_process()}
        run = self.repos.runs.create_run(
            kind,
            values,
            author=actor,
            scenario_id=scenario_id,
            project=project,
            exclusive=exclusive,
        )
        self.repos.audit.record(
            actor=actor,
            action="run.start",
            target=f"project:{project}/run:{run.id}",
            details={"kind": kind},
            ip=ip,
        )
        with self._lock:
            self._purge()
            job = self.runner.submit(self._execute, run.id, use_case, time_limit=time_limit)
            self._jobs[run.id] = job
        return run

    def cancel(self, project: int, run_id: str, *, actor: str, ip: str | None = None) -> RunView:
        """Cancel a queued or running run of a project (recorded in the store at once).

        Raises
        ------
        UnknownRecordError
            When the run is not the project's.
        InvalidValueError
            When the run is already finished.
        """
        self.get(project, run_id)
        run = self.repos.runs.cancel_run(run_id)
        self.repos.audit.record(
            actor=actor, action="run.cancel", target=f"project:{project}/run:{run_id}", ip=ip
        )
        with self._lock:
            job = self._jobs.get(run_id)
        if job is not None:
            job.cancel()
        return run

    def recover_interrupted(self) -> list[RunView]:
        """Mark ``failed`` the unfinished runs whose process (on this host) is gone.

        Returns the runs marked. Runs started by another host are left alone.
        """
        host = socket.gethostname()
        marked: list[RunView] = []
        for status in _UNFINISHED:
            for run in self.repos.runs.list_runs(status=status, limit=_SCAN_LIMIT):
                owner = run.parameters.get(OWNER_KEY)
                if isinstance(owner, dict) and (owner.get("hote") != host or _alive(owner)):
                    continue
                try:
                    marked.append(self.repos.runs.fail_run(run.id, interrupted_message()))
                except InvalidValueError:  # finished meanwhile (by another process)
                    continue
        return marked

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Wait until this process's job of ``run_id`` has ended (for tests and tools).

        True when it has ended (or is not this process's).
        """
        with self._lock:
            job = self._jobs.get(run_id)
        return True if job is None else job.wait(timeout)

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop the runner; this process's unfinished runs are marked interrupted."""
        with self._lock:
            jobs = dict(self._jobs)
        for run_id, job in jobs.items():
            if job.status.finished:
                continue
            with suppress(InvalidValueError, UnknownRecordError):
                self.repos.runs.fail_run(run_id, interrupted_message())
            job.cancel()
        self.runner.shutdown(wait=wait, cancel=True)

    # -- worker side -------------------------------------------------------------------

    def _execute(self, run_id: str, use_case: RunUseCase, *, progress: ProgressCallback) -> None:
        """The job: run ``use_case`` and keep its outcome (or its error) in the store."""
        try:
            self.repos.runs.start_run(run_id)
        except InvalidValueError:  # cancelled (or failed) while queued
            return
        store = _Progress(self.repos, run_id, self.progress_interval)

        def callback(event: ProgressEvent) -> None:
            progress(event)  # the job's own checks: cancelled here, time limit
            store(event)  # cancelled by any process, through the store

        try:
            outcome = use_case(progress=callback)
            store.check()
            self._finish(run_id, outcome)
        except JobCancelledError:
            self._settle(run_id, None)
            raise
        except TierslieuxError as error:
            self._settle(run_id, str(error))
            raise
        except Exception as error:
            log.exception("Run %s failed unexpectedly", run_id)
            self._settle(
                run_id,
                _(
                    "Erreur inattendue pendant le calcul ({kind}) : {detail}",
                    kind=type(error).__name__,
                    detail=error,
                ),
            )
            raise

    def _finish(self, run_id: str, outcome: RunOutcome) -> None:
        """Keep the outcome and mark the run done, at once; a run cancelled meanwhile
        (after the last progress point) keeps nothing and ends cancelled."""
        try:
            self.repos.runs.finish_run(
                run_id,
                summary=outcome.summary,
                vintages=outcome.vintages,
                results=[
                    (name, content, outcome.media_type(name)) for name, content in outcome.files
                ],
            )
        except InvalidValueError:
            if self.repos.runs.get_run(run_id).status == "cancelled":
                raise JobCancelledError(_("Calcul annulé à la demande.")) from None
            raise

    def _settle(self, run_id: str, error: str | None) -> None:
        """Record a run's end without result: cancelled (``error`` None) or failed."""
        try:
            if error is None:
                self.repos.runs.cancel_run(run_id)
            else:
                self.repos.runs.fail_run(run_id, error)
        except InvalidValueError:  # already cancelled or interrupted in the store
            pass

    def _purge(self) -> None:
        """Drop the finished jobs (lock held)."""
        for run_id, job in list(self._jobs.items()):
            if job.status.finished:
                del self._jobs[run_id]
                self.runner.forget(job.id)
