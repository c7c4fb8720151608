"""Survey analysis: fit scores, typology against hand computations, candidate groups."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tierslieux.analysis.survey import (
    CRITERIA,
    candidate_groups,
    far_from_sites,
    fit_scores,
    respondent_themes,
    typology,
    wilson_interval,
)
from tierslieux.analysis.traveltime import StraightLineEngine, TableEngine
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
    # Each group reports the largest time between its communes: at most the threshold,
    # 0 when everyone lives in the same commune.
    assert by_theme["secteur:tic"].diametre_minutes == 0.0
    pair = skills.iloc[0]["communes"].split(";")
    od = pd.DataFrame({"origin": [pair[0]], "destination": [pair[1]]})
    expected = StraightLineEngine().between(od, POINTS).iloc[0]
    assert skills.iloc[0]["diametre_minutes"] == pytest.approx(expected)
    assert 0 < skills.iloc[0]["diametre_minutes"] <= 20


def test_no_group_gives_an_empty_table() -> None:
    groups = candidate_groups([_r("x", "05061")], POINTS, StraightLineEngine())
    assert groups.empty
    assert list(groups.columns) == [
        "groupe",
        "theme",
        "membres",
        "communes",
        "repondants",
        "membres_par_commune",
        "diametre_minutes",
        "statut",
    ]


def test_themes() -> None:
    assert respondent_themes(SIX[0].answers) == (
        "partage:competences",
        "partage:informations",
        "secteur:tic",
        "vie:enfants",
    )
    assert respondent_themes(SIX[4].answers) == ()


def test_far_from_sites_by_hand() -> None:
    # Travel times to the only site 05061 (inclusive limit, as the catchments): 05101
    # 15 min and 05123 20 min are near; 05023 21 min is far; the respondent in 05061
    # lives at the site; "x" (05999) has no coordinates and is not counted.
    matrix = TableEngine(
        pd.DataFrame(
            {
                "origin": ["05101", "05123", "05023"],
                "destination": ["05061", "05061", "05061"],
                "minutes": [15.0, 20.0, 21.0],
            }
        )
    )
    people = [
        _r("a", "05061"),
        _r("b", "05101"),
        _r("c", "05123"),
        _r("d", "05023"),
        _r("e", "05023"),
        _r("x", "05999"),
    ]
    row = far_from_sites(people, POINTS, matrix, ["05061"], minutes=20.0)
    # 2 far respondents (d, e) out of 5 located ones.
    assert (row["effectif"], row["repondants"]) == (2, 5)
    assert row["part"] == pytest.approx(0.4)
    # Wilson 95 % by hand: centre (0.4 + z²/10) / (1 + z²/5) = 0.4434, half-width
    # z / (1 + z²/5) * sqrt(0.4 * 0.6 / 5 + z² / 100) = 0.3258.
    assert row["ic95_bas"] == pytest.approx(0.1176, abs=1e-3)
    assert row["ic95_haut"] == pytest.approx(0.7693, abs=1e-3)
    # The study gives no percentage: no number is invented, the comparison is qualitative.
    assert math.isnan(float(row["reference"]))  # type: ignore[arg-type]
    assert row["reference_texte"] == "majorité (non chiffrée par l'étude)"
    assert row["comparaison"] == "qualitative"
    assert "1 répondant(s) sans coordonnées" in str(row["remarque"])
    assert row["libelle"] == "Habite à plus de 20 minutes de l'espace de coworking"
    # A second site at 05023 brings d and e near: nobody is far.
    both = far_from_sites(people, POINTS, matrix, ["05061", "05023"], minutes=20.0)
    assert (both["effectif"], both["repondants"]) == (0, 5)


def test_far_from_sites_without_sites() -> None:
    row = far_from_sites([_r("a", "05061")], POINTS, StraightLineEngine(), None)
    assert row["remarque"] == "non calculé : aucun site fourni"
    assert row["repondants"] == 0
    assert math.isnan(float(row["part"]))  # type: ignore[arg-type]
