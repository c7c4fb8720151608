"""Jobs: long computations run in worker threads, with progress, cancellation and a time limit.

A web process (or the CLI) hands a use case to a :class:`JobRunner` and gets a
:class:`Job` back at once; it then polls :meth:`Job.snapshot`, streams
:meth:`Job.subscribe` updates, waits with :meth:`Job.wait`, or cancels with
:meth:`Job.cancel`, without ever blocking on the computation::

    runner = JobRunner(max_workers=2)
    job = runner.submit(run_sites, settings, request, time_limit=600)
    job.snapshot()          # JobProgress(status=running, fraction=0.4, message=...)
    job.cancel()            # stops at the next progress point
    job.wait(5) and job.status  # JobStatus.CANCELLED

The use case receives a ``progress`` keyword argument (a
:data:`~tierslieux.model.types.ProgressCallback`) and calls it at each step; that is
where the job stops: cancellation and the time limit are *cooperative*, checked at each
progress point, where the callback raises :class:`JobCancelledError` or
:class:`JobTimedOutError`.
While HiGHS runs, its own periodic callback is such a point (the solver is interrupted
and the exception raised once it has returned, see :mod:`tierslieux.analysis.optimise`),
so a job stops during an exact solve too: within about a second in the branch and
bound, but only at the end of the root node before it (HiGHS calls no callback while it
solves the root relaxation and its cuts: 15-18 s measured on a 600 x 3,000 instance on a
loaded machine). A step that calls no progress point (reading a large file) is not
interrupted either: the job stops after it.

The job's time limit is not the solver's: the use case's own ``time_limit`` (for
example :attr:`~tierslieux.pipeline.sites.SitesRequest.time_limit`, seconds granted to
HiGHS, which runs in C) decides how long the solver searches; the job's limit only stops
the whole computation, without a result, once it is passed.

Each job runs in a copy of the submitting thread's :mod:`contextvars` context, so the
language chosen for the request (:func:`tierslieux.i18n.use_language`) holds in the job.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from tierslieux.model.types import ProgressEvent

__all__ = [
    "SITES_FRACTIONS",
    "Job",
    "JobCancelledError",
    "JobFailedError",
    "JobProgress",
    "JobRunner",
    "JobStatus",
    "JobTimedOutError",
    "estimate_fraction",
    "run_cancellable",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobCancelledError(TierslieuxError):
    """The job was cancelled by its user (raised at the next progress point)."""


class JobTimedOutError(TierslieuxError):
    """The job ran longer than its time limit (raised at the next progress point)."""


class JobFailedError(TierslieuxError):
    """An unexpected exception ended the job; the original one is :attr:`original`."""

    def __init__(self, message: str, original: BaseException) -> None:
        super().__init__(message)
        self.original = original


class JobStatus(enum.StrEnum):
    """Where a job stands; the last four are final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def finished(self) -> bool:
        """True once the job can change no more."""
        return self not in {JobStatus.QUEUED, JobStatus.RUNNING}


#: Share of ``run_sites`` done at the start and end of each of its phases, for events
#: that carry no :attr:`~tierslieux.model.types.ProgressEvent.fraction` (steps of a
#: series are spread over their span). Use cases that set ``fraction`` need none.
SITES_FRACTIONS: Mapping[str, tuple[float, float]] = {
    "territoire": (0.0, 0.05),
    "recensement": (0.05, 0.3),
    "flux": (0.3, 0.4),
    "resolution": (0.4, 0.6),
    "alternatives": (0.6, 0.85),
    "sensibilite": (0.85, 1.0),
}


def estimate_fraction(event: ProgressEvent) -> float | None:
    """Share done announced by ``event``, or estimated from its phase (None: unknown)."""
    if event.fraction is not None:
        return min(max(float(event.fraction), 0.0), 1.0)
    span = SITES_FRACTIONS.get(event.phase)
    if span is None:
        return None
    start, end = span
    if event.step is not None and event.total:
        return start + (end - start) * max(event.step - 1, 0) / event.total
    return start


