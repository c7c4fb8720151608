"""INSEE census home–work commuting ("mobilités professionnelles"), read lazily with DuckDB.

Two official products are read:

``detail``
    The detail file ``FD_MOBPRO_YYYY.csv`` (``;``-separated, header, one row per
    sampled person in employment, weight ``IPONDI``), zipped as
    ``RP20XX_mobpro_csv.zip`` with its dictionary ``varmod_mobpro_YYYY.csv``, or, since
    RP 2021, published as ``RP20XX_mobpro.parquet`` with the same columns.  About
    8 million rows nationally (0.8 GB as CSV).  Layout (INSEE, "Mobilités
    professionnelles des individus : déplacements commune de résidence / commune de
    travail", fichier détail): ``COMMUNE`` (commune of residence; Paris, Lyon and
    Marseille as ``75056``/``69123``/``13055``), ``ARM`` (their arrondissement, ``ZZZZZ``
    otherwise), ``DCFLT`` (place of work abroad), ``DCLT`` (commune of work, arrondissement
    for Paris, Lyon, Marseille; ``99999`` or a ``99xxx`` country code when abroad),
    ``AGEREVQ`` (five-year age band, ``015`` … ``065``), ``CS1``, ``EMPL``, ``ILT``,
    ``NA17``, ``SEXE``, ``TRANS`` … ``Z``/``ZZ``/``ZZZZZ`` mean "not applicable".
``flux``
    The commune-pair flow file ``base-flux-mobilite-domicile-lieu-travail-YYYY.csv``
    (``CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C22_ACTOCC15P``; the count column carries the
    vintage), zipped or not; older vintages were published as ``.xlsx`` workbooks with
    title rows above the header (for 2019, sheet ``Flux_sup_100``, header on row 6),
    which are read too.  Codes are at arrondissement level for Paris, Lyon, Marseille.

Whatever the input, :func:`open_mobpro` registers a DuckDB *view* with canonical
columns, so that later code aggregates with ``GROUP BY`` without loading the file into
pandas.  CSV and XLSX inputs are normalised once into a Parquet cache keyed by the
file's SHA-256 (the second run only opens the cache); Parquet inputs are viewed in
place.  Canonical columns:

``residence`` VARCHAR
    Commune of residence, 5 characters; arrondissements mapped to their commune.
``workplace`` VARCHAR
    Commune of work, arrondissements mapped; NULL when abroad or unknown.
``workplace_abroad`` BOOLEAN
    True when the place of work is outside France (``DCLT`` starting with ``99``, or
    ``ILT = 7``).
``cs1``, ``empl``, ``na17``, ``sexe``, ``trans``, ``ilt`` VARCHAR
    INSEE codes as published (NULL for ``Z``/``ZZ``).  A file without ``CS1`` but with
    the PCS 2020 group ``GS`` gives ``cs1`` from ``GS`` (same six group codes).
``agerevq`` INTEGER
    Lower bound of the five-year age band (15, 20, … 65), NULL when not applicable.
``weight`` DOUBLE
    ``IPONDI`` (detail) or the ``NBFLUX_…`` count (flux); a decimal comma is accepted.

The flow file has no attribute: ``cs1`` … ``ilt`` are absent from its view and listed
in :attr:`Mobpro.missing`.  Note: ``TRANS`` follows the 2017+ nomenclature (1 none,
2 walking, 3 cycling, 4 powered two-wheeler, 5 car, 6 public transport) in recent
vintages; older vintages used five codes.
"""

from __future__ import annotations

import csv
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import pandas as pd

from tierslieux.errors import Problems, SchemaError, SourceError
from tierslieux.files import atomic_path
from tierslieux.i18n import gettext as _
from tierslieux.model.census_codes import MOBPRO_CODES
from tierslieux.model.codes import ARRONDISSEMENT_PARENTS
from tierslieux.model.types import Provenance
from tierslieux.sources._files import (
    cached_sha256,
    check_unique_columns,
    detect_encoding,
    extract_zip_member,
    find_optional_column,
    read_csv_strings,
    read_header,
    require_file,
    zip_member_names,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "DETAIL_COLUMNS",
    "FLUX_COLUMNS",
    "Mobpro",
    "is_synthetic_name",
    "open_mobpro",
    "synthetic_sidecar",
]

