"""The documents of a diagnostic's interactive map (``static/js/map.js``) and web screen.

The formats are those of ``src/tierslieux/web/static/README.md``:

- :func:`map_metadata`: ``indicateurs.json``: label, unit, decimals and class breaks of
  each indicator, the breaks computed by :func:`~tierslieux.reports.maps.class_breaks`
  on the same values as the report's SVG map, so the web map and the report show the
  same classes;
- :func:`catchment_documents`: each commune's catchment: its row of ``catchments.csv``
  plus ``communes``, the codes of its members, and ``minutes``;
- :func:`communes_excel_csv`: ``communes.csv`` for French Excel (``;``, decimal comma,
  UTF-8 with BOM, French headers), through the project's one spreadsheet writer;
- :func:`diagnosis_summary`: what the web screen shows besides the table (totals,
  notes and banners, method parameters, sources with their vintages);
- :func:`diagnosis_run_files`: every file a run of the diagnostic keeps: the command
  line's (:func:`~tierslieux.reports.diagnosis.diagnosis_files`) and the map's.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from tierslieux.files import spreadsheet_csv
from tierslieux.i18n import gettext as _
from tierslieux.model.catchment import definition_label
from tierslieux.model.indicators import EXTRA_COLUMNS, INDICATORS, indicator_labels
from tierslieux.model.reference import INSEE_SMALL_COUNT_CAUTION
from tierslieux.model.rurality import rural_definition_note
from tierslieux.reports.diagnosis import diagnosis_files, render_geojson
from tierslieux.reports.geojson import json_value
from tierslieux.reports.labels import column_label, readable_frame
from tierslieux.reports.maps import NO_DATA, indicator_entry, map_legend
from tierslieux.reports.templates import split_notes

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from tierslieux.pipeline import Diagnosis

__all__ = [
    "CATCHMENTS_FILE",
    "EXCEL_FILE",
    "METADATA_FILE",
    "NO_DATA",
    "catchment_documents",
    "communes_excel_csv",
    "diagnosis_run_files",
    "diagnosis_summary",
    "diagnosis_vintages",
    "map_metadata",
    "write_map_documents",
]

#: Names of the map's documents among a run's result files.
METADATA_FILE = "carte-indicateurs.json"
CATCHMENTS_FILE = "carte-bassins.json"
EXCEL_FILE = "communes-excel.csv"


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")


def map_metadata(communes: pd.DataFrame, minutes: float) -> dict[str, Any]:
    """The ``indicateurs.json`` document of a diagnosis' commune table."""
    labels = indicator_labels()
    indicators = [
        indicator_entry(key, labels[key], list(communes[key]), unit=_("personnes"))
        for key in INDICATORS
        if key in communes.columns
    ]
    return map_legend(indicators, minutes)


def catchment_documents(diagnosis: Diagnosis) -> dict[str, dict[str, Any]]:
    """Each commune's catchment document, by centre code (see the module documentation)."""
    documents: dict[str, dict[str, Any]] = {}
    for row in diagnosis.catchments.to_dict(orient="records"):
        code = str(row["code"])
        document = {str(k): json_value(v) for k, v in row.items()}
        document["communes"] = list(diagnosis.catchment_members.get(code, (code,)))
        document["minutes"] = diagnosis.minutes
        documents[code] = document
    return documents


def _excel_cell(value: object) -> object:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.1f}".replace(".", ",")
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    return value


def communes_excel_csv(communes: pd.DataFrame) -> bytes:
    """``communes.csv`` for French Excel: ``;``, decimal comma, BOM, French headers.

    Headers and coded values in words through the one label layer
    (:mod:`tierslieux.reports.labels`), as the dossier's workbook shows them.
    """
    names = {"code": _("Code commune"), "nom": _("Commune")}
    columns = [str(c) for c in communes.columns]
    readable = readable_frame(communes)
    rows = (
        [_excel_cell(value) for value in record]
        for record in readable.itertuples(index=False, name=None)
    )
    headers = [names.get(c) or column_label(c) for c in columns]
    text = spreadsheet_csv(headers, rows, delimiter=";")
    return ("\ufeff" + text).encode("utf-8")


def diagnosis_summary(diagnosis: Diagnosis) -> dict[str, Any]:
    """What the diagnostic screen shows besides the table and the map (JSON object).

    Keys ``minutes``, ``long_commute_minutes``, ``teleworkable_shares``,
    ``teleworkable_source``, ``engine``, ``engine_parameters``, ``unavailable`` and
    ``provenance`` are those of :class:`~tierslieux.pipeline.Diagnosis` that the
    method template (``_diagnostic_method.html``) reads.
    """
    communes = diagnosis.communes
    warnings, notes = split_notes(diagnosis.notes)
    totals = {
        key: json_value(communes[key].sum(min_count=1))
        for key in INDICATORS
        if key in communes.columns
    }
    flagged = int((communes["effectifs_faibles"].fillna("") != "").sum())
    return {
        "territoire": diagnosis.territory_label,
        "communes": len(communes),
        "totaux": totals,
        "synthetique": diagnosis.synthetic,
        "fictif": diagnosis.fictional,
        "avertissements": warnings,
        "notes": notes,
        "effectifs_faibles": flagged,
        "seuil_effectifs": INSEE_SMALL_COUNT_CAUTION,
        "definition_texte": definition_label(diagnosis.definition, diagnosis.minutes),
        "note_rural": rural_definition_note(diagnosis.rural_definition),
        "voisines": len(diagnosis.neighbours),
        "mobpro_kind": diagnosis.mobpro_kind,
        "minutes": diagnosis.minutes,
        "long_commute_minutes": diagnosis.long_commute_minutes,
        "teleworkable_shares": dict(diagnosis.teleworkable_shares),
        "teleworkable_source": diagnosis.teleworkable_source,
        "engine": diagnosis.engine,
        "engine_parameters": {k: str(v) for k, v in diagnosis.engine_parameters.items()},
        "unavailable": list(diagnosis.unavailable),
        "provenance": [p.to_dict() for p in diagnosis.provenance],
        "colonnes": [c for c in (*INDICATORS, *EXTRA_COLUMNS) if c in communes.columns],
    }


def diagnosis_vintages(diagnosis: Diagnosis) -> dict[str, Any]:
    """Vintage of each input by role (``{"communes": "COG 2024", ...}``)."""
    return {p.role: p.vintage for p in diagnosis.provenance}


def diagnosis_run_files(diagnosis: Diagnosis) -> list[tuple[str, bytes]]:
    """Every file a run of the diagnostic keeps: the command line's, then the map's."""
    return [
        *diagnosis_files(diagnosis),
        (METADATA_FILE, _json(map_metadata(diagnosis.communes, diagnosis.minutes))),
        (CATCHMENTS_FILE, _json(catchment_documents(diagnosis))),
        (EXCEL_FILE, communes_excel_csv(diagnosis.communes)),
    ]


def write_map_documents(diagnosis: Diagnosis, folder: Path) -> None:
    """Write ``communes.geojson``, ``indicateurs.json`` and ``bassins/<code>.json``.

    The layout a static page of ``map.js`` reads (the browser tests serve it).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "communes.geojson").write_bytes(render_geojson(diagnosis))
    (folder / "indicateurs.json").write_bytes(
        _json(map_metadata(diagnosis.communes, diagnosis.minutes))
    )
    (folder / "bassins").mkdir(exist_ok=True)
    for code, document in catchment_documents(diagnosis).items():
        (folder / "bassins" / f"{code}.json").write_bytes(_json(document))
