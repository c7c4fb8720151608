"""One translation layer for every message a user reads.

Messages are written in French in the code (the product's default language) and
passed through :func:`gettext`.  Other languages are gettext catalogues extracted
from the code by Babel (``tools/i18n.py``): ``locales/tierslieux.pot`` lists every
message, ``locales/<lang>/LC_MESSAGES/tierslieux.po`` translates them.  The ``.po``
file is read directly (once per process and language, with
:func:`babel.messages.pofile.read_po`) rather than a compiled ``.mo``: one text
file is the single source, merges never meet a stale binary, and reading ~800
messages costs a few tens of milliseconds, only when a language other than French
is asked for.  A missing or fuzzy entry falls back to the French text.

Texts held in tables and translated later through ``_(variable)`` are marked at
their definition with :func:`N_`, which returns its argument unchanged and only
tells the extractor that the text is a message.

A parameter named ``role`` names an input in a message (``_("Fichier {role}
introuvable : {path}.", role=ROLE)`` with ``ROLE = N_("grille de densité")``): its
value is a message too, marked with :func:`N_` where it is defined, and
:func:`gettext` translates it with the message (any other value is data, kept as is).

The language is held in a :class:`contextvars.ContextVar` rather than a module
global so that the CLI, the web app and tests can each set it for their own
context (thread, task) without leaking into the others.

Numbers and percentages are formatted by Babel with the CLDR conventions of the
language (``fr_FR``, ``en_GB``), with one French typographic choice kept from the
study: a narrow no-break space (U+202F) before ``%``, where CLDR has U+00A0.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "PARIS",
    "current_language",
    "format_date",
    "format_datetime",
    "format_figure",
    "format_number",
    "format_percent",
    "gettext",
    "language_name",
    "local_time",
    "translate_stored",
    "use_language",
]

LANGUAGES = ("fr", "en")
#: Gettext domain: the name of the catalogue files.
DOMAIN = "tierslieux"
#: The Babel (CLDR) locale of each language, for numbers.
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
_NARROW_NBSP = "\u202f"
_language: ContextVar[str] = ContextVar("tierslieux_language", default="fr")
#: Parameters whose value is itself a message (the name of an input), translated too.
TRANSLATED_PARAMS = frozenset({"role"})


@cache
def _catalogue(lang: str) -> dict[str, str]:
    """Return the translations of ``lang`` (French text -> text), empty for French."""
    if lang == "fr":
        return {}
    path = resources.files("tierslieux") / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return {}
    from babel.messages.pofile import read_po  # noqa: PLC0415 - only when translating

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    return {
        message.id: message.string
        for message in catalog
        if message.id
        and isinstance(message.id, str)
        and isinstance(message.string, str)
        and message.string
        and not message.fuzzy
    }


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
        Values of the placeholders; a ``role`` (the name of an input) is translated too.

    Returns
    -------
    str
        The text in the current language.
    """
    catalogue = _catalogue(current_language())
    text = catalogue.get(message, message)
    if not params:
        return text
    if catalogue:
        params = {
            name: catalogue.get(value, value)
            if name in TRANSLATED_PARAMS and isinstance(value, str)
            else value
            for name, value in params.items()
        }
    return text.format(**params)


def N_(message: str, /) -> str:  # noqa: N802 - the gettext convention for "no-op" markers
    """Mark ``message`` for extraction without translating it (it is translated at display).

    Parameters
    ----------
    message
        The French text.

    Returns
    -------
    str
        ``message`` unchanged.
    """
    return message


#: A placeholder of a message (``{name}``, ``{name:fmt}``), for :func:`translate_stored`.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:[:!][^{}]*)?\}")
#: Where a stored text is cut into sentences (after « . », « ! », « ? »).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
#: A rule's identifier before its sentence (« [cae_nom] Coopérative… »), kept as is.
_RULE_PREFIX = re.compile(r"^(\[[^\]\s]+\]\s+)(.*)$", re.DOTALL)
#: How deep the values of a matched message are themselves translated.
_VALUE_DEPTH = 2
#: How many sentences of a stored text one message may span (a rule's two sentences, a
#: name with « S.A. » in it).
_MAX_SENTENCES = 6
#: Placeholders whose value is data (a structure's name, its codes), never a message of
#: its own: not looked up as one (a structure named « Carte » stays so), only read
#: through a message around it (« {nom} (aussi : {names}) »).
_DATA_PARAMS = frozenset({"nom", "names", "naf", "categorie_juridique", "code_commune", "siren"})


