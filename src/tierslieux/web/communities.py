"""The base-communities screen of a project: the directory on a map and as a list.

- ``GET /projets/{id}/communautes``: the directory (filters: ``etape``, ``theme``,
  ``commune``, ``ouverture``), for every member of the project;
- ``GET /projets/{id}/communautes/structures.geojson``: the filtered structures as
  points (map.js's ``data-points-url``), ``.../communes.geojson``: the communes and
  their base community's figures (``data-geojson-url``);
- ``GET /projets/{id}/communautes/fichiers/{name}``: the files of ``tierslieux
  communities`` kept with the run (``structures.csv``, ``communities.csv``...);
- ``POST /projets/{id}/communautes/construire``: start building the directory as a run
  (chargé de mission, administrator; progress and cancel on the run's page), see
  :func:`tierslieux.pipeline.project_communities.start_directory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from tierslieux.i18n import current_language
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import OPENNESS_LABELS
from tierslieux.pipeline.project_communities import (
    DIRECTORY_FILES,
    DIRECTORY_KIND,
    STEPS,
    DirectoryFilter,
    directory_map,
    filter_structures,
    filtered_rows,
    openness_label,
    pending_directory_run,
    project_directory,
    start_directory,
    step_labels,
    summary_text,
)
from tierslieux.pipeline.project_runs import finished_result, run_status_label
from tierslieux.reports.communities import STEP_COLOURS, directory_files, structure_points
from tierslieux.reports.templates import environment
from tierslieux.web.auth import (
    ProjectAccess,
    client_ip,
    project_editor,
    project_viewer,
    repositories,
)
from tierslieux.web.documents import document_response
from tierslieux.web.memo import remembered
from tierslieux.web.rendering import flash, render
from tierslieux.web.routes import territory_index
from tierslieux.web.runs import RESULT_PAGES, project_runs
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from tierslieux.pipeline.project_communities import Directory

__all__ = ["contact_url", "directory_of", "router"]

router = APIRouter()
RESULT_PAGES[DIRECTORY_KIND] = "/projets/{project}/communautes"
#: Rows of the list shown per page.
PAGE_ROWS = 100
#: GeoJSON of the points (run, project, filter, language) and the list's pages (run,
#: project, filter, page, language) kept per process (memo.remembered): a directory
#: never changes once built.
_POINTS_KEPT = 256


def contact_url(project: int, identifiant: str) -> str:
    """The contact page of a structure."""
    return f"/projets/{project}/contacts/{quote(identifiant, safe=':')}"


def directory_of(request: Request, project: int) -> Directory | None:
    """The project's latest directory (communes named from the workspace)."""
    index = territory_index(request)
    names = index.commune_names if index is not None else {}
    directory = project_directory(repositories(request), project, commune_names=names)
    if directory is not None:
        # Kept by the pipeline for the process's life: the first time this worker
        # sees it, remembering it settles it (memo.settle).
        remembered(request, "seen_directories", directory.run.id, lambda: True, size=_POINTS_KEPT)
    return directory


def _filter(etape: str, theme: str, commune: str, ouverture: str) -> DirectoryFilter:
    return DirectoryFilter(
        step=etape if etape in STEPS else "",
        theme=theme.strip(),
        commune=commune.strip(),
        openness=ouverture if ouverture in OPENNESS_LABELS else "",
    )


def _query(chosen: DirectoryFilter) -> str:
    pairs = {
        "etape": chosen.step,
        "theme": chosen.theme,
        "commune": chosen.commune,
        "ouverture": chosen.openness,
    }
    return urlencode({k: v for k, v in pairs.items() if v})


def _table(
    request: Request,
    directory: Directory,
    project: int,
    chosen: DirectoryFilter,
    page: int,
    pages: int,
    kept: list[dict[str, Any]],
) -> Markup:
    """The list of one page of the directory (rendered once: a directory never changes)."""

    def rendered() -> Markup:
        return Markup(  # noqa: S704 - a template of the autoescaping environment
            environment()
            .get_template("web/_directory_table.html")
            .render(
                rows=kept[(page - 1) * PAGE_ROWS : page * PAGE_ROWS],
                page=page,
                pages=pages,
                query=_query(chosen),
                project_id=project,
                contact_url=contact_url,
                openness_label=openness_label,
            )
        )

    key = (directory.run.id, project, chosen, page, current_language())
    return remembered(request, "directory_tables", key, rendered, size=_POINTS_KEPT)


