"""The collection campaigns of a project's questionnaire (workspace side).

- ``GET /projets/{id}/questionnaire/campagnes/nouvelle``: the form of a new campaign
  (chargé de mission); ``POST /projets/{id}/questionnaire/campagnes`` creates it;
- ``GET …/campagnes/{campaign}``: the campaign — its public address, dates (Paris
  time), status, answers count and the answers (pseudonymised), invitations;
- ``POST …/campagnes/{campaign}/fermer``: close it now;
- ``POST …/campagnes/{campaign}/invitations`` (``nombre``): draw one-time invitation
  links, shown once.

The campaigns are listed on the questionnaire screen.  Reading needs a project member
(lecteur included); every change a chargé de mission member or an administrator, and
writes the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.campaigns import (
    MAX_INVITATIONS,
    CampaignRequest,
    campaign_answers,
    campaign_status,
    close_campaign,
    create_campaign,
    create_invitations,
    project_campaign,
    status_label,
)
from tierslieux.web.auth import ProjectAccess, client_ip, project_editor, project_viewer
from tierslieux.web.auth import repositories as _repositories
from tierslieux.web.questionnaire import survey_inputs
from tierslieux.web.rendering import flash, render
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from tierslieux.pipeline.campaigns import CampaignView
    from tierslieux.pipeline.inputs import LoadedInputs

__all__ = ["public_url", "router"]

router = APIRouter()
_BASE = "/projets/{project_id}/questionnaire/campagnes"


def _inputs(request: Request, access: ProjectAccess) -> LoadedInputs:
    """The project's inputs as the questionnaire screen reads them; unusable: 404."""
    try:
        return survey_inputs(request, access)
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


def public_url(request: Request, campaign: CampaignView) -> str:
    """The address residents open: the setting ``public_base_url`` when set, else the
    server's own address as the browser reached it."""
    base = web_settings(request).public_base_url or str(request.base_url).rstrip("/")
    return base + f"/q/{campaign.slug}"


def _campaign(request: Request, access: ProjectAccess, campaign_id: int) -> CampaignView:
    try:
        return project_campaign(
            web_settings(request).core, access.project, _inputs(request, access), campaign_id
        )
    except TierslieuxError as error:
        raise HTTPException(status_code=404, detail=_("Campagne introuvable.")) from error


def _new_page(
    request: Request,
    access: ProjectAccess,
    status: int = 200,
    **context: Any,  # noqa: ANN401
) -> Response:
    values = {
        "errors": {},
        "message": None,
        "form": {
            "titre": "",
            "ouverture": "",
            "fermeture": "",
            "responsable": "",
            "contact": "",
            "finalite": web_settings(request).core.purpose(),
            "conservation": "12",
            "sur_invitation": "",
        },
    } | context
    return render(request, "campaign_new.html", status, project=access.project, **values)


@router.get(_BASE + "/nouvelle")
def new_campaign(request: Request, access: ProjectAccess = Depends(project_editor)) -> Response:
    """The form of a new campaign."""
    return _new_page(request, access)


@router.post(_BASE)
def create(
    request: Request,
    titre: str = Form(""),
    ouverture: str = Form(""),
    fermeture: str = Form(""),
    responsable: str = Form(""),
    contact: str = Form(""),
    finalite: str = Form(""),
    conservation: str = Form(""),
    sur_invitation: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Create a campaign; then its page."""
    form = {
        "titre": titre,
        "ouverture": ouverture,
        "fermeture": fermeture,
        "responsable": responsable,
        "contact": contact,
        "finalite": finalite,
        "conservation": conservation,
        "sur_invitation": sur_invitation,
    }
    try:
        campaign = create_campaign(
            web_settings(request).core,
            _repositories(request),
            access.project,
            _inputs(request, access),
            CampaignRequest(
                title=titre,
                opens=ouverture,
                closes=fermeture,
                controller_name=responsable,
                controller_contact=contact,
                purpose=finalite,
                retention_months=conservation,
                invitation_only=bool(sur_invitation),
            ),
            actor=access.user,
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        errors = {str(p.field): p.render() for p in error.problems if p.field}
        message = None if errors else str(error)
        return _new_page(request, access, 422, errors=errors, message=message, form=form)
    flash(request, _("Campagne « {title} » créée.", title=campaign.title))
    return RedirectResponse(
        f"/projets/{access.project.id}/questionnaire/campagnes/{campaign.id}", status_code=303
    )


def _campaign_page(
    request: Request,
    access: ProjectAccess,
    campaign: CampaignView,
    status: int = 200,
    **context: Any,  # noqa: ANN401
) -> Response:
    settings = web_settings(request)
    inputs = _inputs(request, access)
    names = inputs.communes.table.set_index("code")["nom"].astype(str).to_dict()
    answers = campaign_answers(settings.core, access.project, inputs, campaign.id)
    values = {"tokens": None, "errors": {}} | context
    from tierslieux.web.campaign_desk import campaign_extras  # noqa: PLC0415 - it imports this

    values |= campaign_extras(request, access, campaign, inputs)
    return render(
        request,
        "campaign.html",
        status,
        project=access.project,
        editable=access.editable,
        campaign=campaign,
        url=public_url(request, campaign),
        status=campaign_status(campaign),
        status_label=status_label,
        answers=answers,
        names=names,
        max_invitations=MAX_INVITATIONS,
        **values,
    )


@router.get(_BASE + "/{campaign_id}")
def campaign_page(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_viewer)
) -> Response:
    """A campaign: its public address, dates, status, answers and invitations."""
    return _campaign_page(request, access, _campaign(request, access, campaign_id))


@router.post(_BASE + "/{campaign_id}/fermer")
def close(
    request: Request, campaign_id: int, access: ProjectAccess = Depends(project_editor)
) -> Response:
    """Close a campaign now."""
    campaign = _campaign(request, access, campaign_id)
    closed = close_campaign(
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
        _("Campagne « {title} » fermée : elle ne reçoit plus de réponses.", title=closed.title),
    )
    return RedirectResponse(
        f"/projets/{access.project.id}/questionnaire/campagnes/{campaign.id}", status_code=303
    )


@router.post(_BASE + "/{campaign_id}/invitations")
def invitations(
    request: Request,
    campaign_id: int,
    nombre: str = Form(""),
    access: ProjectAccess = Depends(project_editor),
) -> Response:
    """Draw one-time invitation links (shown on this page only)."""
    campaign = _campaign(request, access, campaign_id)
    try:
        count = int(nombre.strip())
    except ValueError:
        count = 0
    try:
        tokens = create_invitations(
            web_settings(request).core,
            _repositories(request),
            access.project,
            _inputs(request, access),
            campaign.id,
            count,
            actor=access.user,
            ip=client_ip(request),
        )
    except TierslieuxError as error:
        return _campaign_page(request, access, campaign, 422, errors={"nombre": str(error)})
    fresh = _campaign(request, access, campaign_id)
    base = public_url(request, fresh)
    return _campaign_page(request, access, fresh, tokens=[f"{base}?invitation={t}" for t in tokens])
