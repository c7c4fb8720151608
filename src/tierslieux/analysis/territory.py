"""Select the communes of a territory (région, département, EPCI, bassin de vie, list)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import Problem, TerritoryError
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import commune_of_arrondissement, normalise_commune_code

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tierslieux.model.territory import Territory

__all__ = ["select_communes"]

_MAX_SHOWN = 10
_SUGGESTED = 15
_COLUMN_OF_KIND = {"region": "reg", "dep": "dep", "epci": "epci"}


def select_communes(
    territory: Territory,
    communes: pd.DataFrame,
    zonages: pd.DataFrame | None,
    *,
    listed: Sequence[str] | None = None,
) -> list[str]:
    """Return the sorted INSEE codes of the communes of ``territory``.

    Parameters
    ----------
    territory
        The territory to select.  For a département, the code prefix (2 characters, 3
        for overseas ``97x``) is used for communes without a département, unless the
        zonings have a ``dep`` column: then a commune they do not list is left out.
    communes
        Canonical communes table (column ``code``; ``reg``, ``dep``, ``epci`` used when
        present).  Only its communes can be selected.
    zonages
        Canonical zonings table (column ``code`` and lower-case levels such as
        ``bv2022``, ``epci``, ``dep``, ``reg``), or ``None``.  It fills what the communes
        table lacks, and is required for a bassin de vie.
    listed
        Codes read from the file of a ``communes:<file>`` territory; arrondissements of
        Paris, Lyon and Marseille are counted in their commune.

    Returns
    -------
    list of str
        Sorted, unique commune codes.

    Raises
    ------
    TerritoryError
        When the territory needs data that is not given (zonings for ``bv``, a list for
        ``communes``), when listed codes are unknown, or when nothing matches (the
        message suggests valid codes).
    """
    universe = _universe(communes)
    if territory.kind == "all":
        if not universe:
            raise TerritoryError(_("Le fichier des communes ne contient aucune commune."))
        return sorted(universe)
    if territory.kind == "communes":
        return _from_list(territory, universe, listed)
    if territory.kind == "bv":
        if zonages is None:
            raise TerritoryError(
                Problem.of(
                    "Le territoire bv:{code} demande le fichier des zonages ({zonages}), "
                    "qui donne le bassin de vie de chaque commune.",
                    field="zonages",
                    code=territory.code,
                )
            )
        column = _bv_column(zonages)
        if column is None:
            raise TerritoryError(
                _(
                    "Le territoire bv:{code} demande une colonne BV2022 dans le fichier des "
                    "zonages (colonnes présentes : {columns}).",
                    code=territory.code,
                    columns=", ".join(str(c) for c in zonages.columns),
                )
            )
        values = _attribute(universe, None, zonages, column)
    else:
        column = _COLUMN_OF_KIND[territory.kind]
        values = _attribute(universe, communes, zonages, column)
        if territory.kind == "dep" and (zonages is None or "dep" not in zonages.columns):
            # Without the current zonings, the code prefix gives the département.  With
            # them, a commune they do not list is left out: it no longer exists (an old
            # code kept in older contours, such as 05120 in the 2018 PACA file).
            values = values.fillna(pd.Series(universe, index=universe).map(_dep_of_code))
    selected = sorted(values.index[values == territory.code.upper()])
    if not selected:
        present = sorted(set(values.dropna()))
        shown = ", ".join(present[:_SUGGESTED]) + (" …" if len(present) > _SUGGESTED else "")
        raise TerritoryError(
            _(
                "Aucune commune ne correspond à {spec} (colonne {column}). Codes présents "
                "dans les données : {codes}.",
                spec=f"{territory.kind}:{territory.code}",
                column=column,
                codes=shown or _("aucun"),
            )
        )
    return selected


def _universe(communes: pd.DataFrame) -> list[str]:
    codes = (normalise_commune_code(c) for c in communes["code"])
    return list(dict.fromkeys(c for c in codes if c))


def _bv_column(zonages: pd.DataFrame) -> str | None:
    if "bv2022" in zonages.columns:
        return "bv2022"
    others = sorted((str(c) for c in zonages.columns if str(c).startswith("bv")), reverse=True)
    return others[0] if others else None


def _by_code(frame: pd.DataFrame, column: str) -> pd.Series[str]:
    codes = frame["code"].map(lambda c: commune_of_arrondissement(normalise_commune_code(c) or ""))
    values = frame[column].map(_clean)
    series = pd.Series(values.to_numpy(), index=codes.to_numpy(), dtype="str")
    series = series[series.notna()]
    return series[~series.index.duplicated()]


def _attribute(
    universe: list[str], communes: pd.DataFrame | None, zonages: pd.DataFrame | None, column: str
) -> pd.Series[str]:
    """Value of ``column`` for each commune, from the communes then from the zonings."""
    values = pd.Series([None] * len(universe), index=universe, dtype="str")
    for frame in (communes, zonages):
        if frame is not None and column in frame.columns:
            values = values.fillna(_by_code(frame, column).reindex(values.index))
    return values


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return None
    if value is pd.NA:
        return None
    text = str(value).strip().upper()
    return text or None


def _dep_of_code(code: str) -> str:
    """Département of a commune code: 2 characters, 3 for overseas (97x)."""
    return code[:3] if code.startswith("97") else code[:2]


def _from_list(
    territory: Territory, universe: list[str], listed: Sequence[str] | None
) -> list[str]:
    if listed is None:
        raise TerritoryError(
            _(
                "Le territoire communes:{path} demande la liste des codes, qui n'a pas été lue.",
                path=territory.code,
            )
        )
    known = set(universe)
    wanted: list[str] = []
    unknown: list[str] = []
    for value in listed:
        code = normalise_commune_code(value)
        if code is None:
            continue
        code = commune_of_arrondissement(code)
        (wanted if code in known else unknown).append(code)
    if unknown:
        unique = list(dict.fromkeys(unknown))
        shown = ", ".join(unique[:_MAX_SHOWN]) + (" …" if len(unique) > _MAX_SHOWN else "")
        raise TerritoryError(
            _(
                "{path} : {n} code(s) commune absent(s) du fichier des communes : {codes}. "
                "Vérifiez les codes INSEE (et leur millésime).",
                path=territory.code,
                n=len(unique),
                codes=shown,
            )
        )
    if not wanted:
        raise TerritoryError(
            _("{path} : la liste ne contient aucune commune.", path=territory.code)
        )
    return sorted(set(wanted))
