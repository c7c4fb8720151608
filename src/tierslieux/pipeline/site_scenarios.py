"""Use cases of the site-selection screen: scenario parameters, saved scenarios, comparison.

A scenario is what a user chooses on the form, the same options as ``tierslieux
sites`` that do not name a file: number of sites, objective, catchment minutes,
constraints (base community in each catchment, distinct themes, minimum per
intercommunality, rural communes), existing tiers-lieux kept or excluded, and the
CO₂ take-up model.  :func:`parse_scenario` turns the form's text into typed
parameters, gathering every problem with its field (:class:`~tierslieux.errors.Problem`);
:func:`scenario_request` builds the :class:`~tierslieux.pipeline.sites.SitesRequest`
of a project's territory and files.  Scenarios are saved in the store
(:class:`~tierslieux.store.ScenarioRepository`) with the project's id among their
parameters (``projet``), and :func:`compare_scenarios` puts their parameters and the
results of their latest finished run side by side.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierslieux.analysis.commute_co2 import DEFAULT_GAIN_MINIMAL
from tierslieux.errors import Problem, SchemaError, TierslieuxError, default_label
from tierslieux.i18n import N_, format_datetime, format_figure, format_number, format_percent
from tierslieux.i18n import gettext as _
from tierslieux.model.codes import named_code
from tierslieux.model.rurality import RURAL_FOCUS
from tierslieux.model.siting import format_gap
from tierslieux.model.structures import (
    COMMUNITY_CATEGORIES,
    DEFAULT_MIN_MEMBERS,
    DEFAULT_MIN_STRUCTURES,
)
from tierslieux.pipeline.inputs import InputFiles
from tierslieux.pipeline.project_communities import directory_file, latest_directory_run
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.projects import dataset_label, materialise_dataset
from tierslieux.pipeline.sites import (
    OBJECTIVES,
    TIERS_LIEUX_MODES,
    SitesRequest,
    SitesResult,
    choose_sites,
    load_site_files,
)
from tierslieux.store import RunView, ScenarioView, UnknownRecordError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tierslieux.config import Settings
    from tierslieux.model.types import ProgressCallback
    from tierslieux.store import Repositories, UserView

__all__ = [
    "FILE_OPTIONS",
    "OBJECTIVE_LABELS",
    "RUN_KIND",
    "RURAL_LABELS",
    "SCENARIO_DEFAULTS",
    "STRUCTURES_SOURCES",
    "TIERS_LIEUX_LABELS",
    "RunView",
    "ScenarioColumn",
    "ScenarioView",
    "StructuresDefault",
    "check_launchable",
    "chosen_files",
    "compare_scenarios",
    "default_structures",
    "describe_parameters",
    "latest_done_run",
    "parse_scenario",
    "project_scenario",
    "project_scenarios",
    "resolve_structures",
    "run_project_sites",
    "save_scenario",
    "scenario_request",
    "structures_default",
    "structures_file",
    "structures_text",
    "with_defaults",
]

#: Kind of the site selection's runs in the store.
RUN_KIND = "sites"
#: Largest catchment or exclusion in minutes, and solver time in seconds (as the CLI).
MAX_MINUTES = 24 * 60.0
MAX_SECONDS = 24 * 3600.0
MAX_SITES = 500

OBJECTIVE_LABELS = {
    "couverture": N_("usagers potentiels couverts (couverture maximale)"),
    "co2": N_("CO₂ évité sur les trajets domicile-travail"),
}
TIERS_LIEUX_LABELS = {
    "garder": N_("gardés comme sites (comptés dans le nombre de sites)"),
    "exclure": N_("exclus : pas de nouveau site à proximité"),
}
#: Where the base communities' structures come from (``structures``, the scenario's
#: ``--structures``): the project's latest finished directory run (« annuaire », the
#: default: the structures.csv of the base communities screen, read from the run's
#: results), the project's file of role ``structures`` (a corrected copy, say), or none.
STRUCTURES_SOURCES = ("annuaire", "structures", "")
#: Key of a run's parameters naming the directory run whose structures it used, and
#: when that run finished (ISO, UTC), for the results page.
DIRECTORY_RUN_KEY = "annuaire_calcul"
DIRECTORY_DATE_KEY = "annuaire_date"
RURAL_LABELS = {
    "non": N_("toutes les communes"),
    "candidats": N_("sites dans des communes rurales seulement"),
    "candidats-et-demande": N_("sites et demande des communes rurales seulement"),
}

#: Parameters of a new scenario (the CLI's defaults; ``minutes`` None = the setting).
SCENARIO_DEFAULTS: dict[str, Any] = {
    "count": 3,
    "objective": "couverture",
    "minutes": None,
    "base_community": False,
    "distinct_themes": True,
    "min_structures": DEFAULT_MIN_STRUCTURES,
    "min_members": DEFAULT_MIN_MEMBERS,
    "tiers_lieux_mode": "garder",
    "exclusion_minutes": None,
    "min_per_epci": 0,
    "rural": "non",
    "neighbours": True,
    "gain_minimal": DEFAULT_GAIN_MINIMAL,
    "users_share": None,
    "days_per_week": None,
    "working_days": None,
    "time_limit": 60.0,
    "structures": "annuaire",
    "groups": "",
    "demand": "",
    "candidates": "",
    "respondents": "",
}
#: The scenario's files: parameter -> role of the project's input file it names (the
#: ``--groups``, ``--demand``, ``--candidats`` and ``--repondants`` of ``tierslieux
#: sites``); the parameter is ``""`` (no file) or that role.
FILE_OPTIONS: dict[str, str] = {
    "groups": "groupes",
    "demand": "demande",
    "candidates": "candidats",
    "respondents": "repondants",
}
#: Parameters a scenario saved before they existed lacks: what it did then (its
#: structures were the project's file).
_SAVED_BEFORE: dict[str, Any] = {"structures": "structures"}
_BOOLEANS = ("base_community", "distinct_themes", "neighbours")
_CHOICES = {
    "structures": STRUCTURES_SOURCES,
    "objective": OBJECTIVES,
    "tiers_lieux_mode": TIERS_LIEUX_MODES,
    "rural": RURAL_FOCUS,
}
#: Integer fields: (minimum, maximum).
_INTEGERS = {
    "count": (1, MAX_SITES),
    "min_structures": (1, 1000),
    "min_members": (1, 1000),
    "min_per_epci": (0, MAX_SITES),
}
#: Number fields: (lowest excluded, highest included, optional).
_NUMBERS = {
    "minutes": (0.0, MAX_MINUTES, True),
    "exclusion_minutes": (0.0, MAX_MINUTES, True),
    "gain_minimal": (-1e-9, MAX_MINUTES, False),
    "users_share": (0.0, 1.0, True),
    "days_per_week": (0.0, 5.0, True),
    "working_days": (0.0, 366.0, True),
    "time_limit": (0.0, MAX_SECONDS, False),
}


def _values(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's parameters completed with the defaults (a saved scenario, which
    names its project, with those of :data:`_SAVED_BEFORE` for the keys it lacks)."""
    base = SCENARIO_DEFAULTS | (_SAVED_BEFORE if "projet" in parameters else {})
    return base | dict(parameters)


