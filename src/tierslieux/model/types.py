"""Frozen value types shared by every layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Provenance"]


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
