"""Use cases of the web application's projects: territory, members, input files.

A project is a territory written as on the command line (``region:93``, ``dep:05``,
``epci:200067437``, ``bv:04070``, ``france``) or a list of communes
(``communes:05061,05023``, codes separated by commas), chosen by its official name
from the communes reference of the workspace (:class:`TerritoryIndex`), with its
input files (read and checked by the same readers as the command line) and its runs.

Access (:func:`can_view`, :func:`can_edit`): an administrator reaches every project; a
chargé de mission changes the projects they belong to; a lecteur only reads the
projects they belong to.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from tierslieux.errors import Problem, SchemaError, TerritoryError, TierslieuxError
from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import normalise_commune_code
from tierslieux.model.territory import Territory, parse_territory
from tierslieux.pipeline._prepared_inputs import keep_prepared
from tierslieux.pipeline.inputs import (
    InputFiles,
    find_inputs,
    open_mobpro_input,
    resolve_communes,
    resolve_zonages,
    territory_name_in,
    zone_names,
)
from tierslieux.pipeline.readers import (
    read_demand_table,
    read_groups,
    read_respondents,
    read_structures_table,
)
from tierslieux.sources.actors import load_actors
from tierslieux.sources.candidates import load_candidate_places
from tierslieux.sources.communes import load_communes
from tierslieux.sources.densite import load_densite
from tierslieux.sources.places import load_tiers_lieux
from tierslieux.sources.zonages import load_zonages
from tierslieux.store import (
    DatasetView,
    InvalidValueError,
    ProjectView,
    ProjectVisit,
    UnknownRecordError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from tierslieux.config import Settings
    from tierslieux.pipeline.workspace import Workspace
    from tierslieux.sources.communes import Communes
    from tierslieux.sources.densite import Densite
    from tierslieux.sources.zonages import Zonages
    from tierslieux.store import Repositories, UserView

__all__ = [
    "DATASET_ROLES",
    "DatasetView",
    "ProjectView",
    "ProjectVisit",
    "TerritoryChoice",
    "TerritoryIndex",
    "access_rights",
    "add_member",
    "can_edit",
    "can_view",
    "create_project",
    "data_folder_index",
    "dataset_label",
    "get_project",
    "materialise_dataset",
    "materialise_datasets",
    "project_datasets",
    "project_visit",
    "projects_for",
    "rights",
    "upload_dataset",
    "write_dataset",
]

#: Input files a project can hold, with their name for the reader.
DATASET_ROLES: dict[str, str] = {
    "communes": N_("communes : noms et coordonnées (CSV, JSON de l'API Géo)"),
    "contours": N_("contours des communes (GeoJSON, GeoPackage, Shapefile zippé)"),
    "zonages": N_("zonages des communes (table d'appartenance de l'Insee)"),
    "densite": N_("grille communale de densité (Insee)"),
    "mobpro": N_("recensement, mobilités professionnelles (FD_MOBPRO, Parquet, flux)"),
    "structures": N_("annuaire des structures (structures.csv des communautés-base)"),
    "tiers_lieux": N_("tiers-lieux existants (recensement CGET / France Tiers-Lieux, CSV)"),
    "acteurs": N_("acteurs ajoutés à la main pour l'annuaire (fichier CSV d'acteurs)"),
    # The other files of « tierslieux sites » (its --groups, --demand, --candidats,
    # --repondants), offered on the experimentation sites' form.
    "groupes": N_("groupes du questionnaire (groups.csv des résultats du questionnaire)"),
    "demande": N_("demande à utiliser pour les sites (CSV code,demand[,km])"),
    "candidats": N_("lieux candidats (CSV nom, latitude, longitude[, code_commune, identifiant])"),
    "repondants": N_(
        "répondants du questionnaire (respondents.csv des résultats du questionnaire)"
    ),
}
_KIND_NAMES = {
    "region": N_("Région"),
    "dep": N_("Département"),
    "epci": N_("EPCI"),
    "bv": N_("Bassin de vie"),
    "communes": N_("Commune"),
    "all": N_("France entière"),
}
#: Where each kind's code is found: column of the zonings, else of the communes table.
_LEVELS = {"region": "reg", "dep": "dep", "epci": "epci", "bv": "bv2022"}
_CODE_LIST = re.compile(r"^[0-9AB]{5}(\s*,\s*[0-9AB]{5})*$", re.IGNORECASE)
_SHOWN_NAMES = 3
#: Signatures of files that are never input data (a picture or a document picked by
#: mistake), for a message that says so instead of the reader's encoding error.
_NOT_DATA = {
    b"\x89PNG\r\n\x1a\n": N_("une image PNG"),
    b"\xff\xd8\xff": N_("une image JPEG"),
    b"GIF8": N_("une image GIF"),
    b"%PDF-": N_("un document PDF"),
}


def dataset_label(role: str) -> str:
    """What a project's input file of ``role`` is, in words."""
    return _(DATASET_ROLES.get(role, role))


