"""Sirene establishments (``StockEtablissement``) joined to legal units (``StockUniteLegale``).

The national stocks hold about 40 million establishments and 25 million legal units,
so they are never loaded whole: DuckDB scans the file (CSV, zipped CSV or Parquet) and
keeps, while reading, the active establishments (``etatAdministratifEtablissement =
'A'``) of the requested communes; the legal units are then read for that set of SIREN
numbers only.  The scanning helpers, shared with the RNA, are in
:mod:`tierslieux.sources._tabular`.

Formats (INSEE, "Base Sirene des entreprises et de leurs établissements", stock files):
comma-separated CSV with a header, UTF-8 in the current ``*_utf8`` files (Latin-1 /
Windows-1252 in older ones), also published as Parquet. Non-diffusible values are
written ``[ND]`` and read as missing. Column names are INSEE's (``siret``,
``codeCommuneEtablissement``, ``coordonneeLambertAbscisseEtablissement``...).

Trade names are read with the legal name (``denominationUsuelleEtablissement``,
``enseigne1Etablissement`` to ``enseigne3Etablissement``, ``denominationUsuelle1UniteLegale``,
``sigleUniteLegale``): the displayed ``nom`` is the trade name with the legal name in
brackets, and ``noms_connus`` joins every known name for the name rules.

Diffusion: establishments whose ``statutDiffusionEtablissement``, or whose legal unit's
``statutDiffusionUniteLegale``, is not ``O`` are dropped at read time and counted in the
notes (see :data:`_DIFFUSIBLE`).

Personal data: the names and first names of individual entrepreneurs
(``nomUniteLegale``, ``prenom1UniteLegale``...) are never read; an establishment of an
individual entrepreneur (legal category 1000) is named "Entrepreneur individuel" with
its NAF code.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.files import atomic_path, atomic_write_text
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import commune_of_arrondissement
from tierslieux.model.types import Provenance
from tierslieux.sources._files import find_optional_column, require_file, sha256_of
from tierslieux.sources._tabular import (
    TabularInput,
    describe_columns,
    file_key,
    open_tabular,
    quote_ident,
    register_codes,
    run_filtered_query,
    sql_literal,
    wanted_commune_codes,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

__all__ = ["SIRENE_COLUMNS", "load_sirene"]

#: Canonical columns of the frame returned by :func:`load_sirene`, in order.
SIRENE_COLUMNS: tuple[str, ...] = (
    "identifiant",
    "siret",
    "siren",
    "nom",
    "code_commune",
    "naf",
    "categorie_juridique",
    "ess",
    "latitude",
    "longitude",
    "date_creation",
    "source",
)

_ETAB_REQUIRED: dict[str, str] = {
    "siret": "siret",
    "siren": "siren",
    "etat": "etatAdministratifEtablissement",
    "commune": "codeCommuneEtablissement",
    "naf": "activitePrincipaleEtablissement",
}
_ETAB_OPTIONAL: dict[str, str] = {
    "nomenclature": "nomenclatureActivitePrincipaleEtablissement",
    "denomination_usuelle": "denominationUsuelleEtablissement",
    "enseigne": "enseigne1Etablissement",
    "enseigne2": "enseigne2Etablissement",
    "enseigne3": "enseigne3Etablissement",
    "statut_diffusion": "statutDiffusionEtablissement",
    "x": "coordonneeLambertAbscisseEtablissement",
    "y": "coordonneeLambertOrdonneeEtablissement",
    "date_creation": "dateCreationEtablissement",
}
_UL_REQUIRED: dict[str, str] = {
    "siren": "siren",
    "etat_ul": "etatAdministratifUniteLegale",
    "categorie_juridique": "categorieJuridiqueUniteLegale",
}
# Deliberately no nomUniteLegale / prenom*UniteLegale / pseudonymeUniteLegale: the
# names of natural persons are never read.
_UL_OPTIONAL: dict[str, str] = {
    "denomination": "denominationUniteLegale",
    "denomination_usuelle1": "denominationUsuelle1UniteLegale",
    "sigle": "sigleUniteLegale",
    "ess": "economieSocialeSolidaireUniteLegale",
    "societe_mission": "societeMissionUniteLegale",
    "statut_diffusion_ul": "statutDiffusionUniteLegale",
}

#: The only diffusion status whose data may be listed. INSEE: ``O`` = diffusible,
#: ``P`` = partially diffusible (since 21 March 2023 the former ``N`` statuses are ``P``);
#: the data of a unit in partial diffusion may neither be redistributed in full nor used
#: for prospecting (code de commerce, art. R123-232-1; API Sirene documentation on
#: data.gouv.fr, https://www.data.gouv.fr/fr/dataservices/api-sirene-open-data). Any
#: value other than ``O`` (``P``, ``N``, missing) is therefore excluded at read time.
_DIFFUSIBLE = "O"

#: Legal category of individual entrepreneurs (INSEE, catégories juridiques niveau III).
_INDIVIDUAL = "1000"
# Bounds of Lambert-93 (EPSG:2154) over metropolitan France, in metres: values outside
# (zeros, DOM coordinates in local UTM projections) are not converted.
_L93_X = (50_000.0, 1_300_000.0)
_L93_Y = (6_000_000.0, 7_200_000.0)
_CACHE_VERSION = "2"


def _resolve(
    columns: Sequence[str],
    required: dict[str, str],
    optional: dict[str, str],
    *,
    path: Path,
    what: str,
) -> dict[str, str | None]:
    """Map canonical keys to the file's columns; every missing required one is reported."""
    found: dict[str, str | None] = {}
    missing: list[str] = []
    for key, name in required.items():
        hit = find_optional_column(columns, [name])
        if hit is None:
            missing.append(name)
        found[key] = hit
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} introuvable(s) ; un fichier {what} au format "
                "INSEE était attendu (colonnes présentes : {columns}).",
                path=path,
                missing=", ".join(missing),
                what=what,
                columns=", ".join(list(columns)[:20]) + (" …" if len(columns) > 20 else ""),
            )
        )
    for key, name in optional.items():
        found[key] = find_optional_column(columns, [name])
    return found


