"""Existing places, read as anchors for hosting and networking: tiers-lieux, stations, mediation.

Every loader returns the canonical *structures* frame (columns
:data:`~tierslieux.model.structures.STRUCTURE_COLUMNS` in that order, then extras) and a
:class:`~tierslieux.model.types.Provenance`.  Text columns have the pandas ``string`` dtype;
``latitude`` and ``longitude`` are ``float64`` in EPSG:4326 (NaN when unknown);
``code_commune`` is a 5-character INSEE code, Paris/Lyon/Marseille arrondissements being
reported in their commune (the original code stays in ``code_commune_source``).

Formats:

- **Tiers-lieux** (:func:`load_tiers_lieux`): the CGET/ANCT 2019 census
  ``CGET_TiersLieux_2019.csv`` (``,``, UTF-8, header ``ID,NOM_TL,ADRESSE,CP,COMINIT,
  INSEECOM,NOMCOM,WEB,TWITTER,FACEBOOK,TYPO,LAT,LONG,GEOCOD,PRECISION,CONTACT,MAIL,METRO,
  NOMMETRO,INSEEREG,NOMREG,INSEEMETRO,INSEEDEP,...``).  ``INSEECOM`` is ``0`` on 157 rows
  nationally; the code of the commune holding the geocoded point (``INSEEMETRO``) is then
  used, except where ``INSEEREG`` is empty (overseas rows, whose ``INSEEMETRO`` is wrong).
  ``INSEEMETRO`` is also used when the département of ``INSEECOM`` is neither the
  point's (``INSEEDEP``) nor the postcode's (3 rows nationally, e.g. a Sophia-Antipolis
  place coded ``14327``, a commune of Calvados).
  Other tiers-lieux lists (for instance a France Tiers-Lieux or ANCT export) are read when
  their columns match one of the aliases of :data:`TIERS_LIEUX_ALIASES` (compared without
  case); these aliases are usual names, not a verified published schema.
- **Stations** (:func:`load_gares`): SNCF open data "Gares de voyageurs" (``;``, UTF-8
  with BOM, header ``Nom;Trigramme;Segment(s) DRG;Position géographique;Code commune;
  Code(s) UIC``); the position is ``"lat, lon"`` in one field; several UIC codes are
  ``;``-joined in a quoted field, the first one names the station.
- **Digital mediation** (:func:`load_mediation_numerique`): JSON array in the national
  schema of "lieux de médiation numérique" (``id, nom, services, commune, code_postal,
  adresse, code_insee, latitude, longitude, labels_nationaux, site_web, source,
  date_maj...``).

Personal data: the ``CONTACT`` and ``MAIL`` columns of the census and the ``telephone``
and ``courriels`` fields of the mediation schema (and any column of :data:`PERSONAL_FIELDS`)
are dropped as soon as the file is read; they never reach the returned frame.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierslieux.errors import SchemaError, SourceError
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import (
    commune_of_arrondissement,
    is_commune_code,
    normalise_commune_code,
)
from tierslieux.model.structures import STRUCTURE_COLUMNS
from tierslieux.model.types import Provenance
from tierslieux.sources._files import (
    find_column,
    find_optional_column,
    read_csv_strings,
    require_file,
    sha256_of,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "MAX_CENTRE_DISTANCE_KM",
    "PERSONAL_FIELDS",
    "TIERS_LIEUX_ALIASES",
    "filter_communes",
    "load_gares",
    "load_mediation_numerique",
    "load_tiers_lieux",
    "structures_frame",
]

#: Column names (lower case, accents removed) that hold data on people: never kept.
PERSONAL_FIELDS: frozenset[str] = frozenset(
    {
        "contact",
        "contacts",
        "mail",
        "email",
        "e_mail",
        "e-mail",
        "courriel",
        "courriels",
        "telephone",
        "telephones",
        "tel",
        "phone",
        "mobile",
        "portable",
    }
)

#: Canonical field -> accepted column names of a tiers-lieux list (first match wins).
TIERS_LIEUX_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("ID", "identifiant", "id_tl", "id_lieu"),
    "nom": ("NOM_TL", "nom", "nom_lieu", "nom_du_lieu", "name"),
    "commune": (
        "INSEECOM",
        "code_insee",
        "code_commune",
        "insee_com",
        "codgeo",
        "code_commune_insee",
    ),
    "latitude": ("LAT", "latitude", "lat", "y_latitude"),
    "longitude": ("LONG", "longitude", "lon", "lng", "x_longitude"),
}
_TL_OPTIONAL: dict[str, tuple[str, ...]] = {
    "typo": ("TYPO", "typologie", "type", "types"),
    "web": ("WEB", "site_web", "site_internet", "web", "url"),
    "adresse": ("ADRESSE", "adresse", "address"),
    "commune_geo": ("INSEEMETRO",),
    "region": ("INSEEREG", "code_region", "reg"),
    "departement": ("INSEEDEP",),
    "code_postal": ("CP", "code_postal"),
}
_CGET_VINTAGE = "2019"
_TYPO = {"coworking": "coworking", "fablab": "fablab"}
_MEDIATION_FRANCE_SERVICES = "France Services"
_MEDIATION_CNFS = "CNFS"
_FRANCE_TIERS_LIEUX_SOURCE = "france-tiers-lieux"
_EARTH_RADIUS_KM = 6371.0088
#: Farthest a place may lie from the centre of its commune (km), a plausibility guard.
#: Measured on PACA (centres of communes.csv, contours of france-geojson 2018): the
#: farthest contour point is 28.3 km from its centre (Arles), then 23.6 km (Hyères).
#: Communes of French Guiana are far larger: the guard does not suit them.
MAX_CENTRE_DISTANCE_KM = 30.0
_MAX_LISTED = 8
_POSITION = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*[,;]\s*(-?\d+(?:[.,]\d+)?)\s*$")
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


# --------------------------------------------------------------------------------------
# Shared helpers (also used by :mod:`tierslieux.sources.actors`)
# --------------------------------------------------------------------------------------


def structures_frame(
    records: Sequence[Mapping[str, Any]], extras: Sequence[str] = ()
) -> pd.DataFrame:
    """Build a canonical structures frame from records.

    Parameters
    ----------
    records
        One mapping per structure holding at least the keys of ``STRUCTURE_COLUMNS``
        (missing ones become NA) and, optionally, the keys of ``extras``.
    extras
        Extra columns to keep after the canonical ones, in that order.

    Returns
    -------
    pandas.DataFrame
        Columns ``STRUCTURE_COLUMNS`` then ``extras``; text as ``string`` dtype,
        ``latitude``/``longitude`` as ``float64``.
    """
    columns = [*STRUCTURE_COLUMNS, *extras]
    frame = pd.DataFrame.from_records(list(records), columns=columns)
    for column in columns:
        if column in {"latitude", "longitude"}:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif frame[column].map(lambda v: _missing(v) or isinstance(v, str)).all():
            frame[column] = frame[column].astype("string")
    return frame.reset_index(drop=True)


def filter_communes(frame: pd.DataFrame, communes: Sequence[str] | None) -> pd.DataFrame:
    """Keep the rows whose ``code_commune`` is one of ``communes`` (all when ``None``).

    Arrondissement codes in ``communes`` count for their commune.
    """
    if communes is None:
        return frame
    wanted = {commune_of_arrondissement(str(c).strip()) for c in communes}
    return frame[frame["code_commune"].isin(wanted).fillna(value=False)].reset_index(drop=True)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: object) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip()
    # Some exports write the database's empty value literally.
    return None if not text or text == "NULL" else text


def _key(name: str) -> str:
    """Lower-case column name without accents, spaces as underscores."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", "_", plain.strip().lower())


