"""Collection campaigns: a project's questionnaire published at a public address.

A chargé de mission creates a campaign for a project (:func:`create_campaign`): the
questionnaire version, its opening and closing dates (days in Paris time, stored as
UTC instants: from 00:00 on the opening day to 23:59:59 on the closing day), the data
controller's name and contact, the purpose and the retention period shown to the
respondents, and optionally invitation-only mode with one-time links
(:func:`create_invitations`).  It is published at ``/q/<slug>``, a random
unguessable slug.  Each change writes a row of the audit log.

Residents answer through :func:`submit_campaign_answers`: the answers are checked as
every other submission (:meth:`~tierslieux.pipeline.survey.SurveyContext.validate`),
stored with their campaign and channel (``en_ligne``), the consent notice shown
(text and :data:`NOTICE_VERSION`) and date; the respondent gets a receipt code (shown
once, stored as its SHA-256) with which they read, download (:func:`receipt_export`)
or erase (:func:`erase_receipt_answer`, leaving the usual tombstone) their answer.

Where things live: a project's campaigns and their answers are in the store of the
project's answers (the demonstration store for the fictional demo territory, as
``--demo`` does; otherwise the one store), so the project's results count them with
the imported answers.  The audit log is the application's.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from tierslieux.errors import Problem, Problems, SchemaError, TierslieuxError
from tierslieux.files import spreadsheet_safe
from tierslieux.i18n import PARIS, current_language
from tierslieux.i18n import gettext as _
from tierslieux.model.survey import load_questionnaire
from tierslieux.pipeline.database import database_url, open_store
from tierslieux.pipeline.project_runs import project_inputs
from tierslieux.pipeline.projects import territory_display_name
from tierslieux.pipeline.survey import SurveyContext, territory_communes
from tierslieux.privacy import mask_contact_details
from tierslieux.sources.survey_formats import fold
from tierslieux.store import (
    CampaignView,
    InvalidValueError,
    InvitationRefusedError,
    RespondentView,
    UnknownRecordError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from tierslieux.config import Settings
    from tierslieux.model.survey import Answer, Questionnaire, SurveyResponse
    from tierslieux.pipeline.inputs import LoadedInputs
    from tierslieux.pipeline.workspace import Workspace
    from tierslieux.store import ProjectView, Repositories, UserView

__all__ = [
    "CHANNELS",
    "CLOSE_ACTION",
    "CREATE_ACTION",
    "HONEYPOT_FIELD",
    "IDEMPOTENCY_FIELD",
    "INVITATION_FIELD",
    "INVITE_ACTION",
    "MAX_ANSWER_LENGTH",
    "MAX_INVITATIONS",
    "MAX_RETENTION_MONTHS",
    "NOTICE_VERSION",
    "AnswerRow",
    "CampaignClosedError",
    "CampaignRequest",
    "CampaignView",
    "InvalidValueError",
    "InvitationRefusedError",
    "PublicCampaign",
    "PublicForm",
    "Receipt",
    "RespondentView",
    "campaign_answers",
    "campaign_status",
    "close_campaign",
    "closed_message",
    "consent_notice",
    "create_campaign",
    "create_invitations",
    "erase_receipt_answer",
    "find_campaign",
    "invitation_usable",
    "new_idempotency_key",
    "project_campaign",
    "project_campaigns",
    "public_form",
    "receipt_answer",
    "receipt_export",
    "refreshed",
    "status_label",
    "submit_campaign_answers",
    "validated_answers",
]

CREATE_ACTION = "campaign.create"
CLOSE_ACTION = "campaign.close"
INVITE_ACTION = "campaign.invitations"
#: Version of the consent notice's wording (:func:`consent_notice`), stored with answers.
NOTICE_VERSION = "campagne-1"
#: How an answer arrived, for people.
CHANNELS = {"import": "import", "en_ligne": "en ligne", "papier": "papier"}
#: Longest answer accepted in a field other than a free text (a free text has its
#: question's ``max_length``): a commune name, a number.
MAX_ANSWER_LENGTH = 200
#: Longest retention period a campaign may announce (ten years).
MAX_RETENTION_MONTHS = 120
#: Most invitation links drawn at once.
MAX_INVITATIONS = 500
#: Hidden form fields of the public form.
IDEMPOTENCY_FIELD = "cle_envoi"
INVITATION_FIELD = "invitation"
#: The honeypot: a field hidden from people; a bot that fills it is not stored.
HONEYPOT_FIELD = "site_web"

_SLUG = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_MAX_TEXT = 200
_MAX_PURPOSE = 2000
_STATUS_LABELS = {"a_venir": "à venir", "ouverte": "ouverte", "fermee": "fermée"}


class CampaignClosedError(TierslieuxError):
    """The campaign does not accept answers (not open yet, or closed)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _store(settings: Settings, *, demo: bool) -> Repositories:
    return open_store(settings, demo=demo)


