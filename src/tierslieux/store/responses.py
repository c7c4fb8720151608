"""Repository of questionnaire answers (table ``survey_respondents``).

:class:`ResponseRepository` opens one transaction per call; the module-level
functions do the work on an open :class:`~sqlalchemy.Connection`.  Respondents are
pseudonymous (a random UUID, no name, e-mail or phone); the consent text and date
are kept with the answers, and :func:`delete_respondent` removes a respondent
everywhere.

An erased respondent leaves a tombstone (table ``erasure_tombstones``): the
HMAC-SHA256 of their submission's fingerprint, keyed by a random salt drawn when the
database was created (table ``store_secrets``).  The tombstone cannot be turned back
into answers, but a re-import of the same tool export recognises the submission and
skips it (:attr:`ResponsesReport.erased`).  The retention purge
(:func:`delete_before`) leaves tombstones too (kind ``conservation``): a respondent
deleted at the end of the retention period does not come back either
(:attr:`ResponsesReport.expired`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select

from tierslieux.i18n import gettext as _
from tierslieux.store._errors import InvalidValueError, UnknownPersonError
from tierslieux.store._schema import Base
from tierslieux.store.views import ImportIssue

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy import Connection

    from tierslieux.model.survey import Answer, SurveyResponse
    from tierslieux.store.database import Database

__all__ = [
    "RespondentView",
    "ResponseRepository",
    "ResponsesReport",
    "delete_before",
    "delete_respondent",
    "erasure_salt",
    "insert_responses",
    "respondent_view",
    "select_responses",
    "tombstone",
]

RESPONDENTS = Base.metadata.tables["survey_respondents"]
TOMBSTONES = Base.metadata.tables["erasure_tombstones"]
SECRETS = Base.metadata.tables["store_secrets"]
_SALT = "erasure_salt"
# The reads of every stored answer, built once (a statement built per call costs
# SQLAlchemy more than the read itself).
_SALT_VALUE = select(SECRETS.c.value).where(SECRETS.c.name == _SALT)
_TOMBSTONES_OF = select(TOMBSTONES.c.fingerprint, TOMBSTONES.c.kind).where(
    TOMBSTONES.c.fingerprint.in_(bindparam("stones", expanding=True))
)
_KNOWN_FINGERPRINTS = select(RESPONDENTS.c.fingerprint).where(
    RESPONDENTS.c.fingerprint.in_(bindparam("fingerprints", expanding=True))
)
_RESPONDENT = "repondant"
_EXPIRED = "conservation"
_MAX_SOURCE = 200


@dataclass(frozen=True, slots=True)
class RespondentView:
    """A stored respondent: pseudonymous id, commune of residence and answers."""

    id: str
    commune: str
    questionnaire_version: str
    consent_text: str
    consented_at: datetime
    answers: dict[str, Answer]
    fingerprint: str
    source: str
    created_at: datetime
    #: The collection campaign of an answer given through the public form (else ``None``).
    campaign_id: int | None = None
    #: ``import``, ``en_ligne`` or ``papier``.
    channel: str = "import"
    consent_version: str | None = None
    #: Language the consent was shown in (``fr``, ``en``); ``None``: imported.
    consent_language: str | None = None


@dataclass(frozen=True, slots=True)
class ResponsesReport:
    """Outcome of :meth:`ResponseRepository.add_responses`.

    ``ids`` are the pseudonymous ids given to the ``added`` respondents; ``duplicates``
    the submissions already stored (or given twice), with their line; ``erased`` the
    submissions of respondents erased at their request (a tombstone), not stored again;
    ``expired`` those of respondents deleted at the end of the retention period.
    """

    added: int
    ids: tuple[str, ...]
    duplicates: tuple[ImportIssue, ...] = ()
    erased: tuple[ImportIssue, ...] = ()
    expired: tuple[ImportIssue, ...] = ()


def erasure_salt(connection: Connection) -> bytes:
    """Return the salt of this database's tombstones (drawn once, kept in the store)."""
    value = connection.execute(_SALT_VALUE).scalar_one_or_none()
    if value is None:  # a database created before revision 0004 was given one there
        value = secrets.token_hex(32)
        connection.execute(insert(SECRETS).values(name=_SALT, value=value))
    return bytes.fromhex(value)


def tombstone(salt: bytes, key: str) -> str:
    """The salted fingerprint (HMAC-SHA256, hexadecimal) kept for an erased ``key``."""
    return hmac.new(salt, key.encode("utf-8"), hashlib.sha256).hexdigest()