def _number(text: str) -> float:
    value = float(text.strip().replace(",", ".").replace("\u202f", "").replace(" ", ""))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _parse_integer(name: str, text: str, problems: list[Problem]) -> int | None:
    low, high = _INTEGERS[name]
    try:
        value = _number(text)
    except ValueError:
        value = math.nan
    if not value.is_integer() or not low <= value <= high:
        problems.append(
            Problem.of(
                "{label} : « {value} » n'est pas un nombre entier entre {low} et {high}.",
                field=name,
                label=_input_label(name),
                value=text,
                low=low,
                high=high,
            )
        )
        return None
    return int(value)


def _parse_number(name: str, text: str, problems: list[Problem]) -> float | None:
    low, high, optional = _NUMBERS[name]
    if not text.strip():
        if optional:
            return None
        problems.append(
            Problem.of("{label} est obligatoire.", field=name, label=_input_label(name))
        )
        return None
    try:
        value = _number(text)
    except ValueError:
        value = math.nan
    if not (value > low and value <= high):
        problems.append(
            Problem.of(
                "{label} : « {value} » n'est pas un nombre supérieur à {low} et au plus {high}.",
                field=name,
                label=_input_label(name),
                value=text,
                low=format_number(max(low, 0.0)),
                high=format_number(high),
            )
        )
        return None
    return value