# -- workspace side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignRequest:
    """A campaign as typed in its form (texts; :func:`create_campaign` checks them).

    ``opens`` and ``closes`` are days ``YYYY-MM-DD`` (Paris time);
    ``retention_months`` a whole number of months.
    """

    title: str
    opens: str
    closes: str
    controller_name: str
    controller_contact: str
    purpose: str
    retention_months: str
    invitation_only: bool = False


def _field_labels() -> dict[str, str]:
    return {
        "titre": _("Titre"),
        "ouverture": _("Ouverture"),
        "fermeture": _("Fermeture"),
        "responsable": _("Responsable du traitement"),
        "contact": _("Contact du responsable"),
        "finalite": _("Finalité"),
        "conservation": _("Durée de conservation"),
    }


def _bad(found: Problems, field: str, text: str) -> None:
    label = _field_labels()[field]
    found.add(Problem(_("{label} : {text}", label=label, text=text), field=field, translated=True))


def _day(text: str, field: str, found: Problems) -> date | None:
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _bad(
            found,
            field,
            _(
                "« {value} » n'est pas une date (jour au format AAAA-MM-JJ attendu).",
                value=value[:40],
            ),
        )
        return None


def _checked(request: CampaignRequest, today: date) -> tuple[date, date, int]:
    found = Problems()
    texts = {
        "titre": (request.title, _MAX_TEXT),
        "responsable": (request.controller_name, _MAX_TEXT),
        "contact": (request.controller_contact, _MAX_TEXT),
        "finalite": (request.purpose, _MAX_PURPOSE),
    }
    for field, (value, limit) in texts.items():
        if not value.strip():
            _bad(found, field, _("à remplir."))
        elif len(value) > limit:
            _bad(found, field, _("{n} caractères, {limit} au plus.", n=len(value), limit=limit))
    opens = _day(request.opens, "ouverture", found)
    closes = _day(request.closes, "fermeture", found)
    if closes is not None and closes < today:
        _bad(found, "fermeture", _("la date de fermeture est passée."))
    if opens is not None and closes is not None and closes < opens:
        _bad(
            found,
            "fermeture",
            _(
                "la fermeture ({closes}) précède l'ouverture ({opens}).",
                closes=closes.isoformat(),
                opens=opens.isoformat(),
            ),
        )
    try:
        months = int(request.retention_months.strip())
    except ValueError:
        months = 0
    if not 1 <= months <= MAX_RETENTION_MONTHS:
        _bad(
            found,
            "conservation",
            _(
                "« {value} » refusé ; un nombre entier de mois de 1 à {high} est attendu.",
                value=request.retention_months[:20],
                high=MAX_RETENTION_MONTHS,
            ),
        )
    found.raise_if_any(SchemaError)
    if opens is None or closes is None:  # pragma: no cover - reported above
        raise SchemaError(_("Dates illisibles."))
    return opens, closes, months


def _opening(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=PARIS).astimezone(UTC)


def _closing(day: date) -> datetime:
    return (datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=PARIS)).astimezone(
        UTC
    ) - timedelta(seconds=1)


