"""Files of ``tierslieux survey analyse``: three CSV tables and one HTML page.

``respondents.csv`` (sequence numbers, communes, fit scores and themes: no direct
identifier, no free text), ``typology.csv``, ``groups.csv`` and ``survey.html``, a
self-contained page (no script, no external resource) whose every value is escaped.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

from tierslieux.i18n import format_percent
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.survey import SCORE_CRITERIA
from tierslieux.reports._write import atomic_output_dir

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from tierslieux.pipeline.survey import SurveyAnalysis

__all__ = ["render_survey_html", "write_survey"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:62rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem}
th{background:#f2f2f2;text-align:left}.note{background:#fff6d5;padding:.5rem;border-radius:4px}
.small{color:#a33;font-weight:bold}
"""
_BAR_WIDTH = 300


def write_survey(analysis: SurveyAnalysis, out: Path) -> list[Path]:
    """Write the four files into ``out`` (all or nothing); return their paths."""
    with atomic_output_dir(out) as staging:
        analysis.respondents.to_csv(staging / "respondents.csv", index=False, encoding="utf-8")
        analysis.typology.to_csv(
            staging / "typology.csv", index=False, encoding="utf-8", float_format="%.4f"
        )
        analysis.groups.drop(columns=["repondants"]).to_csv(
            staging / "groups.csv", index=False, encoding="utf-8"
        )
        (staging / "survey.html").write_text(render_survey_html(analysis), encoding="utf-8")
    names = ("respondents.csv", "typology.csv", "groups.csv", "survey.html")
    return [out.resolve() / name for name in names]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else format_percent(value)


def _typology_svg(typology: pd.DataFrame) -> str:
    rows = []
    height = 26
    for i, row in enumerate(_records(typology)):
        y = i * height + 4
        share = float(row["part"]) if not math.isnan(float(row["part"])) else 0.0
        low, high, ref = float(row["ic95_bas"]), float(row["ic95_haut"]), float(row["reference"])
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(str(row["libelle"]))}</text>'
            f'<rect x="260" y="{y + 3}" width="{share * _BAR_WIDTH:.1f}" height="14" '
            'fill="#4a7fb5"/>'
        )
        if not math.isnan(low):
            rows.append(
                f'<line x1="{260 + low * _BAR_WIDTH:.1f}" x2="{260 + high * _BAR_WIDTH:.1f}" '
                f'y1="{y + 10}" y2="{y + 10}" stroke="#222" stroke-width="2"/>'
            )
        if not math.isnan(ref):  # qualitative references have no line
            rows.append(
                f'<line x1="{260 + ref * _BAR_WIDTH:.1f}" x2="{260 + ref * _BAR_WIDTH:.1f}" '
                f'y1="{y}" y2="{y + 20}" stroke="#d33" stroke-width="2"/>'
            )
    total = len(typology) * height + 8
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{260 + _BAR_WIDTH + 20}" '
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
            f'<rect x="{i * 30 + 5}" y="{110 - h:.1f}" width="24" height="{h:.1f}" fill="#6a9f58"/>'
            f'<text x="{i * 30 + 10}" y="125" font-size="11">{i}</text>'
            f'<text x="{i * 30 + 10}" y="{106 - h:.1f}" font-size="11">{count}</text>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="310" height="130" role="img" '
        f'aria-label="{escape(_("Répartition des scores"))}">' + "".join(bars) + "</svg>"
    )


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in frame[columns].itertuples(index=False):
        cells = []
        for value in row:
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
            cells.append(f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return value if isinstance(value, str) else ""


def _typology_row(row: dict[str, Any]) -> str:
    flag = (
        f' <span class="small">{escape(_("petit échantillon"))}</span>'
        if row["petit_echantillon"] is True
        else ""
    )
    remark = _text(row, "remarque")
    if remark and not int(row["repondants"]):
        counts, share, interval = "—", "—", escape(remark)
    else:
        counts = f"{row['effectif']} / {row['repondants']}"
        share = _pct(float(row["part"]))
        interval = f"{_pct(float(row['ic95_bas']))} – {_pct(float(row['ic95_haut']))}{flag}"
        if remark:
            interval += f" ({escape(remark)})"
    reference = escape(_text(row, "reference_texte")) or _pct(float(row["reference"]))
    if _text(row, "comparaison") == _("qualitative"):
        reference += f" <em>{escape(_('comparaison qualitative'))}</em>"
    return (
        f"<tr><td>{escape(str(row['libelle']))}</td><td>{counts}</td><td>{share}</td>"
        f"<td>{interval}</td><td>{reference}</td></tr>"
    )


def render_survey_html(analysis: SurveyAnalysis) -> str:
    """Return the self-contained HTML page of the analysis (every value escaped)."""
    typ = analysis.typology
    typ_rows = [_typology_row(row) for row in _records(typ)]
    criteria = "".join(
        f"<tr><td>{escape(_(c.label))}</td><td>{c.weight:g}</td><td>{escape(c.critere)}</td></tr>"
        for c in SCORE_CRITERIA
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in analysis.notes)
    groups = (
        _table(
            analysis.groups,
            ["groupe", "theme", "membres", "noms_communes", "diametre_minutes"],
        )
        if len(analysis.groups)
        else f"<p>{escape(_('Aucun groupe trouvé.'))}</p>"
    )
    source = escape(_(str(typ["source"].iloc[0]))) if len(typ) else ""
    title = escape(_("Questionnaire des usagers potentiels"))
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title} — {escape(analysis.territory_label)}</title><style>{_CSS}</style></head>
<body>
<h1>{title} — {escape(analysis.territory_label)}</h1>
{notes}
<p>{
        escape(
            _(
                "{n} répondant(s) analysé(s) ; questionnaire version {v}.",
                n=len(analysis.respondents),
                v=analysis.questionnaire.version,
            )
        )
    }</p>
<h2>{escape(_("Typologie comparée au profil de référence de l'étude"))}</h2>
<p>{
        escape(
            _(
                "Barre bleue : part observée ; trait noir : intervalle de confiance à 95 % "
                "(Wilson) ; trait rouge : profil de référence."
            )
        )
    }</p>
{_typology_svg(typ)}
<table><tr><th>{escape(_("Indicateur"))}</th><th>{escape(_("Effectif"))}</th>
<th>{escape(_("Part"))}</th><th>{escape(_("IC 95 %"))}</th>
<th>{escape(_("Référence"))}</th></tr>{"".join(typ_rows)}</table>
<p><small>{escape(_("Référence :"))} {source}</small></p>
<h2>{escape(_("Score d'adéquation aux critères de l'étude (sur 10)"))}</h2>
{_scores_svg(analysis.respondents)}
<p>{escape(_("Pondérations choisies par tierslieux (l'étude ne pondère pas ses critères) :"))}</p>
<table><tr><th>{escape(_("Critère"))}</th><th>{escape(_("Poids"))}</th>
<th>{escape(_("Texte de l'étude"))}</th></tr>{criteria}</table>
<h2>{
        escape(
            _(
                "Communautés-base candidates (au plus {m:g} minutes les uns des autres)",
                m=analysis.minutes,
            )
        )
    }</h2>
{groups}
</body></html>
"""
