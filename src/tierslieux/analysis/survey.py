"""Analysis of questionnaire answers: fit scores, typology, candidate base communities.

Three pure functions on :class:`~tierslieux.model.survey.Respondent` lists:

- :func:`fit_scores`: a score out of 10 per respondent against the study's criteria,
  with the part each criterion contributes;
- :func:`typology`: shares of the respondents compared with the coworker profile the
  study quotes (:data:`~tierslieux.model.reference.COWORKER_PROFILE`), with Wilson
  95 % confidence intervals and a small-sample flag;
- :func:`candidate_groups`: groups of respondents living at most 20 minutes from one
  another and sharing a theme: candidate base communities from
  :data:`~tierslieux.model.structures.DEFAULT_MIN_MEMBERS` members, leads (« pistes »)
  below.

And what a steering committee reads first: :func:`question_summary` and
:func:`answer_counts` (counts and shares of every answer of every question, Wilson
intervals), :func:`free_texts` (the comments, contact details masked) and
:func:`commune_counts` (respondents and group members per commune, for the maps).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.analysis.catchment import catchment_pairs, group_diameters
from tierslieux.i18n import N_, format_number
from tierslieux.i18n import gettext as _
from tierslieux.model.reference import COWORKER_PROFILE
from tierslieux.model.structures import DEFAULT_MIN_MEMBERS
from tierslieux.privacy import contact_details_flag, mask_contact_details

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from tierslieux.model.survey import Answer, Question, Questionnaire, Respondent
    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = [
    "ANSWER_COLUMNS",
    "CRITERIA",
    "GROUP_CANDIDATE",
    "GROUP_LEAD",
    "NUMBER_CLASSES",
    "SMALL_SAMPLE",
    "Criterion",
    "answer_counts",
    "candidate_groups",
    "commune_counts",
    "far_from_sites",
    "fit_scores",
    "free_texts",
    "question_summary",
    "respondent_themes",
    "theme_label",
    "typology",
    "wilson_interval",
]

#: Below this number of answers a share is flagged as a small sample (a usual rule of
#: thumb for proportions; the Wilson interval stays valid, but is wide).
SMALL_SAMPLE = 30
#: z for a two-sided 95 % interval.
_Z95 = 1.959963984540054
#: The six work-mode wishes of the study (option codes of question ``envies``).
WISHES: tuple[str, ...] = ("proche", "flexible", "moins_cher", "outils", "convivial", "rencontres")
_COMPUTER_SHARE = {"moins_25": 0.0, "25_50": 0.25, "50_75": 0.75, "plus_75": 1.0}
#: Long commute threshold of the study (minutes): « à plus de 30 minutes de chez soi ».
LONG_COMMUTE_MINUTES = 30.0


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of the fit score: its weight and how far an answer meets it (0-1)."""

    code: str
    label: str
    #: The study's words (a catalogue message: shown translated, ``_(critere)``).
    critere: str
    weight: float
    measure: Callable[[Mapping[str, Answer]], float]


def _codes(answers: Mapping[str, Answer], qid: str) -> tuple[str, ...]:
    value = answers.get(qid)
    if isinstance(value, tuple):
        return value
    return (value,) if isinstance(value, str) else ()


def _computer(answers: Mapping[str, Answer]) -> float:
    value = answers.get("part_ordinateur")
    return _COMPUTER_SHARE.get(value, 0.0) if isinstance(value, str) else 0.0


def _long_commute(answers: Mapping[str, Answer]) -> float:
    minutes = answers.get("temps_trajet")
    if answers.get("distance_employeur") == "plus_30":
        return 1.0
    return 1.0 if isinstance(minutes, float) and minutes >= LONG_COMMUTE_MINUTES else 0.0


def _wishes(answers: Mapping[str, Answer]) -> float:
    return len(set(_codes(answers, "envies")) & set(WISHES)) / len(WISHES)


def _sharing(answers: Mapping[str, Answer]) -> float:
    return 1.0 if _codes(answers, "partages") else 0.0


def _daily_life(answers: Mapping[str, Answer]) -> float:
    return 1.0 if _codes(answers, "vie_quotidienne") else 0.0


def _use(answers: Mapping[str, Answer]) -> float:
    days = answers.get("jours_par_semaine")
    return 1.0 if isinstance(days, float) and days >= 1 else 0.0


