"""Inputs of site selection read from the other commands' files (private plumbing).

Base communities of each candidate (``structures.csv`` of ``tierslieux communities``,
``groups.csv`` of ``tierslieux survey analyse``, one definition shared with
``communities.csv``: :mod:`tierslieux.analysis.communities`), questionnaire respondents as demand
(``respondents.csv``) and candidate places located in their commune.  Used by
:mod:`tierslieux.pipeline.sites` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tierslieux.analysis.communities import communities_in_reach
from tierslieux.analysis.traveltime import great_circle_km
from tierslieux.errors import Note
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import is_commune_code
from tierslieux.model.structures import (
    DEFAULT_MIN_MEMBERS,
    DEFAULT_MIN_STRUCTURES,
    BaseCommunityRule,
)
from tierslieux.model.types import file_name
from tierslieux.pipeline.readers import read_groups, read_respondents
from tierslieux.sources.groups import GROUP_COLUMNS, line_error
from tierslieux.sources.places import raise_problems

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tierslieux.model.structures import QuestionnaireGroup

__all__ = [
    "GROUP_COLUMNS",
    "MAX_PLACE_DISTANCE_KM",
    "NO_COMMUNITY_NOTE",
    "Candidates",
    "CommunityRule",
    "SiteFiles",
    "SiteSet",
    "base_communities",
    "locate_places",
    "read_groups",
    "read_respondents",
    "respondents_per_commune",
]


@dataclass(frozen=True)
class SiteFiles:
    """The other commands' files a site selection uses, read once (``None``: not given).

    Attributes
    ----------
    structures
        ``structures.csv`` of ``tierslieux communities`` (four steps only, merged).
    groups
        Questionnaire groups of ``groups.csv``.
    respondents
        ``respondents.csv`` of ``tierslieux survey analyse`` (column ``commune`` checked).
    demand
        The demand CSV (``code,demand[,km]``), as strings (checked when used).
    candidates
        The candidate places, as read (located in their commune when used).
    """

    structures: pd.DataFrame | None = None
    groups: tuple[QuestionnaireGroup, ...] | None = None
    respondents: pd.DataFrame | None = None
    demand: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None


@dataclass(frozen=True)
class CommunityRule:
    """The loaded base communities' inputs, and the one definition's thresholds."""

    structures: pd.DataFrame | None = None
    groups: Sequence[QuestionnaireGroup] | None = None
    min_structures: int = DEFAULT_MIN_STRUCTURES
    min_members: int = DEFAULT_MIN_MEMBERS


@dataclass(frozen=True)
class Candidates:
    community: np.ndarray | None
    themes: list[frozenset[str]] | None
    structures: np.ndarray | None
    #: Per candidate, which base community it rests on ("structures", "groupe 2"...).
    kinds: list[str] | None = None
    #: Per candidate, the reach table of ``communities_in_reach`` (names of the
    #: community's structures, groups and partners).
    reach: pd.DataFrame | None = None


def base_communities(
    rule: CommunityRule, pairs: pd.DataFrame, sites: SiteSet
) -> tuple[Candidates, list[str]]:
    """Base community of each candidate: structures and groups in its catchment.

    ``pairs`` maps each candidate (``origin``) to the communes of its catchment
    (``destination``). The definition is
    :func:`tierslieux.analysis.communities.communities_in_reach`, the one of
    ``communities.csv``: structures of steps 1, 2 or 4, or a questionnaire group;
    step-3 actors are partners, never enough alone.
    """
    if rule.structures is None and rule.groups is None:
        return Candidates(None, None, None), [NO_COMMUNITY_NOTE()]
    structures = (
        rule.structures
        if rule.structures is not None
        else pd.DataFrame(columns=["identifiant", "nom", "categorie", "themes", "code_commune"])
    )
    groups = rule.groups
    reach = communities_in_reach(
        structures,
        pairs,
        sites.ids,
        rule=BaseCommunityRule(rule.min_structures, rule.min_members),
        groups=groups,
        own=sites.communes,
    )
    count = reach["nb_structures_communaute"].to_numpy(dtype="int64")
    kinds = []
    for number, group_ids in zip(count, reach["group_ids"], strict=True):
        enough = rule.structures is not None and number >= rule.min_structures
        base = ["structures"] if enough else []
        base.extend(f"groupe {g}" for g in group_ids)
        kinds.append(" ; ".join(base) or "non")
    return (
        Candidates(
            reach["communaute_base"].to_numpy(dtype=bool),
            list(reach["theme_set"]),
            count if rule.structures is not None else None,
            kinds,
            reach,
        ),
        [],
    )


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
    return Note.text(
        "Aucune communauté-base exigée (ni {structures}, ni {groups}) : tous les sites "
        "sont admissibles et la contrainte de thèmes différents ne s'applique pas."
    )


def respondents_per_commune(
    frame: pd.DataFrame, path: Path, codes: list[str], notes: list[str]
) -> np.ndarray:
    """One unit of demand per questionnaire respondent, in their commune of residence.

    ``frame`` is the ``respondents.csv`` of ``tierslieux survey analyse`` read from
    ``path`` (column ``commune``); respondents outside ``codes`` are counted in a note
    and ignored.
    """
    communes = frame["commune"].fillna("").str.strip()
    bad = [(line, c) for line, c in enumerate(communes, start=2) if c and not is_commune_code(c)]
    if bad:
        raise line_error(
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
            path=file_name(path),
            n=int(inside.sum()),
            o=outside + int((communes == "").sum()),
        )
    )
    return inside.to_numpy(dtype="float64")


#: A place further than this from every commune centre of the territory is refused.
MAX_PLACE_DISTANCE_KM = 30.0


def locate_places(
    read: pd.DataFrame, path: Path, points: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """Give each candidate place (``read`` from ``path``) its commune and coordinates."""
    places = read.copy()
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
        Note.text(
            "Sites candidats : {n} lieu(x) de {path} ({c} placé(s) au centre de leur commune "
            "faute de coordonnées, {k} rattaché(s) à la commune dont le centre est le plus "
            "proche) ; un lieu couvre les communes à moins de {minutes} de ses coordonnées "
            "et toujours sa propre commune.",
            n=len(places),
            path=file_name(path),
            c=int(no_xy.sum()),
            k=int(unplaced.sum()),
        )
    )
    return places