def _input_label(name: str) -> str:
    return default_label(name) if name != "base_community" else _("« communauté-base »")


def _parse_files(form: Mapping[str, str], values: dict[str, Any], problems: list[Problem]) -> None:
    """The file options of the form (:data:`FILE_OPTIONS`): ``""`` or the option's role."""
    for name, role in FILE_OPTIONS.items():
        if name not in form:
            continue
        text = str(form[name]).strip()
        if text not in {"", role}:
            problems.append(
                Problem.of(
                    "{label} : « {value} » n'est pas un fichier possible (attendu : le "
                    "fichier « {role} » du projet, ou aucun).",
                    field=name,
                    label=_input_label(name),
                    value=text,
                    role=role,
                )
            )
        values[name] = text


def parse_scenario(form: Mapping[str, str]) -> dict[str, Any]:
    """Typed scenario parameters from a form's text fields (missing ones: defaults).

    Check boxes are present (any value but ``""``, ``0``, ``non``) or absent; a form
    without the field ``_cases`` keeps the defaults of absent check boxes.

    Raises
    ------
    SchemaError
        With one :class:`~tierslieux.errors.Problem` per faulty field (``field`` is
        the parameter's name), every problem found.
    """
    problems: list[Problem] = []
    values = dict(SCENARIO_DEFAULTS)
    for name in _INTEGERS:
        if name in form:
            values[name] = _parse_integer(name, str(form[name]), problems)
    for name in _NUMBERS:
        if name in form:
            values[name] = _parse_number(name, str(form[name]), problems)
    for name, known in _CHOICES.items():
        if name in form:
            text = str(form[name]).strip()
            if text not in known:
                problems.append(
                    Problem.of(
                        "{label} : « {value} » inconnu (attendu : {known}).",
                        field=name,
                        label=_input_label(name),
                        value=text,
                        known=", ".join(k or "« »" for k in known),
                    )
                )
            values[name] = text
    _parse_files(form, values, problems)
    if "_cases" in form:
        for name in _BOOLEANS:
            values[name] = str(form.get(name, "")).strip().lower() not in {"", "0", "non", "false"}
    count, per_epci = values.get("count"), values.get("min_per_epci")
    if isinstance(count, int) and isinstance(per_epci, int) and per_epci > count:
        problems.append(
            Problem.of(
                "{min_per_epci} ({m}) ne peut pas dépasser le nombre de sites ({k}).",
                field="min_per_epci",
                m=per_epci,
                k=count,
            )
        )
    if problems:
        raise SchemaError(*problems)
    return values


def scenario_request(
    parameters: Mapping[str, Any],
    *,
    territory: str,
    files: InputFiles,
    structures: Path | None = None,
    tiers_lieux: Path | None = None,
    chosen: Mapping[str, Path] | None = None,
) -> SitesRequest:
    """The site selection request of a scenario on a project's territory and files.

    ``chosen`` holds the scenario's files (:data:`FILE_OPTIONS`: ``groups``,
    ``demand``, ``candidates``, ``respondents``) written out.

    Raises
    ------
    SchemaError
        When a base community is required (``base_community``) but the project has no
        directory of structures.
    """
    values = _values(parameters)
    if values["base_community"] and structures is None:
        raise _needs_structures(parameters)
    return SitesRequest(
        territory=territory,
        count=int(values["count"]),
        minutes=values["minutes"],
        objective=str(values["objective"]),
        communes=files.communes,
        mobpro=files.mobpro,
        zonages=files.zonages,
        densite=files.densite,
        travel_times=files.travel_times,
        demo=files.demo,
        structures=structures if values["base_community"] else None,
        min_structures=int(values["min_structures"]),
        min_members=int(values["min_members"]),
        distinct_themes=bool(values["distinct_themes"]),
        time_limit=float(values["time_limit"]),
        tiers_lieux=tiers_lieux,
        tiers_lieux_mode=str(values["tiers_lieux_mode"]),
        exclusion_minutes=values["exclusion_minutes"],
        min_per_epci=int(values["min_per_epci"]),
        gain_minimal=float(values["gain_minimal"]),
        rural=str(values["rural"]),
        neighbours=bool(values["neighbours"]),
        users_share=values["users_share"],
        days_per_week=values["days_per_week"],
        working_days=values["working_days"],
        groups=(chosen or {}).get("groups"),
        demand=(chosen or {}).get("demand"),
        candidates=(chosen or {}).get("candidates"),
        respondents=(chosen or {}).get("respondents"),
    )


