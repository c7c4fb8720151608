"""Nested mappings kept as long tables (the zonings' labels and sizes, in Parquet).

``{level: {code: value}}`` (``{"epci": {"200071025": "CC Haute-Provence-Pays de
Banon"}}``) is written as the long table ``niveau, code, <value>`` and read back the same:
the workspace and the prepared project inputs keep them so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["long_table", "nested_mapping"]


def long_table(mapping: dict[str, dict[str, Any]], value: str) -> pd.DataFrame:
    """``{level: {code: value}}`` as a long table ``niveau, code, <value>``."""
    rows = [(level, str(code), v) for level, codes in mapping.items() for code, v in codes.items()]
    return pd.DataFrame(rows, columns=["niveau", "code", value])


def nested_mapping(frame: pd.DataFrame, value: str) -> dict[str, dict[str, Any]]:
    """The long table ``niveau, code, <value>`` back as ``{level: {code: value}}``."""
    nested: dict[str, dict[str, Any]] = {}
    for level, code, v in zip(frame["niveau"], frame["code"], frame[value], strict=True):
        nested.setdefault(str(level), {})[str(code)] = v
    return nested