#: Canonical columns of a detail view, in order.
DETAIL_COLUMNS: tuple[str, ...] = (
    "residence",
    "workplace",
    "workplace_abroad",
    "cs1",
    "empl",
    "na17",
    "sexe",
    "agerevq",
    "trans",
    "ilt",
    "weight",
)
#: Canonical columns of a flux view, in order.
FLUX_COLUMNS: tuple[str, ...] = ("residence", "workplace", "workplace_abroad", "weight")
#: Canonical attribute -> official column names that can give it (first found wins).
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "cs1": ("CS1", "GS"),
    "empl": ("EMPL",),
    "na17": ("NA17",),
    "sexe": ("SEXE",),
    "agerevq": ("AGEREVQ",),
    "trans": ("TRANS",),
    "ilt": ("ILT",),
}
#: Canonical attribute columns (absent from a flux view).
ATTRIBUTE_COLUMNS: tuple[str, ...] = tuple(_ATTRIBUTES)
_DETAIL_REQUIRED = ("COMMUNE", "DCLT", "IPONDI")
# Longest cell value quoted in a message (a bad cell can be a megabyte of digits).
_MAX_SHOWN_CHARS = 40
# Examples of bad values quoted in a message.
_EXAMPLES = 5
# INSEE commune code, after padding and arrondissement mapping (Corsica: 2A, 2B).
_CODE_PATTERN = "[0-9]{5}|2[AB][0-9]{3}"
# AGEREVQ: lower bound of a five-year age band; a value outside 0..120 is not an age.
_MAX_AGE = 120
_AGE_MARKER = "tierslieux-agerevq-invalide:"
_FLUX_REQUIRED = ("CODGEO", "DCLT")
_ROLE = "MOBPRO"
_CACHE_VERSION = "2"  # 2: codes and dictionaries checked
_VIEW_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLUX_COUNT = re.compile(r"^NBFLUX_C(\d{2})_", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_LINE = re.compile(r"[Ll]ine:?\s*(\d+)")
_NOT_APPLICABLE = "('Z', 'ZZ', 'ZZZ', 'ZZZZ', 'ZZZZZ')"
_DATA_SUFFIXES = (".csv", ".txt", ".parquet", ".xlsx")
_XLSX_HEADER_SCAN = 30  # title rows above the header in INSEE workbooks: a handful


@dataclass(frozen=True)
class Mobpro:
    """A MOBPRO file registered as a DuckDB view with canonical columns.

    Attributes
    ----------
    kind
        ``"detail"`` (FD_MOBPRO, one row per weighted person) or ``"flux"``
        (commune-pair counts).
    view
        Name of the view registered on the connection given to :func:`open_mobpro`.
    vintage
        Census vintage (``"RP2021"``), from the count column of a flow file or the
        file name; ``None`` when unknown.
    provenance
        Role ``"mobpro"``; ``synthetic`` is true when ``<file>.synthetic.json`` exists.
    labels
        Variable -> code -> label, from ``varmod_mobpro_YYYY.csv`` found beside the file
        or in the archive (and, for a flow file, commune names from ``LIBGEO`` and
        ``L_DCLT`` under ``"CODGEO"`` and ``"DCLT"``).
    missing
        Canonical attribute columns the file cannot give (all of them for ``"flux"``).
    """

    kind: Literal["detail", "flux"]
    view: str
    vintage: str | None
    provenance: Provenance
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Canonical columns present in the view."""
        if self.kind == "flux":
            return FLUX_COLUMNS
        return tuple(c for c in DETAIL_COLUMNS if c not in self.missing)


@dataclass(frozen=True)
class _Raw:
    """The data file actually scanned, before normalisation."""

    path: Path  # file scanned (extracted member, converted workbook...)
    original: Path  # file the user gave
    fmt: Literal["csv", "parquet"]
    columns: tuple[str, ...]
    types: dict[str, str]  # column -> DuckDB type (VARCHAR for CSV)
    encoding: str  # DuckDB encoding name for CSV
    name: str  # file name that carries the vintage
    varmod: Path | None
    row_column: str | None = None  # column holding the source line (converted workbooks)


def synthetic_sidecar(path: Path) -> Path:
    """Return the path of the sidecar that marks ``path`` as synthetic."""
    return path.with_name(path.name + ".synthetic.json")


def is_synthetic_name(path: Path) -> bool:
    """Whether the file name says the census is synthetic ("synth" in it, any case).

    ``tierslieux synth mobpro`` always writes such a name, so that a synthetic file
    keeps its mark when its sidecar stays behind (a file uploaded alone through the web
    application, an e-mail attachment): the mark errs on the side of caution.
    """
    return "synth" in path.name.lower()


def open_mobpro(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    cache_dir: Path,
    view: str = "mobpro",
) -> Mobpro:
    """Register a MOBPRO detail or flow file as a DuckDB view with canonical columns.

    Parameters
    ----------
    path
        ``FD_MOBPRO_YYYY.csv``, ``RP20XX_mobpro.parquet``, ``RP20XX_mobpro_csv.zip``,
        ``base-flux-mobilite-domicile-lieu-travail-YYYY.csv`` (or its ``.zip``/``.xlsx``).
    con
        DuckDB connection on which the view is created (replaced if it exists).
    cache_dir
        Folder for extracted archives and the normalised Parquet cache.
    view
        Name of the view (an SQL identifier).

    Returns
    -------
    Mobpro
        Kind, view name, vintage, provenance, labels and missing attributes.

    Raises
    ------
    SourceError
        File missing or empty, archive truncated or empty, Parquet unreadable.
    SchemaError
        Wrong separator, missing required columns (``COMMUNE``, ``DCLT``, ``IPONDI``
        for a detail file; ``CODGEO``, ``DCLT``, ``NBFLUX_…`` for a flow file), no
        attribute at all in a detail file, malformed line, non-numeric weight (with
        its line number).
    """
    if not _VIEW_NAME.match(view):
        raise ValueError(_("Nom de vue invalide : {view} (attendu un identifiant SQL).", view=view))
    require_file(path, _ROLE)
    work_dir = cache_dir / "mobpro"
    digest = cached_sha256(path, cache_dir)
    raw = _locate(path, work_dir=work_dir, digest=digest, con=con)
    kind, mapping, count_column = _resolve_columns(raw)
    missing: tuple[str, ...]
    if kind == "flux":
        missing = ATTRIBUTE_COLUMNS
    else:
        missing = tuple(key for key in ATTRIBUTE_COLUMNS if mapping.get(key) is None)
    select = _canonical_select(raw, kind, mapping)
    labels = _read_varmod(raw.varmod) if raw.varmod is not None else {}
    allowed = _allowed_codes(mapping, labels) if kind == "detail" else {}
    extra_labels: dict[str, dict[str, str]] = {}
    if raw.fmt == "csv" or raw.row_column is not None:
        cache = work_dir / f"{kind}_{digest[:24]}_v{_CACHE_VERSION}.parquet"
        labels_cache = cache.with_name(cache.stem + "_libelles.parquet")
        if not cache.is_file():
            _materialise(con, raw, select, mapping, cache, allowed)
            if kind == "flux":
                _materialise_flux_labels(con, raw, labels_cache)
        source_sql = f"SELECT * FROM read_parquet({_lit(cache)})"
        if kind == "flux" and labels_cache.is_file():
            extra_labels = _read_label_table(con, labels_cache)
    else:
        _check_rows(con, raw, select, mapping, allowed)
        source_sql = select
        if kind == "flux":
            extra_labels = _flux_labels_in_place(con, raw)
    con.execute(f"CREATE OR REPLACE VIEW {view} AS {source_sql}")

    for variable, codes in extra_labels.items():
        labels.setdefault(variable, {}).update(codes)
    vintage = _vintage(raw.name, count_column)
    provenance = _provenance(path, digest, vintage, mapping, missing if kind == "detail" else ())
    return Mobpro(
        kind=kind,
        view=view,
        vintage=vintage,
        provenance=provenance,
        labels=labels,
        missing=missing,
    )


# --- locating the data file ------------------------------------------------------------


def _locate(path: Path, *, work_dir: Path, digest: str, con: duckdb.DuckDBPyConnection) -> _Raw:
    suffix = path.suffix.lower()
    varmod: Path | None = None
    name = path.name
    if suffix == ".zip":
        members = zip_member_names(path, role=_ROLE)
        data_members = [
            m
            for m in members
            if m.lower().endswith(_DATA_SUFFIXES) and not _is_varmod(Path(m).name)
        ]
        dest = work_dir / f"{path.stem}.{digest[:16]}"
        chosen = _preferred_member(data_members)
        # With no data member, extract_zip_member raises the "no file" error we want.
        data = extract_zip_member(path, _DATA_SUFFIXES, dest=dest, role=_ROLE, prefer=chosen)
        name = data.name
        varmods = [m for m in members if _is_varmod(Path(m).name)]
        if varmods:
            varmod = extract_zip_member(
                path, (".csv",), dest=dest, role=_ROLE, prefer=Path(varmods[0]).name
            )
        require_file(data, _ROLE)
    else:
        data = path
    if varmod is None:
        varmod = _varmod_beside(path)
    data_suffix = data.suffix.lower()
    if data_suffix == ".parquet":
        return _parquet_raw(data, path, name, varmod, con)
    if data_suffix == ".xlsx":
        converted = _xlsx_to_parquet(
            data, path, work_dir / f"{data.stem}.{digest[:16]}.parquet", con
        )
        raw = _parquet_raw(converted, path, name, varmod, con)
        return _Raw(
            raw.path,
            raw.original,
            raw.fmt,
            tuple(c for c in raw.columns if c != "__ligne"),
            raw.types,
            raw.encoding,
            name,
            varmod,
            row_column="__ligne",
        )
    return _csv_raw(data, path, name, varmod)


def _is_varmod(name: str) -> bool:
    return name.lower().startswith(("varmod", "mod_"))


def _preferred_member(names: Sequence[str]) -> str | None:
    for marker in ("fd_mobpro", "base-flux", "mobpro", "flux"):
        for name in names:
            if marker in Path(name).name.lower():
                return Path(name).name
    return Path(names[0]).name if names else None


def _varmod_beside(path: Path) -> Path | None:
    candidates = sorted(
        p
        for p in path.parent.glob("*")
        if p.is_file() and p.suffix.lower() == ".csv" and p.name.lower().startswith("varmod_mobpro")
    )
    if not candidates:
        return None
    year = _YEAR.search(path.name)
    if year is None:
        return candidates[0] if len(candidates) == 1 else None
    # A dictionary of another vintage would mislabel codes: only the same year is used.
    return next((c for c in candidates if year.group(1) in c.name), None)


# Python's name of a detected encoding -> DuckDB's (Windows-1252 is read as Latin-1).
_DUCKDB_ENCODINGS = {"utf-8-sig": "utf-8", "utf-8": "utf-8", "utf-16": "utf-16"}


def _csv_raw(data: Path, original: Path, name: str, varmod: Path | None) -> _Raw:
    encoding = detect_encoding(data)
    header = read_header(data, encoding).lstrip("\ufeff")
    if ";" not in header:
        found = next((sep for sep in (",", "\t", "|") if sep in header), None)
        detail = (
            _("le séparateur trouvé est {found!r}", found=found)
            if found
            else _("aucun séparateur trouvé")
        )
        raise SchemaError(
            _(
                "{path}, ligne 1 : séparateur attendu ';' ({detail}). Les fichiers MOBPRO "
                "de l'Insee sont séparés par des points-virgules : ce fichier a-t-il été "
                "réenregistré par un tableur ?",
                path=original if original == data else f"{original} ({data.name})",
                detail=detail,
            )
        )
    try:
        cells = next(csv.reader([header], delimiter=";", quotechar='"'))
    except csv.Error as error:  # a header cell longer than the csv module's limit
        raise SchemaError(
            _(
                "{path}, ligne {line} : ligne illisible ({error}) ; un champ de plus "
                "de {limit} caractères ou un guillemet non fermé ?",
                path=original,
                line=1,
                error=error,
                limit=csv.field_size_limit(),
            )
        ) from error
    columns = tuple(c.strip() for c in cells)
    check_unique_columns(columns, path=original)
    empty = [i + 1 for i, c in enumerate(columns) if not c]
    if empty:
        raise SchemaError(
            _(
                "{path}, ligne 1 : en-tête sans nom de colonne en position {positions}.",
                path=original,
                positions=", ".join(str(i) for i in empty),
            )
        )
    return _Raw(
        path=data,
        original=original,
        fmt="csv",
        columns=columns,
        types=dict.fromkeys(columns, "VARCHAR"),
        encoding=_DUCKDB_ENCODINGS.get(encoding, "latin-1"),
        name=name,
        varmod=varmod,
    )


def _parquet_raw(
    data: Path, original: Path, name: str, varmod: Path | None, con: duckdb.DuckDBPyConnection
) -> _Raw:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(data)})").fetchall()
    except duckdb.Error as error:
        raise SourceError(
            _(
                "{path} : fichier Parquet illisible ({error}). Téléchargez-le de nouveau.",
                path=original,
                error=str(error).splitlines()[0],
            )
        ) from error
    types = {str(r[0]): str(r[1]) for r in rows}
    return _Raw(
        path=data,
        original=original,
        fmt="parquet",
        columns=tuple(types),
        types=types,
        encoding="utf-8",
        name=name,
        varmod=varmod,
    )


def _xlsx_to_parquet(
    data: Path, original: Path, target: Path, con: duckdb.DuckDBPyConnection
) -> Path:
    """Convert the flow workbook (title rows, one or several sheets) to a text Parquet."""
    if target.is_file():
        return target
    import openpyxl  # type: ignore[import-untyped]  # noqa: PLC0415  (rare workbook input)

    try:
        workbook = openpyxl.load_workbook(data, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise SourceError(
            _("{path} : classeur Excel illisible ({error}).", path=original, error=error)
        ) from error
    header: list[str] | None = None
    columns: dict[str, list[str | None]] = {}
    lines: list[int] = []
    try:
        for sheet in workbook.worksheets:
            for sheet_header, index, row in _sheet_rows(sheet):
                if header is None:
                    header = sheet_header
                    columns = {c: [] for c in header if c}
                values = dict(zip(sheet_header, row, strict=False))
                for column, store in columns.items():
                    value = values.get(column)
                    store.append(None if value is None else _cell_text(value))
                lines.append(index)
    finally:
        workbook.close()
    if header is None:
        raise SchemaError(
            _(
                "{path} : aucune feuille ne contient d'en-tête CODGEO ou COMMUNE dans ses "
                "{rows} premières lignes ; un classeur de flux Insee était attendu.",
                path=original,
                rows=_XLSX_HEADER_SCAN,
            )
        )
    frame = pd.DataFrame({c: pd.Series(v, dtype="string") for c, v in columns.items()})
    frame["__ligne"] = pd.Series(lines, dtype="int64")
    con.register("tl_mobpro_xlsx", frame)
    try:
        with atomic_path(target) as partial:
            con.execute(f"COPY (SELECT * FROM tl_mobpro_xlsx) TO {_lit(partial)} (FORMAT parquet)")
    finally:
        con.unregister("tl_mobpro_xlsx")
    return target


def _sheet_rows(sheet: object) -> Iterator[tuple[list[str], int, tuple[object, ...]]]:
    """Yield (header, Excel row number, values) for the data rows below a sheet's header."""
    header: list[str] | None = None
    rows = sheet.iter_rows(values_only=True)  # type: ignore[attr-defined]
    for index, row in enumerate(rows, start=1):
        if header is None:
            cells = [str(v).strip() if v is not None else "" for v in row]
            if "CODGEO" in cells or "COMMUNE" in cells:
                header = cells
            elif index > _XLSX_HEADER_SCAN:
                return
            continue
        if any(v is not None for v in row):
            yield header, index, tuple(row)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- columns and SQL ---------------------------------------------------------------------


def _resolve_columns(
    raw: _Raw,
) -> tuple[Literal["detail", "flux"], dict[str, str | None], str | None]:
    columns = raw.columns
    count = next((c for c in columns if _FLUX_COUNT.match(c)), None)
    if count is not None or find_optional_column(columns, ["CODGEO"]) is not None:
        missing = [c for c in _FLUX_REQUIRED if find_optional_column(columns, [c]) is None]
        if count is None:
            missing.append("NBFLUX_Cxx_ACTOCC15P")
        _raise_missing(raw, missing, _("de flux domicile-travail"))
        mapping: dict[str, str | None] = {
            "residence": find_optional_column(columns, ["CODGEO"]),
            "workplace": find_optional_column(columns, ["DCLT"]),
            "weight": count,
        }
        return "flux", mapping, count
    missing = [c for c in _DETAIL_REQUIRED if find_optional_column(columns, [c]) is None]
    _raise_missing(raw, missing, _("détail MOBPRO"))
    mapping = {
        "residence": find_optional_column(columns, ["COMMUNE"]),
        "workplace": find_optional_column(columns, ["DCLT"]),
        "weight": find_optional_column(columns, ["IPONDI"]),
    }
    for key, aliases in _ATTRIBUTES.items():
        mapping[key] = find_optional_column(columns, aliases)
    if all(mapping[key] is None for key in _ATTRIBUTES):
        raise SchemaError(
            _(
                "{path} : aucune des colonnes {expected} ; ce n'est ni un fichier détail "
                "MOBPRO complet ni un fichier de flux (colonnes présentes : {columns}).",
                path=raw.original,
                expected=", ".join(a[0] for a in _ATTRIBUTES.values()),
                columns=", ".join(columns[:20]),
            )
        )
    return "detail", mapping, None


def _raise_missing(raw: _Raw, missing: list[str], what: str) -> None:
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} introuvable(s) ; un fichier {what} au format "
                "Insee était attendu (colonnes présentes : {columns}).",
                path=raw.original,
                missing=", ".join(missing),
                what=what,
                columns=", ".join(raw.columns[:20]) + (" …" if len(raw.columns) > 20 else ""),
            )
        )


