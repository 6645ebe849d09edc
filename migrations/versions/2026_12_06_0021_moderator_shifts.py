"""Moderators' shifts: who is on shift, and since when (#22)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "moderator_shifts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("moderator", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ux_moderator_shifts_one_open",
        "moderator_shifts",
        ["moderator"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_moderator_shifts_ended_at", "moderator_shifts", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_moderator_shifts_ended_at", table_name="moderator_shifts")
    op.drop_index("ux_moderator_shifts_one_open", table_name="moderator_shifts")
    op.drop_table("moderator_shifts")
