"""Synthetic census commuting files in the exact INSEE format, for demos and tests.

:func:`write_synthetic_mobpro` writes a file laid out as the MOBPRO detail file
``FD_MOBPRO_YYYY.csv`` (``;``, same header and column order), whose weights ``IPONDI``
add up, per commune of residence, to the commune's employed population.  Places of
work follow a gravity model; person attributes are drawn from published national
shares, each cited next to its definition.  A sidecar ``<file>.synthetic.json``
always accompanies the file, and :func:`tierslieux.sources.mobpro.open_mobpro` marks
the data synthetic when it finds it, so that no output can pass these rows for
census figures.

What is *not* simulated (left empty in the file and listed in the sidecar): the
columns that the tool never reads (diploma, household, housing, nationality...) and
``DCFLT`` (no place of work abroad is drawn).  Attributes are drawn independently of
one another and of the commune (no joint distribution is published at this level).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.files import atomic_path, atomic_write_text
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import ARRONDISSEMENT_PARENTS, normalise_commune_code
from tierslieux.model.geometry import great_circle_km
from tierslieux.sources.mobpro import synthetic_sidecar

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_D0_KM",
    "EMPLOYED_SHARE_OF_POPULATION",
    "MOBPRO_HEADER",
    "write_synthetic_mobpro",
]

#: Header of ``FD_MOBPRO_YYYY.csv`` for RP 2019 to RP 2021, in the official order.
#: Established from public code: the 2015 file lists ``COMMUNE, ARM, DCFLT, DCLT`` then
#: the other variables in alphabetical order (32 columns, with ``DEROU`` and
#: ``DIPL_15``); the 2018/2019 files are documented with 32 variables including ``DIPL``,
#: ``NA17`` and ``NA5`` (INSEE, "Mobilités professionnelles des individus", fichier
#: détail, https://www.insee.fr/fr/statistiques/6456056 for RP 2019).  Later vintages
#: (RP 2022+) switch to the PCS 2020 (``GS``) and are not written.
MOBPRO_HEADER: tuple[str, ...] = (
    "COMMUNE",
    "ARM",
    "DCFLT",
    "DCLT",
    "AGEREVQ",
    "CS1",
    "DIPL",
    "EMPL",
    "ILT",
    "ILTUU",
    "IMMI",
    "INATC",
    "INEEM",
    "INPOM",
    "INPSM",
    "IPONDI",
    "LPRM",
    "METRODOM",
    "MOCO",
    "NA17",
    "NA5",
    "NPERR",
    "REGION",
    "REGLT",
    "SEXE",
    "STAT",
    "STOCD",
    "TP",
    "TRANS",
    "TYPL",
    "TYPMR",
    "VOIT",
)
_VINTAGES = range(2019, 2022)

#: Employed persons per inhabitant, used when a commune has no active/unemployed counts.
#: 30.4 million people in employment at the end of 2023 (Insee Références, "Emploi,
#: chômage, revenus du travail", édition 2024, "Le marché du travail en 2023",
#: https://www.insee.fr/fr/statistiques/7767113?sommaire=7767424) divided by 68,373,000
#: inhabitants on 1 January 2024 (Insee, Bilan démographique 2023, 16 January 2024).
EMPLOYED_SHARE_OF_POPULATION = 30.4e6 / 68.373e6

#: Distance scale of the gravity deterrence exp(-d / d0), in kilometres.  Not calibrated:
#: a model parameter of the order of the median home-work distance of rural residents,
#: 13 km in 2019 (Insee Première n° 1948, May 2023,
#: https://www.insee.fr/fr/statistiques/7622203).
DEFAULT_D0_KM = 13.0

_GENERATOR = "tierslieux synth mobpro"
_UNIFORM = "non sourcé, uniforme"

# --- national shares ------------------------------------------------------------------
# Each list gives (code, share in %) with its source; shares are renormalised to 1.

#: CS1: Insee Références "Emploi, chômage, revenus du travail", édition 2023, fiche
#: "Professions et secteurs d'activité", figure 1 (persons in employment in 2022, France
#: hors Mayotte, enquête Emploi), https://insee.fr/fr/statistiques/7456871?sommaire=7456956
#: The 0.4 % "non renseigné" is left out.
_CS1 = (("1", 1.6), ("2", 6.8), ("3", 21.7), ("4", 24.6), ("5", 26.0), ("6", 18.9))
_CS1_SOURCE = (
    "Insee Références, Emploi, chômage, revenus du travail 2023, Professions et secteurs "
    "d'activité, figure 1 (2022), https://insee.fr/fr/statistiques/7456871?sommaire=7456956"
)

#: SEXE: women are 48.3 % of persons in employment in 2018 (Insee, Tableaux de
#: l'économie française, édition 2020, "Emploi par activité",
#: https://www.insee.fr/fr/statistiques/4277675?sommaire=4318291).
_SEXE = (("1", 51.7), ("2", 48.3))
_SEXE_SOURCE = (
    "Insee, Tableaux de l'économie française 2020, Emploi par activité (2018 : 48,3 % de "
    "femmes), https://www.insee.fr/fr/statistiques/4277675?sommaire=4318291"
)

#: EMPL: Insee Références "Emploi, chômage, revenus du travail", édition 2024, fiche
#: "Statuts d'emploi", figure 1 (2023), https://insee.fr/fr/statistiques/7767047?sommaire=7767424
#: CDI, fonctionnaires 73.0 -> 16; CDD 7.9 plus "sans contrat ou contrat inconnu" 0.9 ->
#: 15; intérim 2.0 -> 12; "alternance, stage" 3.4 -> 11 (the split between apprentices,
#: 11, and paid interns, 14, is not published there: all go to 11); indépendants 12.9
#: split between 21 (indépendants) and 22 (employeurs): non sourcé, uniforme.
_EMPL = (("16", 73.0), ("15", 8.8), ("12", 2.0), ("11", 3.4), ("21", 6.45), ("22", 6.45))
_EMPL_SOURCE = (
    "Insee Références, Emploi, chômage, revenus du travail 2024, Statuts d'emploi, figure 1 "
    "(2023), https://insee.fr/fr/statistiques/7767047?sommaire=7767424 ; partage "
    "indépendants 21/22 : non sourcé, uniforme ; 13, 14, 23 non tirés"
)

#: NA17: Insee Références "Les entreprises en France", édition 2023, fiche "Emploi",
#: figure 1 (employment on 31 December 2021, millions): agriculture 0.6 -> AZ; industry
#: 3.4 -> C1, C2, C3, C4, C5, DE; construction 2.0 -> FZ; tertiaire marchand 14.8 -> GZ,
#: HZ, IZ, JZ, KZ, LZ, MN, RU; tertiaire non marchand 9.0 -> OQ
#: (https://www.insee.fr/fr/statistiques/7678546?sommaire=7681078).  Within industry and
#: within market services the split is non sourcé, uniforme.
_NA17_GROUPS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("AZ",), 0.6),
    (("C1", "C2", "C3", "C4", "C5", "DE"), 3.4),
    (("FZ",), 2.0),
    (("GZ", "HZ", "IZ", "JZ", "KZ", "LZ", "MN", "RU"), 14.8),
    (("OQ",), 9.0),
)
_NA17_SOURCE = (
    "Insee Références, Les entreprises en France 2023, Emploi, figure 1 (31/12/2021), "
    "https://www.insee.fr/fr/statistiques/7678546?sommaire=7681078 ; répartition à "
    "l'intérieur de l'industrie et du tertiaire marchand : non sourcé, uniforme"
)
#: NA5 is the aggregation of NA17 defined by the nomenclature (not a draw).
_NA5_OF_NA17 = {
    "AZ": "AZ",
    "C1": "BE",
    "C2": "BE",
    "C3": "BE",
    "C4": "BE",
    "C5": "BE",
    "DE": "BE",
    "FZ": "FZ",
    "OQ": "OQ",
}

#: AGEREVQ: persons in employment by age in 2011, thousands: 15-24 2,219; 25-49 16,693;
#: 50-64 6,671; 65+ 195 (Insee, enquête Emploi 2011, "Population en emploi et taux
#: d'emploi selon la nationalité, le sexe et l'âge en 2011",
#: http://www.insee.fr/fr/themes/tableau.asp?reg_id=0&ref_id=NATnon03177).  Within each
#: group the five-year bands are non sourcé, uniforme; 65+ is drawn as 065.
_AGE_GROUPS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("015", "020"), 2219.0),
    (("025", "030", "035", "040", "045"), 16693.0),
    (("050", "055", "060"), 6671.0),
    (("065",), 195.0),
)
_AGE_SOURCE = (
    "Insee, enquête Emploi 2011, population en emploi selon l'âge, "
    "http://www.insee.fr/fr/themes/tableau.asp?reg_id=0&ref_id=NATnon03177 ; tranches "
    "quinquennales à l'intérieur des groupes : non sourcé, uniforme"
)

#: TRANS (2017+ codes): census 2015, persons in employment: no transport 4.5 %, walking
#: 6.3 %, cycling 1.9 %, car 70.6 %, public transport 14.8 %; powered two-wheelers "just
#: as many" as cyclists, taken as the remainder 1.9 % (Insee Première n° 1629, January
#: 2017, "Partir de bon matin, à bicyclette...", F. Tallet, V. Vallès).  A person drawn
#: "no transport" (1) but working outside the commune is set to car (5).
_TRANS = (("1", 4.5), ("2", 6.3), ("3", 1.9), ("4", 1.9), ("5", 70.6), ("6", 14.8))
_TRANS_SOURCE = (
    "Insee Première n° 1629, janvier 2017, Partir de bon matin, à bicyclette... (RP 2015) ; "
    "deux-roues motorisés : reste (« tout aussi nombreux » que les cyclistes)"
)

#: Regions (COG 2016+) of each département, used for ILT and REGION/REGLT.
_REGIONS: dict[str, str] = {
    "11": "75 77 78 91 92 93 94 95",
    "24": "18 28 36 37 41 45",
    "27": "21 25 39 58 70 71 89 90",
    "28": "14 27 50 61 76",
    "32": "02 59 60 62 80",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "52": "44 49 53 72 85",
    "53": "22 29 35 56",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "93": "04 05 06 13 83 84",
    "94": "2A 2B",
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
}
_REGION_OF_DEP = {dep: reg for reg, deps in _REGIONS.items() for dep in deps.split()}

_SIMULATED = {"COMMUNE", "ARM", "DCLT", "AGEREVQ", "CS1", "EMPL", "ILT", "IPONDI"} | {
    "METRODOM",
    "NA17",
    "NA5",
    "REGION",
    "REGLT",
    "SEXE",
    "TRANS",
}


def write_synthetic_mobpro(
    communes: pd.DataFrame,
    out: Path,
    *,
    seed: int = 0,
    vintage: int = 2021,
    rows_per_commune_max: int | None = None,
    target_rows: int | None = None,
    d0_km: float = DEFAULT_D0_KM,
) -> Path:
    """Write a synthetic ``FD_MOBPRO`` file for ``communes`` and its sidecar.

    Parameters
    ----------
    communes
        Canonical commune frame: ``code, nom, latitude, longitude, population,
        pop_active_15_64, pop_chomeurs_15_64`` (the last three may be NA).  Coordinates
        in degrees (EPSG:4326).
    out
        File to write (a folder gives ``mobpro_synthetique_<vintage>.csv`` inside it).
        A name without "synth" gets ``_synthetique`` added, so that the file cannot pass
        for an INSEE file; the path actually written is returned.
    seed
        Seed of the random generator: same inputs and seed give the same file.
    vintage
        Census vintage whose layout is written (2019 to 2021).
    rows_per_commune_max
        Cap on the number of rows of one commune (weights grow accordingly).
    target_rows
        Approximate total number of rows; by default about one row per employed person.
    d0_km
        Distance scale of the gravity model, in kilometres.

    Returns
    -------
    Path
        The CSV written (``;``, UTF-8, official header); ``<path>.synthetic.json``
        describes the method and sources.

    Raises
    ------
    SchemaError
        Missing columns, duplicated codes, missing coordinates, or a commune with
        neither employment counts nor population.
    ValueError
        Unsupported vintage or non-positive sizes.
    """
    if vintage not in _VINTAGES:
        raise ValueError(
            _(
                "Millésime {vintage} non pris en charge : la disposition officielle n'est "
                "établie que pour {first} à {last}.",
                vintage=vintage,
                first=_VINTAGES[0],
                last=_VINTAGES[-1],
            )
        )
    for name, value in (
        ("target_rows", target_rows),
        ("rows_per_commune_max", rows_per_commune_max),
    ):
        if value is not None and value < 1:
            raise ValueError(_("{name} doit être un entier positif.", name=name))
    target = _target_path(out, vintage)
    table = _prepare_communes(communes)
    rng = np.random.default_rng(seed)
    employed = table["employed"].to_numpy(dtype="float64")
    counts = _row_counts(employed, target_rows, rows_per_commune_max)
    origin = np.repeat(np.arange(len(table)), counts)
    weights = _weights(employed, counts, origin, rng)
    destination = _gravity_destinations(table, origin, counts, rng, d0_km)
    frame = _frame(table, origin, destination, weights, rng)
    _write_atomically(frame, target)
    _write_sidecar(target, seed=seed, vintage=vintage, rows=len(frame), d0_km=d0_km)
    return target


def _target_path(out: Path, vintage: int) -> Path:
    if out.is_dir():
        return out / f"mobpro_synthetique_{vintage}.csv"
    if "synth" not in out.name.lower():
        suffix = out.suffix or ".csv"
        return out.with_name(f"{out.stem}_synthetique{suffix}")
    return out


def _prepare_communes(communes: pd.DataFrame) -> pd.DataFrame:
    required = ("code", "latitude", "longitude", "population")
    absent = [c for c in required if c not in communes.columns]
    if absent:
        raise SchemaError(
            _(
                "Communes : colonne(s) {missing} absente(s) (attendu : code, nom, latitude, "
                "longitude, population, pop_active_15_64, pop_chomeurs_15_64).",
                missing=", ".join(absent),
            )
        )
    codes = [normalise_commune_code(c) for c in communes["code"].tolist()]
    if any(c is None for c in codes):
        raise SchemaError(_("Communes : code commune vide."))
    table = pd.DataFrame({"code": pd.Series(codes, dtype="object")})
    duplicated = table["code"][table["code"].duplicated()].unique().tolist()
    if duplicated:
        raise SchemaError(
            _("Communes : codes en double : {codes}.", codes=", ".join(duplicated[:10]))
        )
    for column in ("latitude", "longitude", "population"):
        table[column] = pd.to_numeric(communes[column].to_numpy(), errors="coerce")
    no_coords = table["code"][table["latitude"].isna() | table["longitude"].isna()].tolist()
    if no_coords:
        raise SchemaError(
            _("Communes sans coordonnées : {codes}.", codes=", ".join(no_coords[:10]))
        )
    active = _optional_numeric(communes, "pop_active_15_64")
    unemployed = _optional_numeric(communes, "pop_chomeurs_15_64")
    from_counts = (active - unemployed).clip(lower=0.0)
    from_population = table["population"] * EMPLOYED_SHARE_OF_POPULATION
    employed = from_counts.where(from_counts.notna(), from_population)
    unknown = table["code"][employed.isna()].tolist()
    if unknown:
        raise SchemaError(
            _(
                "Communes sans population ni population active : {codes} (impossible "
                "d'estimer les personnes en emploi).",
                codes=", ".join(unknown[:10]),
            )
        )
    table["employed"] = employed.astype("float64")
    # Attractiveness of a destination: its population, else its employed count.
    table["mass"] = table["population"].where(table["population"].notna(), employed)
    table["dep"] = [_departement(c) for c in table["code"]]
    return table


def _optional_numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=range(len(frame)), dtype="float64")
    return pd.Series(pd.to_numeric(frame[column].to_numpy(), errors="coerce"), dtype="float64")


def _departement(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def _row_counts(
    employed: NDArray[np.float64], target_rows: int | None, cap: int | None
) -> NDArray[np.int64]:
    positive = employed > 0
    if target_rows is not None:
        total = float(employed.sum())
        raw = np.rint(target_rows * employed / total) if total > 0 else np.zeros_like(employed)
        counts = np.where(positive, np.maximum(raw, 1.0), 0.0)
    else:
        # About one row per person in employment.
        counts = np.where(positive, np.maximum(np.ceil(employed), 1.0), 0.0)
    if cap is not None:
        counts = np.minimum(counts, float(cap))
    return counts.astype(np.int64)


def _weights(
    employed: NDArray[np.float64],
    counts: NDArray[np.int64],
    origin: NDArray[np.int64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Jittered weights rescaled so that each commune's weights sum to its employed count."""
    jitter = rng.uniform(0.75, 1.25, size=len(origin))
    sums = np.bincount(origin, weights=jitter, minlength=len(counts))
    return jitter * (employed[origin] / sums[origin])


