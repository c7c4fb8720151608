"""Actors that registers do not list well: a user's own list, intercommunalities, PNR.

Every function returns the canonical *structures* frame (see
:mod:`tierslieux.sources._records`).

**User list of actors** (:func:`load_actors`): a CSV (``,`` or ``;``, UTF-8 or
Windows-1252) with one row per actor and these columns (names without case):

========================  ===========  ===================================================
column                    required     content
========================  ===========  ===================================================
``nom``                   yes          name of the structure or of the role ("Comité de
                                       bassin d'emploi du Pays S.U.D.", "Élu délégué à
                                       l'économie de la commune")
``categorie``             yes          ``cae``, ``scop_scic_tic``, ``acteur_developpement``,
                                       ``association_teleactivites``,
                                       ``tiers_lieu_existant`` or ``point_appui``
``code_commune``          yes          INSEE code (5 characters; arrondissements allowed)
``identifiant``           no           stable id; ``acteur:`` is prefixed when missing;
                                       default ``acteur:<name slug>-<code_commune>``
``themes``                no           theme ids joined by ``;`` or ``|`` (``tic``,
                                       ``communication``, ``ess_cooperation``...)
``latitude``/``longitude`` no          WGS84 decimal degrees (point or comma)
``raison``                no           why this actor matters (French sentence)
``type``, ``web``         no           free kind, web site of the structure
========================  ===========  ===================================================

No other column is accepted.  Columns about people (e-mail, telephone, contact,
référent...) are refused: people are recorded in the contact tracking store
(``tierslieux contacts``), where they can be exported and deleted on request.

**Intercommunalities** (:func:`load_epci_actors`): from a zonings table (``code`` and
``epci`` columns, e.g. :class:`~tierslieux.sources.zonages.Zonages.table`, or the INSEE
``CODGEO``/``EPCI``/``LIBEPCI`` composition).

**Regional natural parks** (:func:`load_pnr`): a CSV ``code_pnr,nom_pnr,code_commune``,
one row per member commune (``,`` or ``;``; aliases ``pnr``/``id_pnr``/``code``,
``libpnr``/``lib_pnr``/``libelle_pnr``/``nom``, ``codgeo``/``code_insee``/``insee_com``).
No official table of member communes in a published tabular format was found (the INPN
and Fédération des PNR publish contours); a user can build this CSV from a charter's
list of communes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.errors import SchemaError
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import commune_of_arrondissement, normalise_commune_code
from tierslieux.model.structures import CATEGORIES, THEMES, category_labels
from tierslieux.model.types import Provenance
from tierslieux.sources._files import find_column, find_optional_column, read_csv_strings, sha256_of
from tierslieux.sources._records import (
    commune_code,
    filter_communes,
    parse_coordinate,
    personal_columns,
    raise_problems,
    structures_frame,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "ACTOR_COLUMNS",
    "PNR_ALIASES",
    "load_actors",
    "load_epci_actors",
    "load_pnr",
]

#: Columns accepted in a user list of actors (the first three are required).
ACTOR_COLUMNS: tuple[str, ...] = (
    "nom",
    "categorie",
    "code_commune",
    "identifiant",
    "themes",
    "latitude",
    "longitude",
    "raison",
    "type",
    "web",
)
_REQUIRED = ACTOR_COLUMNS[:3]
#: Words that, in a column name, reveal data about people.
_PEOPLE_WORDS = frozenset({"contact", "referent", "referente", "prenom", "responsable", "personne"})

#: Canonical field -> accepted column names of a PNR member list.
PNR_ALIASES: dict[str, tuple[str, ...]] = {
    "code_pnr": ("code_pnr", "pnr", "id_pnr", "code"),
    "nom_pnr": ("nom_pnr", "libpnr", "lib_pnr", "libelle_pnr", "nom"),
    "code_commune": ("code_commune", "codgeo", "code_insee", "insee_com", "depcom"),
}
_EPCI_THEMES = "economie_locale"


def _plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _slug(name: str) -> str:
    return _plain(name).replace("_", "-")[:60] or "acteur"


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------------------
# User list
# --------------------------------------------------------------------------------------


def load_actors(
    path: Path, *, communes: Sequence[str] | None = None
) -> tuple[pd.DataFrame, Provenance]:
    """Read a user-supplied list of actors that no register holds.

    Parameters
    ----------
    path
        CSV in the format described in the module documentation.
    communes
        INSEE codes of the communes to keep (all when ``None``).

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        Canonical structures frame (extras ``type``, ``web``, ``code_commune_source``)
        and provenance.

    Raises
    ------
    SourceError
        Missing or empty file.
    SchemaError
        Columns about people (with where to record people instead), unknown or missing
        columns, unknown category or theme, invalid commune code or coordinate, duplicate
        identifier; every problem is listed with its line.
    """
    frame = read_csv_strings(path, role=_("acteurs"))
    columns = list(frame.columns)
    people = [
        c
        for c in columns
        if c in personal_columns([c]) or set(_plain(c).split("_")) & _PEOPLE_WORDS
    ]
    if people:
        raise SchemaError(
            _(
                "{path} : colonne(s) de données personnelles refusée(s) : {columns}. La liste "
                "d'acteurs décrit des structures ; enregistrez les personnes (nom, courriel, "
                "téléphone) dans le suivi des contacts (commande « tierslieux contacts »), où "
                "elles peuvent être exportées et effacées sur demande, puis retirez ces colonnes.",
                path=path,
                columns=", ".join(people),
            )
        )
    by_key = {_plain(c): c for c in columns}
    unknown = [c for c in columns if _plain(c) not in ACTOR_COLUMNS]
    missing = [c for c in _REQUIRED if c not in by_key]
    if unknown or missing:
        details = []
        if missing:
            details.append(_("colonne(s) obligatoire(s) absente(s) : {c}", c=", ".join(missing)))
        if unknown:
            details.append(_("colonne(s) inconnue(s) : {c}", c=", ".join(unknown)))
        raise SchemaError(
            _(
                "{path}, ligne 1 : {details} (colonnes admises : {allowed}).",
                path=path,
                details=" ; ".join(details),
                allowed=", ".join(ACTOR_COLUMNS),
            )
        )
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    labels = category_labels()
    source = _("Liste d'acteurs fournie ({name})", name=path.name)
    for index, row in enumerate(frame.to_dict("records")):
        where = _("ligne {n}", n=index + 2)
        values = {key: _text(row[column]) for key, column in by_key.items()}
        record = _actor_record(values, where, problems, labels, source)
        if record is None:
            continue
        if record["identifiant"] in seen:
            problems.append(
                _(
                    "{where} : identifiant {id} déjà utilisé ligne {first}",
                    where=where,
                    id=record["identifiant"],
                    first=seen[record["identifiant"]],
                )
            )
            continue
        seen[record["identifiant"]] = index + 2
        records.append(record)
    raise_problems(problems, path, _("acteurs"))
    result = structures_frame(records, ("type", "web", "code_commune_source"))
    provenance = Provenance(
        role="acteurs",
        location=str(path),
        sha256=sha256_of(path),
        notes=(_("Liste d'acteurs saisie par l'utilisateur : {n} acteur(s).", n=len(result)),),
    )
    return filter_communes(result, communes), provenance


def _actor_record(
    values: Mapping[str, str | None],
    where: str,
    problems: list[str],
    labels: Mapping[str, str],
    source: str,
) -> dict[str, Any] | None:
    before = len(problems)
    nom, categorie = values.get("nom"), values.get("categorie")
    if nom is None:
        problems.append(_("{where} : nom vide", where=where))
    if categorie is None or categorie not in CATEGORIES:
        problems.append(
            _(
                "{where}, colonne categorie : « {value} » inconnue (attendu l'une de : {expected})",
                where=where,
                value=categorie or "",
                expected=", ".join(CATEGORIES),
            )
        )
    code, code_source = commune_code(
        values.get("code_commune"), where=where, column="code_commune", problems=problems
    )
    if code is None and values.get("code_commune") is None:
        problems.append(_("{where} : code_commune vide", where=where))
    themes = [t.strip() for t in re.split(r"[;|,]", values.get("themes") or "") if t.strip()]
    bad = [t for t in themes if t not in THEMES]
    if bad:
        problems.append(
            _(
                "{where}, colonne themes : {bad} inconnu(s) (attendu parmi : {expected})",
                where=where,
                bad=", ".join(bad),
                expected=", ".join(THEMES),
            )
        )
    latitude = parse_coordinate(
        values.get("latitude"), kind="latitude", where=where, problems=problems
    )
    longitude = parse_coordinate(
        values.get("longitude"), kind="longitude", where=where, problems=problems
    )
    if len(problems) > before or nom is None or categorie is None or code is None:
        return None
    given = values.get("identifiant")
    if given is None:
        identifiant = f"acteur:{_slug(nom)}-{code}"
    else:
        identifiant = given if given.startswith("acteur:") else f"acteur:{given}"
    # A reason that is a message (the demonstration's actors) is written in the current
    # language; a team's own sentence stays as written.
    given_reason = values.get("raison")
    return {
        "identifiant": identifiant,
        "nom": nom,
        "categorie": categorie,
        "themes": ";".join(dict.fromkeys(themes)),
        "code_commune": code,
        "latitude": latitude,
        "longitude": longitude,
        "source": source,
        "raison": _(given_reason)
        if given_reason
        else _("Acteur signalé par l'équipe du projet : {label}.", label=labels[categorie]),
        "type": values.get("type"),
        "web": values.get("web"),
        "code_commune_source": code_source,
    }


# --------------------------------------------------------------------------------------
# Intercommunalities
# --------------------------------------------------------------------------------------


def load_epci_actors(
    zonages_or_epci_table: pd.DataFrame,
    labels: Mapping[str, str],
    communes: Sequence[str],
    *,
    population: Mapping[Any, Any] | None = None,
    vintage: str | None = None,
    territory: Collection[str] | None = None,
) -> pd.DataFrame:
    """Return one development actor per intercommunality covering the territory.

    Parameters
    ----------
    zonages_or_epci_table
        One row per commune with a commune code column (``code``, ``CODGEO``...) and an
        ``epci`` column (SIREN of the EPCI; NA rows are skipped), and optionally
        ``libepci`` (labels used when ``labels`` lacks one).
    labels
        EPCI SIREN -> name (e.g. ``Zonages.labels["epci"]``).
    communes
        INSEE codes of the territory; an EPCI is kept when one of its members is there.
    population
        Commune code -> population: the row is placed in the most populous member
        commune of the territory (else the first member code in order).
    vintage
        Vintage of the table, shown in ``source``.
    territory
        The territory's own communes when ``communes`` also holds neighbours within
        reach: an intercommunality with no member among them is said to be a
        neighbour, not one « couvrant le territoire ».

    Returns
    -------
    pandas.DataFrame
        Canonical structures frame, ``identifiant`` ``epci:<siren>``, ``categorie``
        ``acteur_developpement``, ``themes`` ``economie_locale``, no coordinates; extra
        ``nb_communes_territoire`` (members within the territory).

    Raises
    ------
    SchemaError
        When the table has no commune code or EPCI column.
    """
    columns = [str(c) for c in zonages_or_epci_table.columns]
    what = _("table des intercommunalités")
    code_col = find_column(
        columns, ("code", "codgeo", "code_commune", "insee_com", "com"), path=what, what="code"
    )
    epci_col = find_column(columns, ("epci", "siren_epci", "code_epci"), path=what, what="epci")
    label_col = find_optional_column(columns, ("libepci", "lib_epci", "nom_epci"))
    wanted = {commune_of_arrondissement(str(c).strip()) for c in communes}
    table = zonages_or_epci_table.assign(
        _code=zonages_or_epci_table[code_col].map(
            lambda v: commune_of_arrondissement(normalise_commune_code(v) or "")
        ),
        _epci=zonages_or_epci_table[epci_col].map(_text),
    )
    table = table[table["_code"].isin(wanted) & table["_epci"].notna()]
    source = _("INSEE intercommunalités") + (f" {vintage}" if vintage else "")
    inside = (
        None
        if territory is None
        else {commune_of_arrondissement(str(c).strip()) for c in territory}
    )
    records = []
    for siren, group in table.groupby("_epci", sort=True):
        members = sorted(set(group["_code"]))
        seat = _most_populous(members, population)
        name = labels.get(str(siren))
        if name is None and label_col is not None:
            name = next((t for t in group[label_col].map(_text) if t), None)
        records.append(
            {
                "identifiant": f"epci:{siren}",
                "nom": name or _("Intercommunalité {siren}", siren=siren),
                "categorie": "acteur_developpement",
                "themes": _EPCI_THEMES,
                "code_commune": seat,
                "latitude": None,
                "longitude": None,
                "source": source,
                "raison": _(
                    "Intercommunalité couvrant le territoire : interlocuteur naturel (chargé "
                    "de mission développement économique), étape 3 de la méthode."
                )
                if inside is None or inside & set(members)
                else _(
                    "Intercommunalité voisine, à portée des communes du territoire : "
                    "interlocuteur naturel (chargé de mission développement économique), "
                    "étape 3 de la méthode."
                ),
                "nb_communes_territoire": len(members),
            }
        )
    frame = structures_frame(records, ("nb_communes_territoire",))
    frame["nb_communes_territoire"] = frame["nb_communes_territoire"].astype("int64")
    return frame


def _most_populous(members: Sequence[str], population: Mapping[Any, Any] | None) -> str:
    if population:
        # Values may come straight from a frame (``Series.to_dict()``): numbers or NaN.
        known = [(float(population[m]), m) for m in members if population.get(m) is not None]
        known = [(p, m) for p, m in known if p == p]  # noqa: PLR0124  (drop NaN)
        if known:
            best = max(p for p, _m in known)
            return min(m for p, m in known if p == best)
    return members[0]


# --------------------------------------------------------------------------------------
# Regional natural parks
# --------------------------------------------------------------------------------------


def load_pnr(
    path: Path,
    *,
    communes: Sequence[str] | None = None,
    population: Mapping[Any, Any] | None = None,
) -> tuple[pd.DataFrame, Provenance]:
    """Read the member communes of regional natural parks; one actor per park.

    Parameters
    ----------
    path
        CSV ``code_pnr,nom_pnr,code_commune`` (aliases in :data:`PNR_ALIASES`), one row
        per member commune.
    communes
        INSEE codes of the territory: a park is kept when one of its members is there
        (all parks when ``None``).
    population
        Commune code -> population: the row is placed in the most populous member of
        the territory (else the first member code).

    Returns
    -------
    tuple of pandas.DataFrame and Provenance
        Canonical structures frame, ``identifiant`` ``pnr:<code>``, ``categorie``
        ``acteur_developpement``, ``themes`` ``economie_locale``, no coordinates; extra
        ``nb_communes_territoire``.

    Raises
    ------
    SourceError
        Missing or empty file.
    SchemaError
        Missing column, empty park code, invalid commune code (lines listed).
    """
    frame = read_csv_strings(path, role=_("parcs naturels régionaux"))
    columns = list(frame.columns)
    found = {k: find_column(columns, a, path=path, what=k) for k, a in PNR_ALIASES.items()}
    problems: list[str] = []
    members: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for index, row in enumerate(frame.to_dict("records")):
        where = _("ligne {n}", n=index + 2)
        code_pnr = _text(row[found["code_pnr"]])
        if code_pnr is None:
            problems.append(_("{where} : code du parc vide", where=where))
            continue
        code, _source = commune_code(
            row[found["code_commune"]], where=where, column=found["code_commune"], problems=problems
        )
        if code is None:
            if _text(row[found["code_commune"]]) is None:
                problems.append(_("{where} : code commune vide", where=where))
            continue
        members.setdefault(code_pnr, set()).add(code)
        if (name := _text(row[found["nom_pnr"]])) is not None:
            names.setdefault(code_pnr, name)
    raise_problems(problems, path, _("parcs naturels régionaux"))
    wanted = None if communes is None else {commune_of_arrondissement(str(c)) for c in communes}
    source = _("Parcs naturels régionaux ({name})", name=path.name)
    records = []
    for code_pnr in sorted(members):
        inside = sorted(members[code_pnr] if wanted is None else members[code_pnr] & wanted)
        if not inside:
            continue
        records.append(
            {
                "identifiant": f"pnr:{code_pnr}",
                "nom": names.get(code_pnr, _("Parc naturel régional {code}", code=code_pnr)),
                "categorie": "acteur_developpement",
                "themes": _EPCI_THEMES,
                "code_commune": _most_populous(inside, population),
                "latitude": None,
                "longitude": None,
                "source": source,
                "raison": _(
                    "Parc naturel régional couvrant {n} commune(s) du territoire : son chargé "
                    "de mission développement économique est un interlocuteur de l'étape 3 de "
                    "la méthode.",
                    n=len(inside),
                ),
                "nb_communes_territoire": len(inside),
            }
        )
    result = structures_frame(records, ("nb_communes_territoire",))
    result["nb_communes_territoire"] = result["nb_communes_territoire"].astype("int64")
    provenance = Provenance(
        role="pnr",
        location=str(path),
        sha256=sha256_of(path),
        notes=(_("{n} parc(s) lu(s), {k} retenu(s).", n=len(members), k=len(result)),),
    )
    return result, provenance
