"""Catchments: the communes within N minutes of each commune, and sums over them.

The study's catchment ("bassin de vie" in the study's sense) gathers « habitants du même
bassin de vie (maxi 20 minutes les uns des autres) ».  Two definitions are offered
(:data:`CATCHMENT_DEFINITIONS`):

- ``centre`` (« autour d'un lieu commun »): the communes at most N minutes from the
  centre commune, itself included.  Two members can then be up to 2N minutes apart;
  :func:`build_catchments` reports that largest internal time (``diametre_minutes``).
- ``mutuelle`` (« les uns des autres »): the centre, then its catchment's communes taken
  from the nearest to the farthest (ties by code), each kept only when it is at most N
  minutes from every commune already kept, both ways.  Every two members are then at
  most N minutes apart.  This greedy rule is a choice of the tool (finding the largest
  such group exactly is a hard clique problem); it is deterministic and never
  drops the centre.

The travel-time engine is passed in (straight line, imported matrix, OSRM), so the same
code serves every source of travel times.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from tierslieux.errors import Problem, SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.catchment import CATCHMENT_DEFINITIONS, definition_label
from tierslieux.model.traveltime import OD_COLUMNS, check_points

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = [
    "CATCHMENT_DEFINITIONS",
    "Catchments",
    "build_catchments",
    "catchment_pairs",
    "check_definition",
    "commute_minutes",
    "definition_label",
    "group_diameters",
    "sum_over_catchments",
]

# Ordered member pairs generated at once when looking for the largest internal time
# (bounds memory to a few hundred MB on the 35,000 French communes).
_CHUNK_PAIRS = 4_000_000


def catchment_pairs(
    engine: TravelTimeEngine,
    points: pd.DataFrame,
    max_minutes: float,
    *,
    reach: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return, for every commune, the communes at most ``max_minutes`` minutes away.

    Parameters
    ----------
    engine
        Any travel-time engine.
    points
        Points frame (``code``, ``latitude``, ``longitude``; EPSG:4326): the origins,
        which are also destinations.
    max_minutes
        Threshold in minutes, inclusive (20 in the study).
    reach
        Further destinations (points frame), for instance the communes just outside the
        territory; ``None`` for the origins only.

    Returns
    -------
    pandas.DataFrame
        OD frame (``origin``, ``destination``, ``minutes``), each commune paired with
        itself (0 minutes if the engine does not say otherwise), sorted by origin then
        destination.
    """
    check_points(points)
    destinations = points
    if reach is not None:
        check_points(reach)
        destinations = pd.concat([points, reach], ignore_index=True).drop_duplicates("code")
    pairs = engine.within(points, destinations, max_minutes)
    codes = points["code"].astype(str)
    present = pd.MultiIndex.from_frame(pairs[["origin", "destination"]].astype(str))
    selves = pd.DataFrame({"origin": codes, "destination": codes, "minutes": 0.0})
    missing = selves[~pd.MultiIndex.from_frame(selves[["origin", "destination"]]).isin(present)]
    out = pd.concat([pairs, missing], ignore_index=True) if len(missing) else pairs
    out = out.loc[:, list(OD_COLUMNS)].astype(
        {"origin": object, "destination": object, "minutes": "float64"}
    )
    return out.sort_values(["origin", "destination"], kind="stable").reset_index(drop=True)


