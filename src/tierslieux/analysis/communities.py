"""Base communities within reach of each commune or site, and how open they are.

One definition, used by ``tierslieux communities`` (``communities.csv``) and by the
site constraint of ``tierslieux sites``: a catchment holds a **base community** when
it has at least ``rule.min_structures`` structures of steps 1, 2 or 4 of the method
(:data:`~tierslieux.model.structures.COMMUNITY_CATEGORIES`: CAE, SCOP/SCIC of the
digital economy, associations of tele-activities or of everyday life), or a
questionnaire group with at least ``rule.min_members`` members living there. The study
calls a base community « une ou quelques personnes [...] en lien avec d'autres groupes
de professionnels »: step-3 actors (intercommunalities, Pays/PETR, parks, comités de
bassin d'emploi) are actors *to discuss with* — they are listed as partners and never
make a base community by themselves.

The study also warns that the community « ne doit pas être clanique mais ouverte, sans
quoi le lieu peut [...] devenir rapidement un ‘simple’ hôtel d'entreprises », and that
« certains types de structures pratiquant l'accueil et le réseautage [...] constituent
des points d'appuis privilégiés ». Hence the openness levels (:func:`openness`):

``ouverte``
    a base community of at least two kinds (two categories, or structures and a
    questionnaire group) and at least one hosting or networking anchor (existing
    tiers-lieu, station, France Services, digital-mediation place);
``a_elargir``
    a base community, but of one kind only or with no anchor, and something within
    reach to widen it: an anchor to host open events, or partners to call;
``fermee``
    a base community of one kind, with neither anchor nor partner within reach: the
    « hôtel d'entreprises » risk, with nothing nearby to open it;
``absente``
    no base community (possibly partners or anchors only, which the reason names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierslieux.errors import Note
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import (
    ANCHOR_CATEGORIES,
    CATEGORIES,
    COMMUNITY_CATEGORIES,
    OPENNESS_LABELS,
    PARTNER_CATEGORIES,
    BaseCommunityRule,
    QuestionnaireGroup,
    category_short_labels,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "MAX_NAMED",
    "OPENNESS_LEVELS",
    "communities_in_reach",
    "groups_in_reach",
    "name_list",
    "openness",
    "summarise_communities",
]

OPENNESS_LEVELS = tuple(OPENNESS_LABELS)
#: How many names a cell lists before « … et N autre(s) ».
MAX_NAMED = 8
#: How many names a reason sentence lists.
_NAMED_IN_REASON = 3


def name_list(names: Sequence[str], limit: int = MAX_NAMED) -> str:
    """``names`` joined by « ; », the first ``limit`` ones, then « … et N autre(s) »."""
    shown = " ; ".join(names[:limit])
    more = len(names) - limit
    return shown + (_(" … et {n} autre(s)", n=more) if more > 0 else "")


def groups_in_reach(
    groups: Sequence[QuestionnaireGroup], around: set[str], min_members: int
) -> list[QuestionnaireGroup]:
    """The questionnaire groups with at least ``min_members`` members in ``around``.

    Without ``per_commune`` the count is a lower bound: every member when all the
    group's communes are in ``around``, else one per commune inside (each listed
    commune has at least one member).
    """
    found = []
    for group in groups:
        inside = [c for c in group.communes if c in around]
        if group.per_commune is not None:
            members = sum(n for c, n in group.per_commune.items() if c in around)
        elif len(inside) == len(group.communes):
            members = group.members
        else:
            members = len(inside)
        if members >= min_members:
            found.append(group)
    return found


def _split_themes(value: object) -> set[str]:
    if value is None or not isinstance(value, str):
        return set()
    return {t for t in value.split(";") if t}


def communities_in_reach(
    structures: pd.DataFrame,
    pairs: pd.DataFrame,
    origins: Sequence[str],
    *,
    rule: BaseCommunityRule | None = None,
    groups: Sequence[QuestionnaireGroup] | None = None,
    own: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The base community, partners and anchors within reach of each origin.

    Parameters
    ----------
    structures
        Classified structures (``identifiant``, ``nom``, ``categorie``, ``themes``,
        ``code_commune``), one row per structure (see
        :func:`tierslieux.analysis.dedup.deduplicate_structures`).
    pairs
        Catchment pairs: ``origin`` (commune or site) -> ``destination`` (commune).
    origins
        The communes or sites to report on, in order.
    rule
        Thresholds of the definition (defaults of :class:`BaseCommunityRule`).
    groups
        Questionnaire groups, when a ``groups.csv`` is given.
    own
        Commune of each origin (default: the origin itself), always in its reach.

    Returns
    -------
    pandas.DataFrame
        Indexed by origin: one count column per category, ``nb_structures_communaute``
        (steps 1, 2, 4), ``nb_partenaires`` (step 3), ``nb_ancrages``, ``nb_types``
        (kinds of carriers: categories of steps 1, 2, 4 present, plus one for
        questionnaire groups), ``types`` (their labels), ``communaute_base`` (bool),
        ``structures_communaute``, ``groupes``, ``partenaires``, ``ancrages`` (names),
        ``theme_set`` (frozenset of the community's themes) and ``themes``.
    """
    rule = rule or BaseCommunityRule()
    origins = [str(o) for o in origins]
    own_communes = [str(c) for c in own] if own is not None else origins
    reach = pd.concat(
        [
            pairs[["origin", "destination"]].astype(str),
            pd.DataFrame({"origin": origins, "destination": own_communes}),
        ]
    ).drop_duplicates()
    located = structures.dropna(subset=["code_commune"])
    located = located.assign(
        nom=located["nom"] if "nom" in located.columns else located["identifiant"],
        code_commune=located["code_commune"].astype(str),
    )[["identifiant", "nom", "categorie", "themes", "code_commune"]]
    joined = reach.merge(located, left_on="destination", right_on="code_commune", how="inner")
    # Names listed in the study's order of the steps, then by name.
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    joined = (
        joined.drop_duplicates(subset=["origin", "identifiant"])
        .assign(_rank=joined["categorie"].map(rank))
        .sort_values(["origin", "_rank", "nom"], kind="stable")
    )
    counts = (
        joined.pivot_table(
            index="origin", columns="categorie", values="identifiant", aggfunc="count", fill_value=0
        )
        .reindex(columns=list(CATEGORIES), fill_value=0)
        .reindex(origins, fill_value=0)
        .astype("int64")
    )
    short = category_short_labels()
    labelled = joined.assign(
        label=[
            f"{n} ({short.get(c, c)})"
            for n, c in zip(joined["nom"], joined["categorie"], strict=True)
        ]
    )
    by_origin = {str(o): frame for o, frame in labelled.groupby("origin", sort=False)}
    catchments = reach.groupby("origin")["destination"].agg(set).to_dict()
    rows = []
    for origin in origins:
        frame = by_origin.get(origin)
        found_groups = (
            groups_in_reach(groups, catchments.get(origin, set()), rule.min_members)
            if groups
            else []
        )
        own_counts = dict(zip(CATEGORIES, counts.loc[origin].to_numpy(dtype="int64"), strict=True))
        rows.append(_reach_row(frame, found_groups, own_counts, rule, short))
    result = pd.DataFrame(rows, index=pd.Index(origins, name="origin"))
    return pd.concat([counts, result], axis=1)