@dataclass(frozen=True)
class JobProgress:
    """What a progress display needs to know about a job, at one instant.

    Attributes
    ----------
    job_id
        The job's identifier.
    status
        Where the job stands.
    fraction
        Share done (0-1), never decreasing; 1 once done.
    phase, message
        Code and French label of the current step (``None`` before the first one).
    elapsed
        Seconds since the job started running (0 while queued), until it finished.
    gap
        The solver's current proven gap, while it runs.
    step, total
        Position in a series of steps (alternative 3 of 10), when relevant.
    error
        The message of the job's error once it failed, was cancelled or timed out.
    """

    job_id: str
    status: JobStatus
    fraction: float
    phase: str | None = None
    message: str | None = None
    elapsed: float = 0.0
    gap: float | None = None
    step: int | None = None
    total: int | None = None
    error: str | None = None


#: A function receiving job updates (called from the worker thread; must return quickly).
JobListener = Callable[[JobProgress], None]


class Job(Generic[T]):
    """One computation handed to a :class:`JobRunner`; every method is thread-safe."""

    def __init__(self, job_id: str, time_limit: float | None, *, log_errors: bool = True) -> None:
        self.id = job_id
        self._log_errors = log_errors
        #: Seconds the job may run (from its start, not its submission), or None.
        self.time_limit = time_limit
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._status = JobStatus.QUEUED
        self._fraction = 0.0
        self._event: ProgressEvent | None = None
        self._events: list[ProgressEvent] = []
        self._listeners: list[JobListener] = []
        self._started: float | None = None
        self._ended: float | None = None
        self._cancel_requested = False
        self._result: T | None = None
        self._error: TierslieuxError | None = None
        self._traceback: str | None = None
        self._future: Future[None] | None = None

    # -- reading -------------------------------------------------------------------

    @property
    def status(self) -> JobStatus:
        """Where the job stands."""
        return self._status

    @property
    def fraction(self) -> float:
        """Share done (0-1), never decreasing."""
        return self._fraction

    @property
    def result(self) -> T | None:
        """The use case's return value once :attr:`status` is ``done``, else None."""
        return self._result

    @property
    def error(self) -> TierslieuxError | None:
        """Why the job did not finish.

        The use case's own :class:`TierslieuxError` as is, :class:`JobCancelledError`,
        :class:`JobTimedOutError`, or :class:`JobFailedError` wrapping an unexpected
        exception.
        """
        return self._error

    @property
    def traceback(self) -> str | None:
        """The traceback of an unexpected exception (for the logs), else None."""
        return self._traceback

    @property
    def events(self) -> tuple[ProgressEvent, ...]:
        """Every progress event received so far, in order."""
        with self._lock:
            return tuple(self._events)

    def snapshot(self) -> JobProgress:
        """The job's state now (for polling)."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> JobProgress:
        event = self._event
        end = self._ended if self._ended is not None else time.perf_counter()
        elapsed = 0.0 if self._started is None else end - self._started
        return JobProgress(
            job_id=self.id,
            status=self._status,
            fraction=self._fraction,
            phase=event.phase if event else None,
            message=event.message if event else None,
            elapsed=elapsed,
            gap=event.gap if event and self._status is JobStatus.RUNNING else None,
            step=event.step if event else None,
            total=event.total if event else None,
            error=str(self._error) if self._error is not None else None,
        )

    # -- waiting and subscribing -------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job is finished, at most ``timeout`` seconds; True if it is."""
        return self._finished.wait(timeout)

    def get(self, timeout: float | None = None) -> T:
        """Wait for the job and return its result, or raise its :attr:`error`.

        Raises
        ------
        TimeoutError
            The job is not finished after ``timeout`` seconds (it keeps running).
        """
        if not self.wait(timeout):
            raise TimeoutError(self.id)
        if self._error is not None:
            raise self._error
        return cast("T", self._result)  # set when done

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        """Call ``listener`` with a :class:`JobProgress` at every event and status change.

        The listener is called once at once with the current state (so that a job
        finished before the subscription is still seen), then from the worker thread;
        an exception it raises is logged, never propagated to the job. Returns a
        function that unsubscribes it.
        """
        with self._lock:
            self._listeners.append(listener)
            current = self._snapshot()
        self._call(listener, current)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _call(self, listener: JobListener, update: JobProgress) -> None:
        try:
            listener(update)
        except Exception:
            log.exception("Job %s: a progress listener failed", self.id)

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
            update = self._snapshot()
        for listener in listeners:
            self._call(listener, update)

    # -- cancelling ------------------------------------------------------------------

    def cancel(self) -> bool:
        """Ask the job to stop; True unless it had already finished.

        A queued job is cancelled at once; a running one at its next progress point.
        If it finishes before reaching one, it keeps its result (status ``done``).
        """
        with self._lock:
            if self._status.finished:
                return False
            self._cancel_requested = True
            future = self._future
        if future is not None and future.cancel():
            self._finish(
                JobStatus.CANCELLED, error=JobCancelledError(_("Calcul annulé à la demande."))
            )
        return True

    # -- running (worker side) ---------------------------------------------------------

    def _check(self) -> None:
        """Raise if the job was cancelled or passed its time limit."""
        if self._cancel_requested:
            raise JobCancelledError(_("Calcul annulé à la demande."))
        if (
            self.time_limit is not None
            and self._started is not None
            and time.perf_counter() - self._started > self.time_limit
        ):
            raise JobTimedOutError(
                _(
                    "Calcul arrêté : il dépassait la durée maximale de {s:.0f} secondes.",
                    s=self.time_limit,
                )
            )

    def _record(self, event: ProgressEvent) -> None:
        """The progress callback handed to the use case: stop if asked, else record and notify."""
        self._check()
        with self._lock:
            self._event = event
            self._events.append(event)
            estimate = estimate_fraction(event)
            if estimate is not None:
                self._fraction = max(self._fraction, estimate)
        self._notify()

    def _run(self, context: contextvars.Context, call: Callable[..., T]) -> None:
        with self._lock:
            if self._status.finished:  # cancelled while queued, before the future knew
                return
            self._status = JobStatus.RUNNING
            self._started = time.perf_counter()
        self._notify()
        try:
            self._check()
            value = context.run(call)
        except (JobCancelledError, JobTimedOutError) as error:
            status = (
                JobStatus.CANCELLED if isinstance(error, JobCancelledError) else JobStatus.TIMED_OUT
            )
            self._finish(status, error=error)
        except TierslieuxError as error:
            self._finish(JobStatus.FAILED, error=error)
        except Exception as error:  # noqa: BLE001  (kept in the job, never lost)
            self._unexpected(error)
        except BaseException as error:  # SystemExit...: recorded, then left to the pool
            self._unexpected(error)
            raise
        else:
            self._finish(JobStatus.DONE, result=value)

    def _unexpected(self, error: BaseException) -> None:
        if self._log_errors:
            log.error("Job %s failed unexpectedly", self.id, exc_info=error)
        wrapped = JobFailedError(
            _(
                "Erreur inattendue pendant le calcul ({kind}) : {detail}",
                kind=type(error).__name__,
                detail=error,
            ),
            error,
        )
        wrapped.__cause__ = error
        self._finish(JobStatus.FAILED, error=wrapped, trace=traceback.format_exc())

    def _finish(
        self,
        status: JobStatus,
        *,
        result: T | None = None,
        error: TierslieuxError | None = None,
        trace: str | None = None,
    ) -> None:
        with self._lock:
            if self._status.finished:
                return
            self._status = status
            self._ended = time.perf_counter()
            self._result = result
            self._error = error
            self._traceback = trace
            if status is JobStatus.DONE:
                self._fraction = 1.0
        self._finished.set()
        self._notify()

    def __repr__(self) -> str:
        return f"Job({self.id!r}, {self._status.value}, {self._fraction:.0%})"


