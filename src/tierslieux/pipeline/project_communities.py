"""Use cases of a project's directory of base communities (the web application's screen).

The directory of a project is what ``tierslieux communities`` then ``tierslieux
contacts load`` produce on the command line, kept in the store:

1. :func:`compute_directory` takes the project's inputs as every screen does
   (:func:`~tierslieux.pipeline.project_runs.project_inputs`: its own communes,
   zonings... when it has some, else the workspace's), the registries
   (Sirene, RNA, tiers-lieux, stations, digital mediation) from the installation's data
   folder (``TIERSLIEUX_DATA_DIR``, the CLI's ``--data``) and the project's list of
   actors, then runs :func:`~tierslieux.pipeline.communities.run_communities`; the files
   of the CLI (``structures.csv``, ``communities.csv``...) are stored as the results of
   a run of kind :data:`DIRECTORY_KIND` linked to the project, and ``structures.csv`` is
   loaded into the contact store exactly as ``contacts load`` does
   (:func:`~tierslieux.pipeline.contacts.read_structures`, then the idempotent upsert).
2. :func:`project_directory` reads the latest finished directory back (parsed once per
   process and run), :func:`filter_structures` filters it by step of the study, theme,
   commune and openness, :func:`project_contacts` lists the contact records of its
   structures.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierslieux.i18n import current_language, translate_stored
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import (
    ANCHOR_CATEGORIES,
    CATEGORIES,
    OPENNESS_LABELS,
    PARTNER_CATEGORIES,
    STEP_OF,
    category_labels,
    category_short_labels,
    theme_labels,
)
from tierslieux.model.text import collation_key
from tierslieux.pipeline.communities import Communities, CommunitiesRequest, run_communities
from tierslieux.pipeline.contacts import UpsertReport, list_contacts, read_structures
from tierslieux.pipeline.database import open_store
from tierslieux.pipeline.project_runs import ProjectRuns, RunOutcome, project_inputs
from tierslieux.sources._files import read_csv_strings

if TYPE_CHECKING:
    from datetime import date

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback
    from tierslieux.store import (
        ContactView,
        ProjectView,
        Repositories,
        RunView,
        UserView,
    )

__all__ = [
    "DIRECTORY_FILES",
    "DIRECTORY_KIND",
    "STEPS",
    "ContactPage",
    "Directory",
    "DirectoryBuild",
    "DirectoryFilter",
    "Renderer",
    "compute_directory",
    "directory_file",
    "directory_map",
    "directory_request",
    "filter_structures",
    "filtered_rows",
    "latest_directory_run",
    "openness_label",
    "pending_directory_run",
    "project_contact_page",
    "project_contacts",
    "project_directory",
    "start_directory",
    "step_labels",
    "summary_text",
    "themes_label",
]

#: Kind of the runs that build a project's directory.
DIRECTORY_KIND = "communities"
#: Result files of a directory run (the CLI's files, plus the map of communes).
DIRECTORY_FILES: dict[str, str] = {
    "structures.csv": "text/csv; charset=utf-8",
    "structures.geojson": "application/geo+json",
    "communities.csv": "text/csv; charset=utf-8",
    "communes.geojson": "application/geo+json",
    "sources.json": "application/json",
    "communities.html": "text/html; charset=utf-8",
}
#: The filters "step of the study": step -> categories (step 3: partners; step 4: the
#: carriers of a dynamic, tele-activities and everyday-life associations; then the
#: anchors, existing places and support points).
STEPS: dict[str, tuple[str, ...]] = {
    "1": ("cae",),
    "2": ("scop_scic_tic",),
    "3": PARTNER_CATEGORIES,
    "4": ("association_teleactivites", "association_vie_quotidienne"),
    "ancrages": ANCHOR_CATEGORIES,
}
#: Parsed directories kept per process (run id -> directory).
_CACHE_SIZE = 8
#: Filtered lists kept per directory.
_FILTERS_KEPT = 256
_cache: OrderedDict[str, Directory] = OrderedDict()
_cache_lock = threading.Lock()
_reading: dict[str, threading.Lock] = {}

#: ``render(result, geometries)``: the files of a directory (``reports.communities``).
Renderer = Callable[[Communities, Mapping[str, Mapping[str, Any]]], Iterable[tuple[str, bytes]]]


def step_labels() -> dict[str, str]:
    """The filter values of the step of the study, in the study's words."""
    return {
        "1": _("Étape 1 : coopératives d'activité et d'emploi (CAE)"),
        "2": _("Étape 2 : SCOP et SCIC du numérique et de la communication"),
        "3": _("Étape 3 : acteurs du développement local (partenaires, pas une communauté)"),
        "4": _("Étape 4 : personnes et associations portant une dynamique (dont vie quotidienne)"),
        "ancrages": _("Ancrages : tiers-lieux existants et points d'appui"),
    }