#: Criteria of the fit score.  The weights (summing to 10) are tierslieux's own choice,
#: not figures from the study: the study lists its criteria with "et/ou" and gives no
#: weighting.  They favour what the study calls indispensable (the "esprit co") and the
#: work-mode wishes that make a place used.
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "ordinateur",
        N_("Travail sur ordinateur connecté"),
        N_("« Actif devant son ordinateur connecté une bonne partie du temps »"),
        2.0,
        _computer,
    ),
    Criterion(
        "trajet_long",
        N_("Entreprise à 30 minutes ou plus"),
        N_(
            "« Actif indépendant ou salarié dont l'entreprise est située à plus de 30 minutes "
            "de chez soi »"
        ),
        1.5,
        _long_commute,
    ),
    Criterion(
        "envies",
        N_("Envies de mode de travail (part des six)"),
        N_("« Approche mode de travail » : les six envies"),
        3.0,
        _wishes,
    ),
    Criterion(
        "esprit_co",
        N_("Ouvert au partage (esprit « co »)"),
        N_(
            "« Les usagers potentiels sont forcément ouverts, pour l'un ou plusieurs éléments "
            "au moins, à cet esprit « Co » »"
        ),
        2.0,
        _sharing,
    ),
    Criterion(
        "vie_quotidienne",
        N_("Problématique de vie quotidienne partagée"),
        N_("« Vie quotidienne / vision du monde »"),
        1.0,
        _daily_life,
    ),
    Criterion(
        "usage",
        N_("Usage prévu d'au moins un jour par semaine"),
        N_("« Envie d'un lieu de travail flexible, régulier ou occasionnel »"),
        0.5,
        _use,
    ),
)


def fit_scores(respondents: Sequence[Respondent]) -> pd.DataFrame:
    """Return the fit score of each respondent and the part of each criterion.

    Returns
    -------
    pandas.DataFrame
        ``repondant``, ``commune``, ``score`` (0-10), then one column ``part_<code>``
        per criterion of :data:`CRITERIA` (its contribution, 0 to its weight); sorted by
        decreasing score.
    """
    rows = []
    for respondent in respondents:
        parts = {
            f"part_{c.code}": round(c.weight * c.measure(respondent.answers), 4) for c in CRITERIA
        }
        rows.append(
            {
                "repondant": respondent.id,
                "commune": respondent.commune,
                "score": round(sum(parts.values()), 4),
                **parts,
            }
        )
    columns = ["repondant", "commune", "score", *(f"part_{c.code}" for c in CRITERIA)]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["score", "repondant"], ascending=[False, True]).reset_index(drop=True)


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (NaN, NaN when ``n`` is 0).

    Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical
    inference", *JASA* 22(158), 209-212: unlike the normal approximation it stays inside
    [0, 1] and behaves on small samples.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def _share_row(
    code: str,
    label: str,
    successes: int,
    n: int,
    reference: float,
) -> dict[str, object]:
    low, high = wilson_interval(successes, n)
    share = successes / n if n else math.nan
    return {
        "indicateur": code,
        "libelle": label,
        "effectif": successes,
        "repondants": n,
        "part": share,
        "ic95_bas": low,
        "ic95_haut": high,
        "reference": reference,
        "reference_dans_ic": bool(n) and low <= reference <= high,
        "petit_echantillon": n < SMALL_SAMPLE,
        "source": COWORKER_PROFILE.source,
    }


