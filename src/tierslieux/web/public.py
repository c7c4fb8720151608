"""The public questionnaire: the form residents answer without an account.

Every route here is public (:data:`PUBLIC_ROUTES`, added to the route table's
``PUBLIC_PATHS``); none reads anything but the campaign of its slug and, with a
receipt code, the one answer of that code.

- ``GET /q/{slug}`` (``?invitation=<token>`` for an invitation-only campaign): the
  form — every question of the definition with its help text, the communes of the
  project's territory offered in a ``<datalist>`` (any commune of the inputs accepted,
  a name that is none refused), the consent notice (controller, purpose, retention);
- ``POST /q/{slug}``: check and store the answer, then the confirmation page with the
  receipt code; on a mistake the form again, with the error summary at its top
  (links to the fields), a message at each field and every answer kept;
- ``GET|POST /q/{slug}/recu`` (field ``code``): the respondent's answer for their
  receipt code; ``POST …/recu/telecharger`` (``code``, ``format`` = ``json`` or
  ``csv``) downloads it; ``POST …/recu/effacer`` (``code``) erases it (RGPD).

Integrity: an answer is acknowledged only once committed; the hidden field
:data:`~tierslieux.pipeline.campaigns.IDEMPOTENCY_FIELD`, drawn when the form is shown,
makes a resent form store nothing new and show the same receipt; the hidden
:data:`~tierslieux.pipeline.campaigns.HONEYPOT_FIELD` filled (a bot) gets a
confirmation but nothing is stored (a log line says so); answers and receipt look-ups
are limited per client address (:class:`RateLimiter`, generous by default so that a
town hall sharing one address is never blocked).  CSRF: the session cookie's token,
as every form of the application (an anonymous session works).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from tierslieux.errors import SchemaError, TierslieuxError
from tierslieux.i18n import current_language
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.campaigns import (
    HONEYPOT_FIELD,
    IDEMPOTENCY_FIELD,
    INVITATION_FIELD,
    CampaignClosedError,
    InvalidValueError,
    InvitationRefusedError,
    campaign_status,
    closed_message,
    consent_notice,
    erase_receipt_answer,
    find_campaign,
    invitation_usable,
    new_idempotency_key,
    public_form,
    receipt_answer,
    receipt_export,
    submit_campaign_answers,
)
from tierslieux.pipeline.projects import get_project
from tierslieux.reports.questionnaire import question_details
from tierslieux.reports.templates import environment
from tierslieux.web.auth import repositories
from tierslieux.web.memo import remembered
from tierslieux.web.questionnaire import survey_workspace
from tierslieux.web.rendering import render
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from tierslieux.pipeline.campaigns import PublicCampaign, PublicForm

__all__ = [
    "PUBLIC_ROUTES",
    "RateLimiter",
    "client_address",
    "form_answers",
    "form_questions",
    "project_form",
    "router",
]

router = APIRouter()
#: The public paths of this router (no login).
PUBLIC_ROUTES = frozenset(
    {"/q/{slug}", "/q/{slug}/recu", "/q/{slug}/recu/telecharger", "/q/{slug}/recu/effacer"}
)
_LOG = logging.getLogger("tierslieux.web.public")
_FORMS_KEPT = 16


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (a sliding window).

    In memory, per worker process: with ``--workers N`` a client may send up to ``N``
    times the limit, which errs on the side of never blocking a shared address.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event of ``key``; ``False`` when it is over the limit."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= moment - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(moment)
            if len(self._events) > 10_000:  # forget idle addresses
                for other in [k for k, v in self._events.items() if not v]:
                    del self._events[other]
            return True


def client_address(request: Request) -> str:
    """The client's address for the rate limit (``X-Forwarded-For`` when trusted)."""
    if web_settings(request).trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return request.client.host if request.client else "?"


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "public_limiter", None)
    if limiter is None:
        settings = web_settings(request)
        limiter = RateLimiter(settings.public_rate_limit, settings.public_rate_window_s)
        state.public_limiter = limiter
    return limiter


def _page(request: Request, status: int, heading: str, text: str, **context: Any) -> Response:  # noqa: ANN401
    return render(request, "public_message.html", status, heading=heading, text=text, **context)


def _unknown(request: Request) -> Response:
    return _page(
        request,
        404,
        _("Questionnaire introuvable"),
        _(
            "Aucun questionnaire n'est publié à cette adresse : vérifiez le lien reçu (il "
            "doit être recopié en entier)."
        ),
    )


