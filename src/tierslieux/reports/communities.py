"""Files of the base-community directory: structures.csv/.geojson, communities.csv."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux import __version__
from tierslieux.model.catchment import definition_label
from tierslieux.reports._write import atomic_output_dir

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.pipeline import Communities

__all__ = ["write_communities"]


def _geojson(structures: pd.DataFrame) -> dict[str, Any]:
    features = []
    for record in structures.to_dict(orient="records"):
        lat, lon = record.get("latitude"), record.get("longitude")
        geometry = (
            {"type": "Point", "coordinates": [float(lon), float(lat)]}
            if pd.notna(lat) and pd.notna(lon)
            else None
        )
        properties = {k: (None if pd.isna(v) else v) for k, v in record.items()}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def write_communities(result: Communities, out: Path) -> list[Path]:
    """Write the structures (CSV, GeoJSON), ``communities.csv`` and ``sources.json``."""
    with atomic_output_dir(out) as staging:
        result.structures.to_csv(staging / "structures.csv", index=False, encoding="utf-8")
        (staging / "structures.geojson").write_text(
            json.dumps(_geojson(result.structures), ensure_ascii=False, default=str),
            encoding="utf-8",
        )
        result.communities.to_csv(staging / "communities.csv", index=False, encoding="utf-8")
        (staging / "sources.json").write_text(
            json.dumps(
                {
                    "outil": f"tierslieux {__version__}",
                    "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "territoire": result.territory_label,
                    "minutes_bassin": result.minutes,
                    "definition_bassin": result.definition,
                    "definition_bassin_texte": definition_label(result.definition, result.minutes),
                    "communes_voisines": list(result.neighbours),
                    "moteur_temps_de_trajet": result.engine,
                    "entrees": [p.to_dict() for p in result.provenance],
                    "notes": list(result.notes),
                },
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
        names = sorted(p.name for p in staging.iterdir())
    return [out / name for name in names]
