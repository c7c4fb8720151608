"""Names and labels of the catchment definitions (computation: analysis.catchment).

Renderers (:mod:`tierslieux.reports`) and interfaces say which definition an output
used without importing the analysis layer: they read the label here.
"""

from __future__ import annotations

from tierslieux.i18n import gettext as _

__all__ = ["CATCHMENT_DEFINITIONS", "definition_label"]

#: Definitions of a catchment: around a common place (centre) or mutual (see
#: :mod:`tierslieux.analysis.catchment`).
CATCHMENT_DEFINITIONS: tuple[str, ...] = ("centre", "mutuelle")


def definition_label(definition: str, minutes: float) -> str:
    """French sentence saying what a catchment is under ``definition``."""
    if definition == "mutuelle":
        return _(
            "bassin mutuel : communes à au plus {m:g} minutes les unes des autres (la "
            "commune, puis ses voisines de la plus proche à la plus lointaine, gardées si "
            "elles sont à au plus {m:g} minutes de chacune des communes déjà retenues)",
            m=minutes,
        )
    return _(
        "bassin autour d'un lieu commun : communes à au plus {m:g} minutes de la commune "
        "centre (deux d'entre elles peuvent être jusqu'à {d:g} minutes l'une de l'autre : "
        "voir l'écart maximal de chaque bassin)",
        m=minutes,
        d=2 * minutes,
    )