def _reach_row(
    frame: pd.DataFrame | None,
    found_groups: Sequence[QuestionnaireGroup],
    counts: Mapping[str, int],
    rule: BaseCommunityRule,
    short: Mapping[str, str],
) -> dict[str, object]:
    empty = pd.DataFrame(columns=["categorie", "label", "themes"])
    frame = empty if frame is None else frame
    community = frame[frame["categorie"].isin(COMMUNITY_CATEGORIES)]
    partners = frame[frame["categorie"].isin(PARTNER_CATEGORIES)]
    anchors = frame[frame["categorie"].isin(ANCHOR_CATEGORIES)]
    kinds = [short[c] for c in COMMUNITY_CATEGORIES if counts[c] > 0]
    if found_groups:
        kinds.append(_("groupe du questionnaire"))
    themes: set[str] = set()
    for value in community["themes"]:
        themes |= _split_themes(value)
    for group in found_groups:
        themes |= set(group.themes)
    has = len(community) >= rule.min_structures or bool(found_groups)
    return {
        "nb_structures_communaute": len(community),
        "nb_partenaires": len(partners),
        "nb_ancrages": len(anchors),
        "nb_groupes": len(found_groups),
        "nb_types": len(kinds),
        "types": " ; ".join(kinds),
        "communaute_base": has,
        "structures_communaute": name_list(list(community["label"])),
        "groupes": " ; ".join(
            _("groupe {g} ({n} membres)", g=g.ident, n=g.members) for g in found_groups
        ),
        "group_ids": [g.ident for g in found_groups],
        "partenaires": name_list(list(partners["label"])),
        "partner_names": list(partners["label"]),
        "ancrages": name_list(list(anchors["label"])),
        "theme_set": frozenset(themes),
        "themes": ";".join(sorted(themes)),
    }


