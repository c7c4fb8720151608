"""Atomic output folders and SVG maps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tierslieux.i18n import format_number, use_language
from tierslieux.reports._write import atomic_output_dir
from tierslieux.reports.maps import PALETTE, choropleth_svg, class_breaks


def test_failed_run_leaves_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "ancien.csv").write_text("x", encoding="utf-8")

    def failing_run() -> None:
        with atomic_output_dir(out) as staging:
            (staging / "communes.csv").write_text("partiel", encoding="utf-8")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sortie"]
    assert sorted(p.name for p in out.iterdir()) == ["ancien.csv"]


def test_successful_run_moves_files(tmp_path: Path) -> None:
    out = tmp_path / "nouveau"
    with atomic_output_dir(out) as staging:
        (staging / "a.csv").write_text("a", encoding="utf-8")
    assert (out / "a.csv").read_text(encoding="utf-8") == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nouveau"]


def test_class_breaks_quantiles() -> None:
    assert class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 2) == [5.5, 10.0]
    assert class_breaks([]) == []


def test_choropleth_draws_polygons_and_points() -> None:
    frame = pd.DataFrame(
        {
            "code": ["05061", "05023"],
            "nom": ["Gap", "Briançon"],
            "v": [10.0, 20.0],
            "latitude": [44.56, 44.90],
            "longitude": [6.08, 6.64],
        }
    )
    square = {
        "type": "Polygon",
        "coordinates": [[[6.0, 44.5], [6.1, 44.5], [6.1, 44.6], [6.0, 44.5]]],
    }
    svg = choropleth_svg(frame, "v", {"05061": square}, label="test")
    assert svg.startswith("<svg")
    assert svg.count("<path") == 1
    assert svg.count("<circle") == 1  # Briançon has no polygon: drawn as a point
    assert "Gap (05061)" in svg
    assert PALETTE[-1] in svg


def test_numbers_follow_the_language() -> None:
    assert format_number(12345.67, 1) == "12\u202f345,7"
    with use_language("en"):
        assert format_number(12345.67, 1) == "12,345.7"