def _gravity_destinations(
    table: pd.DataFrame,
    origin: NDArray[np.int64],
    counts: NDArray[np.int64],
    rng: np.random.Generator,
    d0_km: float,
) -> NDArray[np.int64]:
    """Draw each row's commune of work with P(j | i) ∝ mass_j · exp(-d_ij / d0)."""
    lat = table["latitude"].to_numpy(dtype="float64")
    lon = table["longitude"].to_numpy(dtype="float64")
    mass = np.nan_to_num(table["mass"].to_numpy(dtype="float64"), nan=0.0).clip(min=0.0)
    n = len(table)
    destination = np.empty(len(origin), dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)))
    chunk = max(1, 2_000_000 // max(n, 1))  # keeps a chunk's matrix around 16 MB
    for first in range(0, n, chunk):
        last = min(n, first + chunk)
        rows = slice(int(starts[first]), int(starts[last]))
        if rows.start == rows.stop:
            continue
        distance = great_circle_km(lat[first:last, None], lon[first:last, None], lat, lon)
        attraction = mass[None, :] * np.exp(-distance / d0_km)
        totals = attraction.sum(axis=1)
        # A commune that attracts nothing keeps its workers at home.
        empty = totals <= 0
        attraction[empty, first + np.flatnonzero(empty)] = 1.0
        cdf = np.cumsum(attraction, axis=1)
        cdf /= cdf[:, -1:]
        local = origin[rows] - first
        offsets = np.arange(last - first, dtype="float64")[:, None]
        flat = (cdf + offsets).ravel()
        draws = rng.random(rows.stop - rows.start) + local
        position = np.searchsorted(flat, draws, side="right")
        destination[rows] = np.minimum(position - local * n, n - 1)
    return destination


def _draw(
    rng: np.random.Generator, items: tuple[tuple[str, float], ...], size: int
) -> NDArray[np.str_]:
    codes = np.array([code for code, _share in items])
    shares = np.array([share for _code, share in items], dtype="float64")
    return rng.choice(codes, size=size, p=shares / shares.sum())


def _expand(groups: tuple[tuple[tuple[str, ...], float], ...]) -> tuple[tuple[str, float], ...]:
    """Spread each group's share uniformly over its codes."""
    return tuple((code, share / len(codes)) for codes, share in groups for code in codes)


def _arrondissement_split(
    codes: NDArray[np.str_], index: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    """Return (commune, arrondissement or ZZZZZ) of ``codes[index]`` as the file writes them.

    Paris, Lyon and Marseille residents and workers are given an arrondissement drawn
    uniformly (non sourcé, uniforme); arrondissement codes given as communes are kept.
    """
    commune_of_code = codes.copy()
    arm_of_code = np.full(len(codes), "ZZZZZ", dtype=object)
    parent_range: dict[int, tuple[int, int]] = {}
    for first, last, parent in ARRONDISSEMENT_PARENTS:
        for position, code in enumerate(codes):
            if code == parent:
                parent_range[position] = (first, last)
            elif code.isdigit() and first <= int(code) <= last:
                arm_of_code[position] = code
                commune_of_code[position] = parent
    commune = commune_of_code[index]
    arrondissement = arm_of_code[index]
    for position, (first, last) in parent_range.items():
        rows = index == position
        drawn = rng.integers(first, last + 1, size=int(rows.sum()))
        arrondissement[rows] = drawn.astype(str)
    return commune, arrondissement.astype(str)


def _frame(
    table: pd.DataFrame,
    origin: NDArray[np.int64],
    destination: NDArray[np.int64],
    weights: NDArray[np.float64],
    rng: np.random.Generator,
) -> pd.DataFrame:
    size = len(origin)
    codes = table["code"].to_numpy(dtype=str)
    deps = table["dep"].to_numpy(dtype=str)
    regions = np.array([_REGION_OF_DEP.get(d, "") for d in deps])
    home_commune, home_arm = _arrondissement_split(codes, origin, rng)
    work_commune, work_arm = _arrondissement_split(codes, destination, rng)
    # DCLT gives the arrondissement of Paris, Lyon and Marseille, else the commune.
    dclt = np.where(work_arm != "ZZZZZ", work_arm, work_commune)
    same_commune = origin == destination
    same_dep = deps[origin] == deps[destination]
    same_region = regions[origin] == regions[destination]
    to_dom = np.char.startswith(deps[destination], "97") & ~np.char.startswith(deps[origin], "97")
    ilt = np.select(
        [same_commune, same_dep, same_region, to_dom], ["1", "2", "3", "5"], default="4"
    )
    trans = _draw(rng, _TRANS, size)
    trans = np.where((trans == "1") & ~same_commune, "5", trans)
    na17 = _draw(rng, _expand(_NA17_GROUPS), size)
    # Columns not simulated stay NULL, written as empty cells.
    columns: dict[str, object] = dict.fromkeys(MOBPRO_HEADER)
    columns.update(
        {
            "COMMUNE": home_commune,
            "ARM": home_arm,
            "DCLT": dclt,
            "AGEREVQ": _draw(rng, _expand(_AGE_GROUPS), size),
            "CS1": _draw(rng, _CS1, size),
            "EMPL": _draw(rng, _EMPL, size),
            "ILT": ilt,
            "IPONDI": weights,
            "METRODOM": np.where(np.char.startswith(deps[origin], "97"), "D", "M"),
            "NA17": na17,
            "NA5": np.array([_NA5_OF_NA17.get(code, "GU") for code in na17]),
            "REGION": regions[origin],
            "REGLT": regions[destination],
            "SEXE": _draw(rng, _SEXE, size),
            "TRANS": trans,
        }
    )
    return pd.DataFrame(columns, index=pd.RangeIndex(size))[list(MOBPRO_HEADER)]


def _write_atomically(frame: pd.DataFrame, target: Path) -> None:
    """Write ``frame`` as ``;``-separated UTF-8 through DuckDB (fast), then rename."""
    con = duckdb.connect()
    try:
        con.register("tl_synthetic_mobpro", frame)
        with atomic_path(target) as partial:
            location = "'" + str(partial).replace("'", "''") + "'"
            con.execute(
                "COPY (SELECT * REPLACE (round(IPONDI, 7) AS IPONDI) FROM tl_synthetic_mobpro) "
                f"TO {location} (FORMAT csv, DELIMITER ';', HEADER true)"
            )
    finally:
        con.close()


def _write_sidecar(target: Path, *, seed: int, vintage: int, rows: int, d0_km: float) -> None:
    meta = {
        "synthetic": True,
        "generator": _GENERATOR,
        "seed": seed,
        "vintage": f"RP{vintage}",
        "rows": rows,
        "file": target.name,
        "method": (
            "IPONDI : somme par commune = personnes en emploi (pop_active_15_64 - "
            "pop_chomeurs_15_64, sinon population x part nationale) ; lieu de travail : "
            f"modèle gravitaire population x exp(-d/{d0_km:g} km) ; attributs tirés "
            "indépendamment selon des parts nationales publiées"
        ),
        "sources": [
            {
                "variable": "personnes en emploi / population",
                "value": round(EMPLOYED_SHARE_OF_POPULATION, 4),
                "source": "Insee, Emploi, chômage, revenus du travail 2024 (30,4 M fin "
                "2023) ; Bilan démographique 2023 (68 373 000 habitants au 1/1/2024), "
                "https://www.insee.fr/fr/statistiques/7767113?sommaire=7767424",
            },
            {
                "variable": "d0_km",
                "value": d0_km,
                "source": "paramètre non calibré, ordre de grandeur : distance médiane "
                "domicile-travail des ruraux 13 km (Insee Première n° 1948), "
                "https://www.insee.fr/fr/statistiques/7622203",
            },
            {"variable": "CS1", "source": _CS1_SOURCE},
            {"variable": "SEXE", "source": _SEXE_SOURCE},
            {"variable": "EMPL", "source": _EMPL_SOURCE},
            {"variable": "NA17", "source": _NA17_SOURCE},
            {"variable": "AGEREVQ", "source": _AGE_SOURCE},
            {"variable": "TRANS", "source": _TRANS_SOURCE},
            {"variable": "ARM, DCLT (Paris, Lyon, Marseille)", "source": _UNIFORM},
            {"variable": "IPONDI (dispersion ±25 % autour de la moyenne)", "source": _UNIFORM},
        ],
        "not_simulated": [c for c in MOBPRO_HEADER if c not in _SIMULATED],
        "header_source": "ordre officiel RP 2019-2021 (voir MOBPRO_HEADER)",
    }
    atomic_write_text(
        synthetic_sidecar(target), json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
    )
