"""Import of a precomputed travel-time matrix (CSV, long form).

Accepted layout: one row per (origin, destination) pair, separator ``,`` or ``;`` (also
tab or ``|``), UTF-8 or Windows-1252, with a header naming three columns among the
aliases below (case-insensitive):

- origin: ``origin``, ``from_id`` (r5py), ``code_origine``, ``origine``,
  ``commune_origine``, ``codgeo_origine``, ``idsrc``, ``src``;
- destination: ``destination``, ``to_id`` (r5py), ``code_destination``, ``commune_destination``,
  ``codgeo_destination``, ``iddst``, ``dst``;
- minutes: ``minutes``, ``travel_time`` (r5py), ``duree``, ``durée``, ``duree_minutes``,
  ``temps``, ``temps_minutes``, ``time``.

Codes are kept as text (leading zeros preserved).  Minutes are decimal numbers, with a
``.`` or, in ``;``-separated files, a ``,`` as decimal mark.  An empty minutes cell means
"no route known" and is dropped.  The same pair given twice with the same minutes is
kept once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.traveltime import OD_COLUMNS
from tierslieux.model.types import Provenance
from tierslieux.sources._files import find_column, read_csv_strings, sha256_of

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["COLUMN_ALIASES", "load_travel_times"]

#: Accepted header names of each canonical column, in order of preference.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "origin": (
        "origin",
        "from_id",
        "code_origine",
        "origine",
        "commune_origine",
        "codgeo_origine",
        "idsrc",
        "src",
    ),
    "destination": (
        "destination",
        "to_id",
        "code_destination",
        "commune_destination",
        "codgeo_destination",
        "iddst",
        "dst",
    ),
    "minutes": (
        "minutes",
        "travel_time",
        "duree",
        "durée",
        "duree_minutes",
        "temps",
        "temps_minutes",
        "time",
    ),
}
_ROLE = N_("matrice de temps de trajet")
_MAX_LINES_SHOWN = 5
# Header is line 1, so the first data row is line 2.
_FIRST_DATA_LINE = 2


def _lines(mask: pd.Series) -> str:
    """Return the file line numbers of the True rows of ``mask`` (a few, for messages)."""
    positions = [int(i) + _FIRST_DATA_LINE for i in mask.to_numpy().nonzero()[0]]
    shown = ", ".join(map(str, positions[:_MAX_LINES_SHOWN]))
    return shown + (" …" if len(positions) > _MAX_LINES_SHOWN else "")


def load_travel_times(path: Path) -> tuple[pd.DataFrame, Provenance]:
    """Read and validate a travel-time matrix in long form.

    Parameters
    ----------
    path
        CSV file (see the module docstring for the accepted columns).

    Returns
    -------
    tuple[pandas.DataFrame, Provenance]
        The OD frame (``origin``, ``destination`` as ``str``; ``minutes`` as
        ``float64``, in minutes), sorted by origin then destination, and where it
        came from (path and SHA-256).

    Raises
    ------
    SourceError
        The file is missing, a folder, or empty.
    SchemaError
        Missing column, empty code, non-numeric or negative minutes (with their line
        numbers), or a pair given twice with different minutes.
    """
    raw = read_csv_strings(path, role=_ROLE)
    if raw.empty:
        raise SchemaError(
            _(
                "{path} : la matrice de temps de trajet n'a que son en-tête, aucune paire "
                "origine-destination (attendu une ligne origine, destination, minutes par paire).",
                path=path,
            )
        )
    columns = {
        canonical: find_column(raw.columns, aliases, path=path, what=canonical)
        for canonical, aliases in COLUMN_ALIASES.items()
    }
    origin = raw[columns["origin"]].str.strip()
    destination = raw[columns["destination"]].str.strip()
    text = raw[columns["minutes"]].str.strip()
    # ';'-separated files often come from French spreadsheets: "12,5" means 12.5.
    minutes = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")

    problems: list[str] = []
    for name, codes in (("origin", origin), ("destination", destination)):
        empty = codes.isna() | (codes == "")
        if empty.any():
            problems.append(
                _(
                    "code {column} vide ligne(s) {lines}",
                    column=columns[name],
                    lines=_lines(empty),
                )
            )
    not_numeric = text.notna() & minutes.isna()
    if not_numeric.any():
        problems.append(
            _(
                "colonne {column} : valeur non numérique ligne(s) {lines} (par exemple "
                "« {example} » ; attendu un nombre de minutes)",
                column=columns["minutes"],
                lines=_lines(not_numeric),
                example=text[not_numeric].iloc[0],
            )
        )
    not_finite = minutes.isin([float("inf"), float("-inf")])
    if not_finite.any():
        problems.append(
            _(
                "colonne {column} : durée infinie ligne(s) {lines} (attendu un nombre de "
                "minutes fini ; laissez la cellule vide s'il n'y a pas d'itinéraire)",
                column=columns["minutes"],
                lines=_lines(not_finite),
            )
        )
    negative = minutes < 0
    negative &= ~not_finite
    if negative.any():
        problems.append(
            _(
                "colonne {column} : durée négative ligne(s) {lines} (attendu un nombre de "
                "minutes positif ou nul)",
                column=columns["minutes"],
                lines=_lines(negative),
            )
        )
    frame = pd.DataFrame(
        {"origin": origin, "destination": destination, "minutes": minutes.astype("float64")}
    )
    known = frame[minutes.notna()]
    repeated = known.duplicated(["origin", "destination"], keep=False)
    if repeated.any():
        spread = known[repeated].groupby(["origin", "destination"])["minutes"].nunique()
        conflicting = spread[spread > 1].index
        if len(conflicting):
            keys = pd.MultiIndex.from_frame(known[["origin", "destination"]])
            in_conflict = pd.Series(keys.isin(conflicting), index=known.index).reindex(
                frame.index, fill_value=False
            )
            problems.append(
                _(
                    "paire(s) en double avec des durées différentes ligne(s) {lines}",
                    lines=_lines(in_conflict),
                )
            )
    if problems:
        raise SchemaError(_("{path} : {problems}.", path=path, problems=" ; ".join(problems)))
    result = (
        known.drop_duplicates(["origin", "destination"])
        .loc[:, list(OD_COLUMNS)]
        .astype({"origin": object, "destination": object, "minutes": "float64"})
        .sort_values(["origin", "destination"], kind="stable")
        .reset_index(drop=True)
    )
    notes = [_("{count} paires origine-destination.", count=len(result))]
    dropped = int(minutes.isna().sum())
    if dropped:
        notes.append(_("{count} ligne(s) sans durée (pas d'itinéraire) ignorée(s).", count=dropped))
    provenance = Provenance(
        role="temps_de_trajet",
        location=str(path),
        sha256=sha256_of(path),
        notes=tuple(notes),
    )
    return result, provenance
