"""Tests of the rule-based classification on the planted Sirene and RNA cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierslieux.analysis.classify import classify, load_rules
from tierslieux.errors import SchemaError
from tierslieux.model.structures import THEMES
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
