"""``dossier.gpkg``: the dossier's layers for QGIS, each with its style stored inside.

Layers (EPSG:4326): ``communes`` (polygons with the indicators and the rate per 1,000
active residents), ``bassins_20min`` (the catchment of each chosen site: the union of
the communes it covers), ``bassins_de_vie``, ``intercommunalites`` and
``departement`` (outlines), ``structures`` (four steps), ``lieux_existants``
(tiers-lieux, stations, France Services), ``sites`` (numbered as in the tables) and
``couverture`` (communes and the site that covers them).

Styles: QGIS reads the ``layer_styles`` table of a GeoPackage (the QGIS GeoPackage
styling extension, https://github.com/pka/qgpkg/blob/master/qgis_geopackage_extension.md:
``f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,
styleQML, styleSLD, useAsDefault, description, owner, ui, update_time``) and applies
the default style of a layer when it is opened, so the layers open coloured.  The
table is also registered in ``gpkg_contents`` as an attribute table, as QGIS does.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyogrio.raw
from shapely import to_wkb
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import INDICATORS
from tierslieux.reports.dossier.tables import rate_per_thousand, readable_sites
from tierslieux.reports.labels import readable_frame
from tierslieux.reports.maps import PALETTE, class_breaks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

    from tierslieux.pipeline.dossier import Dossier

__all__ = ["GPKG_CRS", "LAYER_STYLES_COLUMNS", "render_geopackage"]

GPKG_CRS = "EPSG:4326"
#: Columns of QGIS's layer_styles table, in its order.
LAYER_STYLES_COLUMNS = (
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
)
_GEOMETRY_COLUMN = "geom"
_ANCHORS = frozenset({"tiers_lieu_existant", "point_appui"})


@dataclass(frozen=True)
class _Layer:
    name: str
    frame: pd.DataFrame
    geometries: list[Any]
    kind: str  # Polygon or Point
    qml: str
    description: str


# -- QML -------------------------------------------------------------------------------


def _rgba(colour: str, alpha: int = 255) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _options(values: dict[str, str]) -> str:
    inner = "".join(
        f'<Option type="QString" name="{escape(k)}" value="{escape(v)}"/>'
        for k, v in values.items()
    )
    return f'<Option type="Map">{inner}</Option>'


def _fill_symbol(name: str, fill: str, outline: str, width: float, *, no_fill: bool = False) -> str:
    options = {
        "color": _rgba(fill, 0 if no_fill else 255),
        "style": "no" if no_fill else "solid",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{width}",
        "outline_width_unit": "MM",
    }
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{_options(options)}</layer>'
        "</symbol>"
    )


def _marker_symbol(name: str, fill: str, shape_name: str, size: float) -> str:
    options = {
        "color": _rgba(fill),
        "name": shape_name,
        "outline_color": "255,255,255,255",
        "outline_width": "0.3",
        "size": f"{size}",
        "size_unit": "MM",
    }
    return (
        f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">{_options(options)}</layer>'
        "</symbol>"
    )


def _labeling(field: str, size: float = 8.0) -> str:
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{escape(field)}" fontSize="{size}" textColor="0,0,0,255" '
        'fontFamily="Sans Serif" isExpression="0" namedStyle="Normal">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        "</text-style>"
        '<placement placement="0" dist="1"/>'
        '<rendering obstacle="1" scaleVisibility="0"/>'
        "</settings></labeling>"
    )


def _qml(renderer: str, labeling: str = "") -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28.0" styleCategories="Symbology|Labeling">'
        f"{renderer}{labeling}</qgis>"
    )


def _single(symbol: str) -> str:
    return (
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{symbol}</symbols></renderer-v2>"
    )


def _graduated(field: str, values: Sequence[float]) -> str:
    breaks = class_breaks(values)
    lower = min(values) if len(values) else 0.0
    ranges, symbols = [], []
    for index, upper in enumerate(breaks):
        label = f"{lower:.0f} – {upper:.0f}"
        ranges.append(
            f'<range lower="{lower}" upper="{upper}" symbol="{index}" '
            f'label="{escape(label)}" render="true"/>'
        )
        symbols.append(_fill_symbol(str(index), PALETTE[index], "#ffffff", 0.2))
        lower = upper
    return (
        f'<renderer-v2 type="graduatedSymbol" attr="{escape(field)}" '
        'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )


def _categorized(field: str, categories: dict[str, tuple[str, str]]) -> str:
    """Markers by category: value -> (colour, QGIS shape name)."""
    cats, symbols = [], []
    for index, (value, (colour, shape_name)) in enumerate(categories.items()):
        cats.append(
            f'<category value="{escape(value)}" symbol="{index}" label="{escape(value)}" '
            'render="true"/>'
        )
        symbols.append(_marker_symbol(str(index), colour, shape_name, 2.6))
    return (
        f'<renderer-v2 type="categorizedSymbol" attr="{escape(field)}" symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{''.join(cats)}</categories><symbols>{''.join(symbols)}</symbols>"
        "</renderer-v2>"
    )


# -- layers ----------------------------------------------------------------------------


def _geometry(geojson: dict[str, Any] | None) -> BaseGeometry | None:
    return None if not geojson else shape(geojson)


def _points(frame: pd.DataFrame) -> list[Any]:
    points: list[Any] = []
    for lat, lon in zip(
        pd.to_numeric(frame["latitude"], errors="coerce"),
        pd.to_numeric(frame["longitude"], errors="coerce"),
        strict=True,
    ):
        points.append(Point(float(lon), float(lat)) if lat == lat and lon == lon else None)  # noqa: PLR0124
    return points


def _communes_layer(dossier: Dossier) -> _Layer:
    communes = dossier.diagnosis.communes.copy()
    communes["taux_potentiel"] = rate_per_thousand(
        communes["potentiel"], communes["actifs_occupes"]
    )
    frame = readable_frame(
        communes,
        [
            "code",
            "nom",
            *INDICATORS,
            "taux_potentiel",
            "epci",
            "bv2022",
            "densite_libelle",
            "rural",
        ],
    )
    geometries = [_geometry(dossier.diagnosis.geometries.get(str(c))) for c in frame["code"]]
    values = [float(v) for v in frame["taux_potentiel"].dropna()]
    return _Layer(
        "communes",
        frame,
        geometries,
        "Polygon",
        _qml(_graduated("taux_potentiel", values), _labeling("nom", 7)),
        _("Communes : usagers potentiels et taux pour 1 000 actifs occupés"),
    )


def _outline_layer(
    dossier: Dossier, column: str, name: str, description: str, width: float
) -> _Layer | None:
    zones = dossier.outlines.get(column)
    if not zones:
        return None
    names = dossier.zone_names.get(column, {})
    codes = sorted(zones)
    frame = pd.DataFrame({"code": codes, "nom": [names.get(c, c) for c in codes]})
    if column == "bv2022" and dossier.diagnosis.bassins is not None:
        bassins = dossier.diagnosis.bassins.set_index("code")
        for indicator in ("actifs_occupes", "potentiel"):
            if indicator in bassins.columns:
                frame[indicator] = frame["code"].map(bassins[indicator]).astype("float64")
    return _Layer(
        name,
        frame,
        [shape(zones[c]) for c in codes],
        "Polygon",
        _qml(
            _single(_fill_symbol("0", "#000000", "#333333", width, no_fill=True)),
            _labeling("nom", 9),
        ),
        description,
    )


def _structure_layers(dossier: Dossier) -> list[_Layer]:
    structures = dossier.communities.structures
    if structures.empty:
        return []
    anchors = structures["categorie"].isin(_ANCHORS)
    columns = ["identifiant", "nom", "categorie", "themes", "code_commune", "source", "raison"]
    layers = []
    for name, part, description in (
        ("structures", structures[~anchors], _("Structures des quatre étapes de l'étude")),
        ("lieux_existants", structures[anchors], _("Tiers-lieux existants et points d'appui")),
    ):
        if part.empty:
            continue
        frame = readable_frame(part.reset_index(drop=True), columns)
        colours = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#666666")
        shapes = ("circle", "square", "diamond", "triangle", "star", "pentagon", "cross")
        cats = {
            str(v): (colours[i % len(colours)], shapes[i % len(shapes)])
            for i, v in enumerate(sorted(frame["categorie"].dropna().astype(str).unique()))
        }
        layers.append(
            _Layer(
                name,
                frame,
                _points(part.reset_index(drop=True)),
                "Point",
                _qml(_categorized("categorie", cats)),
                description,
            )
        )
    return layers


def _site_layers(dossier: Dossier) -> list[_Layer]:
    result = dossier.sites
    if result is None:
        return []
    sites = result.sites.reset_index(drop=True)
    frame = readable_sites(
        sites,
        ["rang", "code", "nom", "valeur", "gain_marginal", "theme", "communaute_base", "impose"],
    )
    layers = [
        _Layer(
            "sites",
            frame,
            _points(sites),
            "Point",
            _qml(_single(_marker_symbol("0", "#222222", "circle", 5.0)), _labeling("rang", 9)),
            _("Sites d'expérimentation, numérotés comme dans les tableaux"),
        )
    ]
    coverage = result.coverage
    geometries = dossier.diagnosis.geometries
    site_column = next((c for c in ("site", "code_site") if c in coverage.columns), None)
    commune_column = next(
        (c for c in ("commune", "code_commune", "code") if c in coverage.columns), None
    )
    if site_column is not None and commune_column is not None and not coverage.empty:
        cov = readable_frame(coverage.reset_index(drop=True))
        layers.append(
            _Layer(
                "couverture",
                cov,
                [_geometry(geometries.get(str(c))) for c in coverage[commune_column]],
                "Polygon",
                _qml(_single(_fill_symbol("0", "#2c7fb8", "#ffffff", 0.2))),
                _("Communes couvertes par les sites"),
            )
        )
        rows, shapes_ = [], []
        names = dict(zip(sites["code"].astype(str), sites["nom"].astype(str), strict=True))
        ranks = dict(zip(sites["code"].astype(str), sites["rang"], strict=True))
        for site, group in coverage.groupby(coverage[site_column].astype(str)):
            parts = [
                shape(geometries[str(c)]).buffer(0)
                for c in group[commune_column].astype(str)
                if str(c) in geometries
            ]
            if parts:
                rows.append(
                    {
                        "rang": ranks.get(site),
                        "code": site,
                        "nom": names.get(site, site),
                        "nb_communes": len(group),
                    }
                )
                shapes_.append(unary_union(parts))
        if rows:
            layers.append(
                _Layer(
                    "bassins_20min",
                    pd.DataFrame(rows),
                    shapes_,
                    "Polygon",
                    _qml(
                        _single(_fill_symbol("0", "#000000", "#c0392b", 0.6, no_fill=True)),
                        _labeling("nom", 8),
                    ),
                    _("Bassin de {m} minutes de chaque site", m=f"{dossier.minutes:g}"),
                )
            )
    return layers


def _layers(dossier: Dossier) -> list[_Layer]:
    layers = [_communes_layer(dossier)]
    for column, name, description, width in (
        ("bv2022", "bassins_de_vie", _("Bassins de vie 2022 (Insee)"), 0.5),
        ("epci", "intercommunalites", _("Intercommunalités (EPCI)"), 0.7),
        ("dep", "departement", _("Département"), 1.0),
    ):
        layer = _outline_layer(dossier, column, name, description, width)
        if layer is not None:
            layers.append(layer)
    return [*layers, *_structure_layers(dossier), *_site_layers(dossier)]


# -- writing ---------------------------------------------------------------------------


def _field(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("int32").to_numpy()
    if pd.api.types.is_integer_dtype(series) and not series.isna().any():
        return series.astype("int64").to_numpy()
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    return np.asarray(
        [None if v is None or v is pd.NA or v != v else str(v) for v in series],  # noqa: PLR0124
        dtype=object,
    )


def _write_layer(path: Path, layer: _Layer, *, append: bool) -> None:
    keep = [g is not None and not g.is_empty for g in layer.geometries]
    frame = layer.frame[keep].reset_index(drop=True)
    geometries = [g for g, k in zip(layer.geometries, keep, strict=True) if k]
    if layer.kind == "Polygon":
        from shapely.geometry import MultiPolygon  # noqa: PLC0415

        geometries = [MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geometries]
    wkb = np.asarray([to_wkb(g) for g in geometries], dtype=object)
    fields = [str(c) for c in frame.columns]
    pyogrio.raw.write(
        str(path),
        wkb,
        [_field(frame[c]) for c in fields],
        fields,
        layer=layer.name,
        driver="GPKG",
        geometry_type="MultiPolygon" if layer.kind == "Polygon" else "Point",
        crs=GPKG_CRS,
        encoding="UTF-8",
        append=append,
        layer_options={"GEOMETRY_NAME": _GEOMETRY_COLUMN, "DESCRIPTION": layer.description},
    )


def _write_styles(path: Path, layers: Sequence[_Layer]) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            'CREATE TABLE IF NOT EXISTS "layer_styles" ('
            '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "f_table_catalog" TEXT(256), '
            '"f_table_schema" TEXT(256), "f_table_name" TEXT(256), "f_geometry_column" TEXT(256), '
            '"styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, "useAsDefault" BOOLEAN, '
            '"description" TEXT, "owner" TEXT(30), "ui" TEXT(30), "update_time" DATETIME)'
        )
        connection.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)",
            (now,),
        )
        connection.executemany(
            'INSERT INTO "layer_styles" ("f_table_catalog", "f_table_schema", "f_table_name", '
            '"f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault", '
            '"description", "owner", "ui", "update_time") '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    "",
                    "",
                    layer.name,
                    _GEOMETRY_COLUMN,
                    layer.name,
                    layer.qml,
                    "",
                    1,
                    layer.description,
                    "tierslieux",
                    None,
                    now,
                )
                for layer in layers
            ],
        )
        connection.commit()
    finally:
        connection.close()


def render_geopackage(dossier: Dossier) -> bytes:
    """Return ``dossier.gpkg`` as bytes (built in a temporary file: GDAL needs one)."""
    layers = _layers(dossier)
    with tempfile.TemporaryDirectory(prefix="tierslieux-gpkg-") as folder:
        path = Path(folder) / "dossier.gpkg"
        written: list[_Layer] = []
        for layer in layers:
            if any(g is not None and not g.is_empty for g in layer.geometries):
                _write_layer(path, layer, append=bool(written))
                written.append(layer)
        _write_styles(path, written)
        return path.read_bytes()