def typology(respondents: Sequence[Respondent]) -> pd.DataFrame:
    """Compare the respondents with the coworker profile quoted by the study.

    Each share counts only the respondents who answered the question (age band and
    sex are optional).  Age bands 26-35 and 36-45 make the study's "26-45 ans".  The
    four statuses are compared with the study's « plus des 3/4 [...] en proportion
    équivalente » both together (0.75) and one by one (0.75 / 4 each).

    Returns
    -------
    pandas.DataFrame
        ``indicateur``, ``libelle``, ``effectif``, ``repondants``, ``part``,
        ``ic95_bas``, ``ic95_haut`` (Wilson 95 %), ``reference``, ``reference_dans_ic``,
        ``petit_echantillon`` (fewer than :data:`SMALL_SAMPLE` answers), ``source``.
    """

    def count(qid: str, codes: set[str]) -> tuple[int, int]:
        answered = [r.answers.get(qid) for r in respondents if isinstance(r.answers.get(qid), str)]
        return sum(1 for a in answered if a in codes), len(answered)

    profile = COWORKER_PROFILE
    statuses = {"independant", "startup", "salarie", "associatif"}
    each = profile.share_independents_startups_employees_associations / len(statuses)
    rows = [
        _share_row("part_hommes", _("Hommes"), *count("sexe", {"homme"}), profile.share_men),
        _share_row(
            "part_26_45_ans",
            _("Âgés de 26 à 45 ans"),
            *count("tranche_age", {"26_35", "36_45"}),
            profile.share_aged_26_45,
        ),
        _share_row("part_tic", _("Secteur des TIC"), *count("secteur", {"tic"}), profile.share_ict),
        _share_row(
            "part_statuts_coworking",
            _("Indépendants, start-up, salariés et associations"),
            *count("statut", statuses),
            profile.share_independents_startups_employees_associations,
        ),
        _share_row("part_independants", _("Indépendants"), *count("statut", {"independant"}), each),
        _share_row("part_startups", _("Start-up"), *count("statut", {"startup"}), each),
        _share_row("part_salaries", _("Salariés"), *count("statut", {"salarie"}), each),
        _share_row("part_associations", _("Associations"), *count("statut", {"associatif"}), each),
    ]
    return pd.DataFrame(rows)


def respondent_themes(answers: Mapping[str, Answer]) -> tuple[str, ...]:
    """Return the themes a respondent could share with others.

    ``partage:<code>`` for what they would share, ``vie:<code>`` for their daily-life
    issues and ``secteur:<code>`` for their sector (the study's "Groupement d'un
    secteur professionnel"; ``autre`` is left out).
    """
    themes = [f"partage:{c}" for c in _codes(answers, "partages")]
    themes += [f"vie:{c}" for c in _codes(answers, "vie_quotidienne")]
    themes += [f"secteur:{c}" for c in _codes(answers, "secteur") if c != "autre"]
    return tuple(sorted(set(themes)))


#: ``statut`` of a group with at least ``min_size`` members: a candidate base community.
GROUP_CANDIDATE = "communaute_base_candidate"
#: ``statut`` of a smaller group: a lead (« piste »), the study's own word: « il est
#: indispensable d'identifier des pistes de communautés-base existantes ou potentielles ».
GROUP_LEAD = "piste"


