"""Check-ins she chooses, her own reminders, her time zone, and the person she asked for again

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("asked_for", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("asked_for_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("asked_for_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "checkin_schedules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("at_minute", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
    )
    op.create_index("ix_checkin_schedules_status", "checkin_schedules", ["status"])
    op.create_index("ix_checkin_schedules_next_at", "checkin_schedules", ["next_at"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200)),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_reminders_member_id", "reminders", ["member_id"])
    op.create_index("ix_reminders_due_at", "reminders", ["due_at"])
    op.create_index("ix_reminders_status", "reminders", ["status"])


def downgrade() -> None:
    op.drop_index("ix_reminders_status", table_name="reminders")
    op.drop_index("ix_reminders_due_at", table_name="reminders")
    op.drop_index("ix_reminders_member_id", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_checkin_schedules_next_at", table_name="checkin_schedules")
    op.drop_index("ix_checkin_schedules_status", table_name="checkin_schedules")
    op.drop_table("checkin_schedules")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("asked_for_until")
        batch.drop_column("asked_for_name")
        batch.drop_column("asked_for")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("timezone")
