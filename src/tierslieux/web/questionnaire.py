"""The questionnaire screen of a project: definition, answers, import, results.

- ``GET /projets/{id}/questionnaire``: the questionnaire (versions, definition,
  downloads), the answers of the project's territory and where they come from, the
  import form (chargé de mission), then the results of ``tierslieux survey analyse
  --territory <territory>``: typology with confidence intervals, every question,
  comments, candidate base communities and leads (map and table); ``?taille=N`` is
  the minimum group size (``--min-group-size`` of the command line);
- ``GET …/questionnaire/questionnaire.{lss,html,pdf}``: the exports of ``survey
  questionnaire``;
- ``POST …/questionnaire/import``: upload an export, see the automatic mapping;
  ``POST …/questionnaire/import/{token}``: import it (mapping as proposed or edited);
  ``GET …/questionnaire/import/{token}/correspondance.yaml``: the proposed mapping;
- ``GET …/questionnaire/resultats``: every question, the comments, the fit scores;
- ``GET …/questionnaire/carte.geojson`` and ``…/carte.json``: the map's data (map.js);
- ``GET …/questionnaire/reponses.csv``: the pseudonymised answers (``survey export``);
- the collection campaigns (public form) are listed here; their pages are
  :mod:`tierslieux.web.campaigns`.

Reading needs a project member (lecteur included); importing a chargé de mission
member or an administrator.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import current_language
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.campaigns import (
    CHANNELS,
    campaign_status,
    project_campaigns,
    status_label,
)
from tierslieux.pipeline.inputs import synthetic_note
from tierslieux.pipeline.project_runs import project_inputs, project_inputs_key
from tierslieux.pipeline.project_survey import (
    analyse_project_survey,
    answers_state,
    export_project_answers,
    import_project_answers,
    stage_export,
    staged_export,
    survey_overview,
)
from tierslieux.pipeline.questionnaire import questionnaire_document
from tierslieux.pipeline.survey import MIN_GROUP_SIZE, fictional_note, propose_survey_mapping
from tierslieux.pipeline.workspace import Workspace
from tierslieux.reports.questionnaire import (
    FORMATS,
    consent_notice,
    question_details,
    questionnaire_file,
    type_label,
)
from tierslieux.reports.survey import survey_map_data, survey_sections, survey_warnings
from tierslieux.web.auth import ProjectAccess, client_ip, project_editor, project_viewer
from tierslieux.web.auth import repositories as _repositories
from tierslieux.web.memo import remembered
from tierslieux.web.rendering import render
from tierslieux.web.settings import web_settings
from tierslieux.web.uploads import read_upload

if TYPE_CHECKING:
    from pathlib import Path

    from tierslieux.pipeline.inputs import LoadedInputs
    from tierslieux.pipeline.survey import MappingSummary, SurveyAnalysis

__all__ = ["router"]

router = APIRouter()
_MEDIA = {
    "lss": ("limesurvey", "application/xml"),
    "html": ("html", "text/html; charset=utf-8"),
    "pdf": ("pdf", "application/pdf"),
}
#: Largest minimum group size offered (a group larger than this is a whole town).
_MAX_GROUP_SIZE = 50


def _results_size_option() -> str:
    """Where the minimum group size is set, as the results page names it (words only)."""
    return _("le champ « Taille minimale d'un groupe » de la page du questionnaire")


def survey_workspace(request: Request) -> Workspace | Path:
    """The installation's workspace, opened once per process; its folder while it has
    none (a project with its own communes file still works)."""
    state = request.app.state
    settings = web_settings(request)
    workspace: Workspace | Path | None = getattr(state, "survey_workspace", None)
    if workspace is None:
        try:
            workspace = Workspace.open(settings.workspace_path)
            state.survey_workspace = workspace
        except TierslieuxError:
            workspace = settings.workspace_path
    return workspace


def survey_inputs(request: Request, access: ProjectAccess) -> LoadedInputs:
    """The project's communes (its file, else the workspace, read once per process)."""
    settings = web_settings(request)
    workspace = survey_workspace(request)
    repos = _repositories(request)
    # Reading a project's own files (all PACA's outlines, say) takes seconds: the
    # loaded inputs are kept per state of those files, the page and its two map
    # documents read them once (the workspace's are already kept in memory).
    files = project_inputs_key(repos, access.project.id)

    def load() -> LoadedInputs:
        with project_inputs(
            repos, settings.core, access.project.id, workspace, mobpro=False
        ) as loaded:
            return loaded  # in memory: usable after the block

    # Without files of its own, the workspace's inputs are in memory already: not kept twice.
    return remembered(
        request,
        "survey_inputs",
        (access.project.id, files),
        load,
        size=_CACHED_INPUTS,
        keep=bool(files),
    )


#: Projects whose own input files are kept loaded per process.
_CACHED_INPUTS = 4


#: Analyses kept per process (project, options, state of the answers).
_CACHED = 16


