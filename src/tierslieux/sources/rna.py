"""Associations of the Répertoire national des associations (RNA).

Formats (ministère de l'Intérieur, published on data.gouv.fr):

- ``rna_waldec_YYYYMMDD.zip``: current situation of associations with a W number; a zip
  of ``;``-separated CSV files (one or several members), header ``id;id_ex;siret;rup_mi;
  gestion;date_creat;date_decla;date_publi;date_disso;nature;groupement;titre;
  titre_court;objet;objet_social1;objet_social2;adrs_complement;…;adrs_codeinsee;
  adrs_codepostal;adrs_libcommune;adrg_…;dir_civilite;siteweb;publiweb;observation;
  position;maj_time``; ``position`` ``A`` = active (``D`` dissolved, ``S`` deleted);
  ``date_disso`` ``0001-01-01`` = none; ``objet_social`` ``000000`` = none;
- ``rna_import_YYYYMMDD.zip``: associations without change since 2009, with other
  address columns (``adr1``…, ``libcom``);
- older per-département dumps of the same columns, in Latin-1 / Windows-1252.

Personal data: the management address (``adrg_*``), the street address of the seat
(``adrs_*`` except the commune code) and the officer's title (``dir_civilite``) are
never read.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.files import atomic_path, atomic_write_text
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import commune_of_arrondissement
from tierslieux.model.types import Provenance
from tierslieux.sources._files import find_optional_column, require_file, sha256_of
from tierslieux.sources._tabular import (
    TabularInput,
    open_tabular,
    register_codes,
    run_filtered_query,
    wanted_commune_codes,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["RNA_COLUMNS", "load_rna"]

#: Canonical columns of the frame returned by :func:`load_rna`, in order.
RNA_COLUMNS: tuple[str, ...] = (
    "identifiant",
    "rna_id",
    "nom",
    "objet",
    "objet_social1",
    "objet_social2",
    "code_commune",
    "date_creation",
    "siret",
    "site_web",
    "source",
)

_REQUIRED: dict[str, tuple[str, ...]] = {
    "rna_id": ("id",),
    "nom": ("titre",),
    "commune": ("adrs_codeinsee",),
}
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "objet": ("objet",),
    "objet_social1": ("objet_social1",),
    "objet_social2": ("objet_social2",),
    "date_creation": ("date_creat",),
    "siret": ("siret",),
    "site_web": ("siteweb", "site_web"),
    "position": ("position",),
    "date_disso": ("date_disso",),
}
_NO_DATE = "0001-01-01"
_NO_OBJET_SOCIAL = "000000"
_CACHE_VERSION = "1"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mapping(source: TabularInput) -> dict[str, str | None]:
    columns = source.columns
    found: dict[str, str | None] = {}
    missing: list[str] = []
    for key, aliases in _REQUIRED.items():
        hit = find_optional_column(columns, aliases)
        if hit is None:
            missing.append("/".join(aliases))
        found[key] = hit
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} introuvable(s) ; un export RNA (rna_waldec, "
                "rna_import) séparé par « ; » était attendu (colonnes présentes : {columns}).",
                path=source.original,
                missing=", ".join(missing),
                columns=", ".join(columns[:20]) + (" …" if len(columns) > 20 else ""),
            )
        )
    for key, aliases in _OPTIONAL.items():
        found[key] = find_optional_column(columns, aliases)
    return found


def _query(source: TabularInput, mapping: dict[str, str | None], *, ignore_errors: bool) -> str:
    select = []
    for key, column in mapping.items():
        if column is None:
            select.append(f"CAST(NULL AS VARCHAR) AS {key}")
        else:
            select.append(f"NULLIF(TRIM({_quote_ident(column)}), '') AS {key}")
    commune = _quote_ident(str(mapping["commune"]))
    if mapping["position"] is not None:
        active = f"TRIM({_quote_ident(mapping['position'])}) = 'A'"
    elif mapping["date_disso"] is not None:
        disso = _quote_ident(mapping["date_disso"])
        active = f"(NULLIF(TRIM({disso}), '') IS NULL OR TRIM({disso}) = '{_NO_DATE}')"
    else:
        active = "TRUE"
    return (
        f"SELECT {', '.join(select)} FROM {source.scan(ignore_errors=ignore_errors)} "
        f"WHERE TRIM({commune}) IN (SELECT code FROM tl_rna_communes) AND {active}"
    )


def load_rna(
    path: Path,
    *,
    communes: Sequence[str],
    con: duckdb.DuckDBPyConnection | None = None,
    cache_dir: Path,
    ignore_errors: bool = False,
) -> tuple[pd.DataFrame, Provenance]:
    """Read the active associations of some communes from an RNA export.

    Parameters
    ----------
    path
        ``rna_waldec_*.zip`` / ``rna_import_*.zip`` (one or several CSV members) or one
        CSV file (``;``), UTF-8 or Latin-1 / Windows-1252.
    communes
        INSEE codes of the communes to keep; Paris, Lyon and Marseille include their
        arrondissements, reported in their commune.
    con
        DuckDB connection to use (default: an own in-memory one).
    cache_dir
        Folder for extracted members, UTF-8 copies and the filtered result.
    ignore_errors
        Skip malformed lines instead of failing.

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        One row per active association (``position`` = ``A``; without that column, no
        dissolution date), columns :data:`RNA_COLUMNS`; and where it came from.

    Raises
    ------
    SourceError
        Missing, empty or unreadable file or archive.
    SchemaError
        Missing column (id, titre, adrs_codeinsee) or malformed line (file and line named).
    """
    require_file(path, "RNA")
    codes = wanted_commune_codes(communes)
    cache_dir.mkdir(parents=True, exist_ok=True)
    stat = path.stat()
    key = "|".join(
        [
            _CACHE_VERSION,
            str(path.resolve()),
            str(stat.st_size),
            str(stat.st_mtime_ns),
            str(ignore_errors),
            ",".join(codes),
        ]
    )
    cached = cache_dir / f"rna_{hashlib.sha256(key.encode()).hexdigest()[:20]}.parquet"
    if cached.exists():
        raw = pd.read_parquet(cached)
    else:
        own = con is None
        connection = duckdb.connect() if con is None else con
        try:
            register_codes(connection, "tl_rna_communes", codes)
            parts = []
            for source in open_tabular(path, role="RNA", cache_dir=cache_dir):
                sql = _query(source, _mapping(source), ignore_errors=ignore_errors)
                parts.append(
                    run_filtered_query(connection, sql, source=source, ignore_errors=ignore_errors)
                )
        finally:
            if own:
                connection.close()
        raw = pd.concat(parts, ignore_index=True)
        with atomic_path(cached) as partial:
            raw.to_parquet(partial, index=False)
    frame = _finalise(raw)
    memo = cache_dir / f"{cached.stem}.sha256.json"
    if memo.exists():
        digest = json.loads(memo.read_text(encoding="utf-8"))
    else:
        digest = sha256_of(path)
        atomic_write_text(memo, json.dumps(digest))
    provenance = Provenance(
        role="rna",
        location=str(path),
        vintage=_vintage(path),
        sha256=digest,
        licence="Licence Ouverte / Open Licence 2.0 (ministère de l'Intérieur, RNA)",
    )
    return frame, provenance


def _vintage(path: Path) -> str | None:
    """Date in names like ``rna_waldec_20250901.zip`` (``"2025-09-01"``), if any."""
    digits = "".join(c if c.isdigit() else " " for c in path.stem).split()
    dates = [d for d in digits if len(d) == 8 and d.startswith(("19", "20"))]
    if not dates:
        return None
    d = dates[-1]
    return f"{d[:4]}-{d[4:6]}-{d[6:]}"


def _finalise(raw: pd.DataFrame) -> pd.DataFrame:
    if raw.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in RNA_COLUMNS})
    frame = pd.DataFrame(index=raw.index)
    rna_id = raw["rna_id"].astype("string").str.upper()
    frame["identifiant"] = "rna:" + rna_id
    frame["rna_id"] = rna_id
    frame["nom"] = raw["nom"].astype("string")
    frame["objet"] = raw["objet"].astype("string")
    for column in ("objet_social1", "objet_social2"):
        values = raw[column].astype("string")
        frame[column] = values.mask(values == _NO_OBJET_SOCIAL)
    frame["code_commune"] = (
        raw["commune"]
        .astype("string")
        .map(lambda c: commune_of_arrondissement(str(c)) if pd.notna(c) else c)
    )
    dates = raw["date_creation"].astype("string")
    frame["date_creation"] = dates.mask(dates == _NO_DATE)
    frame["siret"] = raw["siret"].astype("string")
    frame["site_web"] = raw["site_web"].astype("string")
    frame["source"] = "rna"
    frame = frame.drop_duplicates(subset=["rna_id"], keep="last")
    return frame.reset_index(drop=True)
