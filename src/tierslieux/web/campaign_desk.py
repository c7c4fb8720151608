"""A campaign's tools in the workspace: flyer, paper version, paper entry, results, purge.

Under ``/projets/{id}/questionnaire/campagnes/{campaign}``:

- ``GET …/affiche.pdf``: the flyer (A5: title, territory, public address and its QR
  code, dates, controller, purpose and retention in short);
- ``GET …/questionnaire.pdf`` (and ``.html``): the paper version, with the campaign's
  consent notice and a box for the sheet number;
- ``GET|POST …/papier``: the data-entry screen of paper answers (chargé de mission):
  the public form's questions, checks and messages, the sheet number (the same sheet
  typed twice is stored once), stored with the channel ``papier``;
- ``GET …/carte.geojson``, ``…/carte.json``: the map of the campaign's results;
- ``GET …/reponses.csv``: its answers, pseudonymised (``survey export``);
- ``POST …/purger``: delete the answers past the campaign's retention period.

The campaign page (:mod:`tierslieux.web.campaigns`) shows the live results
(:func:`campaign_extras`): counts per day and commune per channel, the typology with
confidence intervals and the candidate base communities on the map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tierslieux.errors import SchemaError, TierslieuxError
from tierslieux.i18n import current_language
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.campaign_tools import (
    CHANNEL_ORDER,
    SHEET_FIELD,
    analyse_campaign,
    campaign_counts,
    campaign_state,
    export_campaign_answers,
    paper_notice,
    purge_campaign,
    submit_paper_answers,
)
from tierslieux.pipeline.campaigns import CHANNELS, InvalidValueError, PublicCampaign
from tierslieux.pipeline.questionnaire import questionnaire_document
from tierslieux.pipeline.survey import MIN_GROUP_SIZE, territory_communes
from tierslieux.reports.flyer import render_flyer_pdf
from tierslieux.reports.questionnaire import questionnaire_file
from tierslieux.reports.survey import survey_map_data, survey_sections, survey_warnings
from tierslieux.web.auth import ProjectAccess, client_ip, project_editor, project_viewer
from tierslieux.web.auth import repositories as _repositories
from tierslieux.web.campaigns import _campaign, _inputs, public_url
from tierslieux.web.memo import remembered
from tierslieux.web.public import form_answers, form_questions, project_form
from tierslieux.web.questionnaire import _group_size
from tierslieux.web.rendering import flash, render
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from tierslieux.pipeline.campaigns import CampaignView, PublicForm
    from tierslieux.pipeline.inputs import LoadedInputs
    from tierslieux.pipeline.survey import SurveyAnalysis

__all__ = ["campaign_extras", "router"]

router = APIRouter()
_BASE = "/projets/{project_id}/questionnaire/campagnes/{campaign_id}"
_CACHED = 16


def _base(access: ProjectAccess, campaign: CampaignView) -> str:
    return f"/projets/{access.project.id}/questionnaire/campagnes/{campaign.id}"


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def channel_label(channel: str) -> str:
    """A channel for people (« en ligne », « papier », « import »)."""
    return _(CHANNELS.get(channel) or channel)


# -- results ----------------------------------------------------------------------------


def _analysed(
    request: Request, access: ProjectAccess, inputs: LoadedInputs, campaign_id: int, size: int
) -> SurveyAnalysis:
    """The campaign's analysis, computed once per state of its answers (page and map)."""
    core = web_settings(request).core
    # The analysis holds the questionnaire's labels in the current language: a key part.
    key = (*campaign_state(core, access.project, inputs, campaign_id), size, current_language())
    return remembered(
        request,
        "campaign_analyses",
        key,
        lambda: analyse_campaign(core, access.project, inputs, campaign_id, min_group_size=size),
        size=_CACHED,
    )


