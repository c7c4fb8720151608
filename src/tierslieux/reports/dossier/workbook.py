"""``dossier.xlsx``: one sheet per table of the dossier, for Excel users.

French headers (:func:`~tierslieux.reports.labels.column_label`), numbers as numbers
with a format (``#,##0``, ``0.0 %``: Excel shows the separators of its language),
codes (INSEE, SIREN, SIRET) as text, the header row frozen and filterable, and a
« Sources » sheet; written by the project's one formula-safe writer
(:func:`tierslieux.files.spreadsheet_xlsx_bytes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.files import spreadsheet_xlsx_bytes
from tierslieux.reports.dossier.tables import dossier_tables
from tierslieux.reports.labels import column_label

if TYPE_CHECKING:
    from tierslieux.files import XlsxSheet
    from tierslieux.pipeline.dossier import Dossier

__all__ = ["render_workbook"]


def render_workbook(dossier: Dossier) -> bytes:
    """Return ``dossier.xlsx`` as bytes."""
    sheets: dict[str, XlsxSheet] = {}
    formats: dict[str, list[str | None]] = {}
    for table in dossier_tables(dossier):
        columns = [str(c) for c in table.frame.columns]
        sheets[table.sheet] = ([column_label(c) for c in columns], table.cells())
        formats[table.sheet] = [table.number_format(c) for c in columns]
    return spreadsheet_xlsx_bytes(sheets, number_formats=formats)
