"""Openness of base communities per catchment, on a hand-made case."""

from __future__ import annotations

import pandas as pd

from tierslieux.analysis.communities import summarise_communities


def test_counts_and_openness() -> None:
    structures = pd.DataFrame(
        {
            "identifiant": ["siret:1", "rna:W1", "tl:9", "siret:2", "siret:3"],
            "categorie": [
                "cae",
                "association_teleactivites",
                "tiers_lieu_existant",
                "scop_scic_tic",
                "cae",
            ],
            "themes": ["ess_cooperation", "tic;tiers_lieu", "tiers_lieu", "tic", ""],
            "code_commune": ["A", "B", "B", "C", None],
        }
    )
    # A reaches B; C alone; D reaches nothing
    pairs = pd.DataFrame({"origin": ["A", "B"], "destination": ["B", "A"], "minutes": [12.0, 12.0]})
    result = summarise_communities(structures, pairs, ["A", "B", "C", "D"]).set_index("code")
    assert result.loc["A", "cae"] == 1
    assert result.loc["A", "association_teleactivites"] == 1
    assert result.loc["A", "tiers_lieu_existant"] == 1
    assert result.loc["A", "nb_structures"] == 2
    assert result.loc["A", "nb_types"] == 2
    assert result.loc["A", "ouverture"] == "ouverte"
    assert result.loc["A", "themes"] == "ess_cooperation;tic;tiers_lieu"
    assert result.loc["C", "ouverture"] == "fermee"
    assert result.loc["D", "ouverture"] == "absente"
    assert result.loc["D", "nb_structures"] == 0
