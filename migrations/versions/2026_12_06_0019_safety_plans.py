"""Her safety plan: six steps in her words, sealed with Fernet; her place in building it, and
the open case she let a moderator see it for

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("building_step", sa.String(length=32)),
        sa.Column("building_since", sa.DateTime(timezone=True)),
        sa.Column("building_mode", sa.String(length=8)),
        sa.Column("shared_case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL")),
        sa.Column("asked_case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL")),
    )


def downgrade() -> None:
    op.drop_table("safety_plans")