def personal_columns(columns: Iterable[str]) -> list[str]:
    """Return the columns of ``columns`` that hold personal data (see PERSONAL_FIELDS)."""
    found = []
    for column in columns:
        key = _key(column)
        parts = set(key.split("_"))
        if key in PERSONAL_FIELDS or parts & PERSONAL_FIELDS:
            found.append(column)
    return found


def parse_coordinate(value: object, *, kind: str, where: str, problems: list[str]) -> float:
    """Parse a latitude or longitude (decimal point or comma), appending problems.

    Returns NaN for an empty value and for an invalid one (then ``problems`` grows).
    """
    if _missing(value):
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        if not text:
            return math.nan
        try:
            number = float(text)
        except ValueError:
            problems.append(
                _(
                    "{where}, colonne {kind} : « {value} » n'est pas un nombre décimal",
                    where=where,
                    kind=kind,
                    value=value,
                )
            )
            return math.nan
    limit = 90.0 if kind.lower().startswith("lat") else 180.0
    if not math.isfinite(number) or abs(number) > limit:
        problems.append(
            _(
                "{where}, colonne {kind} : {value} hors de [-{limit:g}, {limit:g}]",
                where=where,
                kind=kind,
                value=value,
                limit=limit,
            )
        )
        return math.nan
    return number