def candidate_groups(
    respondents: Sequence[Respondent],
    points: pd.DataFrame,
    engine: TravelTimeEngine,
    *,
    minutes: float = 20.0,
    min_members: int = 2,
    min_size: int = DEFAULT_MIN_MEMBERS,
) -> pd.DataFrame:
    """Find groups of respondents all within ``minutes`` of one another sharing a theme.

    For each theme (:func:`respondent_themes`), the respondents having it are
    covered greedily by cliques of the "lives at most ``minutes`` from" graph: the
    most connected respondent starts a group, and each next one joins if they live
    within ``minutes`` of *every* member (the study's « maxi 20 minutes les uns des
    autres »; connected components would chain further).  A respondent belongs to at
    most one group per theme, possibly to groups of several themes.

    Parameters
    ----------
    respondents
        Respondents with their commune of residence (INSEE code).
    points
        Points frame (``code``, ``latitude``, ``longitude``) of the communes.
    engine
        Travel-time engine (straight line, matrix, OSRM).
    minutes
        Greatest travel time between two members, in minutes (20 in the study).
    min_members
        Smallest group kept.
    min_size
        Smallest group shown as a candidate base community (``statut`` =
        :data:`GROUP_CANDIDATE`); smaller groups are leads (:data:`GROUP_LEAD`, the
        study's « pistes de communautés-base »).

    Returns
    -------
    pandas.DataFrame
        ``groupe`` (1, 2...), ``theme``, ``membres``, ``communes`` (INSEE codes,
        ``;``-separated), ``repondants`` (pseudonymous ids), ``membres_par_commune``
        (``code:n;...``), ``diametre_minutes`` (largest travel time between two of the
        group's communes, both ways, 0 for a single commune, empty when unknown),
        ``statut`` (candidate or lead); largest groups first.
    """
    columns = [
        "groupe",
        "theme",
        "membres",
        "communes",
        "repondants",
        "membres_par_commune",
        "diametre_minutes",
        "statut",
    ]
    codes = sorted({r.commune for r in respondents if r.commune})
    located = points[points["code"].astype(str).isin(codes)][["code", "latitude", "longitude"]]
    missing = [c for c in codes if c not in set(located["code"].astype(str))]
    located = pd.concat(
        [located, pd.DataFrame({"code": missing, "latitude": math.nan, "longitude": math.nan})],
        ignore_index=True,
    ).astype({"code": str, "latitude": "float64", "longitude": "float64"})
    pairs = catchment_pairs(engine, located, minutes) if codes else None
    near: set[tuple[str, str]] = set()
    if pairs is not None:
        near = set(zip(pairs["origin"].astype(str), pairs["destination"].astype(str), strict=True))

    def close(a: Respondent, b: Respondent) -> bool:
        return (a.commune, b.commune) in near or (b.commune, a.commune) in near

    by_theme: dict[str, list[Respondent]] = {}
    for respondent in respondents:
        for theme in respondent_themes(respondent.answers):
            by_theme.setdefault(theme, []).append(respondent)
    found: list[dict[str, object]] = []
    for theme, members in sorted(by_theme.items()):
        degree = {m.id: sum(close(m, o) for o in members if o.id != m.id) for m in members}
        remaining = sorted(members, key=lambda m: (-degree[m.id], m.id))
        while remaining:
            clique = [remaining[0]]
            for candidate in remaining[1:]:
                if all(close(candidate, member) for member in clique):
                    clique.append(candidate)
            taken = {m.id for m in clique}
            remaining = [m for m in remaining if m.id not in taken]
            if len(clique) >= min_members:
                found.append(
                    {
                        "theme": theme,
                        "membres": len(clique),
                        "communes": ";".join(sorted({m.commune for m in clique})),
                        "repondants": ";".join(sorted(taken)),
                        "membres_par_commune": ";".join(
                            f"{c}:{n}"
                            for c, n in sorted(Counter(m.commune for m in clique).items())
                        ),
                    }
                )
    if not found:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    frame = pd.DataFrame(found).sort_values(["membres", "theme"], ascending=[False, True])
    frame.insert(0, "groupe", range(1, len(frame) + 1))
    membership = frame[["groupe"]].assign(commune=frame["communes"].str.split(";"))
    membership = membership.explode("commune")
    diameters = group_diameters(
        engine,
        pd.DataFrame(
            {"origin": membership["groupe"].astype(str), "destination": membership["commune"]}
        ),
        located,
    )
    frame["diametre_minutes"] = diameters.reindex(frame["groupe"].astype(str)).to_numpy()
    frame["statut"] = [GROUP_CANDIDATE if n >= min_size else GROUP_LEAD for n in frame["membres"]]
    return frame.reset_index(drop=True)[columns]


#: Indicator of :func:`far_from_sites` in the typology.
FAR_FROM_SITE = "part_loin_du_site"


def far_from_sites(
    respondents: Sequence[Respondent],
    points: pd.DataFrame,
    engine: TravelTimeEngine,
    sites: Sequence[str] | None,
    *,
    minutes: float = 20.0,
) -> dict[str, object]:
    """Typology row: share of respondents living more than ``minutes`` from every site.

    The study says the coworker « habite à plus de 20 minutes de l'espace de
    coworking » without a percentage: the comparison is qualitative (``reference`` is
    NaN, ``reference_texte`` says « majorité (non chiffrée par l'étude) »).  A
    respondent is near when the travel time from their commune to the nearest site is
    at most ``minutes`` (inclusive, as the catchments); respondents whose commune has
    no coordinates are left out of the count.  ``sites=None``: the row says it was not
    computed.
    """
    label = _("Habite à plus de {m:g} minutes de l'espace de coworking", m=minutes)
    extra: dict[str, object] = {
        "reference_texte": _("majorité (non chiffrée par l'étude)"),
        "comparaison": _("qualitative"),
        "remarque": "",
    }
    if sites is None:
        row = _share_row(FAR_FROM_SITE, label, 0, 0, math.nan)
        extra["remarque"] = _("non calculé : aucun site fourni")
        return {**row, "reference_dans_ic": pd.NA, "petit_echantillon": False, **extra}
    located = points.dropna(subset=["latitude", "longitude"])
    known = set(located["code"].astype(str))
    homes = [r.commune for r in respondents if r.commune in known]
    wanted = set(homes) | {s for s in sites if s in known}
    chosen = located[located["code"].astype(str).isin(wanted)][["code", "latitude", "longitude"]]
    chosen = chosen.drop_duplicates("code").astype({"code": str})
    pairs = catchment_pairs(engine, chosen, minutes) if len(chosen) else None
    near: set[str] = set()
    if pairs is not None:
        to_site = pairs["destination"].astype(str).isin(set(sites))
        near = set(pairs.loc[to_site, "origin"].astype(str))
    far = sum(1 for home in homes if home not in near)
    row = _share_row(FAR_FROM_SITE, label, far, len(homes), math.nan)
    left_out = len(respondents) - len(homes)
    if left_out:
        extra["remarque"] = _(
            "{n} répondant(s) sans coordonnées de commune non compté(s)", n=left_out
        )
    return {**row, "reference_dans_ic": pd.NA, **extra}


