"""Files of ``tierslieux survey analyse``: three CSV tables and one HTML page.

``respondents.csv`` (sequence numbers, communes, fit scores and themes: no direct
identifier, no free text), ``typology.csv``, ``groups.csv`` and ``survey.html``, a
self-contained page (no script, no external resource) whose every value is escaped.
:func:`render_survey` returns the page, :func:`survey_files` every file as bytes,
:func:`write_survey` writes them into a folder, all or nothing.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

from tierslieux.files import frame_spreadsheet_csv, write_output_files
from tierslieux.i18n import format_percent
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.survey import SCORE_CRITERIA
from tierslieux.reports.templates import render_page, safe_svg, split_notes

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from tierslieux.pipeline.survey import SurveyAnalysis

__all__ = ["render_survey", "render_survey_html", "survey_files", "write_survey"]

_BAR_WIDTH = 300
#: Width of the label column of the typology chart (pixels).
_LABEL_WIDTH = 360


def survey_files(analysis: SurveyAnalysis) -> list[tuple[str, bytes]]:
    """Return the four files of the analysis as ``(name, bytes)``, in memory.

    The tables are written for spreadsheets (text cells that look like formulas are
    guarded, :func:`tierslieux.files.frame_spreadsheet_csv`).
    """
    return [
        ("respondents.csv", frame_spreadsheet_csv(analysis.respondents)),
        ("typology.csv", frame_spreadsheet_csv(analysis.typology, float_format="%.4f")),
        ("groups.csv", frame_spreadsheet_csv(analysis.groups.drop(columns=["repondants"]))),
        ("survey.html", render_survey(analysis).encode("utf-8")),
    ]


def write_survey(analysis: SurveyAnalysis, out: Path) -> list[Path]:
    """Render the four files then write them into ``out`` (all or nothing); return their
    absolute paths.
    """
    written = write_output_files(out, survey_files(analysis), owner="survey analyse")
    return [path.resolve() for path in written]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else format_percent(value)


def _typology_svg(typology: pd.DataFrame) -> str:
    rows = []
    height = 26
    x0 = _LABEL_WIDTH
    for i, row in enumerate(_records(typology)):
        y = i * height + 4
        share = float(row["part"]) if not math.isnan(float(row["part"])) else 0.0
        low, high, ref = float(row["ic95_bas"]), float(row["ic95_haut"]), float(row["reference"])
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(str(row["libelle"]))}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y + 3}" width="{share * _BAR_WIDTH:.1f}" height="14" '
            'fill="#4a7fb5"/>'
        )
        if not math.isnan(low):
            rows.append(
                f'<line x1="{x0 + low * _BAR_WIDTH:.1f}" x2="{x0 + high * _BAR_WIDTH:.1f}" '
                f'y1="{y + 10}" y2="{y + 10}" stroke="#222" stroke-width="2"/>'
            )
        if not math.isnan(ref):  # qualitative references have no line
            rows.append(
                f'<line x1="{x0 + ref * _BAR_WIDTH:.1f}" x2="{x0 + ref * _BAR_WIDTH:.1f}" '
                f'y1="{y}" y2="{y + 20}" stroke="#d33" stroke-width="2"/>'
            )
    total = len(typology) * height + 8
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LABEL_WIDTH + _BAR_WIDTH + 20}" '
        f'height="{total}" role="img" aria-label="{escape(_("Typologie"))}">'
        + "".join(rows)
        + "</svg>"
    )


def _scores_svg(respondents: pd.DataFrame) -> str:
    counts = [0] * 10
    for score in respondents["score"]:
        counts[min(int(float(score)), 9)] += 1
    top = max(counts) or 1
    bars = []
    for i, count in enumerate(counts):
        h = 100 * count / top
        bars.append(
            f'<rect x="{i * 30 + 5}" y="{124 - h:.1f}" width="24" height="{h:.1f}" fill="#6a9f58"/>'
            f'<text x="{i * 30 + 10}" y="139" font-size="11">{i}</text>'
            f'<text x="{i * 30 + 10}" y="{120 - h:.1f}" font-size="11">{count}</text>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="310" height="144" role="img" '
        f'aria-label="{escape(_("Répartition des scores"))}">' + "".join(bars) + "</svg>"
    )


def _table(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[Any]]:
    rows = [
        [f"{value:.2f}" if isinstance(value, float) else str(value) for value in row]
        for row in frame[columns].itertuples(index=False)
    ]
    return {"columns": columns, "rows": rows}


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return value if isinstance(value, str) else ""


def _typology_row(row: dict[str, Any]) -> dict[str, object]:
    remark = _text(row, "remarque")
    reference = _text(row, "reference_texte") or _pct(float(row["reference"]))
    line: dict[str, object] = {
        "label": str(row["libelle"]),
        "reference": reference,
        "qualitative": _text(row, "comparaison") == _("qualitative"),
        "small": False,
        "remark": "",
    }
    if remark and not int(row["repondants"]):
        line.update(counts="—", share="—", interval=remark)
    else:
        line.update(
            counts=f"{row['effectif']} / {row['repondants']}",
            share=_pct(float(row["part"])),
            interval=f"{_pct(float(row['ic95_bas']))} – {_pct(float(row['ic95_haut']))}",
            small=row["petit_echantillon"] is True,
            remark=remark,
        )
    return line


def render_survey(analysis: SurveyAnalysis) -> str:
    """Return the self-contained HTML page of the analysis (every value escaped)."""
    typ = analysis.typology
    warnings, notes = split_notes(analysis.notes)
    groups = (
        _table(
            analysis.groups,
            ["groupe", "theme", "membres", "noms_communes", "diametre_minutes"],
        )
        if len(analysis.groups)
        else None
    )
    return render_page(
        "survey.html",
        a=analysis,
        warnings=warnings,
        notes=notes,
        typology_svg=safe_svg(_typology_svg(typ)),
        typology=[_typology_row(row) for row in _records(typ)],
        source=str(typ["source"].iloc[0]) if len(typ) else "",
        scores_svg=safe_svg(_scores_svg(analysis.respondents)),
        criteria=SCORE_CRITERIA,
        groups=groups,
    )


#: Former name of :func:`render_survey`.
render_survey_html = render_survey
