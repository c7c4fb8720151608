"""Vocabulary of base-community structures: the study's four steps and the anchors."""

from __future__ import annotations

from dataclasses import dataclass

from tierslieux.errors import Input, Problems, SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _

__all__ = [
    "ANCHOR_CATEGORIES",
    "CATEGORIES",
    "COMMUNITY_CATEGORIES",
    "DEFAULT_MIN_MEMBERS",
    "DEFAULT_MIN_STRUCTURES",
    "PARTNER_CATEGORIES",
    "STEP_CATEGORIES",
    "STEP_OF",
    "STRUCTURE_COLUMNS",
    "THEMES",
    "BaseCommunityRule",
    "QuestionnaireGroup",
    "category_labels",
    "category_short_labels",
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

#: Structures of steps 1, 2 or 4 that make a base community by default: one. Valeur de
#: l'outil, read from the study: « Tous les tiers-lieux actuels ont été créés par une ou
#: quelques personnes [...] en lien avec d'autres groupes » -- one carrier is enough to
#: start, and whether it is open to other groups is graded by the openness level
#: (a single kind of carrier is ``a_elargir`` or ``fermee``, never ``ouverte``).
DEFAULT_MIN_STRUCTURES = 1
#: Members of a questionnaire group living in a catchment for the group to be a base
#: community there. Valeur de l'outil: « une ou quelques personnes » read as a few, the
#: smallest group that is more than a pair.
DEFAULT_MIN_MEMBERS = 3


@dataclass(frozen=True)
class BaseCommunityRule:
    """What makes a base community in a catchment (one definition for every command).

    At least ``min_structures`` structures of :data:`COMMUNITY_CATEGORIES` (steps 1, 2
    and 4), or a questionnaire group with at least ``min_members`` members living in
    the catchment. Step-3 actors (:data:`PARTNER_CATEGORIES`) are partners: never
    enough by themselves.
    """

    min_structures: int = DEFAULT_MIN_STRUCTURES
    min_members: int = DEFAULT_MIN_MEMBERS

    def __post_init__(self) -> None:
        """Refuse thresholds below one (every catchment would hold a community)."""
        found = Problems()
        for option, value in (
            ("min_structures", self.min_structures),
            ("min_members", self.min_members),
        ):
            if value < 1:
                found.add(
                    "{option} vaut {value} : au moins 1 attendu (à 0, tout bassin aurait "
                    "une communauté-base, même sans personne pour la porter).",
                    field=option,
                    option=Input(option),
                    value=value,
                )
        found.raise_if_any(SchemaError)


@dataclass(frozen=True)
class QuestionnaireGroup:
    """A group of the questionnaire (``groups.csv`` of ``tierslieux survey analyse``).

    ``per_commune`` holds the members per commune of residence when the file gives it.
    """

    ident: str
    members: int
    themes: frozenset[str]
    communes: tuple[str, ...]
    per_commune: dict[str, int] | None = None


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


def category_short_labels() -> dict[str, str]:
    """Return a short French label of each category (lists of names in tables)."""
    return {
        "cae": _("CAE"),
        "scop_scic_tic": _("SCOP/SCIC numérique"),
        "acteur_developpement": _("acteur du développement"),
        "association_teleactivites": _("association télé-activités"),
        "association_vie_quotidienne": _("association vie quotidienne"),
        "tiers_lieu_existant": _("tiers-lieu existant"),
        "point_appui": _("point d'appui"),
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


#: Openness of a catchment's base community (code in the CSV files -> French label,
#: translated where shown): open, to widen (one kind of carrier), closed, absent.
OPENNESS_LABELS: dict[str, str] = {
    "ouverte": N_("ouverte"),
    "a_elargir": N_("à élargir"),
    "fermee": N_("fermée"),
    "absente": N_("absente"),
}
