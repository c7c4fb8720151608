"""ORM models of the operational store.

The migrations in ``migrations/versions`` create exactly these tables (a test compares
them); they never import this module, so that old migrations stay frozen in time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tierslieux.store.views import ROLES, RUN_STATUSES, STATUSES

__all__ = [
    "AuditEntry",
    "Base",
    "CampaignInvitation",
    "Contact",
    "ContactEvent",
    "ErasureTombstone",
    "LoginThrottle",
    "Person",
    "Project",
    "ProjectDataset",
    "ProjectMember",
    "ProjectRun",
    "Run",
    "RunResult",
    "Scenario",
    "SetupToken",
    "StoreSecret",
    "Structure",
    "SurveyCampaign",
    "SurveyRespondent",
    "UTCDateTime",
    "User",
]


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zone, so the value is stored
    as naive UTC and made aware again on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive for SQLite); refuse naive input, which is ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to the store; use an aware UTC datetime"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        del dialect
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class Structure(Base):
    """A structure of the directory (``structures.csv``); never deleted by an upsert."""

    __tablename__ = "structures"

    identifiant: Mapped[str] = mapped_column(String(200), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)
    categorie: Mapped[str] = mapped_column(String(64), default="")
    code_commune: Mapped[str] = mapped_column(String(10), default="")
    themes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_structures_code_commune", "code_commune"),
        Index("ix_structures_categorie", "categorie"),
    )


class Contact(Base):
    """The current contact state of a structure, one row per structure."""

    __tablename__ = "contacts"

    identifiant: Mapped[str] = mapped_column(
        String(200), ForeignKey("structures.identifiant"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default="a_contacter")
    next_action: Mapped[str | None] = mapped_column(Text)
    next_action_date: Mapped[date | None] = mapped_column(Date)
    owner: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")",
            name="ck_contacts_status",
        ),
        Index("ix_contacts_status", "status"),
        Index("ix_contacts_owner", "owner"),
        Index("ix_contacts_next_action_date", "next_action_date"),
    )


class ContactEvent(Base):
    """Append-only history of contact changes (changed only by an RGPD erasure)."""

    __tablename__ = "contact_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    identifiant: Mapped[str] = mapped_column(String(200), ForeignKey("structures.identifiant"))
    kind: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    old_date: Mapped[date | None] = mapped_column(Date)
    new_date: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_contact_events_identifiant_occurred_at", "identifiant", "occurred_at"),
        Index("ix_contact_events_occurred_at", "occurred_at"),
    )


class Person(Base):
    """A contact person of a structure: personal data kept to the minimum (RGPD)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifiant: Mapped[str] = mapped_column(String(200), ForeignKey("structures.identifiant"))
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    consent_basis: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_people_identifiant", "identifiant"),
        Index("ix_people_email", "email"),
    )


class SurveyRespondent(Base):
    """One respondent of the questionnaire: pseudonymous id, commune and answers (RGPD).

    No name, e-mail or phone: ``id`` is a random UUID; ``answers`` is the JSON text of
    the validated answers; ``fingerprint`` identifies the submission (duplicates).
    """

    __tablename__ = "survey_respondents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    commune: Mapped[str] = mapped_column(String(10))
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answers: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The collection campaign the answer came through (``None``: imported).
    campaign_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey(
            "survey_campaigns.id",
            ondelete="SET NULL",
            name="fk_survey_respondents_campaign_id",
        ),
    )
    #: How the answer arrived: ``import`` (a tool's export), ``en_ligne`` (the public
    #: form), ``papier`` (typed in from a paper questionnaire).
    channel: Mapped[str] = mapped_column(String(20), default="import", server_default="import")
    #: SHA-256 of the public form's idempotency key (a resent form stores nothing new).
    submission_key: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 of the receipt code given to the respondent (access and erasure).
    receipt_hash: Mapped[str | None] = mapped_column(String(64))
    #: Version of the consent notice shown (the text itself is ``consent_text``).
    consent_version: Mapped[str | None] = mapped_column(String(40))
    #: Language the consent notice and the questionnaire were shown in (``fr``, ``en``);
    #: ``None`` for imported answers (the other tool's language is not known).
    consent_language: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        Index("ix_survey_respondents_commune", "commune"),
        Index("ix_survey_respondents_campaign_id", "campaign_id"),
        Index("uq_survey_respondents_submission_key", "submission_key", unique=True),
        Index("uq_survey_respondents_receipt_hash", "receipt_hash", unique=True),
    )


