"""Communes: INSEE codes, names, centres, populations and contours from usual files.

Formats read by :func:`load_communes`:

- CSV (``,`` ``;`` tab or ``|``, UTF-8 or Windows-1252) with an INSEE code column and,
  usually, ``lat``/``lng`` columns (for instance the "communes et villes de France"
  files, or a compilation of the COG and of the INSEE comparator base);
- GeoJSON (``.geojson``/``.json``, also gzipped), for instance the IGN Admin Express
  contours published by Etalab, or ``geo.api.gouv.fr/communes?format=geojson``;
- the plain JSON list of ``geo.api.gouv.fr/communes`` (``centre`` is a GeoJSON Point,
  ``surface`` is in **hectares**);
- GeoPackage, Shapefile (also zipped) and other vector formats read by pyogrio; a
  projected layer (Lambert-93...) is reprojected to EPSG:4326.

Every reader returns the same canonical table (see :data:`COMMUNE_COLUMNS`), one row per
current commune.  Communes déléguées (``COMD``) and associées (``COMA``) are dropped;
Paris, Lyon and Marseille arrondissements (``ARM``) are merged into their commune when
the file has no row for the commune itself (populations added, coordinates weighted by
population, contours unioned).  Centres missing from the file are computed from the
contours (centroid, or a point surely inside when the centroid falls outside), and
areas from the contours on the WGS84 ellipsoid (geodesic area, in km²).

One dataset, several formats: this module is not split by format.  The small reader of
a territory's list of codes (:func:`load_commune_list`) stays here because it shares the
code aliases and the text decoding of the commune files.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from tierslieux.errors import SchemaError, SourceError
from tierslieux.files import open_zip
from tierslieux.i18n import format_number
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import (
    ARRONDISSEMENT_PARENTS,
    commune_of_arrondissement,
    is_commune_code,
    normalise_commune_code,
)
from tierslieux.model.types import Provenance, file_name
from tierslieux.sources._files import (
    find_column,
    find_optional_column,
    read_csv_strings,
    require_file,
    sha256_of,
)
from tierslieux.sources.catalog import catalogue_entry, source_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from shapely.geometry.base import BaseGeometry

__all__ = [
    "COMMUNE_COLUMNS",
    "Communes",
    "combine_communes",
    "coordinates_note",
    "load_commune_list",
    "load_communes",
    "merge_communes",
    "require_coordinates",
]

ROLE = "communes"

#: Canonical columns of :attr:`Communes.table`, in order (extra columns may follow).
COMMUNE_COLUMNS: tuple[str, ...] = (
    "code",
    "nom",
    "latitude",
    "longitude",
    "population",
    "surface_km2",
    "dep",
    "reg",
    "epci",
    "pop_active_15_64",
    "pop_chomeurs_15_64",
)
_TEXT_COLUMNS = ("code", "nom", "dep", "reg", "epci")
_COORD_COLUMNS = ("latitude", "longitude")
_COUNT_COLUMNS = ("population", "surface_km2", "pop_active_15_64", "pop_chomeurs_15_64")

#: Usual names of each canonical column (compared case-insensitively), by preference.
_ALIASES: dict[str, tuple[str, ...]] = {
    "code": (
        "code",
        "insee_com",
        "codgeo",
        "code_insee",
        "code_commune_insee",
        "com",
        "codecommune",
        "code_commune",
        "insee",
        "depcom",
        "inseecom",
    ),
    # ``commune_article`` carries the official name ("Le Saix"), ``commune`` drops the article.
    "nom": (
        "nom",
        "nom_standard",
        "nom_com",
        "libgeo",
        "commune_article",
        "commune",
        "nom_commune",
        "nom_commune_complet",
        "libelle",
        "nomcom",
    ),
    "latitude": ("lat", "latitude", "latitude_centre", "y"),
    "longitude": ("lng", "lon", "long", "longitude", "longitude_centre", "x"),
    "population": ("population", "population_municipale", "pmun", "pop_mun"),
    "surface_km2": ("surface_km2", "superficie_km2", "superficie"),
    "dep": (
        "dep",
        "insee_dep",
        "code_departement",
        "codedepartement",
        "dep_code",
        "code_dep",
        "dept",
    ),
    "reg": ("reg", "insee_reg", "code_region", "coderegion", "reg_code", "code_reg"),
    "epci": ("epci", "siren_epci", "codeepci", "epci_code", "code_epci"),
    "pop_active_15_64": ("pop_active_15_64",),
    "pop_chomeurs_15_64": ("pop_chomeurs_15_64",),
}
#: Year-stamped names (the most recent year wins); group 1 is the year (2 or 4 digits).
_PATTERNS: dict[str, tuple[str, ...]] = {
    "population": (r"population_?(\d{4})", r"pmun_?(\d{2}|\d{4})", r"p(\d{2})_pop"),
    "pop_active_15_64": (
        r"pop_15_64_actifs?_?(\d{4})",
        r"pop_15_64_active_?(\d{4})",
        r"p(\d{2})_act1564",
    ),
    "pop_chomeurs_15_64": (r"pop_15_64_chomage_?(\d{4})", r"p(\d{2})_chom1564"),
}
#: geo.api.gouv.fr gives the area in hectares under this name.
_HECTARE_ALIASES = ("surface",)
_TYPE_ALIASES = ("commune_type", "typecom", "type_commune")
_DROPPED_TYPES = frozenset({"COMD", "COMA"})
_PARENT_NAMES = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}

#: Boxes (lat min, lat max, lon min, lon max) holding French communes, with a margin:
#: metropolitan France and Corsica, Antilles and Saint-Martin/Saint-Barthélemy, Guyane,
#: La Réunion, Mayotte, Saint-Pierre-et-Miquelon, and the Pacific collectivities.
_FRANCE_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (41.0, 51.6, -5.9, 10.0),
    (14.0, 18.5, -63.5, -60.5),
    (1.8, 6.2, -55.0, -51.0),
    (-21.6, -20.7, 55.0, 56.0),
    (-13.2, -12.4, 44.8, 45.5),
    (46.6, 47.3, -56.6, -55.9),
    (-28.5, -7.0, -155.0, -134.0),
    (-23.0, -19.0, 163.0, 169.0),
    (-14.6, -13.0, -178.5, -175.9),
)
_VECTOR_SUFFIXES = (".gpkg", ".shp", ".zip", ".fgb", ".gml", ".kml", ".gdb", ".sqlite")
_MAX_LISTED = 10
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class Communes:
    """Communes of a file: one row per current commune, with optional contours.

    Attributes
    ----------
    table
        Columns :data:`COMMUNE_COLUMNS` in that order, then any extra column of the file
        (as text).  ``code`` is unique (5 characters, ``"05061"``, ``"2A004"``);
        ``latitude``/``longitude`` are EPSG:4326 degrees (``float64``); ``population``,
        ``pop_active_15_64``, ``pop_chomeurs_15_64`` are persons and ``surface_km2`` is
        km² (nullable ``Float64``); missing values are NA.
    geometries
        INSEE code -> GeoJSON geometry (Polygon or MultiPolygon, EPSG:4326); empty when
        the source has no contours.
    provenance
        Where the data came from.
    """

    table: pd.DataFrame
    geometries: dict[str, dict[str, Any]]
    provenance: Provenance


@dataclass
class _Raw:
    """Rows of a file before validation: attributes, location labels, shapes."""

    frame: pd.DataFrame
    where: list[str]
    shapes: list[BaseGeometry | None] | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Public API


def load_communes(path: Path) -> Communes:
    """Read a file of communes into the canonical table.

    Parameters
    ----------
    path
        CSV, GeoJSON (optionally ``.gz``), geo.api.gouv.fr JSON, GeoPackage, Shapefile or
        zipped Shapefile.  The format is chosen from the file name and content.

    Returns
    -------
    Communes
        The validated table, contours (when the file has any) and provenance.

    Raises
    ------
    SourceError
        If the file is missing, empty or unreadable.
    SchemaError
        If the code column is missing, a code is malformed, coordinates fall outside
        France (or look swapped), a number cannot be read, a geometry is invalid, or one
        code appears twice with different values.
    """
    require_file(path, ROLE)
    raw = _read_raw(path)
    table, shapes, notes = _canonical(raw, path)
    geometries = _to_geojson(shapes)
    official = catalogue_entry(path.name)
    provenance = Provenance(
        role=ROLE,
        location=str(path),
        vintage=_vintage(path) or (official.vintage if official is not None else None),
        licence=official.licence if official is not None and official.licence else None,
        sha256=sha256_of(path),
        notes=tuple(raw.notes + notes),
    )
    return Communes(table=table, geometries=geometries, provenance=provenance)


def _unlocated(communes: Communes, codes: Iterable[str] | None = None) -> list[str]:
    table = communes.table
    if codes is not None:
        table = table[table["code"].isin(set(codes))]
    missing = table["latitude"].isna() | table["longitude"].isna()
    return sorted(table.loc[missing, "code"].astype(str))


def coordinates_note(communes: Communes, codes: Iterable[str] | None = None) -> str | None:
    """A note when communes of the territory (``codes``, default all) lack coordinates.

    Such communes have no catchment and no distance: the figures that need them leave
    them out, which the reader must know.  The note counts the territory's communes
    and names the source by its name (:func:`source_name`), not by a server path.
    """
    wanted = None if codes is None else list(dict.fromkeys(codes))
    unlocated = _unlocated(communes, wanted)
    if not unlocated:
        return None
    total = len(communes.table) if wanted is None else len(wanted)
    return _(
        "{source} : {n} commune(s) du territoire sur {total} sans coordonnées (ni "
        "latitude/longitude ni contour) : elles n'ont ni bassin ni distance et sont "
        "laissées de côté dans les calculs qui en ont besoin (par exemple {codes}).",
        source=source_name(communes.provenance),
        n=len(unlocated),
        total=total,
        codes=", ".join(unlocated[:5]),
    )


def require_coordinates(communes: Communes, codes: Iterable[str] | None = None) -> None:
    """Refuse a communes file whose communes (of ``codes``) all lack coordinates.

    Raises
    ------
    SchemaError
        When no commune (of ``codes``, default all) has latitude and longitude.
    """
    wanted = list(communes.table["code"]) if codes is None else list(dict.fromkeys(codes))
    if wanted and len(_unlocated(communes, wanted)) == len(wanted):
        raise SchemaError(
            _(
                "{path} : aucune des {n} commune(s) demandées n'a de coordonnées (colonnes "
                "latitude et longitude, ou contours, attendues) : les distances et les "
                "bassins ne peuvent pas être calculés.",
                path=source_name(communes.provenance),
                n=len(wanted),
            )
        )


def _located(communes: Communes) -> bool:
    """Whether the file gives any commune a position (coordinates or a contour)."""
    return bool(communes.geometries) or bool(
        (communes.table["latitude"].notna() & communes.table["longitude"].notna()).any()
    )


def combine_communes(loaded: Sequence[Communes]) -> Communes:
    """Merge the communes files given together, as the command line's ``--communes``.

    The largest file is the base (it gives the workplaces' coordinates), the others
    fill what it lacks (:func:`merge_communes`): contours and a names/populations CSV
    make one table, the centres of communes without coordinates computed from their
    contours.

    Raises
    ------
    SchemaError
        When no file locates any commune: a CSV without coordinate columns needs its
        outlines given with it (their centres are then the coordinates).
    """
    if not any(_located(c) for c in loaded):
        blind = next(c for c in loaded if not _located(c))
        raise SchemaError(
            _(
                "{path} : aucune coordonnée de commune (colonnes attendues : latitude et "
                "longitude, nommées lat/latitude et lng/lon/longitude, en degrés WGS84) : "
                "les cartes et les temps de trajet seraient faux ou vides. Ajoutez ces "
                "colonnes, ou donnez aussi les contours des communes (GeoJSON, GeoPackage "
                "ou Shapefile) : leurs centres serviront de coordonnées.",
                path=file_name(blind.provenance.location),
            )
        )
    ordered = sorted(loaded, key=lambda c: -len(c.table))
    merged = ordered[0]
    for extra in ordered[1:]:
        merged = merge_communes(merged, extra)
    return merged


def merge_communes(base: Communes, extra: Communes) -> Communes:
    """Fill what ``base`` lacks from ``extra`` (for instance contours + a populations CSV).

    The communes are those of ``base``: codes found only in ``extra`` are ignored (and
    counted in the provenance notes).  A value of ``base`` is kept when present; a
    missing one is taken from ``extra``; columns of ``extra`` absent from ``base`` are
    added.  Contours missing from ``base`` come from ``extra``, and centres or areas still
    missing are then computed from the contours.

    Parameters
    ----------
    base
        The reference set of communes.
    extra
        Another source for the same communes.

    Returns
    -------
    Communes
        A new object; the inputs are not modified.  Its provenance lists both files.
    """
    left = base.table.set_index("code")
    right = extra.table.set_index("code")
    right = right[right.index.isin(left.index)]
    merged = left.copy()
    for column in right.columns:
        if column in merged.columns:
            merged[column] = merged[column].fillna(right[column].reindex(merged.index))
        else:
            merged[column] = right[column].reindex(merged.index)
    merged = merged.reset_index()
    geometries = dict(base.geometries)
    for code, geometry in extra.geometries.items():
        if code in left.index and code not in geometries:
            geometries[code] = geometry
    shapes = {
        code: shape(geometries[code])
        for code in _codes_needing_geometry(merged)
        if code in geometries
    }
    table = _fill_from_shapes(merged, shapes)
    ignored = int((~extra.table["code"].isin(left.index)).sum())
    notes = [
        *base.provenance.notes,
        *extra.provenance.notes,
        _(
            "{path} : empreinte SHA-256 {sha}.",
            path=source_name(base.provenance),
            sha=base.provenance.sha256 or "?",
        ),
        _(
            "{path} : empreinte SHA-256 {sha}.",
            path=source_name(extra.provenance),
            sha=extra.provenance.sha256 or "?",
        ),
    ]
    if ignored:
        notes.append(
            _(
                "{n} code(s) de {path} absent(s) de {base} ignoré(s).",
                n=ignored,
                path=source_name(extra.provenance),
                base=source_name(base.provenance),
            )
        )
    vintages = [v for v in (base.provenance.vintage, extra.provenance.vintage) if v]
    provenance = Provenance(
        role=ROLE,
        location=f"{base.provenance.location} + {extra.provenance.location}",
        vintage=" + ".join(dict.fromkeys(vintages)) or None,
        sha256=None,
        licence=base.provenance.licence or extra.provenance.licence,
        synthetic=base.provenance.synthetic or extra.provenance.synthetic,
        notes=tuple(dict.fromkeys(notes)),
    )
    return Communes(table=_ordered(table), geometries=geometries, provenance=provenance)


def load_commune_list(path: Path) -> list[str]:
    """Read a list of INSEE commune codes, for the territory ``communes:<file>``.

    Parameters
    ----------
    path
        Either one code per line (blank lines and lines starting with ``#`` are
        skipped; a first line naming the column, such as ``code``, is allowed), or a
        CSV with a code column (``code``, ``codgeo``, ``insee_com``...).

    Returns
    -------
    list of str
        The codes, normalised to 5 characters, without duplicates, in file order.
        Arrondissement codes are kept as written (the selection maps them).

    Raises
    ------
    SourceError
        If the file is missing or empty.
    SchemaError
        If a code is malformed (naming the line) or the file lists no code.
    """
    require_file(path, _("liste de communes"))
    text = _read_text(path)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    values: list[tuple[str, object]] = []
    if any(sep in first for sep in ";,\t|"):
        frame = read_csv_strings(path, role=_("liste de communes"))
        column = find_column(frame.columns, _ALIASES["code"], path=path, what=_("code commune"))
        values = [(_("ligne {n}", n=i + 2), v) for i, v in enumerate(frame[column]) if pd.notna(v)]
    else:
        for number, line in enumerate(lines, start=1):
            cell = line.strip().strip('"')
            if not cell or cell.startswith("#"):
                continue
            if not values and cell.lower() in _ALIASES["code"]:
                continue
            values.append((_("ligne {n}", n=number), cell))
    codes: list[str] = []
    problems: list[str] = []
    for label, value in values:
        code = normalise_commune_code(value)
        if code is None or not is_commune_code(code):
            problems.append(_("{where} : « {value} »", where=label, value=value))
        else:
            codes.append(code)
    if problems:
        raise SchemaError(
            _(
                "{path} : code(s) commune INSEE invalide(s) ({problems}). Attendu 5 "
                "caractères, par exemple 05061 ou 2A004.",
                path=path,
                problems=_join(problems),
            )
        )
    if not codes:
        raise SchemaError(_("{path} : aucun code commune trouvé.", path=path))
    return list(dict.fromkeys(codes))


# ---------------------------------------------------------------------------------------
# Readers: file -> _Raw


def _read_raw(path: Path) -> _Raw:
    name = path.name.lower()
    stem = name.removesuffix(".gz")
    if stem.endswith((".json", ".geojson")):
        return _read_json_guarded(path)
    if name.endswith(_VECTOR_SUFFIXES):
        return _read_vector(path)
    if stem.endswith((".csv", ".txt", ".tsv")):
        return _read_csv(path)
    # Unknown extension: sniff the first byte.
    head = _read_text(path)[:1].lstrip()
    if head in {"{", "["}:
        return _read_json_guarded(path)
    return _read_csv(path)


def _read_json_guarded(path: Path) -> _Raw:
    """:func:`_read_json`, a nesting too deep for Python's parser refused by name."""
    try:
        return _read_json(path)
    except RecursionError as error:
        raise SchemaError(
            _(
                "{path} : JSON imbriqué trop profondément pour être lu (attendu une "
                "FeatureCollection GeoJSON : entités, propriétés, géométries).",
                path=path,
            )
        ) from error


def _read_text(path: Path) -> str:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                data = handle.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError) as error:
        raise SourceError(
            _(
                "Le fichier {role} {path} est illisible ({error}).",
                role=ROLE,
                path=path,
                error=error,
            )
        ) from error
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SchemaError(_("{path} : encodage illisible (attendu UTF-8 ou Windows-1252).", path=path))


