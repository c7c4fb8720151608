"""Inputs of site selection read from the other commands' files (private plumbing).

Base communities of each candidate (``structures.csv`` of ``tierslieux communities``,
``groups.csv`` of ``tierslieux survey analyse``), questionnaire respondents as demand
(``respondents.csv``) and candidate places located in their commune.  Used by
:mod:`tierslieux.pipeline_sites` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tierslieux.analysis.traveltime import great_circle_km
from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code
from tierslieux.model.structures import STEP_CATEGORIES
from tierslieux.sources._files import read_csv_strings, require_file
from tierslieux.sources.candidates import load_candidate_places
from tierslieux.sources.places import raise_problems

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "GROUP_COLUMNS",
    "MAX_PLACE_DISTANCE_KM",
    "NO_COMMUNITY_NOTE",
    "Candidates",
    "CommunityRule",
    "SiteSet",
    "base_communities",
    "locate_places",
    "read_groups",
    "read_respondents",
    "respondents_per_commune",
    "structures_near",
]


@dataclass(frozen=True)
class CommunityRule:
    """What makes a base community: structures of the four steps, questionnaire groups."""

    structures: Path | None = None
    groups: Path | None = None
    min_structures: int = 1
    min_members: int = 3


@dataclass(frozen=True)
class Candidates:
    community: np.ndarray | None
    themes: list[frozenset[str]] | None
    structures: np.ndarray | None
    #: Per candidate, which base community it rests on ("structures", "groupe 2"...).
    kinds: list[str] | None = None


def _steps(path: Path) -> pd.DataFrame:
    """Structures of the four steps in a ``structures.csv`` (read once per file version)."""
    require_file(path, "structures")
    stat = path.stat()
    return _read_steps(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_steps(path: str, _mtime_ns: int, _size: int) -> pd.DataFrame:
    frame = read_csv_strings(Path(path), role="structures")
    missing = [c for c in ("categorie", "themes", "code_commune") if c not in frame.columns]
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} manquante(s) (fichier structures.csv de "
                "« tierslieux communities » attendu).",
                path=path,
                missing=", ".join(missing),
            )
        )
    steps = frame[frame["categorie"].isin(STEP_CATEGORIES)].copy()
    if "nom" not in steps.columns:
        steps["nom"] = steps.get("identifiant", pd.Series("", index=steps.index))
    return steps


#: How many structures ``structures_near`` names before « … et N autres ».
MAX_NAMED_STRUCTURES = 8


def structures_near(path: Path, communes: Sequence[str]) -> str:
    """Names and steps of the four-step structures located in ``communes`` (for a site).

    « Coop A (cae) ; Asso B (association_teleactivites) … et 3 autres »: who to call to
    build the site's base community, read in ``structures.csv``.
    """
    steps = _steps(path)
    found = steps[steps["code_commune"].isin(list(communes))]
    names = [f"{n} ({c})" for n, c in zip(found["nom"], found["categorie"], strict=True)]
    shown = " ; ".join(names[:MAX_NAMED_STRUCTURES])
    more = len(names) - MAX_NAMED_STRUCTURES
    return shown + (_(" … et {n} autre(s)", n=more) if more > 0 else "")


def base_communities(
    rule: CommunityRule, pairs: pd.DataFrame, sites: SiteSet
) -> tuple[Candidates, list[str]]:
    """Base community of each candidate: structures and groups in its catchment.

    ``pairs`` maps each candidate (``origin``) to the communes of its catchment
    (``destination``).
    """
    groups = _group_communities(rule, pairs, sites)
    if rule.structures is None and groups is not None:
        has, group_themes, ids = groups
        kinds = [" ; ".join(f"groupe {g}" for g in found) or "non" for found in ids]
        return Candidates(has, group_themes, None, kinds), []
    if rule.structures is None:
        return Candidates(None, None, None), [NO_COMMUNITY_NOTE()]
    steps = _steps(rule.structures)
    by_commune = steps.groupby("code_commune")
    counts = by_commune.size()
    themes_of: dict[str, frozenset[str]] = {}
    for commune, values in zip(steps["code_commune"], steps["themes"], strict=True):
        found = {t for t in str(values).split(";") if t} if pd.notna(values) else set()
        themes_of[str(commune)] = themes_of.get(str(commune), frozenset()) | found
    number = []
    themes = []
    catchments = pairs.groupby("origin")["destination"].agg(list)
    for code, own in zip(sites.ids, sites.communes, strict=True):
        around = catchments.get(code, [own])
        number.append(int(counts.reindex(around).fillna(0).sum()))
        themes.append(frozenset().union(*[themes_of.get(c, frozenset()) for c in around]))
    count_arr = np.array(number)
    community = count_arr >= rule.min_structures
    bases: list[list[str]] = [["structures"] if ok else [] for ok in community]
    if groups is not None:
        has, group_themes, ids = groups
        community = community | has
        themes = [a | b for a, b in zip(themes, group_themes, strict=True)]
        for base, group_ids in zip(bases, ids, strict=True):
            base.extend(f"groupe {g}" for g in group_ids)
    labels = [" ; ".join(b) or "non" for b in bases]
    return Candidates(community, themes, count_arr, labels), []


#: Columns of ``groups.csv`` (written by ``tierslieux survey analyse``) used here.
GROUP_COLUMNS = ("groupe", "membres", "communes")


@dataclass(frozen=True)
class _Group:
    ident: str
    members: int
    themes: frozenset[str]
    communes: tuple[str, ...]
    per_commune: dict[str, int] | None


def _group_error(path: Path, line: int, message: str) -> SchemaError:
    return SchemaError(_("{path}, ligne {line} : {message}", path=path, line=line, message=message))


def read_groups(path: Path) -> list[_Group]:
    """Read and check the ``groups.csv`` of the questionnaire (French errors, file/line)."""
    frame = read_csv_strings(path, role="groupes du questionnaire")
    missing = [c for c in GROUP_COLUMNS if c not in frame.columns]
    if "theme" not in frame.columns and "themes" not in frame.columns:
        missing.append("theme")
    if missing:
        raise SchemaError(
            _(
                "{path} : colonne(s) {missing} manquante(s) (fichier groups.csv de "
                "« tierslieux survey analyse » attendu : groupe, theme, membres, communes).",
                path=path,
                missing=", ".join(missing),
            )
        )
    theme_column = "theme" if "theme" in frame.columns else "themes"
    groups: list[_Group] = []
    for number, row in enumerate(frame.to_dict("records"), start=2):
        ident = str(row["groupe"]).strip() if pd.notna(row["groupe"]) else ""
        if not ident:
            raise _group_error(path, number, _("identifiant de groupe vide."))
        raw_members = str(row["membres"]).strip() if pd.notna(row["membres"]) else ""
        if not raw_members.isdigit() or int(raw_members) < 1:
            raise _group_error(
                path,
                number,
                _("nombre de membres « {v} » invalide (entier positif attendu).", v=raw_members),
            )
        communes = tuple(
            c.strip() for c in str(row["communes"]).split(";") if pd.notna(row["communes"])
        )
        communes = tuple(c for c in communes if c)
        bad = [c for c in communes if not is_commune_code(c)]
        if not communes or bad:
            raise _group_error(
                path,
                number,
                _(
                    "code(s) commune invalide(s) : « {codes} » (codes Insee à 5 caractères "
                    "séparés par « ; » attendus).",
                    codes=";".join(bad) if bad else _("aucune commune"),
                ),
            )
        raw_themes = row[theme_column]
        themes = frozenset(
            t.strip() for t in str(raw_themes).split(";") if pd.notna(raw_themes) and t.strip()
        )
        per_commune = _members_per_commune(path, number, row.get("membres_par_commune"))
        groups.append(_Group(ident, int(raw_members), themes, communes, per_commune))
    return groups


def _members_per_commune(path: Path, line: int, value: object) -> dict[str, int] | None:
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    counts: dict[str, int] = {}
    for part in value.split(";"):
        code, _sep, number = part.strip().partition(":")
        if not is_commune_code(code) or not number.isdigit():
            raise _group_error(
                path,
                line,
                _("membres_par_commune « {v} » invalide (code:nombre;… attendu).", v=value),
            )
        counts[code] = counts.get(code, 0) + int(number)
    return counts


def _group_communities(
    rule: CommunityRule, pairs: pd.DataFrame, sites: SiteSet
) -> tuple[np.ndarray, list[frozenset[str]], list[list[str]]] | None:
    """Questionnaire groups as base communities of each candidate (``None`` without file).

    A group counts for a candidate when at least ``rule.min_members`` of its members
    live in communes of the candidate's catchment.  Without the column
    ``membres_par_commune`` the count is a lower bound: every member when all the
    group's communes are in the catchment, else one per commune inside (each listed
    commune has at least one member).
    """
    if rule.groups is None:
        return None
    groups = read_groups(rule.groups)
    catchments: dict[str, list[str]] = {}
    if len(pairs):
        for origin, dests in pairs.groupby("origin")["destination"].agg(list).items():
            catchments[str(origin)] = [str(c) for c in dests]
    has = np.zeros(len(sites.ids), dtype=bool)
    themes: list[frozenset[str]] = []
    ids: list[list[str]] = []
    for i, (code, own) in enumerate(zip(sites.ids, sites.communes, strict=True)):
        around = set(catchments.get(code, [own]))
        found: list[str] = []
        carried: frozenset[str] = frozenset()
        for group in groups:
            inside = [c for c in group.communes if c in around]
            if group.per_commune is not None:
                members = sum(n for c, n in group.per_commune.items() if c in around)
            elif len(inside) == len(group.communes):
                members = group.members
            else:
                members = len(inside)
            if members >= rule.min_members:
                found.append(group.ident)
                carried |= group.themes
        has[i] = bool(found)
        themes.append(carried)
        ids.append(found)
    return has, themes, ids


@dataclass(frozen=True)
class SiteSet:
    """Candidate sites: the communes of the territory, or the user's places.

    ``ids`` are the candidates' codes (commune codes, or the places' identifiers);
    ``communes`` the commune each lies in; ``points`` their coordinates (``code`` =
    id).  With places and existing tiers-lieux kept, the communes hosting those are
    added as candidates of their own.
    """

    ids: list[str]
    names: list[str]
    communes: list[str]
    points: pd.DataFrame
    places: bool = False


def NO_COMMUNITY_NOTE() -> str:  # noqa: N802  (a translated constant)
    """Note shown when neither structures nor questionnaire groups are given."""
    return _(
        "Sans annuaire des structures (--structures), tous les sites sont admissibles "
        "et la contrainte de thèmes différents ne s'applique pas."
    )


def read_respondents(path: Path) -> pd.DataFrame:
    """The ``respondents.csv`` of ``tierslieux survey analyse``, column ``commune`` checked."""
    frame = read_csv_strings(path, role="répondants du questionnaire")
    if "commune" not in frame.columns:
        raise SchemaError(
            _(
                "{path} : colonne commune manquante (fichier respondents.csv de "
                "« tierslieux survey analyse » attendu).",
                path=path,
            )
        )
    return frame


def respondents_per_commune(path: Path, codes: list[str], notes: list[str]) -> np.ndarray:
    """One unit of demand per questionnaire respondent, in their commune of residence.

    ``path`` is the ``respondents.csv`` of ``tierslieux survey analyse`` (column
    ``commune``); respondents outside ``codes`` are counted in a note and ignored.
    """
    frame = read_respondents(path)
    communes = frame["commune"].fillna("").str.strip()
    bad = [(line, c) for line, c in enumerate(communes, start=2) if c and not is_commune_code(c)]
    if bad:
        raise _group_error(
            path,
            bad[0][0],
            _("code commune « {c} » invalide (code Insee à 5 caractères attendu).", c=bad[0][1]),
        )
    counts = communes[communes != ""].value_counts()
    inside = counts.reindex(codes).fillna(0.0)
    outside = int(counts.sum() - inside.sum())
    notes.append(
        _(
            "Répondants du questionnaire ({path}) : {n} ajoutés à la demande de leur commune "
            "(un usager déclaré compte pour 1, en plus de l'estimation du recensement qui "
            "peut déjà l'inclure) ; {o} hors du territoire ou sans commune, ignorés.",
            path=path,
            n=int(inside.sum()),
            o=outside + int((communes == "").sum()),
        )
    )
    return inside.to_numpy(dtype="float64")


#: A place further than this from every commune centre of the territory is refused.
MAX_PLACE_DISTANCE_KM = 30.0


def locate_places(path: Path, points: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Read the candidate places and give each its commune and coordinates."""
    places = load_candidate_places(path)
    centres = points.set_index("code")[["latitude", "longitude"]]
    problems: list[str] = []
    given = places["code_commune"].notna()
    for line, (ident, code) in enumerate(
        zip(places["identifiant"], places["code_commune"], strict=True), start=2
    ):
        if code is not None and code == code and str(code) not in centres.index:  # noqa: PLR0124
            problems.append(_("ligne {n} : commune {c} hors du territoire", n=line, c=code))
        if str(ident) in centres.index:
            problems.append(
                _(
                    "ligne {n} : l'identifiant « {i} » est aussi un code commune du "
                    "territoire (choisissez un autre identifiant)",
                    n=line,
                    i=ident,
                )
            )
    raise_problems(problems, path, _("lieux candidats"))
    no_xy = places["latitude"].isna() | places["longitude"].isna()
    at_centre = centres.reindex(places.loc[no_xy, "code_commune"].astype(str))
    places.loc[no_xy, "latitude"] = at_centre["latitude"].to_numpy()
    places.loc[no_xy, "longitude"] = at_centre["longitude"].to_numpy()
    unplaced = ~given
    if unplaced.any():
        lat = places.loc[unplaced, "latitude"].to_numpy(float)[:, None]
        lon = places.loc[unplaced, "longitude"].to_numpy(float)[:, None]
        km = great_circle_km(
            lat, lon, centres["latitude"].to_numpy(float), centres["longitude"].to_numpy(float)
        )
        nearest = km.argmin(axis=1)
        far = km[np.arange(len(nearest)), nearest] > MAX_PLACE_DISTANCE_KM
        problems.extend(
            _(
                "ligne {n} : à plus de {d:.0f} km de toute commune du territoire "
                "(coordonnées inversées, ou lieu hors du territoire ?)",
                n=int(line) + 2,
                d=MAX_PLACE_DISTANCE_KM,
            )
            for line in places.index[unplaced][far]
        )
        raise_problems(problems, path, _("lieux candidats"))
        places.loc[unplaced, "code_commune"] = centres.index[nearest].to_numpy()
    notes.append(
        _(
            "Sites candidats : {n} lieu(x) de {path} ({c} placé(s) au centre de leur commune "
            "faute de coordonnées, {k} rattaché(s) à la commune dont le centre est le plus "
            "proche) ; un lieu couvre les communes à moins de --minutes de ses coordonnées "
            "et toujours sa propre commune.",
            n=len(places),
            path=path,
            c=int(no_xy.sum()),
            k=int(unplaced.sum()),
        )
    )
    return places
