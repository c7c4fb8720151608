"""Base communities per catchment and their openness, on hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

from tierslieux.analysis.communities import (
    communities_in_reach,
    groups_in_reach,
    summarise_communities,
)
from tierslieux.errors import SchemaError
from tierslieux.model.structures import BaseCommunityRule, QuestionnaireGroup

_NO_PAIRS = pd.DataFrame({"origin": [], "destination": [], "minutes": []})


def _frame(rows: list[tuple[str, str, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["identifiant", "nom", "categorie", "themes", "code_commune"])


def test_counts_and_openness() -> None:
    structures = _frame(
        [
            ("siret:1", "Coop", "cae", "ess_cooperation", "A"),
            ("rna:W1", "Asso", "association_teleactivites", "tic;tiers_lieu", "B"),
            ("tl:9", "Lieu", "tiers_lieu_existant", "tiers_lieu", "B"),
            ("siret:2", "Scop", "scop_scic_tic", "tic", "C"),
            ("siret:3", "Sans commune", "cae", "", None),
        ]
    )
    # A reaches B; C alone; D reaches nothing
    pairs = pd.DataFrame({"origin": ["A", "B"], "destination": ["B", "A"], "minutes": [12.0, 12.0]})
    result = summarise_communities(structures, pairs, ["A", "B", "C", "D"]).set_index("code")
    assert result.loc["A", "cae"] == 1
    assert result.loc["A", "association_teleactivites"] == 1
    assert result.loc["A", "tiers_lieu_existant"] == 1
    assert result.loc["A", "nb_structures_communaute"] == 2
    assert result.loc["A", "nb_types"] == 2
    assert result.loc["A", "ouverture"] == "ouverte"
    assert (
        result.loc["A", "structures_communaute"] == "Coop (CAE) ; Asso (association télé-activités)"
    )
    # The community's themes: those of its carriers (the tiers-lieu is an anchor).
    assert result.loc["A", "themes"] == "ess_cooperation;tic;tiers_lieu"
    # One SCOP alone, no place, no partner: nothing nearby to open it.
    assert result.loc["C", "ouverture"] == "fermee"
    assert "au-delà du bassin" in result.loc["C", "ouverture_raison"]
    assert result.loc["D", "ouverture"] == "absente"
    assert result.loc["D", "nb_structures_communaute"] == 0
    assert not result.loc["D", "communaute_base"]


def test_an_intercommunality_alone_is_no_base_community() -> None:
    # The old rule made this catchment "fermee": one intercommunality, the only
    # structure in reach, counted as a one-type community. It is a partner.
    structures = _frame(
        [
            ("epci:200067320", "CC du Guillestrois et du Queyras", "acteur_developpement", "", "A"),
            ("pnr:FR8000011", "Parc naturel régional du Queyras", "acteur_developpement", "", "A"),
            ("gare:1", "Gare de Montdauphin", "point_appui", "", "A"),
        ]
    )
    row = summarise_communities(structures, _NO_PAIRS, ["A"]).iloc[0]
    assert not row["communaute_base"]
    assert row["ouverture"] == "absente"
    assert row["nb_partenaires"] == 2
    assert row["structures_communaute"] == ""
    assert "CC du Guillestrois et du Queyras" in row["partenaires"]
    # The reason names who to call and the place to meet.
    assert "Partenaires à solliciter" in row["ouverture_raison"]
    assert "Parc naturel régional du Queyras" in row["ouverture_raison"]
    assert "1 lieu(x) d'accueil" in row["ouverture_raison"]


def test_one_kind_with_partners_or_places_is_to_widen() -> None:
    structures = _frame(
        [
            ("siret:1", "Coop", "cae", "ess_cooperation", "A"),
            ("epci:1", "CC", "acteur_developpement", "", "A"),
            ("siret:2", "Coop", "cae", "", "B"),
            ("gare:1", "Gare", "point_appui", "", "B"),
            ("siret:3", "Coop", "cae", "", "C"),
            ("rna:W3", "AMAP", "association_vie_quotidienne", "circuits_courts", "C"),
        ]
    )
    result = summarise_communities(structures, _NO_PAIRS, ["A", "B", "C"]).set_index("code")
    assert list(result["ouverture"]) == ["a_elargir", "a_elargir", "a_elargir"]
    assert "Partenaires à solliciter (étape 3) : CC" in result.loc["A", "ouverture_raison"]
    assert "un seul type (CAE)" in result.loc["B", "ouverture_raison"]
    # Two kinds but no place: find one.
    assert "aucun lieu d'accueil" in result.loc["C", "ouverture_raison"]


@pytest.mark.usefixtures("cli_labels")
def test_min_structures_threshold_is_said() -> None:
    structures = _frame([("siret:1", "Coop", "cae", "", "A")])
    row = summarise_communities(
        structures, _NO_PAIRS, ["A"], rule=BaseCommunityRule(min_structures=2)
    ).iloc[0]
    assert row["ouverture"] == "absente"
    assert "moins que les 2 exigées (--min-structures)" in row["ouverture_raison"]


def test_questionnaire_group_is_a_base_community_and_a_kind() -> None:
    structures = _frame(
        [
            ("siret:1", "Coop", "cae", "ess_cooperation", "A"),
            ("tl:1", "Lieu", "tiers_lieu_existant", "", "A"),
        ]
    )
    groups = [
        QuestionnaireGroup("1", 4, frozenset({"vie:garde"}), ("A", "B")),
        QuestionnaireGroup("2", 3, frozenset({"secteur:tic"}), ("B",)),
    ]
    pairs = pd.DataFrame({"origin": ["A"], "destination": ["B"], "minutes": [5.0]})
    reach = communities_in_reach(structures, pairs, ["A", "C"], groups=groups)
    assert reach.loc["A", "group_ids"] == ["1", "2"]
    assert reach.loc["A", "theme_set"] == frozenset({"ess_cooperation", "vie:garde", "secteur:tic"})
    assert reach.loc["A", "nb_types"] == 2  # CAE and a questionnaire group
    assert not reach.loc["C", "communaute_base"]
    result = summarise_communities(structures, pairs, ["A"], groups=groups).iloc[0]
    assert result["ouverture"] == "ouverte"
    assert result["groupes"] == "groupe 1 (4 membres) ; groupe 2 (3 membres)"


def test_group_members_lower_bound_and_split() -> None:
    group = QuestionnaireGroup("7", 5, frozenset(), ("A", "B"))
    assert groups_in_reach([group], {"A"}, 3) == []  # lower bound: one member in A
    assert groups_in_reach([group], {"A", "B"}, 3) == [group]
    split = QuestionnaireGroup("7", 5, frozenset(), ("A", "B"), {"A": 4, "B": 1})
    assert groups_in_reach([split], {"A"}, 3) == [split]


@pytest.mark.parametrize("field", ["min_structures", "min_members"])
def test_threshold_below_one_is_refused(field: str) -> None:
    with pytest.raises(SchemaError, match="au moins 1 attendu"):
        BaseCommunityRule(**{field: 0})