def _read_csv(path: Path) -> _Raw:
    frame = read_csv_strings(path, role=ROLE)
    if frame.empty:
        raise SchemaError(_("{path} : aucune ligne de données sous l'en-tête.", path=path))
    where = [_("ligne {n}", n=i + 2) for i in range(len(frame))]
    return _Raw(frame=frame, where=where)


def _read_json(path: Path) -> _Raw:
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(
            _(
                "{path}, ligne {line}, colonne {column} : JSON invalide ({error}). Le fichier "
                "est-il complet ?",
                path=path,
                line=error.lineno,
                column=error.colno,
                error=error.msg,
            )
        ) from error
    if isinstance(data, dict) and isinstance(data.get("features"), list):
        return _from_features(data["features"], path)
    if isinstance(data, dict) and data.get("type") == "Feature":
        return _from_features([data], path)
    if isinstance(data, list):
        return _from_objects(data, path)
    raise SchemaError(
        _(
            "{path} : contenu JSON non reconnu (attendu une FeatureCollection GeoJSON ou la "
            "liste de communes de geo.api.gouv.fr).",
            path=path,
        )
    )


def _from_features(features: list[Any], path: Path) -> _Raw:
    rows: list[dict[str, Any]] = []
    shapes: list[BaseGeometry | None] = []
    where: list[str] = []
    problems: list[str] = []
    for number, feature in enumerate(features, start=1):
        label = _("entité {n}", n=number)
        if not isinstance(feature, dict):
            problems.append(_("{where} : objet Feature attendu", where=label))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            problems.append(_("{where} : « properties » doit être un objet", where=label))
            continue
        geometry, problem = _parse_geometry(feature.get("geometry"), label)
        if problem:
            problems.append(problem)
            continue
        rows.append(properties)
        shapes.append(geometry)
        where.append(label)
    _raise_problems(problems, path, _("géométrie ou entité illisible"))
    if not rows:
        raise SchemaError(_("{path} : la collection GeoJSON ne contient aucune entité.", path=path))
    return _Raw(frame=pd.DataFrame.from_records(rows), where=where, shapes=shapes)


