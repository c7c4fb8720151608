"""Questionnaire answers: survey_respondents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the table of respondents (pseudonymous) and its indexes."""
    op.create_table(
        "survey_respondents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("commune", sa.String(10), nullable=False),
        sa.Column("questionnaire_version", sa.String(20), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_survey_respondents_commune", "survey_respondents", ["commune"])


def downgrade() -> None:
    """Drop the respondents (loses every answer: only for development)."""
    op.drop_table("survey_respondents")
