"""Candidate places of ``tierslieux sites``: a user's list of buildings with coordinates.

A CSV (``,`` or ``;``, UTF-8 or Windows-1252), one row per place that could host an
experimentation site (a vacant shop, a station building, a room of a town hall...).
Column names are matched without case:

=====================================  ========  =============================================
column (accepted names)                required  content
=====================================  ========  =============================================
``nom`` (``name``, ``libelle``,        yes       name of the place, shown in the results
``lieu``)
``latitude`` (``lat``, ``y``)          yes (1)   WGS84 decimal degrees (point or comma)
``longitude`` (``lon``, ``lng``,       yes (1)   WGS84 decimal degrees (point or comma)
``x``)
``code_commune`` (``code_insee``,      no (1)    INSEE code of the commune of the place
``insee``, ``codgeo``, ``insee_com``,
``code``)
``identifiant`` (``id``)               no        stable identifier; ``L1``, ``L2``... by line
=====================================  ========  =============================================

(1) A row needs coordinates, or a commune code (the place then stands at the commune's
centre).  Without a commune code, the pipeline puts the place in the commune whose
centre is nearest.  Any other column is kept as read; columns about people (e-mail,
telephone, contact...) are dropped on load and never written.

The ``structures.csv`` written by ``tierslieux communities`` has these columns: a
filtered copy of it is a valid list of candidate places.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.sources._files import find_column, find_optional_column, read_csv_strings
from tierslieux.sources._records import (
    commune_code,
    parse_coordinate,
    personal_columns,
    raise_problems,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CANDIDATE_COLUMNS", "load_candidate_places"]

#: Columns of the frame returned by :func:`load_candidate_places`.
CANDIDATE_COLUMNS = ("identifiant", "nom", "latitude", "longitude", "code_commune")

_NAME = ("nom", "name", "libelle", "lieu")
_LAT = ("latitude", "lat", "y")
_LON = ("longitude", "lon", "lng", "x")
_CODE = ("code_commune", "code_insee", "insee", "codgeo", "insee_com", "code")
_IDENT = ("identifiant", "id")


def load_candidate_places(path: Path) -> pd.DataFrame:
    """Read a list of candidate places (see the module documentation).

    Returns
    -------
    pandas.DataFrame
        ``identifiant``, ``nom``, ``latitude``, ``longitude`` (float, NaN when only
        the commune is given), ``code_commune`` (string or ``None``), then the other
        columns of the file minus personal ones.

    Raises
    ------
    SchemaError
        Missing name column, a row with neither coordinates nor commune, an invalid
        coordinate or commune code, an empty name, duplicated identifiers; every problem
        is listed with its line.
    """
    role = _("lieux candidats")
    frame = read_csv_strings(path, role=role)
    frame = frame.drop(columns=personal_columns(frame.columns))
    columns = list(frame.columns)
    name_col = find_column(columns, _NAME, path=path, what=_("nom du lieu"))
    lat_col = find_optional_column(columns, _LAT)
    lon_col = find_optional_column(columns, _LON)
    code_col = find_optional_column(columns, _CODE)
    ident_col = find_optional_column(columns, _IDENT)
    if (lat_col is None or lon_col is None) and code_col is None:
        raise SchemaError(
            _(
                "{path} : il faut des colonnes latitude et longitude, ou une colonne "
                "code_commune (colonnes présentes : {columns}).",
                path=path,
                columns=", ".join(columns),
            )
        )
    if frame.empty:
        raise SchemaError(_("{path} : aucun lieu candidat.", path=path))
    problems: list[str] = []
    rows = []
    for number, record in enumerate(frame.to_dict("records"), start=2):
        where = _("ligne {n}", n=number)
        name = str(record[name_col]).strip() if pd.notna(record[name_col]) else ""
        if not name:
            problems.append(_("{where} : nom du lieu vide", where=where))
        lat = (
            parse_coordinate(record[lat_col], kind=lat_col, where=where, problems=problems)
            if lat_col
            else math.nan
        )
        lon = (
            parse_coordinate(record[lon_col], kind=lon_col, where=where, problems=problems)
            if lon_col
            else math.nan
        )
        code = None
        if code_col is not None:
            code, _raw = commune_code(
                record[code_col], where=where, column=code_col, problems=problems
            )
        if (math.isnan(lat) or math.isnan(lon)) and code is None:
            problems.append(_("{where} : ni coordonnées complètes ni code commune", where=where))
        ident = (
            str(record[ident_col]).strip()
            if ident_col is not None and pd.notna(record[ident_col])
            else ""
        )
        extras = {
            k: v
            for k, v in record.items()
            if k not in {name_col, lat_col, lon_col, code_col, ident_col}
        }
        rows.append(
            {
                "identifiant": ident or f"L{number - 1}",
                "nom": name,
                "latitude": lat,
                "longitude": lon,
                "code_commune": code,
                **extras,
            }
        )
    places = pd.DataFrame(rows)
    duplicated = places.loc[places["identifiant"].duplicated(), "identifiant"]
    problems.extend(
        _("identifiant « {id} » en double", id=ident) for ident in sorted(set(duplicated))
    )
    raise_problems(problems, path, role)
    return places
