"""safety checks: the screen asked her whether she is safe

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("safety_checks", schema=None) as batch_op:
        batch_op.create_index("ix_safety_checks_member_id", ["member_id"], unique=False)
        batch_op.create_index("ix_safety_checks_due_at", ["due_at"], unique=False)
        batch_op.create_index("ix_safety_checks_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("safety_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_safety_checks_status")
        batch_op.drop_index("ix_safety_checks_due_at")
        batch_op.drop_index("ix_safety_checks_member_id")
    op.drop_table("safety_checks")