def campaign_extras(
    request: Request, access: ProjectAccess, campaign: CampaignView, inputs: LoadedInputs
) -> dict[str, Any]:
    """What the campaign page shows besides the campaign: the live results."""
    size, size_error = _group_size(request.query_params.get("taille"))
    core = web_settings(request).core
    counts = campaign_counts(core, access.project, inputs, campaign.id)
    sections = None
    notes: list[str] = []
    no_results = None
    warnings: list[str] = []
    if counts.total:
        try:
            analysis = _analysed(request, access, inputs, campaign.id, size)
        except TierslieuxError as error:
            no_results = str(error)
        else:
            warnings, notes = survey_warnings(analysis)
            sections = survey_sections(
                analysis, size_option=_("le champ « Taille minimale d'un groupe » ci-dessus")
            )
    return {
        "counts": counts,
        "channel_counts": dict(counts.channels),
        "channel_order": [c for c in CHANNEL_ORDER if c != "import"],
        "channel_label": channel_label,
        "s": sections,
        "notes": notes,
        "no_results": no_results,
        "size": size,
        "size_error": size_error,
        "default_size": MIN_GROUP_SIZE,
        "warnings": warnings,
    }


def _analysis(request: Request, access: ProjectAccess, campaign_id: int) -> SurveyAnalysis:
    campaign = _campaign(request, access, campaign_id)
    size, _error = _group_size(request.query_params.get("taille"))
    try:
        return _analysed(request, access, _inputs(request, access), campaign.id, size)
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


