"""Public questionnaire: the language the consent was shown in, kept with each answer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Give ``survey_respondents`` the column ``consent_language`` (``fr``, ``en``).

    Answers stored before are left without a language (``NULL``): nothing says which
    one their respondent read.
    """
    # Adding a nullable column needs no table copy, on SQLite as on PostgreSQL.
    op.add_column("survey_respondents", sa.Column("consent_language", sa.String(8), nullable=True))


def downgrade() -> None:
    """Drop the column ``consent_language``."""
    with op.batch_alter_table("survey_respondents") as batch:
        batch.drop_column("consent_language")
