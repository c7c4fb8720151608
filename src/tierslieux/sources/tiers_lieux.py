"""Existing tiers-lieux, read as anchors for hosting and networking.

Format (:func:`load_tiers_lieux`): the CGET/ANCT 2019 census ``CGET_TiersLieux_2019.csv``
(``,``, UTF-8, header ``ID,NOM_TL,ADRESSE,CP,COMINIT,INSEECOM,NOMCOM,WEB,TWITTER,
FACEBOOK,TYPO,LAT,LONG,GEOCOD,PRECISION,CONTACT,MAIL,METRO,NOMMETRO,INSEEREG,NOMREG,
INSEEMETRO,INSEEDEP,...``).  ``INSEECOM`` is ``0`` on 157 rows nationally; the code of
the commune holding the geocoded point (``INSEEMETRO``) is then used, except where
``INSEEREG`` is empty (overseas rows, whose ``INSEEMETRO`` is wrong).  ``INSEEMETRO`` is
also used when the département of ``INSEECOM`` is neither the point's (``INSEEDEP``) nor
the postcode's (3 rows nationally, e.g. a Sophia-Antipolis place coded ``14327``, a
commune of Calvados).  Other tiers-lieux lists (for instance a France Tiers-Lieux or
ANCT export) are read when their columns match one of the aliases of
:data:`TIERS_LIEUX_ALIASES` (compared without case); these aliases are usual names, not
a verified published schema.

The frame is the canonical structures frame (:mod:`tierslieux.sources._records`); the
``CONTACT`` and ``MAIL`` columns are dropped as soon as the file is read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tierslieux.i18n import gettext as _
from tierslieux.model.codes import normalise_commune_code
from tierslieux.model.types import Provenance
from tierslieux.sources._files import (
    find_column,
    find_optional_column,
    read_csv_strings,
    sha256_of,
)
from tierslieux.sources._records import (
    commune_code,
    departement_of_code,
    departements_of_postcode,
    filter_communes,
    line_of,
    parse_coordinate,
    personal_columns,
    raise_problems,
    structures_frame,
    text_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import pandas as pd

__all__ = ["TIERS_LIEUX_ALIASES", "load_tiers_lieux"]

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
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


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
        where = line_of(index)
        raw_id = text_of(row[found["id"]])
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
        typo = _typology(text_of(row[optional["typo"]]) if optional["typo"] else None)
        records.append(
            {
                "identifiant": identifiant,
                "nom": text_of(row[found["nom"]]) or raw_id,
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
                "web": text_of(row[optional["web"]]) if optional["web"] else None,
                "adresse": text_of(row[optional["adresse"]]) if optional["adresse"] else None,
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
    raw = text_of(row[found["commune"]])
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
    if geo is None or text_of(row[geo]) is None:
        return None
    if region is not None and text_of(row[region]) is None:
        # Overseas rows have no region and a meaningless metropolitan commune.
        return None
    return text_of(row[geo])


def _contradicted(
    declared: str, row: Mapping[str, Any], optional: Mapping[str, str | None]
) -> bool:
    """Tell whether the declared commune is in neither the point's nor the postcode's département.

    Three national rows of the 2019 census are so (e.g. a Sophia-Antipolis place coded
    14327, a Calvados commune); the commune of the geocoded point is then kept.
    """
    column = optional["departement"]
    departement = text_of(row[column]) if column else None
    if departement is None or departement_of_code(declared) == departement:
        return False
    column = optional["code_postal"]
    postcode = text_of(row[column]) if column else None
    return departement_of_code(declared) not in departements_of_postcode(postcode)


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
    # Whole sentences (no placeholder next to another): a stored reason is read back
    # into its values to be shown in another language (tierslieux.i18n.translate_stored).
    if is_cget and typo:
        return _(
            "Tiers-lieu recensé par le CGET en {vintage} (dominante {typo}) : {anchor}",
            vintage=vintage,
            typo=typo,
            anchor=anchor,
        )
    if is_cget:
        return _(
            "Tiers-lieu recensé par le CGET en {vintage} : {anchor}", vintage=vintage, anchor=anchor
        )
    if typo:
        return _(
            "Tiers-lieu recensé ({source}) (dominante {typo}) : {anchor}",
            source=source,
            typo=typo,
            anchor=anchor,
        )
    return _("Tiers-lieu recensé ({source}) : {anchor}", source=source, anchor=anchor)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")]


def _year_of(path: Path) -> str | None:
    match = _YEAR_IN_NAME.search(path.name)
    return match.group(1) if match else None
