"""Malformed variants of the input formats, and an oracle for the variants a reader accepts.

One generator for ``bench/robustness.py`` (2,200 variants, not in the test suite) and
``tests/test_validation_fuzz.py`` (Hypothesis drives the random source): a valid
sample damaged by a few deterministic mutations (odd cells such as inf/NaN/negative
numbers, huge fields, header cells swapped, duplicated or dropped, lines inserted,
dropped cells, truncation, byte flips and insertions, Windows-1252 or UTF-16).

A reader may refuse a variant with a :class:`~tierslieux.errors.TierslieuxError`, or
accept it.  An accepted variant must not be *silently wrong* (« acceptée mais
fausse », issue 11): the oracle of each format (:data:`ORACLES`) compares what the
reader returned with the variant as Python's :mod:`csv` module reads it, by its
header names (what the reader is asked to do), and lists the problems:

* a line with a wrong number of cells accepted (the reader must name file and line);
* rows dropped without a note or an issue that says so;
* a total (weights, demand) that differs from the file's;
* non-finite or negative weights, minutes, demand or distances in the loaded frame,
  shares outside [0, 1];
* codes outside the dictionaries kept (or dropped) without being counted and shown.

This module lives beside the tests (``tests/``), outside the package: the bench adds
``tests/`` to its path.  It imports the readers only through what the CLI calls.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import yaml

from tierslieux.model.structures import CATEGORIES
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.inputs import teleworkable_shares
from tierslieux.pipeline.readers import read_demand_table, read_structures_table
from tierslieux.sources.communes import coordinates_note, load_communes
from tierslieux.sources.groups import read_groups
from tierslieux.sources.mobpro import open_mobpro
from tierslieux.sources.survey_import import load_mapping, read_survey_csv
from tierslieux.sources.traveltimes import load_travel_times
from tierslieux.sources.zonages import load_zonages
from tierslieux.store._csv import read_contacts_csv

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

DATA = Path(__file__).resolve().parent / "data"
SURVEY = DATA / "survey"

ODD_CELLS: tuple[str, ...] = (
    "",
    "inf",
    "-inf",
    "NaN",
    "nan",
    "-1",
    "-0.5",
    "1e309",
    "-1e309",
    "ZZZZZ",
    "Z",
    "2A",
    "99999",
    "=1+1",
    '"',
    '""',
    "\t",
    "\r\n",
    "é",
    "\x00",
    "1,5",
    "9" * 300,
    "x" * 100_000,
    "2030-13-45",
    "0000-00-00",
    "null",
    "[1, 2]",
    "{a: b}",
    ": :",
    "- - -",
)
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")
MUTATIONS = ("cell", "header", "drop", "insert", "duplicate", "swap", "cut", "huge")


# --- the generator ------------------------------------------------------------------------


def mutate(base: bytes, separator: str, rng: random.Random) -> bytes:
    """A malformed variant of ``base``: 1 to 4 text mutations, an encoding, byte damage.

    Deterministic for a given ``rng`` state (``random.Random(f"{format}:{seed}")`` in
    the bench, a Hypothesis-controlled random source in the fuzz tests).
    """
    lines = _mutate_lines(base.decode("utf-8").splitlines(), separator, rng)
    text = "\n".join(lines) + rng.choice(["\n", "", "\r\n"])
    return _damage(text.encode(rng.choice(ENCODINGS), errors="replace"), rng)


def _mutate_lines(lines: list[str], separator: str, rng: random.Random) -> list[str]:
    """1 to 4 cell, header or structure mutations of the lines."""
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        kind = rng.choice(MUTATIONS)
        row = rng.randrange(len(lines))
        cells = lines[row].split(separator)
        column = rng.randrange(len(cells))
        header = lines[0].split(separator)
        if kind == "cell":
            cells[column] = rng.choice(ODD_CELLS)
            lines[row] = separator.join(cells)
        elif kind == "header":
            header[min(column, len(header) - 1)] = rng.choice(ODD_CELLS)
            lines[0] = separator.join(header)
        elif kind == "drop":
            del cells[column]
            lines[row] = separator.join(cells)
        elif kind == "insert":
            lines.insert(row, rng.choice(ODD_CELLS))
        elif kind == "duplicate":
            header.append(header[min(column, len(header) - 1)])
            lines[0] = separator.join(header)
        elif kind == "swap":
            other = rng.randrange(len(header))
            first = min(column, len(header) - 1)
            header[first], header[other] = header[other], header[first]
            lines[0] = separator.join(header)
        elif kind == "huge":
            cells[column] = (cells[column] or "x")[:20] * 15_000  # at most 300,000 characters
            lines[row] = separator.join(cells)
        else:
            lines = lines[: row + 1]
    return lines


def _damage(data: bytes, rng: random.Random) -> bytes:
    """Bytes cut, flipped or inserted (or left alone), after the text mutations."""
    damage = rng.choice(["none", "none", "truncate", "flip", "insert"])
    if damage == "truncate" and data:
        data = data[: rng.randrange(len(data))]
    elif damage == "flip" and data:
        raw = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        data = bytes(raw)
    elif damage == "insert":
        cut = rng.randint(0, len(data))
        data = data[:cut] + rng.randbytes(rng.randint(1, 8)) + data[cut:]
    return data


# --- the reference reading of a variant -----------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A variant as Python's csv module reads it: header and data rows with their line."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]

    def column(self, *names: str) -> int | None:
        """Index of the first header cell equal (case-insensitively) to one of ``names``."""
        wanted = {n.lower() for n in names}
        cleaned = [h.strip().lstrip("\ufeff").lower() for h in self.header]
        for index, name in enumerate(cleaned):
            if name in wanted:
                return index
        return None

    def values(self, *names: str) -> list[str] | None:
        """The cells of a column (``None`` when absent or a row is short)."""
        index = self.column(*names)
        if index is None:
            return None
        return [cells[index] if index < len(cells) else "" for _line, cells in self.rows]

    def ragged(self) -> list[int]:
        """Lines whose number of cells differs from the header's (empty cells beyond the
        header, written by some tools at the end of every line, are tolerated)."""
        size = len(self.header)
        return [
            line
            for line, cells in self.rows
            if len(cells) < size or (len(cells) > size and any(c.strip() for c in cells[size:]))
        ]


def decode(data: bytes) -> str | None:
    """The text of a variant in the encodings the readers detect, or ``None``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "cp1252"]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def reference(data: bytes, separator: str, header_cell: str | None = None) -> Reference | None:
    """The variant read by :mod:`csv` (blank lines skipped), or ``None`` if unreadable.

    ``header_cell``: the header is the first line holding that cell (title lines above
    it are allowed, as in INSEE's zonings tables), else the first line.
    """
    text = decode(data)
    if text is None or "\x00" in text:
        return None
    csv.field_size_limit(10_000_000)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        records = []
        start = 1
        for cells in reader:
            records.append((start, tuple(cells)))
            start = reader.line_num + 1
    except csv.Error:
        return None
    if not records:
        return None
    first = 0
    if header_cell is not None:
        first = next(
            (
                i
                for i, (_line, cells) in enumerate(records[:10])
                if header_cell in {c.strip().lstrip("\ufeff").lower() for c in cells}
            ),
            0,
        )
    header = records[first][1]
    rows = tuple(
        (line, cells) for line, cells in records[first + 1 :] if any(c.strip() for c in cells)
    )
    return Reference(header, rows)


