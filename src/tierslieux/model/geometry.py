"""Geometry helpers shared by every layer: great-circle distances on a spherical Earth.

Coordinates are degrees in EPSG:4326 (latitude, longitude).  Distances are great-circle
kilometres on a sphere of radius :data:`EARTH_RADIUS_KM` (haversine formula), vectorised
with NumPy: every function takes scalars or broadcastable arrays.  The chord helpers
let a k-d tree on 3-D unit vectors (:func:`unit_vectors`) search "every pair within
*d* km" exactly: a chord on the unit sphere is a monotonic function of the great-circle
angle.

This is the one implementation of the distance in tierslieux (sources, analysis and
pipeline import it); it imports NumPy only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EARTH_RADIUS_KM",
    "chord_for_km",
    "great_circle_km",
    "km_for_chord",
    "unit_vectors",
]

#: Mean radius of the Earth, in km: R1 = (2a + b) / 3 of the GRS 80 ellipsoid adopted by
#: the IUGG (Moritz, "Geodetic Reference System 1980", *Journal of Geodesy* 74, 2000:
#: R1 = 6 371 008.7714 m).  The spherical approximation errs by less than 0.5 % on
#: distances, far below the uncertainty of a detour factor.
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Return haversine great-circle distances, in km, between points.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees, EPSG:4326; scalars or broadcastable arrays (e.g. ``lat1[:, None]``
        against ``lat2`` for a full matrix).

    Returns
    -------
    numpy.ndarray
        ``float64`` distances in km on a sphere of radius :data:`EARTH_RADIUS_KM`, of
        the broadcast shape (0-d for scalars); NaN where a coordinate is NaN.
    """
    phi1 = np.radians(np.asarray(lat1, dtype="float64"))
    phi2 = np.radians(np.asarray(lat2, dtype="float64"))
    dlmb = np.radians(np.asarray(lon2, dtype="float64")) - np.radians(
        np.asarray(lon1, dtype="float64")
    )
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return result


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Return the 3-D unit-sphere coordinates of points given in degrees (EPSG:4326).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 3)``: x, y, z of each point on the unit sphere.
    """
    phi = np.radians(np.asarray(lat, dtype="float64").ravel())
    lmb = np.radians(np.asarray(lon, dtype="float64").ravel())
    cos_phi = np.cos(phi)
    result: NDArray[np.float64] = np.column_stack(
        (cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi))
    )
    return result


def chord_for_km(km: float, *, margin: float = 0.0) -> float:
    """Return the unit-sphere chord of a great-circle distance of ``km`` kilometres.

    Parameters
    ----------
    km
        Great-circle distance (km); beyond half the circumference the chord is 2.
    margin
        Relative margin added to the chord (e.g. ``1e-9`` so that rounding never drops
        a pair lying exactly on the threshold of a k-d tree search).
    """
    angle = min(km / EARTH_RADIUS_KM, math.pi)
    return 2.0 * math.sin(angle / 2.0) * (1.0 + margin)


def km_for_chord(chord: ArrayLike) -> NDArray[np.float64]:
    """Return the great-circle distance (km) of unit-sphere chords (inverse of the above)."""
    half = np.clip(np.asarray(chord, dtype="float64") / 2.0, 0.0, 1.0)
    result: NDArray[np.float64] = EARTH_RADIUS_KM * 2.0 * np.arcsin(half)
    return result