def _erased(connection: Connection, stones: Sequence[str]) -> dict[str, str]:
    """The stored tombstones among ``stones``, with their kind (erasure or retention)."""
    found: dict[str, str] = {}
    for start in range(0, len(stones), 500):
        chunk = stones[start : start + 500]
        rows = connection.execute(_TOMBSTONES_OF, {"stones": list(chunk)})
        found.update((str(row.fingerprint), str(row.kind)) for row in rows)
    return found


def _bury(connection: Connection, fingerprints: Sequence[str], kind: str = _RESPONDENT) -> None:
    if not fingerprints:
        return
    salt = erasure_salt(connection)
    stones = sorted({tombstone(salt, f) for f in fingerprints})
    fresh = [s for s in stones if s not in _erased(connection, stones)]
    now = datetime.now(UTC)
    for start in range(0, len(fresh), 500):
        connection.execute(
            insert(TOMBSTONES),
            [
                {"fingerprint": s, "kind": kind, "erased_at": now}
                for s in fresh[start : start + 500]
            ],
        )


def _decode(text: str) -> dict[str, Answer]:
    raw: dict[str, Any] = json.loads(text)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _encode(answers: dict[str, Answer]) -> str:
    return json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()},
        ensure_ascii=False,
        sort_keys=True,
    )


def insert_responses(
    connection: Connection,
    rows: Sequence[SurveyResponse],
    *,
    extra: Mapping[str, Any] | None = None,
) -> ResponsesReport:
    """Insert new respondents; a fingerprint already stored or repeated is a duplicate.

    ``extra`` gives more columns of every inserted row (``campaign_id``, ``channel``,
    ``submission_key``, ``receipt_hash``, ``consent_version``, ``consent_language``).

    A submission whose tombstone is stored is skipped and listed in
    :attr:`ResponsesReport.erased` (its respondent was erased at their request) or
    :attr:`ResponsesReport.expired` (deleted at the end of the retention period).
    """
    fingerprints = [row.fingerprint for row in rows]
    salt = erasure_salt(connection) if rows else b""
    stones = {f: tombstone(salt, f) for f in fingerprints}
    buried = _erased(connection, sorted(set(stones.values())))
    known: set[str] = set()
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start : start + 500]
        known.update(connection.execute(_KNOWN_FINGERPRINTS, {"fingerprints": chunk}).scalars())
    now = datetime.now(UTC)
    values: list[dict[str, Any]] = []
    duplicates: list[ImportIssue] = []
    erased: list[ImportIssue] = []
    expired: list[ImportIssue] = []
    for row in rows:
        kind = buried.get(stones[row.fingerprint])
        if kind == _EXPIRED:
            expired.append(
                ImportIssue(
                    row.line,
                    _(
                        "réponse non réimportée : elle a été effacée à la fin de sa durée de "
                        "conservation (RGPD)"
                    ),
                )
            )
            continue
        if kind is not None:
            erased.append(
                ImportIssue(
                    row.line,
                    _("réponse non réimportée : son répondant a été effacé à sa demande (RGPD)"),
                )
            )
            continue
        if row.fingerprint in known:
            duplicates.append(
                ImportIssue(
                    row.line, _("réponse en double : cette soumission est déjà enregistrée")
                )
            )
            continue
        known.add(row.fingerprint)
        values.append(
            {
                "id": row.respondent_id or str(uuid.uuid4()),
                "commune": row.commune,
                "questionnaire_version": row.questionnaire_version,
                "consent_text": row.consent_text,
                "consented_at": row.consented_at,
                "answers": _encode(dict(row.answers)),
                "fingerprint": row.fingerprint,
                "source": row.source[:_MAX_SOURCE],
                # One microsecond apart, so that listing keeps the order of the batch.
                "created_at": now + timedelta(microseconds=len(values)),
                **(extra or {}),
            }
        )
    if values:
        connection.execute(insert(RESPONDENTS), values)
    return ResponsesReport(
        added=len(values),
        ids=tuple(v["id"] for v in values),
        duplicates=tuple(duplicates),
        erased=tuple(erased),
        expired=tuple(expired),
    )


def respondent_view(row: Any) -> RespondentView:  # noqa: ANN401 - a result row
    """The :class:`RespondentView` of a row of ``survey_respondents``."""
    return RespondentView(
        id=row.id,
        commune=row.commune,
        questionnaire_version=row.questionnaire_version,
        consent_text=row.consent_text,
        consented_at=row.consented_at,
        answers=_decode(row.answers),
        fingerprint=row.fingerprint,
        source=row.source,
        created_at=row.created_at,
        campaign_id=row.campaign_id,
        channel=row.channel,
        consent_version=row.consent_version,
        consent_language=row.consent_language,
    )


def select_responses(connection: Connection) -> list[RespondentView]:
    """Every respondent, oldest first."""
    result = connection.execute(
        select(RESPONDENTS).order_by(RESPONDENTS.c.created_at, RESPONDENTS.c.id)
    )
    return [respondent_view(row) for row in result]


