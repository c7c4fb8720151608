"""Frozen value types shared by every layer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from pathlib import PurePath

__all__ = ["ProgressCallback", "ProgressEvent", "ProgressReporter", "Provenance", "file_name"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a long computation, for a progress display (CLI or web page).

    Attributes
    ----------
    phase
        Stable code of the phase (``"recensement"``, ``"flux"``, ``"resolution"``,
        ``"alternatives"``, ``"sensibilite"``...), for a program to react to.
    message
        What is happening, in French, ready to show.
    elapsed
        Seconds since the computation started.
    gap
        Current proven optimality gap of the solver (0-1), when known.
    step, total
        Position in a series of similar steps (alternative 3 of 10), when relevant.
    fraction
        Share of the whole computation done when the step starts (0-1), when the use
        case can estimate it; a job runner shows it as a progress bar.
    """

    phase: str
    message: str
    elapsed: float
    gap: float | None = None
    step: int | None = None
    total: int | None = None
    fraction: float | None = None


#: A function receiving progress events; it must return quickly. It may raise to stop
#: the computation (a job runner raises when the job is cancelled or out of time): the
#: exception then propagates out of the use case, through the solver if it is running.
ProgressCallback: TypeAlias = Callable[[ProgressEvent], None]


class ProgressReporter:
    """Progress events of one run, timed from its start (nothing happens without a callback).

    ``report = ProgressReporter(progress)`` then ``report("phase", _("Message"), 0.4)``.
    """

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.started = time.perf_counter()

    def __call__(
        self,
        phase: str,
        message: str,
        fraction: float | None = None,
        *,
        step: int | None = None,
        total: int | None = None,
    ) -> None:
        """Send one event (phase code, French message, share done) to the callback."""
        if self.callback is not None:
            elapsed = time.perf_counter() - self.started
            self.callback(
                ProgressEvent(phase, message, elapsed, step=step, total=total, fraction=fraction)
            )


@dataclass(frozen=True)
class Provenance:
    """Where one input came from, so that every output can say which data it used.

    Attributes
    ----------
    role
        What the input is for: ``"communes"``, ``"zonages"``, ``"mobpro"``...
    location
        Local path or URL the data was read from.
    vintage
        Year or date of the data as published (``"RP2021"``, ``"COG 2024"``), if known.
    sha256
        Checksum of the file read, if it is a file.
    retrieved
        ISO date of the download, when the tool downloaded it.
    synthetic
        True when the data is synthetic or fictional: every output then says so.
    notes
        Free remarks shown in reports (limits of the source, licence...).
    """

    role: str
    location: str
    vintage: str | None = None
    sha256: str | None = None
    retrieved: str | None = None
    licence: str | None = None
    synthetic: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable mapping."""
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data


def file_name(location: str | PurePath) -> str:
    """The file name of ``location`` (a server path), an address (``http…``) unchanged;
    several merged files (``a/communes.csv + b/contours.geojson``) each by their name."""
    text = str(location)
    if " + " in text:
        return " + ".join(file_name(part) for part in text.split(" + "))
    if "://" in text:
        return text
    return text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or text