def _analysed(
    request: Request, access: ProjectAccess, inputs: LoadedInputs, size: int
) -> SurveyAnalysis:
    """The project's analysis, computed once per state of its answers and options.

    The page and its two map documents need the same analysis: it is kept in the
    process (a few, latest first) under :func:`answers_state`, so an import, an
    erasure or a new input file gives a fresh one.
    """
    core = web_settings(request).core
    # The analysis holds the questionnaire's labels in the current language: a key part.
    key = (
        *answers_state(core, _repositories(request), access.project, inputs),
        size,
        current_language(),
    )
    return remembered(
        request,
        "survey_analyses",
        key,
        lambda: analyse_project_survey(core, access.project, inputs, min_group_size=size),
        size=_CACHED,
    )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _group_size(taille: str | None) -> tuple[int, str | None]:
    """The minimum group size asked (``?taille=``), or the default and the error."""
    if taille is None or not taille.strip():
        return MIN_GROUP_SIZE, None
    try:
        size = int(taille)
    except ValueError:
        size = 0
    if not 2 <= size <= _MAX_GROUP_SIZE:
        return MIN_GROUP_SIZE, _(
            "Taille minimale « {value} » refusée : un nombre entier de 2 à {high} est "
            "attendu ; la valeur par défaut ({n}) est utilisée.",
            value=taille[:20],
            high=_MAX_GROUP_SIZE,
            n=MIN_GROUP_SIZE,
        )
    return size, None


def _questions(document: Any) -> list[dict[str, Any]]:  # noqa: ANN401 - QuestionnaireDocument
    return [
        {
            "question": q,
            "type": type_label(q),
            "details": question_details(q),
        }
        for q in document.questionnaire.questions
    ]