def _too_many(request: Request, slug: str) -> Response:
    return _page(
        request,
        429,
        _("Trop d'envois depuis cette adresse"),
        _(
            "Beaucoup de réponses viennent d'arriver depuis cette connexion : attendez "
            "quelques minutes puis renvoyez le formulaire."
        ),
        link=f"/q/{slug}",
    )


def _campaign(request: Request, slug: str) -> PublicCampaign | None:
    return find_campaign(web_settings(request).core, slug)


def _form(request: Request, public: PublicCampaign) -> PublicForm:
    """The project's form (questionnaire and communes), loaded once per state of its files,
    language and questionnaire version (the form holds the questionnaire's texts in the
    language of the page)."""
    repos = repositories(request)
    project_id = public.campaign.project_id
    key = (
        project_id,
        repos.projects.dataset_stamps(project_id),
        current_language(),
        public.campaign.questionnaire_version,
    )

    def load() -> PublicForm:
        project = get_project(repos, project_id)
        return public_form(web_settings(request).core, repos, project, survey_workspace(request))

    return remembered(request, "public_forms", key, load, size=_FORMS_KEPT)


def _closed(request: Request, public: PublicCampaign) -> Response | None:
    status = campaign_status(public.campaign)
    if status == "ouverte":
        return None
    heading = (
        _("Questionnaire pas encore ouvert") if status == "a_venir" else _("Questionnaire fermé")
    )
    return _page(
        request,
        403 if status == "a_venir" else 410,
        heading,
        closed_message(public.campaign, status),
        campaign=public.campaign,
    )


def _invitation_refused(request: Request, public: PublicCampaign, text: str) -> Response:
    return _page(
        request,
        403,
        _("Questionnaire sur invitation"),
        text,
        campaign=public.campaign,
    )


def _questions(form: PublicForm) -> list[dict[str, Any]]:
    items = []
    for q in form.context.questionnaire.questions:
        anchor = f"champ-{q.id}"
        if q.type in {"choice", "multi"} and q.options:
            anchor = f"champ-{q.id}-{q.options[0].code}"
        items.append({"q": q, "details": question_details(q), "anchor": anchor})
    return items


def _blank_fields(
    request: Request, form: PublicForm, questions: list[dict[str, Any]], consent: str
) -> Markup:
    """The communes offered and the questions with no answer typed (``_public_fields.html``).

    The same markup for every visitor: rendered once per form, consent notice and
    language (the CSRF token and the idempotency key, drawn per page, are outside it).
    """
    key = (id(form), consent, current_language())

    def render_fields() -> tuple[PublicForm, Markup]:
        fields = Markup(  # noqa: S704 - a template of the autoescaping environment
            environment()
            .get_template("web/_public_fields.html")
            .render(
                choices=form.choices,
                questions=questions,
                values={},
                chosen={},
                errors={},
                consent=consent,
            )
        )
        return form, fields

    # The form is kept beside its markup: while the entry lives, no other form can
    # have its address, so the key ``id(form)`` names this form and no other.
    return remembered(request, "public_fields", key, render_fields, size=_FORMS_KEPT)[1]


