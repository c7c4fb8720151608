"""Catchments: the communes within N minutes of each commune, and sums over them.

The study's catchment ("bassin de vie" in the study's sense) of a commune is the set of
communes at most 20 minutes away by car, itself included.  The travel-time engine is
passed in (straight line, imported matrix, OSRM), so the same code serves every source
of travel times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.traveltime import OD_COLUMNS, check_points

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = ["catchment_pairs", "commute_minutes", "sum_over_catchments"]


def catchment_pairs(
    engine: TravelTimeEngine, points: pd.DataFrame, max_minutes: float
) -> pd.DataFrame:
    """Return, for every commune, the communes at most ``max_minutes`` minutes away.

    Parameters
    ----------
    engine
        Any travel-time engine.
    points
        Points frame (``code``, ``latitude``, ``longitude``; EPSG:4326).
    max_minutes
        Threshold in minutes, inclusive (20 in the study).

    Returns
    -------
    pandas.DataFrame
        OD frame (``origin``, ``destination``, ``minutes``), each commune paired with
        itself (0 minutes if the engine does not say otherwise), sorted by origin then
        destination.
    """
    check_points(points)
    pairs = engine.within(points, points, max_minutes)
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