def openness_label(code: str | None) -> str:
    """« ouverte », « à élargir »... for an openness code; « — » when none."""
    if not code:
        return "—"
    return _(OPENNESS_LABELS[code]) if code in OPENNESS_LABELS else code


def themes_label(text: str | None) -> str:
    """The themes of a structure (``tic;communication``) in words, comma-separated."""
    labels = theme_labels()
    codes = [c.strip() for c in str(text or "").replace("|", ";").split(";") if c.strip()]
    return ", ".join(labels.get(code, code) for code in codes)


def _step_of(category: str) -> str:
    if category in ANCHOR_CATEGORIES:
        return "ancrages"
    return str(STEP_OF.get(category, ""))


@dataclass(frozen=True)
class Directory:
    """A project's directory as stored by its latest finished run.

    Attributes
    ----------
    run
        The run that built it.
    structures
        ``structures.csv`` read back, plus ``etape`` (filter value of its category),
        ``categorie_libelle``, ``themes_libelle``, ``commune``, ``ouverture`` (openness
        of its commune's base community, empty outside the territory) and ``score``
        (numeric, ``NaN`` for the rows of lists that have none).
    communities
        ``communities.csv`` read back (one row per commune of the territory).
    sources
        ``sources.json`` (inputs and their vintages, notes).
    """

    run: RunView
    structures: pd.DataFrame
    communities: pd.DataFrame
    sources: dict[str, Any]
    #: Filtered lists already computed (filter -> rows), kept with the directory.
    _filtered: dict[DirectoryFilter, pd.DataFrame] = field(
        default_factory=dict, repr=False, compare=False
    )
    _rows: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def notes(self) -> list[str]:
        """What the build said (missing registries, merged duplicates...)."""
        return [translate_stored(str(n)) for n in self.sources.get("notes", [])]

    def themes(self) -> list[tuple[str, str]]:
        """Themes present, ``(code, label)`` sorted by label."""
        return list(self._memo("themes", self._themes))

    def _memo(self, key: str, compute: Callable[[], Any]) -> Any:  # noqa: ANN401
        with self._lock:
            found = self._rows.get("_" + key)
        if found is None:
            found = {"value": compute()}
            with self._lock:
                self._rows["_" + key] = found
        return found["value"]

    def _themes(self) -> list[tuple[str, str]]:
        labels = theme_labels()
        codes: set[str] = set()
        for text in self.structures["themes"]:
            codes.update(c.strip() for c in str(text).replace("|", ";").split(";") if c.strip())
        return sorted(
            ((c, labels.get(c, c)) for c in codes), key=lambda pair: collation_key(pair[1])
        )

    def communes(self) -> list[tuple[str, str]]:
        """Communes with a structure, ``(code, name)`` sorted by name."""
        return list(self._memo("communes", self._communes))

    def _communes(self) -> list[tuple[str, str]]:
        pairs = dict(zip(self.structures["code_commune"], self.structures["commune"], strict=True))
        return sorted(pairs.items(), key=lambda pair: (collation_key(pair[1] or pair[0]), pair[0]))

    def structure(self, identifiant: str) -> dict[str, Any] | None:
        """One structure's row, or ``None``."""
        index: dict[str, dict[str, Any]] = self._memo(
            "index",
            lambda: {
                str(row["identifiant"]): {str(k): v for k, v in row.items()}
                for row in self.structures.to_dict(orient="records")
            },
        )
        return index.get(identifiant)

    def category_counts(self) -> list[tuple[str, str, int]]:
        """``(category, label, count)`` of every category, in the study's order."""
        return list(self._memo("categories", self._category_counts))

    def _category_counts(self) -> list[tuple[str, str, int]]:
        counts = self.structures["categorie"].value_counts()
        labels = category_labels()
        return [(c, labels.get(c, c), int(counts.get(c, 0))) for c in CATEGORIES]

    def identifiants(self) -> frozenset[str]:
        """The identifiers of the directory's structures."""
        found: frozenset[str] = self._memo(
            "identifiants", lambda: frozenset(str(i) for i in self.structures["identifiant"])
        )
        return found

    def commune_of(self) -> Mapping[str, str]:
        """Structure identifier → name of its commune (shared: not to be changed)."""
        found: Mapping[str, str] = self._memo(
            "commune_of",
            lambda: dict(
                zip(self.structures["identifiant"], self.structures["commune"], strict=True)
            ),
        )
        return found


