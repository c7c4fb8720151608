"""Potential users per commune, from the census home-work file (MOBPRO).

Every indicator is an explicit filter on the census detail file, counted with the
census weights (``IPONDI``, canonical column ``weight``) and never rounded before the
outputs are written.  The aggregation runs in DuckDB over a view of the file, so the
national file (about 8 million rows) is never loaded into pandas.

Indicators (variables of the INSEE MOBPRO detail file):

``actifs_occupes``
    All employed residents (every row of the file).
``independants``
    ``EMPL`` in 21 (indépendants) or 22 (employeurs).
``salaries_trajet_plus_30min``
    ``EMPL`` in 11-16 (salariés) whose commune of work is more than
    ``long_commute_minutes`` away (30 by default) by the chosen travel-time engine.
    Employees working abroad or in a commune without a known travel time are counted
    apart (``salaries_lieu_travail_hors_calcul``).
``tic``
    ``NA17`` = ``JZ`` (information et communication).
``teletravaillables``
    Employed residents weighted by the share of jobs compatible with telework of their
    occupation group ``CS1`` (see :mod:`tierslieux.model.reference` for the source).
``age_25_44``
    ``AGEREVQ`` in 25-40: the census five-year bands 25-29 to 40-44, the closest to the
    study's 26-45.
``femmes``
    ``SEXE`` = 2.
``potentiel``
    The tool's estimate of potential tiers-lieu users: residents whose job can be done
    at a connected computer (weight × teleworkable share of their ``CS1``) **and** who
    either are independent (``EMPL`` 21-22) or are employees working more than
    ``long_commute_minutes`` from home.  It combines the study's two "type d'activité"
    criteria ("actif devant son ordinateur connecté" and "actif indépendant ou salarié
    dont l'entreprise est située à plus de 30 minutes de chez soi").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.model.indicators import DETAIL_ONLY, EXTRA_COLUMNS, INDICATORS, indicator_labels
from tierslieux.model.reference import INSEE_SMALL_COUNT_CAUTION

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import duckdb

    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = [
    "DETAIL_ONLY",
    "EXTRA_COLUMNS",
    "INDICATORS",
    "IndicatorParameters",
    "compute_indicators",
    "flag_small_counts",
    "indicator_labels",
]


@dataclass(frozen=True)
class IndicatorParameters:
    """Parameters of the indicator computation.

    Attributes
    ----------
    long_commute_minutes
        Threshold of a long commute, in minutes (30 in the study).
    teleworkable_shares
        Share (0-1) of jobs compatible with telework, by ``CS1`` code.
    """

    long_commute_minutes: float
    teleworkable_shares: Mapping[str, float]


def _register_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register(f"{name}_df", frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")
    con.unregister(f"{name}_df")


def compute_indicators(
    con: duckdb.DuckDBPyConnection,
    view: str,
    *,
    kind: str,
    territory: Sequence[str],
    engine: TravelTimeEngine,
    points: pd.DataFrame,
    parameters: IndicatorParameters,
) -> pd.DataFrame:
    """Count the indicators for each commune of residence of ``territory``.

    Parameters
    ----------
    con
        DuckDB connection holding ``view``.
    view
        Name of the canonical MOBPRO view (see :mod:`tierslieux.sources.mobpro`).
    kind
        ``"detail"`` (individual file) or ``"flux"`` (commune-pair counts).
    territory
        INSEE codes of the communes of residence to count.
    engine
        Travel-time engine used for the home-work commutes.
    points
        Commune coordinates (``code``, ``latitude``, ``longitude``, EPSG:4326), covering
        workplaces as well as residences where possible.
    parameters
        Thresholds and reference shares.

    Returns
    -------
    pandas.DataFrame
        One row per commune of ``territory`` (``code`` then :data:`INDICATORS` then
        :data:`EXTRA_COLUMNS`), unrounded floats; indicators the input cannot give are
        NA (flow file).
    """
    codes = pd.DataFrame({"code": pd.Series(sorted(set(territory)), dtype="string")})
    _register_frame(con, "_tl_territory", codes)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _tl_residents AS
        SELECT m.* FROM {view} AS m
        WHERE m.residence IN (SELECT code FROM _tl_territory)
        """
    )
    pairs = con.execute(
        "SELECT DISTINCT residence, workplace FROM _tl_residents WHERE workplace IS NOT NULL"
    ).df()
    pairs = pairs.astype({"residence": "string", "workplace": "string"})
    query = pd.DataFrame({"origin": pairs["residence"], "destination": pairs["workplace"]})
    minutes = engine.between(query, points) if len(query) else pd.Series(dtype="float64")
    pairs = pairs.assign(minutes=pd.to_numeric(minutes, errors="coerce").to_numpy())
    _register_frame(con, "_tl_minutes", pairs)

    long = float(parameters.long_commute_minutes)
    far = f"(t.minutes IS NOT NULL AND t.minutes > {long})"
    if kind == "flux":
        select = f"""
            SUM(r.weight) AS actifs_occupes,
            SUM(CASE WHEN {far} THEN r.weight ELSE 0 END) AS actifs_trajet_plus_30min
        """
    else:
        shares = pd.DataFrame(
            {
                "cs1": pd.Series(list(parameters.teleworkable_shares), dtype="string"),
                "share": pd.Series(
                    [float(v) for v in parameters.teleworkable_shares.values()], dtype="float64"
                ),
            }
        )
        _register_frame(con, "_tl_shares", shares)
        employee = "r.empl IN ('11', '12', '13', '14', '15', '16')"
        independent = "r.empl IN ('21', '22')"
        share = "COALESCE(s.share, 0.0)"
        select = f"""
            SUM(r.weight) AS actifs_occupes,
            SUM(CASE WHEN {independent} THEN r.weight ELSE 0 END) AS independants,
            SUM(CASE WHEN {employee} AND {far} THEN r.weight ELSE 0 END)
                AS salaries_trajet_plus_30min,
            SUM(CASE WHEN r.na17 = 'JZ' THEN r.weight ELSE 0 END) AS tic,
            SUM(r.weight * {share}) AS teletravaillables,
            SUM(CASE WHEN r.agerevq BETWEEN 25 AND 40 THEN r.weight ELSE 0 END) AS age_25_44,
            SUM(CASE WHEN r.sexe = '2' THEN r.weight ELSE 0 END) AS femmes,
            SUM(CASE WHEN {independent} OR ({employee} AND {far})
                     THEN r.weight * {share} ELSE 0 END) AS potentiel,
            SUM(CASE WHEN {employee} THEN r.weight ELSE 0 END) AS salaries,
            SUM(CASE WHEN {employee} AND t.minutes IS NULL THEN r.weight ELSE 0 END)
                AS salaries_lieu_travail_hors_calcul,
            SUM(CASE WHEN {far} THEN r.weight ELSE 0 END) AS actifs_trajet_plus_30min
        """
    share_join = "LEFT JOIN _tl_shares AS s ON s.cs1 = r.cs1" if kind != "flux" else ""
    counts = con.execute(
        f"""
        SELECT r.residence AS code, {select}
        FROM _tl_residents AS r
        LEFT JOIN _tl_minutes AS t
          ON t.residence = r.residence AND t.workplace = r.workplace
        {share_join}
        GROUP BY r.residence
        """
    ).df()
    for table in ("_tl_residents", "_tl_minutes", "_tl_territory"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    counts["code"] = counts["code"].astype("string")
    result = codes.merge(counts, on="code", how="left")
    for column in (*INDICATORS, *EXTRA_COLUMNS):
        if column in result.columns:
            result[column] = result[column].astype("Float64").fillna(0.0)
        else:
            result[column] = pd.Series(pd.NA, index=result.index, dtype="Float64")
    return result[["code", *INDICATORS, *EXTRA_COLUMNS]]


def flag_small_counts(
    frame: pd.DataFrame, columns: Sequence[str], *, threshold: float = INSEE_SMALL_COUNT_CAUTION
) -> pd.Series:
    """Return, per row, the ``;``-joined indicators whose count is under ``threshold``.

    The census detail file is a weighted sample: INSEE warns that counts under 200
    are to be handled with care.  Indicators that are NA (not available) are skipped.
    """
    mask = frame[list(columns)].astype("Float64").lt(threshold).fillna(value=False)
    joined = pd.Series("", index=frame.index, dtype="string")
    for column in columns:
        joined = joined + mask[column].map({True: ";" + column, False: ""}).astype("string")
    return joined.str.replace(r";{2,}", ";", regex=True).str.strip(";")