def _needs_structures(parameters: Mapping[str, Any]) -> SchemaError:
    """The base community is required but the scenario's structures are not there."""
    source = _values(parameters)["structures"]
    if source == "annuaire":
        text = (
            "Une communauté-base dans chaque bassin demande l'annuaire des structures : "
            "le projet n'en a pas encore. Construisez-le sur l'écran des "
            "communautés-base, choisissez un structures.csv déposé dans les fichiers du "
            "projet, ou décochez la contrainte."
        )
    elif source == "structures":
        text = (
            "Une communauté-base dans chaque bassin demande l'annuaire des structures : "
            "le projet n'a pas de fichier « annuaire des structures ». Déposez-le dans "
            "les fichiers du projet, choisissez le dernier annuaire construit, ou "
            "décochez la contrainte."
        )
    else:
        text = (
            "Une communauté-base dans chaque bassin demande un annuaire des structures : "
            "choisissez-en un ou décochez la contrainte."
        )
    return SchemaError(Problem.of(text, field="base_community"))


@dataclass(frozen=True)
class StructuresDefault:
    """The structures a new scenario of a project uses, and whether they can make base
    communities (see :func:`structures_default`)."""

    #: One of :data:`STRUCTURES_SOURCES`.
    source: str
    #: The latest finished directory run, when there is one.
    directory: RunView | None
    #: Whether some structure can make a base community (steps 1, 2 or 4): the form
    #: then requires one in each catchment by default.
    carriers: bool


def structures_default(repos: Repositories, project: int) -> StructuresDefault:
    """The structures a new scenario of ``project`` uses (:data:`STRUCTURES_SOURCES`):
    the latest finished directory run when there is one, else the project's file of
    role ``structures`` when it has one, else none (``""``).

    ``carriers``: the directory counts a structure of a category that makes a base
    community (its run's summary says how many of each); a directory of partners alone
    (an EPCI, a park) would leave no candidate.  A file of the project is taken as
    meant for it.
    """
    run = latest_directory_run(repos, project)
    if run is not None:
        counts = (run.summary or {}).get("categories", {})
        carriers = any(int(counts.get(c, 0)) > 0 for c in COMMUNITY_CATEGORIES)
        return StructuresDefault("annuaire", run, carriers)
    roles = {d.role for d in repos.projects.datasets(project)}
    if "structures" in roles:
        return StructuresDefault("structures", None, carriers=True)
    return StructuresDefault("", None, carriers=False)


def default_structures(repos: Repositories, project: int) -> dict[str, Any]:
    """The structures a run of ``project`` uses when nothing is chosen, as parameters
    (``structures``: :data:`STRUCTURES_SOURCES`; with the latest directory, its run's id
    and end, :data:`DIRECTORY_RUN_KEY` and :data:`DIRECTORY_DATE_KEY`): the default of
    the sites screen (:func:`structures_default`), also the dossier's.  Read the file
    with :func:`structures_file`, say it with :func:`structures_text`."""
    default = structures_default(repos, project)
    parameters: dict[str, Any] = {"structures": default.source}
    if default.directory is not None:
        parameters[DIRECTORY_RUN_KEY] = default.directory.id
        finished = default.directory.finished_at or default.directory.created_at
        parameters[DIRECTORY_DATE_KEY] = finished.isoformat()
    return parameters


