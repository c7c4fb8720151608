"""Ctrl-C at any moment: exit code 130, « Interrompu. » on one line, no traceback (issue 11).

The child runs the ``tierslieux`` entry point (``tierslieux.__main__:main``, what the
console script and ``python -m tierslieux`` call) and gets SIGINT at several moments:
while the command line's libraries are imported, while the command runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import typer

from tierslieux import __main__ as entry
from tierslieux.cli.common import guarded

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# What the console script does, with a line telling the test that Python has started
# and imported the entry point (two small modules of the standard library only: before
# that, an interrupt is the interpreter's own and no program can catch it).
_CHILD = (
    "import sys\n"
    "from tierslieux.__main__ import main\n"
    "print('started', flush=True)\n"
    "sys.argv = ['tierslieux', *sys.argv[1:]]\n"
    "sys.exit(main())\n"
)


def _interrupted(args: list[str], delay: float, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"),
        "TIERSLIEUX_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "TIERSLIEUX_LANG": "fr",
    }
    with subprocess.Popen(  # noqa: S603 - the test's own interpreter
        [sys.executable, "-c", _CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "started"
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
        return subprocess.CompletedProcess(child.args, child.returncode, out, err)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5])
def test_ctrl_c_during_start_up(delay: float, tmp_path: Path) -> None:
    # ``diagnose --demo`` imports everything, then computes for several seconds.
    result = _interrupted(
        ["diagnose", "--demo", "--territory", "dep:00", "--out", str(tmp_path / "o")],
        delay,
        tmp_path,
    )
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "Interrompu.", result.stderr


def test_ctrl_c_while_a_command_runs(tmp_path: Path) -> None:
    # Started, imported, then interrupted in the middle of the diagnosis: the delay is
    # 60 % of an uninterrupted run measured here (a fixed delay ran past the end of
    # the command on a fast machine, or stopped it during start-up on a loaded one).
    args = ["diagnose", "--demo", "--territory", "dep:00", "--out", str(tmp_path / "o")]
    began = time.monotonic()
    full = subprocess.run(  # noqa: S603 - the test's own interpreter
        [sys.executable, "-c", _CHILD, *args[:-1], str(tmp_path / "full")],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"),
            "TIERSLIEUX_LANG": "fr",
        },
        check=False,
    )
    assert full.returncode == 0, full.stderr
    result = _interrupted(args, 0.6 * (time.monotonic() - began), tmp_path)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1:] == ["Interrompu."], result.stderr


def test_python_dash_m_is_the_same_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tierslieux", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tierslieux ")


def test_entry_point_starts_without_the_heavy_modules() -> None:
    # Only the standard library is imported before the guard: an interrupt there is the
    # interpreter's own (a few microseconds), not several seconds of imports.
    code = (
        "import sys; import tierslieux.__main__; "
        "print(sorted(m for m in sys.modules if m.startswith('tierslieux')))"
    )
    result = subprocess.run(  # noqa: S603 - the test's own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "['tierslieux', 'tierslieux.__main__', 'tierslieux._interrupt']"


def test_entry_point_declared_in_pyproject() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8")
    assert 'tierslieux = "tierslieux.__main__:main"' in pyproject
    assert callable(entry.main)


@pytest.mark.parametrize(
    "error", [RuntimeError("Query interrupted"), duckdb.InterruptException("INTERRUPT Error")]
)
def test_ctrl_c_seen_by_duckdb_is_an_interrupt(error: Exception, capsys) -> None:
    # DuckDB catches SIGINT during a query and raises its own error instead.
    @guarded
    def command(debug: bool = False) -> None:
        raise error

    with pytest.raises(typer.Exit) as caught:
        command()
    assert caught.value.exit_code == 130
    assert capsys.readouterr().err.strip() == "Interrompu."


def test_importing_the_entry_point_keeps_the_importers_ctrl_c() -> None:
    # pytest imported ``tierslieux.__main__`` above: its Ctrl-C is still Python's own.
    assert entry._is_the_command_line() is False
    assert signal.getsignal(signal.SIGINT) is not entry._start_up


@pytest.mark.parametrize(
    ("argv0", "ours"),
    [
        ("/venv/bin/tierslieux", True),
        ("/site-packages/tierslieux/__main__.py", True),
        ("-c", True),
        ("/site-packages/pytest/__main__.py", False),  # python -m pytest
        ("/venv/bin/pytest", False),
        ("/venv/bin/jupyter-lab", False),
    ],
)
def test_which_process_is_the_command_line(argv0: str, ours: bool, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", [argv0])
    assert entry._is_the_command_line() is ours
