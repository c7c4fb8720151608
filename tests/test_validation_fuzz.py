"""Generated malformed files fed to the readers: only the project's errors may come out,
and what a reader accepts is not silently wrong.

The variants come from the generator the robustness run uses (``tests/malformed.py``,
``bench/robustness.py``), driven by a Hypothesis random source: cells replaced by odd
text (inf, NaN, negative numbers, huge fields), header cells swapped, duplicated or
dropped, lines inserted, cells dropped, truncation, bytes flipped or inserted, another
encoding.  A reader may refuse a variant with a
:class:`~tierslieux.errors.TierslieuxError`; any other exception (a crash behind the
CLI's catch-all) fails the test, and so does an accepted variant that its format's
oracle finds silently wrong (« acceptée mais fausse »: a line with a wrong number of
cells, rows dropped or a total changed without a note, non-finite or negative numbers
loaded, codes outside the dictionaries kept; issue 11).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from malformed import Format, format_named, mutate, oracle
from tierslieux.errors import TierslieuxError

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
STRUCTURES_HEADER = b"identifiant,nom,categorie,themes,code_commune,latitude,longitude\n"
FORMATS = (
    "mobpro",
    "communes",
    "traveltimes",
    "teleworkable",
    "zonages",
    "structures",
    "groups",
    "demand",
    "survey",
    "contacts",
)


def _checked(fmt: Format, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / fmt.file_name
        path.write_bytes(data)
        try:
            result = fmt.read(path, Path(folder) / "cache")
        except TierslieuxError:
            return
        problems = oracle(fmt, data, result)
        assert not problems, f"acceptée mais fausse : {problems}"


@pytest.mark.parametrize("name", FORMATS)
def test_reader_refuses_or_reads_right(name: str) -> None:
    fmt = format_named(name)

    @FAST
    @given(st.randoms(use_true_random=False))
    def check(rng: object) -> None:
        _checked(fmt, mutate(fmt.sample, fmt.separator, rng))  # type: ignore[arg-type]

    check()


def test_clean_samples_pass_their_oracle() -> None:
    # The oracle compares with the file itself: a valid sample must read right.
    for name in (*FORMATS, "mapping"):
        fmt = format_named(name)
        _checked(fmt, fmt.sample)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # A line with a cell fewer than the header (a separator deleted by hand).
        ("demand", b"code,demand,km\n05061,12.5\n05023,3,1\n"),
        ("traveltimes", b"origin,destination,minutes\n05061,05179\n05179,05061,23.0\n"),
        ("teleworkable", b"cs1,part,source\n1,0.03\n2,0.33,x\n"),
        ("zonages", b"CODGEO,LIBGEO,EPCI\n05061,Gap\n05023,Brian\xc3\xa7on,240500439\n"),
        # An unknown category would drop its structure without a word.
        (
            "structures",
            STRUCTURES_HEADER + b"siret:1,CAE,cea,,05061,44.5,6.0\n",
        ),
        # A longitude out of range would reach the maps.
        (
            "structures",
            STRUCTURES_HEADER + b"siret:1,CAE,cae,,05061,44.5,99999\n",
        ),
    ],
)
def test_malformed_lines_are_refused_with_file_and_line(
    name: str, data: bytes, tmp_path: Path
) -> None:
    fmt = format_named(name)
    path = tmp_path / fmt.file_name
    path.write_bytes(data)
    with pytest.raises(TierslieuxError) as caught:
        fmt.read(path, tmp_path / "cache")
    message = str(caught.value)
    assert str(path) in message
    assert "ligne 2" in message


def test_oracle_catches_a_silently_wrong_result() -> None:
    # The oracle itself can fail: a short line accepted, a total changed, a bad weight.
    fmt = format_named("demand")
    data = b"code,demand,km\n05061,12.5\n"
    import pandas as pd  # noqa: PLC0415

    padded = (pd.Series(["05061"]), pd.Series([12.5]), pd.Series([float("nan")]))
    assert any("nombre de cellules" in p for p in oracle(fmt, data, padded))
    data = b"code,demand,km\n05061,12.5,1\n05023,3,1\n"
    changed = (pd.Series(["05061", "05023"]), pd.Series([12.5, 30.0]), None)
    assert any("total" in p for p in oracle(fmt, data, changed))
    infinite = (pd.Series(["05061", "05023"]), pd.Series([float("inf"), 3.0]), None)
    assert any("non finie" in p for p in oracle(fmt, data, infinite))
    dropped = (pd.Series(["05061"]), pd.Series([12.5]), None)
    assert any("1 lue(s)" in p for p in oracle(fmt, data, dropped))


@pytest.mark.parametrize("name", [*FORMATS, "mapping"])
def test_utf16_with_bom_is_read_as_utf16(name: str, tmp_path: Path) -> None:
    # A spreadsheet's « Unicode text » export: read as UTF-16, not garbled Windows-1252.
    fmt = format_named(name)
    data = fmt.sample.decode("utf-8").encode("utf-16")
    path = tmp_path / fmt.file_name
    path.write_bytes(data)
    if name == "mapping":  # YAML: UTF-8 only, a UTF-16 file is refused, not misread
        with pytest.raises(TierslieuxError):
            fmt.read(path, tmp_path / "cache")
        return
    result = fmt.read(path, tmp_path / "cache")
    assert oracle(fmt, data, result) == []


@pytest.mark.parametrize("value", ["-16000", "-1e309", "inf"])
def test_impossible_commune_counts_are_refused(value: str, tmp_path: Path) -> None:
    fmt = format_named("communes")
    header, first, *rest = fmt.sample.decode("utf-8").splitlines()
    cells = first.split(",")
    cells[11] = value  # population_2021
    path = tmp_path / fmt.file_name
    path.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")
    with pytest.raises(TierslieuxError, match="ligne 2, colonne population_2021"):
        fmt.read(path, tmp_path / "cache")


def test_blank_structure_coordinates_are_unknown_not_kept_as_text(tmp_path: Path) -> None:
    """Found by the fuzzer: a latitude cell holding only a tab passed the check (blank)
    but stayed « \\t » in the table, a coordinate no later reader could parse."""
    path = tmp_path / "structures.csv"
    path.write_text(
        "identifiant,nom,categorie,themes,code_commune,latitude,longitude\n"
        "a,A,cae,,05061,\t,6.0\n"
        "b,B,cae,,05061, 44,5 ,6.1\n".replace(" 44,5 ", '" 44,5 "'),
        encoding="utf-8",
    )
    table = format_named("structures").read(path, tmp_path / "cache")
    rows = table.set_index("identifiant")  # type: ignore[union-attr]
    assert pd.isna(rows.loc["a", "latitude"])
    assert rows.loc["b", "latitude"] == "44.5"
    assert rows.loc["a", "longitude"] == "6.0"
