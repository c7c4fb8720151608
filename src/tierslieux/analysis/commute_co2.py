"""Per-flow CO₂ gains of shared offices, from the census home-work file (MOBPRO).

The rule follows Mastio, Hörl, Balac & Loubière, "Emission-reducing deployment of
shared office networks" (ANT 2023), as described in the study's issue: a car commuter
living in commune ``r`` and working in ``w`` uses an office in candidate commune ``j``
when ``minutes(r, j) <= limit`` **and** the time saved ``minutes(r, w) - minutes(r, j)``
is at least ``gain_minimal``; the gain is then the car kilometres avoided per working
day, ``2 × (km(r, w) - km(r, j))`` (round trip), times the census weight, converted to
kg CO₂e with :data:`tierslieux.model.siting.CAR_EMISSION_FACTOR_KG_PER_KM`.  A flow uses
the open office with the largest gain (see
:func:`tierslieux.analysis.optimise.solve_max_benefit`).

``gain_minimal`` defaults to 10 minutes, the tool's default; the authors' public code
(github.com/odyssee-co/tiers-lieux, ``code/conf.yml``: "Minimum saved time (in min) for
an employee to choose an office", ``min : 10``) uses the same value; the paper's text
itself was not consulted.

Demand = car commuters: ``TRANS`` code(s) whose label in the vintage's dictionary
(``varmod_mobpro``) is "Voiture, camion, fourgonnette"; without a dictionary, code
``5`` from RP 2017 on (six-code nomenclature) and ``4`` before (five codes).
Kilometres are great-circle × detour factor (the straight-line engine's road-distance
estimate) whatever the travel-time engine: no engine here gives road kilometres.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from tierslieux.i18n import gettext as _
from tierslieux.model.geometry import great_circle_km
from tierslieux.model.siting import CAR_EMISSION_FACTOR_KG_PER_KM
from tierslieux.model.traveltime import DEFAULT_DETOUR_FACTOR

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import duckdb

    from tierslieux.model.traveltime import TravelTimeEngine

__all__ = [
    "DEFAULT_GAIN_MINIMAL",
    "FlowGains",
    "car_flows",
    "car_trans_codes",
    "flow_gains",
]

#: Minimum time saved (minutes) for a car commuter to use an office: the tool's default
#: (the same value as the authors' public code, see the module docstring).
DEFAULT_GAIN_MINIMAL = 10.0
_YEAR = re.compile(r"(19|20)\d{2}")
_FIRST_SIX_CODE_VINTAGE = 2017


def car_trans_codes(
    labels: Mapping[str, Mapping[str, str]], vintage: str | None
) -> tuple[tuple[str, ...], str]:
    """``TRANS`` codes of car commuting, and how they were found (a note for the user).

    Parameters
    ----------
    labels
        Variable -> code -> label (``Mobpro.labels``, from ``varmod_mobpro``).
    vintage
        Census vintage (``"RP2021"``), used when no dictionary is available.
    """
    trans = labels.get("TRANS", {})
    found = tuple(sorted(c for c, label in trans.items() if "voiture" in label.lower()))
    if found:
        return found, _(
            "code(s) TRANS {codes} (« {label} » dans le dictionnaire du fichier)",
            codes=", ".join(found),
            label=trans[found[0]],
        )
    match = _YEAR.search(vintage or "")
    year = int(match.group(0)) if match else None
    code = "4" if year is not None and year < _FIRST_SIX_CODE_VINTAGE else "5"
    return (code,), _(
        "code TRANS {code} (voiture, camion, fourgonnette dans la nomenclature "
        "{which} ; pas de dictionnaire varmod à côté du fichier)",
        code=code,
        which=_("à 5 modalités d'avant 2017") if code == "4" else _("à 6 modalités (RP 2017+)"),
    )


def car_flows(
    con: duckdb.DuckDBPyConnection,
    view: str,
    *,
    residences: Sequence[str],
    car_codes: Sequence[str],
) -> pd.DataFrame:
    """Car commuters per (residence, workplace) pair, aggregated in DuckDB.

    Returns
    -------
    pandas.DataFrame
        ``residence``, ``workplace`` (strings), ``weight`` (sum of ``IPONDI``),
        ``rows`` (census rows), residences among ``residences`` only, workplace known,
        in France and different from the residence; sorted by residence, workplace.
    """
    codes = pd.DataFrame({"code": pd.Series(sorted(set(residences)), dtype="string")})
    con.register("_tl_flow_residences", codes)
    try:
        placeholders = ", ".join("?" for _c in car_codes)
        frame = con.execute(
            f"""
            SELECT residence, workplace, SUM(weight) AS weight, COUNT(*) AS rows
            FROM {view}
            WHERE trans IN ({placeholders})
              AND residence IN (SELECT code FROM _tl_flow_residences)
              AND workplace IS NOT NULL AND NOT workplace_abroad
              AND workplace <> residence
            GROUP BY residence, workplace
            ORDER BY residence, workplace
            """,
            list(car_codes),
        ).df()
    finally:
        con.unregister("_tl_flow_residences")
    return frame.astype({"residence": "string", "workplace": "string"})


@dataclass(frozen=True)
class FlowGains:
    """Gains of each car flow at each candidate site.

    Attributes
    ----------
    gains
        Sparse matrix, flows × candidates: kg CO₂e avoided per working day when the
        flow works at the candidate (0 when the rule forbids it).
    flows
        The flows (rows of ``gains``): ``residence``, ``workplace``, ``weight``,
        ``minutes`` and ``km`` of the current commute.
    """

    gains: sparse.csr_matrix
    flows: pd.DataFrame


def flow_gains(
    flows: pd.DataFrame,
    candidates: Sequence[str],
    points: pd.DataFrame,
    engine: TravelTimeEngine,
    *,
    minutes: float,
    gain_minimal: float = DEFAULT_GAIN_MINIMAL,
    factor_kg_per_km: float = CAR_EMISSION_FACTOR_KG_PER_KM,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
) -> FlowGains:
    """Apply the per-flow rule: which candidate each flow can use, and its gain there.

    Parameters
    ----------
    flows
        ``residence``, ``workplace``, ``weight`` (see :func:`car_flows`).
    candidates
        Candidate commune codes (columns of the matrix, in this order).
    points
        Commune coordinates (``code``, ``latitude``, ``longitude``).
    engine
        Travel-time engine (minutes of the commute and of the trip to the office).
    minutes
        Maximum minutes from home to the office.
    gain_minimal
        Minimum minutes saved versus the current commute.
    factor_kg_per_km, detour_factor
        Emission factor (kg CO₂e per car-km) and road/great-circle ratio.
    """
    # Codes as Python objects: pandas' isin on Arrow strings converts every value of the
    # other side one by one (seconds on a national commune file).
    coords = points.assign(code=points["code"].astype(object)).drop_duplicates("code")
    coords = coords.set_index("code")[["latitude", "longitude"]]
    frame = flows[["residence", "workplace", "weight"]].astype(
        {"residence": object, "workplace": object}
    )
    known = coords.index
    placed = (known.get_indexer(pd.Index(frame["residence"])) >= 0) & (
        known.get_indexer(pd.Index(frame["workplace"])) >= 0
    )
    frame = frame[placed]
    frame = frame.reset_index(drop=True)
    query = pd.DataFrame({"origin": frame["residence"], "destination": frame["workplace"]})
    frame["minutes"] = engine.between(query, coords.reset_index()).to_numpy() if len(query) else []
    frame["km"] = _km(coords, frame["residence"], frame["workplace"]) * detour_factor
    origins = coords.loc[sorted(set(frame["residence"]))].reset_index()
    sites = coords.loc[[c for c in candidates if c in coords.index]].reset_index()
    near = engine.within(origins, sites, minutes) if len(origins) and len(sites) else None
    n = len(candidates)
    if near is None or near.empty or frame.empty:
        return FlowGains(sparse.csr_matrix((len(frame), n)), frame)
    near = near.rename(columns={"origin": "residence", "destination": "site", "minutes": "to_site"})
    near["km_site"] = _km(coords, near["residence"], near["site"]) * detour_factor
    frame["flow"] = np.arange(len(frame))
    pairs = frame.merge(near, on="residence", how="inner")
    saved_km = pairs["km"] - pairs["km_site"]
    ok = (pairs["minutes"] - pairs["to_site"] >= gain_minimal) & (saved_km > 0)
    pairs = pairs[ok.to_numpy()]
    column = {c: i for i, c in enumerate(candidates)}
    gains = 2.0 * (pairs["km"] - pairs["km_site"]) * pairs["weight"] * factor_kg_per_km
    matrix = sparse.csr_matrix(
        (
            gains.to_numpy(dtype=float),
            (pairs["flow"].to_numpy(), pairs["site"].map(column).to_numpy()),
        ),
        shape=(len(frame), n),
    )
    return FlowGains(matrix, frame.drop(columns="flow"))


def _km(coords: pd.DataFrame, origin: pd.Series, destination: pd.Series) -> np.ndarray:
    o = coords.reindex(origin.astype(str).to_numpy())
    d = coords.reindex(destination.astype(str).to_numpy())
    km: np.ndarray = great_circle_km(
        o["latitude"].to_numpy(float),
        o["longitude"].to_numpy(float),
        d["latitude"].to_numpy(float),
        d["longitude"].to_numpy(float),
    )
    return km
