"""The experimentation sites screen: scenario form, runs, results, comparison.

Routes (every one under a project the user may read; changes need an editor):

- ``GET /projets/{id}/sites``: the scenario form, the saved scenarios and the runs;
- ``POST /projets/{id}/sites``: save the scenario (``action=enregistrer``) or save it
  and launch its run (``action=lancer``);
- ``POST /projets/{id}/scenarios/{scenario}/lancer``: launch a saved scenario again;
- ``GET /projets/{id}/sites/{run}``: the run (progress while it runs, then its
  results: map, tables, method, downloads);
- ``GET /projets/{id}/sites/{run}/carte.geojson`` and ``.../fichiers/{name}``: the map's
  document and the result files;
- ``GET /projets/{id}/scenarios/comparer?ids=1,2``: saved scenarios side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import UnknownRecordError
from tierslieux.pipeline.projects import project_datasets
from tierslieux.pipeline.site_scenarios import (
    OBJECTIVE_LABELS,
    RUN_KIND,
    RURAL_LABELS,
    TIERS_LIEUX_LABELS,
    compare_scenarios,
    describe_parameters,
    parse_scenario,
    project_scenario,
    project_scenarios,
    save_scenario,
    with_defaults,
)
from tierslieux.reports.sites import SITES_MAP_FILE
from tierslieux.web.auth import ProjectAccess, project_editor, project_viewer, repositories
from tierslieux.web.rendering import flash, render

if TYPE_CHECKING:
    from tierslieux.store import RunView, ScenarioView

__all__ = ["router"]

router = APIRouter()
_MAX_COMPARED = 6
_CHECKBOXES = frozenset({"base_community", "distinct_themes", "neighbours"})


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _project_runs(request: Request, project: int) -> list[RunView]:
    repos = repositories(request)
    runs = []
    for run_id in repos.projects.run_ids(project):
        try:
            run = repos.runs.get_run(run_id)
        except UnknownRecordError:  # pragma: no cover - deleted meanwhile
            continue
        if run.kind == RUN_KIND:
            runs.append(run)
    return sorted(runs, key=lambda r: r.created_at, reverse=True)


def _run_of(request: Request, access: ProjectAccess, run_id: str) -> RunView:
    repos = repositories(request)
    if run_id not in repos.projects.run_ids(access.project.id):
        raise HTTPException(status_code=404, detail=_("Calcul introuvable."))
    run = repos.runs.get_run(run_id)
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
    roles = {d.role for d in project_datasets(repos, project.id)}
    scenarios = project_scenarios(repos, project.id)
    runs = _project_runs(request, project.id)
    names = {s.id: s.name for s in scenarios}
    return render(
        request,
        "sites.html",
        status,
        project=project,
        editable=access.editable,
        values=values or _form_values({}),
        name=name,
        errors=errors or {},
        message=message,
        scenarios=scenarios,
        describe=describe_parameters,
        runs=runs,
        scenario_names=names,
        has_structures="structures" in roles,
        has_tiers_lieux="tiers_lieux" in roles,
        objective_labels=OBJECTIVE_LABELS,
        tiers_lieux_labels=TIERS_LIEUX_LABELS,
        rural_labels=RURAL_LABELS,
        default_minutes=request.app.state.settings.core.catchment_minutes,
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
            fields[problem.field] = f"{fields[problem.field]} {text}" if problem.field in fields else text
        else:
            loose.append(text)
    return fields, " ".join(loose) or None


def _launch(request: Request, access: ProjectAccess, scenario: ScenarioView) -> str:
    """Submit the run of a saved scenario; return its id."""
    from tierslieux.pipeline.project_runs import submit_project_run  # noqa: PLC0415
    run = submit_project_run(
        request.app.state.runner,
        repositories(request),
        request.app.state.settings,
        access.project.id,
        RUN_KIND,
        scenario.parameters,
        actor=access.user,
        scenario_id=scenario.id,
    )
    return run.id


@router.post("/projets/{project_id}/sites")
async def save_or_launch(request: Request, access: ProjectAccess = Depends(project_editor)) -> Response:
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


@router.post("/projets/{project_id}/sites/{run_id}/annuler")
def cancel(request: Request, run_id: str, access: ProjectAccess = Depends(project_editor)) -> Response:
    """Cancel a queued or running run."""
    from tierslieux.pipeline.project_runs import cancel_project_run  # noqa: PLC0415

    run = _run_of(request, access, run_id)
    cancel_project_run(request.app.state.runner, repositories(request), run.id, actor=access.user)
    flash(request, _("Calcul annulé."))
    return _see_other(f"/projets/{access.project.id}/sites/{run.id}")


@router.get("/projets/{project_id}/sites/{run_id}")
def run_page(request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)) -> Response:
    """A run: its progress while it runs, then its results."""
    repos = repositories(request)
    run = _run_of(request, access, run_id)
    scenario = None
    if run.scenario_id is not None:
        try:
            scenario = repos.scenarios.get_scenario(run.scenario_id)
        except UnknownRecordError:
            scenario = None
    summary = run.summary or {}
    files = repos.runs.list_results(run.id) if run.status == "done" else []
    return render(
        request,
        "sites_result.html",
        project=access.project,
        editable=access.editable,
        run=run,
        scenario=scenario,
        parameters=describe_parameters(run.parameters),
        s=summary,
        files=files,
        map_file=SITES_MAP_FILE,
        warnings=summary.get("avertissements", ()),
    )


@router.get("/projets/{project_id}/sites/{run_id}/carte.geojson")
def map_document(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The map's document of a finished run."""
    return download(request, run_id, SITES_MAP_FILE, access)


@router.get("/projets/{project_id}/sites/{run_id}/fichiers/{name}")
def download(
    request: Request, run_id: str, name: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """A result file of a run."""
    run = _run_of(request, access, run_id)
    repos = repositories(request)
    found = {r.name: r for r in repos.runs.list_results(run.id)}
    if name not in found:
        raise HTTPException(status_code=404, detail=_("Fichier introuvable."))
    media = found[name].media_type
    if name.endswith(".geojson"):
        media = "application/geo+json"
    headers = {}
    if not name.endswith(".geojson"):
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(repos.runs.read_result(run.id, name), media_type=media, headers=headers)


@router.get("/projets/{project_id}/scenarios/comparer")
def compare(request: Request, ids: str = "", access: ProjectAccess = Depends(project_viewer)) -> Response:
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
        columns = compare_scenarios(repositories(request), access.project.id, wanted[:_MAX_COMPARED])
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Scénario introuvable.")) from None
    return render(
        request,
        "scenarios_compare.html",
        project=access.project,
        columns=columns,
        too_many=len(wanted) > _MAX_COMPARED,
    )
