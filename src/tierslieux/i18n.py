"""One translation layer for every message a user reads.

Messages are written in French in the code (the product's default language) and
passed through :func:`gettext`.  Other languages are catalogues mapping the French
text to its translation (``locales/<lang>.json``); a missing entry falls back to
French, so English can follow message by message.

The language is held in a :class:`contextvars.ContextVar` rather than a module
global so that the CLI, the web app and tests can each set it for their own
context (thread, task) without leaking into the others.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "LANGUAGES",
    "current_language",
    "format_figure",
    "format_number",
    "gettext",
    "use_language",
]

LANGUAGES = ("fr", "en")
_language: ContextVar[str] = ContextVar("tierslieux_language", default="fr")


@cache
def _catalogue(lang: str) -> dict[str, str]:
    if lang == "fr":
        return {}
    path = resources.files("tierslieux") / "locales" / f"{lang}.json"
    if not path.is_file():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def current_language() -> str:
    """Return the language in force in this context (``"fr"`` by default)."""
    return _language.get()


def gettext(message: str, /, **params: object) -> str:
    """Translate ``message`` (French source text) and fill its ``{placeholders}``.

    Parameters
    ----------
    message
        The French text, with ``str.format`` placeholders.
    **params
        Values of the placeholders.

    Returns
    -------
    str
        The text in the current language.
    """
    text = _catalogue(current_language()).get(message, message)
    return text.format(**params) if params else text


def format_number(value: float, decimals: int = 0) -> str:
    """Format a number for reading in the current language.

    French uses a narrow no-break space between thousands and a decimal comma
    (``12\u202f345,6``); English uses ``12,345.6``.
    """
    text = f"{value:,.{decimals}f}"
    if current_language() == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def format_figure(value: float) -> str:
    """Format a figure with the decimals that matter: 218, 14 055, 29,3, 1,4, 0,034.

    Whole numbers and figures from 100 up are rounded to the unit, figures from 1 to 100
    keep one decimal, smaller ones three (a share of 0.034 must not read 0,0).
    """
    size = abs(value)
    decimals = 0 if size >= 100 or float(value).is_integer() else 1 if size >= 1 else 3
    return format_number(value, decimals)


def format_percent(share: float, decimals: int = 0) -> str:
    """Format a share (0.125) as a percentage for the current language.

    French: ``12,5 %`` (narrow no-break space before the sign); English: ``12.5%``.
    """
    text = format_number(share * 100.0, decimals)
    return f"{text} %" if current_language() == "fr" else f"{text}%"


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Set the language for the duration of a ``with`` block."""
    if lang not in LANGUAGES:
        msg = gettext(
            "Langue inconnue : {lang} (attendu : {expected}).",
            lang=lang,
            expected=", ".join(LANGUAGES),
        )
        raise ValueError(msg)
    token = _language.set(lang)
    try:
        yield
    finally:
        _language.reset(token)
