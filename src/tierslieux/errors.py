"""Exceptions of tierslieux.

Every error a user can trigger derives from :class:`TierslieuxError`; specific
errors also inherit a built-in (``ValueError``, ``OSError``) so that generic
callers can catch them.  Messages are already translated (see :mod:`tierslieux.i18n`)
and say what went wrong, where (file, line, column) and how to fix it.  The CLI prints
one line and exits 1; the web app answers 4xx with the same text.
"""

from __future__ import annotations

__all__ = [
    "DownloadError",
    "InfeasibleError",
    "SchemaError",
    "SourceError",
    "StoreError",
    "TerritoryError",
    "TierslieuxError",
]


class TierslieuxError(Exception):
    """Base class of every error reported to the user."""


class SourceError(TierslieuxError, OSError):
    """An input file or URL cannot be read (missing, empty, truncated archive...)."""


class DownloadError(SourceError):
    """A download failed or its checksum does not match the catalogue."""


class SchemaError(TierslieuxError, ValueError):
    """An input is readable but its content is not what the format expects."""


class TerritoryError(TierslieuxError, ValueError):
    """A territory specification is invalid or selects no commune."""


class InfeasibleError(TierslieuxError, ValueError):
    """An optimisation problem has no solution under the stated constraints."""


class StoreError(TierslieuxError, RuntimeError):
    """The operational store refused a write (stale version, constraint...)."""
