"""Survey results question by question: counts, shares, medians, comments, communes.

Every figure below is counted by hand on the five respondents of ``FIVE``.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tierslieux.analysis.survey import (
    GROUP_CANDIDATE,
    GROUP_LEAD,
    SMALL_SAMPLE,
    answer_counts,
    candidate_groups,
    commune_counts,
    free_texts,
    question_summary,
    theme_label,
    wilson_interval,
)
from tierslieux.analysis.traveltime import StraightLineEngine
from tierslieux.model.survey import Respondent, load_questionnaire

QUESTIONNAIRE = load_questionnaire()
NAMES = {"05061": "Gap", "05101": "Pelleautier", "05023": "Briançon"}


def _r(rid: str, commune: str, **answers: object) -> Respondent:
    return Respondent(rid, commune, answers)  # type: ignore[arg-type]


FIVE = [
    _r("a", "05061", statut="independant", envies=("proche", "convivial"),
       partages=("competences",), jours_par_semaine=3.0, budget_mensuel=120.0,
       temps_trajet=35.0, mode_trajet="voiture", sexe="homme", tranche_age="26_35",
       commune_travail="05023", commentaire="Écrivez-moi : marie@example.org"),
    _r("b", "05061", statut="salarie", envies=("proche",), jours_par_semaine=1.0,
       budget_mensuel=40.0, temps_trajet=10.0, mode_trajet="voiture", sexe="femme",
       commentaire="<script>alert(1)</script> Une salle de réunion"),
    _r("c", "05101", statut="independant", envies=("proche", "outils", "rencontres"),
       jours_par_semaine=0.5, sexe="homme", commentaire="  Appelez le 06 12 34 56 78  "),
    _r("d", "05101", statut="retraite", envies=("convivial",), jours_par_semaine=5.0,
       budget_mensuel=0.0),
    _r("e", "05023", statut="independant", envies=("flexible",), commentaire="   "),
]  # fmt: skip


def _counts(qid: str) -> pd.DataFrame:
    table = answer_counts(QUESTIONNAIRE, FIVE, commune_names=NAMES)
    return table[table["question"] == qid].set_index("modalite")


def _summary() -> pd.DataFrame:
    return question_summary(QUESTIONNAIRE, FIVE).set_index("question")


def test_every_question_has_its_table() -> None:
    summary = _summary()
    counted = [q for q in QUESTIONNAIRE.questions if q.type != "consent"]
    # Every question but the consent, in the questionnaire's order.
    assert list(summary.index) == [q.id for q in counted]
    table = answer_counts(QUESTIONNAIRE, FIVE)
    for question in counted:
        rows = table[table["question"] == question.id]
        if question.type == "text":
            assert rows.empty  # its table is the list of comments
            assert question.id in set(free_texts(QUESTIONNAIRE, FIVE)["question"])
        elif question.type in {"choice", "multi"}:
            # Every option, even those nobody chose, in the questionnaire's order.
            assert list(rows["modalite"]) == list(question.codes), question.id
        else:
            assert len(rows), question.id
    assert list(table["rang"]) == [
        r for _q, group in table.groupby("question", sort=False) for r in range(1, len(group) + 1)
    ]


def test_choice_counts_and_shares_by_hand() -> None:
    statut = _counts("statut")
    assert statut.loc["independant", "effectif"] == 3
    assert statut.loc["salarie", "effectif"] == 1
    assert statut.loc["startup", "effectif"] == 0
    assert (statut["repondants"] == 5).all()
    assert statut.loc["independant", "part"] == pytest.approx(0.6)
    low, high = wilson_interval(3, 5)
    assert statut.loc["independant", "ic95_bas"] == pytest.approx(low)
    assert statut.loc["independant", "ic95_haut"] == pytest.approx(high)
    assert statut["effectif"].sum() == 5
    assert statut["petit_echantillon"].all()  # 5 answers < 30


def test_optional_questions_count_only_who_answered() -> None:
    # Sex: a (man), b (woman), c (man): 3 answered, d and e left it blank.
    sexe = _counts("sexe")
    assert tuple(sexe["effectif"]) == (1, 2, 0)  # femme, homme, autre
    assert (sexe["repondants"] == 3).all()
    assert sexe.loc["homme", "part"] == pytest.approx(2 / 3)
    summary = _summary()
    assert tuple(summary.loc["sexe", ["repondants", "sans_reponse", "total"]]) == (3, 2, 5)
    assert summary.loc["sexe", "part_repondants"] == pytest.approx(0.6)
    age = _counts("tranche_age")
    assert age.loc["26_35", "effectif"] == 1
    assert (age["repondants"] == 1).all()
    # Travel mode: a and b, both by car.
    mode = _counts("mode_trajet")
    assert mode.loc["voiture", "part"] == pytest.approx(1.0)
    assert summary.loc["mode_trajet", "repondants"] == 2


def test_multi_shares_are_of_respondents_and_exceed_one() -> None:
    envies = _counts("envies")
    # proche: a, b, c; convivial: a, d; outils, rencontres: c; flexible: e.
    assert envies.loc["proche", "effectif"] == 3
    assert envies.loc["convivial", "effectif"] == 2
    assert envies.loc["moins_cher", "effectif"] == 0
    assert (envies["repondants"] == 5).all()
    assert envies.loc["proche", "part"] == pytest.approx(0.6)
    assert envies["part"].sum() == pytest.approx(8 / 5)  # more than 100 %
    summary = _summary()
    assert summary.loc["envies", "plusieurs_reponses"]
    assert not summary.loc["statut", "plusieurs_reponses"]
    # What people would share: only a answered.
    partages = _counts("partages")
    assert partages.loc["competences", "part"] == pytest.approx(1.0)
    assert summary.loc["partages", "repondants"] == 1


def test_numbers_in_classes_with_median() -> None:
    days = _counts("jours_par_semaine")
    # 3, 1, 0.5, 5: classes « moins de 1 », « 1 à moins de 2 », ... « 5 ou plus ».
    assert list(days["libelle"]) == [
        "moins de 1",
        "1 à moins de 2",
        "2 à moins de 3",
        "3 à moins de 4",
        "4 à moins de 5",
        "5 ou plus",
    ]
    assert tuple(days["effectif"]) == (1, 1, 0, 1, 0, 1)
    assert (days["repondants"] == 4).all()
    summary = _summary()
    row = summary.loc["jours_par_semaine"]
    assert row["repondants"] == 4
    assert row["mediane"] == pytest.approx(2.0)  # (1 + 3) / 2
    assert (row["minimum"], row["maximum"]) == (0.5, 5.0)
    assert row["unite"] == "jours"
    budget = _counts("budget_mensuel")
    # 120, 40, 0: two under 50, one in 100-200.
    assert tuple(budget["effectif"]) == (2, 0, 1, 0, 0)
    assert summary.loc["budget_mensuel", "mediane"] == pytest.approx(40.0)
    assert summary.loc["budget_mensuel", "repondants"] == 3
    # Travel time: 35 and 10 minutes; classes break at the study's 20 and 30 minutes.
    trajet = _counts("temps_trajet")
    assert list(trajet["libelle"])[2:4] == ["20 à moins de 30", "30 à moins de 45"]
    assert tuple(trajet["effectif"]) == (0, 1, 0, 1, 0, 0)
    assert math.isnan(summary.loc["statut", "mediane"])


def test_communes_counted_with_their_names() -> None:
    homes = _counts("commune_residence")
    assert list(homes.index) == ["05061", "05101", "05023"]  # most frequent first
    assert list(homes["libelle"]) == ["Gap (05061)", "Pelleautier (05101)", "Briançon (05023)"]
    assert tuple(homes["effectif"]) == (2, 2, 1)
    assert (homes["repondants"] == 5).all()
    work = _counts("commune_travail")
    assert list(work.index) == ["05023"]
    assert work.loc["05023", "repondants"] == 1


def test_unknown_codes_are_kept() -> None:
    table = answer_counts(QUESTIONNAIRE, [_r("x", "05061", statut="ancien_code")])
    statut = table[table["question"] == "statut"].set_index("modalite")
    assert statut.loc["ancien_code", "effectif"] == 1
    assert statut.loc["ancien_code", "part"] == pytest.approx(1.0)


def test_small_sample_flag_follows_the_threshold() -> None:
    many = [_r(f"r{i}", "05061", statut="salarie") for i in range(SMALL_SAMPLE)]
    summary = question_summary(QUESTIONNAIRE, many).set_index("question")
    assert not summary.loc["statut", "petit_echantillon"]
    assert summary.loc["sexe", "petit_echantillon"]  # nobody answered it


def test_free_texts_masked_stripped_sorted_and_anonymous() -> None:
    texts = free_texts(QUESTIONNAIRE, FIVE)
    assert list(texts.columns) == ["question", "libelle_question", "texte", "coordonnees"]
    # e's blank comment is not a comment; the others sorted, contact details masked
    # and flagged for the team (issue 11).
    assert list(texts["texte"]) == [
        "<script>alert(1)</script> Une salle de réunion",
        "Appelez le [téléphone masqué]",
        "Écrivez-moi : [courriel masqué]",
    ]
    assert list(texts["coordonnees"]) == [
        "",
        "contient un numéro de téléphone",
        "contient une adresse e-mail",
    ]
    assert set(texts["question"]) == {"commentaire"}
    summary = _summary()
    assert summary.loc["commentaire", "repondants"] == 3


def test_groups_below_the_minimum_are_leads() -> None:
    points = pd.DataFrame(
        {"code": ["05061", "05101"], "latitude": [44.5594, 44.5236], "longitude": [6.0786, 6.0111]}
    )
    people = [
        *(_r(f"t{i}", "05061", secteur="tic") for i in range(4)),
        _r("c1", "05061", partages=("competences",)),
        _r("c2", "05101", partages=("competences",)),
    ]
    groups = candidate_groups(people, points, StraightLineEngine(), min_size=3)
    status = dict(zip(groups["theme"], groups["statut"], strict=True))
    assert status == {"secteur:tic": GROUP_CANDIDATE, "partage:competences": GROUP_LEAD}
    stricter = candidate_groups(people, points, StraightLineEngine(), min_size=5)
    assert set(stricter["statut"]) == {GROUP_LEAD}
    # commune_counts: 5 respondents in Gap (4 in the candidate group), 1 in Pelleautier.
    communes = commune_counts(people, groups, ["05061", "05101", "05023"]).set_index("code")
    assert tuple(communes["repondants"]) == (5, 1, 0)
    assert tuple(communes["membres_candidats"]) == (4, 0, 0)
    tic = str(groups.loc[groups["theme"] == "secteur:tic", "groupe"].iloc[0])
    lead = str(groups.loc[groups["theme"] == "partage:competences", "groupe"].iloc[0])
    assert communes.loc["05061", "groupes_candidats"] == tic
    assert communes.loc["05061", "pistes"] == lead
    assert communes.loc["05101", "pistes"] == lead


def test_theme_labels() -> None:
    assert theme_label("partage:competences", QUESTIONNAIRE) == "Partage : Des compétences"
    assert theme_label("vie:enfants", QUESTIONNAIRE) == (
        "Vie quotidienne : Garde et scolarité des enfants"
    )
    assert theme_label("secteur:inconnu", QUESTIONNAIRE) == "Secteur : inconnu"
    assert theme_label("autre", QUESTIONNAIRE) == "autre"