def _lit(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text_sql(raw: _Raw, column: str) -> str:
    """Trimmed text of a column, NULL when empty or not applicable (``Z``, ``ZZZZZ``)."""
    dtype = raw.types.get(column, "VARCHAR").upper()
    ref = _ident(column)
    if dtype in {"DOUBLE", "FLOAT", "REAL"}:
        ref = f"CAST(CAST({ref} AS BIGINT) AS VARCHAR)"
    elif dtype != "VARCHAR":
        ref = f"CAST({ref} AS VARCHAR)"
    value = f"NULLIF(TRIM({ref}), '')"
    return f"CASE WHEN {value} IN {_NOT_APPLICABLE} THEN NULL ELSE {value} END"


def _pad_sql(expression: str) -> str:
    """Pad numeric codes that lost their leading zero (``5061`` -> ``05061``)."""
    return (
        f"CASE WHEN length({expression}) < 5 AND regexp_full_match({expression}, '[0-9]+') "
        f"THEN lpad({expression}, 5, '0') ELSE upper({expression}) END"
    )


def _commune_sql(column: str) -> str:
    """Map Paris, Lyon, Marseille arrondissements of a 5-character code column to communes."""
    cases = " ".join(
        f"WHEN {column} BETWEEN '{first}' AND '{last}' THEN '{parent}'"
        for first, last, parent in ARRONDISSEMENT_PARENTS
    )
    return f"CASE {cases} ELSE {column} END"


def _canonical_select(raw: _Raw, kind: str, mapping: dict[str, str | None]) -> str:
    """SQL turning the raw columns into canonical ones (three nested, one-pass levels)."""
    keys = [k for k in ATTRIBUTE_COLUMNS if kind == "detail" and mapping.get(k) is not None]
    texts = [
        f"{_text_sql(raw, str(mapping['residence']))} AS r_txt",
        f"{_text_sql(raw, str(mapping['workplace']))} AS w_txt",
        (
            f"TRY_CAST(REPLACE(TRIM(CAST({_ident(str(mapping['weight']))} AS VARCHAR)), ',', '.') "
            "AS DOUBLE) AS weight"
        ),
    ]
    for key in keys:
        column = str(mapping[key])
        if key == "agerevq":
            text = _text_sql(raw, column)
            age = f"TRY_CAST({text} AS INTEGER)"
            # A value that is not an age refuses the read (see _run), instead of a NULL.
            texts.append(
                f"CASE WHEN {text} IS NOT NULL AND (NOT regexp_full_match({text}, "
                f"'[0-9]{{1,3}}') OR {age} > {_MAX_AGE}) THEN error({_lit(_AGE_MARKER)} || "
                f"{text}) ELSE {age} END AS agerevq"
            )
        else:
            texts.append(f"{_text_sql(raw, column)} AS {key}")
    padded = [
        f"{_pad_sql('r_txt')} AS r_code",
        f"{_pad_sql('w_txt')} AS w_code",
        *keys,
        "weight",
    ]
    abroad = "coalesce(starts_with(w_code, '99'), false)"
    if "ilt" in keys:
        abroad = f"({abroad} OR coalesce(ilt = '7', false))"
    outer = [
        f"{_commune_sql('r_code')} AS residence",
        f"CASE WHEN {abroad} THEN NULL ELSE {_commune_sql('w_code')} END AS workplace",
        f"{abroad} AS workplace_abroad",
        *keys,
        "weight",
    ]
    return (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(padded)} FROM "
        f"(SELECT {', '.join(texts)} FROM {_scan(raw)}))"
    )


