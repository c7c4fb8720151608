"""Entry point of the ``tierslieux`` command (also ``python -m tierslieux``).

Ctrl-C at any moment ends the command with exit code 130 and one line,
« Interrompu. », never a traceback: while the command line's libraries are still
being imported (several seconds on a cold start), while Click reads the options,
and while a command runs (:func:`tierslieux.cli.common.guarded` reports it there).
This module imports nothing but the standard library before its ``try``, so that
the window where Python itself would print a traceback is as small as possible;
for the same reason ``tierslieux/__init__.py`` imports its errors lazily.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING

from tierslieux import _interrupt

if TYPE_CHECKING:
    from types import FrameType

__all__ = ["main"]


def _exit_now(_signum: int, _frame: FrameType | None) -> None:
    """A second Ctrl-C while the first one is being handled: leave at once."""
    os._exit(_interrupt.EXIT_CODE)


def _start_up(_signum: int, _frame: FrameType | None) -> None:
    """Ctrl-C before the command runs (nothing written yet): report and leave at once."""
    _interrupt.report()
    os._exit(_interrupt.EXIT_CODE)


def _is_the_command_line() -> bool:
    """Whether this process is the ``tierslieux`` command (not a program importing us)."""
    parts = sys.argv[0].rsplit(os.sep, 2)[-2:] if sys.argv else [""]
    # ``python -m tierslieux`` runs ``…/tierslieux/__main__.py``; ``python -m pytest``
    # runs ``…/pytest/__main__.py``, which is not us.
    return parts[-1] in {"tierslieux", "-c", "-m"} or parts == ["tierslieux", "__main__.py"]


# From the import of this module until the command starts, Ctrl-C ends the process
# through this handler: no window is left where the interpreter would raise
# KeyboardInterrupt outside the ``try`` of :func:`main` (between two statements).
# Only in the command's own process: a program that imports this module (a test
# runner, a notebook) keeps its own Ctrl-C.
if _is_the_command_line():
    signal.signal(signal.SIGINT, _start_up)


def _interrupted() -> None:
    signal.signal(signal.SIGINT, _exit_now)
    if not _interrupt.reported():
        _interrupt.report()
    raise SystemExit(_interrupt.EXIT_CODE)


def main() -> None:
    """Run the command line; Ctrl-C gives exit code 130 and « Interrompu. »."""
    try:
        from tierslieux.cli import main as cli_main  # noqa: PLC0415 - inside the guard

        # The command itself sees KeyboardInterrupt (it removes its partial files).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        cli_main()
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as end:
        # Typer turns a Ctrl-C while it reads the options into exit code 130, silently.
        if end.code == _interrupt.EXIT_CODE:
            _interrupted()
        raise


if __name__ == "__main__":
    sys.exit(main())  # type: ignore[func-returns-value]
