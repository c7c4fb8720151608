"""Railway stations, read as anchors for mobility (SNCF open data).

Format (:func:`load_gares`): SNCF open data "Gares de voyageurs" (``;``, UTF-8 with
BOM, header ``Nom;Trigramme;Segment(s) DRG;Position géographique;Code commune;
Code(s) UIC``); the position is ``"lat, lon"`` in one field; several UIC codes are
``;``-joined in a quoted field, the first one names the station.  The frame is the
canonical structures frame (:mod:`tierslieux.sources._records`).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from tierslieux.i18n import gettext as _
from tierslieux.model.types import Provenance
from tierslieux.sources._files import (
    find_column,
    find_optional_column,
    read_csv_strings,
    sha256_of,
)
from tierslieux.sources._records import (
    commune_code,
    filter_communes,
    line_of,
    parse_coordinate,
    raise_problems,
    structures_frame,
    text_of,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd

__all__ = ["load_gares"]

_POSITION = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*[,;]\s*(-?\d+(?:[.,]\d+)?)\s*$")

_GARE_ALIASES: dict[str, tuple[str, ...]] = {
    "nom": ("Nom", "nom_gare", "libelle"),
    "position": ("Position géographique", "position_geographique", "geo_point_2d", "position"),
    "commune": ("Code commune", "code_commune", "codeinsee", "code_insee"),
}
_GARE_OPTIONAL: dict[str, tuple[str, ...]] = {
    "trigramme": ("Trigramme", "trigramme"),
    "uic": ("Code(s) UIC", "codes_uic", "code_uic", "uic"),
    "segment": ("Segment(s) DRG", "segments_drg", "segment_drg", "segment"),
}


def load_gares(
    path: Path, *, communes: Sequence[str] | None = None, vintage: str | None = None
) -> tuple[pd.DataFrame, Provenance]:
    """Read the SNCF "Gares de voyageurs" open data export.

    Parameters
    ----------
    path
        ``gares-de-voyageurs.csv`` (``;``, UTF-8 with BOM; separator and encoding are
        detected).
    communes
        INSEE codes of the communes to keep (all when ``None``).
    vintage
        Date or year of the export, shown in ``source`` (unknown by default: the file
        does not carry it).

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        One row per station: ``identifiant`` ``gare:<first UIC>`` (``gare:<trigramme>``
        without UIC), ``categorie`` ``point_appui``, ``themes`` ``mobilite``; extras
        ``type`` (``segment DRG A/B/C``), ``uic``, ``trigramme``, ``code_commune_source``.

    Raises
    ------
    SourceError
        Missing or empty file.
    SchemaError
        Missing column, malformed line (for instance a ``,``-separated copy whose
        positions are not quoted), unreadable position, invalid commune code, missing or
        duplicate identifier.
    """
    frame = read_csv_strings(path, role=_("gares"))
    columns = list(frame.columns)
    found = {k: find_column(columns, a, path=path, what=k) for k, a in _GARE_ALIASES.items()}
    optional = {k: find_optional_column(columns, a) for k, a in _GARE_OPTIONAL.items()}
    if optional["uic"] is None and optional["trigramme"] is None:
        find_column(
            columns, _GARE_OPTIONAL["uic"] + _GARE_OPTIONAL["trigramme"], path=path, what="UIC"
        )
    source = _("SNCF gares de voyageurs") + (f" {vintage}" if vintage else "")
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(frame.to_dict("records")):
        where = line_of(index)
        uics = re.split(r"[;,|\s]+", text_of(row[optional["uic"]]) or "") if optional["uic"] else []
        uics = [u for u in uics if u]
        trigramme = text_of(row[optional["trigramme"]]) if optional["trigramme"] else None
        key = uics[0] if uics else trigramme
        if key is None:
            problems.append(_("{where} : ni code UIC ni trigramme", where=where))
            continue
        identifiant = f"gare:{key}"
        if identifiant in seen:
            problems.append(
                _(
                    "{where} : identifiant {id} déjà vu ligne {first}",
                    where=where,
                    id=key,
                    first=seen[identifiant] + 2,
                )
            )
            continue
        seen[identifiant] = index
        latitude, longitude = _position(row[found["position"]], found["position"], where, problems)
        code, code_source = commune_code(
            row[found["commune"]], where=where, column=found["commune"], problems=problems
        )
        segments = text_of(row[optional["segment"]]) if optional["segment"] else None
        segment = _best_segment(segments)
        records.append(
            {
                "identifiant": identifiant,
                "nom": text_of(row[found["nom"]]) or key,
                "categorie": "point_appui",
                "themes": "mobilite",
                "code_commune": code,
                "latitude": latitude,
                "longitude": longitude,
                "source": source,
                "raison": _gare_reason(segment),
                "type": _("segment DRG {segment}", segment=segment) if segment else None,
                "uic": ";".join(uics) or None,
                "trigramme": trigramme,
                "code_commune_source": code_source,
            }
        )
    raise_problems(problems, path, _("gares"))
    result = structures_frame(records, ("type", "uic", "trigramme", "code_commune_source"))
    provenance = Provenance(
        role="gares",
        location=str(path),
        vintage=vintage,
        sha256=sha256_of(path),
        licence="ODbL",
        notes=(
            _(
                "Segments DRG de SNCF Gares & Connexions : A gare d'intérêt national, "
                "B d'intérêt régional, C d'intérêt local."
            ),
        ),
    )
    return filter_communes(result, communes), provenance


def _position(value: object, column: str, where: str, problems: list[str]) -> tuple[float, float]:
    text = text_of(value)
    if text is None:
        return math.nan, math.nan
    match = _POSITION.match(text)
    if match is None:
        problems.append(
            _(
                "{where}, colonne {column} : « {value} » n'est pas une position « latitude, "
                "longitude »",
                where=where,
                column=column,
                value=text,
            )
        )
        return math.nan, math.nan
    latitude = parse_coordinate(match.group(1), kind="latitude", where=where, problems=problems)
    longitude = parse_coordinate(match.group(2), kind="longitude", where=where, problems=problems)
    return latitude, longitude


def _best_segment(segments: str | None) -> str | None:
    if segments is None:
        return None
    letters = sorted({s.strip().upper() for s in re.split(r"[;,]", segments) if s.strip()})
    return letters[0] if letters else None


def _gare_reason(segment: str | None) -> str:
    interest = {
        "A": _("gare d'intérêt national"),
        "B": _("gare d'intérêt régional"),
        "C": _("gare d'intérêt local"),
    }.get(segment or "", _("gare de voyageurs"))
    # Whole sentences (no placeholder next to another): a stored reason is read back
    # into its values to be shown in another language (tierslieux.i18n.translate_stored).
    if segment:
        return _(
            "Gare SNCF, {interest} (segment DRG {segment}) : point d'appui pour la mobilité "
            "des télétravailleurs et l'accueil d'un tiers-lieu près des trains.",
            interest=interest,
            segment=segment,
        )
    return _(
        "Gare SNCF, {interest} : point d'appui pour la mobilité des télétravailleurs "
        "et l'accueil d'un tiers-lieu près des trains.",
        interest=interest,
    )
