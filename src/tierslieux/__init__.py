"""tierslieux: evidence for launching rural tiers-lieux from official open data.

The error classes are imported lazily (:pep:`562`): the ``tierslieux`` command's entry
point (:mod:`tierslieux.__main__`) must start without importing the translation
catalogue, so that a Ctrl-C during start-up is reported on one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierslieux.errors import SchemaError, SourceError, TerritoryError, TierslieuxError

__all__ = ["SchemaError", "SourceError", "TerritoryError", "TierslieuxError", "__version__"]

__version__ = "0.1.0"

_LAZY = frozenset({"SchemaError", "SourceError", "TerritoryError", "TierslieuxError"})


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from tierslieux import errors  # noqa: PLC0415 - lazy on purpose

        return getattr(errors, name)
    raise AttributeError(f"module 'tierslieux' has no attribute {name!r}")
