"""Readers' names of the columns and codes of tierslieux's tables, in one place.

The CSV files keep their column names (``gain_marginal``) and codes (``vie:enfants``,
``acteur_developpement``) for programs; every table a person reads (the dossier's PDF
and workbook, the uMap file, the pages) shows the labels below instead:
:func:`column_label` for a column, :func:`value_label` for a coded value, and
:func:`readable_frame` for a whole table.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.i18n import LANGUAGES, N_, current_language, format_number
from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import EXTRA_COLUMNS, INDICATORS, indicator_labels
from tierslieux.model.rurality import AAV_CATEGORY_LABELS
from tierslieux.model.structures import (
    OPENNESS_LABELS,
    category_labels,
    category_short_labels,
    theme_labels,
)
from tierslieux.model.survey import Questionnaire, load_questionnaire
from tierslieux.model.types import file_name
from tierslieux.pipeline.survey import theme_label

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "CODE_COLUMNS",
    "ENGINE_LABELS",
    "OBJECTIVE_COLUMNS",
    "PARAMETER_LABELS",
    "PEOPLE_COLUMNS",
    "RATE_COLUMNS",
    "column_label",
    "column_labels",
    "engine_label",
    "engine_sentences",
    "file_name",
    "parameter_label",
    "readable_frame",
    "solver_label",
    "source_role_label",
    "survey_theme_label",
    "value_label",
]

#: Columns holding identifiers (INSEE, SIREN, SIRET codes): always text, never numbers.
CODE_COLUMNS = frozenset(
    {
        "code",
        "code_commune",
        "commune",
        "identifiant",
        "siren",
        "siret",
        "epci",
        "dep",
        "reg",
        "bv2022",
        "site_exclu",
        "remplacant",
        "couvert_par",
        "centre",
        "code_site",
    }
)

#: Columns counting people (weighted census counts, respondents): a person reads them
#: as whole numbers (« 52 », never « 51,6 »); the workbook keeps the exact value and
#: shows it rounded by its number format.
PEOPLE_COLUMNS = frozenset(
    {*INDICATORS, *EXTRA_COLUMNS, "navetteurs_eligibles", "usagers_estimes", "population"}
)
#: Columns in the unit of the sites' objective (people when it is the coverage, whole
#: numbers then; tonnes of CO₂e otherwise, with the decimals that matter).
OBJECTIVE_COLUMNS = frozenset(
    {
        "valeur",
        "gain_marginal",
        "perte_si_retire",
        "objectif",
        "perte",
        "borne",
        "demande",
        "gain_site_supplementaire",
    }
)
#: Rates per 1,000 active residents: whole numbers (« 99 pour 1 000 »).
RATE_COLUMNS = frozenset({"taux_potentiel"})


def column_labels() -> dict[str, str]:
    """Column name -> French label, for every column a person reads."""
    labels = dict(indicator_labels())
    labels.update(
        {
            # communes, catchments, bassins
            "code": _("Code"),
            "nom": _("Nom"),
            # one more site (sites: one_more_site.csv)
            "gain_site_supplementaire": _("Ce qu'un site de plus ajouterait ici"),
            "admissible": _("Admissible"),
            "choisi": _("Choisi"),
            "commune": _("Commune"),
            "code_commune": _("Code commune"),
            "nom_commune": _("Commune"),
            "nb_communes": _("Communes"),
            "nb_communes_hors_territoire": _("Communes hors territoire"),
            "nb_communes_bassin": _("Communes du bassin (au total)"),
            "bassin_partiel": _("Bassin partiel"),
            "diametre_minutes": _("Écart maximal (minutes)"),
            "definition_bassin": _("Définition du bassin"),
            "bv2022": _("Bassin de vie 2022"),
            "epci": _("Intercommunalité (SIREN)"),
            "dep": _("Département"),
            "reg": _("Région"),
            "densite": _("Densité (grille Insee)"),
            "densite_libelle": _("Densité (libellé)"),
            "categorie_aav": _("Catégorie d'aire d'attraction"),
            "categorie_aav_libelle": _("Aire d'attraction (libellé)"),
            "rural": _("Commune rurale"),
            "effectifs_faibles": _("Effectifs faibles (< 200)"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
            "population": _("Population"),
            "taux_potentiel": _("Usagers potentiels pour 1 000 actifs"),
            # structures and communities
            "identifiant": _("Identifiant"),
            "categorie": _("Catégorie (étape de l'étude)"),
            "themes": _("Thèmes"),
            "source": _("Source"),
            "sources": _("Sources"),
            "raison": _("Raison du classement"),
            "score": _("Score de pertinence"),
            "regles": _("Règles appliquées"),
            "siren": _("SIREN"),
            "siret": _("SIRET"),
            "noms_connus": _("Noms connus"),
            "identifiants_fusionnes": _("Identifiants fusionnés"),
            "position_approchee": _("Position approchée (centre de la commune)"),
            "hors_territoire": _("Hors du territoire"),
            "nb_structures_communaute": _("Nombre de structures de la communauté"),
            "nb_partenaires": _("Nombre de partenaires"),
            "nb_ancrages": _("Nombre de lieux d'accueil et de réseautage"),
            "nb_groupes": _("Nombre de groupes du questionnaire"),
            "nb_types": _("Types de porteurs"),
            "communaute_base": _("Communauté-base"),
            "structures_communaute": _("Structures de la communauté"),
            "groupes": _("Groupes du questionnaire"),
            "partenaires": _("Partenaires"),
            "ancrages": _("Lieux d'accueil et de réseautage"),
            "ouverture": _("Ouverture"),
            "ouverture_raison": _("Raison"),
            # sites
            "rang": _("Rang"),
            "valeur": _("Valeur de l'objectif"),
            "tonnes_co2e_an_bas": _("t CO₂e par an (bas)"),
            "tonnes_co2e_an_haut": _("t CO₂e par an (haut)"),
            "kg_co2e_jour_ouvre": _("kg CO₂e par jour ouvré"),
            "gain_marginal": _("Gain marginal"),
            "theme": _("Thème"),
            "perte_si_retire": _("Perte si retiré"),
            "themes_disponibles": _("Thèmes disponibles"),
            "impose": _("Imposé"),
            "tiers_lieux_existants": _("Tiers-lieux existants"),
            "intercommunalite": _("Intercommunalité"),
            "navetteurs_eligibles": _("Navetteurs éligibles"),
            "usagers_estimes": _("Usagers estimés"),
            "site_exclu": _("Site exclu"),
            "nom_site_exclu": _("Nom du site exclu"),
            "objectif": _("Objectif"),
            "perte": _("Perte"),
            "perte_pct": _("Perte (part)"),
            "sites": _("Sites"),
            "remplacant": _("Remplaçant"),
            "nom_remplacant": _("Nom du remplaçant"),
            "ecart": _("Écart prouvé"),
            "message": _("Message"),
            "minutes": _("Minutes"),
            "nb_sites": _("Nombre de sites"),
            "part_couverte": _("Part couverte"),
            "borne": _("Borne"),
            "solveur": _("Solveur"),
            "sites_communs_reference": _("Sites communs avec la référence"),
            "parametre": _("Paramètre"),
            "bas": _("Bas"),
            "central": _("Central"),
            "haut": _("Haut"),
            "demande": _("Demande"),
            "couvert_par": _("Couverte par le site"),
            "site": _("Site"),
            "nom_site": _("Nom du site"),
            # questionnaire
            "critere": _("Critère"),
            "libelle": _("Libellé"),
            "reference": _("Référence de l'étude"),
            "reference_texte": _("Référence (texte)"),
            "part": _("Part"),
            "effectif": _("Effectif"),
            "repondants": _("Répondants"),
            "sans_reponse": _("Sans réponse"),
            "indicateur": _("Indicateur"),
            "ic95_bas": _("IC 95 % bas"),
            "ic95_haut": _("IC 95 % haut"),
            "reference_dans_ic": _("Référence dans l'intervalle"),
            "libelle_question": _("Question"),
            "modalite": _("Code de la réponse"),
            "total": _("Total"),
            "part_repondants": _("Part des répondants"),
            "plusieurs_reponses": _("Plusieurs réponses possibles"),
            "unite": _("Unité"),
            "type": _("Type"),
            "texte": _("Texte"),
            "role": _("Rôle"),
            "location": _("Fichier ou adresse"),
            "vintage": _("Millésime"),
            "licence": _("Licence"),
            "synthetic": _("Synthétique"),
            "sha256": _("SHA-256"),
            "code_site": _("Code du site"),
            "comparaison": _("Comparaison"),
            "remarque": _("Remarque"),
            "petit_echantillon": _("Petit échantillon"),
            "groupe": _("Groupe"),
            "libelle_theme": _("Thème"),
            "membres": _("Membres"),
            "communes": _("Communes"),
            "noms_communes": _("Communes"),
            "codes_communes": _("Codes des communes"),
            "membres_par_commune": _("Membres par commune"),
            "statut": _("Statut"),
            "question": _("Code de la question"),
            "reponse": _("Réponse"),
            "mediane": _("Médiane"),
            "minimum": _("Minimum"),
            "maximum": _("Maximum"),
            "score_adequation": _("Score d'adéquation (sur 10)"),
            "jours_par_semaine": _("Jours par semaine prévus"),
            "nb_repondants": _("Répondants"),
            "nb_membres": _("Membres de communautés-base candidates"),
        }
    )
    return labels


def column_label(name: str) -> str:
    """The label of column ``name``; an unknown column gets its name with spaces."""
    label = column_labels().get(name)
    if label is not None:
        return label
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


#: Readers' names of the inputs' roles (``Provenance.role``); a role already in words
#: (« grille de densité ») is translated as it is.
_SOURCE_ROLES = {
    "communes": N_("Communes (contours et population)"),
    "zonages": N_("Zonages (EPCI, bassins de vie, aires d'attraction)"),
    "mobpro": N_("Recensement : navettes domicile-travail (MOBPRO)"),
    "acteurs": N_("Acteurs ajoutés à la main"),
    "structures": N_("Annuaire des structures (structures.csv du projet)"),
    "pnr": N_("Parcs naturels régionaux"),
    "gares": N_("Gares de voyageurs"),
    "mediation": N_("Lieux de médiation numérique"),
    "reseaux": N_("Réseaux d'acteurs"),
    "rna": N_("Répertoire national des associations (RNA)"),
    "sirene": N_("Répertoire Sirene des entreprises"),
    "tiers_lieux": N_("Recensement des tiers-lieux"),
    "temps_de_trajet": N_("Temps de trajet"),
    "temps de trajet": N_("Temps de trajet"),
}

_SOLVERS = {"highs": "HiGHS", "glouton+echange": N_("glouton puis échanges")}

#: Readers' names of the travel-time engines (``TravelTimeEngine.name``).
ENGINE_LABELS = {
    "straight_line": N_("estimation à vol d'oiseau"),
    "osrm": N_("serveur OSRM (temps routiers)"),
    "table": N_("matrice de temps importée"),
}

#: Readers' names of the travel-time engines' parameters.
PARAMETER_LABELS = {
    "detour_factor": N_("facteur de détour (distance routière / distance à vol d'oiseau)"),
    "speed_kmh": N_("vitesse moyenne (km/h)"),
    "intra_commune_minutes": N_("temps de trajet à l'intérieur d'une commune (minutes)"),
    "earth_radius_km": N_("rayon de la Terre (km)"),
    "url": N_("adresse du serveur"),
}


def engine_label(engine: str) -> str:
    """A travel-time engine (``straight_line``) in words (« estimation à vol d'oiseau »)."""
    label = ENGINE_LABELS.get(engine)
    return engine if label is None else _(label)


def parameter_label(key: str) -> str:
    """A travel-time engine's parameter (``detour_factor``) in words."""
    label = PARAMETER_LABELS.get(key)
    return key.replace("_", " ") if label is None else _(label)


def _parameter_value(value: object) -> str:
    """A parameter's value in the current language, every decimal kept (up to 3)."""
    if isinstance(value, bool):
        return str(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return str(value)
    text = f"{number:.3f}".rstrip("0")
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return format_number(number, decimals)


def engine_sentences(engine: str, parameters: Mapping[str, object]) -> list[str]:
    """The travel-time engine and its parameters as sentences for a reader."""
    lines = [_("Moteur de temps de trajet : {engine}.", engine=engine_label(engine))]
    for key, value in parameters.items():
        if key == "engine":
            continue
        label = parameter_label(key)
        # Each parameter is a sentence of its own: it starts with a capital letter.
        lines.append(f"{label[:1].upper()}{label[1:]} : {_parameter_value(value)}.")
    return lines


def source_role_label(role: str) -> str:
    """The role of an input (``mobpro``) in words (« Recensement : navettes… »)."""
    return _(_SOURCE_ROLES.get(role, role))


def solver_label(solver: str) -> str:
    """The name of a siting solver (``highs``) as a reader knows it (« HiGHS »)."""
    label = _SOLVERS.get(str(solver).strip().lower())
    return solver if label is None else _(label)


def survey_theme_label(code: str, questionnaire: Questionnaire | None = None) -> str:
    """A questionnaire theme (``vie:enfants``) in words (« Vie quotidienne : Garde et
    scolarité des enfants »), from ``questionnaire`` or the packaged one."""
    return theme_label(code, questionnaire or _default_questionnaire(current_language()))


@lru_cache(maxsize=len(LANGUAGES))
def _default_questionnaire(lang: str) -> Questionnaire:
    """The packaged questionnaire in ``lang`` (the current language: the cache key)."""
    del lang
    return load_questionnaire().translated()


def _theme_list(text: str) -> str:
    labels = theme_labels()
    parts = [p.strip() for p in str(text).replace(",", ";").split(";") if p.strip()]
    return ", ".join(labels.get(p, survey_theme_label(p)) for p in parts)


def _indicator_list(text: str) -> str:
    """« tic;independants » (indicators under the caution threshold) in words."""
    labels = indicator_labels()
    return ", ".join(labels.get(p.strip(), p.strip()) for p in str(text).split(";") if p.strip())


def _base_kind(text: str) -> str:
    """What a site's base community rests on (« structures ; groupe 2 », « non ») in
    words; the dossier names the structures themselves (``readable_sites``)."""
    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    words = []
    for part in parts:
        if part == "structures":
            words.append(_("structures de l'annuaire"))
        elif part.startswith("groupe "):
            words.append(_("groupe {g} du questionnaire", g=part.removeprefix("groupe ")))
        elif part == "non":
            words.append(_("aucune"))
        else:
            words.append(part)
    return " ; ".join(words)


def _category(text: str) -> str:
    return category_labels().get(text, text)


def _short_categories(text: str) -> str:
    """« Nom (cae) ; Nom (association_teleactivites) » with the categories in words."""
    short = category_short_labels()
    out = str(text)
    for code, label in sorted(short.items(), key=lambda item: -len(item[0])):
        out = out.replace(f"({code})", f"({label})").replace(f": {code}", f": {label}")
    return out


def value_label(column: str, value: object) -> object:
    """A coded value of ``column`` in words (other values are returned unchanged)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return value
    converters: Mapping[str, Callable[[str], str]] = {
        "categorie": _category,
        "themes": _theme_list,
        "theme": _theme_list,
        "themes_disponibles": _theme_list,
        "libelle_theme": _theme_list,
        "ouverture": lambda v: _(OPENNESS_LABELS.get(v, v)),
        "categorie_aav_libelle": _,
        "densite_libelle": _,
        "categorie_aav": lambda v: _(AAV_CATEGORY_LABELS.get(v, v)),
        "structures_communaute": _short_categories,
        "partenaires": _short_categories,
        "ancrages": _short_categories,
        "effectifs_faibles": _indicator_list,
        "communaute_base": _base_kind,
        "solveur": solver_label,
        "statut": lambda v: {
            "communaute_base_candidate": _("communauté-base candidate"),
            "piste": _("piste"),
        }.get(v, v),
    }
    convert = converters.get(column)
    if convert is None or not isinstance(value, str):
        return value
    return convert(value)


def readable_frame(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``frame`` (or its ``columns`` that exist) with coded values in words.

    Column names are kept (the renderers label them with :func:`column_label`), so
    that a renderer still knows which column holds codes or shares.
    """
    chosen = [c for c in (columns or frame.columns) if c in frame.columns]
    out = frame[chosen].copy()
    for column in chosen:
        series = out[column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            out[column] = out[column].map(lambda v, c=column: value_label(c, v))
    return out
