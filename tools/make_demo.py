"""Regenerate the FICTIONAL demo territory shipped in src/tierslieux/data/demo/.

Sixteen invented communes on a 4 x 4 grid of about 7 km cells; names, codes,
populations and zonings are all made up ("FICTIF"). Codes use the non-existent
département "00" so they can never be mistaken for real INSEE codes.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "tierslieux" / "data" / "demo"
NAMES = [
    "Bourg-Fictif",
    "Val-d'Exemple",
    "Saint-Imaginaire",
    "Les Essais",
    "Montfictif",
    "La Maquette",
    "Pré-Modèle",
    "Villedémo",
    "Roche-Inventée",
    "Le Prototype",
    "Col-Fantaisie",
    "Bois-Supposé",
    "Source-Fictive",
    "Hameau-Test",
    "Plaine-Rêvée",
    "Mont-Chimère",
]
# Invented populations: a small market town and rural villages.
POPULATION = [6200, 1450, 820, 540, 1100, 380, 260, 2300, 190, 640, 150, 420, 980, 210, 720, 330]
#: Invented names of the demo's département and région « 00 » (their labels), so that
#: every page names the territory, clearly fictional, instead of « Département 00 ».
DEPARTEMENT_NAME = "Val-Chimère (FICTIF)"
REGION_NAME = "Région-Exemple (FICTIVE)"
LAT0, LON0, STEP_LAT, STEP_LON = 44.60, 5.80, 0.065, 0.09


def main() -> None:
    features = []
    rows = ["CODGEO,LIBGEO,DEP,REG,EPCI,NATURE_EPCI,BV2022,AAV2020,CATEAAV2020,ZE2020"]
    for index, (name, population) in enumerate(zip(NAMES, POPULATION, strict=True)):
        row, col = divmod(index, 4)
        south, west = LAT0 + row * STEP_LAT, LON0 + col * STEP_LON
        ring = [
            [round(west, 5), round(south, 5)],
            [round(west + STEP_LON, 5), round(south, 5)],
            [round(west + STEP_LON, 5), round(south + STEP_LAT, 5)],
            [round(west, 5), round(south + STEP_LAT, 5)],
            [round(west, 5), round(south, 5)],
        ]
        code = f"00{index + 101:03d}"
        active = round(population * 0.45)  # invented, like everything in this file
        unemployed = round(active * 0.08)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "code": code,
                    "nom": f"{name} (FICTIF)",
                    "population": population,
                    "pop_15_64_active_2021": active,
                    "pop_15_64_chomage_2021": unemployed,
                    "dep": "00",
                    "reg": "00",
                    "epci": "000000001" if col < 2 else "000000002",
                },
            }
        )
        bv = "00101" if col < 2 else "00108"
        cate = "11" if index == 0 else ("20" if col < 3 else "30")
        rows.append(
            f"{code},{name} (FICTIF),00,00,{'000000001' if col < 2 else '000000002'},CC,{bv},000,{cate},0000"
        )
    (OUT / "communes_fictives.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "name": "communes FICTIVES de démonstration",
                "features": features,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    (OUT / "zonages_fictifs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (OUT / "libelles_zonages_fictifs.csv").write_text(
        "NIVGEO,CODGEO,LIBGEO,NB_COM\n"
        f"REG,00,{REGION_NAME},16\n"
        f"DEP,00,{DEPARTEMENT_NAME},16\n"
        "BV2022,00101,Bassin de Bourg-Fictif (FICTIF),8\n"
        "BV2022,00108,Bassin de Villedémo (FICTIF),8\n"
        "EPCI,000000001,CC du Val-d'Exemple (FICTIVE),8\n"
        "EPCI,000000002,CC des Monts-Chimères (FICTIVE),8\n",
        encoding="utf-8",
    )
    (OUT / "README.md").write_text(
        "# Territoire de démonstration FICTIF\n\nCommunes, codes (département « 00 », "
        "qui n'existe pas), populations et zonages inventés par `tools/make_demo.py`. "
        "Le recensement de la démonstration est SYNTHÉTIQUE, généré à la volée. "
        "Aucun chiffre ne décrit un lieu réel.\n\n"
        f"Le département « 00 » s'appelle « {DEPARTEMENT_NAME} » et la région « 00 » "
        f"« {REGION_NAME} » (libellés de `libelles_zonages_fictifs.csv`) : les pages "
        "nomment ainsi le territoire, sans le faire passer pour un lieu réel.\n\n"
        "`acteurs_fictifs.csv` : structures et lieux FICTIFS (une par étape de l'étude, "
        "un tiers-lieu et un point d'appui), au format de `--acteurs`, que `tierslieux "
        "dossier --demo` ajoute à l'annuaire pour montrer toutes les parties du dossier.\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