class SurveyCampaign(Base):
    """A collection campaign of a project's questionnaire, published at ``/q/<slug>``.

    ``project_id`` has no foreign key: a project of the fictional demo territory keeps
    its campaigns and answers in the demonstration store, apart from its projects.
    Times are UTC; ``closed_at`` is set when a chargé de mission closes it early.
    """

    __tablename__ = "survey_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    controller_name: Mapped[str] = mapped_column(Text)
    controller_contact: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    retention_months: Mapped[int] = mapped_column(Integer)
    invitation_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("retention_months > 0", name="ck_survey_campaigns_retention"),
        Index("ix_survey_campaigns_project_id", "project_id"),
    )


class CampaignInvitation(Base):
    """A one-time invitation link of a campaign: only the SHA-256 of its token is kept.

    It is not linked to the answer it allowed (the answers stay pseudonymous).
    """

    __tablename__ = "campaign_invitations"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("survey_campaigns.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_campaign_invitations_campaign_id", "campaign_id"),)


class StoreSecret(Base):
    """A secret of this database (``erasure_salt``: the key of the tombstones' HMAC)."""

    __tablename__ = "store_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ErasureTombstone(Base):
    """What remains of an erased person: a salted fingerprint of their import key.

    ``fingerprint`` is the HMAC-SHA256, keyed by the database's ``erasure_salt``, of the
    key that identified the person's record in its source (a survey submission's
    fingerprint); ``kind`` says which (``repondant``).
    """

    __tablename__ = "erasure_tombstones"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class User(Base):
    """A user of the web application: login, display name, role, password hash.

    ``password_hash`` is ``None`` for an account that cannot log in with a password
    (see :mod:`tierslieux.store.users` for the Argon2id format).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="ck_users_role"),)


class Scenario(Base):
    """A saved scenario: a territory and the parameters of a study, versioned."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    territory: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_scenarios_author", "author"),
        Index("ix_scenarios_name", "name"),
    )


class Run(Base):
    """One run of a use case (diagnose, communities, sites, survey...) and its state."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    step: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    scenario_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("scenarios.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    vintages: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATUSES), name="ck_runs_status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="ck_runs_progress"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_created_at", "created_at"),
        Index("ix_runs_scenario_id", "scenario_id"),
    )


class RunResult(Base):
    """A result file of a run (CSV, HTML, GeoJSON...), kept as bytes."""

    __tablename__ = "run_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("run_id", "name", name="uq_run_results_run_id_name"),)


class Project(Base):
    """A project of the web application: a territory, its datasets, members and runs."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    territory: Mapped[str] = mapped_column(Text)
    territory_label: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProjectMember(Base):
    """A chargé de mission (or lecteur) who belongs to a project."""

    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_project_members_user_id", "user_id"),)


class ProjectDataset(Base):
    """An input file of a project (one per role: communes, zonages, mobpro...), as bytes."""

    __tablename__ = "project_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(Integer, ForeignKey("projects.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[str | None] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("project_id", "role", name="uq_project_datasets_project_id_role"),
    )


class ProjectRun(Base):
    """A run that belongs to a project."""

    __tablename__ = "project_runs"

    run_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(Integer, ForeignKey("projects.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_project_runs_project_id", "project_id"),)


class AuditEntry(Base):
    """One change made through the application: who, when, what (append-only)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor", "actor"),
    )


class SetupToken(Base):
    """A one-time link (first administrator): only the SHA-256 of the token is kept."""

    __tablename__ = "setup_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginThrottle(Base):
    """Failed logins of one account or one address, and until when it is locked."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
