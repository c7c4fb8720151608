"""Files of ``tierslieux survey analyse``: CSV tables, a GeoJSON and one HTML page.

``respondents.csv`` (sequence numbers, communes, fit scores and themes: no direct
identifier, no free text), ``typology.csv``, ``groups.csv`` (candidate base
communities and leads), ``questions.csv`` (one row per question: who answered it,
medians), ``answer_counts.csv`` (count and share of every answer), ``comments.csv``
(free texts, contact details masked, no respondent number), ``survey_communes.csv`` and
``survey_communes.geojson`` (respondents and group members per commune) and
``survey.html``, a self-contained page (no script, no external resource) whose every
value is escaped.  :func:`render_survey` returns the page, :func:`survey_files` every
file as bytes, :func:`write_survey` writes them into a folder, all or nothing.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

from tierslieux.files import frame_spreadsheet_csv, write_output_files
from tierslieux.i18n import format_figure, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.survey import (
    GROUP_CANDIDATE,
    GROUP_LEAD,
    SCORE_CRITERIA,
    SMALL_SAMPLE,
    fictional_note,
)
from tierslieux.reports.geojson import feature_collection, geojson_bytes
from tierslieux.reports.maps import NO_DATA, PALETTE, Marker, choropleth_svg, class_breaks
from tierslieux.reports.templates import render_page, safe_svg, split_notes

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from tierslieux.pipeline.survey import SurveyAnalysis

__all__ = [
    "render_survey",
    "render_survey_html",
    "survey_files",
    "survey_map_data",
    "survey_sections",
    "survey_warnings",
    "write_survey",
]

_BAR_WIDTH = 300
#: Width of the label column of the typology chart (pixels).
_LABEL_WIDTH = 360


def survey_files(analysis: SurveyAnalysis) -> list[tuple[str, bytes]]:
    """Return the files of the analysis as ``(name, bytes)``, in memory.

    The tables are written for spreadsheets (text cells that look like formulas are
    guarded, :func:`tierslieux.files.frame_spreadsheet_csv`); shares keep four
    decimals.
    """
    shares = "%.4f"
    return [
        ("respondents.csv", frame_spreadsheet_csv(analysis.respondents)),
        ("typology.csv", frame_spreadsheet_csv(analysis.typology, float_format=shares)),
        ("groups.csv", frame_spreadsheet_csv(analysis.groups.drop(columns=["repondants"]))),
        ("questions.csv", frame_spreadsheet_csv(analysis.questions, float_format=shares)),
        ("answer_counts.csv", frame_spreadsheet_csv(analysis.answers, float_format=shares)),
        ("comments.csv", frame_spreadsheet_csv(analysis.comments)),
        ("survey_communes.csv", frame_spreadsheet_csv(analysis.communes)),
        ("survey_communes.geojson", _communes_geojson(analysis)),
        ("survey.html", render_survey(analysis).encode("utf-8")),
    ]


def _communes_geojson(analysis: SurveyAnalysis) -> bytes:
    """``survey_communes.geojson``: one feature per commune, its outline or its point."""
    extra = {"avertissement": fictional_note()} if analysis.fictional else None
    collection = feature_collection(analysis.communes, geometries=analysis.geometries, extra=extra)
    return geojson_bytes(collection)


def write_survey(analysis: SurveyAnalysis, out: Path) -> list[Path]:
    """Render the files then write them into ``out`` (all or nothing); return their
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
        # viewBox and class « graphique »: the chart shrinks to a phone's width.
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LABEL_WIDTH + _BAR_WIDTH + 20}" '
        f'height="{total}" viewBox="0 0 {_LABEL_WIDTH + _BAR_WIDTH + 20} {total}" '
        f'class="graphique" role="img" aria-label="{escape(_("Typologie"))}">'
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
        "empty": "",
    }
    if not int(row["repondants"]):
        # Nobody answered the question: a sentence rather than « 0 / 0 — — – — ».
        line.update(empty=remark or _("Aucune réponse pour l'instant"))
    else:
        line.update(
            counts=f"{row['effectif']} / {row['repondants']}",
            share=_pct(float(row["part"])),
            interval=f"{_pct(float(row['ic95_bas']))} – {_pct(float(row['ic95_haut']))}",
            small=row["petit_echantillon"] is True,
            remark=remark,
        )
    return line


