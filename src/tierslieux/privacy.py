"""Personal data in free text, terminals and URLs: masking helpers shared by every layer.

* :func:`mask_contact_details` replaces e-mail addresses and French phone numbers in a
  free text (a note, an answer) by « [courriel masqué] » and « [téléphone masqué] »:
  what pseudonymised exports write.  Dates (``12/03/2026``, ``01.02.2026``) and SIREN
  or SIRET numbers (groups of three digits, or 9 and 14 digits in a row) are not phones.
* :func:`terminal_safe` removes terminal escape sequences and control characters from a
  text before it is printed.
* :func:`mask_url` hides the password (or user) and secret query parameters of a URL.

Like :mod:`tierslieux.errors`, this module sits at the root of the package: it knows
texts, not datasets.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tierslieux.i18n import gettext as _

__all__ = [
    "contact_details_count",
    "contact_details_flag",
    "mask_contact_details",
    "mask_url",
    "mask_urls_in",
    "masked_email",
    "masked_phone",
    "terminal_safe",
]

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w\-])"
)
# A French number: 0 or +33 / 0033 (optionally "(0)"), a digit 1-9, then four pairs of
# digits, all separated the same way (none, space, dot or dash), so that a date such
# as 01.02.2026 10:30 or a SIRET in groups of three is not taken for a phone.
_SEP = r"[ \u00a0\u202f.\-]"
_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)33{_SEP}?(?:\(0\){_SEP}?)?|0)[1-9]"
    rf"(?P<sep>{_SEP}?)\d{{2}}(?:(?P=sep)\d{{2}}){{3}}(?![\w]|[.\-/]\d)"
)
# CSI / OSC / other ESC sequences, then every C0/C1 control character but tab and newline.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "code",
        "key",
        "password",
        "passwd",
        "pwd",
        "secret",
        "sig",
        "signature",
        "token",
    }
)
_MASK = "***"


def masked_email() -> str:
    """The text that replaces an e-mail address."""
    return _("[courriel masqué]")


def masked_phone() -> str:
    """The text that replaces a phone number."""
    return _("[téléphone masqué]")


def mask_contact_details(text: str) -> str:
    """Return ``text`` with its e-mail addresses and French phone numbers masked.

    Recognised phones: ``06 12 34 56 78``, ``0612345678``, ``01.23.45.67.89``,
    ``06-12-34-56-78``, ``+33 6 12 34 56 78``, ``+33612345678``, ``0033 6 ...`` and
    ``+33 (0)6 ...``.  Dates and SIREN/SIRET numbers are left as they are.
    """
    if "@" in text:
        text = _EMAIL.sub(masked_email(), text)
    return _PHONE.sub(masked_phone(), text)


def contact_details_count(text: str) -> int:
    """Number of e-mail addresses and phone numbers :func:`mask_contact_details` masks."""
    return len(_EMAIL.findall(text)) + sum(1 for _m in _PHONE.finditer(text))


def contact_details_flag(text: str) -> str:
    """A short French warning when ``text`` holds an e-mail address or a phone number.

    « contient une adresse e-mail », « contient un numéro de téléphone », or both; an
    empty string otherwise.  The workspace shows it beside a free text (a survey
    comment, a note of a contact record) so that team members see personal data
    before they copy the text elsewhere (same detection as :func:`mask_contact_details`).
    """
    email = "@" in text and _EMAIL.search(text) is not None
    phone = _PHONE.search(text) is not None
    if email and phone:
        return _("contient une adresse e-mail et un numéro de téléphone")
    if email:
        return _("contient une adresse e-mail")
    if phone:
        return _("contient un numéro de téléphone")
    return ""


def terminal_safe(text: str) -> str:
    """Return ``text`` without terminal escape sequences and control characters.

    Tabs and newlines are kept; a carriage return, a backspace, a bell, ``ESC[...``
    sequences (colours, cursor moves, window titles, hyperlinks) and the bidirectional
    overrides are removed, so that a stored name cannot rewrite the terminal.
    """
    return _CONTROL.sub("", _ESCAPE.sub("", text))


def mask_url(url: str) -> str:
    """Return ``url`` with its credentials and secret query parameters replaced by ``***``.

    ``https://user:secret@host/x?token=abc&profile=car`` becomes
    ``https://user:***@host/x?token=***&profile=car``; a user without password is masked
    too (it may be a token).  A text that is not a URL is returned unchanged.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _password = userinfo.partition(":")
        netloc = f"{user}:{_MASK}@{host}" if has_password else f"{_MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in _SECRET_PARAMS for name, _value in pairs):
            query = urlencode(
                [(n, _MASK if n.lower() in _SECRET_PARAMS else v) for n, v in pairs], safe="*"
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")


def mask_urls_in(text: str) -> str:
    """Return ``text`` with every URL in it passed through :func:`mask_url`."""
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
