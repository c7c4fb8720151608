"""The dossier's tables, chosen and labelled once for the PDF and the workbook.

Each :class:`DossierTable` keeps the raw column names (so a renderer knows which hold
codes, counts or shares) and the coded values already in words
(:func:`~tierslieux.reports.labels.readable_frame`); the renderers show the headers
with :func:`~tierslieux.reports.labels.column_label`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import INDICATORS
from tierslieux.reports.labels import (
    CODE_COLUMNS,
    OBJECTIVE_COLUMNS,
    PEOPLE_COLUMNS,
    RATE_COLUMNS,
    readable_frame,
    source_role_label,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tierslieux.model.types import Provenance
    from tierslieux.pipeline.dossier import Dossier

__all__ = [
    "COUNT_COLUMNS",
    "SHARE_COLUMNS",
    "DossierTable",
    "dossier_tables",
    "licence_text",
    "rate_per_thousand",
    "readable_sites",
    "sources_table",
    "whole_columns",
]

#: Columns holding shares (0.04 = 4 %).
SHARE_COLUMNS = frozenset(
    {
        "perte_pct",
        "part_couverte",
        "ecart",
        "part",
        "ic95_bas",
        "ic95_haut",
        "reference",
        "part_repondants",
    }
)
#: Columns holding whole counts (communes, structures, members).
COUNT_COLUMNS = frozenset(
    {
        "rang",
        "nb_communes",
        "nb_communes_hors_territoire",
        "nb_communes_bassin",
        "nb_structures_communaute",
        "nb_partenaires",
        "nb_ancrages",
        "nb_groupes",
        "nb_types",
        "nb_sites",
        "membres",
        "effectif",
        "repondants",
        "sans_reponse",
        "densite",
        "nb_repondants",
        "nb_membres",
        "sites_communs_reference",
    }
)


@dataclass(frozen=True)
class DossierTable:
    """One table of the dossier: a sheet of the workbook, a table of the PDF."""

    key: str
    sheet: str
    title: str
    frame: pd.DataFrame
    #: Numeric columns shown as whole numbers (:func:`whole_columns`).
    whole: frozenset[str] = field(default_factory=frozenset)

    def number_format(self, column: str) -> str | None:
        """The Excel number format of ``column`` (None: text or default).

        The cell keeps the exact value; counts of people and rates per 1,000 are shown
        rounded to the unit by their format.
        """
        if column in CODE_COLUMNS:
            return None
        if column in SHARE_COLUMNS:
            return "0.0 %"
        if column in COUNT_COLUMNS or column in self.whole:
            return "#,##0"
        if column in {"latitude", "longitude"}:
            return "0.00000"
        series = self.frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            return "#,##0.0"
        return None

    def cells(self) -> list[list[object]]:
        """Rows of Python values: codes as text, numbers as numbers, missing as None."""
        rows: list[list[object]] = []
        for record in self.frame.itertuples(index=False):
            row: list[object] = []
            for column, value in zip(self.frame.columns, record, strict=True):
                row.append(_python(value, code=column in CODE_COLUMNS))
            rows.append(row)
        return rows


def _python(value: object, *, code: bool) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if code:
        return str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        number = float(value)
        return None if number != number else number  # noqa: PLR0124
    return value


def whole_columns(dossier: Dossier) -> frozenset[str]:
    """Columns a person reads as whole numbers: counts of people, rates per 1,000, and
    the sites' objective when it counts people (coverage; tonnes of CO₂e keep their
    decimals)."""
    people_objective = dossier.sites is None or dossier.request.objective == "couverture"
    return PEOPLE_COLUMNS | RATE_COLUMNS | (OBJECTIVE_COLUMNS if people_objective else set())


def rate_per_thousand(count: pd.Series, base: pd.Series) -> pd.Series:
    """``count`` per 1,000 of ``base`` (active residents); empty where the base is 0."""
    base = pd.to_numeric(base, errors="coerce")
    rate = pd.to_numeric(count, errors="coerce") * 1000.0 / base.where(base > 0)
    return rate.astype("float64")


def readable_sites(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The sites (``sites.sites``) in words, their base community named.

    The table of the siting keeps in ``communaute_base`` what a site rests on as a code
    (« structures ; groupe 2 », « non »); a reader gets the names instead: those of the
    structures of steps 1, 2 and 4 in its catchment (« Coopérative du Val (CAE) ») and
    its questionnaire groups, or « aucune ».  The names are no longer repeated in a
    column of their own (``structures_communaute``, ``groupes`` are dropped).
    """
    readable = readable_frame(frame)
    if "communaute_base" in frame.columns:
        empty = pd.Series("", index=readable.index)
        structures = readable.get("structures_communaute", empty).tolist()
        groups = readable.get("groupes", empty).tolist()
        named = []
        for kind, members, group in zip(frame["communaute_base"], structures, groups, strict=True):
            parts = [p.strip() for p in str(kind if isinstance(kind, str) else "").split(";")]
            names = []
            if "structures" in parts:
                names.append(_text(members))
            if any(p.startswith("groupe") for p in parts):
                names.append(_text(group))
            text = " ; ".join(n for n in names if n)
            named.append(text or _("aucune"))
        readable["communaute_base"] = named
        readable = readable.drop(columns=["structures_communaute", "groupes"], errors="ignore")
    chosen = [c for c in (columns or readable.columns) if c in readable.columns]
    return readable[chosen]


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return ""
    return str(value).strip()


