"""The diagnostic screen of a project: launch the run, then the map, the table, the files.

- ``GET /projets/{id}/diagnostic`` (``?calcul=<run>`` for an older run): the latest
  finished diagnostic of the project (map, table, downloads, method and sources,
  warnings), the run under way if any, and the launch form (chargé de mission);
- ``POST /projets/{id}/diagnostic``: launch the diagnostic on the project's input files
  (or the workspace), then the run's page;
- ``GET /projets/{id}/diagnostic/{run}/communes.geojson``, ``…/indicateurs.json``,
  ``…/bassins/{code}.json``: the map's documents (static/README.md), read from the run.

The numbers are the command line's: the run keeps the files of ``tierslieux diagnose``
(:func:`~tierslieux.reports.diagnosis.diagnosis_files`), and the screen reads them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.model.indicators import indicator_labels
from tierslieux.model.reference import CS1_LABELS
from tierslieux.pipeline.diagnose import DiagnoseRequest, diagnose
from tierslieux.pipeline.project_runs import (
    RunOutcome,
    RunUseCase,
    UnknownRecordError,
    project_inputs,
)
from tierslieux.pipeline.projects import territory_display_name
from tierslieux.reports.webmap import (
    CATCHMENTS_FILE,
    EXCEL_FILE,
    METADATA_FILE,
    diagnosis_run_files,
    diagnosis_summary,
    diagnosis_vintages,
)
from tierslieux.web.auth import ProjectAccess, client_ip, project_editor, project_viewer
from tierslieux.web.documents import document_response
from tierslieux.web.rendering import render
from tierslieux.web.routes import territory_index
from tierslieux.web.runs import project_runs, run_or_404
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from tierslieux.model.types import ProgressCallback
    from tierslieux.pipeline.database import Repositories
    from tierslieux.pipeline.project_runs import RunView
    from tierslieux.pipeline.projects import ProjectView
    from tierslieux.web.settings import WebSettings

__all__ = ["KIND", "router"]

router = APIRouter()
#: Kind of the runs of this screen.
KIND = "diagnostic"
_MAX_MINUTES = 120.0


def _official_name(request: Request, project: ProjectView, summary: dict[str, Any]) -> str:
    """The territory's official name: the run's own, else the reference's (a project's
    zonings without their labels name an EPCI « EPCI 200067445 » only)."""
    return territory_display_name(
        str(summary.get("territoire") or ""),
        project.territory,
        project.territory_label,
        territory_index(request),
    )


def _use_case(
    repos: Repositories,
    settings: WebSettings,
    project: ProjectView,
    minutes: float | None,
    *,
    neighbours: bool = True,
) -> RunUseCase:
    core = settings.core
    workspace = settings.workspace_path if settings.workspace_path.exists() else None
    diagnose_request = DiagnoseRequest(
        territory=project.territory, minutes=minutes, neighbours=neighbours
    )

    def run(*, progress: ProgressCallback) -> RunOutcome:
        with project_inputs(repos, core, project.id, workspace) as inputs:
            diagnosis = diagnose(core, inputs, diagnose_request, progress=progress)
        return RunOutcome(
            summary=diagnosis_summary(diagnosis),
            files=diagnosis_run_files(diagnosis),
            vintages=diagnosis_vintages(diagnosis),
        )

    return run


def _done_run(request: Request, access: ProjectAccess, run_id: str) -> RunView:
    run = run_or_404(request, access, run_id)
    if run.kind != KIND or run.status != "done":
        raise HTTPException(status_code=404, detail=_("Aucun diagnostic terminé de ce calcul."))
    return run


def _file(request: Request, access: ProjectAccess, run: RunView, name: str) -> bytes:
    try:
        return project_runs(request).read_result(access.project.id, run.id, name)
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Fichier de résultat introuvable.")) from None


def _document(request: Request, access: ProjectAccess, run: RunView, name: str) -> Any:  # noqa: ANN401
    """A JSON result of the run, parsed once per process (shared: not to be changed)."""
    try:
        return project_runs(request).read_result_json(access.project.id, run.id, name)
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Fichier de résultat introuvable.")) from None


def _rows(request: Request, access: ProjectAccess, run: RunView) -> list[dict[str, Any]]:
    collection = _document(request, access, run, "communes.geojson")
    return [dict(feature.get("properties") or {}) for feature in collection.get("features", [])]


def _page(
    request: Request,
    access: ProjectAccess,
    status: int = 200,
    *,
    chosen: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    runs = project_runs(request)
    project = access.project.id
    shown = (
        _done_run(request, access, chosen) if chosen else runs.latest(project, KIND, status="done")
    )
    pending = next((r for r in runs.list_runs(project) if r.kind == KIND and not r.finished), None)
    summary: dict[str, Any] = dict(shown.summary or {}) if shown is not None else {}
    if summary:
        summary["territoire"] = _official_name(request, access.project, summary)
    base = f"/projets/{project}/diagnostic/{quote(shown.id)}" if shown is not None else ""
    files = f"/projets/{project}/calculs/{quote(shown.id)}/fichiers" if shown is not None else ""
    return render(
        request,
        "diagnostic.html",
        status,
        project=access.project,
        editable=access.editable,
        run=shown,
        pending=pending,
        summary=summary,
        rows=_rows(request, access, shown) if shown is not None else [],
        labels=indicator_labels(),
        columns=summary.get("colonnes", []),
        base=base,
        files=files,
        excel_file=EXCEL_FILE,
        cs1_labels={code: _(label) for code, label in CS1_LABELS.items()},
        warnings=summary.get("avertissements", []),
        errors=errors or {},
        # The box as the run shown was launched (a new run keeps the choice).
        alone=bool(shown is not None and (shown.parameters or {}).get("sans_communes_voisines")),
        previous=[r for r in runs.list_runs(project) if r.kind == KIND and r.status == "done"],
    )


@router.get("/projets/{project_id}/diagnostic")
def diagnostic_page(
    request: Request, calcul: str | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The diagnostic screen of a project."""
    return _page(request, access, chosen=calcul or None)


