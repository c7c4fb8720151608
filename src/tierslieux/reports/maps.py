"""Self-contained SVG maps (no tiles, no JavaScript: the report works offline)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import Transformer

from tierslieux.i18n import format_number
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd

__all__ = [
    "NO_DATA",
    "PALETTE",
    "Marker",
    "choropleth_svg",
    "class_breaks",
    "indicator_entry",
    "map_legend",
    "polygon_rings",
]

#: Sequential palette, 5 classes (ColorBrewer "YlGnBu", Cynthia Brewer, colorbrewer2.org).
PALETTE: tuple[str, ...] = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
#: Colour of a commune without a value (the web map's ``sans_donnee`` too).
NO_DATA = "#dddddd"
_NO_DATA = NO_DATA
_WIDTH = 720.0


def _tooltip(name: str, code: str, shown: str) -> str:
    """The tooltip of a commune on a map: its name, code and value (escaped)."""
    return html.escape(_("{name} ({code}) : {value}", name=name, code=code, value=shown))


def class_breaks(
    values: Sequence[float], classes: int = len(PALETTE), *, zero_class: bool = False
) -> list[float]:
    """Return the upper bounds of at most ``classes`` quantile classes of ``values``.

    Equal quantiles (many communes at the same value, 0 say) are merged, so that the
    legend never shows empty classes such as « 0 – 0 ».  With ``zero_class``, 0 is a
    class of its own (a demand not covered is not a small covered one), the others
    quantiles of the values above it.
    """
    data = np.asarray([v for v in values if v == v], dtype="float64")  # noqa: PLR0124 (NaN)
    if data.size == 0:
        return []
    if zero_class and (data == 0).any() and (data > 0).any():
        return [0.0, *class_breaks(list(data[data > 0]), classes - 1)]
    quantiles = np.quantile(data, np.linspace(0, 1, classes + 1)[1:])
    return sorted({float(q) for q in quantiles})


def indicator_entry(
    key: str,
    label: str,
    values: Sequence[float | None],
    *,
    unit: str | None = None,
    decimals: int = 0,
    zero_label: str | None = None,
) -> dict[str, Any]:
    """One indicator of a web map's metadata (``web/static/README.md``): its label, unit,
    decimals and class breaks (:func:`class_breaks` on the unrounded values).

    ``zero_label``: 0 is a class of its own, named so in the legend (« 0 (non
    couverte) »: a commune whose demand no site covers has a value, 0, not no data).
    """
    valid = [float(v) for v in values if v is not None and v == v]  # noqa: PLR0124 (NaN)
    entry: dict[str, Any] = {"cle": key, "libelle": label}
    if unit is not None:
        entry["unite"] = unit
    entry |= {
        "decimales": decimals,
        "seuils": class_breaks(valid, zero_class=zero_label is not None),
        "minimum": min(valid) if valid else None,
    }
    if zero_label is not None:
        entry["libelle_zero"] = zero_label
    return entry


def map_legend(indicators: Sequence[Mapping[str, Any]], minutes: float) -> dict[str, Any]:
    """A web map's metadata document: palette, no-data colour, catchment minutes, indicators."""
    return {
        "palette": list(PALETTE),
        "sans_donnee": NO_DATA,
        "minutes_bassin": minutes,
        "indicateurs": list(indicators),
    }


def _shown(value: float | None, decimals: int) -> str:
    if value is None or value != value:  # noqa: PLR0124 (NaN)
        return "—"
    return format_number(float(value), decimals)


def _colour(value: float | None, breaks: Sequence[float]) -> str:
    if value is None or value != value or not breaks:  # noqa: PLR0124 (NaN)
        return _NO_DATA
    for index, upper in enumerate(breaks):
        if value <= upper:
            return PALETTE[index]
    return PALETTE[-1]


