"""Existing places: tiers-lieux census, SNCF stations, digital-mediation points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from tierslieux.errors import SchemaError, SourceError
from tierslieux.model.structures import STRUCTURE_COLUMNS, THEMES
from tierslieux.sources.places import (
    load_gares,
    load_mediation_numerique,
    load_tiers_lieux,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

PLACES = Path(__file__).resolve().parents[1] / "data" / "places"
CGET = PLACES / "CGET_TiersLieux_2019_extrait.csv"
GARES = PLACES / "gares-de-voyageurs_extrait.csv"
MEDIATION = PLACES / "20230517-lieux-de-mediation-numeriques_extrait.json"
PERSONAL = (
    "Camille Exemple-Fictif",
    "camille.fictif@example.org",
    "Dominique Inventé",
    "dominique.invente@example.org",
    "+33400000001",
    "accueil.fictif@example.org",
    "+33400000002",
    "+33200000007",
    "espace.fictif@example.org",
)


def _communes_frame(*, postcodes: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "code": ["05061", "05101", "05023", "05179", "04088", "04112", "13055", "44109"],
            "nom": [
                "Gap",
                "Pelleautier",
                "Briançon",
                "Veynes",
                "Forcalquier",
                "Manosque",
                "Marseille",
                "Nantes",
            ],
            "latitude": [44.559, 44.525, 44.899, 44.533, 43.96, 43.829, 43.2999, 47.218],
            "longitude": [6.079, 6.003, 6.643, 5.823, 5.78, 5.787, 5.3872, -1.553],
            "code_postal": [
                "05000",
                "05000",
                "05100",
                "05400",
                "04300",
                "04100",
                "13001;13002",
                "44000",
            ],
        }
    )
    return frame if postcodes else frame.drop(columns=["code_postal"])


def _assert_canonical(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns[: len(STRUCTURE_COLUMNS)]) == STRUCTURE_COLUMNS
    assert frame["identifiant"].is_unique
    assert frame["latitude"].dtype == "float64"
    assert frame["longitude"].dtype == "float64"
    codes = frame["code_commune"].dropna()
    assert codes.str.len().eq(5).all()
    for themes in frame["themes"]:
        assert set(str(themes).split(";")) <= set(THEMES)
    assert frame["raison"].notna().all()


def _assert_no_personal_data(frame: pd.DataFrame, values: Iterable[str] = PERSONAL) -> None:
    lowered = {c.lower() for c in frame.columns}
    assert not lowered & {"contact", "mail", "telephone", "courriels"}
    text = frame.astype(str).to_csv()
    needles = [v for v in values if v]
    assert needles
    leaked = [v for v in needles if v in text]
    assert not leaked


# ---- tiers-lieux ---------------------------------------------------------------------


def test_tiers_lieux_canonical_frame() -> None:
    frame, provenance = load_tiers_lieux(CGET)
    _assert_canonical(frame)
    assert len(frame) == 9
    row = frame.set_index("identifiant").loc["tl:1"]
    assert row["categorie"] == "tiers_lieu_existant"
    assert row["themes"] == "tiers_lieu"
    assert row["code_commune"] == "05061"
    assert row["latitude"] == pytest.approx(44.559)
    assert row["source"] == "CGET tiers-lieux 2019"
    assert row["raison"] == (
        "Tiers-lieu recensé par le CGET en 2019 (dominante coworking) : point d'appui pour "
        "l'accueil et le réseautage."
    )
    assert provenance.vintage == "2019"
    assert provenance.sha256 is not None


def test_tiers_lieux_fablab_gets_tic_theme() -> None:
    frame, _ = load_tiers_lieux(CGET)
    row = frame.set_index("identifiant").loc["tl:2"]
    assert row["type"] == "fablab"
    assert row["themes"] == "tiers_lieu;tic"
    assert "dominante fablab" in row["raison"]


def test_tiers_lieux_commune_codes() -> None:
    by_id = load_tiers_lieux(CGET)[0].set_index("identifiant")
    # Marseille arrondissement -> commune, original kept.
    assert by_id.loc["tl:3", "code_commune"] == "13055"
    assert by_id.loc["tl:3", "code_commune_source"] == "13202"
    # INSEECOM = 0 -> commune of the geocoded point.
    assert by_id.loc["tl:4", "code_commune"] == "04112"
    # Overseas row without region: its INSEEMETRO is meaningless.
    assert pd.isna(by_id.loc["tl:7", "code_commune"])
    # Declared commune in another département than the point and the postcode.
    assert by_id.loc["tl:8", "code_commune"] == "06152"
    # No typology: no "dominante" in the reason.
    assert pd.isna(by_id.loc["tl:9", "type"])
    assert "dominante" not in by_id.loc["tl:9", "raison"]


def test_tiers_lieux_personal_columns_dropped() -> None:
    frame, provenance = load_tiers_lieux(CGET)
    _assert_no_personal_data(frame)
    assert any("CONTACT, MAIL" in note for note in provenance.notes)


def test_tiers_lieux_commune_filter() -> None:
    frame, _ = load_tiers_lieux(CGET, communes=["05061", "05023", "13201", "04112"])
    # Filtering with an arrondissement keeps the whole commune.
    assert set(frame["identifiant"]) == {"tl:1", "tl:2", "tl:3", "tl:4"}
    assert "tl:6" not in set(frame["identifiant"])


def test_tiers_lieux_alias_columns() -> None:
    frame, provenance = load_tiers_lieux(PLACES / "tiers_lieux_colonnes_alias.csv")
    _assert_canonical(frame)
    assert list(frame["identifiant"]) == ["tl:ftl-001", "tl:ftl-002"]
    assert frame["latitude"].iloc[0] == pytest.approx(44.533)  # decimal comma
    assert list(frame["code_commune"]) == ["05179", "13055"]
    assert list(frame["type"]) == ["coworking", "fablab"]
    assert frame["source"].iloc[0] == "Recensement des tiers-lieux"
    assert provenance.vintage is None


def test_tiers_lieux_bad_coordinate() -> None:
    with pytest.raises(SchemaError, match=r"ligne 3, colonne LAT : « abc »"):
        load_tiers_lieux(PLACES / "CGET_TiersLieux_coordonnee_invalide.csv")


def test_tiers_lieux_missing_column() -> None:
    with pytest.raises(SchemaError, match=r"colonne commune introuvable.*INSEECOM"):
        load_tiers_lieux(PLACES / "CGET_TiersLieux_colonne_manquante.csv")


def test_tiers_lieux_duplicate_id() -> None:
    with pytest.raises(SchemaError, match=r"ligne 4 : identifiant 1 déjà vu ligne 2"):
        load_tiers_lieux(PLACES / "CGET_TiersLieux_id_double.csv")


def test_tiers_lieux_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="introuvable"):
        load_tiers_lieux(tmp_path / "absent.csv")


# ---- stations ------------------------------------------------------------------------


def test_gares_canonical_frame() -> None:
    frame, provenance = load_gares(GARES)
    _assert_canonical(frame)
    assert len(frame) == 7
    assert set(frame["categorie"]) == {"point_appui"}
    assert set(frame["themes"]) == {"mobilite"}
    gap = frame.set_index("identifiant").loc["gare:87000101"]
    assert gap["latitude"] == pytest.approx(44.5594)
    assert gap["longitude"] == pytest.approx(6.0786)
    assert gap["type"] == "segment DRG B"
    assert "intérêt régional" in gap["raison"]
    assert provenance.licence == "ODbL"


def test_gares_several_uic_and_arrondissement() -> None:
    by_id = load_gares(GARES)[0].set_index("identifiant")
    marseille = by_id.loc["gare:87000104"]
    assert marseille["uic"] == "87000104;87000105"
    assert marseille["code_commune"] == "13055"
    assert marseille["code_commune_source"] == "13201"
    assert marseille["type"] == "segment DRG A"
    halte = by_id.loc["gare:87000107"]
    assert pd.isna(halte["latitude"])
    assert pd.isna(halte["longitude"])


def test_gares_commune_filter() -> None:
    frame, _ = load_gares(GARES, communes=["13055", "05061"])
    assert set(frame["identifiant"]) == {"gare:87000101", "gare:87000104", "gare:87000106"}


def test_gares_wrong_separator() -> None:
    # Unquoted "lat, lon" positions split into two fields: every row has a cell more
    # than the header (pandas would take the first column for an index), refused.
    with pytest.raises(SchemaError, match=r"ligne 2 : 7 cellule\(s\) au lieu de 6"):
        load_gares(PLACES / "gares_separateur_virgule.csv")


def test_gares_bad_position_and_code_listed_together() -> None:
    with pytest.raises(SchemaError) as info:
        load_gares(PLACES / "gares_position_invalide.csv")
    message = str(info.value)
    assert "ligne 3, colonne Position géographique : « abc »" in message
    assert "ligne 4, colonne Code commune : « 5179X »" in message
    assert "gares_position_invalide.csv" in message


def test_gares_missing_column() -> None:
    with pytest.raises(SchemaError, match="Position géographique"):
        load_gares(PLACES / "gares_colonne_manquante.csv")


# ---- digital mediation ---------------------------------------------------------------


def test_mediation_without_communes_frame() -> None:
    frame, provenance = load_mediation_numerique(MEDIATION)
    _assert_canonical(frame)
    assert len(frame) == 7
    assert provenance.vintage == "2023-05-17"
    assert frame["source"].iloc[0] == "Lieux de médiation numérique 2023-05-17"
    # Only code_insee places a site without a communes frame.
    resolved = frame.dropna(subset=["code_commune"])
    assert list(resolved["identifiant"]) == ["mednum:dora-test0003"]


def test_mediation_resolves_communes() -> None:
    frame, provenance = load_mediation_numerique(MEDIATION, communes_frame=_communes_frame())
    _assert_canonical(frame)
    by_id = frame.set_index("identifiant")
    expected = {
        "mednum:mediation-numerique-france-services-test0001": ("05061", "nom"),
        "mednum:mediation-numerique-conseiller-numerique-test0002": ("13055", "nom"),
        "mednum:dora-test0003": ("05023", "code_insee"),
        "mednum:mediation-numerique-france-tiers-lieux-test0004": ("05179", "nom"),
        "mednum:mediation-numerique-hub-test0005": ("05061", "code_postal_plus_proche"),
        "mednum:mediation-numerique-hub-test0006": ("04088", "nom"),
        "mednum:mediation-numerique-conseiller-numerique-test0007": ("44109", "nom"),
    }
    for identifiant, (code, method) in expected.items():
        assert by_id.loc[identifiant, "code_commune"] == code, identifiant
        assert by_id.loc[identifiant, "resolution_commune"] == method, identifiant
    assert "approximation" in by_id.loc["mednum:mediation-numerique-hub-test0005", "raison"]
    assert any("approximation" in note for note in provenance.notes)


def test_mediation_nearest_centre_without_postcodes() -> None:
    frame, _ = load_mediation_numerique(MEDIATION, communes_frame=_communes_frame(postcodes=False))
    row = frame.set_index("identifiant").loc["mednum:mediation-numerique-hub-test0005"]
    assert row["code_commune"] == "05061"
    assert row["resolution_commune"] == "plus_proche"


def test_mediation_far_position_dropped() -> None:
    frame, provenance = load_mediation_numerique(MEDIATION, communes_frame=_communes_frame())
    row = frame.set_index("identifiant").loc["mednum:mediation-numerique-hub-test0006"]
    assert pd.isna(row["latitude"])
    assert "Position du fichier écartée" in row["raison"]
    assert any(note.startswith("1 position(s) écartée(s)") for note in provenance.notes)


def test_mediation_labels_themes_and_reasons() -> None:
    by_id = load_mediation_numerique(MEDIATION)[0].set_index("identifiant")
    france_services = by_id.loc["mednum:mediation-numerique-france-services-test0001"]
    assert france_services["categorie"] == "point_appui"
    assert france_services["type"] == "CNFS;France Services"
    assert france_services["raison"].startswith("Espace France Services")
    cnfs = by_id.loc["mednum:mediation-numerique-conseiller-numerique-test0002"]
    assert "conseiller numérique (CNFS)" in cnfs["raison"]
    assert cnfs["themes"] == "inclusion_numerique"
    ftl = by_id.loc["mednum:mediation-numerique-france-tiers-lieux-test0004"]
    assert ftl["themes"] == "inclusion_numerique;tiers_lieu"
    assert "France Tiers-Lieux" in ftl["raison"]


def test_mediation_personal_fields_never_read() -> None:
    frame, _ = load_mediation_numerique(MEDIATION, communes_frame=_communes_frame())
    _assert_no_personal_data(frame)


def test_mediation_commune_filter() -> None:
    frame, _ = load_mediation_numerique(
        MEDIATION, communes=["05061", "13201"], communes_frame=_communes_frame()
    )
    assert len(frame) == 3
    assert set(frame["code_commune"]) == {"05061", "13055"}


def test_mediation_truncated_json() -> None:
    with pytest.raises(SchemaError, match=r"mediation_json_tronque\.json, ligne \d+, colonne \d+"):
        load_mediation_numerique(PLACES / "mediation_json_tronque.json")


def test_mediation_bad_coordinate() -> None:
    with pytest.raises(SchemaError, match=r"enregistrement 2 \(id .*test0002\), colonne latitude"):
        load_mediation_numerique(PLACES / "mediation_coordonnee_invalide.json")


def test_mediation_not_an_array() -> None:
    with pytest.raises(SchemaError, match="tableau JSON"):
        load_mediation_numerique(PLACES / "mediation_objet_pas_tableau.json")


def test_mediation_missing_id(tmp_path: Path) -> None:
    path = tmp_path / "lieux.json"
    path.write_text(json.dumps([{"nom": "Sans id"}, 3]), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_mediation_numerique(path)
    assert "enregistrement 1 : champ id ou nom manquant" in str(info.value)
    assert "enregistrement 2 : un objet JSON était attendu" in str(info.value)


# ---- real extracts (../shared/data/real) ---------------------------------------------


def _paca_codes(real: Path) -> list[str]:
    table = pd.read_csv(real / "zonages" / "table_supracom_2024_PACA.csv", dtype=str)
    return table["CODGEO"].tolist()


@pytest.mark.shared
def test_real_tiers_lieux_paca(shared_real: Path) -> None:
    path = shared_real / "tiers_lieux" / "CGET_TiersLieux_2019.csv"
    everything, _ = load_tiers_lieux(path)
    assert len(everything) == 1512
    _assert_canonical(everything)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    personal = [v for v in (*raw["CONTACT"], *raw["MAIL"]) if v]
    assert len(personal) == 52 + 72
    # One CONTACT repeats the place's own name, which is rightly kept.
    names = set(raw["NOM_TL"])
    _assert_no_personal_data(everything, [v for v in personal if v not in names])
    frame, _ = load_tiers_lieux(path, communes=_paca_codes(shared_real))
    assert len(frame) == 127
    assert frame["type"].value_counts().to_dict() == {"coworking": 97, "fablab": 30}
    assert frame["latitude"].notna().all()
    assert set(frame["identifiant"]) == {f"tl:{i}" for i in raw.loc[raw["INSEEREG"] == "93", "ID"]}


@pytest.mark.shared
def test_real_gares_paca(shared_real: Path) -> None:
    path = shared_real / "gares" / "gares-de-voyageurs.csv"
    everything, _ = load_gares(path)
    assert len(everything) == 2785
    frame, _ = load_gares(path, communes=_paca_codes(shared_real))
    _assert_canonical(frame)
    assert len(frame) == 135
    assert frame["code_commune_source"].str.startswith("132").sum() == 10


@pytest.mark.shared
def test_real_mediation_paca(shared_real: Path) -> None:
    path = next((shared_real / "services_numeriques").glob("*.json"))
    frame, provenance = load_mediation_numerique(path)
    _assert_canonical(frame)
    records = json.loads(path.read_text(encoding="utf-8"))
    personal = [str(r[k]) for r in records for k in ("telephone", "courriels") if r.get(k)]
    _assert_no_personal_data(frame, personal)
    assert len(frame) == 646
    assert frame["latitude"].notna().sum() == 642
    assert frame["type"].fillna("").str.contains("France Services").sum() == 207
    assert frame["raison"].str.startswith("Espace France Services").sum() == 207
    assert provenance.vintage == "2023-05-17"


@pytest.mark.shared
def test_real_mediation_communes_resolved(shared_real: Path) -> None:
    from tierslieux.sources.communes import load_communes  # noqa: PLC0415

    communes = load_communes(shared_real / "communes" / "communes.csv").table
    path = next((shared_real / "services_numeriques").glob("*.json"))
    frame, _ = load_mediation_numerique(path, communes_frame=communes)
    assert frame["code_commune"].notna().all()
    # Every record carrying code_insee keeps it.
    assert (frame["resolution_commune"] == "code_insee").sum() == 17
    paca, _ = load_mediation_numerique(
        path, communes=_paca_codes(shared_real), communes_frame=communes
    )
    # One France Services of the file is in the Rhône (postcode 06922 mistyped).
    assert len(paca) == 645
