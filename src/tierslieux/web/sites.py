"""The experimentation sites screen: scenario form, runs, results, comparison.

Routes (every one under a project the user may read; changes need an editor):

- ``GET /projets/{id}/sites``: the scenario form, the saved scenarios and the runs;
- ``POST /projets/{id}/sites``: save the scenario (``action=enregistrer``) or save it
  and launch its run (``action=lancer``);
- ``POST /projets/{id}/scenarios/{scenario}/lancer``: launch a saved scenario again;
- ``GET /projets/{id}/sites/{run}``: the run (progress bar and cancel button of the
  run layer, :mod:`tierslieux.web.runs`, while it runs; then its results: maps, tables,
  method, downloads, the files being served by the run layer);
- ``GET /projets/{id}/scenarios/comparer?ids=1,2``: saved scenarios side by side.

Runs go through the process's :class:`~tierslieux.pipeline.project_runs.ProjectRuns`:
the use case is :func:`~tierslieux.pipeline.site_scenarios.run_project_sites`, its
outcome the command line's files (:func:`~tierslieux.reports.sites.sites_files`) and
the summary of the results page (:func:`~tierslieux.reports.sites.sites_summary`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import format_datetime
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import UnknownRecordError
from tierslieux.pipeline.project_runs import RunOutcome, run_status_label
from tierslieux.pipeline.projects import dataset_label, project_datasets, territory_display_name
from tierslieux.pipeline.site_scenarios import (
    FILE_OPTIONS,
    OBJECTIVE_LABELS,
    RUN_KIND,
    RURAL_LABELS,
    TIERS_LIEUX_LABELS,
    compare_scenarios,
    describe_parameters,
    parse_scenario,
    project_scenario,
    project_scenarios,
    resolve_structures,
    run_project_sites,
    save_scenario,
    structures_default,
    with_defaults,
)
from tierslieux.reports.sites import SITES_MAP_FILE, sites_files, sites_summary
from tierslieux.web.auth import (
    ProjectAccess,
    client_ip,
    project_editor,
    project_viewer,
    repositories,
)
from tierslieux.web.rendering import flash, render
from tierslieux.web.routes import territory_index
from tierslieux.web.runs import project_runs, run_context, run_or_404
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from tierslieux.model.types import ProgressCallback
    from tierslieux.pipeline.projects import DatasetView
    from tierslieux.pipeline.site_scenarios import RunView, ScenarioView

__all__ = ["router"]

router = APIRouter()
_MAX_COMPARED = 6
_CHECKBOXES = frozenset({"base_community", "distinct_themes", "neighbours"})


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _project_runs(request: Request, project: int) -> list[RunView]:
    return [r for r in project_runs(request).list_runs(project) if r.kind == RUN_KIND]


def _run_of(request: Request, access: ProjectAccess, run_id: str) -> RunView:
    run = run_or_404(request, access, run_id)
    if run.kind != RUN_KIND:
        raise HTTPException(status_code=404, detail=_("Calcul introuvable."))
    return run


def _form_values(parameters: dict[str, Any]) -> dict[str, str]:
    """The form's text of typed parameters (numbers as French write them)."""
    values: dict[str, str] = {}
    for key, value in with_defaults(parameters).items():
        if value is None:
            values[key] = ""
        elif isinstance(value, bool):
            values[key] = "1" if value else ""
        elif isinstance(value, float):
            values[key] = (f"{value:g}").replace(".", ",")
        else:
            values[key] = str(value)
    return values


