"""How open is the potential base community of each 20-minute catchment?

The study warns that a closed, single-group community turns a tiers-lieu into a mere
"hôtel d'entreprises", and that structures practising hosting and networking are
privileged anchors. For every commune we therefore count, within its catchment, the
structures of each of the four steps, how many *different* steps are present, their
themes, and the hosting/networking anchors (existing tiers-lieux, support points).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.i18n import gettext as _
from tierslieux.model.structures import ANCHOR_CATEGORIES, CATEGORIES, STEP_CATEGORIES

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["OPENNESS_LEVELS", "summarise_communities"]

OPENNESS_LEVELS = ("ouverte", "a_elargir", "fermee", "absente")


def _openness(steps: int, structures: int, anchors: int) -> tuple[str, str]:
    if structures == 0:
        return "absente", _("Aucune structure des quatre étapes à portée : dynamique à créer.")
    if steps >= 2 and anchors > 0:
        return "ouverte", _(
            "{k} types de structures et {a} lieu(x) d'accueil ou de réseautage : "
            "communauté potentiellement ouverte.",
            k=steps,
            a=anchors,
        )
    if steps >= 2:
        return "a_elargir", _(
            "{k} types de structures mais aucun lieu d'accueil ou de réseautage à portée.",
            k=steps,
        )
    return "fermee", _(
        "Un seul type de structure : risque de communauté fermée (« simple hôtel "
        "d'entreprises » selon l'étude) ; à élargir."
    )


def summarise_communities(
    structures: pd.DataFrame,
    pairs: pd.DataFrame,
    communes: Sequence[str],
) -> pd.DataFrame:
    """Count the structures of each category within each commune's catchment.

    Parameters
    ----------
    structures
        Classified structures (columns ``identifiant``, ``categorie``, ``themes``,
        ``code_commune``).
    pairs
        Catchment pairs (``origin``, ``destination``, ``minutes``), self pairs included.
    communes
        Codes of the communes to report on.

    Returns
    -------
    pandas.DataFrame
        ``code``, one count column per category, ``nb_structures`` (four steps),
        ``nb_types`` (distinct steps present), ``nb_ancrages``, ``themes``,
        ``ouverture`` (one of :data:`OPENNESS_LEVELS`) and ``ouverture_raison``.
    """
    located = structures.dropna(subset=["code_commune"])[
        ["identifiant", "categorie", "themes", "code_commune"]
    ]
    self_pairs = pd.DataFrame({"origin": list(communes), "destination": list(communes)})
    reach = pd.concat([pairs[["origin", "destination"]], self_pairs]).drop_duplicates()
    joined = reach.merge(located, left_on="destination", right_on="code_commune", how="inner")
    joined = joined.drop_duplicates(subset=["origin", "identifiant"])
    counts = (
        joined.pivot_table(
            index="origin", columns="categorie", values="identifiant", aggfunc="count", fill_value=0
        )
        .reindex(columns=list(CATEGORIES), fill_value=0)
        .reindex(list(communes), fill_value=0)
        .astype("int64")
    )
    themes = (
        joined.assign(theme=joined["themes"].fillna("").astype(str).str.split(";"))
        .explode("theme")
        .query("theme != ''")
        .groupby("origin")["theme"]
        .agg(lambda s: ";".join(sorted(set(s))))
        .reindex(list(communes))
        .fillna("")
    )
    result = counts.reset_index(names="code")
    result["nb_structures"] = counts[list(STEP_CATEGORIES)].sum(axis=1).to_numpy()
    result["nb_types"] = (counts[list(STEP_CATEGORIES)] > 0).sum(axis=1).to_numpy()
    result["nb_ancrages"] = counts[list(ANCHOR_CATEGORIES)].sum(axis=1).to_numpy()
    result["themes"] = themes.to_numpy()
    levels = [
        _openness(int(k), int(n), int(a))
        for k, n, a in zip(
            result["nb_types"], result["nb_structures"], result["nb_ancrages"], strict=True
        )
    ]
    result["ouverture"] = [level for level, _reason in levels]
    result["ouverture_raison"] = [reason for _level, reason in levels]
    return result
