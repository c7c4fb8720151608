"""Readers of the CSV files that other commands write, in one place (for the CLI).

``structures.csv`` (``tierslieux communities``), ``groups.csv`` and ``respondents.csv``
(``tierslieux survey analyse``), ``sites.csv`` (``tierslieux sites``): a web
application passes the frames it holds instead; the command line chains the commands
through these files.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tierslieux.analysis.dedup import deduplicate_structures
from tierslieux.errors import Problems, SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code
from tierslieux.model.structures import CATEGORIES
from tierslieux.sources._files import read_csv_strings, require_file
from tierslieux.sources.groups import read_groups

__all__ = [
    "check_demand_table",
    "read_demand_table",
    "read_groups",
    "read_respondents",
    "read_sites",
    "read_structures_table",
]


def read_demand_table(path: Path) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """Read a ``--demand`` file ``code,demand[,km]``, every value checked.

    Returns
    -------
    tuple
        Codes (stripped), demand per line and one-way km per line (``None`` without
        a ``km`` column; an empty km cell is NaN), aligned on the file's lines.

    Raises
    ------
    SchemaError
        Missing column, or, naming line and column, a demand that is empty,
        non-numeric, non-finite or negative, a km that is non-numeric, non-finite or
        negative, a code given twice (every problem gathered before raising).
    """
    return check_demand_table(read_csv_strings(path, role=N_("demande")), path)


def check_demand_table(
    frame: pd.DataFrame, path: Path
) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """Check a ``--demand`` table already read (see :func:`read_demand_table`)."""
    missing = [c for c in ("code", "demand") if c not in frame.columns]
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} manquante(s) (attendu : code,demand[,km]).",
                path=path,
                missing=", ".join(missing),
            )
        )
    found = Problems()
    demand = _checked_numbers(frame["demand"], path, "demand", found, required=True)
    km = _checked_numbers(frame["km"], path, "km", found, required=False) if "km" in frame else None
    keys = frame["code"].fillna("").str.strip()
    repeated = sorted(set(keys[keys.duplicated()]))
    if repeated:
        found.add(
            "{path} : code(s) en double : {codes} (une ligne par commune attendue).",
            path=str(path),
            codes=", ".join(repeated[:10]),
        )
    found.raise_if_any()
    return keys, demand, km


def _checked_numbers(
    cells: pd.Series, path: Path, column: str, found: Problems, *, required: bool
) -> pd.Series:
    """Parse decimal cells (comma accepted); record each invalid one with its line."""
    values: list[float] = []
    bad = 0
    for line, cell in enumerate(cells.tolist(), start=2):
        text = cell.strip() if isinstance(cell, str) else ""
        if not text and not required:
            values.append(math.nan)
            continue
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            bad += 1
            if bad <= 5:
                found.add(
                    "{path}, ligne {line}, colonne {column} : valeur « {value} » invalide "
                    "(attendu un nombre fini positif ou nul, par exemple 12.5).",
                    path=str(path),
                    line=line,
                    column=column,
                    value=text[:40],
                )
        values.append(value)
    return pd.Series(values, index=cells.index, dtype="float64")


def read_structures_table(path: Path) -> pd.DataFrame:
    """Structures of a ``structures.csv`` of ``tierslieux communities`` (read once per
    file version): categories of the four steps only, duplicates merged."""
    require_file(path, "structures")
    stat = path.stat()
    return _read_structures(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_structures(path: str, _mtime_ns: int, _size: int) -> pd.DataFrame:
    frame = read_csv_strings(Path(path), role=N_("structures"))
    missing = [c for c in ("categorie", "themes", "code_commune") if c not in frame.columns]
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} manquante(s) (fichier structures.csv de "
                "l'annuaire des communautés-base attendu).",
                path=path,
                missing=", ".join(missing),
            )
        )
    _check_structures(frame, Path(path))
    for column, _limit in _COORDINATES:
        if column in frame.columns:
            frame[column] = [_coordinate_text(cell) for cell in frame[column].tolist()]
    if "identifiant" not in frame.columns:
        frame["identifiant"] = [f"ligne:{i + 2}" for i in range(len(frame))]
    if "nom" not in frame.columns:
        frame["nom"] = frame["identifiant"]
    # A hand-edited or concatenated file may list one structure twice.
    return deduplicate_structures(frame[frame["categorie"].isin(CATEGORIES)])


_COORDINATES = (("latitude", 90.0), ("longitude", 180.0))


def _coordinate_text(cell: object) -> str | None:
    """A checked coordinate cell as the text of its number (decimal point), or None when
    blank: a cell holding only spaces or a tab is unknown, not a coordinate to parse later."""
    text = cell.strip().replace(",", ".") if isinstance(cell, str) else ""
    return text or None


def _check_structures(frame: pd.DataFrame, path: Path) -> None:
    """Categories known (or empty: not classified), coordinates finite and in range.

    Rows of the other categories are left out of the four steps on purpose; a category
    outside the dictionary (a typo, a shifted cell) would be left out without a word.
    """
    found = Problems()
    categories = frame["categorie"].fillna("").astype(str).str.strip()
    unknown = [(i + 2, c) for i, c in enumerate(categories.tolist()) if c and c not in CATEGORIES]
    for line, category in unknown[:5]:
        found.add(
            "{path}, ligne {line}, colonne categorie : « {value} » inconnue (attendu : "
            "{expected} ou vide).",
            path=str(path),
            line=line,
            value=category[:40],
            expected=", ".join(CATEGORIES),
        )
    for column, limit in _COORDINATES:
        if column not in frame.columns:
            continue
        bad = 0
        for line, cell in enumerate(frame[column].tolist(), start=2):
            text = cell.strip() if isinstance(cell, str) else ""
            if not text:
                continue
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and -limit <= value <= limit):
                bad += 1
                if bad <= 5:
                    found.add(
                        "{path}, ligne {line}, colonne {column} : « {value} » invalide "
                        "(attendu un nombre entre -{limit} et {limit}, ou vide).",
                        path=str(path),
                        line=line,
                        column=column,
                        value=text[:40],
                        limit=int(limit),
                    )
    found.raise_if_any()


def read_respondents(path: Path) -> pd.DataFrame:
    """The ``respondents.csv`` of ``tierslieux survey analyse``, column ``commune`` checked."""
    frame = read_csv_strings(path, role=N_("répondants du questionnaire"))
    if "commune" not in frame.columns:
        raise SchemaError(
            _(
                "{path} : colonne commune manquante (fichier respondents.csv des "
                "résultats du questionnaire attendu).",
                path=path,
            )
        )
    return frame


def read_sites(path: Path, known: set[str]) -> list[str]:
    """Communes of the chosen sites, from the ``sites.csv`` of ``tierslieux sites``.

    Column ``code_commune`` when present (a site may be a place, whose ``code`` is its
    own identifier), else ``code``; a hand-written one-column list of codes also works.
    """
    try:
        with Path(path).open("rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace")
    except OSError:
        header = ";"  # let read_csv_strings report the missing file
    # A hand-written list of codes has a single column: no separator to detect.
    single = not any(sep in header for sep in (";", ",", "\t", "|"))
    frame = read_csv_strings(path, role="sites", separator="," if single else None)
    column = "code_commune" if "code_commune" in frame.columns else "code"
    if column not in frame.columns:
        raise SchemaError(
            _(
                "{path} : colonne code manquante (fichier sites.csv des sites "
                "d'expérimentation attendu).",
                path=path,
            )
        )
    codes: list[str] = []
    for line, value in enumerate(frame[column], start=2):
        code = str(value).strip() if pd.notna(value) else ""
        if not is_commune_code(code) or code not in known:
            raise SchemaError(
                _(
                    "{path}, ligne {line} : « {code} » n'est pas le code d'une commune connue.",
                    path=path,
                    line=line,
                    code=code,
                )
            )
        codes.append(code)
    if not codes:
        raise SchemaError(_("{path} : aucun site.", path=path))
    return codes