@router.get("/projets/{project_id}/communautes")
def directory_page(
    request: Request,
    etape: str = "",
    theme: str = "",
    commune: str = "",
    ouverture: str = "",
    page: int = 1,
    access: ProjectAccess = Depends(project_viewer),
) -> Response:
    """The directory of the project's territory: map, filters and list."""
    project = access.project
    directory = directory_of(request, project.id)
    chosen = _filter(etape, theme, commune, ouverture)
    context: dict[str, Any] = {
        "project": project,
        "editable": access.editable,
        "directory": directory,
        "chosen": chosen,
        "steps": step_labels(),
        "step_colours": STEP_COLOURS,
        "openness": [(code, openness_label(code)) for code in OPENNESS_LABELS],
        "query": _query(chosen),
        "contact_url": contact_url,
        "openness_label": openness_label,
        "pending": pending_directory_run(repositories(request), project.id),
        "run_status_label": run_status_label,
    }
    if directory is not None:
        kept = filtered_rows(directory, chosen)
        pages = max(1, -(-len(kept) // PAGE_ROWS))
        page = min(max(page, 1), pages)
        context |= {
            "table": _table(request, directory, project.id, chosen, page, pages, kept),
            "shown": len(kept),
            "total": len(directory.structures),
            "page": page,
            "pages": pages,
            "themes": directory.themes(),
            "communes": directory.communes(),
            "summary": summary_text(directory.run.summary or {}),
            "categories": directory.category_counts(),
            "files": [name for name in DIRECTORY_FILES if name != "communities.html"],
        }
    return render(request, "communities.html", **context)


@router.get("/projets/{project_id}/communautes/structures.geojson")
def structures_geojson(
    request: Request,
    etape: str = "",
    theme: str = "",
    commune: str = "",
    ouverture: str = "",
    access: ProjectAccess = Depends(project_viewer),
) -> Response:
    """The filtered structures as GeoJSON points (map of the directory)."""
    directory = _required(request, access)
    chosen = _filter(etape, theme, commune, ouverture)
    project = access.project.id
    # The step labels of the points are in the page's language.
    key = (directory.run.id, project, chosen, current_language())
    content = remembered(
        request,
        "directory_points",
        key,
        lambda: structure_points(
            filter_structures(directory, chosen),
            link=lambda ident: contact_url(project, ident),
            step_labels=step_labels(),
        ),
        size=_POINTS_KEPT,
    )
    return document_response(request, ("structures", *key), content, "application/geo+json")


def _required(request: Request, access: ProjectAccess) -> Directory:
    directory = directory_of(request, access.project.id)
    if directory is None:
        raise HTTPException(status_code=404, detail=_("Annuaire pas encore construit."))
    return directory


@router.get("/projets/{project_id}/communautes/fichiers/{name}")
def directory_file(
    request: Request, name: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """A file of the latest directory run (``structures.csv``, ``communes.geojson``...)."""
    directory = _required(request, access)
    if name not in DIRECTORY_FILES:
        raise HTTPException(status_code=404, detail=_("Fichier inconnu."))
    content = finished_result(repositories(request), directory.run, name)
    headers = {}
    if not name.endswith(".geojson"):
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(content, media_type=DIRECTORY_FILES[name], headers=headers)


@router.get("/projets/{project_id}/communautes/communes.geojson")
def communes_geojson(request: Request, access: ProjectAccess = Depends(project_viewer)) -> Response:
    """The communes of the territory with their base community's figures (map), in the
    page's language."""
    directory = _required(request, access)
    return document_response(
        request,
        ("directory communes", directory.run.id, current_language()),
        directory_map(repositories(request), directory),
        DIRECTORY_FILES["communes.geojson"],
    )


@router.post("/projets/{project_id}/communautes/construire")
def build(
    request: Request,
    csrf_token: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Start the build of the project's directory (a run: progress page, cancel).

    ``csrf_token`` is declared so that the form is read by FastAPI; the application's
    dependency checks it.
    """
    del csrf_token
    project = access.project
    pending = pending_directory_run(repositories(request), project.id)
    if pending is not None:
        flash(request, _("L'annuaire est déjà en cours de construction."))
        return RedirectResponse(f"/projets/{project.id}/calculs/{quote(pending.id)}", 303)
    settings = web_settings(request)
    run = start_directory(
        project_runs(request),
        settings.core,
        project,
        workspace=settings.workspace_path,
        render=directory_files,
        actor=access.user,
        ip=client_ip(request),
    )
    return RedirectResponse(f"/projets/{project.id}/calculs/{quote(run.id)}", status_code=303)