class _Template(NamedTuple):
    """A message with placeholders as a pattern over its French text."""

    pattern: re.Pattern[str]
    translation: str
    #: The French text after the last placeholder, and its longest piece without one.
    end: str
    longest: str


@cache
def _templates(lang: str) -> dict[str, list[_Template]]:
    """The messages of ``lang`` with placeholders, as patterns over their French text
    (named groups for the placeholders) with their translation, by their first two
    characters (``""``: messages that start with a placeholder)."""
    found: dict[str, list[_Template]] = {}
    for message, translation in _catalogue(lang).items():
        if "{" not in message:
            continue
        parts: list[str] = []
        literals: list[str] = []
        seen: set[str] = set()
        position = 0
        for match in _PLACEHOLDER.finditer(message):
            literals.append(message[position : match.start()].replace("{{", "{").replace("}}", "}"))
            parts.append(re.escape(literals[-1]))
            name = match.group(1)
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
            position = match.end()
        # A message of placeholders and punctuation (« {where} : {problem} ») would
        # match any text: only messages with words of their own are patterns.
        if not seen or sum(c.isalpha() for c in _PLACEHOLDER.sub("", message)) < 3:
            continue
        literals.append(message[position:].replace("{{", "{").replace("}}", "}"))
        parts.append(re.escape(literals[-1]))
        found.setdefault(literals[0][:2], []).append(
            _Template(
                re.compile("".join(parts), re.DOTALL),
                # The values are read back as text: the translation's formats (``{m:g}``)
                # are dropped, the value is shown as the French text wrote it.
                _PLACEHOLDER.sub(r"{\1}", translation),
                literals[-1],
                max(literals, key=len),
            )
        )
    return found


def _translate_sentence(text: str, lang: str, depth: int, *, exact: bool = True) -> str | None:
    """``text`` translated when it is a message of ``lang``'s catalogue, its values
    filled by a French text (those translated in turn); ``None`` otherwise.

    ``exact=False``: only a message with placeholders is looked for (``text`` is data)."""
    catalogue = _catalogue(lang)
    found = catalogue.get(text) if exact else None
    if found is not None:
        return found
    templates = _templates(lang)
    for pattern, translation, end, longest in (
        *templates.get(text[:2], ()),
        *templates.get("", ()),
    ):
        # Cheap necessary conditions first: most texts are tried against many patterns.
        if not text.endswith(end) or longest not in text:
            continue
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = {
            name: (
                _translate_sentence(value, lang, depth - 1, exact=name not in _DATA_PARAMS)
                if depth > 0
                else None
            )
            or value
            for name, value in match.groupdict().items()
        }
        try:
            return str(translation.format(**values))
        except (KeyError, IndexError, ValueError):
            continue
    return None


@cache
def _translate_stored(text: str, lang: str) -> str:
    whole = _translate_sentence(text, lang, _VALUE_DEPTH)
    if whole is not None and whole != text:
        return whole
    # Sentences as (start, end) in ``text``; what lies between two is kept as written.
    cuts = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text)]
    spans = list(
        zip([0, *(end for _, end in cuts)], [*(start for start, _ in cuts), len(text)], strict=True)
    )
    pieces: list[str] = []
    first = 0
    while first < len(spans):
        start = spans[first][0]
        prefix = ""
        ruled = _RULE_PREFIX.match(text[start : spans[first][1]])
        if ruled is not None:
            prefix = ruled.group(1)
        body = start + len(prefix)
        # The fewest sentences that make a message (a message may hold several, a value
        # may hold a « . »), never across a rule's identifier: it starts another text.
        last, translated = first, None
        for last in range(first, min(len(spans), first + _MAX_SENTENCES)):
            if last > first and _RULE_PREFIX.match(text[spans[last][0] : spans[last][1]]):
                break
            translated = _translate_sentence(text[body : spans[last][1]], lang, _VALUE_DEPTH)
            if translated is not None:
                break
        if translated is None:
            last, translated = first, text[body : spans[first][1]]
        after = text[spans[last][1] : spans[last + 1][0]] if last + 1 < len(spans) else ""
        pieces.append(prefix + translated + after)
        first = last + 1
    return "".join(pieces)


