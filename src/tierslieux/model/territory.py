"""Territories of a study: a région, a département, an EPCI, a bassin de vie, a list.

A territory is written ``kind:code`` on the command line and in the web form
(``region:93``, ``dep:05``, ``epci:200067437``, ``bv:04070``,
``communes:ma_liste.txt``) or ``france`` for every commune.  This module only parses
and names it; :func:`tierslieux.analysis.territory.select_communes` finds its communes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from tierslieux.errors import TerritoryError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _

__all__ = ["TERRITORY_FORMS", "Territory", "TerritoryKind", "parse_territory"]

TerritoryKind = Literal["region", "dep", "epci", "bv", "communes", "all"]

#: Accepted forms, shown in error messages.
TERRITORY_FORMS = (
    "region:93",
    "dep:05",
    "dep:2A",
    "epci:200067437",
    "bv:04070",
    "communes:chemin/vers/liste.txt",
    "france",
)

_KIND_ALIASES: dict[str, TerritoryKind] = {
    "region": "region",
    "région": "region",
    "reg": "region",
    "dep": "dep",
    "departement": "dep",
    "département": "dep",
    "epci": "epci",
    "bv": "bv",
    "bv2022": "bv",
    "communes": "communes",
    "commune": "communes",
}
_ALL_WORDS = frozenset({"france", "all", "tout", "toutes"})
_PATTERNS: dict[TerritoryKind, re.Pattern[str]] = {
    "region": re.compile(r"^\d{2}$"),
    "dep": re.compile(r"^(?:\d{2}|2[AB]|97\d)$"),
    "epci": re.compile(r"^\d{9}$"),
    "bv": re.compile(r"^(?:\d{5}|2[AB]\d{3})$"),
}
_EXPECTED: dict[TerritoryKind, str] = {
    "region": N_("2 chiffres, par exemple 93"),
    "dep": N_("2 caractères (05, 2A) ou 3 chiffres outre-mer (974)"),
    "epci": N_("numéro SIREN à 9 chiffres, par exemple 200067437"),
    "bv": N_("code commune du pôle à 5 caractères, par exemple 04070"),
}


@dataclass(frozen=True)
class Territory:
    """A territory of study.

    Attributes
    ----------
    kind
        One of ``"region"``, ``"dep"``, ``"epci"``, ``"bv"`` (bassin de vie 2022),
        ``"communes"`` (a list in a file) or ``"all"``.
    code
        The région, département, EPCI (SIREN) or bassin de vie code; the path of the
        file for ``"communes"``; ``""`` for ``"all"``.
    """

    kind: TerritoryKind
    code: str

    def label(self) -> str:
        """Return the French (or translated) name of the territory, e.g. "Département 05"."""
        labels: dict[TerritoryKind, str] = {
            "region": _("Région {code}", code=self.code),
            "dep": _("Département {code}", code=self.code),
            "epci": _("EPCI {code}", code=self.code),
            "bv": _("Bassin de vie {code}", code=self.code),
            "communes": _("Liste de communes ({name})", name=PurePath(self.code).name),
            "all": _("France entière"),
        }
        return labels[self.kind]

    def spec(self) -> str:
        """Return the ``kind:code`` form that :func:`parse_territory` reads back."""
        return "france" if self.kind == "all" else f"{self.kind}:{self.code}"


def parse_territory(spec: str) -> Territory:
    """Parse a territory written ``kind:code`` (or ``france``).

    Parameters
    ----------
    spec
        ``region:93``, ``dep:05``, ``dep:2A``, ``dep:974``, ``epci:200067437``,
        ``bv:04070``, ``communes:path/to/file`` or ``france``.  The kind is case-
        insensitive (``Région``, ``département`` are accepted); a one-digit département
        or région is padded (``dep:5`` is ``dep:05``).

    Returns
    -------
    Territory
        The parsed territory.

    Raises
    ------
    TerritoryError
        On anything else, listing the accepted forms.
    """
    text = spec.strip()
    if text.lower() in _ALL_WORDS:
        return Territory("all", "")
    kind_text, sep, code = text.partition(":")
    kind = _KIND_ALIASES.get(kind_text.strip().lower())
    code = code.strip()
    if not sep or kind is None or not code:
        raise TerritoryError(
            _(
                "Territoire « {spec} » non reconnu. Formes acceptées : {forms}.",
                spec=spec,
                forms=", ".join(TERRITORY_FORMS),
            )
        )
    if kind == "communes":
        return Territory("communes", code)
    code = code.upper()
    if kind in {"region", "dep"} and code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    if not _PATTERNS[kind].match(code):
        raise TerritoryError(
            _(
                "Territoire « {spec} » : code « {code} » invalide pour {kind} (attendu "
                "{expected}). Formes acceptées : {forms}.",
                spec=spec,
                code=code,
                kind=kind,
                expected=_(_EXPECTED[kind]),
                forms=", ".join(TERRITORY_FORMS),
            )
        )
    return Territory(kind, code)