def _scan(raw: _Raw) -> str:
    if raw.fmt == "parquet":
        return f"read_parquet({_lit(raw.path)})"
    struct = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in raw.columns) + "}"
    return (
        f"read_csv({_lit(raw.path)}, header=true, delim=';', quote='\"', escape='\"', "
        f"all_varchar=true, auto_detect=false, columns={struct}, "
        f"encoding={_lit(raw.encoding)})"
    )


# --- validation and cache ------------------------------------------------------------------


def _run(con: duckdb.DuckDBPyConnection, sql: str, raw: _Raw) -> list[tuple[object, ...]]:
    """Run ``sql`` and turn DuckDB read errors into SchemaError naming file and line."""
    try:
        return con.execute(sql).fetchall()
    except (duckdb.InvalidInputException, duckdb.ConversionException) as error:
        text = str(error)
        if _AGE_MARKER in text:
            _raise_bad_age(raw, con, text.split(_AGE_MARKER, 1)[1].splitlines()[0])
        match = _LINE.search(text)
        detail = text.splitlines()[0] if text else type(error).__name__
        if match:
            raise SchemaError(
                _(
                    "{path}, ligne {line} : ligne mal formée ({detail}). Un fichier "
                    "séparé par ';' avec {count} colonnes était attendu.",
                    path=raw.original,
                    line=match.group(1),
                    detail=detail,
                    count=len(raw.columns),
                )
            ) from error
        raise SchemaError(
            _("{path} : lecture impossible ({detail}).", path=raw.original, detail=detail)
        ) from error
    except duckdb.IOException as error:
        raise SourceError(
            _(
                "{path} : lecture impossible ({detail}).",
                path=raw.original,
                detail=str(error).splitlines()[0],
            )
        ) from error


