"""Runs of a project in the browser: status page, progress fragment, cancel, result files.

- ``GET /projets/{id}/calculs/{run}``: the run's page (progress bar refreshed by htmx
  polling the fragment below; without JavaScript, a ``<noscript>`` meta refresh and a
  reload link), its error, its result files, the link to its screen once done;
- ``GET /projets/{id}/calculs/{run}/etat``: the status fragment alone (htmx);
- ``POST /projets/{id}/calculs/{run}/annuler``: cancel (chargé de mission, CSRF);
- ``GET /projets/{id}/calculs/{run}/fichiers/{name}``: a result file, as stored.

Other modules of the web layer get the process's runs with :func:`project_runs` and
name the page showing a finished run of their kind in :data:`RESULT_PAGES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tierslieux.i18n import gettext as _
from tierslieux.pipeline.project_runs import (
    InvalidValueError,
    ProjectRuns,
    UnknownRecordError,
    run_kind_label,
    run_status_label,
)
from tierslieux.web.auth import ProjectAccess, client_ip, project_editor, project_viewer
from tierslieux.web.rendering import flash, render

if TYPE_CHECKING:
    from tierslieux.pipeline.project_runs import RunView

__all__ = ["RESULT_PAGES", "project_runs", "router", "run_context", "run_or_404"]

router = APIRouter()
#: The page showing a finished run, by kind (``{project}`` and ``{run}`` replaced).
RESULT_PAGES: dict[str, str] = {
    "diagnostic": "/projets/{project}/diagnostic?calcul={run}",
    "sites": "/projets/{project}/sites/{run}",
    "dossier": "/projets/{project}/dossier?calcul={run}",
}
#: Seconds between two polls of the progress fragment (and the no-script refresh).
POLL_SECONDS = 2


def project_runs(request: Request) -> ProjectRuns:
    """The runs of the application's process (``app.state.runs``)."""
    runs: ProjectRuns = request.app.state.runs
    return runs


def run_or_404(request: Request, access: ProjectAccess, run_id: str) -> RunView:
    """The run ``run_id`` of the project, else 404."""
    try:
        return project_runs(request).get(access.project.id, run_id)
    except UnknownRecordError:
        raise HTTPException(status_code=404, detail=_("Calcul introuvable.")) from None


def result_page(run: RunView, project: int) -> str | None:
    """The URL of the page showing ``run`` once done, when its kind has one."""
    template = RESULT_PAGES.get(run.kind)
    if template is None or run.status != "done":
        return None
    return template.format(project=project, run=quote(run.id))


def run_context(request: Request, access: ProjectAccess, run: RunView) -> dict[str, Any]:
    """What the run templates need (``web/_run_status.html``)."""
    project = access.project.id
    return {
        "project": access.project,
        "run": run,
        "editable": access.editable,
        "kind_label": run_kind_label(run.kind),
        "status_label": run_status_label(run.status),
        "run_url": f"/projets/{project}/calculs/{quote(run.id)}",
        "result_url": result_page(run, project),
        "results": project_runs(request).results(project, run.id) if run.finished else [],
        "poll_seconds": POLL_SECONDS,
    }


@router.get("/projets/{project_id}/calculs/{run_id}")
def run_page(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The page of a run: progress while it runs, then its outcome."""
    run = run_or_404(request, access, run_id)
    return render(request, "run.html", **run_context(request, access, run))


@router.get("/projets/{project_id}/calculs/{run_id}/etat")
def run_status(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The status fragment of a run (polled by htmx while it runs)."""
    run = run_or_404(request, access, run_id)
    return render(request, "_run_status.html", **run_context(request, access, run))


@router.post("/projets/{project_id}/calculs/{run_id}/annuler")
def cancel_run(
    request: Request, run_id: str, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """Cancel a queued or running run."""
    run = run_or_404(request, access, run_id)
    try:
        project_runs(request).cancel(
            access.project.id, run.id, actor=access.user.login, ip=client_ip(request)
        )
    except InvalidValueError:
        flash(request, _("Ce calcul était déjà terminé : rien à annuler."))
    else:
        flash(request, _("Calcul annulé."))
    return RedirectResponse(f"/projets/{access.project.id}/calculs/{quote(run.id)}", 303)


@router.get("/projets/{project_id}/calculs/{run_id}/fichiers/{name}")
def run_file(
    request: Request, run_id: str, name: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """A result file of a run, as stored (downloaded)."""
    run = run_or_404(request, access, run_id)
    runs = project_runs(request)
    found = {r.name: r for r in runs.results(access.project.id, run.id)}
    if name not in found:
        raise HTTPException(status_code=404, detail=_("Fichier de résultat introuvable."))
    content = runs.read_result(access.project.id, run.id, name)
    return Response(
        content,
        media_type=found[name].media_type,
        headers={"Content-Disposition": f'attachment; filename="{quote(name)}"'},
    )
