"""Base-community directory: structures.csv/.geojson, communities.csv and its HTML page.

:func:`render_communities` returns the page, :func:`communities_files` every file as
bytes, :func:`write_communities` writes them into a folder, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from tierslieux import __version__
from tierslieux.files import frame_spreadsheet_csv, write_output_files
from tierslieux.i18n import gettext as _
from tierslieux.model.catchment import definition_label
from tierslieux.model.structures import CATEGORIES, OPENNESS_LABELS, category_labels
from tierslieux.reports.geojson import feature_collection, geojson_bytes
from tierslieux.reports.maps import PALETTE, class_breaks
from tierslieux.reports.templates import render_page, split_notes

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    import pandas as pd

    from tierslieux.pipeline import Communities

__all__ = [
    "STEP_COLOURS",
    "communities_files",
    "communities_map",
    "directory_files",
    "render_communities",
    "structure_points",
    "write_communities",
]

#: Rows shown in the page's tables (the CSV files keep every row).
_SHOWN_COMMUNES = 50
_SHOWN_STRUCTURES = 100


def render_geojson(result: Communities) -> bytes:
    """Return ``structures.geojson``: one point per structure (``null`` if not located)."""
    return geojson_bytes(feature_collection(result.structures, key="identifiant"))


def _sources(result: Communities) -> dict[str, Any]:
    return {
        "outil": f"tierslieux {__version__}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "territoire": result.territory_label,
        "minutes_bassin": result.minutes,
        "definition_bassin": result.definition,
        "definition_bassin_texte": definition_label(result.definition, result.minutes),
        "communes_voisines": list(result.neighbours),
        "moteur_temps_de_trajet": result.engine,
        "entrees": [p.to_dict() for p in result.provenance],
        "notes": list(result.notes),
    }


def render_communities(result: Communities) -> str:
    """Return the self-contained HTML page of the directory (nothing is written)."""
    communities = result.communities
    structures = result.structures
    labels = category_labels()
    counts = structures["categorie"].value_counts() if len(structures) else None
    categories = [
        (labels.get(name, name), int(counts.get(name, 0)) if counts is not None else 0)
        for name in CATEGORIES
    ]
    with_base = (
        int(communities["communaute_base"].fillna(value=False).astype(bool).sum())
        if "communaute_base" in communities.columns
        else 0
    )
    openness = (
        [
            (_(label), int((communities["ouverture"] == level).sum()))
            for level, label in OPENNESS_LABELS.items()
        ]
        if "ouverture" in communities.columns
        else []
    )
    ranked = (
        communities.sort_values(
            ["nb_structures_communaute", "nom"], ascending=[False, True], kind="stable"
        )
        if "nb_structures_communaute" in communities.columns
        else communities
    )
    warnings, notes = split_notes(result.notes)
    return render_page(
        "communities.html",
        c=result,
        warnings=warnings,
        notes=notes,
        categories=categories,
        category_labels=labels,
        with_base=with_base,
        openness=openness,
        openness_labels=OPENNESS_LABELS,
        communes=ranked.head(_SHOWN_COMMUNES).to_dict(orient="records"),
        structures=structures.head(_SHOWN_STRUCTURES).to_dict(orient="records"),
        definition_text=definition_label(result.definition, result.minutes),
    )


def communities_files(result: Communities) -> list[tuple[str, bytes]]:
    """Return every output file of the directory as ``(name, bytes)``, in memory.

    ``structures.csv`` and ``communities.csv`` are written for spreadsheets (text
    cells that look like formulas are guarded:
    :func:`tierslieux.files.frame_spreadsheet_csv`; ``tierslieux sites`` and
    ``contacts load`` remove the guard when they read them back).
    """
    return [
        ("structures.csv", frame_spreadsheet_csv(result.structures)),
        ("structures.geojson", render_geojson(result)),
        ("communities.csv", frame_spreadsheet_csv(result.communities)),
        (
            "sources.json",
            json.dumps(_sources(result), ensure_ascii=False, indent=2).encode("utf-8"),
        ),
        ("communities.html", render_communities(result).encode("utf-8")),
    ]


def write_communities(result: Communities, out: Path) -> list[Path]:
    """Render then write the files of :func:`communities_files` into ``out`` (all or
    nothing); return the paths written, sorted by name.
    """
    return sorted(write_output_files(out, communities_files(result), owner="communities"))


#: Colour of each step of the study on the directory's map (colour-blind safe, Okabe-Ito).
STEP_COLOURS: dict[str, str] = {
    "1": "#0072b2",
    "2": "#009e73",
    "3": "#e69f00",
    "4": "#cc79a7",
    "ancrages": "#555555",
}
#: Figures of each commune offered on the directory's map (column -> decimals).
_MAP_FIGURES = ("nb_structures_communaute", "nb_partenaires", "nb_ancrages", "nb_types")


def _map_labels() -> dict[str, str]:
    return {
        "nb_structures_communaute": _("Structures de la communauté-base à portée (étapes 1, 2, 4)"),
        "nb_partenaires": _("Partenaires à portée (étape 3)"),
        "nb_ancrages": _("Ancrages à portée (tiers-lieux, points d'appui)"),
        "nb_types": _("Types de porteurs différents à portée"),
    }


def _openness(code: str) -> str:
    return _(OPENNESS_LABELS[code]) if code in OPENNESS_LABELS else str(code)


def communities_map(result: Communities, geometries: Mapping[str, Mapping[str, Any]]) -> bytes:
    """Return ``communes.geojson`` of the directory: each commune of the territory with its
    base community's figures (the columns of ``communities.csv``) and the map metadata
    (foreign member ``indicateurs_carte``: labels and class breaks, see map.js).
    """
    communities = result.communities
    present = [c for c in _MAP_FIGURES if c in communities.columns]
    frame = communities[["code", "nom", *present, "ouverture"]].copy()
    frame["ouverture"] = frame["ouverture"].map(_openness)
    labels = _map_labels()
    metadata = {
        "palette": list(PALETTE),
        "sans_donnee": "#dddddd",
        "minutes_bassin": result.minutes,
        "indicateurs": [
            {
                "cle": column,
                "libelle": labels[column],
                "decimales": 0,
                "seuils": class_breaks([float(v) for v in communities[column].dropna()]),
            }
            for column in present
        ],
    }
    collection = feature_collection(
        frame, geometries=geometries, extra={"indicateurs_carte": metadata}
    )
    return geojson_bytes(collection)


def directory_files(
    result: Communities, geometries: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, bytes]]:
    """The files of :func:`communities_files` plus the map of communes
    (:func:`communities_map`): what the web application keeps of a directory run.
    """
    return [*communities_files(result), ("communes.geojson", communities_map(result, geometries))]


def structure_points(
    structures: pd.DataFrame, *, link: Callable[[str], str], step_labels: Mapping[str, str]
) -> bytes:
    """Return the GeoJSON points of a directory's structures for the map (map.js's
    ``data-points-url``): ``nom``, ``libelle`` (category), ``etape``, ``etape_libelle``,
    ``couleur`` (:data:`STEP_COLOURS`), ``commune`` and ``lien`` (the contact page).
    """
    columns = ["identifiant", "nom", "categorie_libelle", "etape", "commune"]
    frame = structures[[*columns, "latitude", "longitude"]].rename(
        columns={"categorie_libelle": "libelle"}
    )
    frame = frame.assign(
        etape_libelle=frame["etape"].map(lambda s: step_labels.get(s, s)),
        couleur=frame["etape"].map(lambda s: STEP_COLOURS.get(s, "#000000")),
        lien=frame["identifiant"].map(link),
    )
    collection = feature_collection(
        frame.drop(columns=["latitude", "longitude"]).assign(
            latitude=frame["latitude"], longitude=frame["longitude"]
        ),
        key="identifiant",
    )
    for feature in collection["features"]:
        feature["properties"].pop("latitude", None)
        feature["properties"].pop("longitude", None)
    return geojson_bytes(collection)