def _share(value: object) -> str:
    return _pct(float(value))  # type: ignore[arg-type]


#: Width in pixels of the bar of a 100 % share in the answer tables.
_ROW_BAR = 160


def _answer_row(row: dict[str, Any]) -> dict[str, object]:
    part = float(row["part"])
    return {
        "label": str(row["libelle"]),
        "count": int(row["effectif"]),
        "share": _share(part),
        "bar": 0 if math.isnan(part) else round(part * _ROW_BAR),
        "interval": f"{_share(row['ic95_bas'])} – {_share(row['ic95_haut'])}",
    }


def _median(row: dict[str, Any]) -> str:
    median = float(row["mediane"])
    if math.isnan(median):
        return ""
    unit = str(row["unite"] or "")
    return _(
        "Médiane : {median} {unit} (de {low} à {high}).",
        median=format_figure(median),
        unit=unit,
        low=format_figure(float(row["minimum"])),
        high=format_figure(float(row["maximum"])),
    ).replace("  ", " ")


def _questions(analysis: SurveyAnalysis) -> list[dict[str, object]]:
    """One block per question: who answered, the median, the answer rows, the comments."""
    answers = analysis.answers
    comments = analysis.comments
    blocks = []
    for row in _records(analysis.questions):
        qid = str(row["question"])
        answered, total = int(row["repondants"]), int(row["total"])
        texts = (
            comments.loc[comments["question"] == qid, "texte"].astype(str).tolist()
            if len(comments)
            else []
        )
        blocks.append(
            {
                "id": qid,
                "label": str(row["libelle_question"]),
                "kind": str(row["type"]),
                "answered": _(
                    "{n} répondant(s) sur {total} ont répondu ({share}).",
                    n=answered,
                    total=total,
                    share=_share(row["part_repondants"]),
                ),
                "small": bool(row["petit_echantillon"]) and answered > 0,
                "multi": bool(row["plusieurs_reponses"]),
                "median": _median(row),
                "unit": str(row["unite"] or "") if row["type"] == "number" else "",
                "rows": [
                    _answer_row(r)
                    for r in _records(answers[answers["question"] == qid])
                    if answered
                ],
                "comments": len(texts),
            }
        )
    return blocks


def _comments(analysis: SurveyAnalysis) -> list[dict[str, object]]:
    comments = analysis.comments
    grouped: list[dict[str, object]] = []
    for question in analysis.questionnaire.questions:
        if question.type != "text":
            continue
        rows = comments[comments["question"] == question.id] if len(comments) else comments
        flags = (
            rows["coordonnees"].fillna("").astype(str).tolist()
            if "coordonnees" in rows.columns
            else [""] * len(rows)
        )
        texts = [
            {"text": text, "flag": flag}
            for text, flag in zip(
                rows["texte"].astype(str).tolist() if len(rows) else [], flags, strict=False
            )
        ]
        grouped.append({"id": question.id, "label": question.label, "texts": texts})
    return grouped


def _completed(analysis: SurveyAnalysis) -> pd.DataFrame:
    """The groups with ``statut`` and ``libelle_theme`` (a frame built by hand may lack
    them: the status then follows ``min_group_size``, the label is the theme).
    """
    groups = analysis.groups
    if "statut" not in groups.columns:
        groups = groups.assign(
            statut=[
                GROUP_CANDIDATE if int(n) >= analysis.min_group_size else GROUP_LEAD
                for n in groups["membres"]
            ]
        )
    if "libelle_theme" not in groups.columns:
        groups = groups.assign(libelle_theme=groups["theme"])
    return groups


def _groups(analysis: SurveyAnalysis, status: str) -> dict[str, list[Any]] | None:
    groups = _completed(analysis)
    chosen = groups[groups["statut"] == status] if len(groups) else groups
    if not len(chosen):
        return None
    columns = ["groupe", "libelle_theme", "membres", "noms_communes", "diametre_minutes"]
    shown = chosen[columns].assign(noms_communes=chosen["noms_communes"].str.replace(";", ", "))
    rows = [
        [
            format_number(float(value), 1) if isinstance(value, float) else str(value)
            for value in row
        ]
        for row in shown.itertuples(index=False)
    ]
    return {"columns": columns, "rows": rows}


