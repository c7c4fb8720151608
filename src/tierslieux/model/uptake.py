"""Take-up of a tiers-lieu: who comes, how often, how many working days a year.

The per-flow CO₂ rule (:mod:`tierslieux.analysis.commute_co2`) gives the kilograms of
CO₂e a site would avoid **if every eligible car commuter worked there every working
day**: a ceiling, not a forecast.  This module turns that ceiling into tonnes per year
with a low / central / high range::

    t CO₂e / an = kg par jour ouvré (plafond) × part des usagers
                  × (jours par semaine / 5) × jours ouvrés par an × (1 - effet rebond) / 1000

Every default is quoted from a publication (sources next to each figure); the effect of
rebound is applied to the low estimate only.  The factor is the same for every flow and
every site, so it scales the optimisation objective without changing which sites are
chosen.  When the questionnaire gives days per week, the territory-wide mean of the
answers replaces the default (one figure for the whole territory: per-commune samples
are a handful of self-selected respondents, too few to vary the factor by commune, and
a single factor keeps the choice of sites unchanged).

Nothing here reads a file: the numbers and their sources only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierslieux.errors import Note, Problems, SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "DAYS_PER_WEEK",
    "DAYS_PER_WEEK_SOURCE",
    "REBOUND_SHARE",
    "REBOUND_SOURCE",
    "TELEWORK_SHARE",
    "TELEWORK_SOURCE",
    "THIRD_PLACE_SHARE",
    "THIRD_PLACE_SOURCE",
    "WORKING_DAYS",
    "WORKING_DAYS_SOURCE",
    "WORK_DAYS_PER_WEEK",
    "Range",
    "Uptake",
    "questionnaire_days",
    "uptake",
]


@dataclass(frozen=True)
class Range:
    """A low / central / high estimate (``low <= central <= high``)."""

    low: float
    central: float
    high: float

    @classmethod
    def single(cls, value: float) -> Range:
        """The same value three times (a figure given by the user)."""
        return cls(value, value, value)


#: Share of employees who telework (at least occasionally).
#: Low 10 %: employees living in "communes très peu denses", 2021 (Insee, « En 2021, en
#: moyenne chaque semaine, un salarié sur cinq a télétravaillé », 9 mars 2022,
#: https://www.insee.fr/fr/statistiques/6209490, as quoted by the press: « environ 10 %
#: des salariés habitant dans les communes très peu denses »).  Central 19 %: all employees, 2023
#: (France Stratégie, « Les impacts territoriaux du télétravail », Note d'analyse n° 146,
#: mars 2025: « En 2023, 19 % des salariés français […] ont eu recours au
#: télétravail »).  High 26 %: employees teleworking at least occasionally in 2023
#: (Dares, study of 5 November 2024 on the evolution of telework since the health
#: crisis, as reported by the press: 26 % against 9 % in 2019; publication number not
#: recorded).
TELEWORK_SHARE = Range(0.10, 0.19, 0.26)
TELEWORK_SOURCE = N_(
    "part des salariés qui télétravaillent : 10 % dans les communes très peu denses "
    "(Insee, 9 mars 2022, insee.fr/fr/statistiques/6209490, année 2021), 19 % "
    "(France Stratégie, Note d'analyse n° 146, mars 2025, année 2023), 26 % au moins "
    "occasionnellement (Dares, étude du 5 novembre 2024, année 2023)"
)

#: Share of teleworkers who would work in a tiers-lieu rather than at home.
#: Low 10 %: teleworkers using professional third places (télécentres, coworking,
#: centres d'affaires) in the 2012 survey of the « Tour de France du télétravail »
#: (LBMG Worklabs, Neo-nomade, Openscop, Zevillage; 1 400 respondents), as reported by
#: riposteverte.com (secondary source, survey report not consulted).  Central and high
#: 18 %: companies allowing telework that let their employees work from a place other
#: than home (Ifop and France Tiers-Lieux with the Association nationale des tiers-lieux,
#: « Les entreprises et les tiers-lieux », first Baromètre du télétravail en tiers-lieux,
#: 404 companies of 10 employees or more, ifop.com/publication/
#: les-entreprises-et-les-tiers-lieux; publication date not recorded, 2024 according
#: to the press): a ceiling set by employers; no higher published figure was found, so
#: the high estimate keeps it.
THIRD_PLACE_SHARE = Range(0.10, 0.18, 0.18)
THIRD_PLACE_SOURCE = N_(
    "part des télétravailleurs qui iraient dans un tiers-lieu : 10 % utilisaient un "
    "tiers-lieu professionnel en 2012 (enquête du Tour de France du télétravail, LBMG "
    "Worklabs, Neo-nomade, Openscop, Zevillage, 1 400 répondants, source secondaire) ; "
    "18 % des entreprises qui autorisent le télétravail l'autorisent hors du domicile "
    "(Ifop et France Tiers-Lieux, premier Baromètre du télétravail en tiers-lieux, 404 "
    "entreprises) — plafond, repris pour l'estimation haute"
)

#: Days per week at the tiers-lieu, for a teleworker who uses it.
#: Low 1: the most frequent regular practice in 2023, « un ou deux jours par semaine »
#: (Dares, 5 November 2024, see :data:`TELEWORK_SHARE`), lower end.  Central
#: 1.4: actual practice, high 2.1: days written in company charters (Ifop and France
#: Tiers-Lieux, first Baromètre du télétravail en tiers-lieux, as reported by Republik
#: Workplace, « Workplace Trends : les tiers-lieux bénéficient-ils de la dynamique du
#: télétravail ? »: « chartes d'entreprise (2,1 jours) et la pratique réelle
#: (1,4 jour) »).
DAYS_PER_WEEK = Range(1.0, 1.4, 2.1)
DAYS_PER_WEEK_SOURCE = N_(
    "jours par semaine : 1 (pratique régulière la plus fréquente, « un ou deux jours "
    "par semaine », Dares, 5 novembre 2024), 1,4 (pratique réelle) et 2,1 (chartes "
    "d'entreprise) selon le premier Baromètre du télétravail en tiers-lieux (Ifop et "
    "France Tiers-Lieux, rapporté par Republik Workplace)"
)

#: Working days in a week (the per-day gain is per working day).
WORK_DAYS_PER_WEEK = 5.0

#: Working days per year: the legal ceiling of the annual "forfait en jours", 218 days
#: (Code du travail, article L3121-64 since the law of 8 August 2016; the 218-day
#: ceiling is also quoted by Cass. soc., 16 mars 2016, n° 14-28.295), used as the
#: working days of a full-time year.
WORKING_DAYS = 218.0
WORKING_DAYS_SOURCE = N_(
    "218 jours ouvrés par an : plafond légal du forfait annuel en jours (Code du "
    "travail, art. L3121-64), pris comme nombre de jours travaillés d'une année à "
    "temps plein"
)

#: Share of the commuting benefit lost to rebound effects on average (extra trips,
#: moving farther, video calls, home energy; company real estate excluded): 31 %
#: (ADEME and Greenworking, « Caractérisation des effets rebond induits par le
#: télétravail », ADEME, collection Expertises, septembre 2020, summary on
#: librairie.ademe.fr).  Applied to the low estimate only.
REBOUND_SHARE = 0.31
REBOUND_SOURCE = N_(
    "effets rebond : −31 % du bénéfice en moyenne (ADEME et Greenworking, "
    "« Caractérisation des effets rebond induits par le télétravail », septembre "
    "2020), appliqués à l'estimation basse seulement"
)


@dataclass(frozen=True)
class Uptake:
    """The take-up assumptions of one run, each with where it comes from."""

    users_share: Range
    users_source: str
    days_per_week: Range
    days_source: str
    working_days: float
    working_days_source: str
    rebound: float = REBOUND_SHARE

    def factor(self) -> Range:
        """Tonnes per year for one kg CO₂e per working day of the ceiling."""

        def one(share: float, days: float, rebound: float) -> float:
            return share * days / WORK_DAYS_PER_WEEK * self.working_days * (1 - rebound) / 1000

        return Range(
            one(self.users_share.low, self.days_per_week.low, self.rebound),
            one(self.users_share.central, self.days_per_week.central, 0.0),
            one(self.users_share.high, self.days_per_week.high, 0.0),
        )

    def rows(self) -> list[dict[str, object]]:
        """The assumptions as table rows (``parametre, bas, central, haut, source``)."""
        return [
            {
                "parametre": _("part des navetteurs éligibles qui viendraient"),
                "bas": self.users_share.low,
                "central": self.users_share.central,
                "haut": self.users_share.high,
                "source": self.users_source,
            },
            {
                "parametre": _("jours par semaine au tiers-lieu"),
                "bas": self.days_per_week.low,
                "central": self.days_per_week.central,
                "haut": self.days_per_week.high,
                "source": self.days_source,
            },
            {
                "parametre": _("jours ouvrés par an"),
                "bas": self.working_days,
                "central": self.working_days,
                "haut": self.working_days,
                "source": self.working_days_source,
            },
            {
                "parametre": _("effet rebond"),
                "bas": self.rebound,
                "central": 0.0,
                "haut": 0.0,
                "source": _(REBOUND_SOURCE),
            },
        ]


def questionnaire_days(answers: Sequence[float]) -> tuple[Range, int] | None:
    """Days per week from the questionnaire: mean of the positive answers and its range.

    Answers of 0 (would not come) are left out: the share of users is a separate
    parameter.  Answers above 5 are counted as 5 (the gain is per working day).  The
    range is the mean ± 1.96 standard errors (normal approximation), kept within the
    smallest and largest answers; with one answer the three values are that answer.
    Returns ``None`` when no positive answer is given, else the range and the number of
    answers used.
    """
    days = [min(float(a), WORK_DAYS_PER_WEEK) for a in answers if a > 0]
    if not days:
        return None
    n = len(days)
    mean = sum(days) / n
    if n == 1:
        return Range.single(mean), 1
    variance = sum((d - mean) ** 2 for d in days) / (n - 1)
    half = 1.96 * math.sqrt(variance / n)
    return Range(max(min(days), mean - half), mean, min(max(days), mean + half)), n


def uptake(
    *,
    users_share: float | None = None,
    days_per_week: float | None = None,
    working_days: float | None = None,
    questionnaire: tuple[Range, int] | None = None,
) -> Uptake:
    """The assumptions of a run: the user's figures, else the questionnaire, else defaults.

    Raises
    ------
    SchemaError
        A figure out of its range (share in ]0, 1], days in ]0, 5], working days in
        ]0, 366]), every one found, each with its ``field``.
    """
    found = Problems()
    if users_share is not None and not 0 < users_share <= 1:
        found.add(
            "{users_share} doit être une part entre 0 (exclu) et 1, par exemple 0.05 "
            "pour 5 % (reçu : {v}).",
            field="users_share",
            v=users_share,
        )
    if days_per_week is not None and not 0 < days_per_week <= WORK_DAYS_PER_WEEK:
        found.add(
            "{days_per_week} doit être entre 0 (exclu) et 5 jours ouvrés (reçu : {v}).",
            field="days_per_week",
            v=days_per_week,
        )
    if working_days is not None and not 0 < working_days <= 366:
        found.add(
            "{working_days} doit être un nombre de jours entre 0 (exclu) et 366 (reçu : {v}).",
            field="working_days",
            v=working_days,
        )
    found.raise_if_any(SchemaError)
    if users_share is not None:
        share, share_source = Range.single(users_share), Note.text("valeur fournie ({users_share})")
    else:
        share = Range(
            TELEWORK_SHARE.low * THIRD_PLACE_SHARE.low,
            TELEWORK_SHARE.central * THIRD_PLACE_SHARE.central,
            TELEWORK_SHARE.high * THIRD_PLACE_SHARE.high,
        )
        share_source = _(
            "produit de deux parts publiées : {a} ; {b}",
            a=_(TELEWORK_SOURCE),
            b=_(THIRD_PLACE_SOURCE),
        )
    if days_per_week is not None:
        days, days_source = (
            Range.single(days_per_week),
            Note.text("valeur fournie ({days_per_week})"),
        )
    elif questionnaire is not None:
        days = questionnaire[0]
        days_source = Note.text(
            "questionnaire ({respondents}) : moyenne des {n} réponses positives à « Combien de "
            "jours par semaine pensez-vous venir dans le lieu ? » (plafonnées à 5), "
            "fourchette = moyenne ± 1,96 erreur type, dans les bornes des réponses",
            n=questionnaire[1],
        )
    else:
        days, days_source = DAYS_PER_WEEK, _(DAYS_PER_WEEK_SOURCE)
    return Uptake(
        users_share=share,
        users_source=share_source,
        days_per_week=days,
        days_source=days_source,
        working_days=working_days if working_days is not None else WORKING_DAYS,
        working_days_source=(
            Note.text("valeur fournie ({working_days})")
            if working_days is not None
            else _(WORKING_DAYS_SOURCE)
        ),
    )
