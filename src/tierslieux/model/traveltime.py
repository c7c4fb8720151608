"""Travel-time vocabulary: the engine protocol, frame contracts and straight-line parameters.

Every engine (straight line, imported matrix, OSRM server...) speaks the same two frames:

- a **points** frame: columns ``code`` (``str``, INSEE commune code), ``latitude`` and
  ``longitude`` (``float``, degrees, EPSG:4326), one row per code;
- an **origin-destination (OD)** frame, always long form: columns ``origin`` (``str``),
  ``destination`` (``str``) and ``minutes`` (``float64``, car travel time in minutes).

This module holds no I/O and imports no third-party library at run time: pandas only
appears in type annotations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_DETOUR_FACTOR",
    "DEFAULT_SPEED_KMH",
    "MAX_ROAD_SPEED_KMH",
    "OD_COLUMNS",
    "POINT_COLUMNS",
    "StraightLineParameters",
    "TravelTimeEngine",
    "check_points",
]

#: Columns of a points frame, in order.
POINT_COLUMNS: tuple[str, ...] = ("code", "latitude", "longitude")
#: Columns of an origin-destination frame, in order.
OD_COLUMNS: tuple[str, ...] = ("origin", "destination", "minutes")

#: Ratio of road distance to great-circle distance (dimensionless).
#:
#: Source: Mennicken, Lemoy & Caruso, "Road network distances and detours in Europe",
#: *Environment and Planning B: Urban Analytics and City Science*,
#: doi:10.1177/23998083231168870.  Abstract: "for the first time document an average
#: radial physical detour of 1.343 across Europe" (fastest car routes from sampled
#: residences to the main centre of 300 European cities).  Corroborated by Wang, Bette,
#: Schreckenberg & Guhr, "How much longer do you have to drive than the crow has to
#: fly?", *npj Complexity* 1, 22 (2024), doi:10.1038/s44260-024-00023-x: "we typically
#: have to drive 1.3 ± 0.1 times longer than the crow flies" (motorway networks).
#: Not confirmed: the value for France in Ballou, Rahardja & Sakai (2002), "Selected
#: country circuity factors for road travel distance estimation", *Transportation
#: Research Part A* 36(9), 843-848, whose table could not be consulted.  Rural French
#: networks may be more circuitous than this urban average: use an OSRM server or an
#: imported matrix where precision matters.
DEFAULT_DETOUR_FACTOR = 1.343

#: Mean door-to-door car speed along the road, in km/h.
#:
#: Source (secondary, to be confirmed against the SDES tables): analysis of the national
#: survey "Enquête mobilité des personnes 2019" (SDES/Insee) by Y. Tresson, "La
#: mobilité locale et la vitesse", cestpour.info/deplacements/entd_4.html, September
#: 2023: "Pour les déplacements en voiture entre 10 et 20 km, cette vitesse est de
#: 36 km/h".  The order of magnitude agrees with the 37 km/h of local car trips reported
#: by Madre & Maffre (1997) from the national transport surveys, as quoted in
#: S. Massot's thesis (Université Lyon 2, 2000).  Trips of 10-20 km are the range of a
#: 20-minute catchment.  It is a door-to-door average (parking and congestion
#: included), slower than free-flow routing engines such as OSRM.
DEFAULT_SPEED_KMH = 36.0

#: Highest legal car speed in France, in km/h: 130 km/h on motorways (Code de la route,
#: article R413-2).  No commune farther than ``minutes / 60 * 130`` km as the crow flies
#: can be reached by car within ``minutes``: the bound used to look for the communes
#: just outside a territory before asking the travel-time engine.
MAX_ROAD_SPEED_KMH = 130.0


@dataclass(frozen=True)
class StraightLineParameters:
    """Parameters of the straight-line travel-time estimator.

    ``minutes = great_circle_km * detour_factor / speed_kmh * 60`` between two distinct
    communes; ``intra_commune_minutes`` for a commune with itself.

    Attributes
    ----------
    detour_factor
        Road distance / great-circle distance, dimensionless, >= 1 in practice
        (default :data:`DEFAULT_DETOUR_FACTOR`, sourced there).
    speed_kmh
        Mean car speed along the road, in km/h (default :data:`DEFAULT_SPEED_KMH`,
        sourced there).
    intra_commune_minutes
        Minutes from a commune to itself, 0 by default (the catchment of a commune
        always contains it).
    """

    detour_factor: float = DEFAULT_DETOUR_FACTOR
    speed_kmh: float = DEFAULT_SPEED_KMH
    intra_commune_minutes: float = 0.0

    def __post_init__(self) -> None:
        """Refuse parameters that make no physical sense."""
        problems = []
        if not self.detour_factor > 0:
            problems.append(_("facteur de détour {value} (attendu > 0)", value=self.detour_factor))
        if not self.speed_kmh > 0:
            problems.append(_("vitesse {value} km/h (attendu > 0)", value=self.speed_kmh))
        if not self.intra_commune_minutes >= 0:
            problems.append(
                _(
                    "temps intra-communal {value} min (attendu >= 0)",
                    value=self.intra_commune_minutes,
                )
            )
        if problems:
            raise SchemaError(
                _(
                    "Paramètres du temps de trajet à vol d'oiseau invalides : {problems}.",
                    problems=" ; ".join(problems),
                )
            )

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable mapping (provenance, cache keys)."""
        return dict(asdict(self))


