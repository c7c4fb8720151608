"""Places of digital mediation ("lieux de médiation numérique"), read as anchors.

Format (:func:`load_mediation_numerique`): JSON array in the national schema of "lieux
de médiation numérique" (``id, nom, services, commune, code_postal, adresse, code_insee,
latitude, longitude, labels_nationaux, site_web, source, date_maj...``).  The
``telephone`` and ``courriels`` fields are never read.  The schema's ``code_insee`` is
seldom filled: the commune of a place is then found from its name, postcode and
position (:class:`_CommuneIndex`).  The frame is the canonical structures frame
(:mod:`tierslieux.sources._records`).
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
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import commune_of_arrondissement
from tierslieux.model.geometry import great_circle_km
from tierslieux.model.types import Provenance
from tierslieux.sources._files import (
    find_column,
    find_optional_column,
    require_file,
    sha256_of,
)
from tierslieux.sources._records import (
    commune_code,
    departement_of_code,
    departements_of_postcode,
    filter_communes,
    is_missing,
    parse_coordinate,
    raise_problems,
    structures_frame,
    text_of,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = ["MAX_CENTRE_DISTANCE_KM", "load_mediation_numerique"]

_MEDIATION_FRANCE_SERVICES = "France Services"
_MEDIATION_CNFS = "CNFS"
_FRANCE_TIERS_LIEUX_SOURCE = "france-tiers-lieux"
#: Farthest a place may lie from the centre of its commune (km), a plausibility guard.
#: Measured on PACA (centres of communes.csv, contours of france-geojson 2018): the
#: farthest contour point is 28.3 km from its centre (Arles), then 23.6 km (Hyères).
#: Communes of French Guiana are far larger: the guard does not suit them.
MAX_CENTRE_DISTANCE_KM = 30.0
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")


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
        raw_id, nom = text_of(record.get("id")), text_of(record.get("nom"))
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
        if (date := text_of(record.get("date_maj"))) is not None:
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
                "type": text_of(record.get("labels_nationaux")),
                "web": text_of(record.get("site_web")),
                "adresse": text_of(record.get("adresse")),
                "code_postal": text_of(record.get("code_postal")),
                "nom_commune": text_of(record.get("commune")),
                "services": text_of(record.get("services")),
                "origine": text_of(record.get("source")),
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
    # Messages whose values are messages, never pieces glued together: a stored reason
    # is read back to be shown in another language (tierslieux.i18n.translate_stored).
    if _MEDIATION_FRANCE_SERVICES in labels:
        what = (
            _("Espace France Services (lieu de médiation numérique), avec conseiller numérique")
            if _MEDIATION_CNFS in labels
            else _("Espace France Services (lieu de médiation numérique)")
        )
        sentence = N_(
            "{what} : point d'appui public pour l'accueil, les démarches et l'inclusion numérique."
        )
    elif _MEDIATION_CNFS in labels:
        what = _("Lieu de médiation numérique avec conseiller numérique (CNFS)")
        sentence = N_("{what} : point d'appui pour l'inclusion numérique et le réseautage.")
    else:
        what = _("Lieu de médiation numérique")
        sentence = N_("{what} : point d'appui pour l'inclusion numérique.")
    if from_ftl:
        what = _("{what}, signalé par France Tiers-Lieux", what=what)
    text = _(sentence, what=what)
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
        self.lat = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(float)
        self.lon = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(float)
        self.located = np.isfinite(self.lat) & np.isfinite(self.lon)
        self.departements = np.array([departement_of_code(c) for c in self.codes])
        self.by_name: dict[str, list[int]] = {}
        for i, name in enumerate(table[name_col] if name_col else []):
            if not is_missing(name):
                self.by_name.setdefault(_normal_name(str(name)), []).append(i)
        self.by_postcode: dict[str, list[int]] = {}
        for i, value in enumerate(table[post_col] if post_col else []):
            for postcode in re.split(r"[;,|\s]+", "" if is_missing(value) else str(value)):
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
        return great_circle_km(lat, lon, self.lat[index], self.lon[index])

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
        deps = departements_of_postcode(postcode)
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
