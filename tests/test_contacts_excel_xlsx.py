"""The shared XLSX writer of tierslieux.files: typed cells, no formula, atomic."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tierslieux.files import write_spreadsheet_xlsx


def test_cells_are_typed_and_never_formulas(tmp_path: Path) -> None:
    out = tmp_path / "classeur.xlsx"
    counts = write_spreadsheet_xlsx(
        out,
        {
            "feuille": (
                ["texte", "nombre", "jour", "moment", "vide"],
                [
                    ["=SUM(A1:A9)", 3, date(2027, 1, 15), datetime(2026, 12, 31, 14, 5), None],  # noqa: DTZ001
                    ["-2 ou @x", 2.5, None, None, math.nan],
                    ["ligne\nsuivante\x01", -1, None, None, ""],
                ],
            ),
            "deuxième": (["a"], []),
        },
    )
    assert counts == {"feuille": 3, "deuxième": 0}
    workbook = load_workbook(out)
    sheet = workbook["feuille"]
    assert [c.value for c in sheet[1]] == ["texte", "nombre", "jour", "moment", "vide"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"
    formula = sheet["A2"]
    assert (formula.value, formula.data_type, formula.quotePrefix) == ("=SUM(A1:A9)", "s", True)
    assert (sheet["A3"].value, sheet["A3"].quotePrefix) == ("-2 ou @x", True)
    assert (sheet["A4"].value, sheet["A4"].quotePrefix) == ("ligne\nsuivante", False)
    assert (sheet["B2"].value, sheet["B3"].value) == (3, 2.5)
    assert sheet["C2"].value == datetime(2027, 1, 15)  # noqa: DTZ001  (Excel has no zone)
    assert sheet["C2"].number_format == "dd/mm/yyyy"
    assert sheet["D2"].value == datetime(2026, 12, 31, 14, 5)  # noqa: DTZ001
    assert sheet["E2"].value is None
    assert sheet["E3"].value is None
    assert 8 <= sheet.column_dimensions["A"].width <= 60
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classeur.xlsx"]


def test_bad_sheet_name_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "classeur.xlsx"
    with pytest.raises(ValueError, match="sheet name"):
        write_spreadsheet_xlsx(out, {"a/b": (["x"], [])})
    assert list(tmp_path.iterdir()) == []