def translate_stored(text: str) -> str:
    """A text written in French and kept (a directory's reasons and notes, saved by a
    run), in the current language when it is made of the catalogue's messages.

    Each sentence (or run of sentences) that is a message, or a message whose
    placeholders were filled (the values themselves translated when they are messages,
    except data such as a structure's name or codes), is translated: the reasons of the
    classification rules of the package (``[rule_id] sentence``) come in the current
    language with their names and codes as stored.  Any other sentence (a user's note,
    a user's own rule) stays as written.  French gives ``text`` unchanged.
    """
    lang = current_language()
    if lang == "fr" or not text or not _catalogue(lang):
        return text
    return _translate_stored(text, lang)


#: The name of each language, for people (messages: read in the current language).
LANGUAGE_NAMES = {"fr": N_("français"), "en": N_("anglais")}


def language_name(lang: str | None) -> str:
    """The name of the language ``lang`` in the current language (« anglais », "English").

    ``None`` or ``""`` (not known) gives « — »; an unknown code is returned as it is.
    """
    if not lang:
        return "—"
    name = LANGUAGE_NAMES.get(lang)
    return lang if name is None else gettext(name)


@cache
def _percent_pattern(lang: str) -> str:
    pattern = str(Locale.parse(_LOCALES[lang]).percent_formats[None].pattern)
    return pattern.replace("\xa0", _NARROW_NBSP) if lang == "fr" else pattern


def _babel_number(value: float, pattern: str, lang: str) -> str:
    # Decimal(value) is the float's exact value, so rounding matches f"{value:.Nf}".
    return format_decimal(Decimal(value), format=pattern, locale=_LOCALES[lang])


def _with_decimals(pattern: str, decimals: int) -> str:
    return pattern.replace("0", "0." + "0" * decimals, 1) if decimals > 0 else pattern


def format_number(value: float, decimals: int = 0) -> str:
    """Format a number for reading in the current language.

    French uses a narrow no-break space between thousands and a decimal comma
    (``12\u202f345,6``); English uses ``12,345.6``.
    """
    if not math.isfinite(value):
        return f"{value}"
    lang = current_language()
    return _babel_number(value, _with_decimals("#,##0", decimals), lang)


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

    French: ``12,5 %`` (narrow no-break space before the sign); English: ``12.5%``.
    """
    if not math.isfinite(share):
        return f"{share}"
    lang = current_language()
    pattern = _percent_pattern(lang)
    # The share is scaled as a float (as before), the number put in the locale's pattern.
    number = _babel_number(share * 100.0, _with_decimals("#,##0", decimals), lang)
    return pattern.replace("#,##0", number, 1)


#: Every time a person reads is shown in metropolitan France's local time (the store keeps UTC).
PARIS = ZoneInfo("Europe/Paris")


def local_time(value: datetime) -> datetime:
    """Return ``value`` in Paris time; a naive value is taken as UTC (how the store keeps it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS)


def format_datetime(value: datetime | None, *, seconds: bool = False) -> str:
    """Format a moment for reading, in Paris time: ``02/12/2026 16:32``.

    Both languages write the day first (the users are French territories; the English
    catalogue is for colleagues reading the same figures).  ``None`` gives ``""``.
    """
    if value is None:
        return ""
    pattern = "%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M"
    return local_time(value).strftime(pattern)


def format_date(value: date | datetime | None) -> str:
    """Format a day for reading (``02/12/2026``); a moment is first taken to Paris time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return value.strftime("%d/%m/%Y")


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
