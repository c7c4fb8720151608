"""Public questionnaire: collection campaigns, one-time invitations, answers per campaign.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the campaign tables; give ``survey_respondents`` its campaign columns."""
    op.create_table(
        "survey_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("questionnaire_version", sa.String(20), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("controller_name", sa.Text(), nullable=False),
        sa.Column("controller_contact", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("retention_months", sa.Integer(), nullable=False),
        sa.Column("invitation_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.CheckConstraint("retention_months > 0", name="ck_survey_campaigns_retention"),
    )
    op.create_index("ix_survey_campaigns_project_id", "survey_campaigns", ["project_id"])
    op.create_table(
        "campaign_invitations",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_campaign_invitations_campaign_id", "campaign_invitations", ["campaign_id"])
    # SQLite cannot add a foreign key to a table: batch mode copies the table there.
    with op.batch_alter_table("survey_respondents") as batch:
        batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("channel", sa.String(20), nullable=False, server_default="import")
        )
        batch.add_column(sa.Column("submission_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("receipt_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("consent_version", sa.String(40), nullable=True))
        batch.create_foreign_key(
            "fk_survey_respondents_campaign_id",
            "survey_campaigns",
            ["campaign_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_survey_respondents_campaign_id", ["campaign_id"])
        batch.create_index("uq_survey_respondents_submission_key", ["submission_key"], unique=True)
        batch.create_index("uq_survey_respondents_receipt_hash", ["receipt_hash"], unique=True)


def downgrade() -> None:
    """Drop the campaign columns and tables."""
    with op.batch_alter_table("survey_respondents") as batch:
        batch.drop_index("uq_survey_respondents_receipt_hash")
        batch.drop_index("uq_survey_respondents_submission_key")
        batch.drop_index("ix_survey_respondents_campaign_id")
        batch.drop_constraint("fk_survey_respondents_campaign_id", type_="foreignkey")
        for column in ("consent_version", "receipt_hash", "submission_key", "channel"):
            batch.drop_column(column)
        batch.drop_column("campaign_id")
    op.drop_index("ix_campaign_invitations_campaign_id", "campaign_invitations")
    op.drop_table("campaign_invitations")
    op.drop_index("ix_survey_campaigns_project_id", "survey_campaigns")
    op.drop_table("survey_campaigns")
