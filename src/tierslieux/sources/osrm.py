"""Road travel times from an OSRM server (``/table`` service), batched and cached on disk.

The user runs or chooses the server (for instance one built on an OpenStreetMap extract
of France); tierslieux never calls a public demonstration server by itself.  Requests
have the form::

    {base_url}/table/v1/{profile}/{lon},{lat};{lon},{lat}...?sources=0;1&destinations=2;3
        &annotations=duration

and the answer ``{"code": "Ok", "durations": [[seconds or null, ...], ...]}`` gives, for
each source row and destination column, the fastest car time in seconds (``null`` when
no route exists).  Coordinates are degrees in EPSG:4326.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from tierslieux.errors import SchemaError, SourceError
from tierslieux.files import atomic_write_text
from tierslieux.i18n import gettext as _
from tierslieux.model.geometry import chord_for_km, unit_vectors
from tierslieux.model.traveltime import OD_COLUMNS, check_points
from tierslieux.privacy import mask_url, mask_urls_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

__all__ = ["DEFAULT_PRUNE_SPEED_KMH", "OsrmEngine"]

#: Speed upper bound (km/h) used to skip pairs that cannot be within reach.
#:
#: 130 km/h is the highest speed limit on French roads (motorways in dry weather, Code
#: de la route, article R413-2).  A road route is never shorter than the great-circle
#: distance, so a pair farther than ``max_minutes / 60 * 130`` km cannot be driven in
#: ``max_minutes``: it is not asked to the server.  The bound is generous on purpose
#: (no detour, no slow road): pruning may only cost requests, never lose pairs, unless
#: the server's profile lets cars go faster than 130 km/h.
DEFAULT_PRUNE_SPEED_KMH = 130.0

_COORD_DECIMALS = 6  # 1e-6 degree is about 0.1 m: enough for a commune centre
_SERVER_ERROR = 500


def _unit_vectors(points: pd.DataFrame) -> np.ndarray:
    """Return 3-D unit-sphere coordinates of points in degrees (EPSG:4326)."""
    return unit_vectors(points["latitude"].to_numpy(float), points["longitude"].to_numpy(float))


class OsrmEngine:
    """Travel-time engine backed by an OSRM server.

    Parameters
    ----------
    base_url
        Address of the server, e.g. ``"http://localhost:5000"``.
    profile
        OSRM profile in the URL (``"driving"``; ``"car"`` on some servers).
    batch_size
        Maximum number of source × destination cells, and of coordinates, in one
        request (osrm-routed refuses tables larger than its ``--max-table-size``,
        100 by default).
    cache_dir
        Folder of the on-disk cache (one JSON file per request, keyed by the SHA-256 of
        base URL, profile, source and destination coordinates).  ``None``: no cache.
    client
        HTTP client to use (tests pass one built on ``httpx.MockTransport``); by default
        the engine opens its own for each call.
    retries
        Extra attempts after a network error or an HTTP 5xx answer.
    timeout
        Seconds allowed to each request.
    backoff_seconds
        Wait before the first retry, doubled at each new one.
    prune_speed_kmh
        Speed upper bound (km/h) used by :meth:`within` to skip unreachable pairs; see
        :data:`DEFAULT_PRUNE_SPEED_KMH`.
    """

    def __init__(  # noqa: PLR0913  (keyword-only options mirroring the server settings)
        self,
        base_url: str,
        *,
        profile: str = "driving",
        batch_size: int = 100,
        cache_dir: Path | None = None,
        client: httpx.Client | None = None,
        retries: int = 3,
        timeout: float = 30.0,
        backoff_seconds: float = 1.0,
        prune_speed_kmh: float = DEFAULT_PRUNE_SPEED_KMH,
    ) -> None:
        if batch_size < 2:
            raise SchemaError(
                _("Taille de lot OSRM invalide : {value} (attendu au moins 2).", value=batch_size)
            )
        self._base_url = base_url.rstrip("/")
        self._profile = profile
        self._batch_size = batch_size
        self._cache_dir = cache_dir
        self._client = client
        self._retries = max(0, retries)
        self._timeout = timeout
        self._backoff = backoff_seconds
        self._prune_speed = prune_speed_kmh
        self._sleep: Callable[[float], None] = time.sleep
        #: Number of HTTP requests sent (cache hits excluded), for tests and reports.
        self.requests_sent = 0

    @property
    def name(self) -> str:
        """Return ``"osrm"``."""
        return "osrm"

    def parameters(self) -> dict[str, object]:
        """Return what determines the results: server, profile, pruning speed (km/h)."""
        return {
            "engine": self.name,
            "base_url": mask_url(self._base_url),
            "profile": self._profile,
            "prune_speed_kmh": self._prune_speed,
        }

    # -- protocol -------------------------------------------------------------------

    def within(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Return the pairs that OSRM routes in at most ``max_minutes`` minutes.

        Candidate pairs are first pruned by great-circle distance at
        ``prune_speed_kmh``; only those are asked to the server.  Each origin is paired
        with itself (0 minutes) when its code is among the destinations; points without
        coordinates are otherwise left out.

        Returns
        -------
        pandas.DataFrame
            OD frame (``origin``, ``destination``, ``minutes``) sorted by origin then
            destination.
        """
        check_points(origins, what="origines")
        check_points(destinations, what="destinations")
        candidates = self._candidates(origins, destinations, max_minutes)
        minutes = self._minutes(candidates, origins, destinations)
        found = candidates.assign(minutes=minutes)
        found = found[found["minutes"].notna() & (found["minutes"] <= max_minutes)]
        codes_o = pd.Index(origins["code"].astype(str))
        selves = codes_o.intersection(pd.Index(destinations["code"].astype(str)), sort=False)
        if max_minutes >= 0:
            self_frame = pd.DataFrame(
                {"origin": list(selves), "destination": list(selves), "minutes": 0.0}
            )
            found = pd.concat([found, self_frame], ignore_index=True)
        return _finish(found)

    def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
        """Return the OSRM minutes of each (origin, destination) row of ``pairs``.

        Returns
        -------
        pandas.Series
            ``float64`` minutes aligned on ``pairs.index``: 0 for a code with itself,
            NaN for a code without coordinates or a pair OSRM cannot route.
        """
        missing = [c for c in ("origin", "destination") if c not in pairs.columns]
        if missing:
            raise SchemaError(
                _(
                    "Tableau des paires : colonne(s) {missing} absente(s) (attendu : origin, "
                    "destination).",
                    missing=", ".join(missing),
                )
            )
        check_points(points)
        wanted = pd.DataFrame(
            {
                "origin": pairs["origin"].astype(str).to_numpy(),
                "destination": pairs["destination"].astype(str).to_numpy(),
            }
        )
        unique = wanted.drop_duplicates().reset_index(drop=True)
        unique = unique[unique["origin"] != unique["destination"]].reset_index(drop=True)
        located = set(
            points.loc[points["latitude"].notna() & points["longitude"].notna(), "code"].astype(str)
        )
        unique = unique[unique["origin"].isin(located) & unique["destination"].isin(located)]
        unique = unique.reset_index(drop=True)
        found = unique.assign(minutes=self._minutes(unique, points, points))
        lookup = found.set_index(["origin", "destination"])["minutes"]
        keys = pd.MultiIndex.from_frame(wanted)
        minutes = lookup.reindex(keys).to_numpy(float)
        same = (wanted["origin"] == wanted["destination"]).to_numpy()
        minutes = np.where(same, 0.0, minutes)
        return pd.Series(minutes, index=pairs.index, name="minutes", dtype="float64")

    # -- pruning and batching -------------------------------------------------------

    def _candidates(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Return the non-self pairs not excluded by the straight-line speed bound."""
        orig = _located(origins)
        dest = _located(destinations)
        if orig.empty or dest.empty or max_minutes < 0:
            return pd.DataFrame({"origin": [], "destination": []}, dtype=object)
        # A road route is never shorter than the great circle: search a k-d tree of 3-D
        # unit vectors for the chord matching the distance drivable at the bound speed.
        chord = chord_for_km(max_minutes / 60.0 * self._prune_speed, margin=1e-9)
        hits = cKDTree(_unit_vectors(orig)).sparse_distance_matrix(
            cKDTree(_unit_vectors(dest)), chord, output_type="ndarray"
        )
        o_codes = orig["code"].to_numpy()[hits["i"]]
        d_codes = dest["code"].to_numpy()[hits["j"]]
        keep = o_codes != d_codes
        return pd.DataFrame({"origin": o_codes[keep], "destination": d_codes[keep]})

    def _minutes(
        self, pairs: pd.DataFrame, origins: pd.DataFrame, destinations: pd.DataFrame
    ) -> np.ndarray:
        """Ask OSRM (or the cache) the minutes of ``pairs`` (codes with coordinates)."""
        result = np.full(len(pairs), np.nan)
        if pairs.empty:
            return result
        o_xy = _located(origins).set_index("code")
        d_xy = _located(destinations).set_index("code")
        position = {
            (o, d): k
            for k, (o, d) in enumerate(zip(pairs["origin"], pairs["destination"], strict=True))
        }
        owns_client = self._client is None
        http = self._client or httpx.Client(timeout=self._timeout)
        try:
            for src, dst in self._blocks(pairs, o_xy):
                durations = self._table(
                    http,
                    o_xy.loc[src, ["longitude", "latitude"]].to_numpy(float),
                    d_xy.loc[dst, ["longitude", "latitude"]].to_numpy(float),
                )
                for a, o in enumerate(src):
                    for b, d in enumerate(dst):
                        k = position.get((o, d))
                        if k is not None:
                            result[k] = durations[a][b]
        finally:
            if owns_client:
                http.close()
        return result

    def _blocks(
        self, pairs: pd.DataFrame, o_xy: pd.DataFrame
    ) -> Iterator[tuple[list[str], list[str]]]:
        """Split ``pairs`` into requests of at most ``batch_size`` cells and coordinates.

        Origins are sorted on a coarse grid (0.2 degree rows, then longitude) so that a
        block gathers neighbours, whose candidate destinations overlap.
        """
        by_origin = pairs.groupby("origin", sort=False)["destination"].agg(list)
        lat = o_xy.loc[by_origin.index, "latitude"].to_numpy(float)
        lon = o_xy.loc[by_origin.index, "longitude"].to_numpy(float)
        order = np.lexsort((lon, np.floor(lat / 0.2)))
        ordered = by_origin.iloc[order]
        n_src = max(1, min(len(ordered), math.isqrt(self._batch_size)))
        n_dst = max(1, min(self._batch_size // n_src, self._batch_size - n_src))
        for start in range(0, len(ordered), n_src):
            group = ordered.iloc[start : start + n_src]
            src = list(group.index)
            dst = list(dict.fromkeys(d for ds in group for d in ds))
            for d_start in range(0, len(dst), n_dst):
                yield src, dst[d_start : d_start + n_dst]

    # -- HTTP and cache ---------------------------------------------------------------

    def _cache_path(self, sources: np.ndarray, destinations: np.ndarray) -> Path | None:
        """Return the cache file of one request (``None`` without cache)."""
        if self._cache_dir is None:
            return None
        key = json.dumps(
            {
                "base_url": self._base_url,
                "profile": self._profile,
                "sources": np.round(sources, _COORD_DECIMALS).tolist(),
                "destinations": np.round(destinations, _COORD_DECIMALS).tolist(),
            },
            sort_keys=True,
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self._cache_dir / "osrm" / f"{digest}.json"

    def _table(
        self, http: httpx.Client, sources: np.ndarray, destinations: np.ndarray
    ) -> list[list[float]]:
        """Return minutes[source][destination] for one block, from cache or server."""
        cache = self._cache_path(sources, destinations)
        if cache is not None and cache.is_file():
            cached: list[list[float | None]] = json.loads(cache.read_text(encoding="utf-8"))
            return _to_minutes(cached)
        coords = ";".join(
            f"{lon:.{_COORD_DECIMALS}f},{lat:.{_COORD_DECIMALS}f}"
            for lon, lat in np.vstack((sources, destinations))
        )
        n = len(sources)
        query = "sources={}&destinations={}&annotations=duration".format(
            ";".join(map(str, range(n))),
            ";".join(map(str, range(n, n + len(destinations)))),
        )
        url = f"{self._base_url}/table/v1/{self._profile}/{coords}?{query}"
        payload = self._get_json(http, url)
        seconds = _durations(payload, url, (n, len(destinations)))
        if cache is not None:
            atomic_write_text(cache, json.dumps(seconds))
        return _to_minutes(seconds)

    def _get_json(self, http: httpx.Client, url: str) -> Any:  # noqa: ANN401  (parsed JSON)
        """GET ``url`` with retries on network errors and 5xx answers; return its JSON."""
        error: str = ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            try:
                self.requests_sent += 1
                response = http.get(url, timeout=self._timeout)
            except httpx.TransportError as exc:
                error = mask_urls_in(str(exc)) or type(exc).__name__
                continue
            if response.status_code >= _SERVER_ERROR:
                error = f"HTTP {response.status_code}"
                continue
            try:
                return response.json()
            except ValueError as exc:
                raise SourceError(
                    _(
                        "Réponse illisible du serveur OSRM pour {url} (HTTP {status}, "
                        "JSON attendu).",
                        url=_short(url),
                        status=response.status_code,
                    )
                ) from exc
        raise SourceError(
            _(
                "Serveur OSRM injoignable : {url} ({error}, après {attempts} tentative(s)). "
                "Vérifiez l'adresse du serveur (TIERSLIEUX_OSRM_URL) ou utilisez le calcul "
                "à vol d'oiseau.",
                url=_short(url),
                error=error,
                attempts=self._retries + 1,
            )
        )


def _short(url: str, limit: int = 200) -> str:
    """Mask the secrets of a URL and shorten it for messages (coordinates are long)."""
    url = mask_url(url)
    return url if len(url) <= limit else url[:limit] + "…"


def _durations(payload: Any, url: str, shape: tuple[int, int]) -> list[list[float | None]]:  # noqa: ANN401
    """Check an OSRM ``/table`` answer and return its durations (seconds or None)."""
    if not isinstance(payload, dict) or payload.get("code") != "Ok":
        code = payload.get("code") if isinstance(payload, dict) else None
        message = payload.get("message", "") if isinstance(payload, dict) else ""
        raise SourceError(
            _(
                "Le serveur OSRM a refusé la requête {url} : code {code} {message} "
                "(attendu « Ok »).",
                url=_short(url),
                code=code,
                message=message,
            ).replace("  ", " ")
        )
    durations = payload.get("durations")
    rows, cols = shape
    if (
        not isinstance(durations, list)
        or len(durations) != rows
        or any(not isinstance(r, list) or len(r) != cols for r in durations)
    ):
        raise SourceError(
            _(
                "Réponse OSRM inattendue pour {url} : tableau « durations » de "
                "{rows} × {cols} attendu.",
                url=_short(url),
                rows=rows,
                cols=cols,
            )
        )
    return [[None if v is None else float(v) for v in row] for row in durations]


def _to_minutes(seconds: list[list[float | None]]) -> list[list[float]]:
    """Convert OSRM seconds into minutes; ``None`` (no route) becomes NaN."""
    return [[math.nan if v is None else v / 60.0 for v in row] for row in seconds]


def _located(points: pd.DataFrame) -> pd.DataFrame:
    """Keep the points with both coordinates, codes as text."""
    mask = points["latitude"].notna() & points["longitude"].notna()
    out = points.loc[mask, ["code", "latitude", "longitude"]]
    return out.assign(code=out["code"].astype(str)).reset_index(drop=True)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a canonical OD frame (types, order, fresh index)."""
    out = frame.loc[:, list(OD_COLUMNS)].astype(
        {"origin": object, "destination": object, "minutes": "float64"}
    )
    out = out.drop_duplicates(["origin", "destination"], keep="last")
    return out.sort_values(["origin", "destination"], kind="stable").reset_index(drop=True)