@dataclass(frozen=True)
class DirectoryFilter:
    """The filters of the directory screen (empty: no filter)."""

    step: str = ""
    theme: str = ""
    commune: str = ""
    openness: str = ""
    territory_only: bool = False


def filter_structures(directory: Directory, chosen: DirectoryFilter) -> pd.DataFrame:
    """The directory's structures kept by ``chosen``, sorted by step then name.

    Computed once per directory and filter (the directory is read-only).
    """
    with directory._lock:  # noqa: SLF001 - the directory's own memo
        found = directory._filtered.get(chosen)  # noqa: SLF001
    if found is None:
        found = _filter_structures(directory, chosen)
        with directory._lock:  # noqa: SLF001
            if len(directory._filtered) > _FILTERS_KEPT:  # noqa: SLF001
                directory._filtered.clear()  # noqa: SLF001
            directory._filtered[chosen] = found  # noqa: SLF001
    return found


def filtered_rows(directory: Directory, chosen: DirectoryFilter) -> list[dict[str, Any]]:
    """The rows of :func:`filter_structures` as dictionaries (computed once per filter).

    The list and its rows are shared between requests: callers must not change them.
    """
    key = f"rows:{chosen!r}"
    with directory._lock:  # noqa: SLF001 - the directory's own memo
        found = directory._rows.get(key)  # noqa: SLF001
    if found is None:
        rows = [
            {str(k): v for k, v in row.items()}
            for row in filter_structures(directory, chosen).to_dict(orient="records")
        ]
        found = {"value": rows}
        with directory._lock:  # noqa: SLF001
            if len(directory._rows) > _FILTERS_KEPT:  # noqa: SLF001
                for name in [k for k in directory._rows if k.startswith("rows:")]:  # noqa: SLF001
                    del directory._rows[name]  # noqa: SLF001
            directory._rows[key] = found  # noqa: SLF001
    rows_found: list[dict[str, Any]] = found["value"]
    return rows_found


def _filter_structures(directory: Directory, chosen: DirectoryFilter) -> pd.DataFrame:
    frame = directory.structures
    keep = pd.Series(data=True, index=frame.index)
    if chosen.step:
        keep &= frame["etape"] == chosen.step
    if chosen.theme:
        keep &= frame["themes"].map(
            lambda text: chosen.theme in str(text).replace("|", ";").split(";")
        )
    if chosen.commune:
        keep &= frame["code_commune"] == chosen.commune
    if chosen.openness:
        keep &= frame["ouverture"] == chosen.openness
    if chosen.territory_only:
        keep &= ~frame["hors_territoire"]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    kept = frame[keep]
    return kept.assign(
        _ordre=kept["categorie"].map(order).fillna(len(order)),
        _nom=kept["nom"].map(lambda name: collation_key(name)[0]),
    ).sort_values(["_ordre", "_nom", "nom", "identifiant"], kind="stable")[frame.columns]