def sum_over_catchments(
    values: pd.DataFrame, pairs: pd.DataFrame, *, columns: Sequence[str]
) -> pd.DataFrame:
    """Sum commune values over each commune's catchment.

    Parameters
    ----------
    values
        One row per commune: a ``code`` column and the numeric ``columns`` to sum
        (counts of people, for instance).
    pairs
        Catchment pairs (``origin``, ``destination``), e.g. from :func:`catchment_pairs`.
    columns
        Columns of ``values`` to sum.

    Returns
    -------
    pandas.DataFrame
        One row per code of ``values``, in the same order: ``code``, ``nb_communes``
        (number of communes of ``values`` in the catchment, the commune itself
        included), then the sums.  A commune absent from ``pairs`` keeps its own values
        with ``nb_communes`` 1; destinations absent from ``values`` count for nothing;
        missing values (NaN) count as 0.  Inputs are not modified.

    Raises
    ------
    SchemaError
        Missing or non-numeric column, or a duplicated code in ``values``.
    """
    cols = list(columns)
    missing = [c for c in ("code", *cols) if c not in values.columns]
    missing += [f"pairs.{c}" for c in ("origin", "destination") if c not in pairs.columns]
    if missing:
        raise SchemaError(
            _(
                "Somme par bassin : colonne(s) {missing} absente(s).",
                missing=", ".join(missing),
            )
        )
    not_numeric = [c for c in cols if values[c].dtype.kind not in "biuf"]
    if not_numeric:
        raise SchemaError(
            _(
                "Somme par bassin : colonne(s) {columns} non numérique(s).",
                columns=", ".join(not_numeric),
            )
        )
    codes = values["code"].astype(str)
    duplicated = codes[codes.duplicated()]
    if len(duplicated):
        raise SchemaError(
            _(
                "Somme par bassin : code(s) en double dans les valeurs : {codes}.",
                codes=", ".join(duplicated.head(5)),
            )
        )
    table = pd.DataFrame({"code": codes.to_numpy()})
    for c in cols:
        table[c] = values[c].to_numpy()
    links = pd.DataFrame(
        {
            "origin": pairs["origin"].astype(str).to_numpy(),
            "destination": pairs["destination"].astype(str).to_numpy(),
        }
    )
    links = links[links["origin"].isin(table["code"])]
    links = pd.concat(
        [links, pd.DataFrame({"origin": table["code"], "destination": table["code"]})],
        ignore_index=True,
    ).drop_duplicates()
    joined = links.merge(table, left_on="destination", right_on="code", how="inner")
    grouped = joined.groupby("origin", sort=False)
    result = grouped.size().rename("nb_communes").to_frame()
    if cols:
        result = result.join(grouped[cols].sum())
    result = result.reindex(table["code"])
    result.index.name = "code"
    result = result.reset_index()
    result["nb_communes"] = result["nb_communes"].astype("int64")
    return result


def commute_minutes(
    engine: TravelTimeEngine, pairs: pd.DataFrame, points: pd.DataFrame
) -> pd.DataFrame:
    """Attach travel minutes to home-work pairs.

    Parameters
    ----------
    engine
        Any travel-time engine.
    pairs
        Frame with ``residence`` and ``workplace`` commune codes (other columns kept).
    points
        Points frame giving the coordinates (EPSG:4326) of the codes.

    Returns
    -------
    pandas.DataFrame
        A copy of ``pairs`` with a ``minutes`` column (``float64``, car minutes from
        residence to workplace; NaN when unknown).
    """
    missing = [c for c in ("residence", "workplace") if c not in pairs.columns]
    if missing:
        raise SchemaError(
            _(
                "Trajets domicile-travail : colonne(s) {missing} absente(s) (attendu : "
                "residence, workplace).",
                missing=", ".join(missing),
            )
        )
    od = pd.DataFrame(
        {"origin": pairs["residence"].astype(str), "destination": pairs["workplace"].astype(str)},
        index=pairs.index,
    )
    out = pairs.copy()
    out["minutes"] = engine.between(od, points).astype("float64")
    return out


@dataclass(frozen=True)
class Catchments:
    """Catchments of the centre communes and the largest time between their members.

    Attributes
    ----------
    pairs
        OD frame: ``origin`` the centre, ``destination`` a member (the centre included),
        ``minutes`` from the centre to the member.
    diameters
        Centre code -> largest travel time between two members, in minutes (0 for a
        catchment of one commune; NaN when the engine does not know one of the times,
        as an imported matrix limited to shorter trips).
    definition
        One of :data:`CATCHMENT_DEFINITIONS`.
    """

    pairs: pd.DataFrame
    diameters: pd.Series
    definition: str