def create_campaign(
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    request: CampaignRequest,
    *,
    actor: UserView,
    ip: str | None = None,
    today: date | None = None,
) -> CampaignView:
    """Create a campaign of ``project`` (a chargé de mission); write the audit log.

    Raises
    ------
    SchemaError
        Listing every field to correct (``field``: ``titre``, ``ouverture``,
        ``fermeture``, ``responsable``, ``contact``, ``finalite``, ``conservation``);
        nothing is stored.
    """
    opens, closes, months = _checked(request, today or _now().astimezone(PARIS).date())
    store = _store(settings, demo=inputs.fictional)
    campaign = store.campaigns.create_campaign(
        project_id=project.id,
        slug=secrets.token_urlsafe(18),
        title=request.title.strip(),
        questionnaire_version=load_questionnaire().version,
        opens_at=_opening(opens),
        closes_at=_closing(closes),
        controller_name=request.controller_name.strip(),
        controller_contact=request.controller_contact.strip(),
        purpose=request.purpose.strip(),
        retention_months=months,
        invitation_only=request.invitation_only,
        created_by=actor.login,
    )
    repos.audit.record(
        actor=actor.login,
        action=CREATE_ACTION,
        target=f"project:{project.id}",
        details={
            "campagne": campaign.id,
            "titre": campaign.title,
            "ouverture": opens.isoformat(),
            "fermeture": closes.isoformat(),
            "sur_invitation": campaign.invitation_only,
            "conservation_mois": months,
            "fictif": inputs.fictional,
        },
        ip=ip,
    )
    return campaign


def project_campaigns(
    settings: Settings, project: ProjectView, inputs: LoadedInputs
) -> list[CampaignView]:
    """The campaigns of a project, latest first, with their answers and invitations counts."""
    return _store(settings, demo=inputs.fictional).campaigns.list_campaigns(project.id)


def project_campaign(
    settings: Settings, project: ProjectView, inputs: LoadedInputs, campaign_id: int
) -> CampaignView:
    """The campaign ``campaign_id`` of ``project``.

    Raises
    ------
    UnknownRecordError
        When there is none, or it belongs to another project.
    """
    campaign = _store(settings, demo=inputs.fictional).campaigns.get_campaign(campaign_id)
    if campaign.project_id != project.id:
        raise UnknownRecordError(_("Campagne introuvable."))
    return campaign


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """An answer of a campaign as the workspace lists it: no identifier, a number
    (``R0001``...), contact details in the free comment masked."""

    number: str
    received_at: datetime
    channel: str
    commune: str
    comment: str


def campaign_answers(
    settings: Settings, project: ProjectView, inputs: LoadedInputs, campaign_id: int
) -> list[AnswerRow]:
    """The answers given through a campaign of ``project``, oldest first (pseudonymised).

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    stored = _store(settings, demo=inputs.fictional).campaigns.campaign_answers(campaign.id)
    return [
        AnswerRow(
            number=f"R{number:04d}",
            received_at=row.created_at,
            channel=_(CHANNELS.get(row.channel, row.channel)),
            commune=row.commune,
            comment=mask_contact_details(_text(row.answers.get("commentaire"))),
        )
        for number, row in enumerate(stored, start=1)
    ]


def close_campaign(
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    campaign_id: int,
    *,
    actor: UserView,
    ip: str | None = None,
) -> CampaignView:
    """Close a campaign now: the form refuses new answers; write the audit log.

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    closed = _store(settings, demo=inputs.fictional).campaigns.close_campaign(
        campaign.id, actor=actor.login, at=_now()
    )
    repos.audit.record(
        actor=actor.login,
        action=CLOSE_ACTION,
        target=f"project:{project.id}",
        details={"campagne": campaign.id, "titre": campaign.title, "reponses": closed.answers},
        ip=ip,
    )
    return closed