@runtime_checkable
class TravelTimeEngine(Protocol):
    """What every travel-time engine provides.

    Engines never mutate their inputs and always return new frames.
    """

    @property
    def name(self) -> str:
        """Short identifier of the engine (``"straight_line"``, ``"osrm"``...)."""
        ...

    def parameters(self) -> dict[str, object]:
        """Return the parameters that determine the results (provenance, cache keys)."""
        ...

    def within(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, max_minutes: float
    ) -> pd.DataFrame:
        """Return every pair reachable in at most ``max_minutes`` minutes.

        Parameters
        ----------
        origins, destinations
            Points frames (``code``, ``latitude``, ``longitude`` in EPSG:4326).
        max_minutes
            Threshold in minutes (inclusive).

        Returns
        -------
        pandas.DataFrame
            OD frame (``origin``, ``destination``, ``minutes``), including each origin
            with itself when its code is among the destinations.
        """
        ...

    def between(self, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
        """Return the minutes of given pairs.

        Parameters
        ----------
        pairs
            Frame with ``origin`` and ``destination`` code columns.
        points
            Points frame giving the coordinates (EPSG:4326) of the codes.

        Returns
        -------
        pandas.Series
            ``float64`` minutes aligned on ``pairs.index``; NaN when unknown (a code
            without coordinates, a pair absent from an imported matrix, no route).
        """
        ...


def check_points(points: pd.DataFrame, *, what: str = "points") -> None:
    """Check that ``points`` follows the points-frame contract.

    Every problem is gathered into one message.

    Raises
    ------
    SchemaError
        Missing column, non-numeric coordinates, coordinates out of range
        (latitude in [-90, 90], longitude in [-180, 180] degrees, EPSG:4326) or a
        duplicated code.
    """
    missing = [c for c in POINT_COLUMNS if c not in points.columns]
    if missing:
        raise SchemaError(
            _(
                "Tableau {what} : colonne(s) {missing} absente(s) (attendu : {expected} ; "
                "présentes : {present}).",
                what=what,
                missing=", ".join(missing),
                expected=", ".join(POINT_COLUMNS),
                present=", ".join(map(str, points.columns)),
            )
        )
    problems: list[str] = []
    for column, bound in (("latitude", 90.0), ("longitude", 180.0)):
        values = points[column]
        if values.dtype.kind not in "fiu":
            problems.append(
                _(
                    "colonne {column} non numérique (type {dtype})",
                    column=column,
                    dtype=values.dtype,
                )
            )
            continue
        bad = points.loc[values.abs() > bound, "code"]
        if len(bad):
            problems.append(
                _(
                    "{column} hors de [-{bound}, {bound}] degrés pour {codes} "
                    "(coordonnées attendues en EPSG:4326)",
                    column=column,
                    bound=bound,
                    codes=", ".join(map(str, bad.head(5))),
                )
            )
    duplicated = points.loc[points["code"].duplicated(), "code"]
    if len(duplicated):
        problems.append(
            _("code(s) en double : {codes}", codes=", ".join(map(str, duplicated.head(5))))
        )
    if problems:
        raise SchemaError(
            _("Tableau {what} invalide : {problems}.", what=what, problems=" ; ".join(problems))
        )