@router.post("/projets/{project_id}/diagnostic")
def launch_diagnostic(
    request: Request,
    minutes: str = Form(""),
    neighbours: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Launch the diagnostic of the project; show its run's page.

    ``neighbours`` (the box « sans communes voisines », which the note on communes
    without workers names): catchments limited to the territory, as the command
    line's option of the same name.
    """
    alone = bool(neighbours.strip())
    value: float | None = None
    if minutes.strip():
        try:
            value = float(minutes.replace(",", "."))
        except ValueError:
            value = -1.0
        if not 0 < value <= _MAX_MINUTES:
            message = _(
                "Seuil du bassin invalide « {value} » : un nombre de minutes entre 1 et {max}.",
                value=minutes,
                max=int(_MAX_MINUTES),
            )
            return _page(request, access, 422, errors={"minutes": message})
    repos = project_runs(request).repos
    try:
        run = project_runs(request).start(
            access.project.id,
            KIND,
            _use_case(repos, web_settings(request), access.project, value, neighbours=not alone),
            actor=access.user.login,
            parameters={
                "territoire": access.project.territory,
                "minutes": value,
                "sans_communes_voisines": alone,
            },
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        return _page(request, access, 422, errors={"minutes": str(error)})
    return RedirectResponse(f"/projets/{access.project.id}/calculs/{quote(run.id)}", 303)


def _json_response(content: bytes, media_type: str = "application/json") -> Response:
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "private, max-age=60"}
    )


@router.get("/projets/{project_id}/diagnostic/{run_id}/communes.geojson")
def map_communes(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The communes of a finished diagnostic with their indicators (GeoJSON)."""
    run = _done_run(request, access, run_id)
    return document_response(
        request,
        ("diagnostic communes", run.id),
        lambda: _file(request, access, run, "communes.geojson"),
        "application/geo+json",
    )


@router.get("/projets/{project_id}/diagnostic/{run_id}/indicateurs.json")
def map_indicators(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The map's indicators: labels, unit, class breaks (JSON)."""
    run = _done_run(request, access, run_id)
    return _json_response(_file(request, access, run, METADATA_FILE))


@router.get("/projets/{project_id}/diagnostic/{run_id}/bassins/{code}.json")
def map_catchment(
    request: Request, run_id: str, code: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The catchment of one commune: its members and figures (JSON)."""
    run = _done_run(request, access, run_id)
    documents = _document(request, access, run, CATCHMENTS_FILE)
    document = documents.get(code)
    if document is None:
        raise HTTPException(
            status_code=404, detail=_("Aucun bassin pour la commune {code}.", code=code)
        )
    return _json_response(json.dumps(document, ensure_ascii=False).encode("utf-8"))
