"""Vocabulary of base-community structures: the study's four steps and the anchors."""

from __future__ import annotations

from tierslieux.i18n import gettext as _

__all__ = [
    "ANCHOR_CATEGORIES",
    "CATEGORIES",
    "COMMUNITY_CATEGORIES",
    "PARTNER_CATEGORIES",
    "STEP_CATEGORIES",
    "STEP_OF",
    "STRUCTURE_COLUMNS",
    "THEMES",
    "category_labels",
    "theme_labels",
]

#: The categories of the four steps of the Coop-connect method, in the study's order.
#: Step 4 ("personnes ou associations portant une dynamique") holds two categories: the
#: associations of tele-activities the step names, and the everyday-life associations
#: (childcare and parents, short food circuits, shared transport, local culture and
#: youth) that the study names as the ground a community shares ("Vie quotidienne").
STEP_CATEGORIES: tuple[str, ...] = (
    "cae",
    "scop_scic_tic",
    "acteur_developpement",
    "association_teleactivites",
    "association_vie_quotidienne",
)
#: Step number (1 to 4) of each step category.
STEP_OF: dict[str, int] = {
    "cae": 1,
    "scop_scic_tic": 2,
    "acteur_developpement": 3,
    "association_teleactivites": 4,
    "association_vie_quotidienne": 4,
}
#: Step 3: economic-development actors (comités de bassin d'emploi, parks, Pays/PETR,
#: intercommunalities). The study says to *discuss with* them: partners of a base
#: community, never a base community by themselves.
PARTNER_CATEGORIES: tuple[str, ...] = ("acteur_developpement",)
#: People and structures that carry a dynamic (steps 1, 2 and 4): what a base community
#: is made of.
COMMUNITY_CATEGORIES: tuple[str, ...] = tuple(
    c for c in STEP_CATEGORIES if c not in PARTNER_CATEGORIES
)
#: Context: existing places and support points (hosting and networking anchors).
ANCHOR_CATEGORIES: tuple[str, ...] = ("tiers_lieu_existant", "point_appui")
CATEGORIES: tuple[str, ...] = STEP_CATEGORIES + ANCHOR_CATEGORIES

THEMES: tuple[str, ...] = (
    "tic",
    "communication",
    "ess_cooperation",
    "economie_locale",
    "culture",
    "circuits_courts",
    "mobilite",
    "enfance_education",
    "inclusion_numerique",
    "tiers_lieu",
)

#: Columns of structures.csv, in order (more may follow).
STRUCTURE_COLUMNS: tuple[str, ...] = (
    "identifiant",
    "nom",
    "categorie",
    "themes",
    "code_commune",
    "latitude",
    "longitude",
    "source",
    "raison",
)


def category_labels() -> dict[str, str]:
    """Return the French label of each category."""
    return {
        "cae": _("Coopérative d'activité et d'emploi (étape 1)"),
        "scop_scic_tic": _("SCOP ou SCIC du numérique ou de la communication (étape 2)"),
        "acteur_developpement": _("Acteur du développement économique local (étape 3)"),
        "association_teleactivites": _(
            "Association portant une dynamique de télé-activités (étape 4)"
        ),
        "association_vie_quotidienne": _(
            "Association de la vie quotidienne : enfance, circuits courts, mobilité "
            "partagée, culture locale (étape 4)"
        ),
        "tiers_lieu_existant": _("Tiers-lieu existant"),
        "point_appui": _("Point d'appui (gare, France Services, médiation numérique)"),
    }


def theme_labels() -> dict[str, str]:
    """Return the French label of each theme."""
    return {
        "tic": _("Numérique (TIC)"),
        "communication": _("Communication"),
        "ess_cooperation": _("ESS et coopération"),
        "economie_locale": _("Économie locale"),
        "culture": _("Culture"),
        "circuits_courts": _("Circuits courts"),
        "mobilite": _("Mobilité"),
        "enfance_education": _("Enfance et éducation"),
        "inclusion_numerique": _("Inclusion numérique"),
        "tiers_lieu": _("Tiers-lieux"),
    }
