"""INSEE density grid of the communes (grille communale de densité, 7 levels).

Formats read by :func:`load_densite`:

- the INSEE workbook ``grille_densite_7_niveaux_YYYY.xlsx`` (2021-2024, page
  https://www.insee.fr/fr/information/6439600): a few title rows, then the header row
  ``CODGEO, LIBGEO, DENS, LIBDENS, ...`` where ``DENS`` is the level 1-7;
- the INSEE workbook ``fichier_diffusion_YYYY.xlsx`` (2025 grid, page
  https://www.insee.fr/fr/information/8571524): sheet ``Maille communale``, title rows,
  then ``CODGEO, LIBGEO, DENS, LIBDENS, PMUN22, P1, P2, P3, DENS_AAV, LIBDENS_AAV,
  DENS7, LIBDENS7`` where ``DENS`` is the 3-level grid and ``DENS7`` the 7 levels;
- either of them inside a ``.zip``, or saved as CSV;
- data.gouv.fr's « Communes et villes de France » ``communes-france-YYYY.csv``
  (columns ``code_insee`` and ``grille_densite`` 1-7, ``grille_densite_texte``; its
  ``densite`` column is the population density, not the grid).

The header row is looked for among the first 20 rows.  Codes stay text (a code that
lost its leading zero is padded back).  A 3-level grid alone is refused: its levels do
not say which communes are rural in the 7-level sense.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code, normalise_commune_code
from tierslieux.model.rurality import DENSITY_LABELS
from tierslieux.model.types import Provenance
from tierslieux.sources._files import detect_encoding, require_file, sha256_of
from tierslieux.sources.zonages import (
    Rows,
    _read_workbook,
    _read_workbook_in_zip,
    _rows_from_text,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Densite", "load_densite"]

ROLE = N_("grille de densité")

_CODE_ALIASES = ("codgeo", "code_insee", "code_commune", "depcom", "com", "code")
#: Level columns, best first: the 7-level one of the 2025 file, data.gouv's, then DENS.
_LEVEL_ALIASES = ("dens7", "grille_densite", "dens")
_LABEL_FOR = {"dens7": "libdens7", "grille_densite": "grille_densite_texte", "dens": "libdens"}
_PREFERRED_SHEET = "maille communale"
_HEADER_SEARCH_ROWS = 20
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_MAX_LISTED = 10
#: Labels of the 3-level grid (normalised): a ``DENS`` column carrying them is refused.
_THREE_LEVEL_LABELS = frozenset(
    {
        "rural",
        "urbain dense",
        "urbain intermediaire",
        "communes rurales",
        "commune rurale",
        "communes densement peuplees",
        "commune densement peuplee",
        "communes de densite intermediaire",
        "commune de densite intermediaire",
    }
)
#: Without labels, this many rows none above level 3 is taken for a 3-level grid.
_THREE_LEVEL_MIN_ROWS = 100


@dataclass(frozen=True)
class Densite:
    """Density level of each commune.

    Attributes
    ----------
    table
        Columns ``code`` (INSEE commune code, unique) and ``densite`` (level ``"1"`` to
        ``"7"`` as text).
    provenance
        Where the data came from.
    """

    table: pd.DataFrame
    provenance: Provenance

    def levels(self) -> dict[str, str]:
        """Code -> level, for :func:`tierslieux.model.rurality.rural_flags`."""
        return dict(zip(self.table["code"], self.table["densite"], strict=True))


def load_densite(path: Path) -> Densite:
    """Read the INSEE density grid (XLSX, zip or CSV, see the module documentation).

    Raises
    ------
    SourceError
        If the file is missing, empty or an unreadable archive or workbook.
    SchemaError
        If no header with a commune code and a density level is found, a code or a
        level is invalid (line and value named), a commune has two different levels,
        or the grid has only 3 levels.
    """
    require_file(path, ROLE)
    name = path.name.lower()
    if name.endswith(".zip"):
        sheets = _read_workbook_in_zip(path, ROLE)
    elif name.endswith((".xlsx", ".xlsm")):
        sheets = _read_workbook(path.read_bytes(), path, ROLE)
    else:
        sheets = {"": _rows_from_text(path.read_bytes(), str(path), detect_encoding(path))}
    rows, sheet, index = _grid_sheet(sheets, path)
    where = f"{path} ({_('feuille')} {sheet})" if sheet else str(path)
    table = _levels(rows, index, where)
    year = _YEAR.search(path.name)
    provenance = Provenance(
        role=ROLE,
        location=str(path),
        vintage=_("grille {year}", year=year.group(1)) if year else None,
        licence="Licence Ouverte 2.0 (Insee)",
        sha256=sha256_of(path),
    )
    return Densite(table=table, provenance=provenance)


def _header_of(rows: Rows) -> tuple[int, str, str] | None:
    """Index of the header row, its code column and its level column (lower-case)."""
    for number, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = [str(c).strip().lower() for c in row if c]
        code = next((a for a in _CODE_ALIASES if a in cells), None)
        level = next((a for a in _LEVEL_ALIASES if a in cells), None)
        if code and level:
            return number, code, level
    return None


def _grid_sheet(sheets: dict[str, Rows], path: Path) -> tuple[Rows, str, int]:
    ordered = sorted(sheets, key=lambda s: s.strip().lower() != _PREFERRED_SHEET)
    for name in ordered:
        found = _header_of(sheets[name])
        if found is not None:
            return sheets[name], name, found[0]
    raise SchemaError(
        _(
            "{path} : ligne d'en-tête de la grille de densité introuvable dans les {n} "
            "premières lignes{sheets} (attendu une colonne code commune {codes} et une "
            "colonne de niveau {levels}).",
            path=path,
            n=_HEADER_SEARCH_ROWS,
            sheets=(
                _(" des feuilles {names}", names=", ".join(s for s in sheets if s))
                if any(sheets)
                else ""
            ),
            codes="CODGEO ou code_insee",
            levels="DENS, DENS7 ou grille_densite",
        )
    )


def _normalised(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().split())


def _levels(rows: Rows, index: int, where: str) -> pd.DataFrame:
    header = [str(c).strip().lower() if c else "" for c in rows[index]]
    code_key = next(a for a in _CODE_ALIASES if a in header)
    level_key = next(a for a in _LEVEL_ALIASES if a in header)
    code_at, level_at = header.index(code_key), header.index(level_key)
    label_key = _LABEL_FOR[level_key]
    label_at = header.index(label_key) if label_key in header else None
    codes: list[str] = []
    levels: list[str | None] = []
    lines: list[int] = []
    problems: list[str] = []
    three_level_labels = False
    for offset, row in enumerate(rows[index + 1 :]):
        if not any(row):
            continue
        line = index + 2 + offset
        cells = list(row) + [None] * (len(header) - len(row))
        code = normalise_commune_code(cells[code_at])
        if code is None or not is_commune_code(code):
            problems.append(
                _(
                    "ligne {line} : code commune « {value} » (attendu 5 caractères, par "
                    "exemple 05061 ou 2A004)",
                    line=line,
                    value=cells[code_at] or "",
                )
            )
            continue
        raw = cells[level_at]
        level = None if raw is None else str(raw).strip().removesuffix(".0")
        if level and level not in DENSITY_LABELS:
            problems.append(
                _(
                    "ligne {line} : niveau de densité « {value} » pour {code} (attendu 1 à 7)",
                    line=line,
                    value=raw,
                    code=code,
                )
            )
            continue
        if label_at is not None and cells[label_at]:
            three_level_labels |= _normalised(str(cells[label_at])) in _THREE_LEVEL_LABELS
        codes.append(code)
        levels.append(level or None)
        lines.append(line)
    if problems:
        raise SchemaError(_("{path} : {problems}.", path=where, problems=_join(problems)))
    if not codes:
        raise SchemaError(_("{path} : aucune commune sous la ligne d'en-tête.", path=where))
    known = [v for v in levels if v]
    three_levels = level_key == "dens" and (
        three_level_labels
        or (
            label_at is None
            and len(known) >= _THREE_LEVEL_MIN_ROWS
            and max(int(v) for v in known) <= 3
        )
    )
    if three_levels:
        raise SchemaError(
            _(
                "{path} : la colonne {column} est la grille de densité à 3 niveaux (urbain "
                "dense, intermédiaire, rural) ; tierslieux a besoin de la grille à 7 niveaux "
                "(colonne DENS7 du fichier 2025, ou DENS de grille_densite_7_niveaux_AAAA.xlsx).",
                path=where,
                column=level_key.upper(),
            )
        )
    table = pd.DataFrame({"code": codes, "densite": pd.Series(levels, dtype="string")})
    return _deduplicate(table, lines, where)


def _deduplicate(table: pd.DataFrame, lines: list[int], where: str) -> pd.DataFrame:
    table = table.assign(_line=lines)
    repeated = table[table["code"].duplicated(keep=False)]
    conflicts = [
        _(
            "{code} (lignes {lines})",
            code=code,
            lines=", ".join(str(n) for n in group["_line"].head(4)),
        )
        for code, group in repeated.groupby("code", sort=True)
        if len(set(group["densite"].fillna(""))) > 1
    ]
    if conflicts:
        raise SchemaError(
            _(
                "{path} : communes présentes plusieurs fois avec des niveaux de densité "
                "différents : {problems}.",
                path=where,
                problems=_join(conflicts),
            )
        )
    table = table.drop_duplicates("code").drop(columns="_line")
    return table.sort_values("code").reset_index(drop=True)


def _join(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        shown += _(" ; et {n} autre(s)", n=len(problems) - _MAX_LISTED)
    return shown
