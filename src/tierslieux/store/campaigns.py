"""Collection campaigns (tables ``survey_campaigns`` and ``campaign_invitations``).

A campaign publishes a project's questionnaire at a public address (its random
``slug``) between two dates.  Answers given through it are rows of
``survey_respondents`` with its ``campaign_id``; :meth:`CampaignRepository.submit`
stores one in a single transaction that also consumes the one-time invitation (for an
invitation-only campaign), so that an answer is acknowledged only once it and the
invitation's use are committed together.

Idempotency: each answer carries the SHA-256 of the form's idempotency key
(``submission_key``, a unique index).  Sending the same form twice — a double click,
a request resent after a lost connection, two requests racing on PostgreSQL — stores
one row: the second call finds the first (or loses the race on the unique index and
then finds it) and returns it with ``created=False``.

Only hashes of secrets are stored: invitation tokens and receipt codes are kept as
their SHA-256 (the caller hashes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, exc, func, insert, select, update

from tierslieux.errors import StoreError
from tierslieux.i18n import gettext as _
from tierslieux.store import _records as records
from tierslieux.store._errors import InvalidValueError, UnknownRecordError
from tierslieux.store._schema import Base
from tierslieux.store.responses import (
    RESPONDENTS,
    delete_before,
    delete_respondent,
    insert_responses,
    respondent_view,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import Connection

    from tierslieux.model.survey import SurveyResponse
    from tierslieux.store.database import Database
    from tierslieux.store.responses import RespondentView

__all__ = [
    "CampaignRepository",
    "CampaignView",
    "InvitationRefusedError",
    "SubmitOutcome",
]

CAMPAIGNS = Base.metadata.tables["survey_campaigns"]
INVITATIONS = Base.metadata.tables["campaign_invitations"]
# The reads of every public form request, built once (a statement built per call costs
# SQLAlchemy more than the read itself).
_BY_ID = select(CAMPAIGNS).where(CAMPAIGNS.c.id == bindparam("campaign"))
_BY_SLUG = select(CAMPAIGNS).where(CAMPAIGNS.c.slug == bindparam("slug"))
_OF_SUBMISSION = select(RESPONDENTS.c.id).where(
    RESPONDENTS.c.submission_key == bindparam("submission")
)


class InvitationRefusedError(InvalidValueError):
    """The invitation token is unknown, of another campaign, or already used."""


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A stored campaign, with how many answers it holds and its invitations."""

    id: int
    project_id: int
    slug: str
    title: str
    questionnaire_version: str
    opens_at: datetime
    closes_at: datetime
    controller_name: str
    controller_contact: str
    purpose: str
    retention_months: int
    invitation_only: bool
    created_at: datetime
    created_by: str
    closed_at: datetime | None = None
    closed_by: str | None = None
    answers: int = 0
    invitations: int = 0
    invitations_used: int = 0


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """What :meth:`CampaignRepository.submit` did: the respondent, new or found again."""

    respondent_id: str
    created: bool