def _names(dossier: Dossier, level: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in dossier.zone_names.get(level, {}).items()}


def _communes(dossier: Dossier) -> pd.DataFrame:
    frame = dossier.diagnosis.communes.copy()
    frame["taux_potentiel"] = rate_per_thousand(frame["potentiel"], frame["actifs_occupes"])
    if "epci" in frame.columns:
        frame["intercommunalite"] = frame["epci"].astype("string").map(_names(dossier, "epci"))
    columns = [
        "code",
        "nom",
        *INDICATORS,
        "taux_potentiel",
        "intercommunalite",
        "epci",
        "bv2022",
        "densite_libelle",
        "categorie_aav_libelle",
        "rural",
        "effectifs_faibles",
    ]
    return readable_frame(frame, columns)


def _catchments(dossier: Dossier) -> pd.DataFrame:
    frame = dossier.diagnosis.catchments.copy()
    if "actifs_occupes" in frame.columns and "potentiel" in frame.columns:
        frame["taux_potentiel"] = rate_per_thousand(frame["potentiel"], frame["actifs_occupes"])
    columns = [
        "code",
        "nom",
        "nb_communes",
        "nb_communes_hors_territoire",
        "diametre_minutes",
        *INDICATORS,
        "taux_potentiel",
    ]
    return readable_frame(frame.sort_values("potentiel", ascending=False, kind="stable"), columns)


def _bassins(dossier: Dossier) -> pd.DataFrame | None:
    bassins = dossier.diagnosis.bassins
    if bassins is None or bassins.empty:
        return None
    frame = bassins.copy()
    frame["taux_potentiel"] = rate_per_thousand(frame["potentiel"], frame["actifs_occupes"])
    columns = ["code", "nom", "nb_communes", "nb_communes_bassin", *INDICATORS, "taux_potentiel"]
    return readable_frame(frame, columns)


def _structures(dossier: Dossier) -> pd.DataFrame:
    frame = dossier.communities.structures.copy()
    names = dossier.diagnosis.communes.set_index("code")["nom"]
    if "code_commune" in frame.columns:
        frame["nom_commune"] = frame["code_commune"].map(names)
    columns = [
        "identifiant",
        "nom",
        "categorie",
        "themes",
        "code_commune",
        "nom_commune",
        "siren",
        "siret",
        "source",
        "raison",
        "latitude",
        "longitude",
    ]
    return readable_frame(frame, columns)


def _communities(dossier: Dossier) -> pd.DataFrame:
    frame = dossier.communities.communities
    columns = [
        "code",
        "nom",
        "communaute_base",
        "ouverture",
        "nb_structures_communaute",
        "nb_partenaires",
        "nb_ancrages",
        "nb_types",
        "structures_communaute",
        "partenaires",
        "themes",
        "ouverture_raison",
    ]
    return readable_frame(frame, columns)