def _form_page(
    request: Request,
    public: PublicCampaign,
    form: PublicForm,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    chosen: dict[str, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    key: str | None = None,
    invitation: str = "",
) -> Response:
    questions = _questions(form)
    anchors = {item["q"].id: item["anchor"] for item in questions}
    labels = {item["q"].id: item["q"].label for item in questions}
    found = errors or {}
    summary = [
        (anchors.get(field, f"champ-{field}"), labels.get(field, field), text)
        for field, text in found.items()
    ]
    consent = consent_notice(public.campaign)
    blank = not (values or chosen or found)
    return render(
        request,
        "public_form.html",
        status,
        campaign=public.campaign,
        territory=form.territory_label,
        questions=questions,
        choices=form.choices,
        consent=consent,
        blank_fields=_blank_fields(request, form, questions, consent) if blank else None,
        values=values or {},
        chosen=chosen or {},
        errors=found,
        summary=summary,
        message=message,
        key=key or new_idempotency_key(),
        invitation=invitation,
        key_field=IDEMPOTENCY_FIELD,
        invitation_field=INVITATION_FIELD,
        honeypot_field=HONEYPOT_FIELD,
        warnings=[_("Questionnaire de DÉMONSTRATION : territoire fictif.")] if public.demo else [],
    )


@router.get("/q/{slug}")
def public_questionnaire(request: Request, slug: str, invitation: str = "") -> Response:
    """The public form of a campaign."""
    public = _campaign(request, slug)
    if public is None:
        return _unknown(request)
    closed = _closed(request, public)
    if closed is not None:
        return closed
    if public.campaign.invitation_only and not invitation_usable(
        web_settings(request).core, public, invitation
    ):
        return _invitation_refused(
            request,
            public,
            _(
                "Ce questionnaire est réservé aux personnes invitées, et ce lien d'invitation "
                "est absent, inconnu ou a déjà servi : ouvrez le lien personnel que vous avez "
                "reçu (chaque lien ne sert qu'une fois)."
            ),
        )
    try:
        form = _form(request, public)
    except TierslieuxError as error:
        return _page(request, 503, _("Questionnaire indisponible"), str(error))
    return _form_page(request, public, form, invitation=invitation)


def _answers(data: FormData, form: PublicForm) -> tuple[dict[str, str], dict[str, list[str]]]:
    values: dict[str, str] = {}
    chosen: dict[str, list[str]] = {}
    for q in form.context.questionnaire.questions:
        given = [v for v in data.getlist(q.id) if isinstance(v, str)]
        if q.type == "multi":
            chosen[q.id] = given
            values[q.id] = ";".join(v.strip() for v in given if v.strip())
        else:
            values[q.id] = given[0] if given else ""
            if q.type == "choice":
                chosen[q.id] = given[:1]
    return values, chosen


def _field(data: FormData, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _confirmation(
    request: Request, public: PublicCampaign, code: str | None, status: int = 200
) -> Response:
    return render(request, "public_done.html", status, campaign=public.campaign, code=code)


@router.post("/q/{slug}")
async def public_submit(request: Request, slug: str) -> Response:
    """Check and store an answer; then its receipt, or the form with the mistakes."""
    data = await request.form()
    return await run_in_threadpool(_submit, request, slug, data)


def _submit(request: Request, slug: str, data: FormData) -> Response:  # noqa: PLR0911
    public = _campaign(request, slug)
    if public is None:
        return _unknown(request)
    closed = _closed(request, public)
    if closed is not None:
        return closed
    if not _limiter(request).allow(client_address(request)):
        _LOG.warning("public form %s: rate limit reached for one client address", slug[:8])
        return _too_many(request, slug)
    invitation = _field(data, INVITATION_FIELD)
    key = _field(data, IDEMPOTENCY_FIELD)
    if _field(data, HONEYPOT_FIELD).strip():
        _LOG.warning("public form %s: honeypot filled, answer not stored", slug[:8])
        fake = "-".join(secrets.token_hex(2).upper() for _i in range(4))
        return _confirmation(request, public, fake)
    try:
        form = _form(request, public)
    except TierslieuxError as error:
        return _page(request, 503, _("Questionnaire indisponible"), str(error))
    values, chosen = _answers(data, form)
    settings = web_settings(request)

    def again(errors: dict[str, str], message: str) -> Response:
        return _form_page(
            request,
            public,
            form,
            422,
            values=values,
            chosen=chosen,
            errors=errors,
            message=message,
            key=key or None,
            invitation=invitation,
        )

    try:
        receipt = submit_campaign_answers(
            settings.core,
            public,
            form,
            values,
            idempotency_key=key,
            secret=settings.secret_key,
            invitation=invitation or None,
        )
    except CampaignClosedError:
        closed = _closed(request, public)
        return closed or _unknown(request)
    except InvitationRefusedError as error:
        return _invitation_refused(request, public, str(error))
    except SchemaError as error:
        errors = {str(p.field): p.render() for p in error.problems if p.field}
        general = [p.render() for p in error.problems if not p.field]
        heading = _("Votre réponse n'a pas été envoyée : corrigez les points signalés.")
        return again(errors, " ".join([heading, *general]))
    except InvalidValueError as error:
        return again({}, str(error))
    return _confirmation(request, public, receipt.code)


# -- receipt -------------------------------------------------------------------------


def _receipt_page(
    request: Request,
    public: PublicCampaign,
    status: int = 200,
    **context: Any,  # noqa: ANN401
) -> Response:
    values = {"answer": None, "code": "", "error": None, "erased": False} | context
    return render(request, "public_receipt.html", status, campaign=public.campaign, **values)


def _answer_rows(public: PublicCampaign, form: PublicForm | None, answer: Any) -> list[Any]:  # noqa: ANN401
    del public
    questionnaire = form.context.questionnaire if form is not None else None
    names = form.context.index.names if form is not None else {}
    rows = []
    for q in questionnaire.questions if questionnaire else ():
        value = answer.answers.get(q.id)
        if value is None:
            continue
        labels = {o.code: o.label for o in q.options}
        if isinstance(value, tuple):
            text = "; ".join(labels.get(str(v), str(v)) for v in value)
        elif isinstance(value, float):
            text = str(int(value)) if value.is_integer() else str(value)
        elif q.type == "commune":
            text = names.get(str(value), str(value))  # the commune's name, not its code
        elif q.type == "consent":
            text = _("oui")  # stored as a language-independent code
        else:
            text = labels.get(str(value), str(value))
        rows.append((q.label, text))
    return rows


@router.get("/q/{slug}/recu")
def receipt_form(request: Request, slug: str) -> Response:
    """The form asking for a receipt code."""
    public = _campaign(request, slug)
    if public is None:
        return _unknown(request)
    return _receipt_page(request, public)


def _lookup(
    request: Request, slug: str, data: FormData
) -> tuple[PublicCampaign | None, str, Any, Response | None]:
    public = _campaign(request, slug)
    if public is None:
        return None, "", None, _unknown(request)
    if not _limiter(request).allow("recu:" + client_address(request)):
        return public, "", None, _too_many(request, slug)
    code = _field(data, "code").strip()[:100]
    answer = receipt_answer(web_settings(request).core, public, code)
    if answer is None:
        error = _(
            "Aucune réponse de ce questionnaire n'a ce code de reçu : vérifiez-le (16 lettres "
            "et chiffres, par exemple ABCD-EFGH-IJKL-MNOP) ; une réponse effacée n'a plus de "
            "code."
        )
        return public, code, None, _receipt_page(request, public, 404, code=code, error=error)
    return public, code, answer, None


@router.post("/q/{slug}/recu")
async def receipt_view(request: Request, slug: str) -> Response:
    """The respondent's own answer, for their receipt code."""
    data = await request.form()
    return await run_in_threadpool(_receipt_view, request, slug, data)


def _receipt_view(request: Request, slug: str, data: FormData) -> Response:
    public, code, answer, refused = _lookup(request, slug, data)
    if refused is not None or public is None:
        return refused or _unknown(request)
    try:
        form: PublicForm | None = _form(request, public)
    except TierslieuxError:
        form = None
    return _receipt_page(
        request,
        public,
        code=code,
        answer=answer,
        rows=_answer_rows(public, form, answer),
    )


@router.post("/q/{slug}/recu/telecharger")
async def receipt_download(request: Request, slug: str) -> Response:
    """The respondent's own answer as JSON or CSV."""
    data = await request.form()
    return await run_in_threadpool(_receipt_download, request, slug, data)


def _receipt_download(request: Request, slug: str, data: FormData) -> Response:
    public, _code, answer, refused = _lookup(request, slug, data)
    if refused is not None or public is None:
        return refused or _unknown(request)
    kind = "csv" if _field(data, "format") == "csv" else "json"
    content, media, name = receipt_export(public.campaign, answer, kind)
    return Response(
        content,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/q/{slug}/recu/effacer")
async def receipt_erase(request: Request, slug: str) -> Response:
    """Erase the respondent's answer (RGPD right to erasure)."""
    data = await request.form()
    return await run_in_threadpool(_receipt_erase, request, slug, data)


def _receipt_erase(request: Request, slug: str, data: FormData) -> Response:
    public, code, _answer, refused = _lookup(request, slug, data)
    if refused is not None or public is None:
        return refused or _unknown(request)
    erase_receipt_answer(web_settings(request).core, public, code)
    _LOG.info("public form %s: an answer was erased by its respondent", slug[:8])
    return _receipt_page(request, public, erased=True)


# -- shared with the paper data-entry screen (tierslieux.web.campaign_desk) -------------


def project_form(request: Request, public: PublicCampaign) -> PublicForm:
    """The campaign's form (questionnaire and communes), as the public form uses it."""
    return _form(request, public)


def form_questions(form: PublicForm) -> list[dict[str, Any]]:
    """The questions of the form as ``_survey_fields.html`` shows them."""
    return _questions(form)


def form_answers(data: FormData, form: PublicForm) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The answers of a posted form: ``{question: text}`` and the options chosen."""
    return _answers(data, form)
