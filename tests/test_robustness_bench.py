"""The robustness run (``bench/robustness.py``) counts refusals and crashes correctly."""

from __future__ import annotations

import importlib.util
import random
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


def test_variants_are_deterministic():
    bench = _bench()
    one = bench.mutate(b"code,demand\n05061,1\n", ",", random.Random("x:3"))  # noqa: S311 - reproducible variants
    two = bench.mutate(b"code,demand\n05061,1\n", ",", random.Random("x:3"))  # noqa: S311 - reproducible variants
    assert one == two


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