def polygon_rings(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    """The rings (outer and holes) of a GeoJSON Polygon or MultiPolygon; [] otherwise."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        return [list(ring) for ring in coords]
    if kind == "MultiPolygon":
        return [list(ring) for polygon in coords for ring in polygon]
    return []


@dataclass(frozen=True)
class Marker:
    """A point drawn over the map: WGS84 coordinates, a short label and a tooltip."""

    latitude: float
    longitude: float
    label: str
    title: str


def choropleth_svg(  # noqa: PLR0913 - keyword-only options of one map
    frame: pd.DataFrame,
    column: str,
    geometries: Mapping[str, Mapping[str, Any]],
    *,
    label: str,
    decimals: int = 0,
    title_column: str = "nom",
    markers: Sequence[Marker] = (),
    no_data_label: str | None = None,
    zero_label: str | None = None,
) -> str:
    """Return an SVG choropleth of ``frame[column]`` by commune (EPSG:2154 projection).

    Communes without a polygon are drawn as circles at their ``latitude``/``longitude``
    when those columns are present.  ``markers`` (chosen sites, say) are drawn on top as
    dark numbered discs at their coordinates.  Missing values are grey; with
    ``no_data_label`` the legend names them (« aucun répondant », say).  With
    ``zero_label`` 0 is a class of its own, so named in the legend (as
    :func:`indicator_entry`).
    """
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    values = {str(c): v for c, v in zip(frame["code"], frame[column], strict=True)}
    titles = {str(c): str(t) for c, t in zip(frame["code"], frame[title_column], strict=True)}
    breaks = class_breaks(
        [float(v) for v in values.values() if v is not None and v == v],  # noqa: PLR0124
        zero_class=zero_label is not None,
    )
    shapes: list[tuple[str, list[np.ndarray]]] = []
    for code in values:
        geometry = geometries.get(code)
        if not geometry:
            continue
        rings = []
        for ring in polygon_rings(geometry):
            array = np.asarray(ring, dtype="float64")[:, :2]
            x, y = to_l93.transform(array[:, 0], array[:, 1])
            rings.append(np.column_stack([x, y]))
        if rings:
            shapes.append((code, rings))
    dots: list[tuple[str, float, float]] = []
    if {"latitude", "longitude"} <= set(frame.columns):
        for code, lat, lon in zip(
            frame["code"], frame["latitude"], frame["longitude"], strict=True
        ):
            if str(code) not in geometries and lat == lat and lon == lon:  # noqa: PLR0124
                x, y = to_l93.transform(float(lon), float(lat))
                dots.append((str(code), float(x), float(y)))
    pins = _project_markers(markers, to_l93)
    all_xy = [r for _c, rings in shapes for r in rings] + [np.array([[x, y]]) for _c, x, y in dots]
    all_xy += [np.array([[x, y]]) for _m, x, y in pins]
    if not all_xy:
        return ""
    stacked = np.vstack(all_xy)
    xmin, ymin = stacked.min(axis=0)
    xmax, ymax = stacked.max(axis=0)
    span = max(xmax - xmin, ymax - ymin, 1.0)
    scale = _WIDTH / span
    height = (ymax - ymin) * scale + 20

    def project(points: np.ndarray) -> str:
        px = (points[:, 0] - xmin) * scale + 10
        py = (ymax - points[:, 1]) * scale + 10
        return "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)) + " Z"

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH + 20:.0f} '
            f'{height:.0f}" role="img" aria-label="{html.escape(label)}" class="carte">'
        )
    ]
    for code, rings in shapes:
        value = values.get(code)
        shown = _shown(value, decimals)
        parts.append(
            f'<path d="{" ".join(project(r) for r in rings)}" fill="{_colour(value, breaks)}" '
            f'fill-rule="evenodd" stroke="#ffffff" stroke-width="0.4">'
            f"<title>{_tooltip(titles.get(code, code), code, shown)}</title></path>"
        )
    for code, x, y in dots:
        value = values.get(code)
        cx, cy = (x - xmin) * scale + 10, (ymax - y) * scale + 10
        shown = _shown(value, decimals)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{_colour(value, breaks)}" '
            f'stroke="#555"><title>{_tooltip(titles.get(code, code), code, shown)}'
            "</title></circle>"
        )
    for marker, x, y in pins:
        cx, cy = (x - xmin) * scale + 10, (ymax - y) * scale + 10
        parts.append(
            f'<g class="repere"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="#222" '
            f'stroke="#fff" stroke-width="1.5"><title>{html.escape(marker.title)}</title>'
            f'</circle><text x="{cx:.1f}" y="{cy + 3.5:.1f}" text-anchor="middle" '
            f'font-size="10" fill="#fff">{html.escape(marker.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts) + _legend(values, breaks, decimals, no_data_label, zero_label)


def _project_markers(
    markers: Sequence[Marker], to_l93: Transformer
) -> list[tuple[Marker, float, float]]:
    """Markers with coordinates, projected to Lambert-93 (others are skipped)."""
    pins = []
    for marker in markers:
        if math.isfinite(marker.latitude) and math.isfinite(marker.longitude):
            x, y = to_l93.transform(float(marker.longitude), float(marker.latitude))
            pins.append((marker, float(x), float(y)))
    return pins


def _legend(
    values: Mapping[str, Any],
    breaks: Sequence[float],
    decimals: int,
    no_data_label: str | None,
    zero_label: str | None = None,
) -> str:
    valid = [float(v) for v in values.values() if v is not None and v == v]  # noqa: PLR0124
    legend = ['<ul class="legende">']
    lower = min(valid) if valid else 0.0
    if valid and min(valid) == max(valid):
        # A single class (every value 0, say): one sentence, not a lone « 0 » class
        # (as static/js/map.js legendRows).
        value = format_number(valid[0], decimals)
        text = (
            _("Toutes les communes renseignées ont la même valeur : {value}", value=value)
            if len(valid) < len(values)
            else _("Toutes les communes ont la même valeur : {value}", value=value)
        )
        colour = _colour(valid[0], breaks)
        legend.append(f'<li><span style="background:{colour}"></span>{html.escape(text)}</li>')
        breaks = []
    # Whole counts: a class of one value (0, say) is followed by « 1 – 4 », not « 0 – 4 »
    # (the next class holds the values above it), as static/js/map.js legendRows.
    whole = decimals == 0 and all(v.is_integer() for v in valid)
    classes = list(zip(PALETTE, breaks, strict=False))
    for index, (colour, upper) in enumerate(classes):
        if zero_label and lower == upper == 0:
            shown = html.escape(zero_label)
        elif lower == upper:
            shown = format_number(upper, decimals)
        else:
            shown = f"{format_number(lower, decimals)} – {format_number(upper, decimals)}"
        legend.append(f'<li><span style="background:{colour}"></span>{shown}</li>')
        following = classes[index + 1][1] if index + 1 < len(classes) else None
        step = whole and lower == upper and following is not None and following >= upper + 1
        lower = upper + 1 if step else upper
    if no_data_label and len(valid) < len(values):
        legend.append(
            f'<li><span style="background:{_NO_DATA}"></span>{html.escape(no_data_label)}</li>'
        )
    legend.append("</ul>")
    return "".join(legend)