def raise_problems(problems: Sequence[str], path: Path, what: str) -> None:
    """Raise one SchemaError listing every problem found in ``path`` (if any)."""
    if not problems:
        return
    listed = "; ".join(problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    if more > 0:
        listed += _(" ; et {n} autre(s)", n=more)
    raise SchemaError(
        _(
            "{path} : {count} valeur(s) invalide(s) dans le fichier {what} : {listed}.",
            path=path,
            count=len(problems),
            what=what,
            listed=listed,
        )
    )


def commune_code(
    value: object, *, where: str, column: str, problems: list[str]
) -> tuple[str | None, str | None]:
    """Normalise an INSEE code: return (commune code, code as read), appending problems."""
    code = normalise_commune_code(_text(value))
    if code is None:
        return None, None
    if not is_commune_code(code):
        problems.append(
            _(
                "{where}, colonne {column} : « {value} » n'est pas un code commune INSEE "
                "(5 caractères, ex. 05061 ou 2A004)",
                where=where,
                column=column,
                value=value,
            )
        )
        return None, None
    return commune_of_arrondissement(code), code


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")]


def _line(index: int) -> str:
    # Line 1 is the header; the files have no line breaks inside fields.
    return _("ligne {n}", n=index + 2)


def _year_of(path: Path) -> str | None:
    match = _YEAR_IN_NAME.search(path.name)
    return match.group(1) if match else None


# --------------------------------------------------------------------------------------
# Tiers-lieux
# --------------------------------------------------------------------------------------


def load_tiers_lieux(
    path: Path, *, communes: Sequence[str] | None = None, vintage: str | None = None
) -> tuple[pd.DataFrame, Provenance]:
    """Read a census of existing tiers-lieux (CGET/ANCT 2019 or a list with alias columns).

    Parameters
    ----------
    path
        ``CGET_TiersLieux_2019.csv`` or a CSV whose columns match
        :data:`TIERS_LIEUX_ALIASES` (separator and encoding detected).
    communes
        INSEE codes of the communes to keep (all when ``None``); arrondissements count
        for their commune.
    vintage
        Year of the census; default ``2019`` for the CGET file, else the year in the
        file name, if any.

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        One row per place: ``identifiant`` ``tl:<ID>``, ``categorie``
        ``tiers_lieu_existant``, ``themes`` ``tiers_lieu`` (plus ``tic`` for a fablab),
        then extras ``type`` (``coworking``, ``fablab`` or NA), ``web``, ``adresse``,
        ``code_commune_source``.  Places without any commune code are kept with
        ``code_commune`` NA (dropped when ``communes`` is given).

    Raises
    ------
    SourceError
        Missing or empty file.
    SchemaError
        Missing column, malformed line, non-numeric or out-of-range coordinate, invalid
        commune code, missing or duplicate identifier (every problem listed with its line).
    """
    frame = read_csv_strings(path, role=_("tiers-lieux"))
    dropped = personal_columns(frame.columns)
    frame = frame.drop(columns=dropped)
    columns = list(frame.columns)
    found = {
        key: find_column(columns, aliases, path=path, what=key)
        for key, aliases in TIERS_LIEUX_ALIASES.items()
    }
    optional = {key: find_optional_column(columns, a) for key, a in _TL_OPTIONAL.items()}
    is_cget = found["nom"].upper() == "NOM_TL" and found["commune"].upper() == "INSEECOM"
    vintage = vintage or (_CGET_VINTAGE if is_cget else _year_of(path))
    if is_cget:
        source = _("CGET tiers-lieux {vintage}", vintage=vintage)
    else:
        source = _("Recensement des tiers-lieux") + (f" {vintage}" if vintage else "")

    problems: list[str] = []
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(_records(frame)):
        where = _line(index)
        raw_id = _text(row[found["id"]])
        if raw_id is None:
            problems.append(
                _("{where} : identifiant ({column}) vide", where=where, column=found["id"])
            )
            continue
        identifiant = f"tl:{raw_id}"
        if identifiant in seen:
            problems.append(
                _(
                    "{where} : identifiant {id} déjà vu ligne {first}",
                    where=where,
                    id=raw_id,
                    first=seen[identifiant] + 2,
                )
            )
            continue
        seen[identifiant] = index
        code, code_source = _tiers_lieu_commune(row, found, optional, where, problems)
        typo = _typology(_text(row[optional["typo"]]) if optional["typo"] else None)
        records.append(
            {
                "identifiant": identifiant,
                "nom": _text(row[found["nom"]]) or raw_id,
                "categorie": "tiers_lieu_existant",
                "themes": "tiers_lieu;tic" if typo == "fablab" else "tiers_lieu",
                "code_commune": code,
                "latitude": parse_coordinate(
                    row[found["latitude"]], kind=found["latitude"], where=where, problems=problems
                ),
                "longitude": parse_coordinate(
                    row[found["longitude"]], kind=found["longitude"], where=where, problems=problems
                ),
                "source": source,
                "raison": _tiers_lieu_reason(typo, is_cget=is_cget, source=source, vintage=vintage),
                "type": typo,
                "web": _text(row[optional["web"]]) if optional["web"] else None,
                "adresse": _text(row[optional["adresse"]]) if optional["adresse"] else None,
                "code_commune_source": code_source,
            }
        )
    raise_problems(problems, path, _("tiers-lieux"))
    result = structures_frame(records, ("type", "web", "adresse", "code_commune_source"))
    notes = [
        _(
            "Tiers-lieux : commune INSEECOM, sauf quand elle vaut 0 ou que son département "
            "n'est ni celui du point géocodé (INSEEDEP) ni celui du code postal : la commune "
            "du point géocodé (INSEEMETRO) est alors retenue."
        )
        if is_cget
        else _("Colonnes reconnues : {columns}.", columns=", ".join(found.values()))
    ]
    if dropped:
        notes.append(
            _(
                "Colonnes de données personnelles écartées à la lecture : {columns}.",
                columns=", ".join(dropped),
            )
        )
    provenance = Provenance(
        role="tiers_lieux",
        location=str(path),
        vintage=vintage,
        sha256=sha256_of(path),
        licence="Licence Ouverte 2.0" if is_cget else None,
        notes=tuple(notes),
    )
    return filter_communes(result, communes), provenance


def _tiers_lieu_commune(
    row: Mapping[str, Any],
    found: Mapping[str, str],
    optional: Mapping[str, str | None],
    where: str,
    problems: list[str],
) -> tuple[str | None, str | None]:
    raw = _text(row[found["commune"]])
    if raw is not None and raw.strip("0") == "":
        # The census writes 0 when its geocoder found no commune for the address.
        raw = None
    geo = _geocoded_commune(row, optional)
    if raw is not None:
        declared = normalise_commune_code(raw) or raw
        if geo is None or not _contradicted(declared, row, optional):
            return commune_code(raw, where=where, column=found["commune"], problems=problems)
    if geo is None:
        return None, None
    return commune_code(geo, where=where, column=str(optional["commune_geo"]), problems=problems)


def _geocoded_commune(row: Mapping[str, Any], optional: Mapping[str, str | None]) -> str | None:
    geo, region = optional["commune_geo"], optional["region"]
    if geo is None or _text(row[geo]) is None:
        return None
    if region is not None and _text(row[region]) is None:
        # Overseas rows have no region and a meaningless metropolitan commune.
        return None
    return _text(row[geo])


def _contradicted(
    declared: str, row: Mapping[str, Any], optional: Mapping[str, str | None]
) -> bool:
    """Tell whether the declared commune is in neither the point's nor the postcode's département.

    Three national rows of the 2019 census are so (e.g. a Sophia-Antipolis place coded
    14327, a Calvados commune); the commune of the geocoded point is then kept.
    """
    column = optional["departement"]
    departement = _text(row[column]) if column else None
    if departement is None or _departement_of_code(declared) == departement:
        return False
    column = optional["code_postal"]
    postcode = _text(row[column]) if column else None
    return _departement_of_code(declared) not in _departement_of_postcode(postcode)


def _typology(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.lower()
    for needle, typo in _TYPO.items():
        if needle in lowered:
            return typo
    return value


def _tiers_lieu_reason(typo: str | None, *, is_cget: bool, source: str, vintage: str | None) -> str:
    anchor = _("point d'appui pour l'accueil et le réseautage.")
    dominante = f" ({_('dominante {typo}', typo=typo)})" if typo else ""
    if is_cget:
        return _(
            "Tiers-lieu recensé par le CGET en {vintage}{dominante} : {anchor}",
            vintage=vintage,
            dominante=dominante,
            anchor=anchor,
        )
    return _(
        "Tiers-lieu recensé ({source}){dominante} : {anchor}",
        source=source,
        dominante=dominante,
        anchor=anchor,
    )


# --------------------------------------------------------------------------------------
# Stations
# --------------------------------------------------------------------------------------

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
        where = _line(index)
        uics = re.split(r"[;,|\s]+", _text(row[optional["uic"]]) or "") if optional["uic"] else []
        uics = [u for u in uics if u]
        trigramme = _text(row[optional["trigramme"]]) if optional["trigramme"] else None
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
        segments = _text(row[optional["segment"]]) if optional["segment"] else None
        segment = _best_segment(segments)
        records.append(
            {
                "identifiant": identifiant,
                "nom": _text(row[found["nom"]]) or key,
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
    text = _text(value)
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
    suffix = f" ({_('segment DRG {segment}', segment=segment)})" if segment else ""
    return _(
        "Gare SNCF, {interest}{suffix} : point d'appui pour la mobilité des télétravailleurs "
        "et l'accueil d'un tiers-lieu près des trains.",
        interest=interest,
        suffix=suffix,
    )


# --------------------------------------------------------------------------------------
# Digital mediation
# --------------------------------------------------------------------------------------


def load_mediation_numerique(
    path: Path,
    *,
    communes: Sequence[str] | None = None,
    communes_frame: pd.DataFrame | None = None,
    vintage: str | None = None,
) -> tuple[pd.DataFrame, Provenance]:
    """Read "lieux de médiation numérique" (national schema, JSON array).

    The schema's ``code_insee`` is seldom filled, so the commune of a place is found,
    in this order: (1) ``code_insee`` when valid; (2) with ``communes_frame``, the commune
    of the same name (accents, case, hyphens and "St"/"Saint" ignored) in the
    département of the postcode, the nearest one to the place if several; (3) with
    coordinates, the commune whose centre is nearest among those sharing the place's
    postcode, when ``communes_frame`` has a postcode column; (4) else the nearest centre
    in the postcode's département, or in the whole frame.  Steps 3 and 4 are an
    approximation (a place near a border may be given the neighbouring commune); the
    method used is in the ``resolution_commune`` column and said in ``raison``.  No centre
    farther than :data:`MAX_CENTRE_DISTANCE_KM` is accepted, and a position farther than
    that from the commune given by ``code_insee`` or by name is dropped (NaN) as a
    geocoding error of the source.

    Parameters
    ----------
    path
        JSON file: an array of objects (UTF-8).
    communes
        INSEE codes of the communes to keep (all when ``None``).
    communes_frame
        Communes with columns ``code``, ``latitude``, ``longitude`` and optionally
        ``nom`` and a postcode column (``code_postal``, ``codes_postaux`` or
        ``postcode``; several codes joined by ``;``, ``,`` or ``|``).  Without it, only
        ``code_insee`` places a site in a commune.
    vintage
        Date of the data; default: the ``YYYYMMDD`` date in the file name, else the
        latest ``date_maj``.

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        One row per place: ``identifiant`` ``mednum:<id>``, ``categorie``
        ``point_appui``, ``themes`` ``inclusion_numerique`` (plus ``tiers_lieu`` for
        places listed by France Tiers-Lieux); extras ``type`` (national labels, e.g.
        ``CNFS;France Services``), ``web``, ``adresse``, ``code_postal``, ``services``,
        ``resolution_commune`` (``code_insee``, ``nom``, ``code_postal_plus_proche``,
        ``plus_proche`` or NA).  Phone numbers and e-mails are never read.

    Raises
    ------
    SourceError
        Missing or empty file.
    SchemaError
        Invalid JSON (line and column named), not an array of objects, missing ``id`` or
        ``nom``, duplicate ``id``, invalid coordinates (record named).
    """
    require_file(path, _("médiation numérique"))
    records = _read_json_array(path)
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    dates: list[str] = []
    for index, record in enumerate(records):
        where = _("enregistrement {n}", n=index + 1)
        if not isinstance(record, dict):
            problems.append(_("{where} : un objet JSON était attendu", where=where))
            continue
        raw_id, nom = _text(record.get("id")), _text(record.get("nom"))
        if raw_id is None or nom is None:
            problems.append(_("{where} : champ id ou nom manquant", where=where))
            continue
        where = f"{where} (id {raw_id})"
        if raw_id in seen:
            problems.append(
                _(
                    "{where} : id déjà vu à l'enregistrement {first}",
                    where=where,
                    first=seen[raw_id] + 1,
                )
            )
            continue
        seen[raw_id] = index
        if (date := _text(record.get("date_maj"))) is not None:
            dates.append(date)
        code, code_source = commune_code(
            record.get("code_insee"), where=where, column="code_insee", problems=problems
        )
        rows.append(
            {
                "identifiant": f"mednum:{raw_id}",
                "nom": nom,
                "categorie": "point_appui",
                "code_commune": code,
                "resolution_commune": "code_insee" if code else None,
                "code_commune_source": code_source,
                "latitude": parse_coordinate(
                    record.get("latitude"), kind="latitude", where=where, problems=problems
                ),
                "longitude": parse_coordinate(
                    record.get("longitude"), kind="longitude", where=where, problems=problems
                ),
                "type": _text(record.get("labels_nationaux")),
                "web": _text(record.get("site_web")),
                "adresse": _text(record.get("adresse")),
                "code_postal": _text(record.get("code_postal")),
                "nom_commune": _text(record.get("commune")),
                "services": _text(record.get("services")),
                "origine": _text(record.get("source")),
            }
        )
    raise_problems(problems, path, _("médiation numérique"))
    dropped = _resolve_communes(rows, communes_frame) if communes_frame is not None else 0
    vintage = vintage or _vintage_of(path, dates)
    source = _("Lieux de médiation numérique") + (f" {vintage}" if vintage else "")
    for row in rows:
        labels = {s.strip() for s in re.split(r"[;|,]", row["type"] or "") if s.strip()}
        from_ftl = row.pop("origine") == _FRANCE_TIERS_LIEUX_SOURCE
        row.pop("nom_commune")
        row["themes"] = "inclusion_numerique;tiers_lieu" if from_ftl else "inclusion_numerique"
        row["source"] = source
        row["raison"] = _mediation_reason(
            labels,
            from_ftl=from_ftl,
            resolution=row["resolution_commune"],
            position_dropped=bool(row.pop("position_ecartee", False)),
        )
    extras = (
        "type",
        "web",
        "adresse",
        "code_postal",
        "services",
        "resolution_commune",
        "code_commune_source",
    )
    result = structures_frame(rows, extras)
    resolved = result["resolution_commune"].value_counts().to_dict()
    notes = [
        _(
            "Commune des lieux : {detail} ; {missing} sans commune. Les rattachements au "
            "centre de commune le plus proche sont une approximation.",
            detail=", ".join(f"{k} {v}" for k, v in sorted(resolved.items())) or "—",
            missing=int(result["code_commune"].isna().sum()),
        ),
        _(
            "{n} position(s) écartée(s) : à plus de {km:g} km du centre de la commune "
            "indiquée (erreur de géocodage de la source).",
            n=dropped,
            km=MAX_CENTRE_DISTANCE_KM,
        ),
        _("Champs telephone et courriels jamais lus (données personnelles possibles)."),
    ]
    provenance = Provenance(
        role="mediation",
        location=str(path),
        vintage=vintage,
        sha256=sha256_of(path),
        licence="Licence Ouverte 2.0",
        notes=tuple(notes),
    )
    return filter_communes(result, communes), provenance


def _read_json_array(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SchemaError(
            _(
                "{path} : encodage illisible à l'octet {position} (UTF-8 attendu).",
                path=path,
                position=error.start,
            )
        ) from error
    except OSError as error:
        raise SourceError(
            _("{path} : lecture impossible ({error}).", path=path, error=error)
        ) from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(
            _(
                "{path}, ligne {line}, colonne {column} : JSON invalide ({error}). Un tableau "
                "JSON de lieux de médiation numérique était attendu.",
                path=path,
                line=error.lineno,
                column=error.colno,
                error=error.msg,
            )
        ) from error
    if not isinstance(data, list):
        raise SchemaError(
            _(
                "{path} : un tableau JSON ([ {{…}}, … ]) de lieux était attendu, pas un {kind}.",
                path=path,
                kind=type(data).__name__,
            )
        )
    return data


def _vintage_of(path: Path, dates: Sequence[str]) -> str | None:
    match = _DATE_IN_NAME.search(path.name)
    if match:
        return "-".join(match.groups())
    return max(dates)[:10] if dates else None


def _mediation_reason(
    labels: set[str], *, from_ftl: bool, resolution: str | None, position_dropped: bool = False
) -> str:
    if _MEDIATION_FRANCE_SERVICES in labels:
        what = _("Espace France Services (lieu de médiation numérique)")
        if _MEDIATION_CNFS in labels:
            what += _(", avec conseiller numérique")
        why = _("point d'appui public pour l'accueil, les démarches et l'inclusion numérique.")
    elif _MEDIATION_CNFS in labels:
        what = _("Lieu de médiation numérique avec conseiller numérique (CNFS)")
        why = _("point d'appui pour l'inclusion numérique et le réseautage.")
    else:
        what = _("Lieu de médiation numérique")
        why = _("point d'appui pour l'inclusion numérique.")
    if from_ftl:
        what += _(", signalé par France Tiers-Lieux")
    text = f"{what} : {why}"
    if resolution in {"code_postal_plus_proche", "plus_proche"}:
        text += " " + _("Commune déduite du centre de commune le plus proche (approximation).")
    if position_dropped:
        text += " " + _(
            "Position du fichier écartée : à plus de {km:g} km de la commune indiquée.",
            km=MAX_CENTRE_DISTANCE_KM,
        )
    return text


def _normal_name(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    plain = re.sub(r"[^A-Z0-9]+", " ", plain).strip()
    plain = re.sub(r"^(ST|STE)\b", lambda m: "SAINT" if m.group(1) == "ST" else "SAINTE", plain)
    plain = re.sub(r"\b(ST)\b", "SAINT", plain)
    return re.sub(r"\bSTE\b", "SAINTE", plain)


def _departement_of_postcode(postcode: str | None) -> set[str]:
    if postcode is None or not re.fullmatch(r"\d{5}", postcode):
        return set()
    if postcode.startswith("20"):
        return {"2A", "2B"}
    if postcode.startswith("97"):
        return {postcode[:3]}
    return {postcode[:2]}


def _departement_of_code(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


class _CommuneIndex:
    """Commune centres, names and postcodes, to place points in a commune."""

    def __init__(self, communes_frame: pd.DataFrame) -> None:
        columns = [str(c) for c in communes_frame.columns]
        code_col = find_column(columns, ("code",), path="communes", what="code")
        lat_col = find_column(columns, ("latitude",), path="communes", what="latitude")
        lon_col = find_column(columns, ("longitude",), path="communes", what="longitude")
        name_col = find_optional_column(columns, ("nom",))
        post_col = find_optional_column(
            columns, ("code_postal", "codes_postaux", "postcode", "postcodes")
        )
        table = communes_frame.dropna(subset=[code_col]).reset_index(drop=True)
        self.size = len(table)
        self.codes = [commune_of_arrondissement(str(c)) for c in table[code_col]]
        self.lat = np.radians(pd.to_numeric(table[lat_col], errors="coerce").to_numpy(float))
        self.lon = np.radians(pd.to_numeric(table[lon_col], errors="coerce").to_numpy(float))
        self.located = np.isfinite(self.lat) & np.isfinite(self.lon)
        self.departements = np.array([_departement_of_code(c) for c in self.codes])
        self.by_name: dict[str, list[int]] = {}
        for i, name in enumerate(table[name_col] if name_col else []):
            if not _missing(name):
                self.by_name.setdefault(_normal_name(str(name)), []).append(i)
        self.by_postcode: dict[str, list[int]] = {}
        for i, value in enumerate(table[post_col] if post_col else []):
            for postcode in re.split(r"[;,|\s]+", "" if _missing(value) else str(value)):
                if postcode:
                    self.by_postcode.setdefault(postcode, []).append(i)

    def mask(self, indices: Iterable[int]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        out = np.zeros(self.size, dtype=bool)
        out[list(indices)] = True
        return out

    def distances_km(
        self, index: np.ndarray[Any, np.dtype[np.intp]], lat: float, lon: float
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Great-circle distances (km) from (lat, lon) in degrees to the centres ``index``."""
        la, lo = math.radians(lat), math.radians(lon)
        dlat, dlon = self.lat[index] - la, self.lon[index] - lo
        h = np.sin(dlat / 2) ** 2 + math.cos(la) * np.cos(self.lat[index]) * np.sin(dlon / 2) ** 2
        return np.asarray(2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1))), float)

    def nearest(
        self, candidates: np.ndarray[Any, np.dtype[np.bool_]], lat: float, lon: float
    ) -> int | None:
        """Index of the candidate centre nearest to (lat, lon), if within the limit."""
        index = np.flatnonzero(candidates & self.located)
        if not len(index):
            return None
        distances = self.distances_km(index, lat, lon)
        best = int(np.argmin(distances))
        return int(index[best]) if distances[best] <= MAX_CENTRE_DISTANCE_KM else None

    def distance_to(self, code: str, lat: float, lon: float) -> float:
        """Distance (km) from a point to the centre of commune ``code`` (NaN if unknown)."""
        hits = [i for i, c in enumerate(self.codes) if c == code and self.located[i]]
        if not hits or not (math.isfinite(lat) and math.isfinite(lon)):
            return math.nan
        return float(self.distances_km(np.asarray(hits[:1], dtype=np.intp), lat, lon)[0])

    def resolve(
        self, name: str | None, postcode: str | None, lat: float, lon: float
    ) -> tuple[str, str] | None:
        """Return (commune code, method) for a place, or None (see the loader's docstring)."""
        has_point = math.isfinite(lat) and math.isfinite(lon)
        deps = _departement_of_postcode(postcode)
        if name is not None:
            same = [
                i
                for i in self.by_name.get(_normal_name(name), [])
                if not deps or self.departements[i] in deps
            ]
            choice = same[0] if len(same) == 1 else None
            if len(same) > 1 and has_point:
                choice = self.nearest(self.mask(same), lat, lon)
            if choice is not None:
                return self.codes[choice], "nom"
        if not has_point:
            return None
        sharing = self.by_postcode.get(postcode or "", [])
        choice = self.nearest(self.mask(sharing), lat, lon) if sharing else None
        if choice is not None:
            return self.codes[choice], "code_postal_plus_proche"
        in_deps = np.isin(self.departements, sorted(deps))
        if in_deps.any():
            choice = self.nearest(in_deps, lat, lon)
        if choice is None:
            choice = self.nearest(self.mask(range(self.size)), lat, lon)
        return (self.codes[choice], "plus_proche") if choice is not None else None


def _resolve_communes(rows: list[dict[str, Any]], communes_frame: pd.DataFrame) -> int:
    """Fill ``code_commune`` of unresolved rows; return how many positions were dropped.

    A position farther than :data:`MAX_CENTRE_DISTANCE_KM` from the centre of the commune
    given by ``code_insee`` or by name is a geocoding error of the source (the real PACA
    file places some sites at the centre of France): it is set to NaN.
    """
    index = _CommuneIndex(communes_frame)
    dropped = 0
    for row in rows:
        if row["code_commune"] is None:
            found = index.resolve(
                row["nom_commune"], row["code_postal"], row["latitude"], row["longitude"]
            )
            if found is not None:
                row["code_commune"], row["resolution_commune"] = found
        if row["resolution_commune"] in {"code_insee", "nom"}:
            distance = index.distance_to(row["code_commune"], row["latitude"], row["longitude"])
            if distance > MAX_CENTRE_DISTANCE_KM:
                row["latitude"] = row["longitude"] = math.nan
                row["position_ecartee"] = True
                dropped += 1
    return dropped