@router.get(_BASE + "/carte.geojson")
def map_geojson(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The communes with the campaign's respondents and group members (GeoJSON)."""
    geojson, _metadata = survey_map_data(_analysis(request, access, campaign_id))
    return Response(geojson, media_type="application/geo+json")


@router.get(_BASE + "/carte.json")
def map_metadata(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The map's indicators, classes and palette (map.js metadata)."""
    import json  # noqa: PLC0415

    _geojson, metadata = survey_map_data(_analysis(request, access, campaign_id))
    return Response(
        json.dumps(metadata, ensure_ascii=False, allow_nan=False), media_type="application/json"
    )


@router.get(_BASE + "/reponses.csv")
def answers_export(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The campaign's answers, pseudonymised (``survey export``), with their channel."""
    campaign = _campaign(request, access, campaign_id)
    content, _n = export_campaign_answers(
        web_settings(request).core,
        _repositories(request),
        access.project,
        _inputs(request, access),
        campaign.id,
        actor=access.user,
        ip=client_ip(request),
    )
    return _download(content, "text/csv; charset=utf-8", f"reponses_campagne_{campaign.id}.csv")


@router.post(_BASE + "/purger")
def purge(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """Delete the campaign's answers past its retention period (tombstones kept)."""
    campaign = _campaign(request, access, campaign_id)
    done = purge_campaign(
        web_settings(request).core,
        _repositories(request),
        access.project,
        _inputs(request, access),
        campaign.id,
        actor=access.user,
        ip=client_ip(request),
    )
    flash(
        request,
        _(
            "{n} réponse(s) effacée(s) : consentement donné avant le {day}, au-delà des "
            "{months} mois de conservation de la campagne.",
            n=done.deleted,
            day=done.before.strftime("%d/%m/%Y"),
            months=campaign.retention_months,
        ),
    )
    return RedirectResponse(_base(access, campaign), status_code=303)


# -- flyer and paper version --------------------------------------------------------------


def _territory(inputs: LoadedInputs, access: ProjectAccess) -> str:
    try:
        return territory_communes(inputs, access.project.territory)[1]
    except TierslieuxError:
        return access.project.territory_label


@router.get(_BASE + "/affiche.pdf")
def flyer(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """The campaign's flyer (PDF, A5) with its public address and QR code."""
    campaign = _campaign(request, access, campaign_id)
    inputs = _inputs(request, access)
    try:
        content = render_flyer_pdf(
            campaign, public_url(request, campaign), _territory(inputs, access)
        )
    except TierslieuxError as error:
        raise HTTPException(status_code=503, detail=str(error)) from error
    return _download(content, "application/pdf", f"affiche_campagne_{campaign.id}.pdf")


@router.get(_BASE + "/questionnaire.{suffix}")
def paper_version(
    request: Request,
    campaign_id: int,
    suffix: str,
    access: ProjectAccess = Depends(project_viewer),
) -> Response:
    """The campaign's paper questionnaire (PDF or HTML): its notice, a sheet-number box."""
    media = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
    if suffix not in media:
        raise HTTPException(status_code=404, detail=_("Format inconnu."))
    campaign = _campaign(request, access, campaign_id)
    document = questionnaire_document(web_settings(request).core)
    try:
        content = questionnaire_file(document, suffix, campaign)
    except TierslieuxError as error:
        raise HTTPException(status_code=503, detail=str(error)) from error
    return _download(content, media[suffix], f"questionnaire_campagne_{campaign.id}.{suffix}")


# -- paper entry ----------------------------------------------------------------------------


def _public(campaign: CampaignView, inputs: LoadedInputs) -> PublicCampaign:
    return PublicCampaign(campaign, inputs.fictional)


def _paper_page(
    request: Request,
    access: ProjectAccess,
    campaign: CampaignView,
    form: PublicForm,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    chosen: dict[str, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    questions = form_questions(form)
    anchors = {item["q"].id: item["anchor"] for item in questions}
    labels = {item["q"].id: item["q"].label for item in questions}
    anchors[SHEET_FIELD] = f"champ-{SHEET_FIELD}"
    labels[SHEET_FIELD] = _("N° de feuille")
    found = errors or {}
    summary = [(anchors.get(f, f"champ-{f}"), labels.get(f, f), t) for f, t in found.items()]
    inputs = _inputs(request, access)
    counts = campaign_counts(web_settings(request).core, access.project, inputs, campaign.id)
    return render(
        request,
        "campaign_paper.html",
        status,
        project=access.project,
        campaign=campaign,
        questions=questions,
        choices=form.choices,
        consent=paper_notice(campaign),
        values=values or {},
        chosen=chosen or {},
        errors=found,
        summary=summary,
        message=message,
        sheet_field=SHEET_FIELD,
        paper=dict(counts.channels).get("papier", 0),
    )


def _form(request: Request, access: ProjectAccess, campaign: CampaignView) -> PublicForm:
    try:
        return project_form(request, _public(campaign, _inputs(request, access)))
    except TierslieuxError as error:
        raise HTTPException(status_code=503, detail=str(error)) from error


@router.get(_BASE + "/papier")
def paper_entry(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """The data-entry screen of a paper sheet."""
    campaign = _campaign(request, access, campaign_id)
    return _paper_page(request, access, campaign, _form(request, access, campaign))


@router.post(_BASE + "/papier")
async def paper_submit(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """Check and store one paper sheet; then the screen again, for the next one."""
    data = await request.form()
    return await run_in_threadpool(_paper_submit, request, campaign_id, access, data)


def _paper_submit(
    request: Request, campaign_id: int, access: ProjectAccess, data: FormData
) -> Response:
    campaign = _campaign(request, access, campaign_id)
    form = _form(request, access, campaign)
    values, chosen = form_answers(data, form)
    given = data.get(SHEET_FIELD)
    sheet = given if isinstance(given, str) else ""
    values_shown = {**values, SHEET_FIELD: sheet}
    try:
        entry = submit_paper_answers(
            web_settings(request).core,
            _repositories(request),
            access.project,
            _inputs(request, access),
            campaign.id,
            form,
            values,
            sheet=sheet,
            actor=access.user,
            ip=client_ip(request),
        )
    except SchemaError as error:
        errors = {str(p.field): p.render() for p in error.problems if p.field}
        general = [p.render() for p in error.problems if not p.field]
        heading = _("Feuille non enregistrée : corrigez les points signalés.")
        return _paper_page(
            request,
            access,
            campaign,
            form,
            422,
            values=values_shown,
            chosen=chosen,
            errors=errors,
            message=" ".join([heading, *general]),
        )
    except InvalidValueError as error:
        return _paper_page(
            request,
            access,
            campaign,
            form,
            409,
            values=values_shown,
            chosen=chosen,
            message=str(error),
        )
    if not entry.created:
        text = _(
            "La feuille n° {sheet} était déjà saisie : rien de nouveau n'est enregistré.",
            sheet=entry.sheet,
        )
    elif entry.sheet:
        text = _("Feuille n° {sheet} enregistrée (réponse papier).", sheet=entry.sheet)
    else:
        text = _("Feuille enregistrée (réponse papier, sans numéro).")
    flash(request, text)
    return RedirectResponse(_base(access, campaign) + "/papier", status_code=303)
