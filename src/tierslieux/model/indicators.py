"""Names and labels of the potential-user indicators (definitions: analysis.indicators)."""

from __future__ import annotations

from tierslieux.i18n import gettext as _

__all__ = ["DETAIL_ONLY", "EXTRA_COLUMNS", "INDICATORS", "indicator_labels"]

INDICATORS: tuple[str, ...] = (
    "actifs_occupes",
    "independants",
    "salaries_trajet_plus_30min",
    "tic",
    "teletravaillables",
    "age_25_44",
    "femmes",
    "potentiel",
)
#: Columns that follow the indicators in the outputs.
EXTRA_COLUMNS: tuple[str, ...] = (
    "salaries",
    "salaries_lieu_travail_hors_calcul",
    "actifs_trajet_plus_30min",
)
#: Indicators the commune-pair flow file cannot give (it has no attributes).
DETAIL_ONLY: tuple[str, ...] = (
    "independants",
    "salaries_trajet_plus_30min",
    "tic",
    "teletravaillables",
    "age_25_44",
    "femmes",
    "potentiel",
    "salaries",
    "salaries_lieu_travail_hors_calcul",
)


def indicator_labels() -> dict[str, str]:
    """Return the French label of each indicator and extra column."""
    return {
        "actifs_occupes": _("Actifs occupés résidents"),
        "independants": _("Indépendants et employeurs"),
        "salaries_trajet_plus_30min": _("Salariés travaillant à plus de 30 minutes"),
        "tic": _("Actifs du secteur information-communication (TIC)"),
        "teletravaillables": _("Emplois compatibles avec le télétravail (estimation)"),
        "age_25_44": _("Actifs de 25 à 44 ans"),
        "femmes": _("Femmes actives occupées"),
        "potentiel": _("Usagers potentiels d'un tiers-lieu (estimation)"),
        "salaries": _("Salariés"),
        "salaries_lieu_travail_hors_calcul": _(
            "Salariés travaillant à l'étranger ou sans temps de trajet connu"
        ),
        "actifs_trajet_plus_30min": _("Actifs occupés travaillant à plus de 30 minutes"),
    }
