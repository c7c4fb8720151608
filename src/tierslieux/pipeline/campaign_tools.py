"""What a team does with a collection campaign besides publishing it.

- the paper version: answers written on the printed questionnaire are typed in by a
  team member (:func:`submit_paper_answers`), checked exactly as the public form
  checks them (:func:`~tierslieux.pipeline.campaigns.validated_answers`), stored with
  the channel ``papier``, the consent recorded as given on paper with the notice's
  version; the sheet number written in the box of the printed sheet, when typed, is
  the idempotency key: the same sheet typed twice is stored once;
- the live results (:func:`campaign_counts`: answers per day in Paris time and per
  commune of residence, per channel; :func:`analyse_campaign`: the project's analysis
  restricted to the campaign's respondents) and the pseudonymised export
  (:func:`export_campaign_answers`);
- the retention period of each campaign (``retention_months``, shown to the
  respondents): :func:`purge_campaign` (the campaign page's button) and
  :func:`purge_campaigns` (``tierslieux survey purge``) delete the answers consented
  longer ago, each leaving a tombstone, and say how many per campaign (a log line).

Every change writes a row of the audit log.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
import secrets
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tierslieux.errors import Problem, SchemaError
from tierslieux.i18n import PARIS
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.campaigns import (
    project_campaign,
    validated_answers,
)
from tierslieux.pipeline.database import database_url, demo_database_path, open_store
from tierslieux.pipeline.project_survey import EXPORT_ACTION, analyse_project_survey
from tierslieux.pipeline.survey import MIN_GROUP_SIZE, export_answers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tierslieux.config import Settings
    from tierslieux.pipeline.campaigns import CampaignView, PublicForm
    from tierslieux.pipeline.inputs import LoadedInputs
    from tierslieux.pipeline.survey import SurveyAnalysis
    from tierslieux.store import ProjectView, Repositories, RespondentView, UserView

__all__ = [
    "CHANNEL_ORDER",
    "PAPER_ACTION",
    "PAPER_NOTICE_VERSION",
    "PURGE_ACTION",
    "SHEET_FIELD",
    "CampaignCounts",
    "CampaignPurge",
    "PaperEntry",
    "analyse_campaign",
    "campaign_counts",
    "campaign_state",
    "export_campaign_answers",
    "paper_consent_text",
    "paper_notice",
    "purge_campaign",
    "purge_campaigns",
    "retention_limit",
    "submit_paper_answers",
]

PAPER_ACTION = "campaign.paper"
PURGE_ACTION = "campaign.purge"
#: Version of the wording of the paper version's notice (:func:`paper_notice`).
PAPER_NOTICE_VERSION = "papier-1"
#: Field of the data-entry screen holding the paper sheet's number.
SHEET_FIELD = "feuille"
#: Channels in the order the pages show them.
CHANNEL_ORDER = ("en_ligne", "papier", "import")
_SHEET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,39}$")
_LOG = logging.getLogger("tierslieux.campaigns")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _store(settings: Settings, inputs: LoadedInputs) -> Repositories:
    return open_store(settings, demo=inputs.fictional)


# -- paper -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaperEntry:
    """The outcome of typing in one paper sheet: stored now, or found already stored."""

    created: bool
    sheet: str


def paper_notice(campaign: CampaignView) -> str:
    """The consent notice printed on the paper version of a campaign's questionnaire
    (version :data:`PAPER_NOTICE_VERSION`)."""
    return _(
        "Responsable du traitement : {name} ({contact}). Finalité : {purpose} "
        "Conservation : {months} mois après votre réponse, puis effacement. Pour consulter "
        "ou faire effacer votre réponse, écrivez au responsable en indiquant le n° de "
        "feuille ci-dessus.",
        name=campaign.controller_name,
        contact=campaign.controller_contact,
        purpose=campaign.purpose.strip().rstrip(".") + ".",
        months=campaign.retention_months,
    )


def paper_consent_text(campaign: CampaignView) -> str:
    """The consent text stored with a paper answer: given on paper, and what it said."""
    return _(
        "Consentement recueilli sur papier (case cochée sur le questionnaire imprimé, "
        "notice version {v}) : {notice}",
        v=PAPER_NOTICE_VERSION,
        notice=paper_notice(campaign),
    )


def _sheet(text: str) -> str:
    sheet = " ".join(text.split())
    if sheet and not _SHEET.match(sheet):
        raise SchemaError(
            Problem(
                _(
                    "N° de feuille « {value} » refusé : 40 lettres, chiffres, espaces ou "
                    "« . _ / - » au plus, en commençant par une lettre ou un chiffre.",
                    value=sheet[:40],
                ),
                field=SHEET_FIELD,
                translated=True,
            )
        )
    return sheet


def submit_paper_answers(  # noqa: PLR0913 - one sheet's keyword-only facts
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    campaign_id: int,
    form: PublicForm,
    answers: Mapping[str, str],
    *,
    sheet: str = "",
    actor: UserView,
    ip: str | None = None,
) -> PaperEntry:
    """Check and store the answers of one paper sheet of a campaign (channel ``papier``).

    The checks and messages are the public form's.  ``sheet`` (the number written
    in the sheet's box; case and repeated spaces ignored) makes a sheet typed twice
    stored once: the second time returns ``created=False`` and stores nothing.  Paper
    answers are accepted after the campaign closed (sheets collected before).

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    SchemaError
        Listing every invalid answer (``field``: the question id, or ``feuille``).
    InvalidValueError
        When the same sheet's answer was erased (a tombstone).
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    cleaned = _sheet(sheet)
    key = cleaned.casefold().replace(" ", "") if cleaned else secrets.token_urlsafe(18)
    response = validated_answers(
        campaign,
        form,
        answers,
        submission=f"papier:{campaign.id}:{key}",
        notice=paper_consent_text(campaign),
    )
    outcome = _store(settings, inputs).campaigns.submit(
        campaign.id,
        response,
        submission_key=_hash(f"{campaign.id}:papier:{key}"),
        receipt_hash=None,
        consent_version=PAPER_NOTICE_VERSION,
        consent_language=form.lang,
        channel="papier",
    )
    repos.audit.record(
        actor=actor.login,
        action=PAPER_ACTION,
        target=f"project:{project.id}",
        details={
            "campagne": campaign.id,
            "feuille": cleaned or None,
            "enregistree": outcome.created,
            "fictif": inputs.fictional,
        },
        ip=ip,
    )
    return PaperEntry(outcome.created, cleaned)