def resolve_structures(
    repos: Repositories, project: int, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters of a run of the scenario: with a base community taken from the
    latest directory, that run's id and end (:data:`DIRECTORY_RUN_KEY`,
    :data:`DIRECTORY_DATE_KEY`), so the run uses it even if another one finishes
    meanwhile, and its page says which.

    Raises
    ------
    SchemaError
        As :func:`check_launchable`.
    """
    check_launchable(repos, project, parameters)
    resolved = {
        k: v for k, v in parameters.items() if k not in {DIRECTORY_RUN_KEY, DIRECTORY_DATE_KEY}
    }
    values = _values(parameters)
    if values["base_community"] and values["structures"] == "annuaire":
        run = latest_directory_run(repos, project)
        if run is None:  # pragma: no cover - checked just above
            raise _needs_structures(parameters)
        resolved[DIRECTORY_RUN_KEY] = run.id
        finished = run.finished_at or run.created_at
        resolved[DIRECTORY_DATE_KEY] = finished.isoformat()
    return resolved


def structures_file(
    repos: Repositories, project: int, parameters: Mapping[str, Any], folder: Path
) -> Path | None:
    """The structures.csv of ``parameters`` (a scenario's, or :func:`default_structures`)
    written into ``folder`` (``None`` without any): the project's file of role
    ``structures``, or the directory run's (the one named, else the latest)."""
    values = _values(parameters)
    if values["structures"] == "structures":
        return materialise_dataset(repos, project, "structures", folder)
    if values["structures"] != "annuaire":
        return None
    run_id = parameters.get(DIRECTORY_RUN_KEY)
    if not isinstance(run_id, str):
        latest = latest_directory_run(repos, project)
        if latest is None:
            return None
        run_id = latest.id
    try:
        return directory_file(repos, run_id, "structures.csv", folder / "annuaire")
    except UnknownRecordError:
        return None


def _missing_file(name: str, role: str) -> Problem:
    return Problem.of(
        "{label} : le projet n'a pas de fichier « {role} » ({what}) : déposez-le dans les "
        "fichiers du projet ou choisissez « aucun ».",
        field=name,
        label=_input_label(name),
        role=role,
        what=dataset_label(role),
    )


def _file_request(name: str, path: Path) -> SitesRequest:
    """A request naming only the file ``path`` of the option ``name`` (to read it)."""
    return SitesRequest(
        territory="",
        count=1,
        groups=path if name == "groups" else None,
        demand=path if name == "demand" else None,
        candidates=path if name == "candidates" else None,
        respondents=path if name == "respondents" else None,
    )


def chosen_files(
    repos: Repositories, project: int, parameters: Mapping[str, Any], folder: Path
) -> dict[str, Path]:
    """Write the scenario's files (:data:`FILE_OPTIONS`) into ``folder`` and read them
    as ``tierslieux sites`` does (:func:`~tierslieux.pipeline.sites.load_site_files`).

    Returns
    -------
    dict
        Parameter (``demand``...) -> the file written, for the options chosen.

    Raises
    ------
    SchemaError
        One problem per faulty option, named by its field: a file the project lacks,
        or the reader's message (file, line, column and what was expected).
    """
    values = _values(parameters)
    written: dict[str, Path] = {}
    problems: list[Problem] = []
    for name, role in FILE_OPTIONS.items():
        if not values.get(name):
            continue
        path = materialise_dataset(repos, project, role, folder / name)
        if path is None:
            problems.append(_missing_file(name, role))
            continue
        try:
            load_site_files(_file_request(name, path))
        except TierslieuxError as error:
            problems.append(Problem.of("{detail}", field=name, detail=str(error)))
            continue
        written[name] = path
    if problems:
        raise SchemaError(*problems)
    return written


def check_launchable(repos: Repositories, project: int, parameters: Mapping[str, Any]) -> None:
    """Refuse, before any run, a scenario the project's files cannot serve.

    Raises
    ------
    SchemaError
        A base community is required but the scenario's structures are not there (no
        directory built, no file of role ``structures``, or none chosen); a file
        option names a file the project lacks, or one the CLI's reader refuses (one
        problem per field).
    """
    values = _values(parameters)
    if values["base_community"]:
        source = values["structures"]
        roles = {d.role for d in repos.projects.datasets(project)}
        if (
            not source
            or (source == "structures" and "structures" not in roles)
            or (source == "annuaire" and latest_directory_run(repos, project) is None)
        ):
            raise _needs_structures(parameters)
    with tempfile.TemporaryDirectory(prefix="tierslieux-sites-check-") as tmp:
        chosen_files(repos, project, parameters, Path(tmp))


def run_project_sites(
    repos: Repositories,
    settings: Settings,
    project: int,
    parameters: Mapping[str, Any],
    *,
    territory: str,
    workspace: Path | None,
    progress: ProgressCallback | None = None,
) -> SitesResult:
    """Choose the sites of a scenario on a project's inputs (as ``tierslieux sites``).

    The inputs are the project's files, else the installation's workspace
    (:func:`~tierslieux.pipeline.project_runs.project_inputs`); the scenario's
    structures (the structures.csv of the directory run :func:`resolve_structures`
    named, else of the latest one, or the project's file of role ``structures``) and the
    project's existing tiers-lieux file, when it has one, are the ``--structures`` and
    ``--tiers-lieux`` of the command line.

    Raises
    ------
    TierslieuxError
        As :func:`~tierslieux.pipeline.sites.choose_sites` (infeasible constraints...).
    """
    check_launchable(repos, project, parameters)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tierslieux-sites-", dir=settings.cache_dir) as tmp:
        folder = Path(tmp)
        structures = structures_file(repos, project, parameters, folder)
        tiers_lieux = materialise_dataset(repos, project, "tiers_lieux", folder)
        chosen = chosen_files(repos, project, parameters, folder)
        with project_inputs(repos, settings, project, workspace) as inputs:
            request = scenario_request(
                parameters,
                territory=territory,
                files=InputFiles(demo=inputs.fictional),
                structures=structures,
                tiers_lieux=tiers_lieux,
                chosen=chosen,
            )
            return choose_sites(settings, inputs, request, progress=progress)


# -- saved scenarios -----------------------------------------------------------------


def save_scenario(
    repos: Repositories,
    project: int,
    *,
    name: str,
    territory: str,
    parameters: Mapping[str, Any],
    actor: UserView,
) -> ScenarioView:
    """Save a named scenario of ``project`` (the project's id kept with its parameters)."""
    return repos.scenarios.save_scenario(
        name, territory, {**parameters, "projet": project}, author=actor.login
    )


def project_scenarios(repos: Repositories, project: int) -> list[ScenarioView]:
    """The saved scenarios of ``project``, most recent first."""
    return [s for s in repos.scenarios.list_scenarios() if s.parameters.get("projet") == project]


def project_scenario(repos: Repositories, project: int, scenario_id: int) -> ScenarioView:
    """A saved scenario of ``project`` (:class:`UnknownRecordError` for another's)."""
    scenario = repos.scenarios.get_scenario(scenario_id)
    if scenario.parameters.get("projet") != project:
        raise UnknownRecordError(_("Aucun scénario n° {id}.", id=scenario_id))
    return scenario


def latest_done_run(repos: Repositories, scenario_id: int) -> RunView | None:
    """The most recent finished (done) site-selection run of a scenario, if any."""
    runs = repos.runs.list_runs(kind=RUN_KIND, scenario_id=scenario_id, status="done", limit=1)
    return runs[0] if runs else None


@dataclass(frozen=True)
class ScenarioColumn:
    """One scenario in the comparison: its parameters in words and its latest results."""

    scenario: ScenarioView
    parameters: list[tuple[str, str]]
    run: RunView | None
    results: list[tuple[str, str]] = field(default_factory=list)


def describe_parameters(
    parameters: Mapping[str, Any], *, default_minutes: float | None = None
) -> list[tuple[str, str]]:
    """A scenario's parameters as ``(label, value)`` lines, in the readers' words.

    ``default_minutes``: the installation's catchment, shown when the scenario
    leaves it to the installation (« 20 minutes (réglage de l'installation) »).
    """
    values = _values(parameters)

    def yes(flag: object) -> str:
        return _("oui") if flag else _("non")

    def maybe(value: object, default: str) -> str:
        return default if value is None else format_figure(float(str(value)))

    lines = [
        (_("Nombre de sites"), str(values["count"])),
        (_("Objectif"), _(OBJECTIVE_LABELS.get(values["objective"], values["objective"]))),
        (_("Bassin (minutes)"), maybe(values["minutes"], _installation_minutes(default_minutes))),
        (_("Communauté-base dans chaque bassin"), yes(values["base_community"])),
        *(
            [(_("Annuaire des structures"), structures_text(values))]
            if values["base_community"]
            else []
        ),
        (_("Thèmes différents d'un site à l'autre"), yes(values["distinct_themes"])),
        (
            _("Tiers-lieux existants"),
            _(TIERS_LIEUX_LABELS.get(values["tiers_lieux_mode"], values["tiers_lieux_mode"])),
        ),
        (_("Minimum par intercommunalité"), str(values["min_per_epci"])),
        (_("Communes rurales"), _(RURAL_LABELS.get(values["rural"], values["rural"]))),
        (_("Communes voisines comptées"), yes(values["neighbours"])),
    ]
    files = {
        "groups": _("Groupes du questionnaire"),
        "demand": _("Demande"),
        "candidates": _("Lieux candidats"),
        "respondents": _("Répondants du questionnaire"),
    }
    lines += [
        (label, _("fichier du projet « {role} »", role=FILE_OPTIONS[name]))
        for name, label in files.items()
        if values.get(name)
    ]
    if values["objective"] == "co2":
        lines += [
            (_("Gain minimal (minutes)"), maybe(values["gain_minimal"], "")),
            (_("Part des usagers"), maybe(values["users_share"], _("fourchette publiée"))),
            (_("Jours par semaine"), maybe(values["days_per_week"], _("fourchette publiée"))),
        ]
    return lines


def structures_text(values: Mapping[str, Any]) -> str:
    """Which structures a scenario (or a run of it) uses, in words."""
    source = values["structures"]
    if source == "structures":
        return _("fichier du projet « {role} »", role="structures")
    if source != "annuaire":
        return _("aucun")
    finished = values.get(DIRECTORY_DATE_KEY)
    if isinstance(finished, str):
        try:
            when = format_datetime(datetime.fromisoformat(finished))
        except ValueError:
            when = finished
        return _("annuaire des communautés-base du {when}", when=when)
    return _("dernier annuaire construit (écran des communautés-base)")


def _site_names(summary: Mapping[str, Any]) -> list[str]:
    """The chosen sites as people name them, « Chorges (05040) », from the summary's
    table of sites (its code and name columns); a code alone when it has no name."""
    table = summary.get("tables", {}).get("sites", {})
    columns = list(table.get("columns", ()))
    names: dict[str, str] = {}
    if "code" in columns and "nom" in columns:
        code_at, name_at = columns.index("code"), columns.index("nom")
        names = {str(row[code_at]): str(row[name_at]) for row in table.get("rows", ())}
    return [named_code(str(code), names) for code in summary.get("sites", ())]


def _results(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    users = summary.get("usagers_couverts")
    return [
        (
            _("Usagers potentiels couverts"),
            "—" if users is None else format_number(float(users)),
        ),
        (_("Sites"), ", ".join(_site_names(summary)) or "—"),
        (_("Communes couvertes"), format_number(float(summary.get("nb_communes_couvertes", 0)))),
        (
            _("Valeur de l'objectif"),
            f"{format_number(float(summary.get('objectif', 0.0)))} {summary.get('unite', '')}",
        ),
        (_("Part de la demande"), format_percent(float(summary.get("part", 0.0)))),
        (_("Écart prouvé"), format_gap(float(summary.get("ecart", 0.0)))),
    ]


def _installation_minutes(minutes: float | None) -> str:
    if minutes is None:
        return _("réglage de l'installation")
    return _("{m} minutes (réglage de l'installation)", m=format_figure(minutes))


def compare_scenarios(
    repos: Repositories,
    project: int,
    ids: Sequence[int],
    *,
    default_minutes: float | None = None,
) -> list[ScenarioColumn]:
    """The scenarios ``ids`` of ``project`` side by side (unknown ids are refused).

    ``default_minutes``: the installation's catchment (:func:`describe_parameters`).

    Raises
    ------
    UnknownRecordError
        When an id names no scenario of the project.
    """
    columns = []
    for scenario_id in dict.fromkeys(ids):
        scenario = project_scenario(repos, project, scenario_id)
        run = latest_done_run(repos, scenario.id)
        summary = (run.summary or {}) if run is not None else {}
        columns.append(
            ScenarioColumn(
                scenario,
                describe_parameters(scenario.parameters, default_minutes=default_minutes),
                run,
                _results(summary) if run is not None else [],
            )
        )
    return columns


def with_defaults(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's parameters completed with the defaults (for the form)."""
    return {k: v for k, v in _values(parameters).items() if k in SCENARIO_DEFAULTS}
