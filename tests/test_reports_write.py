"""Atomic output folders and SVG maps."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tierslieux.files import atomic_output_dir
from tierslieux.i18n import format_number, use_language
from tierslieux.reports.maps import PALETTE, Marker, choropleth_svg, class_breaks, indicator_entry


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
    # Many equal values (uncovered communes at 0): equal quantiles merge, no « 0 – 0 ».
    assert class_breaks([0, 0, 0, 0, 0, 0, 0, 0, 5, 10], 5) == pytest.approx([0.0, 1.0, 10.0])


def test_a_zero_class_holds_0_alone_and_is_named_in_the_legend() -> None:
    """The sites' « Demande couverte » map: 0 (not covered) is a class of its own, named
    « 0 (non couverte) »; a missing value stays « Sans donnée »."""
    values = [0, 0, 3, 5, 10, 20, 40]
    assert class_breaks(values, 5, zero_class=True) == [0.0, *class_breaks([3, 5, 10, 20, 40], 4)]
    assert class_breaks([3, 5], 5, zero_class=True) == class_breaks([3, 5], 5)
    assert class_breaks([0, 0], 5, zero_class=True) == [0.0]
    frame = pd.DataFrame(
        {
            "code": ["05061", "05023", "05046", "05007"],
            "nom": ["Gap", "Briançon", "Embrun", "Avançon"],
            "v": [0.0, 20.0, 1.0, float("nan")],
            "latitude": [44.56, 44.90, 44.56, 44.53],
            "longitude": [6.08, 6.64, 6.50, 6.17],
        }
    )
    svg = choropleth_svg(
        frame, "v", {}, label="t", no_data_label="Sans donnée", zero_label="0 (non couverte)"
    )
    legend = svg.split('<ul class="legende">', 1)[1]
    assert legend.startswith('<li><span style="background:#ffffcc"></span>0 (non couverte)</li>')
    assert "Sans donnée</li>" in legend
    gap = re.search(r'fill="([^"]+)" stroke="#555"><title>Gap', svg)
    assert gap
    assert gap.group(1) == "#ffffcc"
    entry = indicator_entry("v", "t", [0.0, 20.0, 1.0, None], zero_label="0 (non couverte)")
    assert entry["seuils"][0] == 0.0
    assert entry["libelle_zero"] == "0 (non couverte)"
    assert "libelle_zero" not in indicator_entry("v", "t", [0.0, 20.0])


def test_legend_names_missing_values_and_markers_are_drawn() -> None:
    frame = pd.DataFrame(
        {
            "code": ["05061", "05023", "05046"],
            "nom": ["Gap", "Briançon", "Embrun"],
            "v": [0.0, 20.0, float("nan")],
            "latitude": [44.56, 44.90, 44.56],
            "longitude": [6.08, 6.64, 6.50],
        }
    )
    marker = Marker(44.56, 6.08, "1", "Site 1 : <Gare> (05061)")
    svg = choropleth_svg(frame, "v", {}, label="t", markers=[marker], no_data_label="non couverte")
    assert svg.count('class="repere"') == 1
    assert "Site 1 : &lt;Gare&gt; (05061)" in svg  # tooltips are escaped
    assert "non couverte" in svg
    assert " – 0<" not in svg  # no empty class in the legend
    assert "0 – 0" not in svg


def test_a_single_class_legend_says_every_commune_has_the_same_value() -> None:
    """All values equal (every commune 0): one sentence, not a lone « 0 » class (as
    static/js/map.js legendRows, tests/browser/test_map.py)."""
    frame = pd.DataFrame(
        {
            "code": ["05061", "05023", "05046"],
            "nom": ["Gap", "Briançon", "Embrun"],
            "v": [0.0, 0.0, 0.0],
            "latitude": [44.56, 44.90, 44.56],
            "longitude": [6.08, 6.64, 6.50],
        }
    )
    svg = choropleth_svg(frame, "v", {}, label="t")
    legend = svg.split('<ul class="legende">', 1)[1]
    assert legend.count("<li>") == 1
    assert "Toutes les communes ont la même valeur : 0</li>" in legend
    frame.loc[2, "v"] = float("nan")
    svg = choropleth_svg(frame, "v", {}, label="t", no_data_label="non couverte")
    assert "Toutes les communes renseignées ont la même valeur : 0</li>" in svg
    assert "non couverte</li>" in svg
    with use_language("en"):
        svg = choropleth_svg(frame.assign(v=2.0), "v", {}, label="t")
    assert "Every commune has the same value: 2</li>" in svg


def test_after_a_class_of_zero_whole_counts_start_at_one() -> None:
    """Walk: the questionnaire map's legend read « 0 » then « 0 – 4 » (members of
    candidate base communities, most communes 0); whole counts read « 0 », « 1 – 4 » (as
    static/js/map.js legendRows, tests/browser/test_map.py).  Other values keep their
    bounds."""
    frame = pd.DataFrame(
        {
            "code": [f"05{n:03d}" for n in range(1, 11)],
            "nom": [f"Commune {n}" for n in range(1, 11)],
            "v": [0.0] * 9 + [4.0],
            "latitude": [44.0 + n / 10 for n in range(10)],
            "longitude": [6.0 + n / 10 for n in range(10)],
        }
    )
    assert class_breaks(list(frame["v"])) == [0.0, 4.0]
    legend = choropleth_svg(frame, "v", {}, label="t").split('<ul class="legende">', 1)[1]
    assert re.findall(r"</span>([^<]*)</li>", legend) == ["0", "1 – 4"]
    # Not whole: the class above 0 keeps its lower bound 0 (0.3 is in it).
    tenths = frame.assign(v=[0.0] * 8 + [0.3, 4.0])
    legend = choropleth_svg(tenths, "v", {}, label="t").split('<ul class="legende">', 1)[1]
    assert not any(row.startswith("1 –") for row in re.findall(r"</span>([^<]*)</li>", legend))


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


def test_percentages_follow_the_language() -> None:
    from tierslieux.i18n import format_percent  # noqa: PLC0415

    assert format_percent(0.125, 1) == "12,5\u202f%"
    assert format_percent(0.0001, 2) == "0,01\u202f%"
    with use_language("en"):
        assert format_percent(0.125, 1) == "12.5%"