def build_catchments(
    engine: TravelTimeEngine,
    points: pd.DataFrame,
    max_minutes: float,
    *,
    definition: str = "centre",
    reach: pd.DataFrame | None = None,
) -> Catchments:
    """Return the catchment of every commune of ``points`` under ``definition``.

    Parameters
    ----------
    engine
        Any travel-time engine.
    points
        Points frame of the centres (the territory's communes).
    max_minutes
        Threshold N in minutes, inclusive.
    definition
        ``centre`` (members at most N minutes from the centre) or ``mutuelle`` (every
        two members at most N minutes apart; see the module for the exact rule).
    reach
        Further communes that may be members (points frame), e.g. those just outside the
        territory; ``None`` to keep to ``points``.

    Returns
    -------
    Catchments
        Pairs, largest internal time per centre, and the definition.

    Raises
    ------
    SchemaError
        Unknown definition, or a malformed points frame.
    """
    check_definition(definition)
    pairs = catchment_pairs(engine, points, max_minutes, reach=reach)
    located = points if reach is None else pd.concat([points, reach], ignore_index=True)
    located = located.drop_duplicates("code")
    times = _MemberTimes(engine, pairs, located)
    if definition == "mutuelle":
        pairs = _mutual(pairs, times, max_minutes)
    diameters = times.diameters(pairs)
    return Catchments(pairs=pairs, diameters=diameters, definition=definition)


def check_definition(definition: str) -> None:
    """Raise :class:`SchemaError` unless ``definition`` is one of the known definitions."""
    if definition not in CATCHMENT_DEFINITIONS:
        raise SchemaError(
            Problem.of(
                "Définition du bassin « {value} » inconnue ({definition} ; attendu : {expected}).",
                field="definition",
                value=definition,
                expected=", ".join(CATCHMENT_DEFINITIONS),
            )
        )


def group_diameters(
    engine: TravelTimeEngine, members: pd.DataFrame, points: pd.DataFrame
) -> pd.Series:
    """Return the largest travel time between two members of each group.

    Parameters
    ----------
    engine
        Any travel-time engine.
    members
        Frame ``origin`` (group key) and ``destination`` (member commune code), one row
        per member.
    points
        Points frame locating the members.

    Returns
    -------
    pandas.Series
        Group key -> largest time in minutes between two distinct member communes, both
        directions considered (0 for one commune, NaN when a time is unknown).
    """
    return _MemberTimes(engine, members, points).diameters(members)