# --- results question by question ------------------------------------------------------

#: Classes of the number questions, as lower bounds in the question's unit (the last
#: class is open).  Reading classes chosen by tierslieux, not figures of the study; the
#: travel-time classes break at the study's 20 minutes (« maxi 20 minutes les uns des
#: autres ») and 30 minutes (« à plus de 30 minutes de chez soi »).  A number question
#: not listed here gets five classes of equal width between its ``min`` and ``max``.
NUMBER_CLASSES: dict[str, tuple[float, ...]] = {
    "temps_trajet": (0, 10, 20, 30, 45, 60),
    "jours_par_semaine": (0, 1, 2, 3, 4, 5),
    "budget_mensuel": (0, 50, 100, 200, 400),
}
_EQUAL_CLASSES = 5
#: The question of the commune of residence (stored apart, as the respondent's commune).
RESIDENCE = "commune_residence"
#: Theme prefixes of :func:`respondent_themes`: the question they come from, its label.
_THEME_QUESTIONS: dict[str, tuple[str, str]] = {
    "partage": ("partages", N_("Partage")),
    "vie": ("vie_quotidienne", N_("Vie quotidienne")),
    "secteur": ("secteur", N_("Secteur")),
}


def theme_label(theme: str, questionnaire: Questionnaire) -> str:
    """Return a theme of :func:`respondent_themes` in words (« Partage : Des compétences »).

    An unknown theme is returned as it is.
    """
    prefix, _sep, code = theme.partition(":")
    if prefix not in _THEME_QUESTIONS:
        return theme
    qid, label = _THEME_QUESTIONS[prefix]
    try:
        options = {o.code: o.label for o in questionnaire.question(qid).options}
    except KeyError:
        return theme
    return _("{theme} : {option}", theme=_(label), option=options.get(code, code))


def _answer(question: Question, respondent: Respondent) -> Answer | None:
    """The respondent's answer to ``question``, or None when they gave none."""
    if question.id == RESIDENCE:
        return respondent.commune or None
    value = respondent.answers.get(question.id)
    if question.type == "multi":
        codes = _codes(respondent.answers, question.id)
        return codes or None
    if question.type == "number":
        number = value if isinstance(value, float | int) and not isinstance(value, bool) else None
        return float(number) if number is not None and math.isfinite(number) else None
    if isinstance(value, str) and value.strip():
        return value
    return None


def _counted(questionnaire: Questionnaire) -> list[Question]:
    # Consent is not a result: every stored respondent gave it.
    return [q for q in questionnaire.questions if q.type != "consent"]


def _edges(question: Question) -> tuple[float, ...]:
    if question.id in NUMBER_CLASSES:
        return NUMBER_CLASSES[question.id]
    low = question.minimum if question.minimum is not None else 0.0
    if question.maximum is None or question.maximum <= low:
        return (low,)
    width = (question.maximum - low) / _EQUAL_CLASSES
    return tuple(low + i * width for i in range(_EQUAL_CLASSES))


def _bound(value: float) -> str:
    return format_number(value, 0 if float(value).is_integer() else 1)


def _class_label(low: float, high: float | None, *, first: bool) -> str:
    # No unit in the label (« moins de 1 jours » is not French): ``unite`` gives it.
    if high is None:
        return _("{low} ou plus", low=_bound(low))
    if first and low <= 0:
        return _("moins de {high}", high=_bound(high))
    return _("{low} à moins de {high}", low=_bound(low), high=_bound(high))


def _class_of(value: float, edges: Sequence[float]) -> int:
    index = 0
    for i, edge in enumerate(edges):
        if value >= edge:
            index = i
    return index


