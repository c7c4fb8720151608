"""Survey analysis: fit scores, typology against hand computations, candidate groups."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tierslieux.analysis.survey import (
    CRITERIA,
    candidate_groups,
    fit_scores,
    respondent_themes,
    typology,
    wilson_interval,
)
from tierslieux.analysis.traveltime import StraightLineEngine
from tierslieux.model.reference import COWORKER_PROFILE
from tierslieux.model.survey import Respondent


def _r(rid: str, commune: str, **answers: object) -> Respondent:
    return Respondent(rid, commune, answers)  # type: ignore[arg-type]


# The six respondents of tests/data/survey/reponses_valides.csv, as stored.
SIX = [
    _r("a", "05061", sexe="homme", tranche_age="26_35", secteur="tic", statut="independant",
       part_ordinateur="plus_75", distance_employeur="plus_30", temps_trajet=75.0,
       envies=("proche", "flexible", "moins_cher", "outils", "convivial", "rencontres"),
       vie_quotidienne=("enfants",), partages=("competences", "informations"),
       jours_par_semaine=3.0),
    _r("b", "05101", sexe="femme", tranche_age="36_45", secteur="tic", statut="salarie",
       part_ordinateur="50_75", distance_employeur="moins_30", temps_trajet=25.0,
       envies=("proche", "outils"), vie_quotidienne=("circuits_courts",),
       partages=("competences",), jours_par_semaine=2.0),
    _r("c", "05123", sexe="homme", tranche_age="46_55", secteur="communication",
       statut="startup", part_ordinateur="plus_75", distance_employeur="domicile",
       envies=("convivial", "rencontres"), partages=("competences", "materiel"),
       jours_par_semaine=1.0),
    _r("d", "05179", sexe="homme", tranche_age="moins_26", secteur="agriculture",
       statut="associatif", part_ordinateur="25_50", envies=("flexible",),
       vie_quotidienne=("circuits_courts",), partages=("alimentation",),
       jours_par_semaine=1.0),
    _r("e", "05023", secteur="autre", statut="demandeur_emploi", part_ordinateur="moins_25",
       envies=("moins_cher",), jours_par_semaine=0.0),
    _r("f", "05085", sexe="femme", tranche_age="26_35", secteur="tic", statut="independant",
       part_ordinateur="plus_75", distance_employeur="moins_30", temps_trajet=20.0,
       envies=("proche", "flexible", "rencontres"), vie_quotidienne=("loisirs_culture",),
       partages=("temps", "informations"), jours_par_semaine=2.0),
]  # fmt: skip


def test_weights_sum_to_ten() -> None:
    assert sum(c.weight for c in CRITERIA) == pytest.approx(10.0)


def test_fit_scores_by_hand() -> None:
    scores = fit_scores(SIX).set_index("repondant")
    # a: computer 2 + long commute 1.5 + six wishes 3 + sharing 2 + daily life 1 + use 0.5
    assert scores.loc["a", "score"] == pytest.approx(10.0)
    # b: computer 0.75 x 2, no long commute, two wishes of six x 3, sharing 2, daily 1, use 0.5
    assert scores.loc["b", "score"] == pytest.approx(6.0)
    assert scores.loc["b", "part_ordinateur"] == pytest.approx(1.5)
    assert scores.loc["b", "part_envies"] == pytest.approx(1.0)
    # e: only one wish of six, worth 3 / 6 = 0.5 points
    assert scores.loc["e", "score"] == pytest.approx(0.5)
    parts = [f"part_{c.code}" for c in CRITERIA]
    assert (scores[parts].sum(axis=1) - scores["score"]).abs().max() < 1e-9
    assert list(fit_scores(SIX)["repondant"])[:2] == ["a", "f"]


def test_wilson_interval_by_hand() -> None:
    # p = 3/5, z = 1.96: centre (0.6 + 0.38415)/1.76830 = 0.55655,
    # half-width 1.96/1.76830 * sqrt(0.048 + 0.038415) = 0.32584
    low, high = wilson_interval(3, 5)
    assert low == pytest.approx(0.2307, abs=5e-4)
    assert high == pytest.approx(0.8824, abs=5e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)


def test_typology_by_hand() -> None:
    table = typology(SIX).set_index("indicateur")
    # Sex: 5 answered (e did not), 3 men.
    assert tuple(table.loc["part_hommes", ["effectif", "repondants"]]) == (3, 5)
    assert table.loc["part_hommes", "part"] == pytest.approx(0.6)
    assert table.loc["part_hommes", "ic95_bas"] == pytest.approx(0.2307, abs=5e-4)
    assert table.loc["part_hommes", "reference"] == pytest.approx(2 / 3)
    # Age: 26-35 (a, f) and 36-45 (b) among 5 answers.
    assert tuple(table.loc["part_26_45_ans", ["effectif", "repondants"]]) == (3, 5)
    # ICT: a, b, f among 6 sectors: 0.5, interval 0.5 -/+ 0.3124 (centre stays 0.5).
    assert table.loc["part_tic", "part"] == pytest.approx(0.5)
    assert table.loc["part_tic", "ic95_bas"] == pytest.approx(0.1876, abs=5e-4)
    assert table.loc["part_tic", "ic95_haut"] == pytest.approx(0.8124, abs=5e-4)
    # Independents, start-ups, employees, associations: 5 of 6 (e is a job seeker).
    assert table.loc["part_statuts_coworking", "part"] == pytest.approx(5 / 6)
    assert table.loc["part_statuts_coworking", "ic95_bas"] == pytest.approx(0.4365, abs=5e-4)
    assert table.loc["part_statuts_coworking", "ic95_haut"] == pytest.approx(0.9699, abs=5e-4)
    assert table.loc["part_independants", "effectif"] == 2
    assert table.loc["part_independants", "reference"] == pytest.approx(0.75 / 4)
    assert table["petit_echantillon"].all()
    assert (table["source"] == COWORKER_PROFILE.source).all()


# Three villages in a row 6.7 and 6.0 km apart (about 15 and 13 minutes by the
# straight-line estimate); the two ends are 9.8 km (22 minutes) apart.
POINTS = pd.DataFrame(
    {
        "code": ["05061", "05101", "05123", "05023"],
        "latitude": [44.5594, 44.5236, 44.5606, 44.8986],
        "longitude": [6.0786, 6.0111, 5.9551, 6.6433],
    }
)


def test_groups_are_cliques_within_twenty_minutes() -> None:
    people = [
        _r("p1", "05061", partages=("competences",)),
        _r("p2", "05101", partages=("competences",)),
        _r("p3", "05123", partages=("competences",), secteur="tic"),
        _r("p4", "05123", secteur="tic"),
        _r("p5", "05023", partages=("competences",)),
    ]
    groups = candidate_groups(people, POINTS, StraightLineEngine(), minutes=20)
    by_theme = {row.theme: row for row in groups.itertuples(index=False)}
    # p2 is near both p1 and p3, but p1 and p3 are 22 minutes apart: one group of two,
    # not a chain of three; p5 lives far away.
    skills = groups[groups["theme"] == "partage:competences"]
    assert len(skills) == 1
    assert skills.iloc[0]["membres"] == 2
    assert skills.iloc[0]["repondants"] in {"p1;p2", "p2;p3"}
    # Same commune counts as within 20 minutes.
    assert by_theme["secteur:tic"].membres == 2
    assert by_theme["secteur:tic"].communes == "05123"
    assert list(groups["groupe"]) == list(range(1, len(groups) + 1))


def test_no_group_gives_an_empty_table() -> None:
    groups = candidate_groups([_r("x", "05061")], POINTS, StraightLineEngine())
    assert groups.empty
    assert list(groups.columns) == ["groupe", "theme", "membres", "communes", "repondants"]


def test_themes() -> None:
    assert respondent_themes(SIX[0].answers) == (
        "partage:competences",
        "partage:informations",
        "secteur:tic",
        "vie:enfants",
    )
    assert respondent_themes(SIX[4].answers) == ()
