"""Read the answers exported by survey tools into one table of text cells.

Every tool exports one row per submission, but the files differ:

- **LimeSurvey** ("Export responses", CSV or Excel ``.xlsx``): metadata columns
  ``id``, ``submitdate``, ``lastpage``, ``startlanguage``, ``seed``… then one column
  per question, and one per option of a multiple-choice question (``Q5[SQ001]`` or
  ``Q5_SQ001`` with question-code headings, ``Question text [Option label]`` with full
  text headings), values ``Y``/empty or « Oui »/« Non »/empty; ``Q5[other]`` holds the
  free "other" answer.
- **Google Forms** (CSV): ``Horodateur``/``Timestamp`` first, one column per question
  titled with the question; checkbox answers joined by ``", "``.
- **Microsoft Forms** (``.xlsx``): ``ID``, ``Heure de début``, ``Heure de fin``,
  ``Adresse de messagerie``, ``Nom``, then one column per question; multiple answers
  joined by ``;`` with a trailing ``;``.
- **Framaforms / Drupal Webform** (CSV, ``,``, ``;`` or tabulation): up to three
  header lines: the form's title, a group line (``Submission Details`` then the name
  of a multiple question over its first option column), then the column labels
  (``Serial``, ``SID``, ``Time``… then one label per question or per option, ``X``
  when an option is ticked).
- The generic file: one header line, one column per question.

:func:`read_export` returns an :class:`ExportTable` whose column names are unique
(an option column of a Webform export is named ``Question [Option]``), with the file
line (CSV) or sheet row (XLSX) of each data row, and :func:`detect_tool` names the tool.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierslieux.errors import SchemaError, SourceError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.sources._files import require_file, sniff_separator

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

__all__ = [
    "TOOLS",
    "ExportTable",
    "decode_export",
    "detect_tool",
    "fold",
    "read_export",
]

#: Tools recognised, with their name shown to the user.
TOOLS: dict[str, str] = {
    "limesurvey": "LimeSurvey",
    "google_forms": "Google Forms",
    "microsoft_forms": "Microsoft Forms",
    "framaforms": "Framaforms / Drupal Webform",
    "generic": N_("fichier générique (une colonne par question)"),
}
#: Limits of a spreadsheet export (a survey of a territory is far below).
MAX_XLSX_BYTES = 20_000_000
MAX_ROWS = 100_000
MAX_COLUMNS = 2_000
#: A UTF-8 encoded accented letter (two bytes), used to spot files mixing encodings.
_UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")
_WEBFORM_DETAILS = frozenset({"submission_details", "details_de_la_soumission"})
_WEBFORM_LABELS = frozenset({"serial", "sid", "numero_de_serie", "n_de_serie"})
_LIMESURVEY = frozenset({"id", "submitdate", "lastpage", "startlanguage", "seed"})
_LIMESURVEY_FR = frozenset(
    {"id_de_la_reponse", "date_de_soumission", "derniere_page", "langue_de_depart", "tete_de_serie"}
)
_MS_FORMS = frozenset({"id", "heure_de_debut", "heure_de_fin", "start_time", "completion_time"})
_GOOGLE = frozenset({"horodateur", "timestamp", "horodatage", "marque_temporelle"})


def fold(text: str) -> str:
    """Lower-case, strip accents, punctuation and extra spaces (for matching labels)."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "_".join(re.sub(r"[^\w]+", " ", plain).split())