def _unit(question: Question) -> str:
    return question.unit or ""


def question_summary(
    questionnaire: Questionnaire, respondents: Sequence[Respondent]
) -> pd.DataFrame:
    """Return one row per question: how many respondents answered it, and for numbers
    the median.

    Every question but the consent is listed, in the questionnaire's order.

    Returns
    -------
    pandas.DataFrame
        ``question`` (id), ``libelle_question``, ``type``, ``repondants`` (who
        answered it), ``sans_reponse``, ``total`` (respondents analysed),
        ``part_repondants``, ``plusieurs_reponses`` (multi questions: shares are of the
        respondents who answered, their total exceeds 100 %), ``mediane``, ``minimum``,
        ``maximum`` and ``unite`` (number questions, else empty), ``petit_echantillon``
        (fewer than :data:`SMALL_SAMPLE` answers), ``critere`` (the study's criterion).
    """
    total = len(respondents)
    rows = []
    for question in _counted(questionnaire):
        answers = [a for a in (_answer(question, r) for r in respondents) if a is not None]
        numbers = [a for a in answers if isinstance(a, float)]
        rows.append(
            {
                "question": question.id,
                "libelle_question": question.label,
                "type": question.type,
                "repondants": len(answers),
                "sans_reponse": total - len(answers),
                "total": total,
                "part_repondants": len(answers) / total if total else math.nan,
                "plusieurs_reponses": question.type == "multi",
                "mediane": statistics.median(numbers) if numbers else math.nan,
                "minimum": min(numbers) if numbers else math.nan,
                "maximum": max(numbers) if numbers else math.nan,
                "unite": _unit(question),
                "petit_echantillon": len(answers) < SMALL_SAMPLE,
                "critere": question.critere,
            }
        )
    return pd.DataFrame(rows)


#: Columns of :func:`answer_counts`.
ANSWER_COLUMNS = (
    "question",
    "libelle_question",
    "type",
    "rang",
    "modalite",
    "libelle",
    "effectif",
    "repondants",
    "part",
    "ic95_bas",
    "ic95_haut",
    "petit_echantillon",
)


def _count_row(
    question: Question, rank: int, code: str, label: str, count: int, answered: int
) -> dict[str, object]:
    low, high = wilson_interval(count, answered)
    return {
        "question": question.id,
        "libelle_question": question.label,
        "type": question.type,
        "rang": rank,
        "modalite": code,
        "libelle": label,
        "effectif": count,
        "repondants": answered,
        "part": count / answered if answered else math.nan,
        "ic95_bas": low,
        "ic95_haut": high,
        "petit_echantillon": answered < SMALL_SAMPLE,
    }


def _categories(
    question: Question, answers: Sequence[Answer], names: Mapping[str, str]
) -> list[tuple[str, str, int]]:
    """``(code, label, count)`` of each answer of a choice, multi or commune question."""
    counts: Counter[str] = Counter()
    for answer in answers:
        counts.update(set(answer) if isinstance(answer, tuple) else {str(answer)})
    if question.type == "commune":
        ranked = sorted(counts, key=lambda c: (-counts[c], names.get(c, c), c))
        return [(c, f"{names[c]} ({c})" if c in names else c, counts[c]) for c in ranked]
    found = [(o.code, o.label, counts.get(o.code, 0)) for o in question.options]
    # Codes of another questionnaire version, kept rather than silently dropped.
    known = set(question.codes)
    found += [(c, c, counts[c]) for c in sorted(counts) if c not in known]
    return found


def _classes(question: Question, answers: Sequence[Answer]) -> list[tuple[str, str, int]]:
    edges = _edges(question)
    counts = Counter(_class_of(float(a), edges) for a in answers if isinstance(a, float))
    rows = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        label = _class_label(low, high, first=i == 0)
        rows.append((f"classe_{i + 1}", label, counts.get(i, 0)))
    return rows