def _counts(connection: Connection, ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    if not ids:
        return {}
    answers: dict[int, int] = dict(
        connection.execute(
            select(RESPONDENTS.c.campaign_id, func.count())
            .where(RESPONDENTS.c.campaign_id.in_(ids))
            .group_by(RESPONDENTS.c.campaign_id)
        ).all()
    )
    invited: dict[int, tuple[int, int]] = {}
    rows = connection.execute(
        select(INVITATIONS.c.campaign_id, func.count(), func.count(INVITATIONS.c.used_at))
        .where(INVITATIONS.c.campaign_id.in_(ids))
        .group_by(INVITATIONS.c.campaign_id)
    )
    for campaign, total, used in rows:
        invited[int(campaign)] = (int(total), int(used))
    return {i: (int(answers.get(i, 0)), *invited.get(i, (0, 0))) for i in ids}


def _view(row: Any, counts: tuple[int, int, int]) -> CampaignView:  # noqa: ANN401 - a row
    return CampaignView(
        id=row.id,
        project_id=row.project_id,
        slug=row.slug,
        title=row.title,
        questionnaire_version=row.questionnaire_version,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        controller_name=row.controller_name,
        controller_contact=row.controller_contact,
        purpose=row.purpose,
        retention_months=row.retention_months,
        invitation_only=bool(row.invitation_only),
        created_at=row.created_at,
        created_by=row.created_by,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        answers=counts[0],
        invitations=counts[1],
        invitations_used=counts[2],
    )


def _views(
    connection: Connection, rows: Sequence[Any], *, counted: bool = True
) -> list[CampaignView]:
    if not counted:  # the public form needs no counts: two aggregate queries less
        return [_view(r, (0, 0, 0)) for r in rows]
    counts = _counts(connection, [int(r.id) for r in rows])
    return [_view(r, counts[int(r.id)]) for r in rows]


def _integrity(error: StoreError) -> bool:
    return isinstance(error.__cause__, exc.IntegrityError)


class CampaignRepository:
    """Collection campaigns, their invitations, and the answers given through them."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def create_campaign(  # noqa: PLR0913 - one campaign's keyword-only facts
        self,
        *,
        project_id: int,
        slug: str,
        title: str,
        questionnaire_version: str,
        opens_at: datetime,
        closes_at: datetime,
        controller_name: str,
        controller_contact: str,
        purpose: str,
        retention_months: int,
        invitation_only: bool,
        created_by: str,
    ) -> CampaignView:
        """Store a new campaign and return it."""
        with self._database.transaction(write=True) as connection:
            new_id = connection.execute(
                insert(CAMPAIGNS)
                .values(
                    project_id=project_id,
                    slug=slug,
                    title=title,
                    questionnaire_version=questionnaire_version,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    controller_name=controller_name,
                    controller_contact=controller_contact,
                    purpose=purpose,
                    retention_months=retention_months,
                    invitation_only=invitation_only,
                    created_at=records.now(),
                    created_by=created_by,
                )
                .returning(CAMPAIGNS.c.id)
            ).scalar_one()
            row = connection.execute(select(CAMPAIGNS).where(CAMPAIGNS.c.id == new_id)).one()
            return _views(connection, [row])[0]

    def get_campaign(self, campaign_id: int, *, counted: bool = True) -> CampaignView:
        """The campaign ``campaign_id`` (``counted=False``: its counts left at 0).

        Raises
        ------
        UnknownRecordError
            When there is none.
        """
        with self._database.transaction(write=False) as connection:
            row = connection.execute(_BY_ID, {"campaign": campaign_id}).one_or_none()
            if row is None:
                raise UnknownRecordError(_("Campagne introuvable."))
            return _views(connection, [row], counted=counted)[0]

    def by_slug(self, slug: str, *, counted: bool = True) -> CampaignView | None:
        """The campaign published at ``slug``, ``None`` when there is none
        (``counted=False``: its counts left at 0)."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(_BY_SLUG, {"slug": slug}).one_or_none()
            return None if row is None else _views(connection, [row], counted=counted)[0]

    def list_campaigns(self, project_id: int) -> list[CampaignView]:
        """The campaigns of a project, latest first, with their counts."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                select(CAMPAIGNS)
                .where(CAMPAIGNS.c.project_id == project_id)
                .order_by(CAMPAIGNS.c.created_at.desc(), CAMPAIGNS.c.id.desc())
            ).all()
            return _views(connection, rows)

    def close_campaign(self, campaign_id: int, *, actor: str, at: datetime) -> CampaignView:
        """Close a campaign now (no more answers); closing twice changes nothing."""
        with self._database.transaction(write=True) as connection:
            connection.execute(
                update(CAMPAIGNS)
                .where(CAMPAIGNS.c.id == campaign_id, CAMPAIGNS.c.closed_at.is_(None))
                .values(closed_at=at, closed_by=actor)
            )
        return self.get_campaign(campaign_id)

    def add_invitations(self, campaign_id: int, token_hashes: Sequence[str], *, actor: str) -> int:
        """Store one-time invitations (their tokens' SHA-256); return how many."""
        now = records.now()
        with self._database.transaction(write=True) as connection:
            if token_hashes:
                connection.execute(
                    insert(INVITATIONS),
                    [
                        {
                            "token_hash": h,
                            "campaign_id": campaign_id,
                            "created_at": now,
                            "created_by": actor,
                        }
                        for h in token_hashes
                    ],
                )
        return len(token_hashes)

    def invitation_usable(self, campaign_id: int, token_hash: str) -> bool:
        """Whether the invitation exists for this campaign and was not used yet."""
        with self._database.transaction(write=False) as connection:
            used = connection.execute(
                select(INVITATIONS.c.used_at).where(
                    INVITATIONS.c.token_hash == token_hash,
                    INVITATIONS.c.campaign_id == campaign_id,
                )
            ).one_or_none()
        return used is not None and used[0] is None

    def _existing(self, submission_key: str) -> SubmitOutcome | None:
        with self._database.transaction(write=False) as connection:
            found = connection.execute(
                _OF_SUBMISSION, {"submission": submission_key}
            ).scalar_one_or_none()
        return None if found is None else SubmitOutcome(str(found), created=False)

    def submit(
        self,
        campaign_id: int,
        response: SurveyResponse,
        *,
        submission_key: str,
        receipt_hash: str | None,
        consent_version: str,
        consent_language: str,
        channel: str = "en_ligne",
        invitation_hash: str | None = None,
    ) -> SubmitOutcome:
        """Store one answer of a campaign (and use its invitation), in one transaction.

        The same ``submission_key`` twice stores one answer: the second call returns
        the first one's respondent with ``created=False`` (also when two calls race).

        Raises
        ------
        InvitationRefusedError
            When ``invitation_hash`` is unknown, of another campaign or already used:
            nothing is stored.
        InvalidValueError
            When the same answers were erased (a tombstone) or are stored already.
        StoreError
            When the database refuses the write: nothing is stored.
        """
        found = self._existing(submission_key)
        if found is not None:
            return found
        try:
            with self._database.transaction(write=True) as connection:
                again = connection.execute(
                    _OF_SUBMISSION, {"submission": submission_key}
                ).scalar_one_or_none()
                if again is not None:
                    return SubmitOutcome(str(again), created=False)
                if invitation_hash is not None:
                    used = connection.execute(
                        update(INVITATIONS)
                        .where(
                            INVITATIONS.c.token_hash == invitation_hash,
                            INVITATIONS.c.campaign_id == campaign_id,
                            INVITATIONS.c.used_at.is_(None),
                        )
                        .values(used_at=records.now())
                    )
                    if (used.rowcount or 0) != 1:
                        raise InvitationRefusedError(
                            _("Ce lien d'invitation est inconnu ou a déjà servi.")
                        )
                report = insert_responses(
                    connection,
                    [response],
                    extra={
                        "campaign_id": campaign_id,
                        "channel": channel,
                        "submission_key": submission_key,
                        "receipt_hash": receipt_hash,
                        "consent_version": consent_version,
                        "consent_language": consent_language,
                    },
                )
                if not report.added:
                    issue = (*report.erased, *report.expired, *report.duplicates)[0]
                    raise InvalidValueError(issue.message)
                return SubmitOutcome(report.ids[0], created=True)
        except StoreError as error:
            # Lost a race on the unique submission key: the other request stored it.
            if _integrity(error):
                found = self._existing(submission_key)
                if found is not None:
                    return found
            raise

    def by_receipt(self, campaign_id: int, receipt_hash: str) -> RespondentView | None:
        """The answer of this campaign whose receipt code has this SHA-256."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(
                select(RESPONDENTS).where(
                    RESPONDENTS.c.receipt_hash == receipt_hash,
                    RESPONDENTS.c.campaign_id == campaign_id,
                )
            ).one_or_none()
            return None if row is None else respondent_view(row)

    def respondent_of_submission(self, submission_key: str) -> RespondentView | None:
        """The answer stored under an idempotency key (hashed), if any."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(
                select(RESPONDENTS).where(RESPONDENTS.c.submission_key == submission_key)
            ).one_or_none()
            return None if row is None else respondent_view(row)

    def delete_by_receipt(self, campaign_id: int, receipt_hash: str) -> int:
        """Erase the answer of this receipt (a tombstone is kept); return 0 or 1."""
        with self._database.transaction(write=True) as connection:
            found = connection.execute(
                select(RESPONDENTS.c.id).where(
                    RESPONDENTS.c.receipt_hash == receipt_hash,
                    RESPONDENTS.c.campaign_id == campaign_id,
                )
            ).scalar_one_or_none()
            if found is None:
                return 0
            return delete_respondent(connection, str(found))

    def campaign_answers(self, campaign_id: int) -> list[RespondentView]:
        """The answers of a campaign, oldest first."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                select(RESPONDENTS)
                .where(RESPONDENTS.c.campaign_id == campaign_id)
                .order_by(RESPONDENTS.c.created_at, RESPONDENTS.c.id)
            )
            return [respondent_view(r) for r in rows]

    def purge_answers(self, campaign_id: int, before: datetime) -> int:
        """Delete the campaign's answers consented before ``before`` (its retention
        period), each leaving a tombstone; return how many."""
        with self._database.transaction(write=True) as connection:
            return delete_before(connection, before, campaign_id=campaign_id)

    def all_campaigns(self) -> list[CampaignView]:
        """Every campaign of the store (of every project), oldest first."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(select(CAMPAIGNS).order_by(CAMPAIGNS.c.id)).all()
            return _views(connection, rows)
