"""Benchmark: load_sirene + classify on a synthetic département-sized Sirene stock.

The data is SYNTHETIC: about 300,000 establishments and their legal units written in
the official StockEtablissement / StockUniteLegale CSV layout, with fictional SIRENs,
names and codes drawn at random (a few percent of cooperatives, associations and
public bodies so that every rule family has work to do). Run::

    .venv/bin/python bench/bench_classify.py [--rows 300000] [--zip]

It prints the seconds spent generating, loading and classifying, and the peak resident
memory of the process (resource.getrusage, kilobytes on Linux).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from tierslieux.analysis.classify import classify, load_rules
from tierslieux.sources.sirene import load_sirene

ETAB_HEADER = [
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement",
    "etablissementSiege",
    "nombrePeriodesEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "complementAdresse2Etablissement",
    "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement",
    "typeVoie2Etablissement",
    "libelleVoie2Etablissement",
    "codePostal2Etablissement",
    "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement",
    "codeCedex2Etablissement",
    "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement",
    "libellePaysEtranger2Etablissement",
    "dateDebut",
    "etatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "denominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
]
UL_HEADER = [
    "siren",
    "statutDiffusionUniteLegale",
    "unitePurgeeUniteLegale",
    "dateCreationUniteLegale",
    "sigleUniteLegale",
    "sexeUniteLegale",
    "prenom1UniteLegale",
    "prenom2UniteLegale",
    "prenom3UniteLegale",
    "prenom4UniteLegale",
    "prenomUsuelUniteLegale",
    "pseudonymeUniteLegale",
    "identifiantAssociationUniteLegale",
    "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale",
    "dateDernierTraitementUniteLegale",
    "nombrePeriodesUniteLegale",
    "categorieEntreprise",
    "anneeCategorieEntreprise",
    "dateDebut",
    "etatAdministratifUniteLegale",
    "nomUniteLegale",
    "nomUsageUniteLegale",
    "denominationUniteLegale",
    "denominationUsuelle1UniteLegale",
    "denominationUsuelle2UniteLegale",
    "denominationUsuelle3UniteLegale",
    "categorieJuridiqueUniteLegale",
    "activitePrincipaleUniteLegale",
    "nomenclatureActivitePrincipaleUniteLegale",
    "nicSiegeUniteLegale",
    "economieSocialeSolidaireUniteLegale",
    "societeMissionUniteLegale",
    "caractereEmployeurUniteLegale",
]

NAF = [
    "62.01Z",
    "62.02A",
    "63.12Z",
    "73.11Z",
    "70.21Z",
    "47.11B",
    "56.10A",
    "43.21A",
    "68.20B",
    "86.21Z",
    "10.71C",
    "94.99Z",
    "84.11Z",
    "01.11Z",
    "55.30Z",
    "96.02A",
]
NAF_P = np.array([2, 2, 1, 1, 1, 10, 10, 12, 15, 5, 3, 8, 1, 10, 4, 15], dtype=float)
CJ = [
    "1000",
    "5499",
    "5710",
    "5720",
    "6540",
    "9220",
    "5458",
    "5558",
    "5560",
    "7346",
    "7357",
    "7355",
    "7381",
    "6317",
]
CJ_P = np.array([45, 15, 12, 8, 10, 7, 0.5, 0.2, 0.2, 0.05, 0.02, 0.02, 0.05, 0.3])
WORDS = [
    "ALPES",
    "DURANCE",
    "SERVICES",
    "CONSEIL",
    "BOULANGERIE",
    "GARAGE",
    "COWORKING",
    "NUMERIQUE",
    "CAE",
    "SCOP",
    "PARC NATUREL REGIONAL",
    "PAYS",
    "CAVE",
    "INFORMATIQUE",
    "COMITE DE BASSIN D'EMPLOI",
    "TIERS-LIEU",
    "SOLIDAIRE",
    "DESIGN",
    "TRANSPORTS",
]


def generate(folder: Path, rows: int, seed: int = 2012) -> tuple[Path, Path, list[str]]:
    """Write the synthetic StockEtablissement and StockUniteLegale CSV files."""
    rng = np.random.default_rng(seed)
    communes = [f"05{n:03d}" for n in range(1, 163)]
    units = int(rows * 0.8)
    sirens = np.array([f"{800000000 + i:09d}" for i in range(units)])
    cj = rng.choice(CJ, size=units, p=CJ_P / CJ_P.sum())
    words = rng.choice(WORDS, size=(units, 2))
    names = np.char.add(np.char.add(words[:, 0], " "), words[:, 1]).astype(object)
    names[cj == "1000"] = ""
    ul = pd.DataFrame(dict.fromkeys(UL_HEADER, ""), index=range(units))
    ul["siren"] = sirens
    ul["statutDiffusionUniteLegale"] = "O"
    ul["etatAdministratifUniteLegale"] = rng.choice(["A", "C"], size=units, p=[0.9, 0.1])
    ul["denominationUniteLegale"] = names
    ul["nomUniteLegale"] = np.where(cj == "1000", "NOMFICTIF", "")
    ul["categorieJuridiqueUniteLegale"] = cj
    ul["economieSocialeSolidaireUniteLegale"] = rng.choice(
        ["O", "N", ""], size=units, p=[0.05, 0.6, 0.35]
    )
    ul["nomenclatureActivitePrincipaleUniteLegale"] = "NAFRev2"
    owner = np.concatenate([np.arange(units), rng.integers(0, units, rows - units)])
    etab = pd.DataFrame(dict.fromkeys(ETAB_HEADER, ""), index=range(rows))
    etab["siren"] = sirens[owner]
    etab["nic"] = [f"{n:05d}" for n in range(rows)]
    etab["siret"] = etab["siren"] + etab["nic"]
    etab["statutDiffusionEtablissement"] = "O"
    etab["dateCreationEtablissement"] = "2015-01-01"
    etab["codeCommuneEtablissement"] = rng.choice(communes, size=rows)
    etab["etatAdministratifEtablissement"] = rng.choice(["A", "F"], size=rows, p=[0.6, 0.4])
    etab["activitePrincipaleEtablissement"] = rng.choice(NAF, size=rows, p=NAF_P / NAF_P.sum())
    etab["nomenclatureActivitePrincipaleEtablissement"] = "NAFRev2"
    etab["coordonneeLambertAbscisseEtablissement"] = rng.uniform(900_000, 1_000_000, rows).round(1)
    etab["coordonneeLambertOrdonneeEtablissement"] = rng.uniform(6_350_000, 6_450_000, rows).round(
        1
    )
    etab_path = folder / "StockEtablissement_utf8.csv"
    ul_path = folder / "StockUniteLegale_utf8.csv"
    etab.to_csv(etab_path, index=False)
    ul.to_csv(ul_path, index=False)
    return etab_path, ul_path, communes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--zip", action="store_true", help="zip the CSV files first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        etab, ul, communes = generate(folder, args.rows)
        if args.zip:
            for path in (etab, ul):
                with zipfile.ZipFile(path.with_suffix(".zip"), "w", zipfile.ZIP_DEFLATED) as zf:
                    zf.write(path, path.name)
            etab, ul = etab.with_suffix(".zip"), ul.with_suffix(".zip")
        t1 = time.perf_counter()
        size_mb = (etab.stat().st_size + ul.stat().st_size) / 1e6
        print(
            f"SYNTHETIC data: {args.rows} établissements, {size_mb:.0f} MB, generated in {t1 - t0:.1f} s"
        )
        frame, _prov = load_sirene(etab, ul, communes=communes, cache_dir=folder / "cache")
        t2 = time.perf_counter()
        print(f"load_sirene: {len(frame)} active établissements in {t2 - t1:.2f} s")
        rules = load_rules()
        classified = classify(frame, rules)
        t3 = time.perf_counter()
        print(f"classify: {len(classified)} structures classified in {t3 - t2:.2f} s")
        print(classified["categorie"].value_counts().to_string())
        print(f"load + classify: {t3 - t1:.2f} s (target < 30 s)")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {peak_mb:.0f} MB (target < 2048 MB)")


if __name__ == "__main__":
    main()