def answer_counts(
    questionnaire: Questionnaire,
    respondents: Sequence[Respondent],
    *,
    commune_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return the count and share of every answer of every question.

    Shares are of the respondents who answered the question (optional questions, age
    and sex among them, are often left blank), with their Wilson 95 % interval
    (:func:`wilson_interval`).  Choice questions list every option, in the
    questionnaire's order, even when nobody chose it; multi questions too, and a
    respondent counts once for each option they ticked, so the shares of a multi
    question add up to more than 100 %.  Number questions are counted by classes
    (:data:`NUMBER_CLASSES`; median in :func:`question_summary`); commune questions by
    commune, most frequent first (``commune_names``: code -> name for the labels).
    Free-text questions have no counts: see :func:`free_texts`.  Class labels carry no
    unit (« 1 à moins de 2 »): it is ``unite`` of :func:`question_summary`.

    Returns
    -------
    pandas.DataFrame
        :data:`ANSWER_COLUMNS`: ``question``, ``libelle_question``, ``type``, ``rang``
        (order within the question, from 1), ``modalite`` (option code, commune code or
        ``classe_<n>``), ``libelle``, ``effectif``, ``repondants`` (who answered the
        question), ``part``, ``ic95_bas``, ``ic95_haut``, ``petit_echantillon``.
    """
    names = commune_names or {}
    rows: list[dict[str, object]] = []
    for question in _counted(questionnaire):
        if question.type == "text":
            continue
        answers = [a for a in (_answer(question, r) for r in respondents) if a is not None]
        found = (
            _classes(question, answers)
            if question.type == "number"
            else _categories(question, answers, names)
        )
        rows += [
            _count_row(question, rank, code, label, count, len(answers))
            for rank, (code, label, count) in enumerate(found, start=1)
        ]
    return pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))


def free_texts(questionnaire: Questionnaire, respondents: Sequence[Respondent]) -> pd.DataFrame:
    """Return the free-text answers, question by question, contact details masked.

    E-mail addresses and phone numbers are replaced
    (:func:`tierslieux.privacy.mask_contact_details`).  The texts carry neither the
    respondent's number nor their commune, and are sorted alphabetically within each
    question rather than in the order of ``respondents.csv``: a comment cannot be
    joined back to a respondent's other answers through the tables.

    Returns
    -------
    pandas.DataFrame
        ``question``, ``libelle_question``, ``texte`` and ``coordonnees`` (« contient
        une adresse e-mail »... when the answer held contact details, masked in
        ``texte``; empty otherwise, :func:`tierslieux.privacy.contact_details_flag`);
        questions in the questionnaire's order.
    """
    rows = []
    for question in _counted(questionnaire):
        if question.type != "text":
            continue
        texts = [a for a in (_answer(question, r) for r in respondents) if isinstance(a, str)]
        masked = sorted(
            ((mask_contact_details(t.strip()), contact_details_flag(t)) for t in texts),
            key=lambda pair: pair[0].casefold(),
        )
        rows += [
            {
                "question": question.id,
                "libelle_question": question.label,
                "texte": text,
                "coordonnees": flag,
            }
            for text, flag in masked
        ]
    return pd.DataFrame(rows, columns=["question", "libelle_question", "texte", "coordonnees"])


def commune_counts(
    respondents: Sequence[Respondent], groups: pd.DataFrame, codes: Sequence[str]
) -> pd.DataFrame:
    """Return, for each commune of ``codes``, its respondents and group members.

    ``groups`` is the frame of :func:`candidate_groups` (its ``repondants`` and
    ``statut`` columns).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``repondants`` (living there), ``membres_candidats`` (respondents
        living there who belong to at least one candidate base community),
        ``groupes_candidats`` and ``pistes`` (numbers of the groups with a member
        there, ``;``-separated), in the order of ``codes``.
    """
    home = {r.id: r.commune for r in respondents}
    living = Counter(r.commune for r in respondents)
    members: dict[str, set[str]] = {}
    listed: dict[tuple[str, str], list[str]] = {}
    for row in groups.to_dict("records"):
        ids = [i for i in str(row["repondants"]).split(";") if i in home]
        for commune in sorted({home[i] for i in ids}):
            listed.setdefault((commune, str(row["statut"])), []).append(str(row["groupe"]))
        if row["statut"] == GROUP_CANDIDATE:
            for ident in ids:
                members.setdefault(home[ident], set()).add(ident)
    return pd.DataFrame(
        {
            "code": list(codes),
            "repondants": [living.get(c, 0) for c in codes],
            "membres_candidats": [len(members.get(c, ())) for c in codes],
            "groupes_candidats": [";".join(listed.get((c, GROUP_CANDIDATE), [])) for c in codes],
            "pistes": [";".join(listed.get((c, GROUP_LEAD), [])) for c in codes],
        }
    )