def _select_list(mapping: dict[str, str | None]) -> str:
    parts = []
    for key, column in mapping.items():
        if column is None:
            parts.append(f"CAST(NULL AS VARCHAR) AS {key}")
        else:
            parts.append(
                f"NULLIF(NULLIF(TRIM(CAST({quote_ident(column)} AS VARCHAR)), ''), '[ND]') AS {key}"
            )
    return ", ".join(parts)


def _count_rows(con: duckdb.DuckDBPyConnection, source: TabularInput) -> int:
    """Count the data lines of a CSV read without error handling (for the rejected count)."""
    rows = con.execute(
        f"SELECT count(*) FROM read_csv({sql_literal(str(source.path))}, header=true, "
        "delim='\\x01', quote='', all_varchar=true, auto_detect=false, "
        "columns={'l': 'VARCHAR'})"
    ).fetchall()
    return int(rows[0][0]) if rows else 0


class _Connection:
    """Use the caller's DuckDB connection, or an own one closed at the end."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None, cache_dir: Path) -> None:
        self.own = con is None
        if con is None:
            con = duckdb.connect()
            # A département-sized scan fits well below the 2 GB budget; spill otherwise.
            con.execute("SET memory_limit='1GB'")
            spill = cache_dir / "duckdb_tmp"
            spill.mkdir(parents=True, exist_ok=True)
            con.execute(f"SET temp_directory={sql_literal(str(spill))}")
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        return self.con

    def __exit__(self, *exc: object) -> None:
        if self.own:
            self.con.close()


def _checksum(path: Path, cache_dir: Path) -> str:
    """SHA-256 of ``path``, remembered in ``cache_dir`` (national files are several GB)."""
    memo = cache_dir / "checksums.json"
    known: dict[str, str] = {}
    if memo.exists():
        try:
            known = json.loads(memo.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
    key = file_key(path)
    if key not in known:
        known[key] = sha256_of(path)
        atomic_write_text(memo, json.dumps(known, indent=1))
    return known[key]


def load_sirene(
    etablissements: Path,
    unites_legales: Path | None,
    *,
    communes: Sequence[str],
    con: duckdb.DuckDBPyConnection | None = None,
    cache_dir: Path,
    ignore_errors: bool = False,
) -> tuple[pd.DataFrame, Provenance]:
    """Read the active Sirene establishments of some communes, with their legal unit.

    Parameters
    ----------
    etablissements
        ``StockEtablissement`` file: CSV (``,``), zipped CSV or Parquet.
    unites_legales
        ``StockUniteLegale`` file (same formats), or ``None``: legal category, ESS flag
        and legal name are then missing.
    communes
        INSEE codes of the communes to keep (``"05061"``); Paris, Lyon and Marseille
        include their arrondissements, which are reported in their commune.
    con
        DuckDB connection to use; by default an own in-memory one (1 GB memory limit,
        spilling to ``cache_dir``).
    cache_dir
        Folder for extracted archives, UTF-8 copies, checksums and the filtered result.
    ignore_errors
        Skip malformed CSV lines instead of failing; their number is reported in the
        provenance notes.

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        One row per active establishment, columns :data:`SIRENE_COLUMNS`
        (``latitude``/``longitude`` in EPSG:4326, converted from Lambert-93 when the
        file gives coordinates, else missing); and where the data came from.

    Raises
    ------
    SourceError
        A file is missing, empty or an unreadable archive.
    SchemaError
        A required column is missing, or a line is malformed (file and line named).
    """
    codes = wanted_commune_codes(communes)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key_parts = [_CACHE_VERSION, file_key(require_file(etablissements, "Sirene établissements"))]
    if unites_legales is not None:
        key_parts.append(file_key(require_file(unites_legales, "Sirene unités légales")))
    key_parts.extend([str(ignore_errors), ",".join(codes)])
    cached = cache_dir / f"sirene_{hashlib.sha256('|'.join(key_parts).encode()).hexdigest()[:20]}"
    notes: list[str] = []
    if cached.with_suffix(".parquet").exists() and cached.with_suffix(".json").exists():
        frame = pd.read_parquet(cached.with_suffix(".parquet"))
        notes = json.loads(cached.with_suffix(".json").read_text(encoding="utf-8"))
    else:
        with _Connection(con, cache_dir) as connection:
            frame, notes = _read_sirene(
                etablissements,
                unites_legales,
                codes=codes,
                con=connection,
                cache_dir=cache_dir,
                ignore_errors=ignore_errors,
            )
        # The notes last: the cache counts only when both files are there.
        with atomic_path(cached.with_suffix(".parquet")) as partial:
            frame.to_parquet(partial, index=False)
        atomic_write_text(cached.with_suffix(".json"), json.dumps(notes))
    frame = _finalise(frame)
    location = str(etablissements)
    if unites_legales is not None:
        location += f" + {unites_legales}"
    provenance = Provenance(
        role="sirene",
        location=location,
        sha256=_checksum(etablissements, cache_dir),
        licence="Licence Ouverte / Open Licence 2.0 (INSEE, base Sirene)",
        notes=tuple(notes),
    )
    return frame, provenance


def _read_sirene(
    etablissements: Path,
    unites_legales: Path | None,
    *,
    codes: list[str],
    con: duckdb.DuckDBPyConnection,
    cache_dir: Path,
    ignore_errors: bool,
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    register_codes(con, "tl_wanted_communes", codes)
    etab_parts: list[pd.DataFrame] = []
    for source in open_tabular(
        etablissements, role=N_("Sirene établissements"), cache_dir=cache_dir
    ):
        mapping = _resolve(
            describe_columns(source, con),
            _ETAB_REQUIRED,
            _ETAB_OPTIONAL,
            path=source.original,
            what="StockEtablissement",
        )
        commune_col = quote_ident(str(mapping["commune"]))
        etat_col = quote_ident(str(mapping["etat"]))
        sql = (
            f"SELECT {_select_list(mapping)} FROM {source.scan(ignore_errors=ignore_errors)} "
            f"WHERE {commune_col} IN (SELECT code FROM tl_wanted_communes) "
            f"AND {etat_col} = 'A'"
        )
        part = run_filtered_query(con, sql, source=source, ignore_errors=ignore_errors)
        etab_parts.append(_unchecked_status(part, mapping, "statut_diffusion", source, notes))
        notes.extend(_rejected_note(con, source, ignore_errors=ignore_errors))
    etab = pd.concat(etab_parts, ignore_index=True) if etab_parts else pd.DataFrame()
    etab, hidden = _drop_non_diffusible(etab, "statut_diffusion")
    if unites_legales is None:
        notes.extend(_non_diffusible_note(hidden))
        notes.append(
            _(
                "Unités légales Sirene non fournies : catégorie juridique, indicateur ESS et "
                "dénomination légale manquent ; le nom vient de l'établissement."
            )
        )
        for key in (*_UL_REQUIRED, *_UL_OPTIONAL):
            if key not in etab:
                etab[key] = pd.NA
        return etab, notes
    units = _read_units(
        unites_legales,
        sirens=sorted(set(etab["siren"].dropna())),
        con=con,
        cache_dir=cache_dir,
        ignore_errors=ignore_errors,
        notes=notes,
    )
    joined = etab.merge(units, on="siren", how="inner", validate="many_to_one")
    dropped = len(etab) - len(joined)
    joined, hidden_units = _drop_non_diffusible(joined, "statut_diffusion_ul")
    notes.extend(_non_diffusible_note(hidden + hidden_units))
    if dropped:
        notes.append(
            _(
                "{n} établissement(s) actif(s) écarté(s) : unité légale cessée ou absente du "
                "fichier des unités légales.",
                n=dropped,
            )
        )
    return joined, notes


def _drop_non_diffusible(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    """Remove the rows whose diffusion status is not ``O`` (see :data:`_DIFFUSIBLE`)."""
    if frame.empty or column not in frame:
        return frame, 0
    status = frame[column].astype("string").str.strip().str.upper()
    keep = status.eq(_DIFFUSIBLE).fillna(value=False).to_numpy(dtype=bool)
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def _unchecked_status(
    part: pd.DataFrame,
    mapping: dict[str, str | None],
    key: str,
    source: TabularInput,
    notes: list[str],
) -> pd.DataFrame:
    """Mark the rows of a file without a diffusion-status column as diffusible, and say so."""
    if mapping[key] is not None:
        return part
    column = _ETAB_OPTIONAL.get(key) or _UL_OPTIONAL[key]
    notes.append(
        _(
            "{path} : colonne {column} absente (fichier ancien ?) ; le statut de diffusion "
            "n'a pas pu être vérifié.",
            path=source.original,
            column=column,
        )
    )
    return part.assign(**{key: _DIFFUSIBLE})


def _non_diffusible_note(count: int) -> list[str]:
    if not count:
        return []
    return [
        _(
            "{n} établissement(s) non diffusible(s) écarté(s) (règles de diffusion de l'Insee : "
            "statut de diffusion partielle, article R123-232-1 du code de commerce) ; ils ne "
            "sont ni listés ni proposés comme contacts.",
            n=count,
        )
    ]


def _rejected_note(
    con: duckdb.DuckDBPyConnection, source: TabularInput, *, ignore_errors: bool
) -> Iterator[str]:
    if not ignore_errors or source.kind != "csv":
        return
    total = _count_rows(con, source)
    kept = con.execute(f"SELECT count(*) FROM {source.scan(ignore_errors=True)}").fetchall()
    rejected = total - (int(kept[0][0]) if kept else 0)
    if rejected:
        yield _(
            "{path} : {n} ligne(s) mal formée(s) ignorée(s) (ignore_errors).",
            path=source.original,
            n=rejected,
        )


def _read_units(
    path: Path,
    *,
    sirens: list[str],
    con: duckdb.DuckDBPyConnection,
    cache_dir: Path,
    ignore_errors: bool,
    notes: list[str],
) -> pd.DataFrame:
    register_codes(con, "tl_wanted_sirens", sirens)
    parts: list[pd.DataFrame] = []
    for source in open_tabular(path, role=N_("Sirene unités légales"), cache_dir=cache_dir):
        mapping = _resolve(
            describe_columns(source, con),
            _UL_REQUIRED,
            _UL_OPTIONAL,
            path=source.original,
            what="StockUniteLegale",
        )
        siren_col = quote_ident(str(mapping["siren"]))
        etat_col = quote_ident(str(mapping["etat_ul"]))
        sql = (
            f"SELECT {_select_list(mapping)} FROM {source.scan(ignore_errors=ignore_errors)} "
            f"WHERE {siren_col} IN (SELECT code FROM tl_wanted_sirens) AND {etat_col} = 'A'"
        )
        part = run_filtered_query(con, sql, source=source, ignore_errors=ignore_errors)
        parts.append(_unchecked_status(part, mapping, "statut_diffusion_ul", source, notes))
        notes.extend(_rejected_note(con, source, ignore_errors=ignore_errors))
    units = pd.concat(parts, ignore_index=True)
    return units.drop_duplicates(subset=["siren"], keep="last")


def _finalise(raw: pd.DataFrame) -> pd.DataFrame:
    """Build the canonical columns from the raw filtered rows."""
    if raw.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SIRENE_COLUMNS}).assign(
            ess=pd.Series(dtype="boolean"),
            latitude=pd.Series(dtype="float64"),
            longitude=pd.Series(dtype="float64"),
        )
    frame = pd.DataFrame(index=raw.index)
    siret = raw["siret"].astype("string")
    frame["identifiant"] = "siret:" + siret
    frame["siret"] = siret
    frame["siren"] = raw["siren"].astype("string")
    nomenclature = raw["nomenclature"].astype("string")
    naf = raw["naf"].astype("string")
    # NAF codes from older nomenclatures (NAFRev1, NAF1993, NAP) are not comparable
    # with the NAF rév. 2 prefixes of the rules: they are left out.
    frame["naf"] = naf.where(nomenclature.isna() | (nomenclature == "NAFRev2"))
    cj = raw["categorie_juridique"].astype("string")
    frame["categorie_juridique"] = cj
    frame["nom"], noms_connus = _names(raw, cj, frame["naf"])
    frame["code_commune"] = (
        raw["commune"]
        .astype("string")
        .map(lambda c: commune_of_arrondissement(str(c)) if pd.notna(c) else c)
    )
    ess = raw["ess"].astype("string")
    frame["ess"] = ess.map({"O": True, "N": False}).astype("boolean")
    lat, lon = _lambert93_to_wgs84(raw["x"], raw["y"], frame["code_commune"])
    frame["latitude"] = lat
    frame["longitude"] = lon
    frame["date_creation"] = raw["date_creation"].astype("string")
    frame["source"] = "sirene"
    frame["societe_mission"] = raw["societe_mission"].astype("string").eq("O").astype("boolean")
    frame["denomination_legale"] = (
        raw["denomination"].astype("string").mask((cj == _INDIVIDUAL).fillna(value=False))
    )
    frame["noms_connus"] = noms_connus
    ordered = [*SIRENE_COLUMNS, *[c for c in frame.columns if c not in SIRENE_COLUMNS]]
    return frame[ordered].reset_index(drop=True)


_TRADE_NAMES = ("denomination_usuelle", "enseigne", "enseigne2", "enseigne3")
_LEGAL_NAMES = ("denomination", "denomination_usuelle1", "sigle")


def _names(raw: pd.DataFrame, cj: pd.Series, naf: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Displayed name and every known name of each establishment.

    The displayed name is the establishment's trade name (usual name, else first
    enseigne) followed by the legal unit's name in brackets when they differ
    (« COWORKING DES ECRINS (ECRINS ESPACES PARTAGES) »); ``noms_connus`` joins every
    distinct name (usual names, the three enseignes, legal name, usual name of the unit,
    sigle) with `` ; `` for the name rules. An individual entrepreneur (legal category
    1000) is never named: its names may be a natural person's.
    """
    trade = raw["denomination_usuelle"].fillna(raw["enseigne"]).astype("string")
    legal = (raw["denomination"].fillna(raw["denomination_usuelle1"]).fillna(raw["sigle"])).astype(
        "string"
    )
    name = trade.fillna(legal)
    # Only rows with both a trade and a legal name need a row-wise look (a minority).
    both = (trade.notna() & legal.notna()).to_numpy(dtype=bool)
    if both.any():
        shown = []
        for t, lg in zip(trade[both].tolist(), legal[both].tolist(), strict=True):
            ft, fl = t.casefold(), lg.casefold()
            shown.append(lg if ft in fl else t if fl in ft else f"{t} ({lg})")
        name[both] = np.array(shown, dtype=object)
    columns = [raw[c].astype("string") for c in (*_TRADE_NAMES, *_LEGAL_NAMES)]
    known = raw["denomination"].astype("string")
    several = (sum(c.notna().astype(int) for c in columns) > known.notna().astype(int)).to_numpy(
        dtype=bool
    )
    if several.any():
        known[several] = np.array(
            [
                " ; ".join(dict.fromkeys(v for v in values if isinstance(v, str)))
                for values in zip(*(c[several].tolist() for c in columns), strict=True)
            ],
            dtype=object,
        )
    naf_text = naf.fillna(_("inconnu"))
    individual = (cj == _INDIVIDUAL).fillna(value=False)
    generic = _("Entrepreneur individuel") + " (NAF " + naf_text + ")"
    name = name.mask(individual, generic)
    known = known.mask(individual, pd.NA)
    unnamed = _("Établissement sans dénomination diffusée") + " (NAF " + naf_text + ")"
    return name.fillna(unnamed), known


def _lambert93_to_wgs84(
    x_raw: pd.Series, y_raw: pd.Series, communes: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Convert Lambert-93 metres to WGS84 degrees where plausible (metropolitan France)."""
    from pyproj import Transformer  # noqa: PLC0415  (import cost only when needed)

    x = pd.to_numeric(x_raw, errors="coerce")
    y = pd.to_numeric(y_raw, errors="coerce")
    overseas = communes.astype("string").str.startswith("97").fillna(value=False)
    valid = (x.between(*_L93_X) & y.between(*_L93_Y) & ~overseas).to_numpy(dtype=bool)
    lat = np.full(len(x), np.nan)
    lon = np.full(len(x), np.nan)
    if valid.any():
        transformer = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
        lon_v, lat_v = transformer.transform(x.to_numpy()[valid], y.to_numpy()[valid])
        lon[valid] = lon_v
        lat[valid] = lat_v
    return pd.Series(lat, index=x.index), pd.Series(lon, index=x.index)