# -- reading back ------------------------------------------------------------------------


def latest_directory_run(repos: Repositories, project: int) -> RunView | None:
    """The project's most recent finished directory run, or ``None``."""
    return repos.runs.latest_done_run(project, DIRECTORY_KIND)


def directory_file(repos: Repositories, run_id: str, name: str, folder: Path) -> Path:
    """Write the file ``name`` of the directory run ``run_id`` (``structures.csv``...)
    into ``folder`` as the command line wrote it; return its path.

    The one way the other screens read a directory's files (the run's results in the
    store, never a copy among the project's files): the sites screen hands the path to
    the reader of ``tierslieux sites --structures``.

    Raises
    ------
    UnknownRecordError
        When the run has no such file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(repos.runs.read_result(run_id, name))
    return path


def _read_table(repos: Repositories, run_id: str, name: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="tierslieux-annuaire-") as folder:
        path = directory_file(repos, run_id, name, Path(folder))
        return read_csv_strings(path, role=name).astype("string").fillna("")


def _boolean(values: pd.Series) -> pd.Series:
    return values.astype(str).str.lower().isin({"true", "1", "vrai", "oui"})


def _directory(repos: Repositories, run: RunView, names: Mapping[str, str]) -> Directory:
    structures = _read_table(repos, run.id, "structures.csv")
    communities = _read_table(repos, run.id, "communities.csv")
    sources = json.loads(repos.runs.read_result(run.id, "sources.json").decode("utf-8"))
    labels = category_labels()
    openness = dict(zip(communities["code"], communities["ouverture"], strict=True))
    for column in ("latitude", "longitude", "score"):
        values = structures[column] if column in structures.columns else pd.Series(dtype=str)
        structures[column] = pd.to_numeric(values.reindex(structures.index), errors="coerce")
    structures["hors_territoire"] = _boolean(structures["hors_territoire"])
    structures["position_approchee"] = _boolean(structures["position_approchee"])
    structures["etape"] = structures["categorie"].map(_step_of)
    structures["categorie_libelle"] = structures["categorie"].map(lambda c: labels.get(c, c))
    structures["themes_libelle"] = structures["themes"].map(themes_label)
    # Reasons are written in the build's language (French by default): shown in the
    # page's language when they are the catalogue's sentences, the package's rules
    # included (a user's own rule or sentence stays as written).
    if current_language() != "fr" and "raison" in structures.columns:
        structures["raison"] = structures["raison"].map(translate_stored)
    community_names = dict(zip(communities["code"], communities["nom"], strict=True))
    structures["commune"] = structures["code_commune"].map(
        lambda code: names.get(code) or community_names.get(code) or code
    )
    structures["ouverture"] = structures["code_commune"].map(lambda c: openness.get(c, ""))
    return Directory(run, structures, communities, sources)


def project_directory(
    repos: Repositories, project: int, *, commune_names: Mapping[str, str] | None = None
) -> Directory | None:
    """The project's latest directory (``None`` before the first build).

    Parsed once per process, run and language (its labels, its reasons and notes are
    in the current language: :func:`~tierslieux.i18n.translate_stored`);
    ``commune_names`` (INSEE code → name, the workspace's) names the communes of the
    structures outside the territory.
    """
    run = latest_directory_run(repos, project)
    if run is None:
        return None
    # The labels (categories, themes) are in the page's language: one copy per language.
    key = f"{run.id}:{current_language()}"
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
        reading = _reading.setdefault(key, threading.Lock())
    # One thread reads a directory; the others wait for it instead of reading it too.
    with reading:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
        directory = _directory(repos, run, commune_names or {})
        with _cache_lock:
            _cache[key] = directory
            _reading.pop(key, None)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return directory


def directory_map(repos: Repositories, directory: Directory) -> bytes:
    """``communes.geojson`` of the directory in the current language: the indicators'
    names of its map (``indicateurs_carte``) and the openness of each commune were
    written in the build's language; they are translated back from the catalogue
    (:func:`~tierslieux.i18n.translate_stored`).  Computed once per directory."""

    def compute() -> bytes:
        content = repos.runs.read_result(directory.run.id, "communes.geojson")
        if current_language() == "fr":
            return content
        collection = json.loads(content.decode("utf-8"))
        for indicator in collection.get("indicateurs_carte", {}).get("indicateurs", []):
            if isinstance(indicator.get("libelle"), str):
                indicator["libelle"] = translate_stored(indicator["libelle"])
        for feature in collection.get("features", []):
            properties = feature.get("properties") or {}
            if isinstance(properties.get("ouverture"), str):
                properties["ouverture"] = translate_stored(properties["ouverture"])
        return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    found: bytes = directory._memo("communes_map", compute)  # noqa: SLF001 - its own memo
    return found


def project_contacts(
    settings: Settings,
    directory: Directory,
    *,
    status: str | None = None,
    owner: str | None = None,
    commune: str | None = None,
    due_before: date | None = None,
) -> list[ContactView]:
    """The contact records of the directory's structures (``contacts list`` filters)."""
    wanted = set(directory.structures["identifiant"])
    found = list_contacts(
        settings, status=status, owner=owner, commune=commune, due_before=due_before
    )
    return [contact for contact in found if contact.identifiant in wanted]


@dataclass(frozen=True)
class ContactPage:
    """One page of the contact records of a directory (:func:`project_contact_page`).

    ``shown`` records kept by the filters, ``total`` records of the directory's
    structures, ``owners`` their people in charge (sorted), ``page`` of ``pages``.
    """

    contacts: list[ContactView]
    shown: int
    total: int
    owners: list[str]
    page: int
    pages: int


def project_contact_page(
    settings: Settings,
    directory: Directory,
    *,
    page: int = 1,
    rows: int = 100,
    status: str | None = None,
    owner: str | None = None,
    commune: str | None = None,
    due_before: date | None = None,
) -> ContactPage:
    """A page of the contact records of the directory's structures, filtered in SQL.

    The same records, in the same order, as :func:`project_contacts` (``contacts
    list``'s filters); ``page`` is brought within the pages there are.

    Raises
    ------
    UnknownStatusError
        When ``status`` names no status.
    """
    contacts = open_store(settings).contacts
    among = directory.identifiants()
    total, owners = contacts.contacts_overview(among)

    def read(offset: int, limit: int) -> tuple[int, list[ContactView]]:
        return contacts.contacts_page(
            among,
            status=status,
            owner=owner,
            commune=commune,
            due_before=due_before,
            offset=offset,
            limit=limit,
        )

    # One scan for the page asked; a second only when it lies beyond the last page.
    wanted = max(page, 1)
    shown, found = read((wanted - 1) * rows, rows)
    pages = max(1, -(-shown // rows))
    page = min(wanted, pages)
    if page != wanted:
        found = read((page - 1) * rows, rows)[1]
    return ContactPage(found, shown, total, owners, page, pages)


# -- building --------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryBuild:
    """Outcome of :func:`compute_directory`: the run's outcome, the directory, the load."""

    outcome: RunOutcome
    result: Communities
    loaded: UpsertReport


def _commune_list(project: ProjectView, folder: Path) -> str:
    """The territory as the CLI takes it (a list of codes becomes a list file)."""
    kind, _sep, rest = project.territory.partition(":")
    if kind == "communes":
        path = folder / "communes.txt"
        path.write_text("\n".join(rest.split(",")) + "\n", encoding="utf-8")
        return f"communes:{path}"
    return project.territory


def directory_request(
    repos: Repositories, project: ProjectView, folder: Path
) -> CommunitiesRequest:
    """The request of a project's directory: its territory and its ``acteurs`` file
    (written to ``folder``).  The other inputs are the project's
    (:func:`~tierslieux.pipeline.project_runs.project_inputs`); the registries (Sirene,
    RNA, tiers-lieux...) the installation's data folder's, as ``--data`` on the
    command line.
    """
    acteurs = folder / "acteurs.csv"
    actors = [d for d in repos.projects.datasets(project.id) if d.role == "acteurs"]
    if actors:
        acteurs.write_bytes(repos.projects.dataset_content(project.id, "acteurs"))
    return CommunitiesRequest(
        territory=_commune_list(project, folder),
        acteurs=acteurs if actors else None,
    )


def compute_directory(
    repos: Repositories,
    settings: Settings,
    project: ProjectView,
    *,
    workspace: Path,
    render: Renderer,
    progress: ProgressCallback | None = None,
) -> DirectoryBuild:
    """Compute the project's directory and load it into the contact store.

    ``render(result, geometries)`` gives the files to keep
    (:func:`tierslieux.reports.communities.directory_files`: those of ``tierslieux
    communities`` and the map of communes): the same numbers as the command line on
    the same inputs.  ``structures.csv`` is then loaded as ``tierslieux contacts load``
    does (idempotent: known structures keep their history).

    Raises
    ------
    TierslieuxError
        The error of the inputs or of the computation.
    """
    with (
        tempfile.TemporaryDirectory(prefix="tierslieux-annuaire-") as name,
        project_inputs(repos, settings, project.id, workspace, mobpro=False) as inputs,
    ):
        folder = Path(name)
        request = directory_request(repos, project, folder)
        result = run_communities(settings, request, progress, inputs=inputs)
        files = list(render(result, inputs.communes.geometries))
        path = folder / "structures.csv"
        path.write_bytes(dict(files)["structures.csv"])
        rows = read_structures(path)
    loaded = repos.structures.upsert_structures(rows) if rows else UpsertReport()
    counts = result.structures["categorie"].value_counts().to_dict()
    summary = {
        "structures": len(result.structures),
        "categories": {str(k): int(v) for k, v in counts.items()},
        "communes_avec_communaute": int(result.communities["communaute_base"].sum()),
        "communes": len(result.communities),
        "contacts_nouveaux": loaded.inserted,
        "contacts_mis_a_jour": loaded.updated,
    }
    vintages = {p.role: p.vintage for p in result.provenance if p.vintage}
    outcome = RunOutcome(
        summary=summary, files=files, vintages=vintages, media_types=DIRECTORY_FILES
    )
    return DirectoryBuild(outcome, result, loaded)


def start_directory(
    runs: ProjectRuns,
    settings: Settings,
    project: ProjectView,
    *,
    workspace: Path,
    render: Renderer,
    actor: UserView,
    ip: str | None = None,
) -> RunView:
    """Start the build of the project's directory as a run (:class:`ProjectRuns`).

    The run is returned ``queued``; once ``done`` it holds the files and
    :func:`project_directory` reads it.
    """

    def use_case(*, progress: ProgressCallback) -> RunOutcome:
        return compute_directory(
            runs.repos, settings, project, workspace=workspace, render=render, progress=progress
        ).outcome

    return runs.start(
        project.id,
        DIRECTORY_KIND,
        use_case,
        actor=actor.login,
        parameters={"territoire": project.territory},
        ip=ip,
    )


def pending_directory_run(repos: Repositories, project: int) -> RunView | None:
    """The project's directory run still queued or running, if any (the latest created)."""
    return repos.runs.latest_pending_run(project, DIRECTORY_KIND)


def summary_text(summary: Mapping[str, Any]) -> str:
    """The CLI's summary of a directory run (« N structures (...) ; B commune(s)... »)."""
    categories = summary.get("categories", {})
    labels = category_short_labels()
    return _(
        "{n} structures ({detail}) ; {b} commune(s) sur {c} avec une communauté-base à portée.",
        n=summary.get("structures", 0),
        detail=", ".join(f"{labels.get(k, k)} {v}" for k, v in sorted(categories.items())) or "—",
        b=summary.get("communes_avec_communaute", 0),
        c=summary.get("communes", 0),
    )