class _MemberTimes:
    """Travel times between the communes that share a group (computed once, sparse).

    Only the ordered pairs of distinct communes belonging to a common group are asked of
    the engine (the non-zero entries of ``M.T @ M`` for the group-member incidence
    matrix ``M``): for 20-minute catchments, pairs at most 40 minutes apart, a few times
    the catchment pairs themselves, never a dense matrix.
    """

    def __init__(
        self, engine: TravelTimeEngine, groups: pd.DataFrame, points: pd.DataFrame
    ) -> None:
        origin = groups["origin"].astype(str).to_numpy(dtype=object)
        destination = groups["destination"].astype(str).to_numpy(dtype=object)
        _member, uniques = pd.factorize(np.concatenate([destination, origin]))
        self._codes = pd.Index(uniques, dtype=object)
        self._n = len(self._codes)
        group, member = self._incidence(origin, destination)
        incidence = csr_matrix(
            (np.ones(len(group), dtype=np.int32), (group, member)),
            shape=(int(group.max()) + 1 if len(group) else 0, self._n),
        )
        shared = (incidence.T @ incidence).tocoo()
        distinct = shared.row != shared.col
        keys = shared.row[distinct].astype(np.int64) * self._n + shared.col[distinct]
        self._keys = np.sort(keys)
        od = pd.DataFrame(
            {
                "origin": self._codes.to_numpy()[self._keys // self._n],
                "destination": self._codes.to_numpy()[self._keys % self._n],
            }
        )
        self._minutes = (
            engine.between(od, points).to_numpy(float) if len(od) else np.array([], dtype=float)
        )

    def _incidence(
        self, origin: np.ndarray, destination: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Group number and member index of each row, sorted by group then member."""
        group, _labels = pd.factorize(origin)
        member = self._codes.get_indexer(destination)
        order = np.lexsort((member, group))
        return group[order].astype(np.int64), member[order].astype(np.int64)

    def _chunks(
        self, group: np.ndarray, member: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (group per pair, pair key) for the ordered distinct member pairs."""
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else group
        sizes = np.diff(np.r_[starts, len(group)])
        squares = sizes.astype(np.int64) ** 2
        bounds = np.cumsum(squares)
        first = 0
        while first < len(starts):
            offset = bounds[first] - squares[first]
            last = max(int(np.searchsorted(bounds, offset + _CHUNK_PAIRS, side="right")), first + 1)
            square = squares[first:last]
            total = int(square.sum())
            owner = np.repeat(np.arange(first, last), square)
            rank = np.arange(total) - np.repeat(np.cumsum(square) - square, square)
            size = np.repeat(sizes[first:last], square)
            base = np.repeat(starts[first:last], square)
            a = member[base + rank // size]
            b = member[base + rank % size]
            distinct = a != b
            yield group[starts[owner[distinct]]], a[distinct] * self._n + b[distinct]
            first = last

    def minutes(self, keys: np.ndarray) -> np.ndarray:
        """Minutes of pair keys (NaN when the engine did not know them)."""
        if not len(self._keys):
            return np.full(len(keys), np.nan)
        where = np.clip(np.searchsorted(self._keys, keys), 0, len(self._keys) - 1)
        return np.where(self._keys[where] == keys, self._minutes[where], np.nan)

    def indices(self, codes: np.ndarray) -> np.ndarray:
        """Integer index of each code (as used in pair keys)."""
        return np.asarray(self._codes.get_indexer(codes), dtype=np.int64)

    def near_keys(self, max_minutes: float) -> tuple[int, set[int]]:
        """Key base and the keys of the ordered pairs at most ``max_minutes`` apart."""
        return self._n, set(self._keys[self._minutes <= max_minutes].tolist())

    def diameters(self, groups: pd.DataFrame) -> pd.Series:
        """Largest time between two members of each group of ``groups``."""
        origin = groups["origin"].astype(str).to_numpy(dtype=object)
        destination = groups["destination"].astype(str).to_numpy(dtype=object)
        numbers, labels = pd.factorize(origin)
        largest = np.zeros(len(labels), dtype=float)
        group, member = self._incidence(origin, destination)
        for owner, keys in self._chunks(group, member):
            if not len(owner):
                continue
            values = self.minutes(keys)
            cuts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            # np.maximum propagates NaN: one unknown time makes the largest one unknown.
            largest[owner[cuts]] = np.maximum.reduceat(values, cuts)
        del numbers
        return pd.Series(largest, index=pd.Index(labels, dtype=object), name="diametre_minutes")


def _mutual(pairs: pd.DataFrame, times: _MemberTimes, max_minutes: float) -> pd.DataFrame:
    """Keep, in each catchment, the members at most N minutes from every kept member."""
    ordered = pairs.assign(_self=pairs["origin"] != pairs["destination"]).sort_values(
        ["origin", "_self", "minutes", "destination"], kind="stable"
    )
    base, near = times.near_keys(max_minutes)
    keep = np.zeros(len(ordered), dtype=bool)
    origins = ordered["origin"].astype(str).to_numpy()
    members = times.indices(ordered["destination"].astype(str).to_numpy()).tolist()
    bounds = np.flatnonzero(np.r_[True, origins[1:] != origins[:-1], True]).tolist()
    for start, stop in itertools.pairwise(bounds if len(ordered) else []):
        # The centre comes first (its own pair), then the nearest members.
        kept: list[int] = []
        for row in range(start, stop):
            candidate = members[row]
            if all(
                candidate * base + other in near and other * base + candidate in near
                for other in kept
            ):
                kept.append(candidate)
                keep[row] = True
    out = ordered[keep].drop(columns="_self")
    return out.sort_values(["origin", "destination"], kind="stable").reset_index(drop=True)
