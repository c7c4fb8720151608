"""Code lists of the INSEE census commuting detail file (MOBPRO) variables the tool reads.

Source: INSEE, « Fichiers détail : documentation MOBPRO — Mobilités professionnelles
(domicile - lieu de travail) », list of variables with the codes and labels of their
modalities at the end of the document, and the dictionary ``varmod_mobpro_YYYY.csv``
published with each vintage (https://www.insee.fr/fr/statistiques/6456056 for RP 2019).
The codes below are the union over the vintages the reader accepts (RP 2015 onwards):

- ``TRANS``: 1 pas de transport, 2 marche à pied, 3 vélo, 4 deux-roues motorisé,
  5 voiture, camion, fourgonnette, 6 transports en commun (2017+ nomenclature); older
  vintages used 1 to 5 (deux roues in 3), a subset of these codes.
- ``EMPL``: salariés 11 apprentissage, 12 intérim, 13 emplois aidés, 14 stagiaires
  rémunérés, 15 autres emplois à durée limitée, 16 emplois sans limite de durée;
  non-salariés 21 indépendants, 22 employeurs, 23 aides familiaux.
- ``CS1`` (and the PCS 2020 group ``GS``): 1 to 6, the groups of persons in employment.
- ``ILT``: 1 commune de résidence, 2 autre commune du département, 3 autre département
  de la région, 4 autre région de métropole, 5 autre région dans un Dom, 6 autre région
  dans une Com, 7 à l'étranger.
- ``SEXE``: 1 hommes, 2 femmes.
- ``NA17``: the 17 sections of the NAF rév. 2 aggregation A17.

``Z``/``ZZ`` ("not applicable") are accepted for every variable, as published.  When the
file comes with its own ``varmod_mobpro_YYYY.csv``, its codes are accepted too (a new
vintage may add codes before this list is updated).
"""

from __future__ import annotations

__all__ = ["MOBPRO_CODES"]

#: Canonical attribute (lower-case variable name) -> codes of the INSEE dictionary.
MOBPRO_CODES: dict[str, frozenset[str]] = {
    "trans": frozenset({"1", "2", "3", "4", "5", "6"}),
    "empl": frozenset({"11", "12", "13", "14", "15", "16", "21", "22", "23"}),
    "cs1": frozenset({"1", "2", "3", "4", "5", "6"}),
    "ilt": frozenset({"1", "2", "3", "4", "5", "6", "7"}),
    "sexe": frozenset({"1", "2"}),
    "na17": frozenset(
        {
            "AZ",
            "C1",
            "C2",
            "C3",
            "C4",
            "C5",
            "DE",
            "FZ",
            "GZ",
            "HZ",
            "IZ",
            "JZ",
            "KZ",
            "LZ",
            "MN",
            "OQ",
            "RU",
        }
    ),
}
