"""Rural or not: the one place where tierslieux decides whether a commune is rural.

The study is about *rural* tiers-lieux.  A commune is rural, in this order of
preference (the definition used is stated in every output):

1. **INSEE density grid** (grille communale de densité, 7 levels since 2022): levels 5
   "Bourgs ruraux", 6 "Rural à habitat dispersé" and 7 "Rural à habitat très dispersé"
   are INSEE's rural communes (the European "rural" of the 3-level grid).  Source:
   Insee, « La grille communale de densité », https://www.insee.fr/fr/information/6439600
   (and 8571524 for the 2025 grid).
2. **Without the grid, a proxy from the zonings already read** (INSEE appartenance table):
   a commune outside any urban unit (``UU2020`` code ending in ``000``: INSEE's definition
   of a rural commune until 2020, « commune rurale : commune n'appartenant pas à une unité
   urbaine », https://www.insee.fr/fr/metadonnees/definition/c1034 and
   https://www.insee.fr/fr/information/4802589), or a commune outside the attraction of
   cities (``CATEAAV2020`` = 30 « Commune hors attraction des villes »,
   https://www.insee.fr/fr/information/4803954), which keeps the small isolated towns.
   It is an approximation: a "bourg rural" of the grid inside a small urban unit and
   close to a town is urban for the proxy.
3. Nothing known: rurality is unknown (``None``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.errors import Note
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AAV_CATEGORY_LABELS",
    "AAV_CATEGORY_SOURCE",
    "DENSITY_LABELS",
    "DENSITY_SOURCE",
    "RURAL_DENSITY_LEVELS",
    "RURAL_FOCUS",
    "RuralDefinition",
    "rural_definition_note",
    "rural_flags",
]

#: INSEE density grid, 7 levels (codes as text), labels as published by INSEE (the
#: ``LIBDENS7`` column of the 2025 file, ``grille_densite_texte`` of data.gouv.fr's
#: « Communes et villes de France »).
DENSITY_LABELS: dict[str, str] = {
    "1": N_("Grands centres urbains"),
    "2": N_("Centres urbains intermédiaires"),
    "3": N_("Petites villes"),
    "4": N_("Ceintures urbaines"),
    "5": N_("Bourgs ruraux"),
    "6": N_("Rural à habitat dispersé"),
    "7": N_("Rural à habitat très dispersé"),
}
DENSITY_SOURCE = (
    "Insee, grille communale de densité à 7 niveaux, https://www.insee.fr/fr/information/6439600"
)
#: INSEE's rural communes: levels 5 to 7 of the 7-level grid (level 3 of the 3-level one).
RURAL_DENSITY_LEVELS: frozenset[str] = frozenset({"5", "6", "7"})

#: Category of the commune in its urban area (``CATEAAV2020``), INSEE labels.
AAV_CATEGORY_LABELS: dict[str, str] = {
    "11": N_("Commune-centre"),
    "12": N_("Autre commune du pôle principal"),
    "13": N_("Commune d'un pôle secondaire"),
    "20": N_("Commune de la couronne"),
    "30": N_("Commune hors attraction des villes"),
}
AAV_CATEGORY_SOURCE = (
    "Insee, zonage en aires d'attraction des villes 2020, "
    "https://www.insee.fr/fr/information/4803954"
)
_OUTSIDE_ATTRACTION = "30"
_OUTSIDE_URBAN_UNIT_SUFFIX = "000"

#: Values of the ``--rural`` option of ``tierslieux sites``: no restriction, rural
#: candidates only, or rural candidates and the demand of rural communes only.
RURAL_FOCUS = ("non", "candidats", "candidats-et-demande")


class RuralDefinition:
    """Names of the definitions, as written in the ``definition_rural`` outputs."""

    GRID = "grille_densite"
    PROXY = "approximation_zonages"
    NONE = "inconnue"


def rural_flags(
    codes: list[str],
    *,
    density: Mapping[str, str] | None = None,
    urban_unit: Mapping[str, str] | None = None,
    aav_category: Mapping[str, str] | None = None,
) -> tuple[list[bool | None], str]:
    """Return, for each code, whether the commune is rural, and the definition used.

    Parameters
    ----------
    codes
        INSEE commune codes.
    density
        Code -> level ``"1"``..``"7"`` of the INSEE density grid.  When given (non-empty),
        it is the definition; a commune missing from the grid is ``None``.
    urban_unit, aav_category
        Code -> ``UU2020`` and code -> ``CATEAAV2020`` (the proxy, see the module).

    Returns
    -------
    tuple
        One ``True``/``False``/``None`` per code, and a :class:`RuralDefinition` value.
    """
    if density:
        return [
            (density[c] in RURAL_DENSITY_LEVELS) if density.get(c) else None for c in codes
        ], RuralDefinition.GRID
    if urban_unit or aav_category:
        units = urban_unit or {}
        categories = aav_category or {}
        flags: list[bool | None] = []
        for code in codes:
            unit, category = units.get(code), categories.get(code)
            if not unit and not category:
                flags.append(None)
                continue
            outside_unit = bool(unit) and str(unit).endswith(_OUTSIDE_URBAN_UNIT_SUFFIX)
            flags.append(outside_unit or category == _OUTSIDE_ATTRACTION)
        return flags, RuralDefinition.PROXY
    return [None] * len(codes), RuralDefinition.NONE


def rural_definition_note(definition: str) -> str:
    """One French sentence saying which definition of "rural" an output uses."""
    if definition == RuralDefinition.GRID:
        return _(
            "Commune rurale : niveaux 5 à 7 de la grille communale de densité de l'Insee "
            "(bourgs ruraux, rural à habitat dispersé, rural à habitat très dispersé ; "
            "https://www.insee.fr/fr/information/6439600)."
        )
    if definition == RuralDefinition.PROXY:
        return Note.text(
            "Commune rurale (approximation, grille de densité de l'Insee non fournie) : "
            "commune hors unité urbaine (UU2020, définition Insee du rural jusqu'en 2020) ou "
            "hors attraction des villes (CATEAAV2020 = 30, Insee). Fournissez la grille "
            "({densite}) pour la définition Insee actuelle (niveaux 5 à 7)."
        )
    return Note.text(
        "Ruralité inconnue : ni grille de densité de l'Insee ({densite}) ni zonages "
        "UU2020/CATEAAV2020 ({zonages})."
    )