def create_invitations(
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    campaign_id: int,
    count: int,
    *,
    actor: UserView,
    ip: str | None = None,
) -> list[str]:
    """Draw ``count`` one-time invitation tokens; return them (they are shown once).

    Only their SHA-256 is stored; each lets one answer be sent, through
    ``/q/<slug>?invitation=<token>``.

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    SchemaError
        When the campaign is not invitation-only, is closed, or ``count`` is not 1 to
        :data:`MAX_INVITATIONS`.
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    if not campaign.invitation_only:
        raise SchemaError(_("Cette campagne est ouverte à tous : elle n'a pas d'invitations."))
    if campaign_status(campaign) == "fermee":
        raise SchemaError(_("Cette campagne est fermée : plus d'invitations."))
    if not 1 <= count <= MAX_INVITATIONS:
        raise SchemaError(
            Problem(
                _("Nombre d'invitations : de 1 à {high}.", high=MAX_INVITATIONS),
                field="nombre",
                translated=True,
            )
        )
    tokens = [secrets.token_urlsafe(18) for _i in range(count)]
    store = _store(settings, demo=inputs.fictional)
    store.campaigns.add_invitations(campaign.id, [_hash(t) for t in tokens], actor=actor.login)
    repos.audit.record(
        actor=actor.login,
        action=INVITE_ACTION,
        target=f"project:{project.id}",
        details={"campagne": campaign.id, "invitations": count},
        ip=ip,
    )
    return tokens


def campaign_status(campaign: CampaignView, now: datetime | None = None) -> str:
    """``a_venir`` (not open yet), ``ouverte`` or ``fermee`` (closed or past)."""
    moment = now or _now()
    if campaign.closed_at is not None or moment > campaign.closes_at:
        return "fermee"
    if moment < campaign.opens_at:
        return "a_venir"
    return "ouverte"


def status_label(status: str) -> str:
    """A campaign status for people."""
    return _(_STATUS_LABELS.get(status, status))


# -- public side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicCampaign:
    """A campaign found by its public slug, and which store holds it."""

    campaign: CampaignView
    demo: bool


def _stores(settings: Settings) -> list[tuple[bool, Repositories]]:
    """The stores that may hold campaigns: the one store, and the demonstration one
    when it is another database."""
    found = [(False, _store(settings, demo=False))]
    if database_url(settings, demo=True) != database_url(settings):
        found.append((True, _store(settings, demo=True)))
    return found


def find_campaign(settings: Settings, slug: str) -> PublicCampaign | None:
    """The campaign published at ``/q/<slug>``, ``None`` for an unknown or malformed slug.

    Its counts (answers, invitations) are not read: the public side never shows them.
    """
    if not _SLUG.match(slug):
        return None
    for demo, store in _stores(settings):
        campaign = store.campaigns.by_slug(slug, counted=False)
        if campaign is not None:
            return PublicCampaign(campaign, demo)
    return None


def refreshed(settings: Settings, public: PublicCampaign) -> PublicCampaign:
    """The campaign as stored now (whether it was closed; no counts: the public side)."""
    store = _store(settings, demo=public.demo)
    return PublicCampaign(
        store.campaigns.get_campaign(public.campaign.id, counted=False), public.demo
    )


@dataclass(frozen=True)
class PublicForm:
    """What the public form of a project needs, loaded once (a web process keeps it).

    ``choices`` are the communes of the project's territory as the form offers them
    (name, ``Nom (dép.)`` for homonyms); any commune of the inputs is accepted.
    """

    context: SurveyContext
    choices: tuple[str, ...]
    territory_label: str
    #: Language of the questionnaire's texts (the one in force when it was loaded).
    lang: str = "fr"


def public_form(
    settings: Settings, repos: Repositories, project: ProjectView, workspace: Workspace | Path
) -> PublicForm:
    """Load the questionnaire and the communes of a project for its public form.

    The questionnaire is in the current language (:meth:`Questionnaire.translated`):
    a form is for one language, and a cache of forms is keyed by it.

    Raises
    ------
    SourceError, SchemaError, TerritoryError
        When the project's communes cannot be read.
    """
    with project_inputs(repos, settings, project.id, workspace, mobpro=False) as loaded:
        inputs = loaded  # in memory: usable after the block
    # The questionnaire in the language of the page: labels, options and the messages
    # naming them; the answers stored are codes, the same in every language.
    codes, label = territory_communes(inputs, project.territory)
    # The territory tells homonyms apart: « Mane » is Mane (04) for a project of the 04.
    context = SurveyContext.from_inputs(
        settings, inputs, questionnaire=load_questionnaire().translated(), territory=codes
    )
    # A name the server reads as several communes (accents and case aside) is offered
    # as the server accepts it: « Nom (département) », « Nom (code) » if need be.
    index = context.index
    choices: set[str] = set()
    for code in codes:
        name = index.names.get(code, code)
        if index.resolve(name)[0] == code:
            choices.add(name)
            continue
        same = sorted(index.by_name.get(fold(name), [code]))
        choices.add(index.choices(same)[same.index(code)])
    label = territory_display_name(label, project.territory, project.territory_label)
    return PublicForm(context, tuple(sorted(choices)), label, current_language())


def consent_notice(campaign: CampaignView) -> str:
    """The notice shown above the consent box (and stored with each answer)."""
    return _(
        "Responsable du traitement : {name} ({contact}). Finalité : {purpose} "
        "Conservation : {months} mois après votre réponse, puis effacement. Après "
        "l'envoi, un code de reçu vous permet de consulter, télécharger ou effacer votre "
        "réponse à tout moment, sans compte.",
        name=campaign.controller_name,
        contact=campaign.controller_contact,
        purpose=campaign.purpose.rstrip(".") + ".",
        months=campaign.retention_months,
    )


def new_idempotency_key() -> str:
    """A fresh idempotency key for a form being shown (its hidden field)."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of an answer: its receipt code and whether it was new.

    ``code`` is ``None`` when a resent form found an answer whose code can no longer be
    recomputed (the server's secret key changed since).
    """

    code: str | None
    created: bool


_ALPHABET = str.maketrans({"0": "O", "1": "I", "8": "B"})


def _receipt_code(secret: str, submission_key: str) -> str:
    digest = hmac.new(secret.encode(), f"recu:{submission_key}".encode(), "sha256").digest()
    text = base64.b32encode(digest[:10]).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def _normalised(code: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]", "", code).upper().translate(_ALPHABET)
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def _length_problems(questionnaire: Questionnaire, answers: Mapping[str, str]) -> list[Problem]:
    found = []
    for question in questionnaire.questions:
        value = answers.get(question.id, "")
        limit = question.max_length if question.type == "text" else MAX_ANSWER_LENGTH
        if len(value) > limit:
            found.append(
                Problem(
                    _(
                        "réponse trop longue ({n} caractères) : {limit} caractères au plus ; "
                        "raccourcissez-la.",
                        n=len(value),
                        limit=limit,
                    ),
                    field=question.id,
                    translated=True,
                )
            )
    return found


def validated_answers(
    campaign: CampaignView,
    form: PublicForm,
    answers: Mapping[str, str],
    *,
    submission: str,
    notice: str | None = None,
) -> SurveyResponse:
    """Check one answer of a campaign as the public form does; return the response.

    The lengths (:data:`MAX_ANSWER_LENGTH`, a text question's ``max_length``), then
    :meth:`~tierslieux.pipeline.survey.SurveyContext.validate`; the consent text
    stored is ``notice`` (default: the form's, :func:`consent_notice`) and the consent
    question's label.  The paper data-entry screen uses it too, with the paper's notice.

    Raises
    ------
    SchemaError
        Listing every invalid answer (``field``: the question id).
    """
    context = form.context
    problems = _length_problems(context.questionnaire, answers)
    if problems:
        raise SchemaError(*problems)
    consent = context.questionnaire.consent
    shown = consent_notice(campaign) if notice is None else notice
    shown += " " + consent.label if consent is not None else ""
    return context.validate(answers, submission=submission, consent_text=shown)


def submit_campaign_answers(
    settings: Settings,
    public: PublicCampaign,
    form: PublicForm,
    answers: Mapping[str, str],
    *,
    idempotency_key: str,
    secret: str,
    invitation: str | None = None,
    now: datetime | None = None,
) -> Receipt:
    """Check and store one answer given through a campaign; return its receipt.

    The answer is committed before this returns (with the use of its invitation); a
    second call with the same ``idempotency_key`` stores nothing and returns the same
    receipt code (derived from the key and ``secret``, the server's secret key).

    Raises
    ------
    CampaignClosedError
        When the campaign is not open.
    SchemaError
        Listing every invalid answer (``field``: the question id; a malformed
        idempotency key has no field): nothing is stored.
    InvitationRefusedError
        For an invitation-only campaign, when the invitation is missing, unknown or
        used.
    InvalidValueError
        When the same answer was erased at its respondent's request.
    """
    campaign = refreshed(settings, public).campaign
    status = campaign_status(campaign, now)
    if status != "ouverte":
        raise CampaignClosedError(closed_message(campaign, status))
    if not _KEY.match(idempotency_key):
        raise SchemaError(_("Formulaire incomplet ou périmé : rechargez la page puis recommencez."))
    invitation_hash = None
    if campaign.invitation_only:
        if not invitation or len(invitation) > _MAX_TEXT:
            raise InvitationRefusedError(
                _("Ce questionnaire est réservé aux personnes invitées : ouvrez votre lien.")
            )
        invitation_hash = _hash(invitation)
    response = validated_answers(
        campaign, form, answers, submission=f"campagne:{campaign.id}:{idempotency_key}"
    )
    submission_key = _hash(f"{campaign.id}:{idempotency_key}")
    code = _receipt_code(secret, submission_key)
    store = _store(settings, demo=public.demo)
    outcome = store.campaigns.submit(
        campaign.id,
        response,
        submission_key=submission_key,
        receipt_hash=_hash(code),
        consent_version=NOTICE_VERSION,
        consent_language=form.lang,
        invitation_hash=invitation_hash,
    )
    if not outcome.created:
        stored = store.campaigns.respondent_of_submission(submission_key)
        if stored is None or store.campaigns.by_receipt(campaign.id, _hash(code)) is None:
            return Receipt(None, created=False)
    return Receipt(code, created=outcome.created)


def closed_message(campaign: CampaignView, status: str) -> str:
    """Why a campaign refuses answers, with its dates in Paris time."""
    if status == "a_venir":
        return _(
            "Ce questionnaire ouvrira le {day} : revenez à partir de cette date.",
            day=campaign.opens_at.astimezone(PARIS).strftime("%d/%m/%Y"),
        )
    return _(
        "Ce questionnaire est fermé depuis le {day} : il ne reçoit plus de réponses. Merci "
        "de votre intérêt.",
        day=(campaign.closed_at or campaign.closes_at).astimezone(PARIS).strftime("%d/%m/%Y"),
    )


def invitation_usable(settings: Settings, public: PublicCampaign, invitation: str) -> bool:
    """Whether ``invitation`` lets one answer be sent to this campaign."""
    if not invitation or len(invitation) > _MAX_TEXT:
        return False
    store = _store(settings, demo=public.demo)
    return store.campaigns.invitation_usable(public.campaign.id, _hash(invitation))


def receipt_answer(settings: Settings, public: PublicCampaign, code: str) -> RespondentView | None:
    """The answer of this campaign whose receipt code is ``code`` (spaces, case ignored)."""
    cleaned = _normalised(code[:_MAX_TEXT])
    if len(cleaned) != 19:
        return None
    store = _store(settings, demo=public.demo)
    return store.campaigns.by_receipt(public.campaign.id, _hash(cleaned))


def erase_receipt_answer(settings: Settings, public: PublicCampaign, code: str) -> bool:
    """Erase the answer of this receipt code (RGPD), leaving a tombstone; ``False``: none."""
    cleaned = _normalised(code[:_MAX_TEXT])
    if len(cleaned) != 19:
        return False
    store = _store(settings, demo=public.demo)
    return store.campaigns.delete_by_receipt(public.campaign.id, _hash(cleaned)) > 0


def _text(value: Answer | None) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def receipt_export(
    campaign: CampaignView, answer: RespondentView, kind: str
) -> tuple[bytes, str, str]:
    """The respondent's own answer as ``json`` or ``csv``: content, media type, file name.

    Raises
    ------
    ValueError
        For another ``kind``.
    """
    questionnaire = load_questionnaire().translated()
    rows = [
        (q.id, q.label, _text(answer.answers.get(q.id)))
        for q in questionnaire.questions
        if q.id in answer.answers
    ]
    name = f"ma_reponse_{campaign.slug[:8]}"
    if kind == "json":
        document = {
            "campagne": campaign.title,
            "responsable": campaign.controller_name,
            "commune": answer.commune,
            "version_questionnaire": answer.questionnaire_version,
            "consentement": {
                "texte": answer.consent_text,
                "version": answer.consent_version,
                "date": answer.consented_at.isoformat(),
                "langue": answer.consent_language,
            },
            "reponses": {qid: value for qid, _label, value in rows},
        }
        content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        return content, "application/json", f"{name}.json"
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(["question", "libelle", "reponse"])
        consent = [
            ("consentement_texte", _("Consentement enregistré"), answer.consent_text),
            ("consentement_version", _("Version du consentement"), answer.consent_version or ""),
            ("consentement_date", _("Date du consentement"), answer.consented_at.isoformat()),
            ("consentement_langue", _("Langue du consentement"), answer.consent_language or ""),
        ]
        for qid, label, value in [*rows, *consent]:
            writer.writerow([qid, spreadsheet_safe(label), spreadsheet_safe(value)])
        return (
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            "text/csv; charset=utf-8",
            (f"{name}.csv"),
        )
    msg = f"unknown export kind {kind!r}"
    raise ValueError(msg)