def _raise_bad_age(raw: _Raw, con: duckdb.DuckDBPyConnection, value: str) -> None:
    """Refuse an ``AGEREVQ`` value that is not an age band, naming its first line."""
    column = find_optional_column(raw.columns, ["AGEREVQ"]) or "AGEREVQ"
    line = next(
        (
            n
            for n, cells in _rows_with_lines(raw, (column, column), con)
            if (cells[0] or "").strip() == value.strip()
        ),
        None,
    )
    raise SchemaError(
        _(
            "{path}, ligne {line}, colonne {column} : valeur « {value} » invalide (attendu "
            "l'âge révolu quinquennal de l'Insee, 015 à 065..., ou Z, non applicable).",
            path=raw.original,
            line=line if line is not None else "?",
            column=column,
            value=_shown(value.strip()),
        )
    )


def _materialise(
    con: duckdb.DuckDBPyConnection,
    raw: _Raw,
    select: str,
    mapping: dict[str, str | None],
    cache: Path,
    allowed: dict[str, frozenset[str]],
) -> None:
    """Write the canonical rows once to ``cache`` (one scan of the source), then check them."""
    with atomic_path(cache) as partial:
        _run(con, f"COPY ({select}) TO {_lit(partial)} (FORMAT parquet)", raw)
        _check_rows(con, raw, f"SELECT * FROM read_parquet({_lit(partial)})", mapping, allowed)


