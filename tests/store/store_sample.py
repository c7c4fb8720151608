"""Sample structures shared by the store tests (imported, not collected)."""

from __future__ import annotations

STRUCTURES = [
    {
        "identifiant": "siret:12345678900011",
        "nom": "Coopérative d'activité Alpes",
        "categorie": "cae",
        "code_commune": "05061",
        "themes": "ess_cooperation",
        "source": "sirene",
    },
    {
        "identifiant": "rna:W051000123",
        "nom": "Les Télé-actifs du Queyras",
        "categorie": "association_teleactivites",
        "code_commune": "05063",
        "themes": "tic;inclusion_numerique",
        "source": "rna",
    },
    {
        "identifiant": "acteur:pnr-queyras",
        "nom": "Parc naturel régional du Queyras",
        "categorie": "acteur_developpement",
        "code_commune": "05063",
        "themes": "economie_locale",
        "source": "acteurs",
    },
]
CAE, ASSO, PARC = (row["identifiant"] for row in STRUCTURES)
