"""RGPD erasure tombstones: erasure_tombstones and the per-database salt (store_secrets).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the tombstones and the secrets tables; draw the salt of this database."""
    secrets_table = op.create_table(
        "store_secrets",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "erasure_tombstones",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(secrets_table, [{"name": "erasure_salt", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    """Drop the tombstones (erased people could come back at the next import)."""
    op.drop_table("erasure_tombstones")
    op.drop_table("store_secrets")