def _allowed_codes(
    mapping: dict[str, str | None], labels: dict[str, dict[str, str]]
) -> dict[str, frozenset[str]]:
    """Codes accepted per attribute: the INSEE dictionary, plus the file's own ``varmod``."""
    allowed: dict[str, frozenset[str]] = {}
    for key, codes in MOBPRO_CODES.items():
        column = mapping.get(key)
        if column is None:
            continue
        own = labels.get(column.upper(), {})
        allowed[key] = codes | frozenset(own)
    return allowed


def _check_rows(
    con: duckdb.DuckDBPyConnection,
    raw: _Raw,
    rows_sql: str,
    mapping: dict[str, str | None],
    allowed: dict[str, frozenset[str]] | None = None,
) -> None:
    """One scan of the canonical rows: at least one row, weights, codes and attributes valid.

    Residence and workplace must be INSEE commune codes (5 characters: digits, or 2A/2B
    and 3 digits); coded attributes must be in :data:`MOBPRO_CODES` (or the file's own
    dictionary).  Every kind of problem is gathered before raising.
    """
    allowed = allowed or {}
    attribute_filters = "".join(
        f", count(*) FILTER (WHERE {key} IS NOT NULL AND {key} NOT IN "
        f"({', '.join(_lit(c) for c in sorted(codes))}))"
        for key, codes in allowed.items()
    )
    # Reading agerevq evaluates its check (a view's unused columns are not computed).
    age_filter = ", count(agerevq)" if mapping.get("agerevq") is not None else ""
    counts = _run(
        con,
        "SELECT count(*) FILTER (WHERE weight IS NULL OR NOT isfinite(weight) OR weight < 0), "
        f"count(*) FILTER (WHERE residence IS NULL), count(*), "
        f"count(*) FILTER (WHERE NOT regexp_full_match(residence, {_lit(_CODE_PATTERN)})), "
        f"count(*) FILTER (WHERE NOT regexp_full_match(workplace, {_lit(_CODE_PATTERN)}))"
        f"{attribute_filters}{age_filter} FROM ({rows_sql})",
        raw,
    )[0]
    numbers = [int(str(value)) for value in counts]
    if numbers[2] == 0:
        raise SchemaError(_("{path} : aucune ligne de données après l'en-tête.", path=raw.original))
    if numbers[0] or numbers[1]:
        _raise_bad_row(raw, mapping, con=con)
    found = Problems()
    if numbers[3] or numbers[4]:
        _code_problems(raw, mapping, con, found)
    bad_keys = [
        key for key, count in zip(allowed, numbers[5 : 5 + len(allowed)], strict=True) if count
    ]
    for key in bad_keys:
        _attribute_problem(con, raw, rows_sql, str(mapping[key]), key, allowed[key], found)
    found.raise_if_any()