def _file_choices(
    datasets: list[DatasetView], values: dict[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """For each file option, « aucun » and the project's file of its role (when any).

    A scenario naming a file the project no longer has keeps it as a choice, said
    absent (the launch then refuses it, naming the field).
    """
    files = {d.role: d for d in datasets}
    choices: dict[str, list[tuple[str, str]]] = {}
    for name, role in FILE_OPTIONS.items():
        found = [("", _("Aucun"))]
        dataset = files.get(role)
        if dataset is not None:
            found.append((role, f"{dataset.filename} — {dataset_label(role)}"))
        elif values.get(name) == role:
            found.append((role, _("{what} (absent du projet)", what=dataset_label(role))))
        choices[name] = found
    return choices


def _structures_choices(
    datasets: list[DatasetView], directory: RunView | None, value: str
) -> list[tuple[str, str]]:
    """The scenario's structures: the latest directory run (said by its end, Paris
    time), the project's file of role ``structures``, or none."""
    found: list[tuple[str, str]] = []
    if directory is not None:
        when = format_datetime(directory.finished_at or directory.created_at)
        found.append(("annuaire", _("Dernier annuaire construit, calcul du {when}", when=when)))
    elif value == "annuaire":
        found.append(("annuaire", _("Dernier annuaire construit (aucun pour l'instant)")))
    dataset = next((d for d in datasets if d.role == "structures"), None)
    if dataset is not None:
        found.append(("structures", f"{dataset.filename} — {dataset_label('structures')}"))
    elif value == "structures":
        found.append(
            ("structures", _("{what} (absent du projet)", what=dataset_label("structures")))
        )
    found.append(("", _("Aucun")))
    return found


def _sites_page(
    request: Request,
    access: ProjectAccess,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    name: str = "",
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    repos = repositories(request)
    project = access.project
    datasets = project_datasets(repos, project.id)
    roles = {d.role for d in datasets}
    default = structures_default(repos, project.id)
    directory = default.directory
    # A new scenario uses the base communities there are: the latest directory first.
    shown = values or _form_values(
        {"structures": default.source, "base_community": default.carriers}
    )
    scenarios = project_scenarios(repos, project.id)
    runs = _project_runs(request, project.id)
    names = {s.id: s.name for s in scenarios}
    return render(
        request,
        "sites.html",
        status,
        project=project,
        editable=access.editable,
        values=shown,
        file_choices=_file_choices(datasets, shown),
        structures_choices=_structures_choices(datasets, directory, shown.get("structures", "")),
        directory=directory,
        carriers=default.carriers,
        name=name,
        errors=errors or {},
        message=message,
        scenarios=scenarios,
        describe=partial(
            describe_parameters, default_minutes=web_settings(request).core.catchment_minutes
        ),
        runs=runs,
        run_status=run_status_label,
        scenario_names=names,
        has_structures="structures" in roles or directory is not None,
        has_tiers_lieux="tiers_lieux" in roles,
        objective_labels=OBJECTIVE_LABELS,
        tiers_lieux_labels=TIERS_LIEUX_LABELS,
        rural_labels=RURAL_LABELS,
        default_minutes=web_settings(request).core.catchment_minutes,
    )


@router.get("/projets/{project_id}/sites")
def sites_screen(
    request: Request, scenario: int | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The scenario form (a saved scenario's values with ``?scenario=``), scenarios, runs."""
    if scenario is None:
        return _sites_page(request, access)
    try:
        saved = project_scenario(repositories(request), access.project.id, scenario)
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Scénario introuvable.")) from None
    return _sites_page(request, access, values=_form_values(saved.parameters), name=saved.name)


def _problems(error: TierslieuxError) -> tuple[dict[str, str], str | None]:
    """Per-field messages of a use case's error, and the rest as one message."""
    fields: dict[str, str] = {}
    loose: list[str] = []
    for problem in error.problems:
        text = problem.render()
        if problem.field:
            fields[problem.field] = (
                f"{fields[problem.field]} {text}" if problem.field in fields else text
            )
        else:
            loose.append(text)
    return fields, " ".join(loose) or None


def _launch(request: Request, access: ProjectAccess, scenario: ScenarioView) -> str:
    """Start the run of a saved scenario (refused first if the project cannot serve it)."""
    repos = repositories(request)
    settings = web_settings(request)
    project = access.project
    # The directory run whose structures it uses is named in the run's parameters.
    parameters = resolve_structures(repos, project.id, scenario.parameters)

    def use_case(*, progress: ProgressCallback) -> RunOutcome:
        result = run_project_sites(
            repos,
            settings.core,
            project.id,
            parameters,
            territory=project.territory,
            workspace=settings.workspace_path,
            progress=progress,
        )
        return RunOutcome(summary=sites_summary(result), files=sites_files(result))

    run = project_runs(request).start(
        project.id,
        RUN_KIND,
        use_case,
        actor=access.user.login,
        parameters=parameters,
        scenario_id=scenario.id,
        ip=client_ip(request),
    )
    return run.id


@router.post("/projets/{project_id}/sites")
async def save_or_launch(
    request: Request, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """Save the scenario of the form; with ``action=lancer``, launch its run too."""
    form = await request.form()
    raw = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    # Absent text fields keep their default; an absent check box is unchecked.
    values = {k: v for k, v in _form_values({}).items() if k not in _CHECKBOXES}
    values |= raw | {"_cases": "1"}
    name = raw.get("name", "").strip()
    repos = repositories(request)
    try:
        parameters = parse_scenario(values)
    except TierslieuxError as error:
        fields, message = _problems(error)
        if not name:
            fields["name"] = _("Donnez un nom au scénario.")
        return _sites_page(
            request, access, 422, values=values, name=name, errors=fields, message=message
        )
    if not name:
        return _sites_page(
            request,
            access,
            422,
            values=values,
            name=name,
            errors={"name": _("Donnez un nom au scénario.")},
        )
    try:
        scenario = save_scenario(
            repos,
            access.project.id,
            name=name,
            territory=access.project.territory,
            parameters=parameters,
            actor=access.user,
        )
    except TierslieuxError as error:
        return _sites_page(
            request, access, 422, values=values, name=name, errors={"name": str(error)}
        )
    if raw.get("action") != "lancer":
        flash(request, _("Scénario « {name} » enregistré.", name=scenario.name))
        return _see_other(f"/projets/{access.project.id}/sites?scenario={scenario.id}")
    try:
        run_id = _launch(request, access, scenario)
    except TierslieuxError as error:
        fields, message = _problems(error)
        return _sites_page(
            request, access, 422, values=values, name=name, errors=fields, message=message
        )
    flash(request, _("Scénario « {name} » enregistré et lancé.", name=scenario.name))
    return _see_other(f"/projets/{access.project.id}/sites/{run_id}")


@router.post("/projets/{project_id}/scenarios/{scenario_id}/lancer")
def launch_saved(
    request: Request, scenario_id: int, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """Launch a saved scenario again."""
    try:
        scenario = project_scenario(repositories(request), access.project.id, scenario_id)
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Scénario introuvable.")) from None
    try:
        run_id = _launch(request, access, scenario)
    except TierslieuxError as error:
        fields, message = _problems(error)
        return _sites_page(
            request,
            access,
            422,
            values=_form_values(scenario.parameters),
            name=scenario.name,
            errors=fields,
            message=message,
        )
    return _see_other(f"/projets/{access.project.id}/sites/{run_id}")


@router.get("/projets/{project_id}/sites/{run_id}")
def run_page(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """A run: its progress while it runs, then its results."""
    repos = repositories(request)
    run = _run_of(request, access, run_id)
    scenario = None
    if run.scenario_id is not None:
        try:
            scenario = repos.scenarios.get_scenario(run.scenario_id)
        except UnknownRecordError:
            scenario = None
    summary = dict(run.summary or {})
    if summary.get("territoire"):
        # Files that name the territory only by its code: the project's official name.
        summary["territoire"] = territory_display_name(
            str(summary["territoire"]),
            access.project.territory,
            access.project.territory_label,
            territory_index(request),
        )
    context = run_context(request, access, run)
    context["result_url"] = None  # this page is the results page
    return render(
        request,
        "sites_result.html",
        **context,
        scenario=scenario,
        parameters=describe_parameters(
            run.parameters, default_minutes=web_settings(request).core.catchment_minutes
        ),
        s=summary,
        map_url=f"{context['run_url']}/fichiers/{SITES_MAP_FILE}",
        warnings=summary.get("avertissements", ()),
    )


@router.get("/projets/{project_id}/scenarios/comparer")
def compare(
    request: Request, ids: str = "", access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """Saved scenarios side by side: parameters, then the results of their latest run."""
    del ids  # read with its repetitions (?ids=1,2 or ?ids=1&ids=2)
    parts = ",".join(request.query_params.getlist("ids")).replace(";", ",").split(",")
    try:
        wanted = [int(part) for part in parts if part.strip()]
    except ValueError:
        raise HTTPException(
            status_code=422, detail=_("Identifiants de scénarios invalides.")
        ) from None
    try:
        columns = compare_scenarios(
            repositories(request),
            access.project.id,
            wanted[:_MAX_COMPARED],
            default_minutes=web_settings(request).core.catchment_minutes,
        )
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Scénario introuvable.")) from None
    return render(
        request,
        "scenarios_compare.html",
        project=access.project,
        columns=columns,
        too_many=len(wanted) > _MAX_COMPARED,
    )
