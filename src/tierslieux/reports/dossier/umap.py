"""``dossier-umap.geojson``: a GeoJSON file to import into uMap (« Importer des données »).

uMap reads a GeoJSON FeatureCollection; the popup of a feature shows its ``name`` as
title and its ``description`` as text (uMap's default popup), and a feature's own style
is read from its ``_umap_options`` property (``color``, ``fillColor``,
``fillOpacity``, ``weight``, ``iconClass``).  Every other property keeps a French name
(« Usagers potentiels », « Gain marginal »): uMap lists them in the data table and
its « tableau » popup.  Communes are coloured by their rate of potential users per
1,000 active residents (same classes as the PDF's map), sites are dark numbered
markers, structures and existing places markers of their own colour.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.i18n import format_number
from tierslieux.i18n import gettext as _
from tierslieux.reports.dossier.tables import rate_per_thousand, readable_sites
from tierslieux.reports.labels import column_label, value_label
from tierslieux.reports.maps import PALETTE, class_breaks

if TYPE_CHECKING:
    from tierslieux.pipeline.dossier import Dossier

__all__ = ["render_umap"]

_STRUCTURE_COLOURS = {
    "cae": "#1b9e77",
    "scop_scic_tic": "#d95f02",
    "acteur_developpement": "#7570b3",
    "association_teleactivites": "#e7298a",
    "association_vie_quotidienne": "#66a61e",
    "tiers_lieu_existant": "#e6ab02",
    "point_appui": "#666666",
}


def _clean(value: object, *, whole: bool = False) -> object:
    """A property's value for uMap: no NaN; people (weighted census counts, a rate per
    1,000) as whole numbers, as the tables show them; other figures to one decimal."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return round(value) if whole else round(value, 1)
    if hasattr(value, "item"):
        return _clean(value.item(), whole=whole)
    return value


def _colour(value: float | None, breaks: list[float]) -> str:
    if value is None or not breaks:
        return "#dddddd"
    for index, upper in enumerate(breaks):
        if value <= upper:
            return PALETTE[index]
    return PALETTE[-1]


def _point(lat: object, lon: object) -> dict[str, Any] | None:
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(la) and math.isfinite(lo)):
        return None
    return {"type": "Point", "coordinates": [round(lo, 6), round(la, 6)]}


def _commune_features(dossier: Dossier) -> list[dict[str, Any]]:
    communes = dossier.diagnosis.communes.copy()
    communes["taux_potentiel"] = rate_per_thousand(
        communes["potentiel"], communes["actifs_occupes"]
    )
    breaks = class_breaks([float(v) for v in communes["taux_potentiel"].dropna()])
    features = []
    for row in communes.to_dict(orient="records"):
        geometry = dossier.diagnosis.geometries.get(str(row["code"]))
        if not geometry:
            continue
        rate = row["taux_potentiel"]
        rate = None if rate is None or rate != rate else float(rate)  # noqa: PLR0124
        description = _(
            "{potential} usagers potentiels estimés sur {active} actifs occupés, soit {rate} "
            "pour 1 000 actifs.",
            potential=format_number(float(row["potentiel"])),
            active=format_number(float(row["actifs_occupes"])),
            rate=format_number(rate) if rate is not None else "—",
        )
        properties: dict[str, Any] = {
            "name": f"{row['nom']} ({row['code']})",
            "description": description,
            column_label("code"): str(row["code"]),
            column_label("nom"): row["nom"],
            column_label("actifs_occupes"): _clean(row["actifs_occupes"], whole=True),
            column_label("potentiel"): _clean(row["potentiel"], whole=True),
            column_label("taux_potentiel"): _clean(rate, whole=True),
            "_umap_options": {
                "color": "#ffffff",
                "weight": 1,
                "fillColor": _colour(rate, breaks),
                "fillOpacity": 0.7,
            },
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return features


def _structure_features(dossier: Dossier) -> list[dict[str, Any]]:
    features = []
    for row in dossier.communities.structures.to_dict(orient="records"):
        geometry = _point(row.get("latitude"), row.get("longitude"))
        if geometry is None:
            continue
        category = str(row.get("categorie") or "")
        themes = value_label("themes", row.get("themes"))
        properties = {
            "name": row.get("nom"),
            "description": " — ".join(
                str(p) for p in (value_label("categorie", category), themes, row.get("raison")) if p
            ),
            column_label("categorie"): value_label("categorie", category),
            column_label("themes"): themes,
            column_label("code_commune"): _clean(row.get("code_commune")),
            column_label("source"): _clean(row.get("source")),
            "_umap_options": {
                "color": _STRUCTURE_COLOURS.get(category, "#444444"),
                "iconClass": "Circle"
                if category in {"tiers_lieu_existant", "point_appui"}
                else "Drop",
            },
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return features


def _site_features(dossier: Dossier) -> list[dict[str, Any]]:
    if dossier.sites is None:
        return []
    unit = dossier.sites.unit
    # The objective's figures are people for the coverage (whole), tonnes otherwise.
    people = dossier.sites.objective == "couverture"
    features = []
    bases = readable_sites(dossier.sites.sites, ["communaute_base"])["communaute_base"].tolist()
    for row, base in zip(dossier.sites.sites.to_dict(orient="records"), bases, strict=True):
        geometry = _point(row.get("latitude"), row.get("longitude"))
        if geometry is None:
            continue
        properties = {
            "name": _("Site {rank} : {name}", rank=row["rang"], name=row["nom"]),
            "description": _(
                "Gain marginal : {gain} {unit}. Thème : {theme}. Communauté-base : {base}.",
                gain=format_number(float(row["gain_marginal"])),
                unit=unit,
                theme=value_label("theme", row.get("theme")) or "—",
                base=base or "—",
            ),
            column_label("rang"): _clean(row["rang"]),
            column_label("code"): str(row["code"]),
            column_label("nom"): row["nom"],
            column_label("valeur"): _clean(row.get("valeur"), whole=people),
            column_label("gain_marginal"): _clean(row.get("gain_marginal"), whole=people),
            column_label("theme"): value_label("theme", row.get("theme")),
            "_umap_options": {"color": "#222222", "iconClass": "Default"},
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return features


def render_umap(dossier: Dossier) -> bytes:
    """Return ``dossier-umap.geojson`` as bytes (UTF-8, WGS84)."""
    features = [
        *_commune_features(dossier),
        *_structure_features(dossier),
        *_site_features(dossier),
    ]
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    warnings = [n for n in dossier.diagnosis.notes if dossier.synthetic or dossier.fictional][:2]
    if warnings:
        collection["properties"] = {"avertissement": " ".join(warnings)}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