def _shown(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN_CHARS else text[:_MAX_SHOWN_CHARS] + "…"


def _code_shape_ok(text: str, *, workplace: bool) -> bool:
    """Mirror of the SQL checks on one raw code cell (empty and ``Z…`` are "not applicable")."""
    code = text.strip()
    if not code or set(code) == {"Z"}:
        return True  # empty residences are reported by _raise_bad_row
    if code.isdigit() and len(code) < 5:
        code = code.zfill(5)
    code = code.upper()
    if workplace and code.startswith("99"):
        return True  # abroad
    return bool(re.fullmatch(_CODE_PATTERN, code))


def _code_problems(
    raw: _Raw, mapping: dict[str, str | None], con: duckdb.DuckDBPyConnection, found: Problems
) -> None:
    """Record malformed residence / workplace codes with their count and first lines."""
    residence = str(mapping["residence"])
    workplace = str(mapping["workplace"])
    bad: dict[str, list[tuple[int, str]]] = {residence: [], workplace: []}
    counts = dict.fromkeys(bad, 0)
    for line, values in _rows_with_lines(raw, (residence, workplace), con):
        for column, value, is_work in ((residence, values[0], False), (workplace, values[1], True)):
            if not _code_shape_ok(value or "", workplace=is_work):
                counts[column] += 1
                if len(bad[column]) < _EXAMPLES:
                    bad[column].append((line, (value or "").strip()))
    for column, examples in bad.items():
        if counts[column]:
            found.add(
                "{path}, colonne {column} : {count} ligne(s) avec un code commune mal formé "
                "(attendu un code Insee à 5 caractères : chiffres, ou 2A/2B suivi de 3 "
                "chiffres{abroad}) ; premières : {examples}.",
                path=str(raw.original),
                column=column,
                count=counts[column],
                abroad=_(", ou 99… à l'étranger") if column == workplace else "",
                examples=", ".join(
                    _("ligne {line} « {value} »", line=n, value=_shown(v)) for n, v in examples
                ),
            )


def _attribute_problem(
    con: duckdb.DuckDBPyConnection,
    raw: _Raw,
    rows_sql: str,
    column: str,
    key: str,
    codes: frozenset[str],
    found: Problems,
) -> None:
    """Record the values of ``key`` outside the dictionary, counted, with a first line."""
    listed = ", ".join(_lit(c) for c in sorted(codes))
    rows = _run(
        con,
        f"SELECT {key}, count(*) FROM ({rows_sql}) WHERE {key} IS NOT NULL AND {key} NOT IN "
        f"({listed}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {_EXAMPLES}",
        raw,
    )
    total = _run(
        con,
        f"SELECT count(*), count(DISTINCT {key}) FROM ({rows_sql}) "
        f"WHERE {key} IS NOT NULL AND {key} NOT IN ({listed})",
        raw,
    )[0]
    first = next(iter(rows))[0] if rows else ""
    line = next(
        (
            n
            for n, values in _rows_with_lines(raw, (column, column), con)
            if (values[0] or "").strip().upper() == str(first).upper()
            or (values[0] or "").strip() == str(first)
        ),
        None,
    )
    found.add(
        "{path}, colonne {column} : {count} ligne(s) avec une valeur hors du dictionnaire "
        "Insee ({distinct} valeur(s) inconnue(s) : {values}) ; première à la ligne {line} ; "
        "valeurs attendues : {expected} (ou Z, non applicable).",
        path=str(raw.original),
        column=column,
        count=int(str(total[0])),
        distinct=int(str(total[1])),
        values=", ".join(f"« {_shown(str(v))} » ({int(str(n))})" for v, n in rows),
        line=line if line is not None else "?",
        expected=", ".join(sorted(codes)),
    )


def _raise_bad_row(
    raw: _Raw, mapping: dict[str, str | None], *, con: duckdb.DuckDBPyConnection
) -> None:
    """Find the first row with a bad weight or residence and raise SchemaError for it.

    Only reached on error, so the cost of a second pass does not matter.
    """
    weight = str(mapping["weight"])
    residence = str(mapping["residence"])
    for line, values in _rows_with_lines(raw, (weight, residence), con):
        weight_value, residence_value = values
        text = (weight_value or "").strip()
        if not _is_valid_weight(text):
            raise SchemaError(
                _(
                    "{path}, ligne {line}, colonne {column} : valeur {value!r} invalide "
                    "(attendu un poids décimal fini et positif ou nul, par exemple 2.57).",
                    path=raw.original,
                    line=line,
                    column=weight,
                    value=_shown(text),
                )
            )
        code = (residence_value or "").strip()
        if not code or set(code) == {"Z"}:
            raise SchemaError(
                _(
                    "{path}, ligne {line}, colonne {column} : code commune vide "
                    "(attendu un code Insee à 5 caractères).",
                    path=raw.original,
                    line=line,
                    column=residence,
                )
            )
    raise SchemaError(_("{path} : valeurs invalides.", path=raw.original))  # pragma: no cover


def _is_valid_weight(text: str) -> bool:
    """Tell whether ``text`` is a finite, non-negative decimal weight (as DuckDB reads it)."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return False
    return bool(text) and math.isfinite(value) and value >= 0


def _rows_with_lines(
    raw: _Raw, columns: tuple[str, str], con: duckdb.DuckDBPyConnection
) -> Iterator[tuple[int, tuple[str | None, str | None]]]:
    """Yield (line or record number, values) of ``columns`` in file order."""
    if raw.fmt == "csv":
        encoding = {"utf-8": "utf-8-sig", "utf-16": "utf-16"}.get(raw.encoding, "cp1252")
        index = [raw.columns.index(c) for c in columns]
        with raw.path.open(encoding=encoding, errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=";", quotechar='"')
            try:
                next(reader, None)
                for row in reader:
                    values = tuple(row[i] if i < len(row) else None for i in index)
                    yield reader.line_num, (values[0], values[1])
            except csv.Error as error:
                raise SchemaError(
                    _(
                        "{path}, ligne {line} : ligne illisible ({error}) ; un champ de plus "
                        "de {limit} caractères ou un guillemet non fermé ?",
                        path=raw.original,
                        line=reader.line_num,
                        error=error,
                        limit=csv.field_size_limit(),
                    )
                ) from error
        return
    selected = ", ".join(f"CAST({_ident(c)} AS VARCHAR)" for c in columns)
    if raw.row_column is not None:
        sql = (
            f"SELECT {_ident(raw.row_column)}, {selected} FROM read_parquet({_lit(raw.path)}) "
            f"ORDER BY 1"
        )
    else:
        sql = (
            f"SELECT file_row_number + 1, {selected} FROM "
            f"read_parquet({_lit(raw.path)}, file_row_number=true) ORDER BY 1"
        )
    for record in con.execute(sql).fetchall():
        yield int(record[0]), (record[1], record[2])


# --- labels ------------------------------------------------------------------------------


def _materialise_flux_labels(con: duckdb.DuckDBPyConnection, raw: _Raw, target: Path) -> None:
    sql = _flux_labels_sql(raw)
    if sql is None:
        return
    with atomic_path(target) as partial:
        _run(con, f"COPY ({sql}) TO {_lit(partial)} (FORMAT parquet)", raw)


def _flux_labels_sql(raw: _Raw) -> str | None:
    pairs = [
        (
            "CODGEO",
            find_optional_column(raw.columns, ["CODGEO"]),
            find_optional_column(raw.columns, ["LIBGEO"]),
        ),
        (
            "DCLT",
            find_optional_column(raw.columns, ["DCLT"]),
            find_optional_column(raw.columns, ["L_DCLT"]),
        ),
    ]
    selects = [
        f"SELECT DISTINCT '{variable}' AS variable, TRIM(CAST({_ident(code)} AS VARCHAR)) AS code, "
        f"TRIM(CAST({_ident(label)} AS VARCHAR)) AS label FROM {_scan(raw)}"
        for variable, code, label in pairs
        if code is not None and label is not None
    ]
    return " UNION ALL ".join(selects) if selects else None


def _flux_labels_in_place(con: duckdb.DuckDBPyConnection, raw: _Raw) -> dict[str, dict[str, str]]:
    sql = _flux_labels_sql(raw)
    return _label_rows(_run(con, sql, raw)) if sql is not None else {}


def _read_label_table(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, dict[str, str]]:
    rows = con.execute(f"SELECT variable, code, label FROM read_parquet({_lit(path)})").fetchall()
    return _label_rows(rows)


def _label_rows(rows: Sequence[tuple[object, ...]]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for variable, code, label in rows:
        if code is not None and label is not None:
            labels.setdefault(str(variable), {})[str(code)] = str(label)
    return labels


def _read_varmod(path: Path) -> dict[str, dict[str, str]]:
    """Read ``COD_VAR;LIB_VAR;COD_MOD;LIB_MOD;TYPE_VAR;LONG_VAR`` into variable -> code -> label."""
    frame = read_csv_strings(path, role="varmod MOBPRO")
    wanted = ("COD_VAR", "COD_MOD", "LIB_MOD")
    found = {name: find_optional_column(frame.columns, [name]) for name in wanted}
    absent = [name for name, column in found.items() if column is None]
    if absent:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} introuvable(s) ; un dictionnaire Insee "
                "COD_VAR;LIB_VAR;COD_MOD;LIB_MOD;TYPE_VAR;LONG_VAR était attendu.",
                path=path,
                missing=", ".join(absent),
            )
        )
    labels: dict[str, dict[str, str]] = {}
    variables = frame[str(found["COD_VAR"])].tolist()
    codes = frame[str(found["COD_MOD"])].tolist()
    texts = frame[str(found["LIB_MOD"])].tolist()
    for variable, code, text in zip(variables, codes, texts, strict=True):
        if isinstance(variable, str) and isinstance(code, str):
            labels.setdefault(variable.strip(), {})[code.strip()] = (
                text.strip() if isinstance(text, str) else ""
            )
    return labels


# --- vintage and provenance ----------------------------------------------------------------


def _vintage(name: str, count_column: str | None) -> str | None:
    if count_column is not None:
        match = _FLUX_COUNT.match(count_column)
        if match:
            return f"RP20{match.group(1)}"
    year = _YEAR.search(name)
    return f"RP{year.group(1)}" if year else None


def _provenance(
    path: Path,
    digest: str,
    vintage: str | None,
    mapping: dict[str, str | None],
    missing: tuple[str, ...],
) -> Provenance:
    notes: list[str] = []
    if mapping.get("cs1") is not None and mapping["cs1"] != "CS1":
        notes.append(_("cs1 lu dans la colonne {column} (PCS 2020).", column=mapping["cs1"]))
    if missing:
        notes.append(_("Colonnes absentes du fichier : {columns}.", columns=", ".join(missing)))
    sidecar = synthetic_sidecar(path)
    synthetic = sidecar.is_file() or is_synthetic_name(path)
    if synthetic:
        notes.append(_synthetic_note(sidecar))
    return Provenance(
        role="mobpro",
        location=str(path),
        vintage=vintage,
        sha256=digest,
        licence=None if synthetic else "Licence Ouverte 2.0 (Insee)",
        synthetic=synthetic,
        notes=tuple(notes),
    )


def _synthetic_note(sidecar: Path) -> str:
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    seed = meta.get("seed") if isinstance(meta, dict) else None
    generator = meta.get("generator") if isinstance(meta, dict) else None
    return _(
        "Données synthétiques (générateur : {generator}, graine : {seed}) : ne pas "
        "interpréter comme des chiffres Insee.",
        generator=generator or "?",
        seed=seed if seed is not None else "?",
    )
