"""Actors: user list, intercommunalities, regional natural parks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierslieux.errors import SchemaError, SourceError
from tierslieux.model.structures import STRUCTURE_COLUMNS
from tierslieux.sources.actors import load_actors, load_epci_actors, load_pnr

ACTORS = Path(__file__).resolve().parents[1] / "data" / "actors"
ZONAGES = Path(__file__).resolve().parents[1] / "data" / "zonages"
EPCI_REASON = (
    "Intercommunalité couvrant le territoire : interlocuteur naturel (chargé de mission "
    "développement économique), étape 3 de la méthode."
)


def _assert_canonical(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns[: len(STRUCTURE_COLUMNS)]) == STRUCTURE_COLUMNS
    assert frame["identifiant"].is_unique
    assert frame["latitude"].dtype == "float64"
    assert frame["raison"].notna().all()


# ---- user list -----------------------------------------------------------------------


def test_actors_example_file() -> None:
    frame, provenance = load_actors(ACTORS / "acteurs_exemple.csv")
    _assert_canonical(frame)
    assert len(frame) == 5
    by_id = frame.set_index("identifiant")
    cbe = by_id.loc["acteur:comite-de-bassin-d-emploi-du-gapencais-exemple-05061"]
    assert cbe["categorie"] == "acteur_developpement"
    assert cbe["raison"].startswith("Anime le réseau")
    assert cbe["source"] == "Liste d'acteurs fournie (acteurs_exemple.csv)"
    elu = by_id.loc["acteur:elu-veynes"]
    assert elu["raison"] == (
        "Acteur signalé par l'équipe du projet : Acteur du développement économique local "
        "(étape 3)."
    )
    assert pd.isna(elu["latitude"])
    scic = by_id.loc["acteur:cooperative-numerique-de-la-joliette-exemple-13055"]
    assert scic["code_commune"] == "13055"
    assert scic["code_commune_source"] == "13202"
    assert scic["themes"] == "tic;ess_cooperation"
    assert scic["latitude"] == pytest.approx(43.305)
    assert provenance.role == "acteurs"


def test_actors_commune_filter() -> None:
    frame, _ = load_actors(ACTORS / "acteurs_exemple.csv", communes=["05061", "05179", "13055"])
    assert len(frame) == 3
    assert "44109" not in set(frame["code_commune"])


def test_actors_semicolon_latin1() -> None:
    frame, _ = load_actors(ACTORS / "acteurs_point_virgule_latin1.csv")
    assert frame["nom"].iloc[0] == "Association des télétravailleurs du Buëch (exemple)"
    assert frame["themes"].iloc[0] == "tic;inclusion_numerique"


def test_actors_personal_columns_refused() -> None:
    with pytest.raises(SchemaError) as info:
        load_actors(ACTORS / "acteurs_donnees_personnelles.csv")
    message = str(info.value)
    assert "email, Téléphone, contact_nom" in message
    assert "tierslieux contacts" in message
    # The message names the columns, never their values.
    assert "fictif@example.org" not in message
    assert "Camille" not in message


def test_actors_unknown_column() -> None:
    with pytest.raises(SchemaError, match=r"ligne 1 : colonne\(s\) inconnue\(s\) : budget"):
        load_actors(ACTORS / "acteurs_colonne_inconnue.csv")


def test_actors_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "acteurs.csv"
    path.write_text("nom,code_commune\nA,05061\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"obligatoire\(s\) absente\(s\) : categorie"):
        load_actors(path)


def test_actors_invalid_values_all_listed() -> None:
    with pytest.raises(SchemaError) as info:
        load_actors(ACTORS / "acteurs_valeurs_invalides.csv")
    message = str(info.value)
    assert "ligne 2, colonne categorie : « pepiniere » inconnue" in message
    assert "ligne 3, colonne code_commune : « 5X061 »" in message
    assert "ligne 4, colonne themes : jardinage inconnu(s)" in message
    assert "ligne 4, colonne latitude : « abc »" in message
    assert "ligne 6 : identifiant acteur:acteur-d-exemple-05061 déjà utilisé ligne 5" in message


def test_actors_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        load_actors(tmp_path / "absent.csv")


# ---- intercommunalities --------------------------------------------------------------


def _zonages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["05061", "05101", "05179", "05023", "13201", "44109"],
            "epci": ["200067452", "200067452", "200067452", "240500439", "200054807", None],
        }
    )


def test_epci_actors_one_row_per_epci() -> None:
    labels = {"200067452": "CA Gap-Tallard-Durance (exemple)"}
    population = {"05061": 40000.0, "05101": 1500.0, "05179": 3000.0}
    frame = load_epci_actors(
        _zonages(), labels, ["05101", "05179", "05023", "13055"], population=population
    )
    _assert_canonical(frame)
    by_id = frame.set_index("identifiant")
    assert list(by_id.index) == ["epci:200054807", "epci:200067452", "epci:240500439"]
    gap = by_id.loc["epci:200067452"]
    assert gap["nom"] == "CA Gap-Tallard-Durance (exemple)"
    # Most populous member *of the territory* (05061 is outside it).
    assert gap["code_commune"] == "05179"
    assert gap["nb_communes_territoire"] == 2
    assert gap["raison"] == EPCI_REASON
    assert gap["categorie"] == "acteur_developpement"
    # No label, no population: generic name, first member; arrondissement -> commune.
    assert by_id.loc["epci:240500439", "nom"] == "Intercommunalité 240500439"
    assert by_id.loc["epci:200054807", "code_commune"] == "13055"


def test_a_neighbouring_epci_is_not_said_to_cover_the_territory() -> None:
    # Walk: the EPCIs of the neighbours within reach (« hors du territoire, à portée »)
    # read « Intercommunalité couvrant le territoire » in the directory.
    frame = load_epci_actors(
        _zonages(), {}, ["05101", "05179", "05023", "13055"], territory=["05101", "05179"]
    ).set_index("identifiant")
    assert frame.loc["epci:200067452", "raison"] == EPCI_REASON
    for neighbour in ("epci:240500439", "epci:200054807"):
        reason = frame.loc[neighbour, "raison"]
        assert reason.startswith("Intercommunalité voisine, à portée des communes du territoire")
        assert "couvrant" not in reason
    # Without the territory's own communes, every one covers it (as before).
    alone = load_epci_actors(_zonages(), {}, ["05101", "05023"])
    assert set(alone["raison"]) == {EPCI_REASON}


def test_epci_actors_from_insee_composition_with_labels() -> None:
    table = pd.DataFrame(
        {
            "CODGEO": ["05061", "05023"],
            "EPCI": ["200067452", "240500439"],
            "LIBEPCI": ["CA Gap (exemple)", "CC Briançonnais (exemple)"],
        }
    )
    frame = load_epci_actors(table, {}, ["05023"])
    assert list(frame["nom"]) == ["CC Briançonnais (exemple)"]


def test_epci_actors_missing_column() -> None:
    with pytest.raises(SchemaError, match="epci"):
        load_epci_actors(pd.DataFrame({"code": ["05061"]}), {}, ["05061"])


def test_epci_actors_from_zonages_reader() -> None:
    from tierslieux.sources.zonages import load_zonages  # noqa: PLC0415

    zonages = load_zonages(ZONAGES / "table_supracom_2024_extrait.csv")
    codes = zonages.table["code"].tolist()
    frame = load_epci_actors(zonages.table, zonages.labels.get("epci", {}), codes)
    assert len(frame) == zonages.table["epci"].dropna().nunique()
    assert frame["identifiant"].str.startswith("epci:").all()


@pytest.mark.shared
def test_real_epci_paca(shared_real: Path) -> None:
    from tierslieux.sources.zonages import load_zonages  # noqa: PLC0415

    zonages = load_zonages(shared_real / "zonages" / "table_supracom_2024_PACA.csv")
    frame = load_epci_actors(zonages.table, zonages.labels["epci"], zonages.table["code"].tolist())
    assert len(frame) == 52
    assert frame["nom"].str.startswith("Intercommunalité ").sum() == 0


# ---- regional natural parks ----------------------------------------------------------


def test_pnr_touching_territory() -> None:
    frame, provenance = load_pnr(
        ACTORS / "pnr_communes.csv",
        communes=["05061", "05179", "04112"],
        population={"05061": 40000.0, "05179": 3000.0},
    )
    _assert_canonical(frame)
    by_id = frame.set_index("identifiant")
    assert list(by_id.index) == ["pnr:PNR-T1", "pnr:PNR-T2"]
    alpin = by_id.loc["pnr:PNR-T1"]
    assert alpin["nom"] == "Parc naturel régional du Test alpin (fictif)"
    assert alpin["code_commune"] == "05061"
    assert alpin["nb_communes_territoire"] == 2
    assert alpin["categorie"] == "acteur_developpement"
    assert "couvrant 2 commune(s) du territoire" in alpin["raison"]
    assert by_id.loc["pnr:PNR-T2", "code_commune"] == "04112"
    assert provenance.notes == ("3 parc(s) lu(s), 2 retenu(s).",)


def test_pnr_without_filter_keeps_all() -> None:
    frame, _ = load_pnr(ACTORS / "pnr_communes.csv")
    assert len(frame) == 3


def test_pnr_missing_column() -> None:
    with pytest.raises(SchemaError, match="code_commune introuvable"):
        load_pnr(ACTORS / "pnr_colonne_manquante.csv")


def test_pnr_invalid_rows_listed() -> None:
    with pytest.raises(SchemaError) as info:
        load_pnr(ACTORS / "pnr_code_invalide.csv")
    message = str(info.value)
    assert "ligne 3 : code du parc vide" in message
    assert "ligne 4, colonne code_commune : « ABCDE »" in message
