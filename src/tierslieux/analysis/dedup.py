"""One row per structure when several sources list it (Sirene, RNA, EPCI list, parks, actors).

Two rows are the same structure when they share one of these keys:

- the same ``identifiant`` (the same EPCI code ``epci:<SIREN>`` twice, the same place
  read twice);
- the same SIREN: the ``siren`` column (Sirene), the first nine digits of a ``siret``
  column (RNA), or an identifier ``epci:<SIREN>``, ``siren:<SIREN>``,
  ``siret:<SIRET>`` or ``acteur:<SIREN or SIRET>`` (a user's actor given its number).
  For step-3 actors (intercommunalities, parks, Pays) every establishment of one
  SIREN is one actor; for the other categories, establishments of one SIREN in
  different communes stay separate (each is a local point of the structure);
- for step-3 actors, the same regional natural park named in the row (« Parc naturel
  régional du Queyras », « Syndicat mixte du PNR du Queyras » → ``queyras``), or the
  same name in the same commune.

The row kept is the first with coordinates (else the first read), its empty fields
filled from the others; a user's own actor row (``acteur:``) gives its identifier, name,
category, source and reason.
``sources`` lists every source (joined by « ; »), ``identifiants_fusionnes`` the
identifiers of the rows merged into it, and ``themes`` joins all their themes.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from tierslieux.model.structures import PARTNER_CATEGORIES

__all__ = ["deduplicate_structures", "park_key", "siren_of"]

_SIREN_ID = re.compile(r"^(?:epci|siren|acteur):(\d{9})$")
_SIRET_ID = re.compile(r"^(?:siret|acteur):(\d{14})$")
_PARK = re.compile(r"\b(?:parc naturel regional|pnr)\s+(?:(?:du|des|de la|de l|de|d)\s+)?(.+)$")


def _plain(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text).strip()


def _cell(row: pd.Series, column: str) -> str:
    value = row.get(column)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return ""
    return str(value).strip()


def siren_of(row: pd.Series) -> str:
    """The SIREN a structures row carries (column or identifier), or ``""``."""
    siren = re.sub(r"\s", "", _cell(row, "siren"))
    if re.fullmatch(r"\d{9}", siren):
        return siren
    siret = re.sub(r"\s", "", _cell(row, "siret"))
    if re.fullmatch(r"\d{14}", siret):
        return siret[:9]
    ident = _cell(row, "identifiant")
    if match := _SIREN_ID.match(ident):
        return match.group(1)
    if match := _SIRET_ID.match(ident):
        return match.group(1)[:9]
    return ""


def park_key(name: str) -> str:
    """The park a name designates (« Parc naturel régional du Queyras » → ``queyras``)."""
    match = _PARK.search(_plain(name))
    return match.group(1) if match else ""


def _keys(row: pd.Series) -> list[str]:
    keys = [f"id:{_cell(row, 'identifiant')}"]
    partner = _cell(row, "categorie") in PARTNER_CATEGORIES
    commune = _cell(row, "code_commune")
    if siren := siren_of(row):
        keys.append(f"siren:{siren}" if partner else f"siren:{siren}@{commune}")
    if partner:
        name = _plain(_cell(row, "nom"))
        if park := park_key(name):
            keys.append(f"pnr:{park}")
        if name:
            keys.append(f"nom:{name}@{commune}")
    return keys


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def deduplicate_structures(structures: pd.DataFrame) -> pd.DataFrame:
    """Merge the rows that designate the same structure (see the module documentation).

    Returns
    -------
    pandas.DataFrame
        The same columns, one row per structure in the order of first appearance, plus
        ``sources`` and ``identifiants_fusionnes``.
    """
    frame = structures.reset_index(drop=True)
    parent = list(range(len(frame)))
    first: dict[str, int] = {}
    for i, row in frame.iterrows():
        index = int(str(i))
        for key in _keys(row):
            if key in first:
                a, b = _find(parent, first[key]), _find(parent, index)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[key] = index
    clusters: dict[int, list[int]] = {}
    for i in range(len(frame)):
        clusters.setdefault(_find(parent, i), []).append(i)
    records = [row for _i, row in frame.iterrows()]
    rows = [_merge(records, list(frame.columns), members) for members in clusters.values()]
    result = pd.DataFrame(rows, columns=[*frame.columns, "sources", "identifiants_fusionnes"])
    return result.reset_index(drop=True)


def _empty(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)  # noqa: PLR0124


def _located(row: pd.Series) -> bool:
    return bool(_cell(row, "latitude")) and bool(_cell(row, "longitude"))


def _merge(records: list[pd.Series], columns: list[str], members: list[int]) -> dict[str, object]:
    # The kept row: the first with coordinates (its commune and position travel together),
    # else the first read; a user's own row then gives its name, category, source and reason.
    order = sorted(members, key=lambda i: (0 if _located(records[i]) else 1, i))
    kept: dict[str, object] = {str(k): v for k, v in records[order[0]].items()}
    for i in order[1:]:
        for column, value in records[i].items():
            if _empty(kept.get(str(column))) and not _empty(value):
                kept[str(column)] = value
    users = [i for i in members if _cell(records[i], "identifiant").startswith("acteur:")]
    if users:
        user = records[users[0]]
        for column in ("identifiant", "nom", "categorie", "source", "raison"):
            if column in columns and _cell(user, column):
                kept[column] = user[column]
    themes: list[str] = []
    sources: list[str] = []
    for i in members:
        themes.extend(t for t in _cell(records[i], "themes").split(";") if t)
        if source := _cell(records[i], "source"):
            sources.append(source)
    if "themes" in columns:
        kept["themes"] = ";".join(dict.fromkeys(themes))
    kept["sources"] = ";".join(dict.fromkeys(sources))
    merged = [_cell(records[i], "identifiant") for i in members]
    kept["identifiants_fusionnes"] = ";".join(
        dict.fromkeys(m for m in merged if m and m != kept.get("identifiant"))
    )
    return kept