def number(text: str) -> float | None:
    """A cell as a float (dot or comma decimal), ``None`` when it is not a number."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned or len(cleaned) > 100:
        return None
    try:
        return float(cleaned)
    except ValueError:
        return None


def _bad_numbers(values: Iterable[object], *, low: float = 0.0, high: float = math.inf) -> int:
    """How many values are not finite numbers in [low, high] (missing values pass)."""
    bad = 0
    for value in values:
        if _missing(value):
            continue
        try:
            number_ = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            bad += 1
            continue
        if not math.isfinite(number_) or not low <= number_ <= high:
            bad += 1
    return bad


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _missing_or_nan(values: Iterable[object]) -> int:
    return sum(1 for v in values if _missing(v))


def _close(one: float, two: float) -> bool:
    return math.isclose(one, two, rel_tol=1e-6, abs_tol=1e-6)


def _common(ref: Reference | None, found: list[str], excused: set[int] | None = None) -> None:
    """Problems every tabular format shares: lines with a wrong number of cells accepted
    (``excused``: lines the reader reported as issues)."""
    if ref is None:
        return
    ragged = [line for line in ref.ragged() if line not in (excused or set())]
    if ragged:
        found.append(
            f"{len(ragged)} ligne(s) au nombre de cellules faux acceptée(s) (ligne {ragged[0]})"
        )


def _rows_kept(
    ref: Reference | None, kept: int, found: list[str], *, noted: int = 0, what: str = "lignes"
) -> None:
    """Every data row of the file is in the result, or counted in a note or an issue."""
    if ref is None:
        return
    if kept + noted != len(ref.rows):
        found.append(
            f"{what} : {kept} lue(s) + {noted} signalée(s) pour {len(ref.rows)} dans le fichier"
        )


def _notes(provenance: object) -> str:
    return " ".join(str(n) for n in getattr(provenance, "notes", ()))


def _noted_count(text: str, pattern: str) -> int:
    return sum(int(m.group(1)) for m in re.finditer(pattern, text))


# --- readers (what the CLI calls) and their oracles ----------------------------------------


def read_mobpro(path: Path, cache: Path) -> dict[str, Any]:
    """MOBPRO through :func:`open_mobpro`: rows, total and bad weights of the table."""
    with duckdb.connect() as con:
        mobpro = open_mobpro(path, con, cache_dir=cache)
        count, total, bad = con.execute(
            "SELECT count(*), sum(weight), count(*) FILTER "
            "(WHERE weight IS NULL OR NOT isfinite(weight) OR weight < 0) FROM mobpro"
        ).fetchone() or (0, 0.0, 0)
        codes = {
            column: {
                str(v) for (v,) in con.execute(f"SELECT DISTINCT {column} FROM mobpro").fetchall()
            }
            for column in ("cs1", "empl", "trans", "sexe")
            if column in mobpro.columns
        }
    return {
        "rows": int(count),
        "total": float(total or 0.0),
        "bad": int(bad),
        "codes": codes,
        "notes": _notes(mobpro.provenance),
    }


# Codes of the detail file (INSEE's dictionary of FD_MOBPRO; NULL is "not applicable").
_MOBPRO_CODES = {
    "cs1": {"1", "2", "3", "4", "5", "6", "7", "8", "None"},
    "sexe": {"1", "2", "None"},
}


def check_mobpro(data: bytes, result: dict[str, Any]) -> list[str]:
    ref = reference(data, ";")
    found: list[str] = []
    _common(ref, found)
    if result["bad"]:
        found.append(f"{result['bad']} poids non finis ou négatifs chargés")
    for column, allowed in _MOBPRO_CODES.items():
        unknown = result["codes"].get(column, set()) - allowed
        if unknown:
            found.append(
                f"{column} hors dictionnaire gardé sans être compté : {sorted(unknown)[:3]}"
            )
    if ref is None or ref.ragged():
        return found
    _rows_kept(ref, result["rows"], found)
    weights = ref.values("IPONDI")
    if weights is not None and len(ref.rows) == result["rows"]:
        parsed = [number(w) for w in weights]
        if all(p is not None for p in parsed):
            expected = sum(p for p in parsed if p is not None)
            if math.isfinite(expected) and not _close(expected, result["total"]):
                found.append(f"total des poids {result['total']:.6g} au lieu de {expected:.6g}")
    return found


def read_communes(path: Path, _cache: Path) -> object:
    return load_communes(path)


# The numeric columns the reader reads (the file's other columns are kept as text).
_COMMUNE_NUMBERS = ("population", "surface_km2", "pop_active_15_64", "pop_chomeurs_15_64")


def check_communes(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    found: list[str] = []
    _common(ref, found)
    table = result.table
    notes = _notes(result.provenance)
    for column in table.columns:
        if column in _COMMUNE_NUMBERS:
            bad = _bad_numbers(table[column].tolist())
            if bad:
                found.append(f"{bad} valeur(s) non finie(s) ou négative(s) dans {column}")
    for column, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
        if column in table.columns:
            bad = _bad_numbers(table[column].tolist(), low=low, high=high)
            if bad:
                found.append(f"{bad} coordonnée(s) impossible(s) dans {column}")
            # The commands print coordinates_note on the terminal (or refuse).
            missing = _missing_or_nan(table[column].tolist())
            if missing and coordinates_note(result) is None:
                found.append(f"{missing} commune(s) sans {column} sans note")
    # Rows ignored (delegated communes) or merged (arrondissements into their commune).
    # Lines dropped (delegated communes) or merged (repeats of one code), and
    # arrondissements merged into their commune (n lines become one).
    arrondissements = re.findall(r"à partir de (?:ses )?(\d+) arrondissement", notes)
    noted = _noted_count(notes, r"(\d+) ligne\(s\)") + sum(int(n) - 1 for n in arrondissements)
    _rows_kept(ref, len(table), found, noted=noted)
    return found


def read_travel(path: Path, _cache: Path) -> object:
    return load_travel_times(path)


def check_travel(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    frame, provenance = result
    found: list[str] = []
    _common(ref, found)
    bad = _bad_numbers(frame["minutes"].tolist())
    if bad or _missing_or_nan(frame["minutes"].tolist()):
        found.append(f"{bad} durée(s) non finie(s) ou négative(s) chargée(s)")
    dropped = _noted_count(_notes(provenance), r"(\d+) ligne\(s\)")
    _rows_kept(ref, len(frame), found, noted=dropped)
    return found


def read_teleworkable(path: Path, _cache: Path) -> object:
    return teleworkable_shares(path)


def check_teleworkable(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    shares, _source = result
    found: list[str] = []
    _common(ref, found)
    bad = _bad_numbers(shares.values(), high=1.0)
    if bad:
        found.append(f"{bad} part(s) hors de [0, 1] chargée(s)")
    unknown = set(shares) - {"1", "2", "3", "4", "5", "6"}
    if unknown:
        found.append(f"cs1 hors dictionnaire gardé : {sorted(unknown)[:3]}")
    _rows_kept(ref, len(shares), found)
    return found


def read_zonages(path: Path, _cache: Path) -> object:
    return load_zonages(path)


def check_zonages(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",", header_cell="codgeo")
    found: list[str] = []
    _common(ref, found)
    notes = _notes(result.provenance)
    _rows_kept(ref, len(result.table), found, noted=_noted_count(notes, r"(\d+) ligne"))
    return found


def read_structures(path: Path, _cache: Path) -> object:
    return read_structures_table(path)


def check_structures(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    found: list[str] = []
    _common(ref, found)
    categories = ref.values("categorie") if ref is not None else None
    if categories is not None and not (ref is not None and ref.ragged()):
        known = set(CATEGORIES)
        unknown = [c for c in categories if c.strip() and c.strip() not in known]
        if unknown:
            found.append(
                f"catégorie hors dictionnaire acceptée sans être signalée : {unknown[0][:20]!r}"
            )
    for column, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
        if column in result.columns:
            bad = _bad_numbers(result[column].tolist(), low=low, high=high)
            if bad:
                found.append(f"{bad} coordonnée(s) impossible(s) dans {column}")
    return found


def read_groups_file(path: Path, _cache: Path) -> object:
    return read_groups(path)


def check_groups(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    found: list[str] = []
    _common(ref, found)
    bad = [g.members for g in result if not isinstance(g.members, int) or g.members < 0]
    if bad:
        found.append(f"{len(bad)} nombre(s) de membres impossibles chargé(s)")
    _rows_kept(ref, len(result), found)
    return found


def read_demand(path: Path, _cache: Path) -> object:
    return read_demand_table(path)


def check_demand(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    codes, demand, km = result
    found: list[str] = []
    _common(ref, found)
    if _bad_numbers(demand.tolist()) or _missing_or_nan(demand.tolist()):
        found.append("demande non finie, négative ou absente chargée")
    if km is not None and _bad_numbers(km.tolist()):
        found.append("distance non finie ou négative chargée")
    _rows_kept(ref, len(codes), found)
    if ref is not None and not ref.ragged() and len(codes) == len(ref.rows):
        cells = ref.values("demand", "demande")
        parsed = [number(c) for c in cells] if cells is not None else []
        if cells is not None and all(p is not None for p in parsed):
            expected = sum(p for p in parsed if p is not None)
            if math.isfinite(expected) and not _close(expected, float(demand.sum())):
                found.append(
                    f"total de la demande {float(demand.sum()):.6g} au lieu de {expected:.6g}"
                )
    return found


_QUESTIONNAIRE = load_questionnaire()
_SURVEY_COMMUNES = load_communes(SURVEY / "communes_enquete.csv").table
_MAPPING = load_mapping(SURVEY / "correspondance.yaml", _QUESTIONNAIRE)


def read_survey(path: Path, _cache: Path) -> object:
    return read_survey_csv(path, _MAPPING, _QUESTIONNAIRE, _SURVEY_COMMUNES)


def check_survey(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ",")
    found: list[str] = []
    rejected = {issue.line for issue in result.issues}
    _common(ref, found, rejected)
    kept = [r for r in result.responses if r.line not in rejected]
    _rows_kept(ref, len(kept), found, noted=len(rejected), what="réponses")
    return found


def read_mapping(path: Path, _cache: Path) -> object:
    return load_mapping(path, _QUESTIONNAIRE)


def check_mapping(data: bytes, result: Any) -> list[str]:
    """The mapping read must be the one the YAML says (same columns, same targets)."""
    found: list[str] = []
    text = decode(data)
    try:
        raw = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError:
        raw = None
    if text is None:
        return found
    for column in result.columns:
        if column not in text:
            found.append(f"colonne {column[:30]!r} absente du fichier mais lue")
            break
    del raw
    return found


def read_contacts(path: Path, _cache: Path) -> object:
    return read_contacts_csv(path)


def check_contacts(data: bytes, result: Any) -> list[str]:
    ref = reference(data, ";")
    found: list[str] = []
    issues = {issue.line for issue in result.issues}
    _common(ref, found, issues)
    lines = {e.line for e in result.events} | {s.line for s in result.states}
    _rows_kept(ref, len(lines - issues), found, noted=len(issues))
    return found


# --- the formats ---------------------------------------------------------------------------


@dataclass
class Format:
    """One input format: file name, sample, separator, the CLI's reader and its oracle."""

    name: str
    file_name: str
    sample: bytes
    separator: str
    read: Callable[[Path, Path], object]
    check: Callable[[bytes, Any], list[str]] | None = None


