"""The territory dossier of a project: launch it, follow it, download its files.

- ``GET /projets/{id}/dossier`` (``?calcul=<run>`` for an older one): the latest
  finished dossier of the project with its four files to download (PDF for elected
  officials, Excel workbook, GeoPackage for QGIS, GeoJSON for uMap), the dossier under
  way if any, and the launch button (chargé de mission; a lecteur downloads only);
- ``POST /projets/{id}/dossier``: launch the dossier on the project's inputs (or the
  workspace) as a run, then its page (progress, cancel, files: :mod:`tierslieux.web.runs`).

The files are those of ``tierslieux dossier``
(:func:`~tierslieux.reports.dossier.dossier_files`), kept in the run.  Its directory of
structures is the sites screen's default
(:func:`~tierslieux.pipeline.site_scenarios.default_structures`: the latest finished
directory run, else the project's structures.csv), read at launch and kept in the run's
parameters; the page says which (the directory run's end, Paris time).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import format_datetime
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.project_dossier import (
    DOSSIER_FILE_LABELS,
    DOSSIER_KIND,
    DOSSIER_MEDIA_TYPES,
    dossier_summary,
    run_project_dossier,
)
from tierslieux.pipeline.project_runs import RunOutcome, RunPendingError
from tierslieux.pipeline.projects import dataset_label, territory_display_name
from tierslieux.pipeline.site_scenarios import DIRECTORY_DATE_KEY, default_structures
from tierslieux.reports.dossier import Basemap, dossier_files
from tierslieux.web.auth import ProjectAccess, client_ip, project_editor, project_viewer
from tierslieux.web.rendering import flash, render
from tierslieux.web.routes import territory_index
from tierslieux.web.runs import project_runs, run_or_404
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tierslieux.model.types import ProgressCallback
    from tierslieux.pipeline.project_runs import RunView

__all__ = ["router"]

router = APIRouter()


def structures_used(parameters: Mapping[str, Any]) -> str:
    """Which directory of structures a dossier uses (its run's parameters, or
    :func:`~tierslieux.pipeline.site_scenarios.default_structures` for the next one),
    in words to follow « utilise » ; « » for a run that did not record it."""
    source = parameters.get("structures")
    if source is None:
        return ""
    finished = parameters.get(DIRECTORY_DATE_KEY)
    if source == "annuaire" and isinstance(finished, str):
        try:
            when = format_datetime(datetime.fromisoformat(finished))
        except ValueError:
            when = finished
        return _(
            "l'annuaire de l'écran des communautés-base construit le {when} (heure de Paris)",
            when=when,
        )
    if source == "structures":
        return _(
            "le fichier « {what} » déposé dans les fichiers du projet",
            what=dataset_label("structures"),
        )
    return _(
        "les registres (Sirene, RNA, tiers-lieux) pour trouver les structures : aucun "
        "annuaire n'est construit ni déposé"
    )


def _page(
    request: Request, access: ProjectAccess, *, chosen: str | None, status: int = 200
) -> Response:
    runs = project_runs(request)
    project = access.project.id
    kind_runs = [r for r in runs.list_runs(project) if r.kind == DOSSIER_KIND]
    shown: RunView | None
    if chosen:
        shown = run_or_404(request, access, chosen)
        if shown.kind != DOSSIER_KIND or shown.status != "done":
            raise HTTPException(status_code=404, detail=_("Aucun dossier terminé de ce calcul."))
    else:
        shown = runs.latest(project, DOSSIER_KIND, status="done")
    files = []
    if shown is not None:
        base = f"/projets/{project}/calculs/{quote(shown.id)}/fichiers"
        files = [
            {
                "name": r.name,
                "label": _(DOSSIER_FILE_LABELS.get(r.name, r.name)),
                "url": f"{base}/{quote(r.name)}",
                "size": r.size,
            }
            for r in sorted(
                runs.results(project, shown.id),
                key=lambda r: (
                    list(DOSSIER_FILE_LABELS).index(r.name)
                    if r.name in DOSSIER_FILE_LABELS
                    else len(DOSSIER_FILE_LABELS)
                ),
            )
        ]
    summary = dict(shown.summary or {}) if shown is not None else {}
    if shown is not None:
        summary["territoire"] = territory_display_name(
            str(summary.get("territoire") or ""),
            access.project.territory,
            access.project.territory_label,
            territory_index(request),
        )
    warnings = [
        text
        for flag, text in (
            ("synthetique", _("SYNTHÉTIQUE : le recensement utilisé est synthétique.")),
            (
                "fictif",
                _("Territoire FICTIF de démonstration : aucun chiffre ne décrit un lieu réel."),
            ),
        )
        if summary.get(flag)
    ]
    return render(
        request,
        "dossier.html",
        status,
        project=access.project,
        editable=access.editable,
        run=shown,
        summary=summary,
        files=files,
        warnings=warnings,
        pending=next((r for r in kind_runs if not r.finished), None),
        previous=[r for r in kind_runs if r.status == "done"],
        structures_used=structures_used(shown.parameters) if shown is not None else "",
        structures_next=structures_used(default_structures(runs.repos, project)),
    )


@router.get("/projets/{project_id}/dossier")
def dossier_page(
    request: Request, calcul: str | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The dossier screen of a project: its files to download, the launch button."""
    return _page(request, access, chosen=calcul or None)


@router.post("/projets/{project_id}/dossier")
def launch_dossier(
    request: Request,
    csrf_token: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Launch the dossier of the project; show its run's page.

    ``csrf_token`` is declared so that the form is read by FastAPI; the application's
    dependency checks it.
    """
    del csrf_token
    runs = project_runs(request)
    project = access.project
    settings = web_settings(request)
    workspace = settings.workspace_path if settings.workspace_path.exists() else None
    repos = runs.repos

    # The installation's optional tile basemap, under the PDF's maps as under the pages'.
    basemap = (
        Basemap(settings.basemap_url, settings.basemap_credit) if settings.basemap_url else None
    )

    # The directory of structures is the one of the click (named by the run's page).
    structures = default_structures(repos, project.id)
    # Its official name when the project's files name it only by its code.
    name = territory_display_name(
        "", project.territory, project.territory_label, territory_index(request)
    )

    def use_case(*, progress: ProgressCallback) -> RunOutcome:
        dossier = run_project_dossier(
            repos,
            settings.core,
            project,
            workspace=workspace,
            progress=progress,
            structures=structures,
            territory_name=name,
        )
        return RunOutcome(
            summary=dossier_summary(dossier),
            files=dossier_files(dossier, progress=progress, basemap=basemap),
            vintages={p.role: p.vintage for p in dossier.provenance if p.vintage},
            media_types=DOSSIER_MEDIA_TYPES,
        )

    try:
        run = runs.start(
            project.id,
            DOSSIER_KIND,
            use_case,
            actor=access.user.login,
            parameters={"territoire": project.territory, **structures},
            ip=client_ip(request),
            exclusive=True,  # two clicks at once start one dossier (checked by the store)
        )
    except RunPendingError as pending:
        flash(request, _("Un dossier est déjà en préparation : voici son avancement."))
        return RedirectResponse(f"/projets/{project.id}/calculs/{quote(pending.run_id)}", 303)
    except TierslieuxError as error:
        flash(request, str(error))
        return RedirectResponse(f"/projets/{project.id}/dossier", 303)
    return RedirectResponse(f"/projets/{project.id}/calculs/{quote(run.id)}", 303)