def _fold(text: str) -> str:
    """Lower case without accents, hyphens as spaces (« Saint-Étienne » → « saint etienne »)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[\s\-'’]+", " ", plain).strip()


@dataclass(frozen=True, slots=True)
class TerritoryChoice:
    """A territory offered to a project: its specification, its name and its size."""

    spec: str
    kind: str
    code: str
    name: str
    communes: int

    @property
    def kind_label(self) -> str:
        """« Département », « Commune »..."""
        return _(_KIND_NAMES[self.kind])

    @property
    def label(self) -> str:
        """« Hautes-Alpes (département 05, 162 communes) », « Gap (commune 05061) »;
        without a reference, the generic name alone (« Département 05 »)."""
        if self.kind == "communes" and self.communes == 1:
            return _("{name} (commune {code})", name=self.name, code=self.code)
        if self.communes == 0:
            generic = Territory(self.kind, self.code).label()  # type: ignore[arg-type]
            if self.name == generic:
                return generic
            return _(
                "{name} ({kind} {code})",
                name=self.name,
                kind=self.kind_label if self.kind == "epci" else self.kind_label.lower(),
                code=self.code,
            )
        return _(
            "{name} ({kind} {code}, {n} communes)",
            name=self.name,
            kind=self.kind_label if self.kind == "epci" else self.kind_label.lower(),
            code=self.code,
            n=self.communes,
        )


class TerritoryIndex:
    """The territories of a communes reference (workspace), searchable by name."""

    def __init__(self, choices: list[TerritoryChoice], commune_names: dict[str, str]) -> None:
        self.choices = choices
        self.commune_names = commune_names
        self._folded = [(_fold(c.name), c) for c in choices]
        self._by_spec = {c.spec: c for c in choices}

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> TerritoryIndex:
        """Every région, département, EPCI, bassin de vie and commune of a workspace."""
        return cls.from_reference(workspace.communes, workspace.zonages)

    @classmethod
    def from_reference(cls, communes: Communes, zonages: Zonages | None) -> TerritoryIndex:
        """Every région, département, EPCI, bassin de vie and commune of a communes
        reference (a workspace's, or the files of the installation's data folder),
        named by every name the files give (:func:`~tierslieux.pipeline.inputs.zone_names`)."""
        table = communes.table
        codes = table["code"].map(normalise_commune_code)
        names = dict(zip(codes, table["nom"].astype("string").fillna(""), strict=True))
        zonings = zonages.table if zonages is not None else None
        labels = zone_names(communes, zonages)
        choices: list[TerritoryChoice] = []
        for kind, level in _LEVELS.items():
            column = _level_column(codes, table, zonings, level)
            if column is None:
                continue
            counts = column.dropna().astype(str).value_counts()
            for code, count in sorted(counts.items()):
                name = labels.get(level, {}).get(str(code)) or Territory(kind, str(code)).label()  # type: ignore[arg-type]
                choices.append(TerritoryChoice(f"{kind}:{code}", kind, str(code), name, int(count)))
        for code, name in sorted(names.items()):
            if code:
                choices.append(
                    TerritoryChoice(f"communes:{code}", "communes", code, name or code, 1)
                )
        return cls(choices, {c: n for c, n in names.items() if c})

    def search(self, query: str, *, limit: int = 20) -> list[TerritoryChoice]:
        """Territories whose name holds every word of ``query`` (accents and case ignored).

        A query that is a specification (``dep:05``) or a code (``05``, ``05061``) finds
        that territory first.  Larger territories come first, then names starting
        with the query.
        """
        folded = _fold(query)
        if not folded:
            return []
        words = folded.split()
        exact = [
            c for c in self.choices if query.strip().lower() in {c.spec.lower(), c.code.lower()}
        ]
        named = [
            c for name, c in self._folded if all(word in name for word in words) and c not in exact
        ]
        order = list(_KIND_NAMES)
        named.sort(
            key=lambda c: (order.index(c.kind), not _fold(c.name).startswith(folded), _fold(c.name))
        )
        return (exact + named)[:limit]

    def get(self, spec: str) -> TerritoryChoice | None:
        """The territory of a specification, when the reference has it."""
        return self._by_spec.get(spec)


def data_folder_index(settings: Settings) -> TerritoryIndex | None:
    """The territories of the installation's data folder (``settings.data_dir``), for
    an installation without workspace: its communes and zonings files, read as the
    command line reads them (nothing is downloaded); ``None`` without such files."""
    if settings.data_dir is None or not find_inputs(settings.data_dir, "communes"):
        return None
    try:
        communes = resolve_communes(settings, ())
        zonages = resolve_zonages(settings, None)
    except TierslieuxError:
        return None
    return TerritoryIndex.from_reference(communes, zonages)


def _level_column(
    codes: pd.Series, table: pd.DataFrame, zonings: pd.DataFrame | None, level: str
) -> pd.Series | None:
    if zonings is not None and level in zonings.columns:
        by_code = dict(
            zip(zonings["code"].map(normalise_commune_code), zonings[level], strict=True)
        )
        return codes.map(by_code)
    short = {"reg": "reg", "dep": "dep", "epci": "epci"}.get(level)
    if short is not None and short in table.columns:
        return table[short].where(table[short].astype("string").str.len() > 0)
    return None


def resolve_territory(spec: str, index: TerritoryIndex | None) -> TerritoryChoice:
    """Check a project's territory and name it from the reference (when there is one).

    Raises
    ------
    TerritoryError
        When the specification is malformed, names a file (the web application takes
        communes by code), or names nothing of the reference.
    """
    text = spec.strip()
    kind_text, _sep, rest = text.partition(":")
    if kind_text.strip().lower() in {"communes", "commune"} and _CODE_LIST.match(rest.strip()):
        codes = sorted({normalise_commune_code(c.strip()) or "" for c in rest.split(",")})
        unknown = [c for c in codes if index is not None and c not in index.commune_names]
        if unknown:
            raise TerritoryError(
                _("Communes inconnues du référentiel : {codes}.", codes=", ".join(unknown))
            )
        names = [index.commune_names[c] if index is not None else c for c in codes]
        shown = ", ".join(names[:_SHOWN_NAMES]) + (" …" if len(names) > _SHOWN_NAMES else "")
        return TerritoryChoice(
            "communes:" + ",".join(codes), "communes", ",".join(codes), shown, len(codes)
        )
    territory = parse_territory(text)
    if territory.kind == "communes":
        raise TerritoryError(
            _(
                "Territoire « {spec} » : dans l'application, une liste de communes s'écrit "
                "avec leurs codes Insee séparés par des virgules (communes:05061,05023).",
                spec=spec,
            )
        )
    if territory.kind == "all":
        total = len(index.commune_names) if index is not None else 0
        return TerritoryChoice("france", "all", "", _("France entière"), total)
    found = index.get(territory.spec()) if index is not None else None
    if index is not None and found is None:
        raise TerritoryError(
            _(
                "Le territoire {spec} n'est pas dans le référentiel des communes de "
                "l'espace de travail.",
                spec=territory.spec(),
            )
        )
    return found or TerritoryChoice(
        territory.spec(), territory.kind, territory.code, territory.label(), 0
    )


# -- access ----------------------------------------------------------------------------


def can_view(repos: Repositories, user: UserView, project: int) -> bool:
    """Whether ``user`` may read ``project`` (administrator, or a member)."""
    return user.role == "administrateur" or repos.projects.is_member(project, user.id)


def can_edit(repos: Repositories, user: UserView, project: int) -> bool:
    """Whether ``user`` may change ``project`` (administrator, or a chargé de mission member)."""
    if user.role == "administrateur":
        return True
    return user.role == "charge_de_mission" and repos.projects.is_member(project, user.id)


def access_rights(repos: Repositories, user: UserView, project: int) -> tuple[bool, bool]:
    """``(can_view, can_edit)`` of ``user`` on ``project``, with one look at the members."""
    if user.role == "administrateur":
        return True, True
    return rights(user, member=repos.projects.is_member(project, user.id))


def rights(user: UserView, *, member: bool) -> tuple[bool, bool]:
    """``(can_view, can_edit)`` of ``user`` on a project they are (or not) a member of."""
    if user.role == "administrateur":
        return True, True
    return member, member and user.role == "charge_de_mission"


def project_visit(repos: Repositories, user: int, project: int) -> ProjectVisit:
    """The user (an id), the project and the membership, read together (see
    :meth:`~tierslieux.store.ProjectRepository.visit`): what every request on a project
    checks, read again on each (a disabled or removed user is refused at once)."""
    return repos.projects.visit(project, user)


def projects_for(repos: Repositories, user: UserView) -> list[ProjectView]:
    """The projects ``user`` may read: all for an administrator, else their own."""
    if user.role == "administrateur":
        return repos.projects.list_projects()
    return repos.projects.list_projects(member=user.id)


def get_project(repos: Repositories, project: int) -> ProjectView:
    """A project by id (:class:`~tierslieux.store.UnknownRecordError` when there is none)."""
    return repos.projects.get_project(project)


# -- changes ---------------------------------------------------------------------------


def create_project(
    repos: Repositories,
    *,
    name: str,
    territory: str,
    index: TerritoryIndex | None,
    actor: UserView,
    description: str | None = None,
    ip: str | None = None,
) -> ProjectView:
    """Create a project on a territory; its creator (a chargé de mission) becomes a member.

    Raises
    ------
    TerritoryError, InvalidValueError
        When the territory or the name is refused.
    """
    choice = resolve_territory(territory, index)
    project = repos.projects.add_project(
        name,
        territory=choice.spec,
        territory_label=choice.name if choice.kind in {"communes", "all"} else choice.label,
        description=description,
        actor=actor.login,
        ip=ip,
    )
    if actor.role != "administrateur":
        repos.projects.add_member(project.id, actor.id, actor=actor.login, ip=ip)
    return project


def add_member(
    repos: Repositories, project: int, login: str, *, actor: UserView, ip: str | None = None
) -> UserView:
    """Make the user ``login`` (or e-mail address) a member of ``project``.

    Raises
    ------
    UnknownRecordError
        When no such user or project exists.
    """
    user = repos.users.get_user(login)
    repos.projects.add_member(project, user.id, actor=actor.login, ip=ip)
    return user


def project_datasets(repos: Repositories, project: int) -> list[DatasetView]:
    """The input files of a project."""
    return repos.projects.datasets(project)


def _safe_name(filename: str, role: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or role


def _without_folder(problem: Problem, path: Path, name: str) -> Problem:
    """``problem`` with ``path`` (a temporary copy of an upload) written as ``name``."""

    def plain(value: object) -> object:
        if isinstance(value, PurePath):
            value = str(value)
        if isinstance(value, str):
            # The path itself first, then its folder (a reader may name a member or a sibling).
            return value.replace(str(path), name).replace(str(path.parent) + os.sep, "")
        return value

    params = {key: plain(value) for key, value in problem.params.items()}
    msgid = str(plain(problem.msgid)) if problem.translated else problem.msgid
    location = None if problem.path is None else str(plain(problem.path))
    return dataclasses.replace(problem, msgid=msgid, params=params, path=location)


#: Readers of the site selection's files (those of ``tierslieux sites``): lines read.
_SITES_READERS: dict[str, Callable[[Path], int]] = {
    "groupes": lambda path: len(read_groups(path)),
    "demande": lambda path: len(read_demand_table(path)[0]),
    "candidats": lambda path: len(load_candidate_places(path)),
    "repondants": lambda path: len(read_respondents(path)),
}


#: The roles of a project's communes files, merged as the command line's repeated
#: ``--communes`` (a names/coordinates CSV and the outlines).
COMMUNES_ROLES = ("communes", "contours")


def _check_communes(
    settings: Settings, role: str, path: Path, group: tuple[Path, ...]
) -> tuple[Communes, Communes]:
    """A communes or outlines file read, then merged with the project's other one as
    the command line merges its repeated ``--communes`` (the same code path, the
    files in the order of :data:`COMMUNES_ROLES`, as a project's inputs are read).

    Returns the file's own communes and the merge."""
    own = load_communes(path)
    if role == "contours" and not own.geometries:
        raise SchemaError(
            _(
                "{path} : aucun contour de commune (attendu des polygones, dans un "
                "GeoJSON, un GeoPackage ou un Shapefile) : déposez ce fichier comme "
                "« {other} ».",
                path=path,
                other=dataset_label("communes"),
            )
        )
    try:
        # The command line's merge of its --communes files: the same code path.
        merged = resolve_communes(settings, group or (path,))
    except SchemaError as error:
        if role != "communes" or len(group) > 1:
            raise
        hint = Problem(
            "{refused} Dans l'application : déposez d'abord les contours des communes "
            "(donnée « {role} »), puis ce fichier.",
            {"refused": error.problems[0], "role": dataset_label("contours")},
        )
        raise SchemaError(hint, *error.problems[1:]) from error
    return own, merged


def _check_file(
    settings: Settings,
    role: str,
    path: Path,
    group: tuple[Path, ...] = (),
    territory: Territory | None = None,
) -> tuple[dict[str, Any], Communes | Zonages | Densite | None]:
    """Read ``path`` with the reader of ``role`` (as the CLI does); return its summary
    and what a project's inputs take from it (the communes merged, the zonings, the
    density grid; ``None`` for the other files).

    ``group``: a communes file with the project's other one, in the order of
    :data:`COMMUNES_ROLES`, read as the command line reads its repeated ``--communes``
    (one loader, one merge).  ``territory``: the project's; the summary's
    ``nom_territoire`` is its official name when the file gives it (zonings' labels,
    zone names of a communes file).
    """
    names: dict[str, dict[str, str]] = {}
    read: Communes | Zonages | Densite | None = None
    if role in COMMUNES_ROLES:
        own, read = _check_communes(settings, role, path, group)
        provenance, rows = own.provenance, len(own.table)
        names = zone_names(own, None)
    elif role == "zonages":
        read = zonages = load_zonages(path)
        provenance, rows = zonages.provenance, len(zonages.table)
        names = zone_names(None, zonages)
    elif role == "densite":
        read = densite = load_densite(path)
        provenance, rows = densite.provenance, len(densite.table)
    elif role == "structures":
        return {"rows": len(read_structures_table(path)), "vintage": None, "synthetic": False}, None
    elif role == "tiers_lieux":
        places, provenance = load_tiers_lieux(path)
        rows = len(places)
    elif role == "acteurs":
        actors, provenance = load_actors(path)
        rows = len(actors)
    elif role in _SITES_READERS:
        return {"rows": _SITES_READERS[role](path), "vintage": None, "synthetic": False}, None
    else:
        census = open_mobpro_input(settings, path)
        provenance, rows = census.provenance, census.rows or 0
    summary: dict[str, Any] = {"vintage": provenance.vintage, "synthetic": provenance.synthetic}
    if rows:
        summary["rows"] = rows
    if territory is not None and (name := territory_name_in(names, territory)):
        summary["nom_territoire"] = name
    return summary, read


def _project_territory(repos: Repositories, project: int) -> Territory | None:
    try:
        return parse_territory(repos.projects.get_project(project).territory)
    except TierslieuxError:
        return None


def _name_the_territory(
    repos: Repositories, project: int, name: str, *, actor: str, ip: str | None
) -> None:
    """Give the project's territory the official name a file gave, when it has none
    (« Département 05 » becomes « Hautes-Alpes (département 05) »)."""
    view = repos.projects.get_project(project)
    try:
        territory = parse_territory(view.territory)
    except TierslieuxError:
        return
    generic = territory.label()
    if not view.territory_label.startswith(generic) or name == generic:
        return
    choice = TerritoryChoice(territory.spec(), territory.kind, territory.code, name, 0)
    repos.projects.update_project(
        project,
        expected_version=view.version,
        actor=actor,
        territory_label=choice.label,
        ip=ip,
    )


def upload_dataset(  # noqa: PLR0913 - keyword-only fields of one upload
    repos: Repositories,
    settings: Settings,
    project: int,
    *,
    role: str,
    filename: str,
    content: bytes,
    actor: UserView,
    media_type: str = "application/octet-stream",
    ip: str | None = None,
) -> DatasetView:
    """Check an uploaded input file with the CLI's reader, then keep it with the project.

    Raises
    ------
    InvalidValueError
        When the role is unknown or the file empty.
    TierslieuxError
        The reader's error (file, line, column and what was expected) when the file is
        refused; nothing is stored then.
    """
    if role not in DATASET_ROLES:
        raise InvalidValueError(
            _(
                "Type de fichier inconnu « {role} » (attendu : {expected}).",
                role=role,
                expected=", ".join(DATASET_ROLES),
            )
        )
    if not content:
        raise InvalidValueError(_("Le fichier « {name} » est vide.", name=filename))
    kind = next((k for magic, k in _NOT_DATA.items() if content.startswith(magic)), None)
    if kind is not None:
        raise InvalidValueError(
            _(
                "Fichier « {name} » refusé : c'est {kind}, pas un fichier de données "
                "(attendu : {expected}).",
                name=filename,
                kind=_(kind),
                expected=dataset_label(role),
            )
        )
    name = _safe_name(filename, role)
    with tempfile.TemporaryDirectory(prefix="tierslieux-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        others = _other_communes_files(repos, project, role, Path(folder), name)
        group = sorted(
            [(role, path), *((d.role, p) for d, p in others)], key=lambda g: _role_order(g[0])
        )
        territory = _project_territory(repos, project)
        try:
            summary, read = _check_file(
                settings, role, path, tuple(p for _r, p in group) if others else (), territory
            )
        except TierslieuxError as error:
            # The reader names the file by its path in the server's temporary folder:
            # the person who uploaded it knows it by its name only.
            problems = [_without_folder(p, path, name) for p in error.problems]
            raise type(error)(
                *problems, summary=_("Fichier « {name} » refusé : {{problems}}", name=name)
            ) from error
        dataset = repos.projects.put_dataset(
            project,
            role=role,
            filename=name,
            media_type=media_type,
            content=content,
            summary=summary,
            actor=actor.login,
            ip=ip,
        )
        if read is not None:
            # What the check read is what the project's screens read: kept prepared,
            # the first screen of each process does not read the files again.
            views = sorted([dataset, *(d for d, _p in others)], key=lambda d: _role_order(d.role))
            keep_prepared(settings, views, [p for _r, p in group], read)
    if found := summary.get("nom_territoire"):
        _name_the_territory(repos, project, str(found), actor=actor.login, ip=ip)
    return dataset


def _role_order(role: str) -> int:
    """Rank of a communes file's role in :data:`COMMUNES_ROLES` (the merge's order)."""
    return COMMUNES_ROLES.index(role) if role in COMMUNES_ROLES else -1


def _other_communes_files(
    repos: Repositories, project: int, role: str, folder: Path, name: str
) -> list[tuple[DatasetView, Path]]:
    """The project's other communes file (outlines for a CSV, and back), written out
    beside the upload (in a sub-folder when both have one name)."""
    if role not in COMMUNES_ROLES:
        return []
    found: list[tuple[DatasetView, Path]] = []
    for dataset in repos.projects.datasets(project):
        if dataset.role not in COMMUNES_ROLES or dataset.role == role:
            continue
        here = folder
        if _safe_name(dataset.filename, dataset.role) == name:
            here = folder / "autres"
        try:
            found.append((dataset, write_dataset(repos, dataset, here)))
        except UnknownRecordError:  # pragma: no cover - replaced meanwhile
            continue
    return found


def materialise_datasets(repos: Repositories, project: int, folder: Path) -> InputFiles:
    """Write a project's input files into ``folder``; return them as the use cases take them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for dataset in repos.projects.datasets(project):
        try:
            paths[dataset.role] = write_dataset(repos, dataset, folder)
        except UnknownRecordError:  # pragma: no cover - replaced meanwhile
            continue
    return InputFiles(
        # Both communes files, merged as the command line's repeated --communes.
        communes=tuple(paths[role] for role in COMMUNES_ROLES if role in paths),
        zonages=paths.get("zonages"),
        mobpro=paths.get("mobpro"),
        densite=paths.get("densite"),
    )


def write_dataset(repos: Repositories, dataset: DatasetView, folder: Path) -> Path:
    """Write one input file of a project into ``folder`` (named as uploaded); its path.

    Raises
    ------
    UnknownRecordError
        When the project no longer has a file of that role.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _safe_name(dataset.filename, dataset.role)
    path.write_bytes(repos.projects.dataset_content(dataset.project_id, dataset.role))
    return path


def materialise_dataset(repos: Repositories, project: int, role: str, folder: Path) -> Path | None:
    """Write a project's input file of ``role`` into ``folder``; ``None`` without one."""
    for dataset in repos.projects.datasets(project):
        if dataset.role == role:
            return write_dataset(repos, dataset, folder)
    return None


def territory_display_name(
    label: str, territory: str, project_label: str, index: TerritoryIndex | None = None
) -> str:
    """The territory's official name for people (residents, readers of a result).

    ``label`` as a run read it from the project's files; when they name the territory
    only by its code (zonings without their labels: « EPCI 200067742 »), the name in
    the reference ``index``, else the name the project was created with
    (« Communauté de communes Serre-Ponçon », its code and size left out).
    """
    try:
        generic = parse_territory(territory).label()
        if label and label != generic:
            return label
        if index is not None:
            name = resolve_territory(territory, index).name
            if name and name != generic:
                return name
    except TierslieuxError:
        return label
    if project_label.endswith(")") and " (" in project_label:
        return project_label.rsplit(" (", 1)[0].strip() or label
    return label or project_label
