"""Text helpers shared by every list shown to people.

:func:`collation_key` is the one sorting rule of names (structures, communes, owners):
French-dictionary-like, case and accents ignored (« abeille » before « Zèbre »,
« Écart » between « Combe » and « Hameau »), as the client-side table sort
(``static/js/table.js``: ``localeCompare`` with ``sensitivity: "base"``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["collation_key"]

#: Letters that NFKD does not decompose but French sorts as two letters.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def collation_key(text: object) -> tuple[str, str]:
    """The sort key of ``text``: case and accents ignored, then the text itself.

    The second part only orders names that differ by case or accents alone
    (« eve » and « Ève »), so that the order never depends on the input's order.
    ``None`` sorts as the empty text.

    >>> sorted(["Zèbre", "abeille", "Écart", "eau"], key=collation_key)
    ['abeille', 'eau', 'Écart', 'Zèbre']
    """
    shown = "" if text is None else str(text)
    return _folded(shown), shown


@lru_cache(maxsize=65_536)  # the same names sorted on every page of a directory
def _folded(shown: str) -> str:
    decomposed = unicodedata.normalize("NFKD", shown.translate(_LIGATURES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())