@dataclass(frozen=True, slots=True)
class ExportTable:
    """The cells of an export: unique column names, rows as ``(line, cells)``.

    ``line`` is the file line (CSV, the first line of a quoted multi-line record) or
    the sheet row (XLSX) of the row; every row has as many cells as ``header`` unless
    a CSV line is malformed (reported by the reader of the rows).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    encoding: str
    separator: str
    #: ``framaforms`` when the header had a Webform group line, else ``None``.
    layout: str | None = None


def _mixed(path: Path, raw: bytes, start: int) -> SourceError:
    line = raw[:start].count(b"\n") + 1
    return SourceError(
        _(
            "{path} : encodages mélangés (UTF-8 et Latin-1 ; premier octet illisible "
            "ligne {line}). Réenregistrez l'export en UTF-8 ; rien n'a été importé.",
            path=path,
            line=line,
        )
    )


def decode_export(path: Path) -> tuple[str, str]:
    """Return the text of a CSV export and its encoding (UTF-16 with BOM, UTF-8, else
    Windows-1252).

    Raises
    ------
    SourceError
        When the file mixes UTF-8 and Latin-1 bytes.
    """
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # a spreadsheet's « Unicode text »
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise SourceError(
                _(
                    "{path} : fichier UTF-16 illisible à l'octet {position}. Réenregistrez "
                    "l'export en UTF-8 ; rien n'a été importé.",
                    path=path,
                    position=error.start,
                )
            ) from error
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        if _UTF8_PAIR.search(raw):
            raise _mixed(path, raw, error.start) from error
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as latin:  # bytes undefined in Windows-1252 too
            raise _mixed(path, raw, latin.start) from latin


def _cell_text(value: object) -> str:  # noqa: PLR0911  (one return per cell type)
    """A spreadsheet cell as the text a person reads (dates ISO, ``2`` not ``2.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _xlsx_rows(path: Path) -> Iterator[tuple[int, tuple[str, ...]]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # noqa: PLC0415  (only for workbooks)

    size = path.stat().st_size
    if size > MAX_XLSX_BYTES:
        raise SourceError(
            _(
                "{path} : classeur de {size} Mo, au-delà de la limite de {limit} Mo ; "
                "exportez les réponses en CSV.",
                path=path,
                size=size // 1_000_000,
                limit=MAX_XLSX_BYTES // 1_000_000,
            )
        )
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise SourceError(
            _(
                "{path} : classeur Excel illisible (fichier .xlsx attendu : {error}).",
                path=path,
                error=type(error).__name__,
            )
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 1:
                raise SourceError(
                    _(
                        "{path} : plus de {limit} lignes dans la feuille ; découpez l'export.",
                        path=path,
                        limit=MAX_ROWS,
                    )
                )
            if len(values) > MAX_COLUMNS:
                raise SourceError(
                    _(
                        "{path}, ligne {line} : plus de {limit} colonnes.",
                        path=path,
                        line=number,
                        limit=MAX_COLUMNS,
                    )
                )
            yield number, tuple(_cell_text(v) for v in values)
    finally:
        workbook.close()


def _csv_rows(path: Path) -> tuple[list[tuple[int, tuple[str, ...]]], str, str]:
    text, encoding = decode_export(path)
    lines = text.split("\n", 3)
    first = lines[0]
    candidates = ";,"
    if any(c in first for c in "\t") and _looks_like_webform(lines[:3]):
        candidates = ";,\t"
    separator = sniff_separator(first, path=path, candidates=candidates)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[tuple[int, tuple[str, ...]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, tuple(c.strip().lstrip("\ufeff") for c in cells)))
            start = reader.line_num + 1
            if len(rows) > MAX_ROWS + 3:
                raise SourceError(
                    _(
                        "{path} : plus de {limit} lignes ; découpez l'export.",
                        path=path,
                        limit=MAX_ROWS,
                    )
                )
    except csv.Error as error:  # a cell longer than the csv module's limit, a stray quote
        raise SchemaError(
            _("{path}, ligne {line} : CSV mal formé ({error}).", path=path, line=start, error=error)
        ) from error
    return rows, encoding, separator


def _looks_like_webform(lines: Sequence[str]) -> bool:
    return any(
        {fold(cell) for cell in re.split(r"[\t;,]", line)} & (_WEBFORM_LABELS | _WEBFORM_DETAILS)
        for line in lines
    )


def _webform_header(
    rows: Sequence[tuple[int, tuple[str, ...]]],
) -> tuple[int, tuple[str, ...]] | None:
    """``(index of the labels row, column names)`` of a Webform export, else ``None``."""
    found = [
        i for i, (_line, cells) in enumerate(rows[:3]) if set(map(fold, cells)) & _WEBFORM_LABELS
    ]
    if not found:
        return None
    index = found[0]
    groups = rows[index - 1][1] if index > 0 else ()
    labels = rows[index][1]
    names: list[str] = []
    group = ""
    for column, label in enumerate(labels):
        cell = groups[column] if column < len(groups) else ""
        if cell:
            group = "" if fold(cell) in _WEBFORM_DETAILS or column == 0 else cell
        names.append(f"{group} [{label}]" if group and label != group else label)
    return index, tuple(names)


def _unique(header: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    names: list[str] = []
    for name in header:
        count = seen.get(name, 0) + 1
        seen[name] = count
        names.append(name if count == 1 else f"{name} ({count})")
    return tuple(names)


def _fit(cells: tuple[str, ...], width: int, *, pad: bool) -> tuple[str, ...]:
    """Drop empty cells past the header; pad a sheet row (its empty end is not stored)."""
    if len(cells) > width and not any(cells[width:]):
        return cells[:width]
    if pad and len(cells) < width:
        return cells + ("",) * (width - len(cells))
    return cells


def read_export(path: Path) -> ExportTable:
    """Read a CSV (UTF-8 or Windows-1252, ``,`` or ``;``) or XLSX export of answers.

    Raises
    ------
    SourceError, SchemaError
        When the file is missing, empty, mixes encodings, has no separator, or is an
        unreadable or oversized workbook.
    """
    require_file(path, N_("réponses"))
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        rows = list(_xlsx_rows(path))
        encoding, separator = "xlsx", ""
    else:
        rows, encoding, separator = _csv_rows(path)
    while rows and not any(rows[-1][1]):  # trailing empty sheet rows
        rows.pop()
    if not rows:
        raise SourceError(_("Le fichier de réponses {path} est vide.", path=path))
    webform = _webform_header(rows)
    layout = None
    if webform is not None:
        start, header = webform
        layout = "framaforms"
    else:
        start, header = 0, rows[0][1]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1  # empty trailing header cells (a spreadsheet's formatted columns)
    data = tuple(
        (line, _fit(cells, width, pad=encoding == "xlsx")) for line, cells in rows[start + 1 :]
    )
    return ExportTable(_unique(header[:width]), data, encoding, separator, layout)


def detect_tool(table: ExportTable) -> str:
    """Name the tool that wrote ``table`` (a key of :data:`TOOLS`)."""
    if table.layout == "framaforms":
        return "framaforms"
    folded = [fold(h) for h in table.header]
    present = set(folded)
    if len(present & _LIMESURVEY) >= 3 or len(present & _LIMESURVEY_FR) >= 3:
        return "limesurvey"
    if any(re.fullmatch(r"\w+\[\w+\]", h) for h in table.header):
        return "limesurvey"
    if len(present & _MS_FORMS) >= 3 or (
        folded[:1] == ["id"] and "adresse_de_messagerie" in present
    ):
        return "microsoft_forms"
    if folded and folded[0] in _GOOGLE and table.separator == ",":
        return "google_forms"
    return "generic"
