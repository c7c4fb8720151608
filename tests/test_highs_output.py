"""HiGHS writes nothing to the console, even from several threads, and never moves stdout.

HiGHS prints from C++, below Python's ``sys.stdout``: only a child process's real
standard output shows what it wrote, hence the subprocesses.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tierslieux.analysis.optimise import HIGHS_LOG, solve_max_coverage

_THREADS = textwrap.dedent(
    """
    import logging, sys, threading
    import numpy as np
    from tierslieux.analysis.optimise import solve_max_coverage

    if sys.argv[1] == "log":
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        logging.getLogger("tierslieux.highs").setLevel(logging.DEBUG)
    barrier = threading.Barrier(8)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        barrier.wait()
        try:
            for _ in range(15):
                cover = rng.random((8, 10)) < 0.3
                solve_max_coverage(cover, rng.random(10), 2, method="exact")
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("MARQUEUR-FIN", len(errors), flush=True)
    """
)


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", _THREADS, mode],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("mode", ["quiet", "log"])
def test_eight_threads_solving_leave_stdout_working_and_clean(mode: str) -> None:
    done = _run(mode)
    assert done.returncode == 0, done.stderr
    # The main thread's stdout still reaches the terminal (it went to /dev/null with dup2).
    assert done.stdout.strip() == "MARQUEUR-FIN 0"
    assert "HiGHS" not in done.stdout
    assert "Running HiGHS" not in done.stderr
    if mode == "log":
        assert "DEBUG:tierslieux.highs:" in done.stderr  # captured through the callback
    else:
        assert done.stderr == ""


def test_the_log_goes_to_the_logger_only_when_wanted(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(3)
    cover, weights = rng.random((10, 20)) < 0.3, rng.random(20)
    with caplog.at_level(logging.INFO, logger=HIGHS_LOG.name):
        solve_max_coverage(cover, weights, 3, method="exact")
    assert not [r for r in caplog.records if r.name == HIGHS_LOG.name]
    with caplog.at_level(logging.DEBUG, logger=HIGHS_LOG.name):
        result = solve_max_coverage(cover, weights, 3, method="exact")
    lines = [r.getMessage() for r in caplog.records if r.name == HIGHS_LOG.name]
    assert result.solver == "highs"
    assert any(line.startswith("MIP") for line in lines), lines
    assert all(line == line.rstrip() and line for line in lines)
