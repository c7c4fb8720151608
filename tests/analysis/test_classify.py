"""Tests of the rule-based classification on the planted Sirene and RNA cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierslieux.analysis.classify import classify, load_rules
from tierslieux.errors import SchemaError
from tierslieux.model.structures import THEMES
from tierslieux.sources.networks import load_networks
from tierslieux.sources.rna import load_rna
from tierslieux.sources.sirene import load_sirene

COMMUNES = ["05061", "05023", "05179", "04088", "13055"]


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def sirene(data_dir: Path, tmp_path: Path) -> pd.DataFrame:
    frame, _ = load_sirene(
        data_dir / "sirene" / "StockEtablissement_utf8.csv",
        data_dir / "sirene" / "StockUniteLegale_utf8.csv",
        communes=COMMUNES,
        cache_dir=tmp_path,
    )
    return frame


@pytest.fixture
def rna(data_dir: Path, tmp_path: Path) -> pd.DataFrame:
    frames = [
        load_rna(data_dir / "rna" / name, communes=COMMUNES, cache_dir=tmp_path)[0]
        for name in ("rna_waldec_20250901_dpt_05.csv", "rna_waldec_20250901_dpt_04.csv")
    ]
    return pd.concat(frames, ignore_index=True)


def _by_name(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["nom"], frame["categorie"], strict=True))


def test_sirene_planted_cases(sirene: pd.DataFrame, rules) -> None:
    got = _by_name(classify(sirene, rules))
    assert got["COOPERATIVE D'ACTIVITES ET D'EMPLOI DES HAUTES-ALPES FICTIVE"] == "cae"
    assert got["CAE DURANCE FICTIVE"] == "cae"
    assert got["CAE ALPES SUD"] == "cae"
    assert got["OPEN ALPES INFORMATIQUE"] == "scop_scic_tic"
    assert got["ATELIER GRAPHIQUE DU BUECH"] == "scop_scic_tic"
    assert got["SCIC NUMERIQUE EN COMMUN"] == "scop_scic_tic"
    assert got["SCOP CODE SOLIDAIRE"] == "scop_scic_tic"
    assert "LOGICIELS LIBRES DU GAPENCAIS" not in got  # non-diffusible (P): never read
    assert got["PETR DU PAYS FICTIF DES ALPES"] == "acteur_developpement"
    assert (
        got["SYNDICAT MIXTE DU PARC NATUREL REGIONAL DES MONTS FICTIFS"] == "acteur_developpement"
    )
    assert got["COMMUNAUTE DE COMMUNES DU BUECH FICTIF"] == "acteur_developpement"
    assert got["COMITE DE BASSIN D'EMPLOI DU SUD FICTIF"] == "acteur_developpement"
    assert got["TIERS-LIEU LA GARE NUMERIQUE"] == "association_teleactivites"
    assert got["COWORKING DES ECRINS (ECRINS ESPACES PARTAGES)"] == "tiers_lieu_existant"


def test_sirene_look_alikes_do_not_match(sirene: pd.DataFrame, rules) -> None:
    got = _by_name(classify(sirene, rules))
    for name in (
        "CAVE COOPERATIVE DU BUECH FICTIVE",  # a cave coopérative is not a CAE
        "SCAENA PRODUCTIONS",  # "cae" inside a word
        "BOULANGERIE SCOP LE FOURNIL",  # SCOP bakery: not ICT
        "CAMPING DU PARC NATUREL REGIONAL",  # not a syndicat mixte
        "PAYS DE FORCALQUIER RANDONNEE",  # an association named "Pays ..."
        "Entrepreneur individuel (NAF 62.01Z)",
        "SCOP ANCIENNE NOMENCLATURE",  # NAF rév. 1 code not compared
    ):
        assert name not in got, name


def test_rna_planted_cases_and_look_alikes(rna: pd.DataFrame, rules) -> None:
    got = _by_name(classify(rna, rules))
    assert got["COWORKING DU BUECH"] == "association_teleactivites"
    assert got["LA CANTINE NUMÉRIQUE GAPENÇAISE"] == "association_teleactivites"
    assert got["FAB LAB DES ÉCRINS"] == "association_teleactivites"
    assert got["ESPACE PUBLIC NUMÉRIQUE DU GAPENÇAIS"] == "association_teleactivites"
    assert got["FREELANCES DES ALPES DU SUD"] == "association_teleactivites"
    assert got["TIERS-LIEU DE LA MONTAGNE DE LURE"] == "association_teleactivites"
    assert got["ASSOCIATION DU PAYS DU BUËCH FICTIF"] == "acteur_developpement"
    assert got["COMITÉ DE BASSIN D'EMPLOI DU BRIANÇONNAIS FICTIF"] == "acteur_developpement"
    for name in (
        "CLUB DE PHOTO NUMÉRIQUE DE GAP",
        "AMICALE DES BOULISTES",
        "PAYS DE FORCALQUIER RANDONNÉE",
        "LES AMIS DE LA CAVE",
    ):
        assert name not in got, name


def test_themes_score_and_reason(rna: pd.DataFrame, rules) -> None:
    out = classify(rna, rules).set_index("nom")
    row = out.loc["TIERS-LIEU DE LA MONTAGNE DE LURE"]
    themes = row["themes"].split(";")
    assert {"tiers_lieu", "circuits_courts", "enfance_education"} <= set(themes)
    assert set(themes) <= set(THEMES)
    assert 0 <= row["score"] <= 100
    assert "[asso_coworking_rna]" in row["raison"]
    assert "Étape 4" in row["raison"]
    assert "Score" in row["raison"]
    assert out["score"].between(0, 100).all()


def test_keep_unmatched(rna: pd.DataFrame, rules) -> None:
    out = classify(rna, rules, keep_unmatched=True)
    assert len(out) == len(rna)
    assert out.loc[out["nom"] == "AMICALE DES BOULISTES", "categorie"].isna().all()
    assert rna.columns.difference(out.columns).empty  # input untouched, columns kept


def test_user_rules_extend_override_disable(tmp_path: Path, rna: pd.DataFrame) -> None:
    user = tmp_path / "regles.csv"
    user.write_text(
        "id,categorie,source,categories_juridiques,naf,ess,objet_social,nom_motif,"
        "texte_motif,exclusion_motif,themes,score,raison,reference,actif\n"
        "boules,association_teleactivites,rna,,,,,\\bboulistes\\b,,,culture,40,"
        "Test : les boulistes.,Test utilisateur,\n"
        "asso_fablab,,,,,,,,,,,0,x,y,non\n"
        "env,association_teleactivites,rna,,,,024,,,,,30,Code d'objet social 024.,Test,\n",
        encoding="utf-8",
    )
    rules = load_rules(user)
    assert "asso_fablab" not in rules.by_id()
    got = _by_name(classify(rna, rules))
    assert got["AMICALE DES BOULISTES"] == "association_teleactivites"
    assert got["LES AMIS DE LA CAVE"] == "association_teleactivites"  # objet_social 024026
    out = classify(rna, rules).set_index("nom")
    assert "asso_fablab" not in out.loc["FAB LAB DES ÉCRINS", "regles"]


def test_invalid_rules_report_every_problem(tmp_path: Path) -> None:
    user = tmp_path / "regles.csv"
    user.write_text(
        "id,categorie,source,categories_juridiques,naf,ess,objet_social,nom_motif,"
        "texte_motif,exclusion_motif,themes,score,raison,reference\n"
        "bad,inconnue,sirene,54,,,,(,,,zzz,120,,\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as info:
        load_rules(user)
    message = str(info.value)
    for part in (
        "ligne 2",
        "inconnue",
        "catégorie juridique",
        "expression régulière",
        "thème",
        "score",
        "raison",
        "référence",
    ):
        assert part in message, part


def test_missing_rule_column(tmp_path: Path) -> None:
    user = tmp_path / "regles.csv"
    user.write_text("id,categorie\nx,cae\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="ligne 1"):
        load_rules(user)


def test_every_default_rule_has_reference(rules) -> None:
    assert len(rules) > 20
    assert all(r.reference and r.raison for r in rules.rules)


# --- What the study names: brand-name CAE, trade names, everyday-life associations ----


@pytest.fixture
def noms(data_dir: Path, tmp_path: Path) -> pd.DataFrame:
    frame, _ = load_sirene(
        data_dir / "sirene" / "StockEtablissement_noms_diffusion.csv",
        data_dir / "sirene" / "StockUniteLegale_noms_diffusion.csv",
        communes=COMMUNES,
        cache_dir=tmp_path,
    )
    return frame.assign(source_registre="sirene")


@pytest.fixture
def networks(data_dir: Path) -> pd.DataFrame:
    return load_networks(data_dir / "actors" / "reseaux_cae.csv")[0]


@pytest.fixture
def vie_quotidienne(data_dir: Path, tmp_path: Path) -> pd.DataFrame:
    frame, _ = load_rna(
        data_dir / "rna" / "rna_waldec_20250901_vie_quotidienne.csv",
        communes=COMMUNES,
        cache_dir=tmp_path,
    )
    return frame.assign(source_registre="rna")


def _by_siren(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("siren")


def test_cae_by_form_naf_and_name_hint_is_probable(noms: pd.DataFrame, rules) -> None:
    out = _by_siren(classify(noms, rules))
    row = out.loc["900000025"]  # SCOP 5458, 70.22Z, ESS, « LES ENTREPRENEURS … »
    assert row["categorie"] == "cae"
    assert row["regles"].split(";")[0] == "cae_marque_cooperative"
    assert "probable" in row["raison"]
    assert "à vérifier" in row["raison"]
    assert row["score"] < 95  # below a CAE named as such (cae_nom)


def test_plain_consulting_scop_is_not_a_cae(noms: pd.DataFrame, rules, networks) -> None:
    out = _by_siren(classify(noms, rules, networks=networks))
    assert "900000027" not in out.index  # SCOP 5458 in 70.22Z, ordinary name
    assert "900000026" in out.index  # same profile, but listed by its network


def test_brand_name_cae_only_through_network_list(noms: pd.DataFrame, rules, networks) -> None:
    assert "900000026" not in set(classify(noms, rules)["siren"])
    out = _by_siren(classify(noms, rules, networks=networks))
    by_siren = out.loc["900000026"]  # matched by SIREN
    assert by_siren["categorie"] == "cae"
    assert by_siren["score"] >= 98
    assert "Coopérer pour entreprendre (liste fictive de test)" in by_siren["raison"]
    assert "reseaux_cae.csv, ligne 2" in by_siren["raison"]
    by_name = out.loc["900000032"]  # « Arc-en-Ciel (fictif) » = « ARC EN CIEL FICTIF »
    assert by_name["categorie"] == "cae"
    assert "Copéa" in by_name["raison"]
    assert "ligne 3" in by_name["raison"]


def test_network_list_matches_rna_by_name(vie_quotidienne: pd.DataFrame, rules) -> None:
    networks = pd.DataFrame(
        {
            "reseau": ["Réseau fictif"],
            "siren": [pd.NA],
            "nom": ["Foyer rural de la Roche (fictif)"],
            "categorie": ["association_vie_quotidienne"],
            "ligne": [2],
            "fichier": ["liste.csv"],
        }
    )
    out = classify(vie_quotidienne, rules, networks=networks).set_index("nom")
    row = out.loc["FOYER RURAL DE LA ROCHE FICTIF"]
    assert row["score"] >= 98
    assert "Réseau fictif" in row["raison"]


def test_coworking_under_trade_name_only(noms: pd.DataFrame, rules) -> None:
    out = _by_siren(classify(noms, rules))
    row = out.loc["900000028"]  # legal name and enseigne1 say nothing; enseigne2 does
    assert row["categorie"] == "tiers_lieu_existant"
    assert "COWORKING DU GUIL" in row["raison"]  # the reason shows the name that matched
    assert row["nom"] == "LA GRANGE (SARL IMMOBILIERE DU GUIL FICTIVE)"


def test_everyday_life_associations_in_sirene(noms: pd.DataFrame, rules) -> None:
    out = _by_siren(classify(noms, rules))
    creche = out.loc["900000030"]  # association 9220, NAF 88.91A, « CRECHE PARENTALE »
    assert creche["categorie"] == "association_vie_quotidienne"
    assert "enfance_education" in creche["themes"].split(";")
    amap = out.loc["900000033"]  # AMAP known by its usual name only
    assert amap["categorie"] == "association_vie_quotidienne"
    assert "circuits_courts" in amap["themes"].split(";")
    assert "900000031" not in out.index  # municipal-style multi-accueil: a service


def test_everyday_life_associations_in_rna(vie_quotidienne: pd.DataFrame, rules) -> None:
    out = classify(vie_quotidienne, rules).set_index("nom")
    expected = {
        "AMAP DU CHAMPSAUR FICTIVE": "circuits_courts",
        "CRÈCHE PARENTALE LES MARMOTTES FICTIVE": "enfance_education",
        "ASSOCIATION DES PARENTS D'ÉLÈVES DE L'ÉCOLE DU CENTRE FICTIVE": "enfance_education",
        "ROULER ENSEMBLE DANS LE BUËCH FICTIF": "mobilite",
        "MJC DU BRIANÇONNAIS FICTIVE": "culture",
        "FOYER RURAL DE LA ROCHE FICTIF": "culture",
    }
    for name, theme in expected.items():
        row = out.loc[name]
        assert row["categorie"] == "association_vie_quotidienne", name
        assert theme in row["themes"].split(";"), name
        assert "Étape 4" in row["raison"], name
    assert "[vq_enfance_code]" in out.loc["CRÈCHE PARENTALE LES MARMOTTES FICTIVE", "raison"]
    assert "021005" in out.loc["CRÈCHE PARENTALE LES MARMOTTES FICTIVE", "raison"]
    assert "[vq_culture_code]" in out.loc["MJC DU BRIANÇONNAIS FICTIVE", "raison"]


def test_everyday_life_false_positives(vie_quotidienne: pd.DataFrame, rules) -> None:
    got = set(classify(vie_quotidienne, rules)["nom"])
    for name in (
        "COMITÉ DES FÊTES DE GAP FICTIF",  # everywhere: distinguishes no catchment
        "KARTING CLUB DU CIRCUIT COURT FICTIF",  # a race track, not food
        "SOS ENFANCE FICTIVE",  # child protection, not parents
        "VÉLO CLUB DE GAP FICTIF",  # cycling sport, not shared mobility
        "LOISIRS POUR TOUS FICTIF",  # « mobilité réduite »
    ):
        assert name not in got, name


def test_classification_counts_on_test_data(
    noms: pd.DataFrame, vie_quotidienne: pd.DataFrame, rules, networks
) -> None:
    sirene = classify(noms, rules, networks=networks)["categorie"].value_counts().to_dict()
    assert sirene == {"cae": 3, "association_vie_quotidienne": 2, "tiers_lieu_existant": 1}
    rna = classify(vie_quotidienne, rules)["categorie"].value_counts().to_dict()
    assert rna == {"association_vie_quotidienne": 6}