def _from_objects(objects: list[Any], path: Path) -> _Raw:
    rows: list[dict[str, Any]] = []
    shapes: list[BaseGeometry | None] = []
    where: list[str] = []
    problems: list[str] = []
    for number, item in enumerate(objects, start=1):
        label = _("objet {n}", n=number)
        if not isinstance(item, dict):
            problems.append(_("{where} : objet attendu", where=label))
            continue
        row = dict(item)
        geometry: BaseGeometry | None = None
        for key in ("contour", "centre"):
            value = row.pop(key, None)
            if value is None:
                continue
            parsed, problem = _parse_geometry(value, f"{label} ({key})")
            if problem:
                problems.append(problem)
            elif key == "centre" and parsed is not None:
                row.setdefault("_centre", parsed)
            elif parsed is not None:
                geometry = parsed
        rows.append(row)
        shapes.append(geometry)
        where.append(label)
    _raise_problems(problems, path, _("objet illisible"))
    if not rows:
        raise SchemaError(_("{path} : la liste JSON est vide.", path=path))
    frame = pd.DataFrame.from_records(rows)
    if "_centre" in frame.columns:
        centres = frame.pop("_centre")
        points = [c if isinstance(c, shapely.Point) else None for c in centres]
        frame["latitude_centre"] = [c.y if c is not None else None for c in points]
        frame["longitude_centre"] = [c.x if c is not None else None for c in points]
    return _Raw(frame=frame, where=where, shapes=shapes)