def delete_respondent(connection: Connection, respondent_id: str) -> int:
    """Delete a respondent and their answers, keep a tombstone; return the rows deleted."""
    fingerprints = list(
        connection.execute(
            select(RESPONDENTS.c.fingerprint).where(RESPONDENTS.c.id == respondent_id)
        ).scalars()
    )
    _bury(connection, fingerprints)
    result = connection.execute(delete(RESPONDENTS).where(RESPONDENTS.c.id == respondent_id))
    return int(result.rowcount or 0)


def delete_before(
    connection: Connection, moment: datetime, *, campaign_id: int | None = None
) -> int:
    """Delete the respondents who consented before ``moment``; return how many.

    Without ``campaign_id``, the imported answers only (no campaign: the settings'
    retention period); with it, the answers of that collection campaign (its own
    retention period).  Each leaves a tombstone (kind ``conservation``), so that a
    re-import of the same tool export does not bring them back.
    """
    which = (
        RESPONDENTS.c.campaign_id.is_(None)
        if campaign_id is None
        else RESPONDENTS.c.campaign_id == campaign_id
    )
    condition = (RESPONDENTS.c.consented_at < moment) & which
    fingerprints = list(
        connection.execute(select(RESPONDENTS.c.fingerprint).where(condition)).scalars()
    )
    _bury(connection, fingerprints, _EXPIRED)
    result = connection.execute(delete(RESPONDENTS).where(condition))
    return int(result.rowcount or 0)


class ResponseRepository:
    """Questionnaire respondents and their answers (pseudonymous, RGPD)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add_responses(
        self, rows: Sequence[SurveyResponse], *, skip_duplicates: bool = True
    ) -> ResponsesReport:
        """Store validated questionnaire answers, in one transaction.

        A submission whose fingerprint is already stored (or repeated in ``rows``) is
        not stored again and is reported in :attr:`ResponsesReport.duplicates`; with
        ``skip_duplicates=False`` it makes the whole call fail, storing nothing.

        Raises
        ------
        InvalidValueError
            With ``skip_duplicates=False``, when a submission is a duplicate.

        Returns
        -------
        ResponsesReport
            How many respondents were added, their pseudonymous ids, the duplicates.
        """
        with self._database.transaction(write=True) as connection:
            report = insert_responses(connection, list(rows))
            if report.erased and not skip_duplicates:
                raise InvalidValueError(
                    _(
                        "{n} réponse(s) d'un répondant effacé à sa demande (RGPD) : rien n'a "
                        "été enregistré.",
                        n=len(report.erased),
                    )
                )
            if report.expired and not skip_duplicates:
                raise InvalidValueError(
                    _(
                        "{n} réponse(s) effacée(s) à la fin de la durée de conservation (RGPD) "
                        ": rien n'a été enregistré.",
                        n=len(report.expired),
                    )
                )
            if report.duplicates and not skip_duplicates:
                lines = ", ".join(str(issue.line) for issue in report.duplicates)
                raise InvalidValueError(
                    _(
                        "{n} réponse(s) déjà enregistrée(s) (lignes {lines}) : rien n'a "
                        "été enregistré.",
                        n=len(report.duplicates),
                        lines=lines,
                    )
                )
            return report

    def list_responses(self) -> list[RespondentView]:
        """Return every stored respondent with their answers, oldest first."""
        with self._database.transaction(write=False) as connection:
            return select_responses(connection)

    def purge_responses(self, before: datetime) -> int:
        """Delete every imported respondent who consented before ``before`` (retention).

        Answers given through a collection campaign follow their campaign's own
        retention period (:meth:`CampaignRepository.purge_answers
        <tierslieux.store.campaigns.CampaignRepository.purge_answers>`).

        Each deleted respondent leaves a tombstone (salted fingerprint of the
        submission): importing the same export again does not bring them back.

        Returns
        -------
        int
            Number of respondents deleted.
        """
        with self._database.transaction(write=True) as connection:
            return delete_before(connection, before)

    def forget_respondent(self, respondent_id: str) -> int:
        """Delete a respondent and all their answers (RGPD right to erasure).

        A tombstone (salted fingerprint of the submission) is kept, so that importing
        the same export again does not bring the respondent back.

        Returns
        -------
        int
            Number of respondents deleted (0 or 1).

        Raises
        ------
        UnknownPersonError
            When no respondent has this id.
        """
        cleaned = respondent_id.strip()
        with self._database.transaction(write=True) as connection:
            deleted = delete_respondent(connection, cleaned)
        if not deleted:
            raise UnknownPersonError(
                _("Aucun répondant n'a l'identifiant « {id} ».", id=respondent_id)
            )
        return deleted
