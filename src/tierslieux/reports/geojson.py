"""GeoJSON output (RFC 7946, WGS84 longitude/latitude) built with Shapely.

Geometries go through :func:`shapely.geometry.shape` and :func:`shapely.geometry.mapping`
(so a malformed one is refused, not copied), points through :class:`shapely.Point`.
No NaN or infinity is ever written: a missing or non-finite number becomes ``null``, a
geometry with a non-finite coordinate becomes a ``null`` geometry, and the JSON
encoder is run with ``allow_nan=False`` as a last guard.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["feature_collection", "geojson_bytes", "json_value"]


def json_value(value: object) -> object:
    """Return ``value`` as a JSON-ready Python value: NaN, NA and infinities become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def _geometry(geometry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not geometry:
        return None
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as error:
        raise SchemaError(_("Géométrie GeoJSON invalide ({error}).", error=error)) from error
    if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        return None
    return dict(mapping(geom))


def _point(longitude: object, latitude: object) -> dict[str, Any] | None:
    lon, lat = json_value(longitude), json_value(latitude)
    if not isinstance(lon, float | int) or not isinstance(lat, float | int):
        return None
    return dict(mapping(shapely.Point(float(lon), float(lat))))


def feature_collection(
    frame: pd.DataFrame,
    *,
    geometries: Mapping[str, Mapping[str, Any]] | None = None,
    key: str = "code",
    properties: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection with one feature per row of ``frame``.

    Parameters
    ----------
    frame
        One row per feature; every column becomes a property (missing values and
        non-finite numbers as ``null``).
    geometries
        GeoJSON geometries (WGS84) by the value of column ``key``; a row without one
        is placed at its ``longitude``/``latitude`` when both are known, else gets a
        ``null`` geometry.
    properties
        Applied to each row's properties after cleaning (rounding, extra flags...).
    extra
        Members added to the collection (a warning, say).
    """
    shapes = geometries or {}
    features = []
    for record in frame.to_dict(orient="records"):
        row = {str(k): json_value(v) for k, v in record.items()}
        geometry = _geometry(shapes.get(str(record.get(key)))) if key in record else None
        if geometry is None:
            geometry = _point(record.get("longitude"), record.get("latitude"))
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": properties(row) if properties is not None else row,
            }
        )
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    collection.update(extra or {})
    return collection


def geojson_bytes(collection: Mapping[str, Any]) -> bytes:
    """Encode a FeatureCollection as UTF-8 JSON; NaN or infinity raise ValueError.

    Values JSON does not know (dates...) are written as text.
    """
    return json.dumps(collection, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