def _respondents_map(analysis: SurveyAnalysis) -> str:
    communes = analysis.communes
    if not len(communes):
        return ""
    frame = communes.assign(carte=communes["repondants"].where(communes["repondants"] > 0))
    return choropleth_svg(
        frame,
        "carte",
        analysis.geometries,
        label=_("Répondants par commune"),
        no_data_label=_("aucun répondant"),
    )


def _spread(places: list[tuple[float, float]], span: float) -> list[tuple[float, float]]:
    """Move marks that would cover one another to the nearest free place around them.

    Groups of the same communes sit at about the same mean position.  ``span`` is the
    size of the map in degrees of latitude (longitudes scaled by the cosine of the
    latitude); two marks are kept :data:`_GAP` × ``span`` apart, the width of a mark
    on the map, each moved along a spiral of rings of six places.
    """
    if not places:
        return []
    gap = span * _GAP
    scale = math.cos(math.radians(places[0][0]))
    placed: list[tuple[float, float]] = []
    for lat, lon in places:
        x, y = lon * scale, lat
        ring, step = 0, 0
        candidate = (x, y)
        while any(math.dist(candidate, other) < gap for other in placed):
            if step == 0:
                ring, step = ring + 1, 6 * (ring + 1)
            step -= 1
            angle = 2 * math.pi * step / (6 * ring)
            candidate = (x + ring * gap * math.cos(angle), y + ring * gap * math.sin(angle))
        placed.append(candidate)
    return [(y, x / scale) for x, y in placed]


#: Distance kept between two marks, as a share of the span of the communes' centres:
#: a mark is 18 pixels wide on a 720-pixel map (2.5 %), and the map, drawn to the
#: communes' outlines, is wider than their centres.
_GAP = 0.045


def _groups_map(analysis: SurveyAnalysis) -> str:
    communes, groups = analysis.communes, _completed(analysis)
    if not len(communes) or not len(groups):
        return ""
    candidates = groups[groups["statut"] == GROUP_CANDIDATE]
    if not len(candidates):
        return ""
    where = communes.set_index("code")[["latitude", "longitude"]].astype("float64")
    places: list[tuple[float, float]] = []
    titles: list[tuple[str, str]] = []
    for row in _records(candidates):
        listed = row.get("membres_par_commune") or ";".join(
            f"{c}:1" for c in str(row.get("communes") or "").split(";") if c
        )
        parts = (p.partition(":") for p in str(listed).split(";"))
        weights = {c: int(n) for c, _sep, n in parts if c in where.index and n.isdigit()}
        located = where.loc[list(weights)].dropna()
        if not len(located):
            continue
        w = [weights[c] for c in located.index]
        # The group's mark sits at its members' mean position (all within the threshold).
        lat = sum(a * b for a, b in zip(located["latitude"], w, strict=True)) / sum(w)
        lon = sum(a * b for a, b in zip(located["longitude"], w, strict=True)) / sum(w)
        places.append((lat, lon))
        title = _(
            "Groupe {n} : {theme}, {m} membres ({communes})",
            n=row["groupe"],
            theme=row["libelle_theme"],
            m=row["membres"],
            communes=str(row["noms_communes"]).replace(";", ", "),
        )
        titles.append((str(row["groupe"]), title))
    known = where.dropna()
    tall = known["latitude"].max() - known["latitude"].min() if len(known) else 0.0
    wide = (known["longitude"].max() - known["longitude"].min()) * math.cos(
        math.radians(float(known["latitude"].mean()) if len(known) else 45.0)
    )
    span = max(float(tall), float(wide) if len(known) else 0.0, 0.01)
    markers = [
        Marker(lat, lon, label, title)
        for (lat, lon), (label, title) in zip(_spread(places, span), titles, strict=True)
    ]
    frame = communes.assign(
        carte=communes["membres_candidats"].where(communes["membres_candidats"] > 0)
    )
    return choropleth_svg(
        frame,
        "carte",
        analysis.geometries,
        label=_("Membres de communautés-base candidates par commune"),
        no_data_label=_("aucun membre"),
        markers=markers,
    )


