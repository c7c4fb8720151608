"""INSEE code helpers.

INSEE commune codes are always handled as 5-character strings: ``"05039"``,
``"2A004"``.  Paris, Lyon and Marseille are split into municipal arrondissements
(``75101``-``75120``, ``69381``-``69389``, ``13201``-``13216``) in some files; the
tool counts them in their commune (``75056``, ``69123``, ``13055``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "ARRONDISSEMENT_PARENTS",
    "commune_of_arrondissement",
    "is_commune_code",
    "named_code",
    "named_codes",
    "normalise_commune_code",
]

_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")

#: (first arrondissement code, last arrondissement code, parent commune code)
ARRONDISSEMENT_PARENTS: tuple[tuple[int, int, str], ...] = (
    (75101, 75120, "75056"),  # Paris
    (69381, 69389, "69123"),  # Lyon
    (13201, 13216, "13055"),  # Marseille
)


def named_code(code: str, names: Mapping[str, str]) -> str:
    """A code as people read it, « Nom (code) » (« Laragne-Montéglin (05070) »).

    ``names`` maps codes (of communes, or of candidate sites) to names; a code it
    gives no name for stays the bare code, never a guess.
    """
    name = names.get(code)
    return _("{name} ({code})", name=name, code=code) if name else code


def named_codes(codes: Iterable[str], names: Mapping[str, str]) -> str:
    """Codes as people read them, « Nom (code), Nom (code) » (:func:`named_code`)."""
    return ", ".join(named_code(code, names) for code in codes)


def is_commune_code(code: str) -> bool:
    """Tell whether ``code`` has the shape of an INSEE commune code."""
    return bool(_CODE.match(code))


def normalise_commune_code(value: object) -> str | None:
    """Return a 5-character INSEE code, or ``None`` when the value is empty.

    Integers and numeric strings that lost their leading zero (``1001`` for
    ``"01001"``, a frequent spreadsheet accident) are padded back.  Corsican codes
    keep their letter, in upper case.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN  # noqa: PLR0124
            return None
        value = int(value)
    text = str(value).strip().upper()
    if not text:
        return None
    if text.isdigit() and len(text) < 5:
        text = text.zfill(5)
    return text


def commune_of_arrondissement(code: str) -> str:
    """Map a Paris/Lyon/Marseille arrondissement code to its commune (else unchanged)."""
    if code.isdigit():
        number = int(code)
        for first, last, parent in ARRONDISSEMENT_PARENTS:
            if first <= number <= last:
                return parent
    return code