STRUCTURES = (
    "identifiant,nom,categorie,themes,code_commune,latitude,longitude\n"
    "siret:12345678900011,CAE Alpes,cae,emploi:creation,05061,44.56,6.08\n"
    "rna:W051000001,Asso Gap,association_vie_quotidienne,vie:garde;vie:culture,05061,44.55,6.07\n"
    "siret:98765432100012,Coworking Briançon,tiers_lieu_existant,,05023,44.90,6.64\n"
    "siret:11122233300014,Mairie de Gap,,,05061,,\n"
)
CONTACTS = (
    "ligne;identifiant;nom;statut;responsable;prochaine_action;echeance;version;date;auteur;"
    "evenement_id;nature;ancienne_valeur;nouvelle_valeur;ancienne_echeance;nouvelle_echeance;texte\n"
    "etat;siret:12345678900011;CAE Alpes;contacte;Alice;Rappeler;2030-02-01;3;;;;;;;;;\n"
    "evenement;siret:12345678900011;CAE Alpes;;;;;;2030-01-02;Alice;;note;;;;;Note valable\n"
    "evenement;siret:12345678900011;CAE Alpes;;;;;;2030-01-03;Alice;;statut;;contacte;;;\n"
)
SHARES = b"cs1,part,source\n1,0.03,x\n2,0.33,x\n3,0.72,x\n4,0.48,x\n5,0.36,x\n6,0.02,x\n"


