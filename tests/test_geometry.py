"""The one great-circle implementation (tierslieux.model.geometry), checked against pyproj."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

import tierslieux
from tierslieux.analysis import traveltime
from tierslieux.model.geometry import (
    EARTH_RADIUS_KM,
    chord_for_km,
    great_circle_km,
    km_for_chord,
    unit_vectors,
)

# (latitude, longitude) in degrees: town halls, rounded to 1e-4 degree.
PARIS = (48.8566, 2.3522)
MARSEILLE = (43.2965, 5.3698)
GAP = (44.5594, 6.0786)
NICE = (43.7102, 7.2620)
BREST = (48.3904, -4.4861)

# A sphere of the mean radius in pyproj: its inverse geodesic is the great circle.
SPHERE = Geod(a=EARTH_RADIUS_KM * 1000.0, b=EARTH_RADIUS_KM * 1000.0)


def _reference_km(a: tuple[float, float], b: tuple[float, float], geod: Geod = SPHERE) -> float:
    _az, _back, metres = geod.inv(a[1], a[0], b[1], b[0])
    return float(metres) / 1000.0


@pytest.mark.parametrize(
    ("a", "b"),
    [(PARIS, MARSEILLE), (GAP, NICE), (PARIS, BREST), (BREST, NICE), (GAP, GAP)],
)
def test_great_circle_matches_pyproj_on_the_sphere(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    km = float(great_circle_km(a[0], a[1], b[0], b[1]))
    assert km == pytest.approx(_reference_km(a, b), abs=1e-6)


def test_paris_marseille_is_within_half_a_percent_of_the_ellipsoid() -> None:
    km = float(great_circle_km(*PARIS, *MARSEILLE))
    ellipsoid = _reference_km(PARIS, MARSEILLE, Geod(ellps="WGS84"))
    assert 650 < km < 670
    assert abs(km - ellipsoid) / ellipsoid < 0.005


def test_vectorised_and_broadcast() -> None:
    lat = np.array([PARIS[0], MARSEILLE[0], GAP[0], math.nan])
    lon = np.array([PARIS[1], MARSEILLE[1], GAP[1], 5.0])
    matrix = great_circle_km(lat[:, None], lon[:, None], lat, lon)
    assert matrix.shape == (4, 4)
    assert np.allclose(np.diag(matrix)[:3], 0.0)
    assert np.allclose(matrix[:3, :3], matrix[:3, :3].T)
    assert matrix[0, 1] == pytest.approx(_reference_km(PARIS, MARSEILLE), abs=1e-6)
    assert np.isnan(matrix[3]).all()
    assert np.isnan(matrix[:, 3]).all()


def test_chords_round_trip_and_match_unit_vectors() -> None:
    xyz = unit_vectors([PARIS[0], NICE[0]], [PARIS[1], NICE[1]])
    assert xyz.shape == (2, 3)
    assert np.allclose(np.linalg.norm(xyz, axis=1), 1.0)
    chord = float(np.linalg.norm(xyz[0] - xyz[1]))
    km = float(great_circle_km(*PARIS, *NICE))
    assert float(km_for_chord(chord)) == pytest.approx(km, rel=1e-9)
    assert chord_for_km(km) == pytest.approx(chord, rel=1e-9)
    assert chord_for_km(km, margin=1e-3) > chord
    # Beyond half the circumference the chord is the diameter.
    assert chord_for_km(1e6) == pytest.approx(2.0)


def test_traveltime_re_exports_the_one_implementation() -> None:
    assert traveltime.great_circle_km is great_circle_km
    assert traveltime.EARTH_RADIUS_KM == EARTH_RADIUS_KM


def test_no_other_haversine_in_the_package() -> None:
    root = Path(tierslieux.__file__).parent
    found = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if "6371" in (text := p.read_text(encoding="utf-8")) or "arcsin(np.sqrt" in text
    ]
    assert found == ["model/geometry.py"]
