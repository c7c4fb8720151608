"""Generated malformed files fed to the readers: only the project's errors may come out.

Each reader gets variants of a valid test file (cells replaced by odd text, bytes
inserted or deleted, truncation, duplicated header cells, another encoding).  It may
accept a variant or refuse it with a :class:`~tierslieux.errors.TierslieuxError`; any
other exception (a crash behind the CLI's catch-all) fails the test (issue 11).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierslieux.errors import TierslieuxError
from tierslieux.pipeline.inputs import teleworkable_shares
from tierslieux.sources.communes import load_communes
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.traveltimes import load_travel_times

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = Path(__file__).parent / "data"
FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ODD_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "inf",
            "-inf",
            "NaN",
            "-1",
            "1e309",
            "ZZZZZ",
            "Z",
            "2A",
            "99999",
            "=1+1",
            '"',
            '""',
            "\t",
            "\r\n",
            "é",
            "\x00",
            "1,5",
            "9" * 300,
        ]
    ),
    st.text(max_size=20),
)


@st.composite
def variants(draw: st.DrawFn, base: bytes, separator: str) -> bytes:
    """A malformed variant of ``base``: a few cell, byte or structure mutations."""
    lines = base.decode("utf-8").splitlines()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cell", "header", "drop", "insert", "duplicate", "cut"]))
        row = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            break
        cells = lines[row].split(separator)
        column = draw(st.integers(0, len(cells) - 1))
        if kind in {"cell", "header"}:
            if kind == "header":
                row, cells = 0, lines[0].split(separator)
                column = min(column, len(cells) - 1)
            cells[column] = draw(ODD_CELLS)
            lines[row] = separator.join(cells)
        elif kind == "drop":
            del cells[column]
            lines[row] = separator.join(cells)
        elif kind == "insert":
            lines.insert(row, draw(ODD_CELLS))
        elif kind == "duplicate":
            header = lines[0].split(separator)
            header.append(header[min(column, len(header) - 1)])
            lines[0] = separator.join(header)
        else:
            lines = lines[: row + 1]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return data


def _only_project_errors(name: str, data: bytes, read: Callable[[Path, Path], object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        with contextlib.suppress(TierslieuxError):
            read(path, Path(folder) / "cache")


def _mobpro(path: Path, cache: Path) -> None:
    with duckdb.connect() as con:
        open_mobpro(path, con, cache_dir=cache)
        con.execute("SELECT count(*), sum(weight) FROM mobpro").fetchall()


MOBPRO = (DATA / "mobpro" / "FD_MOBPRO_2021_extrait.csv").read_bytes()
COMMUNES = (DATA / "communes" / "communes_extrait.csv").read_bytes()
MATRIX = (DATA / "traveltimes" / "od_valide.csv").read_bytes()
SHARES = b"cs1,part,source\n1,0.03,x\n2,0.33,x\n3,0.72,x\n4,0.48,x\n5,0.36,x\n6,0.02,x\n"


@FAST
@given(variants(MOBPRO, ";"))
def test_mobpro_reader(data: bytes) -> None:
    _only_project_errors("FD_MOBPRO_2021.csv", data, _mobpro)


@FAST
@given(variants(COMMUNES, ","))
def test_communes_reader(data: bytes) -> None:
    _only_project_errors("communes.csv", data, lambda path, _cache: load_communes(path))


@FAST
@given(variants(MATRIX, ","))
def test_travel_time_reader(data: bytes) -> None:
    _only_project_errors("od.csv", data, lambda path, _cache: load_travel_times(path))


@FAST
@given(variants(SHARES, ","))
def test_teleworkable_reader(data: bytes) -> None:
    _only_project_errors("parts.csv", data, lambda path, _cache: teleworkable_shares(path))