class JobRunner:
    """A pool of worker threads running use cases as :class:`Job` objects.

    Parameters
    ----------
    max_workers
        Jobs run at the same time; the others wait in the queue (status ``queued``).
    time_limit
        Default time limit of every job, in seconds (None: no limit).
    log_errors
        Log unexpected exceptions of jobs with their traceback (logger
        ``tierslieux.pipeline.jobs``, level ERROR); they are kept in the job either way.
    """

    def __init__(
        self, max_workers: int = 2, *, time_limit: float | None = None, log_errors: bool = True
    ) -> None:
        if max_workers < 1:
            raise ValueError(max_workers)
        self.time_limit = time_limit
        self.log_errors = log_errors
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tierslieux")
        self._jobs: dict[str, Job[Any]] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,  # noqa: ANN401  (the use case's own arguments)
        time_limit: float | None = None,
        **kwargs: Any,  # noqa: ANN401
    ) -> Job[T]:
        """Queue ``fn(*args, progress=<job callback>, **kwargs)`` and return its job at once.

        ``fn`` must accept a ``progress`` keyword argument (``run_diagnosis``,
        ``run_communities``, ``run_sites`` do). A ``progress`` given in ``kwargs`` is
        still called, after the job has recorded the event. ``time_limit`` (seconds from
        the job's start; default the runner's) stops the job at the next progress point
        once passed; the solver's own limit stays the use case's (e.g.
        ``SitesRequest.time_limit``).
        """
        limit = self.time_limit if time_limit is None else time_limit
        if limit is not None and limit <= 0:
            raise ValueError(limit)
        with self._lock:
            job: Job[T] = Job(
                uuid.uuid4().hex, limit, log_errors=self.log_errors
            )  # not guessable: a web route takes it
            self._jobs[job.id] = job
        extra = kwargs.pop("progress", None)

        def callback(event: ProgressEvent) -> None:
            job._record(event)  # noqa: SLF001
            if extra is not None:
                extra(event)

        def call() -> T:
            return fn(*args, progress=callback, **kwargs)

        context = contextvars.copy_context()
        with job._lock:  # noqa: SLF001  (the runner and its jobs work together)
            job._future = self._pool.submit(job._run, context, call)  # noqa: SLF001
        return job

    def job(self, job_id: str) -> Job[Any] | None:
        """The job with this identifier (for a web route polling by id), or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job[Any]]:
        """Every job kept, in submission order."""
        with self._lock:
            return list(self._jobs.values())

    def forget(self, job_id: str) -> None:
        """Drop a finished job from the registry (its object stays usable)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.status.finished:
                del self._jobs[job_id]

    def shutdown(self, *, wait: bool = True, cancel: bool = False) -> None:
        """Stop accepting jobs; with ``cancel``, ask every unfinished job to stop."""
        if cancel:
            for job in self.jobs():
                job.cancel()
        self._pool.shutdown(wait=wait)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(wait=True, cancel=exc is not None)


def run_cancellable(
    fn: Callable[..., T],
    /,
    *args: Any,  # noqa: ANN401  (the use case's own arguments)
    **kwargs: Any,  # noqa: ANN401
) -> T:
    """Run ``fn`` in a worker thread and wait for it, so that Ctrl-C stops it (for the CLI).

    The calling (main) thread only waits: a ``KeyboardInterrupt`` reaches it at once,
    even while HiGHS runs in C, which swallows exceptions raised in its callbacks. The
    job is then cancelled, waited for until its next progress point, and the
    ``KeyboardInterrupt`` raised again. The result or error is the direct call's: a
    :class:`TierslieuxError` as is, an unexpected exception as itself (not wrapped).
    """
    with JobRunner(max_workers=1, log_errors=False) as runner:  # the caller reports them
        job = runner.submit(fn, *args, **kwargs)
        try:
            while not job.wait(0.2):  # short waits: a pending Ctrl-C is handled meanwhile
                pass
        except KeyboardInterrupt:
            job.cancel()
            job.wait()
            raise
        error = job.error
        if isinstance(error, JobFailedError):
            raise error.original
        return job.get()