def _parse_geometry(value: object, label: str) -> tuple[BaseGeometry | None, str | None]:
    """Return (shape, None) or (None, problem); ``None`` geometry is allowed."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return None, _("{where} : géométrie GeoJSON attendue", where=label)
    try:
        geometry = shape(value)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        shapely.errors.GEOSException,
    ) as error:
        return None, _("{where} : géométrie illisible ({error})", where=label, error=error)
    if geometry.is_empty:
        return None, None
    if geometry.geom_type not in {"Point", "Polygon", "MultiPolygon"}:
        return None, _(
            "{where} : géométrie {kind} inattendue (attendu Polygon, MultiPolygon ou Point)",
            where=label,
            kind=geometry.geom_type,
        )
    return geometry, None


def _read_vector(path: Path) -> _Raw:
    import pyogrio  # noqa: PLC0415  (heavy import, only for vector formats)
    import pyogrio.errors  # noqa: PLC0415
    import pyogrio.raw  # noqa: PLC0415

    source = str(path)
    if path.name.lower().endswith(".zip"):
        with open_zip(path, role=ROLE) as archive:
            members = archive.namelist()
        inner = [m for m in members if m.lower().endswith((".shp", ".gpkg", ".geojson"))]
        if not inner:
            raise SourceError(
                _(
                    "L'archive {role} {path} ne contient aucun fichier .shp, .gpkg ou .geojson.",
                    role=ROLE,
                    path=path,
                )
            )
        preferred = [m for m in inner if "commune" in m.lower()] or inner
        source = f"/vsizip/{path}/{preferred[0]}"
    try:
        layers = pyogrio.list_layers(source)
        layer = None
        if len(layers) > 1:
            names = [str(row[0]) for row in layers]
            layer = next((n for n in names if "commune" in n.lower()), names[0])
        meta, _fids, wkb, fields = pyogrio.raw.read(source, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as error:
        raise SourceError(
            _(
                "Le fichier {role} {path} est illisible ({error}).",
                role=ROLE,
                path=path,
                error=error,
            )
        ) from error
    frame = pd.DataFrame(
        {str(name): values for name, values in zip(meta["fields"], fields, strict=True)}
    )
    where = [_("entité {n}", n=i + 1) for i in range(len(frame))]
    notes: list[str] = []
    shapes: list[BaseGeometry | None] | None = None
    if wkb is not None:
        try:
            geoms = shapely.from_wkb(wkb)
        except shapely.errors.GEOSException as error:
            raise SchemaError(
                _("{path} : géométrie illisible ({error}).", path=path, error=error)
            ) from error
        crs = meta.get("crs")
        if crs and not _is_wgs84(crs):
            geoms = _reproject(geoms, crs)
            notes.append(_("Contours reprojetés de {crs} vers EPSG:4326.", crs=crs))
        shapes = [None if g is None or g.is_empty else g for g in geoms]
        problems = [
            _("{where} : géométrie {kind} inattendue", where=where[i], kind=g.geom_type)
            for i, g in enumerate(shapes)
            if g is not None and g.geom_type not in {"Point", "Polygon", "MultiPolygon"}
        ]
        _raise_problems(problems, path, _("géométrie inattendue"))
    return _Raw(frame=frame, where=where, shapes=shapes, notes=notes)


def _is_wgs84(crs: str) -> bool:
    import pyproj  # noqa: PLC0415

    return bool(
        pyproj.CRS.from_user_input(crs).equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True)
    )


def _reproject(geoms: Any, crs: str) -> Any:  # noqa: ANN401  (numpy array of geometries)
    import pyproj  # noqa: PLC0415

    transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return shapely.transform(geoms, transformer.transform, interleaved=False)


# ---------------------------------------------------------------------------------------
# Canonical table


@dataclass(frozen=True)
class _Plan:
    """Which column of the file feeds each canonical column."""

    code: str
    mapping: dict[str, str | None]
    hectares: str | None
    type_column: str | None

    def used(self) -> set[str]:
        used = {c for c in self.mapping.values() if c is not None} | {self.code}
        return used | {c for c in (self.hectares, self.type_column) if c is not None}

    def describe(self) -> list[str]:
        described = [
            f"{target} ← {source}"
            for target, source in self.mapping.items()
            if source is not None and source != target
        ]
        if self.hectares:
            described.append(f"surface_km2 ← {self.hectares} / 100 (ha)")
        return described


def _plan(columns: Sequence[str], path: Path) -> _Plan:
    code_column = find_column(columns, _ALIASES["code"], path=path, what=_("code commune INSEE"))
    mapping = _map_columns(columns, code_column)
    hectares = None
    if mapping.get("surface_km2") is None:
        hectares = find_optional_column(columns, _HECTARE_ALIASES)
    type_column = find_optional_column(columns, _TYPE_ALIASES)
    return _Plan(code_column, mapping, hectares, type_column)


def _drop_secondary(raw: _Raw, type_column: str | None, notes: list[str]) -> _Raw:
    """Drop the rows of communes déléguées and associées (they repeat their parent)."""
    if type_column is None:
        return raw
    types = raw.frame[type_column].astype("str").str.strip().str.upper()
    dropped = types.isin(_DROPPED_TYPES).to_numpy()
    if not dropped.any():
        return raw
    notes.append(
        _("{n} ligne(s) de communes déléguées ou associées ignorée(s).", n=int(dropped.sum()))
    )
    keep = ~dropped
    return _Raw(
        frame=raw.frame[keep].reset_index(drop=True),
        where=[w for w, k in zip(raw.where, keep, strict=True) if k],
        shapes=[s for s, k in zip(raw.shapes, keep, strict=True) if k] if raw.shapes else None,
        notes=raw.notes,
    )


def _values(raw: _Raw, plan: _Plan, path: Path) -> pd.DataFrame:
    """Parse and check the canonical values; every problem is reported at once."""
    frame, where = raw.frame, raw.where
    problems: list[str] = []
    out: dict[str, Any] = {"code": _codes(frame[plan.code], where, problems)}
    for target in ("nom", "dep", "reg", "epci"):
        source = plan.mapping.get(target)
        # to_numpy: iterating an Arrow-backed Series value by value is ~10x slower.
        values = (
            [_text(v) for v in frame[source].to_numpy(dtype=object)]
            if source
            else [None] * len(frame)
        )
        if target in {"dep", "reg"}:
            values = [v.zfill(2) if v and v.isdigit() and len(v) < 2 else v for v in values]
        out[target] = values
    for target in (*_COORD_COLUMNS, *_COUNT_COLUMNS):
        source = plan.mapping.get(target)
        if source is not None:
            out[target] = _numbers(frame[source], source, where, problems)
        elif target == "surface_km2" and plan.hectares is not None:
            out[target] = _numbers(frame[plan.hectares], plan.hectares, where, problems) / 100.0
        else:
            out[target] = np.full(len(frame), np.nan)
        if target in _COUNT_COLUMNS:
            _check_not_negative(out[target], plan.mapping.get(target) or target, where, problems)
    if raw.shapes is not None:
        _points_as_centres(out, raw.shapes)
    _check_coordinates(out, where, problems)
    _raise_problems(problems, path, _("valeur invalide"))
    table = pd.DataFrame(out)
    used = plan.used()
    for column in frame.columns:
        if not column or column.startswith("Unnamed:"):
            continue  # row index written by pandas/R exports
        if column not in used and _is_scalar_column(frame[column]):
            table[column] = [_text(v) for v in frame[column].to_numpy(dtype=object)]
    table["_where"] = where
    return table


def _canonical(raw: _Raw, path: Path) -> tuple[pd.DataFrame, dict[str, BaseGeometry], list[str]]:
    raw.frame.columns = [str(c).strip() for c in raw.frame.columns]
    plan = _plan(list(raw.frame.columns), path)
    notes: list[str] = []
    if described := plan.describe():
        notes.append(_("Colonnes lues : {columns}.", columns=", ".join(described)))
    raw = _drop_secondary(raw, plan.type_column, notes)
    table = _values(raw, plan, path)
    polygons = [
        s if s is not None and s.geom_type != "Point" else None for s in (raw.shapes or [])
    ] or [None] * len(table)
    rows_read = len(table)
    table, geoms = _deduplicate(table, polygons, path)
    if len(table) < rows_read:
        notes.append(
            _(
                "{n} ligne(s) répétant une commune déjà lue avec les mêmes données (plusieurs "
                "codes postaux) fusionnée(s).",
                n=rows_read - len(table),
            )
        )
    table, geoms, arm_notes = _merge_arrondissements(table, geoms)
    notes.extend(arm_notes)
    table = table.drop(columns="_where")
    missing_before = table["latitude"].isna() | table["surface_km2"].isna()
    table = _fill_from_shapes(table, geoms)
    computed = int((missing_before & table["surface_km2"].notna()).sum())
    if geoms and computed:
        notes.append(
            _(
                "Centres et/ou surfaces de {n} commune(s) calculés à partir des contours "
                "(surface géodésique ; approximative si les contours sont simplifiés).",
                n=computed,
            )
        )
    return _ordered(table), geoms, notes


def _map_columns(columns: Sequence[str], code_column: str) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    taken = {code_column}
    for target in COMMUNE_COLUMNS[1:]:
        candidates = [c for c in columns if c not in taken]
        found = find_optional_column(candidates, _ALIASES[target])
        if found is None and target in _PATTERNS:
            found = _latest_year_column(candidates, _PATTERNS[target])
        mapping[target] = found
        if found is not None:
            taken.add(found)
    return mapping


def _latest_year_column(columns: Iterable[str], patterns: Sequence[str]) -> str | None:
    best: tuple[int, str] | None = None
    for column in columns:
        for pattern in patterns:
            match = re.fullmatch(pattern, column.strip().lower())
            if match:
                year = int(match.group(1))
                year = year + 2000 if year < 100 else year
                if best is None or year > best[0]:
                    best = (year, column)
    return best[1] if best else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _is_scalar_column(series: pd.Series[Any]) -> bool:
    return not any(isinstance(v, (dict, shapely.Geometry)) for v in series.head(50))


def _codes(values: pd.Series[Any], where: Sequence[str], problems: list[str]) -> list[str]:
    codes: list[str] = []
    for label, value in zip(where, values, strict=True):
        code = normalise_commune_code(value) if not _is_missing(value) else None
        if code is None or not is_commune_code(code):
            problems.append(
                _(
                    "{where} : code commune « {value} » invalide (attendu 5 caractères, "
                    "par exemple 05061 ou 2A004)",
                    where=label,
                    value="" if code is None else value,
                )
            )
            code = ""
        codes.append(code)
    return codes


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _check_not_negative(
    values: np.ndarray[Any, np.dtype[np.float64]],
    column: str,
    where: Sequence[str],
    problems: list[str],
) -> None:
    """Populations, surfaces and counts of people are never negative (nor infinite)."""
    bad = np.flatnonzero(~np.isnan(values) & ~(np.isfinite(values) & (values >= 0)))
    problems.extend(
        _(
            "{where}, colonne {column} : {value} (attendu un nombre fini positif ou nul)",
            where=where[int(index)],
            column=column,
            value=format_number(float(values[int(index)])),
        )
        for index in bad[:_MAX_LISTED]
    )


def _numbers(
    values: pd.Series[Any], column: str, where: Sequence[str], problems: list[str]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    text = values.astype("str").str.strip().str.replace("\u202f", "").str.replace(" ", "")
    text = text.str.replace(",", ".", regex=False)
    text = text.where(values.notna() & (text != ""), None)
    numbers = pd.to_numeric(text, errors="coerce")
    # inf, -inf and 1e309 (read as infinite) are not numbers a commune can have.
    bad = (numbers.isna() | ~np.isfinite(numbers.astype("float64"))) & text.notna()
    problems.extend(
        _(
            "{where}, colonne {column} : « {value} » n'est pas un nombre fini",
            where=where[int(index)],
            column=column,
            value=values.iloc[int(index)],
        )
        for index in np.flatnonzero(bad.to_numpy())[:_MAX_LISTED]
    )
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def _points_as_centres(out: dict[str, Any], shapes: Sequence[BaseGeometry | None]) -> None:
    lat, lon = out["latitude"], out["longitude"]
    for index, geometry in enumerate(shapes):
        if geometry is not None and geometry.geom_type == "Point" and np.isnan(lat[index]):
            lat[index] = geometry.y
            lon[index] = geometry.x


def _in_france(lat: float, lon: float) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in _FRANCE_BOXES)


def _check_coordinates(out: dict[str, Any], where: Sequence[str], problems: list[str]) -> None:
    lat, lon = out["latitude"], out["longitude"]
    found = 0
    for found_at in np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon)):
        index = int(found_at)
        y, x = float(lat[index]), float(lon[index])
        if _in_france(y, x):
            continue
        found += 1
        if found > _MAX_LISTED:
            break
        if _in_france(x, y):
            problems.append(
                _(
                    "{where} : latitude {lat} et longitude {lon} inversées ? (hors de France "
                    "dans cet ordre)",
                    where=where[index],
                    lat=y,
                    lon=x,
                )
            )
        else:
            problems.append(
                _(
                    "{where} : coordonnées latitude {lat}, longitude {lon} hors de France "
                    "(attendu des degrés WGS84, EPSG:4326)",
                    where=where[index],
                    lat=y,
                    lon=x,
                )
            )


def _raise_problems(problems: Sequence[str], path: Path, what: str) -> None:
    if problems:
        raise SchemaError(
            _("{path} : {what} — {problems}.", path=path, what=what, problems=_join(problems))
        )


def _join(problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        shown += _(" ; et {n} autre(s)", n=len(problems) - _MAX_LISTED)
    return shown


def _deduplicate(
    table: pd.DataFrame, polygons: Sequence[BaseGeometry | None], path: Path
) -> tuple[pd.DataFrame, dict[str, BaseGeometry]]:
    """Keep one row per code; identical repeats (several postcodes) are merged."""
    geoms: dict[str, BaseGeometry] = {}
    for code, geometry in zip(table["code"], polygons, strict=True):
        if geometry is None:
            continue
        geoms[code] = shapely.union(geoms[code], geometry) if code in geoms else geometry
    duplicated = table["code"].duplicated(keep=False)
    if not duplicated.any():
        return table.reset_index(drop=True), geoms
    repeats = table[duplicated]
    compared = repeats[list(COMMUNE_COLUMNS)].copy()
    for column in (*_COORD_COLUMNS, *_COUNT_COLUMNS):
        compared[column] = compared[column].round(6)
    counts = compared.groupby("code").nunique(dropna=True)
    conflicts = counts[(counts > 1).any(axis=1)]
    if not conflicts.empty:
        problems = []
        for code, row in conflicts.head(_MAX_LISTED).iterrows():
            columns = [str(c) for c in row.index if row[c] > 1]
            lines = ", ".join(repeats.loc[repeats["code"] == code, "_where"].head(4))
            problems.append(
                _(
                    "code {code} ({lines}) : valeurs différentes pour {columns}",
                    code=code,
                    lines=lines,
                    columns=", ".join(columns),
                )
            )
        raise SchemaError(
            _(
                "{path} : codes commune en double avec des données contradictoires — "
                "{problems}. Gardez une seule ligne par commune.",
                path=path,
                problems=_join(problems),
            )
        )
    firsts = table.groupby("code", sort=False).first()
    return firsts.reset_index(), geoms


def _merge_arrondissements(
    table: pd.DataFrame, geoms: dict[str, BaseGeometry]
) -> tuple[pd.DataFrame, dict[str, BaseGeometry], list[str]]:
    parents = table["code"].map(commune_of_arrondissement)
    is_arm = parents != table["code"]
    if not is_arm.any():
        return table, geoms, []
    notes: list[str] = []
    present = set(table["code"])
    geoms = dict(geoms)
    rebuilt: list[dict[str, Any]] = []
    for parent, group in table[is_arm].groupby(parents[is_arm]):
        parent_code = str(parent)
        arm_codes = list(group["code"])
        shapes = [geoms.pop(c) for c in arm_codes if c in geoms]
        union = shapely.union_all(shapes) if shapes else None
        if parent_code in present:
            if union is not None and parent_code not in geoms:
                geoms[parent_code] = union
            continue
        expected = next(
            last - first + 1 for first, last, code in ARRONDISSEMENT_PARENTS if code == parent_code
        )
        complete = len(arm_codes) == expected
        rebuilt.append(_aggregate(parent_code, group, complete=complete))
        if union is not None:
            geoms[parent_code] = union
        if complete:
            notes.append(
                _(
                    "Commune {code} reconstituée à partir de ses {n} arrondissements.",
                    code=parent_code,
                    n=len(arm_codes),
                )
            )
        else:
            notes.append(
                _(
                    "Commune {code} reconstituée à partir de {n} arrondissement(s) sur "
                    "{expected} : effectifs et surface laissés vides (incomplets).",
                    code=parent_code,
                    n=len(arm_codes),
                    expected=expected,
                )
            )
    kept = table[~is_arm]
    if rebuilt:
        kept = pd.concat([kept, pd.DataFrame(rebuilt)], ignore_index=True)
    return kept.reset_index(drop=True), geoms, notes


def _aggregate(parent: str, group: pd.DataFrame, *, complete: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"code": parent, "nom": _PARENT_NAMES.get(parent), "_where": parent}
    for column in ("dep", "reg", "epci"):
        distinct = group[column].dropna().unique()
        row[column] = distinct[0] if len(distinct) == 1 else None
    for column in _COUNT_COLUMNS:
        values = group[column]
        row[column] = float(values.sum()) if complete and values.notna().all() else np.nan
    population = group["population"]
    weights = (
        population.to_numpy(dtype="float64")
        if population.notna().all() and population.sum() > 0
        else np.ones(len(group))
    )
    for column in _COORD_COLUMNS:
        coords = group[column].to_numpy(dtype="float64")
        ok = ~np.isnan(coords)
        row[column] = (
            float(np.average(coords[ok], weights=weights[ok]))
            if ok.any() and weights[ok].sum() > 0
            else np.nan
        )
    return row


def _codes_needing_geometry(table: pd.DataFrame) -> list[str]:
    missing = table["latitude"].isna() | table["longitude"].isna() | table["surface_km2"].isna()
    return [str(c) for c in table.loc[missing, "code"]]


def _fill_from_shapes(table: pd.DataFrame, shapes: dict[str, BaseGeometry]) -> pd.DataFrame:
    """Compute missing centres (EPSG:4326) and areas (km², geodesic) from the contours."""
    if not shapes:
        return table
    import pyproj  # noqa: PLC0415

    geod = pyproj.Geod(ellps="WGS84")
    table = table.copy()
    lat = table["latitude"].to_numpy(dtype="float64", na_value=np.nan, copy=True)
    lon = table["longitude"].to_numpy(dtype="float64", na_value=np.nan, copy=True)
    area = table["surface_km2"].to_numpy(dtype="float64", na_value=np.nan, copy=True)
    for index, code in enumerate(table["code"]):
        geometry = shapes.get(code)
        if geometry is None:
            continue
        if np.isnan(lat[index]) or np.isnan(lon[index]):
            point = _inner_centre(geometry)
            lat[index], lon[index] = point.y, point.x
        if np.isnan(area[index]):
            valid = geometry if geometry.is_valid else shapely.make_valid(geometry)
            area[index] = abs(geod.geometry_area_perimeter(valid)[0]) / 1e6
    table["latitude"] = lat
    table["longitude"] = lon
    table["surface_km2"] = pd.array(area, dtype="Float64")
    return table


def _inner_centre(geometry: BaseGeometry) -> Any:  # noqa: ANN401  (shapely Point)
    """Centroid, or a point surely inside when the centroid falls outside (C shapes)."""
    centroid = geometry.centroid
    if geometry.contains(centroid):
        return centroid
    return geometry.representative_point()


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Put the canonical columns first, with their dtypes; extras follow as text."""
    table = table.copy()
    for column in COMMUNE_COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    result = pd.DataFrame(index=table.index)
    for column in _TEXT_COLUMNS:
        result[column] = table[column].astype("str").where(table[column].notna(), None)
    for column in _COORD_COLUMNS:
        result[column] = pd.to_numeric(table[column], errors="coerce").astype("float64")
    for column in _COUNT_COLUMNS:
        result[column] = pd.to_numeric(table[column], errors="coerce").astype("Float64")
    result = result[list(COMMUNE_COLUMNS)]
    extras = [c for c in table.columns if c not in COMMUNE_COLUMNS and not c.startswith("_")]
    for column in extras:
        result[column] = table[column]
    return result.sort_values("code", kind="stable").reset_index(drop=True)


def _to_geojson(shapes: dict[str, BaseGeometry]) -> dict[str, dict[str, Any]]:
    if not shapes:
        return {}
    codes = list(shapes)
    texts = shapely.to_geojson(np.array([shapes[c] for c in codes], dtype=object))
    return {code: json.loads(str(text)) for code, text in zip(codes, texts, strict=True)}


def _vintage(path: Path) -> str | None:
    match = _YEAR.search(path.name)
    return match.group(1) if match else None
