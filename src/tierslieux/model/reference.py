"""Reference figures used by the method, each with its source.

Nothing here is estimated by tierslieux: every number is quoted from a publication,
whose reference sits next to it.  Users can replace the teleworkability shares with
their own table (``--teletravail FILE``, CSV ``cs1,part``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tierslieux.i18n import N_

__all__ = [
    "COWORKER_PROFILE",
    "CS1_LABELS",
    "INSEE_SMALL_COUNT_CAUTION",
    "INSEE_SMALL_COUNT_IMPRECISE",
    "TELEWORKABLE_SHARE_BY_CS1",
    "TELEWORKABLE_SOURCE",
    "ReferenceShare",
]


@dataclass(frozen=True)
class ReferenceShare:
    """A share (0-1) quoted from a publication."""

    value: float
    source: str


#: Labels of the census occupation groups (PCS 2003, level 1, variable CS1 of MOBPRO).
CS1_LABELS: dict[str, str] = {
    "1": N_("Agriculteurs exploitants"),
    "2": N_("Artisans, commerçants et chefs d'entreprise"),
    "3": N_("Cadres et professions intellectuelles supérieures"),
    "4": N_("Professions intermédiaires"),
    "5": N_("Employés"),
    "6": N_("Ouvriers"),
}

TELEWORKABLE_SOURCE = N_(
    "Insee Analyses Auvergne-Rhône-Alpes n° 182, « Près de quatre emplois sur dix sont "
    "compatibles avec le télétravail », C. Privas et B. Roy, novembre 2024, "
    "https://www.insee.fr/fr/statistiques/8278171 (méthode inspirée de Dingel et Neiman, "
    "2020 ; emplois 2021 ; parts par catégorie socioprofessionnelle pour la région "
    "Auvergne-Rhône-Alpes, reprises par Lyon Capitale le 5 novembre 2024). Part nationale "
    "(France métropolitaine) dans la même étude : 39 %."
)

#: Share of jobs compatible with telework, by CS1 (Insee Analyses ARA n° 182, 2024).
#: Regional (Auvergne-Rhône-Alpes) shares: the closest published breakdown by CS1
#: found; the national all-occupation share in the same study is 39 %, the regional 38 %.
TELEWORKABLE_SHARE_BY_CS1: dict[str, ReferenceShare] = {
    "1": ReferenceShare(0.03, TELEWORKABLE_SOURCE),  # agriculteurs exploitants : 3 %
    "2": ReferenceShare(0.33, TELEWORKABLE_SOURCE),  # artisans, commerçants, chefs d'ent. : 33 %
    "3": ReferenceShare(0.72, TELEWORKABLE_SOURCE),  # cadres, prof. intellectuelles sup. : 72 %
    "4": ReferenceShare(0.48, TELEWORKABLE_SOURCE),  # professions intermédiaires : 48 %
    "5": ReferenceShare(0.36, TELEWORKABLE_SOURCE),  # employés : 36 %
    "6": ReferenceShare(0.02, TELEWORKABLE_SOURCE),  # ouvriers : 2 %
}

#: INSEE's usual warning on census results computed from the sampled ("complémentaire")
#: exploitation, which the MOBPRO detail file belongs to: counts under 200 are to be
#: handled with care, counts under 500 are imprecise (Insee, documentation of the census
#: detail files and "Avertissement" of census tables; thresholds as quoted in the
#: project's design notes, ../shared/DESIGN.md — URL not verified from this machine).
INSEE_SMALL_COUNT_CAUTION = 200
INSEE_SMALL_COUNT_IMPRECISE = 500


@dataclass(frozen=True)
class CoworkerProfile:
    """Reference profile of coworking users quoted by the Coop-connect pre-study (2012)."""

    share_men: float
    share_aged_26_45: float
    share_ict: float
    share_independents_startups_employees_associations: float
    source: str


#: "l'usager d'espaces de coworking est plutôt un homme (2/3) entre 26 et 45 ans (2/3).
#: Il travaille dans le secteur des TIC (50%) [...] Plus des 3/4 des usagers sont, en
#: proportion équivalente, des indépendants, des start-up, des entreprises (salariés),
#: des associations." — Coop-connect, pré-étude « Tiers-lieux ruraux en PACA », 2012.
COWORKER_PROFILE = CoworkerProfile(
    share_men=2 / 3,
    share_aged_26_45=2 / 3,
    share_ict=0.5,
    share_independents_startups_employees_associations=0.75,
    source=N_("Coop-connect, pré-étude « Tiers-lieux ruraux en PACA », ACIDD, 2012"),
)