# -- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCounts:
    """A campaign's answers counted per channel, per day (Paris) and per commune.

    ``days`` rows are ``(day, {channel: answers}, total)``, oldest first;
    ``communes`` rows ``(code, name, {channel: answers}, total)``, most first;
    ``channels`` the channels that have answers, in :data:`CHANNEL_ORDER`.
    """

    total: int
    channels: tuple[tuple[str, int], ...]
    days: tuple[tuple[date, dict[str, int], int], ...]
    communes: tuple[tuple[str, str, dict[str, int], int], ...]


def _answers(
    settings: Settings, project: ProjectView, inputs: LoadedInputs, campaign_id: int
) -> tuple[CampaignView, list[RespondentView]]:
    campaign = project_campaign(settings, project, inputs, campaign_id)
    return campaign, _store(settings, inputs).campaigns.campaign_answers(campaign.id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def campaign_counts(
    settings: Settings, project: ProjectView, inputs: LoadedInputs, campaign_id: int
) -> CampaignCounts:
    """Count a campaign's answers per channel, per day in Paris time and per commune.

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    """
    _campaign, stored = _answers(settings, project, inputs, campaign_id)
    names = inputs.communes.table.drop_duplicates("code").set_index("code")["nom"].astype(str)
    per_channel = Counter(r.channel for r in stored)
    days: dict[date, Counter[str]] = {}
    communes: dict[str, Counter[str]] = {}
    for row in stored:
        day = _aware(row.created_at).astimezone(PARIS).date()
        days.setdefault(day, Counter())[row.channel] += 1
        communes.setdefault(row.commune, Counter())[row.channel] += 1
    return CampaignCounts(
        total=len(stored),
        channels=tuple((c, per_channel[c]) for c in CHANNEL_ORDER if per_channel[c]),
        days=tuple((d, dict(c), sum(c.values())) for d, c in sorted(days.items())),
        communes=tuple(
            (code, str(names.get(code, code)), dict(c), sum(c.values()))
            for code, c in sorted(communes.items(), key=lambda i: (-sum(i[1].values()), i[0]))
        ),
    )


def campaign_state(
    settings: Settings, project: ProjectView, inputs: LoadedInputs, campaign_id: int
) -> tuple[object, ...]:
    """What a campaign's analysis depends on: a key for a cache (answers, latest)."""
    campaign, stored = _answers(settings, project, inputs, campaign_id)
    latest = max((r.created_at for r in stored), default=None)
    return (project.id, project.territory, inputs.fictional, campaign.id, len(stored), latest)


def analyse_campaign(
    settings: Settings,
    project: ProjectView,
    inputs: LoadedInputs,
    campaign_id: int,
    *,
    min_group_size: int = MIN_GROUP_SIZE,
) -> SurveyAnalysis:
    """The project's questionnaire analysis restricted to this campaign's respondents:
    the typology against the study's profile, candidate base communities, the map.

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    SchemaError
        When no respondent of the campaign lives on the project's territory.
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    return analyse_project_survey(
        settings, project, inputs, min_group_size=min_group_size, campaign=campaign.id
    )


def export_campaign_answers(
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    campaign_id: int,
    *,
    actor: UserView,
    ip: str | None = None,
) -> tuple[bytes, int]:
    """The campaign's answers as the pseudonymised CSV of ``survey export`` (numbers
    instead of ids, consent date without time, contact details masked), with their
    channel; the download is written to the audit log.  Returns the content and how
    many answers.
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    with tempfile.TemporaryDirectory(prefix="tierslieux-export-") as folder:
        out = Path(folder) / "reponses.csv"
        summary = export_answers(settings, out, demo=inputs.fictional, campaign=campaign.id)
        content = out.read_bytes()
    repos.audit.record(
        actor=actor.login,
        action=EXPORT_ACTION,
        target=f"project:{project.id}",
        details={"campagne": campaign.id, "repondants": summary.respondents, "pseudonymise": True},
        ip=ip,
    )
    return content, summary.respondents


