"""journal replays: crisis findings written while the database was away, replayed once

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_replays",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("entry_id"),
    )


def downgrade() -> None:
    op.drop_table("journal_replays")
