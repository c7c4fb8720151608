"""Travel-time engines computed in memory: straight-line estimate and imported matrix.

Both implement :class:`tierslieux.model.traveltime.TravelTimeEngine` and return long-form
origin-destination frames (``origin``, ``destination``, ``minutes``).  Coordinates are
degrees in EPSG:4326; distances are great-circle kilometres on a sphere
(:mod:`tierslieux.model.geometry`, re-exported here as ``great_circle_km`` and
``EARTH_RADIUS_KM``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.geometry import (
    EARTH_RADIUS_KM,
    chord_for_km,
    great_circle_km,
    km_for_chord,
    unit_vectors,
)
from tierslieux.model.traveltime import (
    OD_COLUMNS,
    StraightLineParameters,
    check_points,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = [
    "EARTH_RADIUS_KM",
    "AnchoredEngine",
    "StraightLineEngine",
    "TableEngine",
    "empty_od",
    "great_circle_km",
    "sparse_within_to_csr",
]

# Relative margin on the k-d tree search radius so that floating-point rounding never
# drops a pair lying exactly on the threshold; pairs are then filtered exactly.
_RADIUS_MARGIN = 1e-9


def empty_od() -> pd.DataFrame:
    """Return an empty origin-destination frame with the canonical dtypes."""
    return pd.DataFrame(
        {
            "origin": pd.Series([], dtype=object),
            "destination": pd.Series([], dtype=object),
            "minutes": pd.Series([], dtype="float64"),
        }
    )


def _finish_od(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort, type and index an OD frame the canonical way."""
    out = frame.loc[:, list(OD_COLUMNS)].astype(
        {"origin": object, "destination": object, "minutes": "float64"}
    )
    return out.sort_values(["origin", "destination"], kind="stable").reset_index(drop=True)


def _located(points: pd.DataFrame) -> pd.DataFrame:
    """Keep the points whose two coordinates are known."""
    mask = points["latitude"].notna() & points["longitude"].notna()
    return points.loc[mask, ["code", "latitude", "longitude"]].reset_index(drop=True)


def _self_pairs(origins: pd.DataFrame, destinations: pd.DataFrame, minutes: float) -> pd.DataFrame:
    """Return the pairs of each origin with itself when it is among the destinations."""
    codes = pd.Index(origins["code"].astype(str)).intersection(
        pd.Index(destinations["code"].astype(str)), sort=False
    )
    return pd.DataFrame(
        {"origin": list(codes), "destination": list(codes), "minutes": float(minutes)}
    )