def formats() -> list[Format]:
    """Every format the CLI reads, with a valid sample, its reader and its oracle."""
    return [
        Format(
            "mobpro",
            "FD_MOBPRO_2021.csv",
            (DATA / "mobpro" / "FD_MOBPRO_2021_extrait.csv").read_bytes(),
            ";",
            read_mobpro,
            check_mobpro,
        ),
        Format(
            "communes",
            "communes.csv",
            (DATA / "communes" / "communes_extrait.csv").read_bytes(),
            ",",
            read_communes,
            check_communes,
        ),
        Format(
            "traveltimes",
            "od.csv",
            (DATA / "traveltimes" / "od_valide.csv").read_bytes(),
            ",",
            read_travel,
            check_travel,
        ),
        Format("teleworkable", "parts.csv", SHARES, ",", read_teleworkable, check_teleworkable),
        Format(
            "zonages",
            "table_supracom_2024.csv",
            (DATA / "zonages" / "table_supracom_2024_extrait.csv").read_bytes(),
            ",",
            read_zonages,
            check_zonages,
        ),
        Format(
            "structures",
            "structures.csv",
            STRUCTURES.encode(),
            ",",
            read_structures,
            check_structures,
        ),
        Format(
            "groups",
            "groups.csv",
            b"groupe,theme,membres,communes\n4,vie:garde,3,05061\n5,emploi:creation,2,05023\n",
            ",",
            read_groups_file,
            check_groups,
        ),
        Format(
            "demand",
            "demande.csv",
            b"code,demand,km\n05061,12.5,20\n05023,3,\n05046,0,4.5\n",
            ",",
            read_demand,
            check_demand,
        ),
        Format(
            "survey",
            "reponses.csv",
            (SURVEY / "reponses_valides.csv").read_bytes(),
            ",",
            read_survey,
            check_survey,
        ),
        Format(
            "mapping",
            "correspondance.yaml",
            (SURVEY / "correspondance.yaml").read_bytes(),
            ":",
            read_mapping,
            check_mapping,
        ),
        Format("contacts", "contacts.csv", CONTACTS.encode(), ";", read_contacts, check_contacts),
    ]


def format_named(name: str) -> Format:
    return next(f for f in formats() if f.name == name)


def oracle(fmt: Format, data: bytes, result: object) -> list[str]:
    """The problems of an accepted variant (empty: not silently wrong)."""
    if fmt.check is None:
        return []
    with contextlib.suppress(RecursionError):
        return fmt.check(data, result)
    return ["oracle en échec (récursion)"]


def names(chosen: Sequence[Format]) -> str:
    return ", ".join(f.name for f in chosen)
