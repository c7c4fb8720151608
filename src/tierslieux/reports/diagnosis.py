"""Territorial diagnostic: the report page and the output files, rendered in memory.

:func:`render_diagnosis` returns the HTML page, :func:`diagnosis_files` every file as
bytes (for a web route or an archive), :func:`write_diagnosis` writes them into a
folder, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from tierslieux import __version__
from tierslieux.files import write_output_files
from tierslieux.i18n import gettext as _
from tierslieux.model.catchment import definition_label
from tierslieux.model.indicators import INDICATORS, indicator_labels
from tierslieux.model.reference import CS1_LABELS, INSEE_SMALL_COUNT_CAUTION
from tierslieux.model.rurality import rural_definition_note
from tierslieux.reports.geojson import feature_collection, geojson_bytes
from tierslieux.reports.maps import choropleth_svg
from tierslieux.reports.templates import render_page, safe_svg, split_notes

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from tierslieux.pipeline import Diagnosis

__all__ = ["diagnosis_files", "render_diagnosis", "render_report", "write_diagnosis"]

OUTPUT_FILES = (
    "communes.csv",
    "communes.geojson",
    "catchments.csv",
    "bassins.csv",
    "report.html",
    "sources.json",
)


def _csv(frame: pd.DataFrame) -> bytes:
    # Counts are weighted estimates: one decimal keeps them honest without false precision.
    return frame.to_csv(index=False, float_format="%.1f").encode("utf-8")


def _round(properties: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in properties.items()}


def render_geojson(diagnosis: Diagnosis) -> bytes:
    """Return ``communes.geojson``: one feature per commune, its polygon or its point."""
    synthetic = diagnosis.synthetic

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        rounded = _round(row)
        if synthetic:
            rounded["synthetique"] = True
        return rounded

    extra = (
        {"avertissement": " ".join(diagnosis.notes)}
        if diagnosis.synthetic or diagnosis.fictional
        else None
    )
    collection = feature_collection(
        diagnosis.communes, geometries=diagnosis.geometries, properties=properties, extra=extra
    )
    return geojson_bytes(collection)


def _sources(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "outil": f"tierslieux {__version__}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "territoire": diagnosis.territory_label,
        "synthetique": diagnosis.synthetic,
        "fictif": diagnosis.fictional,
        "entrees": [p.to_dict() for p in diagnosis.provenance],
        "parametres": {
            "minutes_bassin": diagnosis.minutes,
            "definition_bassin": diagnosis.definition,
            "definition_bassin_texte": definition_label(diagnosis.definition, diagnosis.minutes),
            "communes_voisines": list(diagnosis.neighbours),
            "minutes_trajet_long": diagnosis.long_commute_minutes,
            "moteur_temps_de_trajet": diagnosis.engine,
            "parametres_moteur": {k: str(v) for k, v in diagnosis.engine_parameters.items()},
            "parts_teletravaillables": diagnosis.teleworkable_shares,
            "source_parts_teletravaillables": diagnosis.teleworkable_source,
            "definition_rural": diagnosis.rural_definition,
            "tableaux_communes_rurales": diagnosis.rural_focus,
        },
        "indicateurs_indisponibles": list(diagnosis.unavailable),
        "notes": list(diagnosis.notes),
    }


def render_diagnosis(diagnosis: Diagnosis) -> str:
    """Return the self-contained HTML report of ``diagnosis`` (nothing is written)."""
    mapped = "potentiel" if diagnosis.mobpro_kind != "flux" else "actifs_occupes"
    labels = indicator_labels()
    totals = {c: diagnosis.communes[c].sum(min_count=1) for c in INDICATORS}
    flagged = int((diagnosis.communes["effectifs_faibles"].fillna("") != "").sum())
    communes = diagnosis.communes
    catchments = diagnosis.catchments
    if diagnosis.rural_focus:
        # --rural: the tables rank rural communes only (the CSV files keep every row).
        rural = set(communes.loc[communes["rural"].fillna(value=False).astype(bool), "code"])
        communes = communes[communes["code"].isin(rural)]
        catchments = catchments[catchments["code"].isin(rural)]
    top_communes = communes.sort_values(mapped, ascending=False).head(20)
    warnings, notes = split_notes(diagnosis.notes)
    return render_page(
        "diagnostic.html",
        d=diagnosis,
        warnings=warnings,
        notes=notes,
        labels=labels,
        indicators=INDICATORS,
        totals=totals,
        mapped=mapped,
        map_svg=safe_svg(
            choropleth_svg(diagnosis.communes, mapped, diagnosis.geometries, label=labels[mapped])
        ),
        top_catchments=catchments.head(15).to_dict(orient="records"),
        rural_note=rural_definition_note(diagnosis.rural_definition),
        top_communes=top_communes.to_dict(orient="records"),
        bassins=(
            diagnosis.bassins.sort_values(mapped, ascending=False)
            .head(20)
            .to_dict(orient="records")
            if diagnosis.bassins is not None
            else None
        ),
        definition_text=definition_label(diagnosis.definition, diagnosis.minutes),
        cs1_labels={code: _(label) for code, label in CS1_LABELS.items()},
        small_threshold=INSEE_SMALL_COUNT_CAUTION,
        flagged=flagged,
    )


#: Former name of :func:`render_diagnosis`.
render_report = render_diagnosis


def diagnosis_files(diagnosis: Diagnosis) -> list[tuple[str, bytes]]:
    """Return every output file of ``diagnosis`` as ``(name, bytes)``, in memory.

    ``communes.csv``, ``communes.geojson``, ``catchments.csv``, ``bassins.csv`` (with
    zonages), ``sources.json`` and ``report.html``.
    """
    files = [
        ("communes.csv", _csv(diagnosis.communes)),
        ("communes.geojson", render_geojson(diagnosis)),
        ("catchments.csv", _csv(diagnosis.catchments)),
    ]
    if diagnosis.bassins is not None:
        files.append(("bassins.csv", _csv(diagnosis.bassins)))
    files.append(
        (
            "sources.json",
            json.dumps(_sources(diagnosis), ensure_ascii=False, indent=2).encode("utf-8"),
        )
    )
    files.append(("report.html", render_diagnosis(diagnosis).encode("utf-8")))
    return files


def write_diagnosis(diagnosis: Diagnosis, out: Path) -> list[Path]:
    """Render every output of ``diagnosis`` then write them into ``out``, all or nothing.

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.
    """
    return sorted(write_output_files(out, diagnosis_files(diagnosis), owner="diagnose"))