class StraightLineEngine:
    """Straight-line travel-time estimator.

    ``minutes = great_circle_km * detour_factor / speed_kmh * 60`` between distinct
    communes (haversine on a sphere of radius :data:`EARTH_RADIUS_KM`), and
    ``intra_commune_minutes`` between a commune and itself.  The defaults and their
    sources are documented in :mod:`tierslieux.model.traveltime`.

    :meth:`within` scales to the 35,000 French communes: a k-d tree on 3-D unit-sphere
    coordinates returns only the pairs closer than the radius matching ``max_minutes``;
    no dense matrix is ever built.

    Parameters
    ----------
    parameters
        Detour factor, speed (km/h) and intra-commune minutes.
    """

    def __init__(self, parameters: StraightLineParameters | None = None) -> None:
        self._params = parameters or StraightLineParameters()

    @property
    def name(self) -> str:
        """Return ``"straight_line"``."""
        return "straight_line"

    @property
    def settings(self) -> StraightLineParameters:
        """Return the parameters of the estimator."""
        return self._params

    def parameters(self) -> dict[str, object]:
        """Return the engine name, its parameters and the Earth radius (km)."""
        return {"engine": self.name, **self._params.to_dict(), "earth_radius_km": EARTH_RADIUS_KM}

    def minutes_for_km(self, km: np.ndarray) -> np.ndarray:
        """Convert great-circle distances (km) into estimated car minutes."""
        result: np.ndarray = km * self._params.detour_factor / self._params.speed_kmh * 60.0
        return result

    def radius_km(self, max_minutes: float) -> float:
        """Return the great-circle radius (km) reachable within ``max_minutes`` minutes."""
        return max_minutes / 60.0 * self._params.speed_kmh / self._params.detour_factor

    def within(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Return the pairs at most ``max_minutes`` minutes apart.

        Points without coordinates are left out, except for their pair with
        themselves (``intra_commune_minutes``) when their code is among both inputs.

        Parameters
        ----------
        origins, destinations
            Points frames (``code``, ``latitude``, ``longitude``; EPSG:4326).
        max_minutes
            Threshold in minutes, inclusive.

        Returns
        -------
        pandas.DataFrame
            OD frame sorted by origin then destination.
        """
        check_points(origins, what="origines")
        check_points(destinations, what="destinations")
        if not max_minutes >= 0:
            raise SchemaError(
                _("Seuil de temps de trajet invalide : {value} minutes.", value=max_minutes)
            )
        orig, dest = _located(origins), _located(destinations)
        parts = []
        if len(orig) and len(dest):
            parts.append(self._spatial_pairs(orig, dest, max_minutes))
        if self._params.intra_commune_minutes <= max_minutes:
            parts.append(_self_pairs(origins, destinations, self._params.intra_commune_minutes))
        if not parts:
            return empty_od()
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.drop_duplicates(["origin", "destination"], keep="last")
        return _finish_od(frame)

    def _spatial_pairs(
        self, orig: pd.DataFrame, dest: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Return the non-self pairs within ``max_minutes`` using k-d trees."""
        chord = chord_for_km(self.radius_km(max_minutes), margin=_RADIUS_MARGIN)
        o_xyz = unit_vectors(orig["latitude"].to_numpy(float), orig["longitude"].to_numpy(float))
        d_xyz = unit_vectors(dest["latitude"].to_numpy(float), dest["longitude"].to_numpy(float))
        hits = cKDTree(o_xyz).sparse_distance_matrix(cKDTree(d_xyz), chord, output_type="ndarray")
        i, j = hits["i"], hits["j"]
        o_codes = orig["code"].astype(str).to_numpy()[i]
        d_codes = dest["code"].astype(str).to_numpy()[j]
        # The chord gives the exact great-circle angle on the unit sphere.
        km = km_for_chord(hits["v"])
        minutes = self.minutes_for_km(km)
        keep = (minutes <= max_minutes) & (o_codes != d_codes)
        return pd.DataFrame(
            {"origin": o_codes[keep], "destination": d_codes[keep], "minutes": minutes[keep]}
        )

    def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
        """Return the estimated minutes of each (origin, destination) row of ``pairs``.

        Returns
        -------
        pandas.Series
            ``float64`` minutes named ``minutes``, aligned on ``pairs.index``; NaN when a
            code has no coordinates in ``points``.
        """
        _check_pairs(pairs)
        check_points(points)
        coords = points.assign(code=points["code"].astype(str)).set_index("code")
        origin = pairs["origin"].astype(str)
        destination = pairs["destination"].astype(str)
        o = coords.reindex(origin.to_numpy())
        d = coords.reindex(destination.to_numpy())
        km = great_circle_km(
            o["latitude"].to_numpy(float),
            o["longitude"].to_numpy(float),
            d["latitude"].to_numpy(float),
            d["longitude"].to_numpy(float),
        )
        minutes = self.minutes_for_km(km)
        same = (origin == destination).to_numpy()
        minutes = np.where(same, self._params.intra_commune_minutes, minutes)
        return pd.Series(minutes, index=pairs.index, name="minutes", dtype="float64")


def _check_pairs(pairs: pd.DataFrame) -> None:
    """Check that a pairs frame has ``origin`` and ``destination`` columns."""
    missing = [c for c in ("origin", "destination") if c not in pairs.columns]
    if missing:
        raise SchemaError(
            _(
                "Tableau des paires : colonne(s) {missing} absente(s) (attendu : origin, "
                "destination ; présentes : {present}).",
                missing=", ".join(missing),
                present=", ".join(map(str, pairs.columns)),
            )
        )


class TableEngine:
    """Lookup engine over an imported travel-time matrix (r5py, OSRM, Insee Metric...).

    Symmetric fallback: when the pair (a, b) is absent (or NaN) but (b, a) is known, its
    minutes are used for (a, b) — car times are nearly symmetric between communes.  A
    commune with itself is 0 minutes unless the matrix says otherwise.  Coordinates
    are ignored: a pair absent both ways is unknown (NaN in :meth:`between`, left out of
    :meth:`within`).

    Parameters
    ----------
    frame
        OD frame (``origin``, ``destination``, ``minutes``), for instance from
        :func:`tierslieux.sources.traveltimes.load_travel_times`.

    Raises
    ------
    SchemaError
        Missing column, negative minutes, or a pair given twice with different minutes.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        missing = [c for c in OD_COLUMNS if c not in frame.columns]
        if missing:
            raise SchemaError(
                _(
                    "Matrice de temps de trajet : colonne(s) {missing} absente(s) "
                    "(attendu : {expected}).",
                    missing=", ".join(missing),
                    expected=", ".join(OD_COLUMNS),
                )
            )
        given = pd.DataFrame(
            {
                "origin": frame["origin"].astype(str).to_numpy(),
                "destination": frame["destination"].astype(str).to_numpy(),
                "minutes": pd.to_numeric(frame["minutes"], errors="coerce").to_numpy(float),
            }
        )
        given = given[given["minutes"].notna()].drop_duplicates()
        _refuse_conflicts(given)
        negative = given[given["minutes"] < 0]
        if len(negative):
            first = negative.iloc[0]
            raise SchemaError(
                _(
                    "Matrice de temps de trajet : {count} durée(s) négative(s), par exemple "
                    "{origin} → {destination} : {minutes} minutes.",
                    count=len(negative),
                    origin=first["origin"],
                    destination=first["destination"],
                    minutes=first["minutes"],
                )
            )
        reverse = given.rename(columns={"origin": "destination", "destination": "origin"})
        known = pd.MultiIndex.from_frame(given[["origin", "destination"]])
        reverse_keys = pd.MultiIndex.from_frame(reverse[["origin", "destination"]])
        fallback = reverse[~reverse_keys.isin(known)]
        table = pd.concat([given, fallback.loc[:, list(OD_COLUMNS)]], ignore_index=True)
        self._table = table.set_index(["origin", "destination"])["minutes"].sort_index()
        digest = hashlib.sha256(
            pd.util.hash_pandas_object(_finish_od(given), index=False).to_numpy().tobytes()
        )
        self._digest = digest.hexdigest()
        self._size = len(given)

    @property
    def name(self) -> str:
        """Return ``"table"``."""
        return "table"

    def parameters(self) -> dict[str, object]:
        """Return the engine name, the number of pairs and a SHA-256 of the matrix."""
        return {"engine": self.name, "pairs": self._size, "sha256": self._digest}

    def within(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Return the known pairs at most ``max_minutes`` minutes apart.

        Only the ``code`` column of ``origins`` and ``destinations`` is used.
        """
        o_codes = pd.Index(origins["code"].astype(str))
        d_codes = pd.Index(destinations["code"].astype(str))
        table = self._table
        keys = table.index
        mask = (
            keys.get_level_values("origin").isin(o_codes)
            & keys.get_level_values("destination").isin(d_codes)
            & (table.to_numpy() <= max_minutes)
        )
        frame = table[mask].reset_index()
        if max_minutes >= 0:
            selves = _self_pairs(origins, destinations, 0.0)
            self_keys = pd.MultiIndex.from_frame(selves[["origin", "destination"]])
            frame = pd.concat([frame, selves[~self_keys.isin(keys)]], ignore_index=True)
        if frame.empty:
            return empty_od()
        return _finish_od(frame)

    def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
        """Return the minutes of each (origin, destination) row of ``pairs``.

        ``points`` is accepted for the protocol but not used.  NaN when the pair is
        absent from the matrix both ways.
        """
        del points  # the matrix does not depend on coordinates
        _check_pairs(pairs)
        origin = pairs["origin"].astype(str).to_numpy()
        destination = pairs["destination"].astype(str).to_numpy()
        wanted = pd.MultiIndex.from_arrays([origin, destination])
        minutes = self._table.reindex(wanted).to_numpy(float)
        minutes = np.where(np.isnan(minutes) & (origin == destination), 0.0, minutes)
        return pd.Series(minutes, index=pairs.index, name="minutes", dtype="float64")


def _refuse_conflicts(given: pd.DataFrame) -> None:
    """Raise when a pair appears with different minutes."""
    dup = given[given.duplicated(["origin", "destination"], keep=False)]
    if dup.empty:
        return
    first = dup.iloc[0]
    values = dup.loc[
        (dup["origin"] == first["origin"]) & (dup["destination"] == first["destination"]),
        "minutes",
    ]
    raise SchemaError(
        _(
            "Matrice de temps de trajet : {count} paire(s) en double avec des durées "
            "différentes, par exemple {origin} → {destination} : {values} minutes.",
            count=dup[["origin", "destination"]].drop_duplicates().shape[0],
            origin=first["origin"],
            destination=first["destination"],
            values=" / ".join(f"{v:g}" for v in values),
        )
    )


def sparse_within_to_csr(
    od: pd.DataFrame, origin_codes: Sequence[str], destination_codes: Sequence[str]
) -> csr_matrix:
    """Turn a ``within`` OD frame into a boolean reachability matrix.

    Parameters
    ----------
    od
        OD frame (``origin``, ``destination``, ``minutes``).
    origin_codes, destination_codes
        Row and column order of the matrix; pairs whose codes are not listed are ignored.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(len(origin_codes), len(destination_codes))``, ``True`` where the pair is
        in ``od`` (minutes are not stored: a 0-minute self pair would vanish as an
        implicit zero).  Suited to coverage models.
    """
    rows = pd.Index(list(origin_codes)).get_indexer(pd.Index(od["origin"].astype(str)))
    cols = pd.Index(list(destination_codes)).get_indexer(pd.Index(od["destination"].astype(str)))
    keep = (rows >= 0) & (cols >= 0)
    data = np.ones(int(keep.sum()), dtype=bool)
    shape = (len(origin_codes), len(destination_codes))
    matrix = csr_matrix((data, (rows[keep], cols[keep])), shape=shape, dtype=bool)
    matrix.sum_duplicates()
    return matrix


class AnchoredEngine:
    """An engine that knows only communes, seen from points that lie in communes.

    An imported matrix (:class:`TableEngine`) has times between commune codes only; a
    candidate place (a building with its own code) then takes the times of the commune
    it lies in.  Codes absent from ``commune_of`` are passed through unchanged.
    """

    def __init__(self, inner: TravelTimeEngine, commune_of: Mapping[str, str]) -> None:
        self._inner = inner
        self._commune_of = dict(commune_of)

    @property
    def name(self) -> str:
        """Return the inner engine's name."""
        return self._inner.name

    def parameters(self) -> dict[str, object]:
        """Return the inner engine's parameters."""
        return self._inner.parameters()

    def _anchor(self, points: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        codes = points["code"].astype(str)
        anchors = codes.map(lambda c: self._commune_of.get(c, c))
        mapping = pd.DataFrame({"code": codes.to_numpy(), "anchor": anchors.to_numpy()})
        anchored = points.assign(code=anchors.to_numpy()).drop_duplicates("code")
        return anchored.reset_index(drop=True), mapping

    def within(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Pairs within ``max_minutes``, each point taking its commune's times."""
        o_points, o_map = self._anchor(origins)
        d_points, d_map = self._anchor(destinations)
        inner = self._inner.within(o_points, d_points, max_minutes)
        if inner.empty:
            return empty_od()
        out = inner.merge(o_map.rename(columns={"anchor": "origin"}), on="origin")
        out = out.drop(columns="origin").rename(columns={"code": "origin"})
        out = out.merge(d_map.rename(columns={"anchor": "destination"}), on="destination")
        out = out.drop(columns="destination").rename(columns={"code": "destination"})
        return _finish_od(out)

    def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
        """Minutes of ``pairs``, each code replaced by its commune first."""
        _check_pairs(pairs)
        anchored = pd.DataFrame(
            {
                "origin": pairs["origin"].astype(str).map(lambda c: self._commune_of.get(c, c)),
                "destination": pairs["destination"]
                .astype(str)
                .map(lambda c: self._commune_of.get(c, c)),
            },
            index=pairs.index,
        )
        return self._inner.between(anchored, self._anchor(points)[0])
