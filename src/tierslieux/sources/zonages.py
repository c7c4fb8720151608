"""INSEE supra-communal zonings: bassins de vie, aires d'attraction, zones d'emploi, EPCI.

Formats read by :func:`load_zonages`:

- the official INSEE workbook ``table-appartenance-geo-communes-YYYY.xlsx`` (also
  inside ``table-appartenance-geo-communes-YYYY.zip``): sheet ``COM`` with a few title
  rows above the header row (``CODGEO, LIBGEO, DEP, REG, EPCI, NATURE_EPCI, ARR, CV,
  ZE2020, UU2020, ..., AAV2020, CATEAAV2020, BV2022``), and sheet
  ``Zones_supra_communales`` holding the labels (``NIVGEO, CODGEO, LIBGEO, NB_COM``);
- the INSEE composition of intercommunalities ``epci_au_01-01-YYYY`` / ``EPCI_au_...``
  (sheet ``Composition_communale``: ``CODGEO, LIBGEO, EPCI, LIBEPCI, DEP, REG``): the
  EPCI labels come from ``LIBEPCI``;
- a CSV with the same columns (for instance ``table_supracom_2024.csv`` exported from
  the COGugaison R package), with an optional labels CSV ``NIVGEO, CODGEO, LIBGEO,
  NB_COM`` (``libelles_supracom_2024.csv``), found next to it when not given.

The header row is looked for among the first 20 rows (the one holding ``CODGEO``).
Codes stay text; INSEE writes ``ZZZZZZZZZ`` (or ``ZZZZZ``...) for "not applicable",
read as missing.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import SchemaError, SourceError
from tierslieux.files import open_zip
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code, normalise_commune_code
from tierslieux.model.types import Provenance
from tierslieux.sources._files import (
    detect_encoding,
    find_column,
    find_optional_column,
    require_file,
    sha256_of,
    sniff_separator,
    width_error,
    width_problem,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["KNOWN_LEVELS", "Zonages", "load_zonages"]

ROLE = N_("zonages")

#: Usual zoning levels, in the order they are put in the table (others follow).
KNOWN_LEVELS: tuple[str, ...] = (
    "bv2022",
    "aav2020",
    "cateaav2020",
    "taav2017",
    "ze2020",
    "uu2020",
    "epci",
    "nature_epci",
    "dep",
    "reg",
    "arr",
    "cv",
)
_CODE_ALIASES = ("codgeo", "code", "code_commune", "insee_com", "code_insee", "com", "depcom")
_NAME_COLUMNS = frozenset({"libgeo", "libcom", "nom", "nom_commune", "libelle"})
#: Columns that are labels of a level rather than a level: label column -> level.
_LABEL_COLUMNS = {"libepci": "epci", "lib_epci": "epci"}
_HEADER_SEARCH_ROWS = 20
_NOT_APPLICABLE = re.compile(r"^Z+$")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_MAX_LISTED = 10
_COMMUNE_SHEETS = ("COM", "Composition_communale")
_LABEL_SHEETS = ("Zones_supra_communales", "EPCI")


@dataclass(frozen=True)
class Zonages:
    """Zonings of each commune, with the labels of the zones.

    Attributes
    ----------
    table
        Column ``code`` (INSEE commune code, unique) then one column per zoning level,
        lower-case (``bv2022``, ``aav2020``, ``cateaav2020``, ``ze2020``, ``epci``,
        ``dep``, ``reg``...), all text; "not applicable" is NA.
    labels
        Level (lower-case) -> zone code -> label, e.g. ``labels["bv2022"]["04070"]``.
    provenance
        Where the data came from.
    sizes
        Level -> zone code -> number of communes of the whole zone (``NB_COM`` of the
        labels, when given), to tell a zone only partly in a territory.
    """

    table: pd.DataFrame
    labels: dict[str, dict[str, str]]
    provenance: Provenance
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)


def load_zonages(path: Path, labels: Path | None = None) -> Zonages:
    """Read a table of communes' zonings (INSEE appartenance table, EPCI list, CSV).

    Parameters
    ----------
    path
        XLSX workbook, zip holding one, or CSV (see the module documentation).
    labels
        CSV of labels ``NIVGEO, CODGEO, LIBGEO[, NB_COM]``.  When ``None``, labels are
        read from the workbook, or from a sibling CSV whose name contains ``libelles``
        and the same year as ``path``.

    Returns
    -------
    Zonages
        The table, the labels (possibly empty) and the provenance.

    Raises
    ------
    SourceError
        If a file is missing, empty or an unreadable/truncated archive.
    SchemaError
        If no header row with a commune code column is found, a code is malformed, one
        commune appears twice with different zonings, or the table has no rows.
    """
    require_file(path, ROLE)
    notes: list[str] = []
    name = path.name.lower()
    if name.endswith(".zip"):
        sheets = _read_workbook_in_zip(path)
    elif name.endswith((".xlsx", ".xlsm")):
        sheets = _read_workbook(path.read_bytes(), path)
    else:
        sheets = {"": _read_csv_rows(path)}
    table_rows, sheet = _commune_sheet(sheets, path)
    frame, first_line = _with_header(table_rows, path, sheet)
    table, label_map = _canonical(frame, path, first_line)

    found_labels: dict[str, dict[str, str]] = {}
    sizes: dict[str, dict[str, int]] = {}
    for level, mapping in label_map.items():
        found_labels.setdefault(level, {}).update(mapping)
    labels_path = labels
    if labels_path is None and not sheets.keys() - {""}:
        labels_path = _sibling_labels(path)
    if labels_path is not None:
        require_file(labels_path, _("libellés des zonages"))
        label_rows = _read_csv_rows(labels_path)
        _merge_labels(found_labels, _labels_from_rows(label_rows, labels_path, sizes))
        notes.append(_("Libellés lus dans {path}.", path=labels_path))
    else:
        for label_sheet in _LABEL_SHEETS:
            if label_sheet in sheets:
                try:
                    _merge_labels(found_labels, _labels_from_rows(sheets[label_sheet], path, sizes))
                except SchemaError:
                    if label_sheet == "Zones_supra_communales":
                        raise
    vintage = _vintage(path)
    provenance = Provenance(
        role=ROLE,
        location=str(path),
        vintage=f"COG {vintage}" if vintage else None,
        sha256=sha256_of(path),
        notes=tuple(notes),
    )
    return Zonages(table=table, labels=found_labels, provenance=provenance, sizes=sizes)


# ---------------------------------------------------------------------------------------
# Raw rows from each format

Rows = list[list[str | None]]


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN  # noqa: PLR0124
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def _read_workbook_in_zip(path: Path, role: str = ROLE) -> dict[str, Rows]:
    with open_zip(path, role=role) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith((".xlsx", ".csv"))]
        if not members:
            raise SourceError(
                _(
                    "L'archive {role} {path} ne contient aucun fichier .xlsx ou .csv "
                    "(contenu : {content}).",
                    role=role,
                    path=path,
                    content=", ".join(archive.namelist()[:10]) or _("archive vide"),
                )
            )
        member = next((m for m in members if m.lower().endswith(".xlsx")), members[0])
        data = archive.read(member)
    if member.lower().endswith(".csv"):
        return {"": _rows_from_text(data, f"{path}!{member}")}
    return _read_workbook(data, Path(f"{path}!{member}"), role)


def _read_workbook(data: bytes, path: Path, role: str = ROLE) -> dict[str, Rows]:
    import openpyxl  # type: ignore[import-untyped]  # noqa: PLC0415  (only for workbooks)

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise SourceError(
            _(
                "Le classeur {role} {path} est illisible ({error}). Téléchargez-le de nouveau.",
                role=role,
                path=path,
                error=error,
            )
        ) from error
    try:
        wanted = [s for s in workbook.sheetnames if s in _COMMUNE_SHEETS + _LABEL_SHEETS]
        names = wanted or workbook.sheetnames
        sheets: dict[str, Rows] = {}
        for name in names:
            sheet = workbook[name]
            sheets[name] = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        return sheets
    finally:
        workbook.close()


def _read_csv_rows(path: Path) -> Rows:
    require_file(path, ROLE)
    return _rows_from_text(path.read_bytes(), str(path), encoding=detect_encoding(path))


def _rows_from_text(data: bytes, where: str, encoding: str | None = None) -> Rows:
    import csv  # noqa: PLC0415

    if encoding is None:
        try:
            data.decode("utf-8-sig")
            encoding = "utf-8-sig"
        except UnicodeDecodeError:
            encoding = "cp1252"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise SchemaError(
            _(
                "{path} : encodage illisible à l'octet {position} (attendu UTF-8 ou Windows-1252).",
                path=where,
                position=error.start,
            )
        ) from error
    lines = text.splitlines()
    header = next(
        (line for line in lines[:_HEADER_SEARCH_ROWS] if "codgeo" in line.lower()),
        lines[0] if lines else "",
    )
    separator = sniff_separator(header, path=Path(where))
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    rows: Rows = []
    try:
        rows.extend([_cell(v) for v in row] for row in reader)
    except csv.Error as error:
        raise SchemaError(
            _(
                "{path}, ligne {line} : ligne illisible ({error}) ; un champ de plus de "
                "{limit} caractères ou un guillemet non fermé ?",
                path=where,
                line=reader.line_num,
                error=error,
                limit=csv.field_size_limit(),
            )
        ) from error
    return rows


# ---------------------------------------------------------------------------------------
# Header detection and canonical table


def _commune_sheet(sheets: dict[str, Rows], path: Path) -> tuple[Rows, str]:
    for name in (*_COMMUNE_SHEETS, ""):
        if name in sheets:
            return sheets[name], name
    for name, rows in sheets.items():
        if name not in _LABEL_SHEETS and _header_index(rows) is not None:
            return rows, name
    raise SchemaError(
        _(
            "{path} : aucune feuille des communes trouvée (attendu une feuille {sheets} avec "
            "une ligne d'en-tête CODGEO ; feuilles présentes : {found}).",
            path=path,
            sheets=" ou ".join(_COMMUNE_SHEETS),
            found=", ".join(sheets) or "?",
        )
    )


def _header_index(rows: Rows) -> int | None:
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = {str(c).strip().lower() for c in row if c}
        if cells & set(_CODE_ALIASES) and len(cells) >= 2:
            return index
    return None


def _with_header(rows: Rows, path: Path, sheet: str) -> tuple[pd.DataFrame, int]:
    """Return the data under the header row, and the file line of its first row."""
    where = f"{path} ({_('feuille')} {sheet})" if sheet else str(path)
    if not rows:
        raise SchemaError(_("{path} : le fichier est vide.", path=where))
    index = _header_index(rows)
    if index is None:
        raise SchemaError(
            _(
                "{path} : ligne d'en-tête introuvable dans les {n} premières lignes (attendu "
                "une colonne {aliases}).",
                path=where,
                n=_HEADER_SEARCH_ROWS,
                aliases=", ".join(a.upper() for a in _CODE_ALIASES[:3]),
            )
        )
    header = [str(c).strip() if c else f"_col{i}" for i, c in enumerate(rows[index])]
    width = len(header)
    _check_widths(rows, index, width, where, text_file=not sheet)
    body = [(row + [None] * width)[:width] for row in rows[index + 1 :] if any(row)]
    return pd.DataFrame(body, columns=header, dtype=object), index + 2


def _check_widths(rows: Rows, index: int, width: int, where: str, *, text_file: bool) -> None:
    """Refuse lines with values beyond the header, or (CSV) fewer cells than the header.

    A separator added or deleted by hand shifts the values of its line into the wrong
    columns: the line is named instead of being read with its zonings mixed up.
    """
    wrong: list[str] = []
    for line, row in enumerate(rows[index + 1 :], start=index + 2):
        if any(row) and (any(cell for cell in row[width:]) or (text_file and len(row) < width)):
            wrong.append(width_problem(line, len(row), width))
    if wrong:
        raise width_error(where, len(wrong), wrong)


def _canonical(
    frame: pd.DataFrame, path: Path, first_line: int
) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    code_column = find_column(frame.columns, _CODE_ALIASES, path=path, what=_("code commune"))
    if frame.empty:
        raise SchemaError(_("{path} : aucune commune sous la ligne d'en-tête.", path=path))
    problems: list[str] = []
    codes: list[str] = []
    for offset, value in enumerate(frame[code_column]):
        code = normalise_commune_code(value)
        if code is None or not is_commune_code(code):
            problems.append(
                _("ligne {line} : « {value} »", line=first_line + offset, value=value or "")
            )
            code = ""
        codes.append(code)
    if problems:
        raise SchemaError(
            _(
                "{path} : code(s) commune invalide(s) dans la colonne {column} ({problems}). "
                "Attendu 5 caractères, par exemple 05061 ou 2A004.",
                path=path,
                column=code_column,
                problems=_join(problems),
            )
        )
    table = pd.DataFrame({"code": codes})
    labels: dict[str, dict[str, str]] = {}
    levels: list[str] = []
    for column in frame.columns:
        key = str(column).strip().lower()
        if column == code_column or key in _NAME_COLUMNS or key.startswith("_col"):
            continue
        values = [None if v is None or _NOT_APPLICABLE.match(v) else v for v in frame[column]]
        if key in _LABEL_COLUMNS:
            level_column = find_optional_column(frame.columns, (_LABEL_COLUMNS[key],))
            if level_column is not None:
                pairs = zip(frame[level_column], values, strict=True)
                labels[_LABEL_COLUMNS[key]] = {c: v for c, v in pairs if c and v}
            continue
        if key in levels:
            continue
        levels.append(key)
        table[key] = pd.Series(values, dtype="str")
    ordered = [c for c in KNOWN_LEVELS if c in levels]
    ordered += [c for c in levels if c not in KNOWN_LEVELS]
    table = table[["code", *ordered]]
    table = _deduplicate(table, path, first_line)
    return table.sort_values("code").reset_index(drop=True), labels


def _deduplicate(table: pd.DataFrame, path: Path, first_line: int) -> pd.DataFrame:
    repeated = table["code"].duplicated(keep=False)
    if not repeated.any():
        return table
    counts = table[repeated].groupby("code").nunique(dropna=False)
    conflicts = counts[(counts > 1).any(axis=1)]
    if not conflicts.empty:
        problems = []
        for code in list(conflicts.index)[:_MAX_LISTED]:
            lines = [str(first_line + i) for i in table.index[table["code"] == code]][:4]
            problems.append(_("{code} (lignes {lines})", code=code, lines=", ".join(lines)))
        raise SchemaError(
            _(
                "{path} : communes présentes plusieurs fois avec des zonages différents : "
                "{problems}.",
                path=path,
                problems=_join(problems),
            )
        )
    return table.drop_duplicates("code")


def _labels_from_rows(
    rows: Rows, path: Path, sizes: dict[str, dict[str, int]]
) -> dict[str, dict[str, str]]:
    """Labels per level; the ``NB_COM`` column, when present, fills ``sizes``."""
    index = None
    for number, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        found = {str(c).strip().lower() for c in row if c}
        if "codgeo" in found and "libgeo" in found:
            index = number
            break
        if "epci" in found and "libepci" in found:
            index = number
            break
    if index is None:
        raise SchemaError(
            _(
                "{path} : en-tête des libellés introuvable (attendu NIVGEO, CODGEO, LIBGEO).",
                path=path,
            )
        )
    header = [str(c).strip().lower() if c else "" for c in rows[index]]
    labels: dict[str, dict[str, str]] = {}
    if "nivgeo" in header:
        level_at, code_at, label_at = (
            header.index("nivgeo"),
            header.index("codgeo"),
            header.index("libgeo"),
        )
        count_at = header.index("nb_com") if "nb_com" in header else None
        for line, row in enumerate(rows[index + 1 :], start=index + 2):
            cells = row + [None] * (len(header) - len(row))
            level, code, label = cells[level_at], cells[code_at], cells[label_at]
            if level and code and label:
                labels.setdefault(level.strip().lower(), {})[code] = label
                if count_at is not None and cells[count_at] not in (None, ""):
                    count = _count(cells[count_at], path, line)
                    sizes.setdefault(level.strip().lower(), {})[code] = count
    elif "epci" in header and "libepci" in header:
        code_at, label_at = header.index("epci"), header.index("libepci")
        for row in rows[index + 1 :]:
            cells = row + [None] * (len(header) - len(row))
            if cells[code_at] and cells[label_at]:
                labels.setdefault("epci", {})[str(cells[code_at])] = str(cells[label_at])
    else:
        raise SchemaError(_("{path} : colonne NIVGEO introuvable dans les libellés.", path=path))
    return labels


def _count(value: object, path: Path, line: int) -> int:
    """A number of communes read from a label row (``12``, ``12.0``)."""
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        number = -1.0
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise SchemaError(
            _(
                "{path}, ligne {line} : NB_COM « {value} » invalide (nombre entier de "
                "communes attendu).",
                path=path,
                line=line,
                value=value,
            )
        )
    return int(number)


def _merge_labels(target: dict[str, dict[str, str]], extra: dict[str, dict[str, str]]) -> None:
    for level, mapping in extra.items():
        target.setdefault(level, {}).update(mapping)


def _sibling_labels(path: Path) -> Path | None:
    year = _vintage(path)
    candidates = sorted(
        p
        for p in path.parent.iterdir()
        if p.is_file() and "libelle" in p.name.lower() and p.suffix.lower() == ".csv"
    )
    if year is not None:
        same_year = [p for p in candidates if _vintage(p) == year]
        # Prefer the file cut the same way (``..._PACA``) as the table.
        suffix = path.stem.lower().rsplit(year, 1)[-1]
        matching = [p for p in same_year if p.stem.lower().endswith(suffix)] or same_year
        return matching[0] if matching else None
    return candidates[0] if len(candidates) == 1 else None


def _vintage(path: Path) -> str | None:
    match = _YEAR.search(path.name)
    return match.group(1) if match else None


def _join(problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        shown += _(" ; et {n} autre(s)", n=len(problems) - _MAX_LISTED)
    return shown
