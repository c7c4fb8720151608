"""Maps made for print (SVG, A4, black and white as well as colour).

Each map has a title and a legend with its unit, a scale bar and a north arrow; the
outlines of the département, the EPCI and the bassins de vie; the names of the
communes where they fit (always those of the chosen sites and the main towns); the
structures and existing places with their own symbols (shapes, not only colours, so
the map reads in black and white); the sites numbered as in the tables.  Lambert-93
projection (EPSG:2154), as the other maps of the project.  No tile is drawn by
default; an optional tile basemap (``basemap``: OpenStreetMap, IGN…) is fetched and
warped into the map's frame by :mod:`~tierslieux.reports.dossier.basemap`, and the map
is drawn without it when its tiles cannot be loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import Transformer
from shapely.geometry import shape

from tierslieux.i18n import format_number
from tierslieux.reports.dossier.basemap import Basemap, basemap_image
from tierslieux.reports.maps import PALETTE, class_breaks, polygon_rings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["Layer", "PrintMap", "Symbol", "print_map_svg"]

_WIDTH = 680.0  # map frame, in SVG units (about 17 cm on the page)
_MARGIN = 8.0
_LEGEND_WIDTH = 0.0
_NO_DATA = "#ffffff"
#: Marker shapes by category: shape, fill (the shape alone tells them apart in grey).
SYMBOLS: dict[str, tuple[str, str]] = {
    "cae": ("circle", "#1b9e77"),
    "scop_scic_tic": ("square", "#d95f02"),
    "acteur_developpement": ("diamond", "#7570b3"),
    "association_teleactivites": ("triangle", "#e7298a"),
    "association_vie_quotidienne": ("triangle-down", "#66a61e"),
    "tiers_lieu_existant": ("star", "#000000"),
    "point_appui": ("cross", "#444444"),
}
_OUTLINES = {"dep": (1.6, "none"), "epci": (0.9, "4 2"), "bv2022": (0.6, "1.5 1.5")}


@dataclass(frozen=True)
class Symbol:
    """A point drawn on the map: WGS84 position, category (its shape) and a label."""

    latitude: float
    longitude: float
    category: str
    label: str = ""


@dataclass(frozen=True)
class Layer:
    """An outline layer: zone code -> GeoJSON geometry (WGS84), and its legend text."""

    key: str
    legend: str
    zones: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class PrintMap:
    """What one printed map shows.

    ``values`` colour the communes (quantile classes, light to dark so that they print
    in grey); ``circles`` draw proportional circles (counts beside a rate);
    ``categories`` colour communes by a category instead (code -> (fill, label)).
    """

    title: str
    legend_title: str
    unit: str
    geometries: Mapping[str, Mapping[str, Any]]
    names: Mapping[str, str]
    values: Mapping[str, float | None] = field(default_factory=dict)
    decimals: int = 0
    circles: Mapping[str, float] = field(default_factory=dict)
    circles_title: str = ""
    categories: Mapping[str, str] = field(default_factory=dict)
    category_styles: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    outlines: Sequence[Layer] = ()
    symbols: Sequence[Symbol] = ()
    symbol_labels: Mapping[str, str] = field(default_factory=dict)
    sites: Sequence[Symbol] = ()
    sites_legend: str = ""
    always_named: Sequence[str] = ()
    #: Communes whose name goes below their point (the site's disc is on it).
    offset_named: Sequence[str] = ()
    #: Optional tile basemap (:class:`~.basemap.Basemap`), drawn when its tiles load.
    basemap: Basemap | None = None


def _nice(length: float) -> float:
    """A round length (1, 2 or 5 × 10^n) not above ``length``."""
    if length <= 0:
        return 1.0
    power = float(10 ** math.floor(math.log10(length)))
    for step in (5.0, 2.0, 1.0):
        if step * power <= length:
            return step * power
    return power


def _marker(shape_name: str, x: float, y: float, r: float, fill: str) -> str:
    stroke = 'stroke="#000" stroke-width="0.6"'
    if shape_name == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" {stroke}/>'
    if shape_name == "square":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
            f'height="{2 * r:.1f}" fill="{fill}" {stroke}/>'
        )
    points: list[tuple[float, float]]
    if shape_name == "diamond":
        points = [(x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y)]
    elif shape_name == "triangle":
        points = [(x, y - r * 1.3), (x + r * 1.2, y + r), (x - r * 1.2, y + r)]
    elif shape_name == "triangle-down":
        points = [(x, y + r * 1.3), (x + r * 1.2, y - r), (x - r * 1.2, y - r)]
    elif shape_name == "star":
        points = []
        for i in range(10):
            radius = r * 1.5 if i % 2 == 0 else r * 0.6
            angle = math.pi / 2 + i * math.pi / 5
            points.append((x + radius * math.cos(angle), y - radius * math.sin(angle)))
    else:  # cross
        w = r * 0.45
        return (
            f'<path d="M{x - r:.1f},{y - w:.1f} H{x - w:.1f} V{y - r:.1f} H{x + w:.1f} '
            f"V{y - w:.1f} "
            f"H{x + r:.1f} V{y + w:.1f} H{x + w:.1f} V{y + r:.1f} H{x - w:.1f} V{y + w:.1f} "
            f'H{x - r:.1f} Z" fill="{fill}" {stroke}/>'
        )
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
    return f'<polygon points="{path}" fill="{fill}" {stroke}/>'


def _colour(value: float | None, breaks: Sequence[float]) -> str:
    if value is None or value != value or not breaks:  # noqa: PLR0124
        return _NO_DATA
    for index, upper in enumerate(breaks):
        if value <= upper:
            return PALETTE[index]
    return PALETTE[-1]


class _Frame:
    """Projection of WGS84 points into the SVG frame (Lambert-93, north up)."""

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self.to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
        stacked = np.vstack(arrays) if arrays else np.zeros((1, 2))
        self.xmin, self.ymin = stacked.min(axis=0)
        self.xmax, self.ymax = stacked.max(axis=0)
        span_x = max(self.xmax - self.xmin, 1.0)
        span_y = max(self.ymax - self.ymin, 1.0)
        self.scale = min(_WIDTH / span_x, (_WIDTH * 1.05) / span_y)
        self.width = span_x * self.scale + 2 * _MARGIN
        self.height = span_y * self.scale + 2 * _MARGIN

    def lambert(self, ring: Sequence[Sequence[float]]) -> np.ndarray:
        array = np.asarray(ring, dtype="float64")[:, :2]
        x, y = self.to_l93.transform(array[:, 0], array[:, 1])
        return np.column_stack([x, y])

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.xmin) * self.scale + _MARGIN, (self.ymax - y) * self.scale + _MARGIN

    def path(self, rings: Sequence[np.ndarray]) -> str:
        parts = []
        for ring in rings:
            px = (ring[:, 0] - self.xmin) * self.scale + _MARGIN
            py = (self.ymax - ring[:, 1]) * self.scale + _MARGIN
            parts.append(
                "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)) + " Z"
            )
        return " ".join(parts)

    def point(self, lat: float, lon: float) -> tuple[float, float] | None:
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        x, y = self.to_l93.transform(lon, lat)
        return self.xy(float(x), float(y))


def _label_boxes_overlap(
    box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]
) -> bool:
    x0, y0, x1, y1 = box
    return any(not (x1 < a0 or x0 > a1 or y1 < b0 or y0 > b1) for a0, b0, a1, b1 in boxes)


def print_map_svg(spec: PrintMap) -> str:  # noqa: C901, PLR0912, PLR0915 (one drawing, in order)
    """Return the SVG of ``spec``: the map, then its legend, scale bar and north arrow."""
    projected: dict[str, list[np.ndarray]] = {}
    frame_probe = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    for code, geometry in spec.geometries.items():
        rings = []
        for ring in polygon_rings(geometry):
            array = np.asarray(ring, dtype="float64")[:, :2]
            x, y = frame_probe.transform(array[:, 0], array[:, 1])
            rings.append(np.column_stack([x, y]))
        if rings:
            projected[code] = rings
    if not projected:
        return ""
    frame = _Frame([r for rings in projected.values() for r in rings])
    parts: list[str] = []
    href = (
        None
        if spec.basemap is None
        else basemap_image(
            spec.basemap,
            xmin=float(frame.xmin),
            ymax=float(frame.ymax),
            scale=float(frame.scale),
            margin=_MARGIN,
            width=frame.width,
            height=frame.height,
        )
    )
    if href is not None:
        parts.append(
            f'<image href="{href}" x="0" y="0" width="{frame.width:.1f}" '
            f'height="{frame.height:.1f}" preserveAspectRatio="none"/>'
        )
    # Over a basemap the communes' colours are see-through, so the roads show.
    opacity = ' fill-opacity="0.55"' if href is not None else ""
    values = [float(v) for v in spec.values.values() if v is not None and v == v]  # noqa: PLR0124
    breaks = class_breaks(values)
    # communes
    for code, rings in projected.items():
        if spec.categories:
            fill = spec.category_styles.get(spec.categories.get(code, ""), (_NO_DATA, ""))[0]
        else:
            fill = _colour(spec.values.get(code), breaks)
        title = escape(spec.names.get(code, code))
        parts.append(
            f'<path d="{frame.path(rings)}" fill="{fill}"{opacity} fill-rule="evenodd" '
            f'stroke="#777" stroke-width="0.3"><title>{title}</title></path>'
        )
    # outlines: bassins de vie, EPCI, département (widest last, on top)
    for layer in sorted(spec.outlines, key=lambda item: _OUTLINES.get(item.key, (0.5, ""))[0]):
        width, dash = _OUTLINES.get(layer.key, (0.5, "none"))
        for geometry in layer.zones.values():
            rings = [frame.lambert(r) for r in polygon_rings(geometry)]
            if rings:
                dash_attr = "" if dash == "none" else f' stroke-dasharray="{dash}"'
                parts.append(
                    f'<path d="{frame.path(rings)}" fill="none" stroke="#000" '
                    f'stroke-width="{width}"{dash_attr}/>'
                )
    # proportional circles
    if spec.circles:
        largest = max((v for v in spec.circles.values() if v > 0), default=0.0)
        for code, value in sorted(spec.circles.items(), key=lambda item: -item[1]):
            outline = spec.geometries.get(code)
            if not outline or value <= 0 or largest <= 0:
                continue
            centre = shape(outline).representative_point()
            xy = frame.point(centre.y, centre.x)
            if xy is None:
                continue
            radius = 14.0 * math.sqrt(value / largest)
            parts.append(
                f'<circle cx="{xy[0]:.1f}" cy="{xy[1]:.1f}" r="{radius:.1f}" fill="none" '
                'stroke="#000" stroke-width="0.8"/>'
            )
    # symbols (structures, existing places); several at one place (a commune's centre)
    # are spread on a small ring around it, so that each stays visible
    # (a site's numbered disc, drawn last, would hide a symbol at its place: the
    # symbols there go on a wider ring around the disc)
    site_points = [frame.point(site.latitude, site.longitude) for site in spec.sites]
    site_keys = {(round(p[0]), round(p[1])) for p in site_points if p is not None}
    placed: dict[tuple[int, int], int] = {}
    for symbol in spec.symbols:
        xy = frame.point(symbol.latitude, symbol.longitude)
        if xy is None:
            continue
        key = (round(xy[0]), round(xy[1]))
        at_site = key in site_keys
        rank = placed.get(key, 1 if at_site else 0)
        placed[key] = rank + 1
        x, y = xy
        if rank:
            angle = rank * 2 * math.pi / 6
            spread = 14.0 if at_site else 9.0
            x, y = x + spread * math.cos(angle), y + spread * math.sin(angle)
        shape_name, fill = SYMBOLS.get(symbol.category, ("circle", "#888888"))
        parts.append(_marker(shape_name, x, y, 4.2, fill))
    # names: always-named first (sites, main towns), then those that fit
    boxes: list[tuple[float, float, float, float]] = []
    site_boxes = []
    for site in spec.sites:
        xy = frame.point(site.latitude, site.longitude)
        if xy is not None:
            site_boxes.append((xy[0] - 9, xy[1] - 9, xy[0] + 9, xy[1] + 9))
    boxes.extend(site_boxes)
    ordered = list(dict.fromkeys([*spec.always_named, *projected]))
    labels: list[str] = []
    for code in ordered:
        name = spec.names.get(code)
        commune = spec.geometries.get(code)
        if not name or not commune:
            continue
        polygon = shape(commune)
        centre = polygon.representative_point()
        xy = frame.point(centre.y, centre.x)
        if xy is None:
            continue
        # About 6.5 and 5.5 points on the printed page (the map is about 18 cm wide).
        size = 9.0 if code in spec.always_named else 7.5
        text_width = len(name) * size * 0.52
        minx, miny, maxx, maxy = polygon.bounds
        corner_a = frame.point(miny, minx)
        corner_b = frame.point(maxy, maxx)
        fits = (
            corner_a is not None
            and corner_b is not None
            and abs(corner_b[0] - corner_a[0]) >= text_width * 0.9
            and abs(corner_a[1] - corner_b[1]) >= size * 1.2
        )
        if code not in spec.always_named and not fits:
            continue
        if code in spec.offset_named:
            xy = (xy[0], xy[1] + 18)  # below the site's numbered disc
        elif spec.symbols:
            xy = (xy[0], xy[1] - 8)  # above the symbols drawn at the commune's centre
        box = (xy[0] - text_width / 2, xy[1] - size, xy[0] + text_width / 2, xy[1] + 2)
        if _label_boxes_overlap(box, boxes) and code not in spec.always_named:
            continue
        boxes.append(box)
        weight = ' font-weight="bold"' if code in spec.always_named else ""
        # A white halo drawn first, then the black text (paint-order is not honoured
        # by every renderer: WeasyPrint would paint the stroke over the letters).
        attributes = f'x="{xy[0]:.1f}" y="{xy[1]:.1f}" text-anchor="middle" font-size="{size}"'
        labels.append(
            f'<text {attributes}{weight} fill="#fff" stroke="#fff" stroke-width="2.2">'
            f"{escape(name)}</text>"
            f'<text {attributes}{weight} fill="#000">{escape(name)}</text>'
        )
    parts.extend(labels)
    # sites, numbered as in the tables
    for site in spec.sites:
        xy = frame.point(site.latitude, site.longitude)
        if xy is not None:
            parts.append(
                f'<circle cx="{xy[0]:.1f}" cy="{xy[1]:.1f}" r="8" fill="#000" stroke="#fff" '
                f'stroke-width="1.5"/><text x="{xy[0]:.1f}" y="{xy[1] + 3.3:.1f}" '
                f'text-anchor="middle" font-size="9.5" font-weight="bold" fill="#fff">'
                f"{escape(site.label)}</text>"
            )
    # scale bar and north arrow
    metres = _nice(frame.width / frame.scale / 5)
    bar = metres * frame.scale
    x0, y0 = _MARGIN + 4, frame.height - 10
    km = metres / 1000
    scale_text = f"{format_number(km, 0 if km >= 1 else 1)} km"
    parts.append(
        '<g class="echelle">'
        f'<rect x="{x0 - 3:.1f}" y="{y0 - 14:.1f}" width="{bar + 40:.1f}" height="20" '
        'fill="#fff" opacity="0.8"/>'
        f'<rect x="{x0:.1f}" y="{y0 - 4:.1f}" width="{bar / 2:.1f}" height="4" fill="#000"/>'
        f'<rect x="{x0 + bar / 2:.1f}" y="{y0 - 4:.1f}" width="{bar / 2:.1f}" height="4" '
        'fill="#fff" stroke="#000" stroke-width="0.6"/>'
        f'<text x="{x0:.1f}" y="{y0 - 6:.1f}" font-size="7">0</text>'
        f'<text x="{x0 + bar:.1f}" y="{y0 - 6:.1f}" font-size="7" text-anchor="middle">'
        f"{scale_text}</text></g>"
    )
    if href is not None and spec.basemap is not None and spec.basemap.credit:
        parts.append(
            f'<text class="credit" x="{frame.width - 4:.1f}" y="{frame.height - 4:.1f}" '
            f'font-size="6.5" text-anchor="end" fill="#000">{escape(spec.basemap.credit)}</text>'
        )
    nx, ny = frame.width - 20, 28
    arrow = (
        f"{nx:.1f},{ny - 20:.1f} {nx + 7:.1f},{ny:.1f} {nx:.1f},{ny - 5:.1f} {nx - 7:.1f},{ny:.1f}"
    )
    parts.append(
        f'<g class="nord"><polygon points="{arrow}" fill="#000"/>'
        f'<text x="{nx:.1f}" y="{ny + 11:.1f}" font-size="10" font-weight="bold" '
        'text-anchor="middle">N</text></g>'
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="carte-imprimee" viewBox="0 0 '
        f'{frame.width:.0f} {frame.height:.0f}" role="img" aria-label="{escape(spec.title)}">'
        + "".join(parts)
        + "</svg>"
    )
    return svg + _legend(spec, breaks, values)


def _legend(spec: PrintMap, breaks: Sequence[float], values: Sequence[float]) -> str:
    items: list[str] = []
    title = escape(spec.legend_title) + (f" ({escape(spec.unit)})" if spec.unit else "")
    if spec.categories:
        for label_fill, label in spec.category_styles.values():
            box = f'<span class="case" style="background:{label_fill}"></span>'
            items.append(f"<li>{box}{escape(label)}</li>")
    elif breaks:
        lower = min(values)
        for colour, upper in zip(PALETTE, breaks, strict=False):
            low, high = format_number(lower, spec.decimals), format_number(upper, spec.decimals)
            shown = high if lower == upper else f"{low} – {high}"
            items.append(f'<li><span class="case" style="background:{colour}"></span>{shown}</li>')
            lower = upper
    extra: list[str] = []
    if spec.circles:
        extra.append(f'<li><span class="rond"></span>{escape(spec.circles_title)}</li>')
    for key, label in spec.symbol_labels.items():
        shape_name, fill = SYMBOLS.get(key, ("circle", "#888"))
        icon = (
            '<svg class="icone" viewBox="0 0 12 12" width="12" height="12">'
            + _marker(shape_name, 6, 6, 3.5, fill)
            + "</svg>"
        )
        extra.append(f"<li>{icon}{escape(label)}</li>")
    if spec.sites:
        extra.append(
            '<li><svg class="icone" viewBox="0 0 12 12" width="12" height="12"><circle cx="6" '
            'cy="6" r="5.5" fill="#000"/><text x="6" y="8.5" font-size="7" fill="#fff" '
            f'text-anchor="middle">1</text></svg>{escape(spec.sites_legend)}</li>'
        )
    for layer in spec.outlines:
        width, dash = _OUTLINES.get(layer.key, (0.5, "none"))
        dash_attr = "" if dash == "none" else f' stroke-dasharray="{dash}"'
        extra.append(
            f'<li><svg class="icone" viewBox="0 0 24 8" width="24" height="8"><line x1="0" y1="4" '
            f'x2="24" y2="4" stroke="#000" stroke-width="{width}"{dash_attr}/></svg>'
            f"{escape(layer.legend)}</li>"
        )
    return (
        f'<div class="legende-carte"><p class="titre-legende">{title}</p>'
        f"<ul>{''.join(items)}</ul><ul>{''.join(extra)}</ul></div>"
    )
