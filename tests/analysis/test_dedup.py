"""One row per structure listed by several sources, every source kept."""

from __future__ import annotations

import pandas as pd

from tierslieux.analysis.dedup import deduplicate_structures, park_key, siren_of
from tierslieux.model.structures import STRUCTURE_COLUMNS

_COLUMNS = [*STRUCTURE_COLUMNS[:8], "siren"]


def _frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_COLUMNS)


def test_epci_row_and_its_sirene_establishments_are_one_actor() -> None:
    frame = _frame(
        [
            (
                "epci:200067320",
                "CC du Guillestrois et du Queyras",
                "acteur_developpement",
                "economie_locale",
                "05065",
                None,
                None,
                "INSEE intercommunalités",
                None,
            ),
            (
                "siret:20006732000011",
                "CC GUILLESTROIS QUEYRAS",
                "acteur_developpement",
                "",
                "05065",
                44.66,
                6.65,
                "sirene",
                "200067320",
            ),
            # A second establishment of the same EPCI, in another commune.
            (
                "siret:20006732000029",
                "CC GUILLESTROIS QUEYRAS",
                "acteur_developpement",
                "",
                "05008",
                44.75,
                6.82,
                "sirene",
                "200067320",
            ),
            # The same EPCI code read twice (the Hautes-Alpes "two copies").
            (
                "epci:200067320",
                "CC du Guillestrois et du Queyras",
                "acteur_developpement",
                "economie_locale",
                "05065",
                None,
                None,
                "INSEE intercommunalités",
                None,
            ),
        ]
    )
    result = deduplicate_structures(frame)
    assert len(result) == 1
    row = result.iloc[0]
    # The located Sirene row is kept (position and commune together).
    assert row["identifiant"] == "siret:20006732000011"
    assert row["latitude"] == 44.66
    assert row["sources"] == "INSEE intercommunalités;sirene"
    assert set(row["identifiants_fusionnes"].split(";")) == {
        "epci:200067320",
        "siret:20006732000029",
    }
    assert row["themes"] == "economie_locale"


def test_same_siren_from_the_actors_file_and_sirene() -> None:
    frame = _frame(
        [
            (
                "siret:53000000000015",
                "SCOP NUMERIQUE",
                "scop_scic_tic",
                "tic",
                "05061",
                44.5,
                6.0,
                "sirene",
                "530000000",
            ),
            (
                "acteur:530000000",
                "Scop Numérique des Alpes",
                "cae",
                "ess_cooperation",
                "05061",
                None,
                None,
                "Liste d'acteurs fournie (a.csv)",
                None,
            ),
        ]
    )
    result = deduplicate_structures(frame)
    assert len(result) == 1
    row = result.iloc[0]
    # The user's row names and classifies; Sirene gives the position.
    assert (row["identifiant"], row["nom"], row["categorie"]) == (
        "acteur:530000000",
        "Scop Numérique des Alpes",
        "cae",
    )
    assert row["latitude"] == 44.5
    assert row["sources"] == "sirene;Liste d'acteurs fournie (a.csv)"
    assert row["themes"] == "tic;ess_cooperation"


def test_park_from_pnr_list_and_sirene_by_name() -> None:
    frame = _frame(
        [
            (
                "pnr:FR8000011",
                "Parc naturel régional du Queyras",
                "acteur_developpement",
                "",
                "05006",
                None,
                None,
                "Parcs naturels régionaux (pnr.csv)",
                None,
            ),
            (
                "siret:25050000000018",
                "SYNDICAT MIXTE DU PNR DU QUEYRAS",
                "acteur_developpement",
                "",
                "05006",
                44.7,
                6.8,
                "sirene",
                "250500000",
            ),
            (
                "pnr:FR8000012",
                "Parc naturel régional des Baronnies provençales",
                "acteur_developpement",
                "",
                "26000",
                None,
                None,
                "pnr",
                None,
            ),
        ]
    )
    result = deduplicate_structures(frame)
    assert len(result) == 2
    assert result.iloc[0]["sources"] == "Parcs naturels régionaux (pnr.csv);sirene"
    assert park_key("SYNDICAT MIXTE DU PNR DU QUEYRAS") == "queyras"
    assert park_key("Communauté de communes du Queyras") == ""


def test_distinct_structures_stay_apart() -> None:
    frame = _frame(
        [
            # One cooperative, establishments in two communes: two local points.
            ("siret:51000000000011", "CAE", "cae", "", "05061", 44.5, 6.0, "sirene", "510000000"),
            ("siret:51000000000029", "CAE", "cae", "", "05023", 44.9, 6.6, "sirene", "510000000"),
            # Same name, two communes, not step 3: two associations.
            ("rna:W1", "Amap", "association_vie_quotidienne", "", "05061", None, None, "rna", None),
            ("rna:W2", "Amap", "association_vie_quotidienne", "", "05023", None, None, "rna", None),
        ]
    )
    assert len(deduplicate_structures(frame)) == 4


def test_siren_read_from_columns_and_identifiers() -> None:
    assert siren_of(pd.Series({"identifiant": "epci:200067320"})) == "200067320"
    assert siren_of(pd.Series({"identifiant": "rna:W1", "siret": "77777777700012"})) == "777777777"
    assert siren_of(pd.Series({"identifiant": "acteur:coop-05061"})) == ""