def _summary(analysis: SurveyAnalysis) -> list[tuple[str, str]]:
    groups = _completed(analysis)
    statuses = groups["statut"].tolist() if len(groups) else []
    return [
        (format_number(len(analysis.respondents)), _("répondant(s) analysé(s)")),
        (format_number(len(analysis.questions)), _("question(s) de résultats")),
        (
            format_number(statuses.count(GROUP_CANDIDATE)),
            _("communauté(s)-base candidate(s), {n} membres ou plus", n=analysis.min_group_size),
        ),
        (
            format_number(statuses.count(GROUP_LEAD)),
            _("piste(s) : groupe(s) de moins de {n} membres", n=analysis.min_group_size),
        ),
        (format_number(len(analysis.comments)), _("commentaire(s) libre(s)")),
    ]


def survey_sections(analysis: SurveyAnalysis, *, size_option: str = "") -> dict[str, object]:
    """The context of the sections of ``_survey.html`` (report and web page alike).

    ``size_option`` names where the minimum group size is set (the web form's field);
    empty: the command line's option, named by the template.
    """
    typ = analysis.typology
    return {
        "a": analysis,
        "summary": _summary(analysis),
        "small_sample": SMALL_SAMPLE,
        "questions": _questions(analysis),
        "comments": _comments(analysis),
        "bar_width": _ROW_BAR,
        "typology_svg": safe_svg(_typology_svg(typ)),
        "typology": [_typology_row(row) for row in _records(typ)],
        "source": str(typ["source"].iloc[0]) if len(typ) else "",
        "scores_svg": safe_svg(_scores_svg(analysis.respondents)),
        "criteria": SCORE_CRITERIA,
        "candidates": _groups(analysis, GROUP_CANDIDATE),
        "leads": _groups(analysis, GROUP_LEAD),
        "size_option": size_option,
        **_map_default(analysis),
    }


def _map_default(analysis: SurveyAnalysis) -> dict[str, str]:
    """The indicator the web map opens on, and why when it is not the candidates' one.

    The members of candidate base communities, when there are some; else (no
    group, or only « pistes » below the minimum size) the respondents per commune,
    which the map would otherwise hide behind communes all at zero.
    """
    communes = analysis.communes
    if len(communes) and int(communes["membres_candidats"].sum()) > 0:
        return {"map_indicator": "membres_candidats", "map_note": ""}
    note = _(
        "Aucune communauté-base candidate pour l'instant (au moins {n} membres) : la carte "
        "montre d'abord les répondants par commune ; l'indicateur « Membres de "
        "communautés-base candidates » restera à zéro tant qu'aucun groupe n'atteint "
        "cette taille.",
        n=analysis.min_group_size,
    )
    return {"map_indicator": "repondants", "map_note": note}


def survey_warnings(analysis: SurveyAnalysis) -> tuple[list[str], list[str]]:
    """The analysis' notes as (banner warnings, information notes).

    Fictional answers on a fictional territory go in the red banner, as for the demo.
    """
    warnings, notes = split_notes(analysis.notes)
    if analysis.fictional and fictional_note() in notes:
        notes.remove(fictional_note())
        warnings.append(fictional_note())
    return warnings, notes


def render_survey(analysis: SurveyAnalysis) -> str:
    """Return the self-contained HTML page of the analysis (every value escaped)."""
    warnings, notes = survey_warnings(analysis)
    return render_page(
        "survey.html",
        s=survey_sections(analysis),
        warnings=warnings,
        notes=notes,
        respondents_map=safe_svg(_respondents_map(analysis)),
        groups_map=safe_svg(_groups_map(analysis)),
    )


def survey_map_data(analysis: SurveyAnalysis) -> tuple[bytes, dict[str, object]]:
    """The map of the web page: ``survey_communes.geojson`` and the metadata of
    ``map.js`` (indicators ``membres_candidats`` and ``repondants``, classes of
    :func:`~tierslieux.reports.maps.class_breaks`, palette of the reports' maps).
    """
    communes = analysis.communes
    indicators = []
    for key, label in (
        ("membres_candidats", _("Membres de communautés-base candidates")),
        ("repondants", _("Répondants")),
    ):
        values = [float(v) for v in communes[key]] if len(communes) else []
        indicators.append(
            {
                "cle": key,
                "libelle": label,
                "decimales": 0,
                "seuils": class_breaks(values),
                "minimum": min(values) if values else None,
            }
        )
    metadata: dict[str, object] = {
        "palette": list(PALETTE),
        "sans_donnee": NO_DATA,
        "minutes_bassin": analysis.minutes,
        "indicateurs": indicators,
    }
    return _communes_geojson(analysis), metadata


#: Former name of :func:`render_survey`.
render_survey_html = render_survey