# -- retention ---------------------------------------------------------------------------


def retention_limit(now: datetime, months: int) -> datetime:
    """The moment ``months`` calendar months before ``now`` (31 March - 1 month: 28/29
    February): answers consented before it are past their retention period."""
    index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True, slots=True)
class CampaignPurge:
    """Answers of a campaign deleted at the end of its retention period."""

    campaign: CampaignView
    deleted: int
    before: datetime


def _purge(store: Repositories, campaign: CampaignView, now: datetime) -> CampaignPurge:
    before = retention_limit(now, campaign.retention_months)
    deleted = store.campaigns.purge_answers(campaign.id, before)
    _LOG.info(
        "campaign %d (project %d): %d answer(s) deleted, consented before %s (retention %d months)",
        campaign.id,
        campaign.project_id,
        deleted,
        before.date().isoformat(),
        campaign.retention_months,
    )
    return CampaignPurge(campaign, deleted, before)


def purge_campaign(
    settings: Settings,
    repos: Repositories,
    project: ProjectView,
    inputs: LoadedInputs,
    campaign_id: int,
    *,
    actor: UserView,
    ip: str | None = None,
    now: datetime | None = None,
) -> CampaignPurge:
    """Delete this campaign's answers past its retention period (tombstones kept);
    write the audit log.

    Raises
    ------
    UnknownRecordError
        When the project has no such campaign.
    """
    campaign = project_campaign(settings, project, inputs, campaign_id)
    done = _purge(_store(settings, inputs), campaign, now or datetime.now(UTC))
    repos.audit.record(
        actor=actor.login,
        action=PURGE_ACTION,
        target=f"project:{project.id}",
        details={
            "campagne": campaign.id,
            "effacees": done.deleted,
            "avant": done.before.isoformat(),
            "conservation_mois": campaign.retention_months,
        },
        ip=ip,
    )
    return done


def purge_campaigns(settings: Settings, *, now: datetime | None = None) -> list[CampaignPurge]:
    """Apply every campaign's own retention period to its answers (``survey purge``).

    Every store that may hold campaigns is read: the one store and, when it is
    another database that exists, the demonstration store.  One log line per campaign.
    """
    moment = now or datetime.now(UTC)
    stores = [open_store(settings)]
    if (
        database_url(settings, demo=True) != database_url(settings)
        and demo_database_path(settings).is_file()  # never created just to purge it
    ):
        stores.append(open_store(settings, demo=True))
    done: list[CampaignPurge] = []
    for store in stores:
        done.extend(_purge(store, c, moment) for c in store.campaigns.all_campaigns())
    return done
