"""The robustness run (``bench/robustness.py``) counts refusals, crashes and silently
wrong results correctly, with the generator the fuzz tests share (``tests/malformed.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tierslieux.errors import SchemaError

BENCH = Path(__file__).resolve().parents[1] / "bench" / "robustness.py"


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("robustness_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_small_run_has_no_unexpected_error(capsys):
    bench = _bench()
    assert bench.main(["--variants", "5", "--format", "demand"]) == 0
    out = capsys.readouterr().out
    assert "demand" in out
    assert "total" in out
    assert "acceptées mais fausses" in out


def test_bench_and_fuzz_tests_share_one_generator():
    import malformed  # noqa: PLC0415

    bench = _bench()
    assert bench.mutate is malformed.mutate
    assert {f.name for f in bench.formats()} == {f.name for f in malformed.formats()}
    assert all(f.check is not None for f in bench.formats())


def test_silently_wrong_result_is_counted():
    bench = _bench()

    def accept(_path: Path, _cache: Path) -> object:
        return "lu"

    def wrong(_data: bytes, result: object) -> list[str]:
        return [f"faux : {result}"]

    fmt = bench.Format("x", "x.csv", b"a,b\n1,2\n", ",", accept, wrong)
    outcome = bench.run_format(fmt, 0, 3)
    assert (outcome.accepted, len(outcome.wrong)) == (3, 3)
    assert outcome.wrong[0][1] == "faux : lu"
    fmt.check = lambda _data, _result: []
    assert not bench.run_format(fmt, 0, 3).wrong


def test_crash_is_counted_and_refusal_is_not():
    bench = _bench()

    def crash(_path: Path, _cache: Path) -> object:
        raise KeyError("boom")

    def refuse(_path: Path, _cache: Path) -> object:
        raise SchemaError("refusé")

    fmt = bench.Format("x", "x.csv", b"a,b\n1,2\n", ",", crash)
    crashed = bench.run_format(fmt, 0, 4)
    assert crashed.tried == 4
    assert len(crashed.unexpected) == 4
    assert "KeyError" in crashed.unexpected[0][1]
    fmt.read = refuse
    refused = bench.run_format(fmt, 0, 4)
    assert refused.refused == 4
    assert not refused.unexpected
