"""Initial schema: structures, contacts, contact_events, people.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_STATUSES = ("a_contacter", "contacte", "interesse", "partenaire", "pas_interesse")


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "structures",
        sa.Column("identifiant", sa.String(200), primary_key=True),
        sa.Column("nom", sa.Text(), nullable=False),
        sa.Column("categorie", sa.String(64), nullable=False),
        sa.Column("code_commune", sa.String(10), nullable=False),
        sa.Column("themes", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_structures_code_commune", "structures", ["code_commune"])
    op.create_index("ix_structures_categorie", "structures", ["categorie"])

    op.create_table(
        "contacts",
        sa.Column(
            "identifiant",
            sa.String(200),
            sa.ForeignKey("structures.identifiant"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("next_action", sa.Text(), nullable=True),
        sa.Column("next_action_date", sa.Date(), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in _STATUSES) + ")",
            name="ck_contacts_status",
        ),
    )
    op.create_index("ix_contacts_status", "contacts", ["status"])
    op.create_index("ix_contacts_owner", "contacts", ["owner"])
    op.create_index("ix_contacts_next_action_date", "contacts", ["next_action_date"])

    op.create_table(
        "contact_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column(
            "identifiant",
            sa.String(200),
            sa.ForeignKey("structures.identifiant"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("old_date", sa.Date(), nullable=True),
        sa.Column("new_date", sa.Date(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_contact_events_identifiant_occurred_at",
        "contact_events",
        ["identifiant", "occurred_at"],
    )
    op.create_index("ix_contact_events_occurred_at", "contact_events", ["occurred_at"])

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "identifiant",
            sa.String(200),
            sa.ForeignKey("structures.identifiant"),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("consent_basis", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_people_identifiant", "people", ["identifiant"])
    op.create_index("ix_people_email", "people", ["email"])


def downgrade() -> None:
    """Drop everything (loses all contact data: only for development)."""
    for table in ("people", "contact_events", "contacts", "structures"):
        op.drop_table(table)