def dossier_tables(dossier: Dossier) -> list[DossierTable]:
    """Every table of the dossier, in the order of the document."""
    tables = [
        DossierTable(
            "communes", _("Communes"), _("Usagers potentiels par commune"), _communes(dossier)
        ),
        DossierTable(
            "bassins20",
            _("Bassins {m} min", m=f"{dossier.minutes:g}"),
            _("Bassins de {m} minutes autour de chaque commune", m=f"{dossier.minutes:g}"),
            _catchments(dossier),
        ),
    ]
    bassins = _bassins(dossier)
    if bassins is not None:
        tables.append(
            DossierTable("bassins", _("Bassins de vie"), _("Bassins de vie (Insee 2022)"), bassins)
        )
    tables += [
        DossierTable(
            "structures",
            _("Structures"),
            _("Structures des quatre étapes et lieux"),
            _structures(dossier),
        ),
        DossierTable(
            "communautes",
            _("Communautés-base"),
            _("Communauté-base et ouverture du bassin de chaque commune"),
            _communities(dossier),
        ),
    ]
    survey = dossier.survey
    if survey is not None:
        tables += [
            DossierTable(
                "typologie",
                _("Typologie"),
                _("Typologie des répondants et profil de l'étude"),
                readable_frame(survey.typology),
            ),
            DossierTable(
                "reponses",
                _("Réponses"),
                _("Réponses par question"),
                readable_frame(survey.answers),
            ),
            DossierTable(
                "groupes",
                _("Groupes"),
                _("Groupes de répondants (communautés-base candidates)"),
                # « theme » is in words in « libelle_theme »; the communes' codes
                # get a header of their own beside their names.
                readable_frame(
                    survey.groups.drop(columns=["repondants", "theme"], errors="ignore").rename(
                        columns={"communes": "codes_communes"}
                    )
                ),
            ),
        ]
    sites = dossier.sites
    if sites is not None:
        tables += [
            DossierTable(
                "sites",
                _("Sites"),
                _("Sites d'expérimentation recommandés"),
                readable_sites(
                    sites.sites,
                    [
                        "rang",
                        "code",
                        "nom",
                        "valeur",
                        "gain_marginal",
                        "perte_si_retire",
                        "theme",
                        "communaute_base",
                        "partenaires",
                        "impose",
                        "tiers_lieux_existants",
                        *(
                            ["tonnes_co2e_an_bas", "tonnes_co2e_an_haut"]
                            if sites.co2 is not None
                            else []
                        ),
                        "code_commune",
                        "latitude",
                        "longitude",
                    ],
                ),
            ),
            DossierTable(
                "alternatives",
                _("Alternatives"),
                _("Alternatives : la meilleure combinaison sans chacun des sites"),
                readable_frame(sites.alternatives),
            ),
            DossierTable(
                "sensibilite",
                _("Sensibilité"),
                _("Sensibilité au seuil de minutes et au nombre de sites"),
                readable_frame(sites.sensitivity),
            ),
            DossierTable(
                "couverture",
                _("Couverture"),
                _("Communes couvertes par chaque site"),
                readable_frame(sites.coverage),
            ),
        ]
    tables.append(sources_table(dossier))
    whole = whole_columns(dossier)
    return [replace(table, whole=whole) for table in tables]


def licence_text(dossier: Dossier, provenance: Provenance) -> str:
    """The licence of an input, or why it has none (the demo's fictional files)."""
    if provenance.licence:
        return provenance.licence
    if provenance.synthetic or dossier.fictional:
        return _("données fictives de la démonstration")
    return "—"


def sources_table(dossier: Dossier) -> DossierTable:
    """The « Sources » sheet: each input with its vintage, licence and checksum."""
    rows = [
        {
            "role": source_role_label(p.role),
            "location": p.location,
            "vintage": p.vintage or "",
            "licence": licence_text(dossier, p),
            "synthetic": _("oui") if p.synthetic else _("non"),
            "sha256": p.sha256 or "",
        }
        for p in dossier.provenance
    ]
    frame = pd.DataFrame(
        rows, columns=["role", "location", "vintage", "licence", "synthetic", "sha256"]
    )
    return DossierTable("sources", _("Sources"), _("Sources, millésimes et licences"), frame)