def openness(row: Mapping[str, object], rule: BaseCommunityRule | None = None) -> tuple[str, str]:
    """Openness level and an actionable French reason, from a :func:`communities_in_reach` row."""
    rule = rule or BaseCommunityRule()
    kinds = int(str(row["nb_types"]))
    anchors = int(str(row["nb_ancrages"]))
    structures = int(str(row["nb_structures_communaute"]))
    partner_names = row["partner_names"]
    assert isinstance(partner_names, list)  # noqa: S101  (built by _reach_row)
    partners = (
        _(
            " Partenaires à solliciter (étape 3) : {names}.",
            names=name_list(partner_names, _NAMED_IN_REASON),
        )
        if partner_names
        else ""
    )
    places = _(" {a} lieu(x) d'accueil ou de réseautage à portée.", a=anchors) if anchors else ""
    if not row["communaute_base"]:
        below = (
            Note.text(
                " {n} structure(s) des étapes 1, 2 ou 4 à portée, moins que les {m} "
                "exigées ({min_structures}).",
                n=structures,
                m=rule.min_structures,
            )
            if structures
            else ""
        )
        return "absente", _(
            "Aucune communauté-base à portée (structure des étapes 1, 2 ou 4, ou groupe "
            "du questionnaire) : dynamique à faire émerger, par exemple avec le "
            "questionnaire.{below}{partners}{places}",
            below=below,
            partners=partners,
            places=places,
        )
    what = str(row["types"])
    if kinds >= 2 and anchors > 0:
        return "ouverte", _(
            "Communauté-base de {k} types ({what}) et {a} lieu(x) d'accueil ou de "
            "réseautage : potentiellement ouverte.{partners}",
            k=kinds,
            what=what,
            a=anchors,
            partners=partners,
        )
    if kinds >= 2:
        return "a_elargir", _(
            "Communauté-base de {k} types ({what}) mais aucun lieu d'accueil ou de "
            "réseautage à portée : trouver un local ouvert (mairie, association, "
            "tiers-lieu voisin).{partners}",
            k=kinds,
            what=what,
            partners=partners,
        )
    if anchors or partner_names:
        return "a_elargir", _(
            "Communauté-base d'un seul type ({what}) : l'ouvrir à d'autres groupes pour "
            "éviter le « simple hôtel d'entreprises » dont l'étude prévient.{places}{partners}",
            what=what,
            places=places,
            partners=partners,
        )
    return "fermee", _(
        "Communauté-base d'un seul type ({what}), sans lieu d'accueil ni partenaire à "
        "portée : risque de communauté fermée (« simple hôtel d'entreprises » selon "
        "l'étude) ; chercher d'autres groupes au-delà du bassin.",
        what=what,
    )


def summarise_communities(
    structures: pd.DataFrame,
    pairs: pd.DataFrame,
    communes: Sequence[str],
    *,
    rule: BaseCommunityRule | None = None,
    groups: Sequence[QuestionnaireGroup] | None = None,
) -> pd.DataFrame:
    """The base community within each commune's catchment and its openness.

    Parameters
    ----------
    structures
        Classified structures, one row per structure.
    pairs
        Catchment pairs (``origin``, ``destination``, ``minutes``).
    communes
        Codes of the communes to report on.
    rule, groups
        Definition thresholds and questionnaire groups (see :func:`communities_in_reach`).

    Returns
    -------
    pandas.DataFrame
        ``code``, one count column per category, ``nb_structures_communaute``,
        ``nb_partenaires``, ``nb_ancrages``, ``nb_groupes``, ``nb_types``,
        ``communaute_base``, ``structures_communaute``, ``groupes``, ``partenaires``,
        ``themes``, ``ouverture`` (one of :data:`OPENNESS_LEVELS`) and
        ``ouverture_raison``.
    """
    reach = communities_in_reach(structures, pairs, communes, rule=rule, groups=groups)
    levels = [
        openness({str(k): v for k, v in row.items()}, rule) for row in reach.to_dict("records")
    ]
    result = reach.drop(columns=["group_ids", "partner_names", "theme_set", "types", "ancrages"])
    result = result.reset_index(names="code")
    result["ouverture"] = [level for level, _reason in levels]
    result["ouverture_raison"] = [reason for _level, reason in levels]
    return result
