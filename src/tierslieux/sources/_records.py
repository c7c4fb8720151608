"""Shared by the loaders of structures (places, actors, candidate sites): one canonical frame.

Every loader of :mod:`tierslieux.sources.tiers_lieux`, :mod:`~tierslieux.sources.gares`,
:mod:`~tierslieux.sources.mediation`, :mod:`~tierslieux.sources.actors` and
:mod:`~tierslieux.sources.candidates` returns the canonical *structures* frame (columns
:data:`~tierslieux.model.structures.STRUCTURE_COLUMNS` in that order, then extras) built
by :func:`structures_frame`.  Text columns have the pandas ``string`` dtype;
``latitude`` and ``longitude`` are ``float64`` in EPSG:4326 (NaN when unknown);
``code_commune`` is a 5-character INSEE code, Paris/Lyon/Marseille arrondissements being
reported in their commune (the original code stays in ``code_commune_source``).

Personal data: any column of :data:`PERSONAL_FIELDS` (e.g. the ``CONTACT`` and ``MAIL``
columns of the tiers-lieux census) is dropped as soon as a file is read; it never
reaches a returned frame.  Problems are gathered row by row, then raised at once by
:func:`raise_problems`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import (
    commune_of_arrondissement,
    is_commune_code,
    normalise_commune_code,
)
from tierslieux.model.structures import STRUCTURE_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "PERSONAL_FIELDS",
    "commune_code",
    "departement_of_code",
    "departements_of_postcode",
    "filter_communes",
    "is_missing",
    "line_of",
    "parse_coordinate",
    "personal_columns",
    "raise_problems",
    "structures_frame",
    "text_of",
]

#: Column names (lower case, accents removed) that hold data on people: never kept.
PERSONAL_FIELDS: frozenset[str] = frozenset(
    {
        "contact",
        "contacts",
        "mail",
        "email",
        "e_mail",
        "e-mail",
        "courriel",
        "courriels",
        "telephone",
        "telephones",
        "tel",
        "phone",
        "mobile",
        "portable",
    }
)
_MAX_LISTED = 8


def structures_frame(
    records: Sequence[Mapping[str, Any]], extras: Sequence[str] = ()
) -> pd.DataFrame:
    """Build a canonical structures frame from records.

    Parameters
    ----------
    records
        One mapping per structure holding at least the keys of ``STRUCTURE_COLUMNS``
        (missing ones become NA) and, optionally, the keys of ``extras``.
    extras
        Extra columns to keep after the canonical ones, in that order.

    Returns
    -------
    pandas.DataFrame
        Columns ``STRUCTURE_COLUMNS`` then ``extras``; text as ``string`` dtype,
        ``latitude``/``longitude`` as ``float64``.
    """
    columns = [*STRUCTURE_COLUMNS, *extras]
    frame = pd.DataFrame.from_records(list(records), columns=columns)
    for column in columns:
        if column in {"latitude", "longitude"}:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif frame[column].map(lambda v: is_missing(v) or isinstance(v, str)).all():
            frame[column] = frame[column].astype("string")
    return frame.reset_index(drop=True)


def filter_communes(frame: pd.DataFrame, communes: Sequence[str] | None) -> pd.DataFrame:
    """Keep the rows whose ``code_commune`` is one of ``communes`` (all when ``None``).

    Arrondissement codes in ``communes`` count for their commune.
    """
    if communes is None:
        return frame
    wanted = {commune_of_arrondissement(str(c).strip()) for c in communes}
    return frame[frame["code_commune"].isin(wanted).fillna(value=False)].reset_index(drop=True)


def is_missing(value: object) -> bool:
    """Whether ``value`` is None, NA or NaN."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def text_of(value: object) -> str | None:
    """Return ``value`` as stripped text, None when missing, empty or ``NULL``."""
    if is_missing(value):
        return None
    text = str(value).strip()
    # Some exports write the database's empty value literally.
    return None if not text or text == "NULL" else text


def _key(name: str) -> str:
    """Lower-case column name without accents, spaces as underscores."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", "_", plain.strip().lower())


def personal_columns(columns: Iterable[str]) -> list[str]:
    """Return the columns of ``columns`` that hold personal data (see PERSONAL_FIELDS)."""
    found = []
    for column in columns:
        key = _key(column)
        parts = set(key.split("_"))
        if key in PERSONAL_FIELDS or parts & PERSONAL_FIELDS:
            found.append(column)
    return found


def parse_coordinate(value: object, *, kind: str, where: str, problems: list[str]) -> float:
    """Parse a latitude or longitude (decimal point or comma), appending problems.

    Returns NaN for an empty value and for an invalid one (then ``problems`` grows).
    """
    if is_missing(value):
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        if not text:
            return math.nan
        try:
            number = float(text)
        except ValueError:
            problems.append(
                _(
                    "{where}, colonne {kind} : « {value} » n'est pas un nombre décimal",
                    where=where,
                    kind=kind,
                    value=value,
                )
            )
            return math.nan
    limit = 90.0 if kind.lower().startswith("lat") else 180.0
    if not math.isfinite(number) or abs(number) > limit:
        problems.append(
            _(
                "{where}, colonne {kind} : {value} hors de [-{limit:g}, {limit:g}]",
                where=where,
                kind=kind,
                value=value,
                limit=limit,
            )
        )
        return math.nan
    return number


def raise_problems(problems: Sequence[str], path: Path, what: str) -> None:
    """Raise one SchemaError listing every problem found in ``path`` (if any)."""
    if not problems:
        return
    listed = "; ".join(problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    if more > 0:
        listed += _(" ; et {n} autre(s)", n=more)
    raise SchemaError(
        _(
            "{path} : {count} valeur(s) invalide(s) dans le fichier {what} : {listed}.",
            path=path,
            count=len(problems),
            what=what,
            listed=listed,
        )
    )


def commune_code(
    value: object, *, where: str, column: str, problems: list[str]
) -> tuple[str | None, str | None]:
    """Normalise an INSEE code: return (commune code, code as read), appending problems."""
    code = normalise_commune_code(text_of(value))
    if code is None:
        return None, None
    if not is_commune_code(code):
        problems.append(
            _(
                "{where}, colonne {column} : « {value} » n'est pas un code commune INSEE "
                "(5 caractères, ex. 05061 ou 2A004)",
                where=where,
                column=column,
                value=value,
            )
        )
        return None, None
    return commune_of_arrondissement(code), code


def line_of(index: int) -> str:
    """Name the CSV line of data row ``index`` (0-based) for a message."""
    # Line 1 is the header; the files have no line breaks inside fields.
    return _("ligne {n}", n=index + 2)


def departements_of_postcode(postcode: str | None) -> set[str]:
    """Return the départements a French postcode may belong to (empty if invalid)."""
    if postcode is None or not re.fullmatch(r"\d{5}", postcode):
        return set()
    if postcode.startswith("20"):
        return {"2A", "2B"}
    if postcode.startswith("97"):
        return {postcode[:3]}
    return {postcode[:2]}


def departement_of_code(code: str) -> str:
    """Return the département of an INSEE commune code (3 characters overseas)."""
    return code[:3] if code.startswith("97") else code[:2]
