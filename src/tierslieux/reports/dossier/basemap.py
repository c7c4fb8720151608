"""An optional tile basemap under the dossier's print maps (off by default, never required).

:class:`Basemap` names a tile template (OpenStreetMap's
``https://tile.openstreetmap.org/{z}/{x}/{y}.png``, the IGN's WMTS…) and its credit;
:func:`basemap_image` fetches the Web-Mercator tiles covering a map's frame, warps them
into the map's Lambert-93 pixels (nearest neighbour, so that the tiles' north and the
map's agree everywhere) and returns a PNG as a ``data:`` URI for the SVG's ``<image>``.
Any failure (no network, a refused tile, too many tiles) gives ``None``: the map is
drawn without a basemap, as by default.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyproj import Transformer

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MAX_TILES", "Basemap", "basemap_image"]

log = logging.getLogger(__name__)

#: At most this many tiles per map (a larger frame takes a lower zoom).
MAX_TILES = 48
_TILE = 256
_TIMEOUT = 10.0


def _download(url: str) -> bytes:
    import httpx  # noqa: PLC0415  (only when a basemap is asked for)

    response = httpx.get(
        url, timeout=_TIMEOUT, follow_redirects=True, headers={"User-Agent": "tierslieux"}
    )
    response.raise_for_status()
    return response.content


@dataclass(frozen=True)
class Basemap:
    """A tile basemap: ``url`` with ``{z}``, ``{x}``, ``{y}``, the ``credit`` printed on
    the map, and how a tile is fetched (``fetch(url) -> bytes``; HTTPS by default)."""

    url: str
    credit: str = ""
    fetch: Callable[[str], bytes] = _download


def _zoom(lon_span: float, pixels: float) -> int:
    """The Web-Mercator zoom whose tiles have about the map's pixel size."""
    if lon_span <= 0:
        return 12
    return max(0, min(18, math.ceil(math.log2(pixels * 360.0 / (lon_span * _TILE)))))


def basemap_image(
    basemap: Basemap,
    *,
    xmin: float,
    ymax: float,
    scale: float,
    margin: float,
    width: float,
    height: float,
    pixels: int = 2,
) -> str | None:
    """The basemap of a print map's frame as a PNG ``data:`` URI, or ``None``.

    The frame is the one of :mod:`~tierslieux.reports.dossier.printmap`: SVG unit
    ``(u, v)`` is Lambert-93 ``(xmin + (u - margin) / scale, ymax - (v - margin) /
    scale)``; ``pixels`` image pixels per SVG unit.
    """
    from PIL import Image  # noqa: PLC0415  (installed with WeasyPrint)

    try:
        columns, rows = int(width * pixels), int(height * pixels)
        u = (np.arange(columns) + 0.5) / pixels
        v = (np.arange(rows) + 0.5) / pixels
        uu, vv = np.meshgrid(u, v)
        x = xmin + (uu - margin) / scale
        y = ymax - (vv - margin) / scale
        lon, lat = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True).transform(x, y)
        lat = np.clip(lat, -85.0, 85.0)
        zoom = _zoom(float(lon.max() - lon.min()), columns)
        while True:
            n = 2.0**zoom
            tx = (lon + 180.0) / 360.0 * n
            rad = np.radians(lat)
            ty = (1.0 - np.log(np.tan(rad) + 1.0 / np.cos(rad)) / math.pi) / 2.0 * n
            x0, x1 = math.floor(tx.min()), math.floor(tx.max())
            y0, y1 = math.floor(ty.min()), math.floor(ty.max())
            if (x1 - x0 + 1) * (y1 - y0 + 1) <= MAX_TILES or zoom == 0:
                break
            zoom -= 1
        mosaic = np.full(((y1 - y0 + 1) * _TILE, (x1 - x0 + 1) * _TILE, 3), 255, dtype="uint8")
        for ty_index in range(y0, y1 + 1):
            for tx_index in range(x0, x1 + 1):
                url = (
                    basemap.url.replace("{z}", str(zoom))
                    .replace("{x}", str(tx_index))
                    .replace("{y}", str(ty_index))
                )
                tile = Image.open(io.BytesIO(basemap.fetch(url))).convert("RGB")
                tile = tile.resize((_TILE, _TILE))
                top, left = (ty_index - y0) * _TILE, (tx_index - x0) * _TILE
                mosaic[top : top + _TILE, left : left + _TILE] = np.asarray(tile)
        px = np.clip(((tx - x0) * _TILE).astype("int64"), 0, mosaic.shape[1] - 1)
        py = np.clip(((ty - y0) * _TILE).astype("int64"), 0, mosaic.shape[0] - 1)
        warped = Image.fromarray(mosaic[py, px])
        buffer = io.BytesIO()
        warped.save(buffer, format="PNG", optimize=True)
    except Exception as error:  # noqa: BLE001  (never required: the map goes without)
        log.warning("Fond de carte non chargé (%s) : carte sans fond.", error)
        return None
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
