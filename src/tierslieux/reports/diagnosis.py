"""Files of a territorial diagnostic: CSV, GeoJSON, provenance and the HTML report."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from tierslieux import __version__
from tierslieux.analysis.catchment import definition_label
from tierslieux.i18n import current_language, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import INDICATORS, indicator_labels
from tierslieux.model.reference import CS1_LABELS, INSEE_SMALL_COUNT_CAUTION
from tierslieux.model.rurality import rural_definition_note
from tierslieux.reports._write import atomic_output_dir
from tierslieux.reports.maps import choropleth_svg

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.pipeline import Diagnosis

__all__ = ["render_report", "write_diagnosis"]

OUTPUT_FILES = (
    "communes.csv",
    "communes.geojson",
    "catchments.csv",
    "bassins.csv",
    "report.html",
    "sources.json",
)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    # Counts are weighted estimates: one decimal keeps them honest without false precision.
    frame.to_csv(path, index=False, float_format="%.1f", encoding="utf-8")


def _feature_collection(diagnosis: Diagnosis) -> dict[str, Any]:
    features = []
    for record in diagnosis.communes.to_dict(orient="records"):
        code = str(record["code"])
        geometry = diagnosis.geometries.get(code)
        if (
            geometry is None
            and pd.notna(record.get("latitude"))
            and pd.notna(record.get("longitude"))
        ):
            geometry = {"type": "Point", "coordinates": [record["longitude"], record["latitude"]]}
        properties = {
            k: (None if pd.isna(v) else (round(float(v), 1) if isinstance(v, float) else v))
            for k, v in record.items()
        }
        if diagnosis.synthetic:
            properties["synthetique"] = True
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if diagnosis.synthetic or diagnosis.fictional:
        collection["avertissement"] = " ".join(diagnosis.notes)
    return collection


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


def render_report(diagnosis: Diagnosis) -> str:
    """Return the self-contained HTML report of ``diagnosis``."""
    env = Environment(
        loader=PackageLoader("tierslieux.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = _

    def number(value: object) -> str:
        if value is None or pd.isna(value):  # type: ignore[call-overload]
            return "—"
        return format_number(float(value))  # type: ignore[arg-type]

    env.filters["nombre"] = number
    env.filters["pourcent"] = format_percent
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

    def rural_word(value: object) -> str:
        if value is None or pd.isna(value):  # type: ignore[call-overload]
            return "—"
        return _("oui") if value else _("non")

    env.globals["rural_word"] = rural_word
    template = env.get_template("diagnostic.html.j2")
    return template.render(
        lang=current_language(),
        d=diagnosis,
        version=__version__,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        labels=labels,
        indicators=INDICATORS,
        totals=totals,
        mapped=mapped,
        map_svg=choropleth_svg(
            diagnosis.communes, mapped, diagnosis.geometries, label=labels[mapped]
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


def write_diagnosis(diagnosis: Diagnosis, out: Path) -> list[Path]:
    """Write every output of ``diagnosis`` into ``out`` atomically.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    written: list[str] = []
    with atomic_output_dir(out) as staging:
        _csv(diagnosis.communes, staging / "communes.csv")
        (staging / "communes.geojson").write_text(
            json.dumps(_feature_collection(diagnosis), ensure_ascii=False), encoding="utf-8"
        )
        _csv(diagnosis.catchments, staging / "catchments.csv")
        if diagnosis.bassins is not None:
            _csv(diagnosis.bassins, staging / "bassins.csv")
        (staging / "sources.json").write_text(
            json.dumps(_sources(diagnosis), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        (staging / "report.html").write_text(render_report(diagnosis), encoding="utf-8")
        written = sorted(p.name for p in staging.iterdir())
    return [out / name for name in written]