def _page(
    request: Request,
    access: ProjectAccess,
    status: int = 200,
    *,
    size: int = MIN_GROUP_SIZE,
    size_error: str | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    settings = web_settings(request)
    document = questionnaire_document(settings.core).translated()
    warnings: list[str] = []
    overview = None
    analysis: SurveyAnalysis | None = None
    no_results: str | None = None
    problem: str | None = None
    try:
        inputs = survey_inputs(request, access)
    except TierslieuxError as error:
        problem = str(error)
    else:
        if inputs.fictional:
            warnings.append(fictional_note())
        if inputs.communes.provenance.synthetic:
            warnings.append(synthetic_note())
        try:
            overview = survey_overview(
                settings.core, _repositories(request), access.project, inputs
            )
            if overview.inside:
                analysis = _analysed(request, access, inputs, size)
        except TierslieuxError as error:
            no_results = str(error)
    campaigns = []
    if problem is None:
        campaigns = project_campaigns(settings.core, access.project, inputs)
    sections = None
    notes: list[str] = []
    if analysis is not None:
        banner, notes = survey_warnings(analysis)
        warnings.extend(w for w in banner if w not in warnings)
        sections = survey_sections(
            analysis, size_option=_("le champ « Taille minimale d'un groupe » ci-dessus")
        )
    return render(
        request,
        "questionnaire.html",
        status,
        project=access.project,
        editable=access.editable,
        document=document,
        questions=_questions(document),
        consent=consent_notice(document),
        formats=list(_MEDIA),
        overview=overview,
        problem=problem,
        no_results=no_results,
        s=sections,
        notes=notes,
        size=size,
        size_error=size_error,
        default_size=MIN_GROUP_SIZE,
        max_size=_MAX_GROUP_SIZE,
        warnings=warnings,
        errors=errors or {},
        message=message,
        campaigns=campaigns,
        channel_label=lambda c: _(CHANNELS.get(c) or c),
        campaign_status=campaign_status,
        status_label=status_label,
    )


@router.get("/projets/{project_id}/questionnaire")
def questionnaire_page(
    request: Request, taille: str | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The questionnaire screen of a project."""
    size, error = _group_size(taille)
    return _page(request, access, size=size, size_error=error)


@router.get("/projets/{project_id}/questionnaire/resultats")
def results_page(
    request: Request, taille: str | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """Every question's counts and shares, the free comments and the fit scores.

    A territory where nobody answered yet shows the empty state (200), not an error.
    """
    size, _error = _group_size(taille)
    try:
        inputs = survey_inputs(request, access)
        overview = survey_overview(
            web_settings(request).core, _repositories(request), access.project, inputs
        )
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    if not overview.inside:
        return render(
            request,
            "questionnaire_results.html",
            project=access.project,
            s=None,
            overview=overview,
            notes=[],
            size=size,
            warnings=[fictional_note()] if inputs.fictional else [],
        )
    analysis = _analysis(request, access, taille)
    warnings, notes = survey_warnings(analysis)
    return render(
        request,
        "questionnaire_results.html",
        project=access.project,
        s=survey_sections(analysis, size_option=_results_size_option()),
        overview=overview,
        notes=notes,
        size=size,
        warnings=warnings,
    )


@router.get("/projets/{project_id}/questionnaire/questionnaire.{suffix}")
def questionnaire_download(
    request: Request, suffix: str, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The questionnaire for LimeSurvey (``.lss``) or paper (``.html``, ``.pdf``)."""
    del access
    if suffix not in _MEDIA:
        raise HTTPException(status_code=404, detail=_("Format inconnu."))
    kind, media = _MEDIA[suffix]
    document = questionnaire_document(web_settings(request).core)
    content = questionnaire_file(document, kind)
    name = f"questionnaire_v{document.questionnaire.version}{FORMATS[kind]}"
    return _download(content, media, name)


def _analysis(request: Request, access: ProjectAccess, taille: str | None) -> SurveyAnalysis:
    size, _error = _group_size(taille)
    try:
        return _analysed(request, access, survey_inputs(request, access), size)
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


@router.get("/projets/{project_id}/questionnaire/carte.geojson")
def map_geojson(
    request: Request, taille: str | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The communes of the territory with respondents and group members (GeoJSON)."""
    geojson, _metadata = survey_map_data(_analysis(request, access, taille))
    return Response(geojson, media_type="application/geo+json")


@router.get("/projets/{project_id}/questionnaire/carte.json")
def map_metadata(
    request: Request, taille: str | None = None, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The map's indicators, classes and palette (map.js metadata)."""
    _geojson, metadata = survey_map_data(_analysis(request, access, taille))
    return Response(
        json.dumps(metadata, ensure_ascii=False, allow_nan=False), media_type="application/json"
    )


@router.get("/projets/{project_id}/questionnaire/reponses.csv")
def answers_export(request: Request, access: ProjectAccess = Depends(project_viewer)) -> Response:
    """The answers of the territory, pseudonymised (``survey export``), as CSV."""
    try:
        inputs = survey_inputs(request, access)
        content, _summary = export_project_answers(
            web_settings(request).core,
            _repositories(request),
            access.project,
            inputs,
            actor=access.user,
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    return _download(content, "text/csv; charset=utf-8", f"reponses_projet_{access.project.id}.csv")


# -- import ------------------------------------------------------------------------------


def _review(
    request: Request,
    access: ProjectAccess,
    token: str,
    proposal: MappingSummary,
    filename: str,
    status: int = 200,
    *,
    mapping: str | None = None,
    message: str | None = None,
) -> Response:
    try:
        fictional = survey_inputs(request, access).fictional
    except TierslieuxError:
        fictional = False
    return render(
        request,
        "questionnaire_import.html",
        status,
        warnings=[fictional_note()] if fictional else [],
        project=access.project,
        token=token,
        filename=filename,
        proposal=proposal,
        mapping=proposal.text if mapping is None else mapping,
        message=message,
        summary=None,
    )


@router.post("/projets/{project_id}/questionnaire/import")
def upload_export(
    request: Request,
    file: UploadFile = File(...),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Keep an uploaded export and show the automatic mapping for review."""
    settings = web_settings(request)
    content, too_large = read_upload(request, file)
    if too_large is not None:
        return _page(request, access, 413, errors={"file": too_large})
    try:
        staged = stage_export(settings.core, access.project.id, file.filename or "", content)
    except TierslieuxError as error:
        return _page(request, access, 422, errors={"file": str(error)})
    try:
        proposal = propose_survey_mapping(staged.path)
    except TierslieuxError as error:
        return _page(request, access, 422, errors={"file": str(error)})
    return _review(request, access, staged.token, proposal, staged.filename)


@router.get("/projets/{project_id}/questionnaire/import/{token}/correspondance.yaml")
def mapping_download(
    request: Request, token: str, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """The mapping proposed for a staged export (``survey mapping``), as YAML."""
    try:
        staged = staged_export(web_settings(request).core, access.project.id, token)
        proposal = propose_survey_mapping(staged.path)
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    stem = staged.filename.rsplit(".", 1)[0]
    return _download(
        proposal.text.encode("utf-8"), "application/yaml; charset=utf-8", f"{stem}.mapping.yaml"
    )


def _same(text: str, other: str) -> bool:
    return text.replace("\r\n", "\n").strip() == other.replace("\r\n", "\n").strip()


@router.post("/projets/{project_id}/questionnaire/import/{token}")
def import_export(
    request: Request,
    token: str,
    correspondance: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Import a staged export with the mapping as proposed or as edited."""
    settings = web_settings(request)
    try:
        staged = staged_export(settings.core, access.project.id, token)
        proposal = propose_survey_mapping(staged.path)
    except TierslieuxError as error:
        return _page(request, access, 404, message=str(error))
    automatic = proposal.ready and (
        not correspondance.strip() or _same(correspondance, proposal.text)
    )
    try:
        inputs = survey_inputs(request, access)
        summary = import_project_answers(
            settings.core,
            _repositories(request),
            access.project,
            staged,
            inputs,
            mapping=None if automatic else correspondance or proposal.text,
            tool=proposal.tool,
            actor=access.user,
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        return _review(
            request,
            access,
            token,
            proposal,
            staged.filename,
            422,
            mapping=correspondance or proposal.text,
            message=str(error),
        )
    return render(
        request,
        "questionnaire_import.html",
        project=access.project,
        token=token,
        filename=staged.filename,
        proposal=proposal,
        mapping="",
        message=None,
        summary=summary,
        warnings=[fictional_note()] if inputs.fictional else [],
    )
