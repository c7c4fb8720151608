"""Ctrl-C reported once, in French, on one line (exit code 130).

Shared by the entry point (:mod:`tierslieux.__main__`), which catches an interrupt
during start-up, and the command wrapper (:func:`tierslieux.cli.common.guarded`),
which catches it while a command runs: whichever sees it first prints the message,
the other does not repeat it.  Standard library only (it runs while the rest of the
package may be half imported).
"""

from __future__ import annotations

import sys

__all__ = ["EXIT_CODE", "mark_reported", "message", "report", "reported"]

EXIT_CODE = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C
_state = {"reported": False}


def message() -> str:
    """« Interrompu. » in the current language (French when the catalogue is not loaded)."""
    i18n = sys.modules.get("tierslieux.i18n")
    gettext = getattr(i18n, "gettext", None)
    if gettext is None:
        return "Interrompu."
    try:
        return str(gettext("Interrompu."))
    except Exception:  # noqa: BLE001 - a half-imported catalogue must not hide the message
        return "Interrompu."


def mark_reported() -> None:
    """Record that the message was printed (by the command wrapper)."""
    _state["reported"] = True


def reported() -> bool:
    """Whether the message was already printed in this process."""
    return _state["reported"]


def report() -> None:
    """Print the message on standard error, once."""
    mark_reported()
    try:
        sys.stderr.write(message() + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
