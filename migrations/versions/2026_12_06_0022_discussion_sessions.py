"""Discussion sessions: proposals, announcements, RSVPs, reminders, questions, feedback (#22)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def _session_fk() -> sa.ForeignKey:
    return sa.ForeignKey("discussion_sessions.id", ondelete="CASCADE")


def _member_fk() -> sa.ForeignKey:
    return sa.ForeignKey("members.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "discussion_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("proposer_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("host_name", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("submitted_topic", sa.Text(), nullable=False),
        sa.Column("topic_es", sa.Text(), nullable=True),
        sa.Column("details_es", sa.Text(), nullable=True),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", WHEN, nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("announced_at", WHEN, nullable=True),
    )
    op.create_index("ix_discussion_sessions_status", "discussion_sessions", ["status", "starts_at"])
    op.create_table(
        "session_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), _session_fk(), nullable=False),
        sa.Column("member_id", sa.Integer(), _member_fk(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("not_before", WHEN, nullable=False),
        sa.Column("queued_at", WHEN, nullable=True),
    )
    op.create_index(
        "ux_session_invitation", "session_invitations", ["session_id", "member_id"], unique=True
    )
    op.create_index("ix_session_invitation_due", "session_invitations", ["state", "not_before"])
    op.create_table(
        "session_community_posts",
        sa.Column("session_id", sa.Integer(), _session_fk(), primary_key=True),
        sa.Column("home", sa.String(length=16), primary_key=True),
        sa.Column("posted_at", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_table(
        "session_rsvps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), _session_fk(), nullable=False),
        sa.Column("member_id", sa.Integer(), _member_fk(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("since", WHEN, nullable=False),
    )
    op.create_index("ux_session_rsvp", "session_rsvps", ["session_id", "member_id"], unique=True)
    op.create_index("ix_session_rsvps_session_id", "session_rsvps", ["session_id"])
    op.create_table(
        "session_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), _session_fk(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("sent_to", sa.Integer(), nullable=False),
    )
    op.create_index("ux_session_reminder", "session_reminders", ["session_id", "kind"], unique=True)
    op.create_index("ix_session_reminder_due", "session_reminders", ["sent_at", "due_at"])
    op.create_table(
        "session_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), _session_fk(), nullable=False),
        sa.Column("member_id", sa.Integer(), _member_fk(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_session_questions_session_id", "session_questions", ["session_id"])
    op.create_index("ix_session_questions_member_id", "session_questions", ["member_id"])
    op.create_table(
        "session_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), _session_fk(), nullable=False),
        sa.Column("member_id", sa.Integer(), _member_fk(), nullable=False),
        sa.Column("worth", sa.String(length=8), nullable=False),
        sa.Column("better", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index(
        "ux_session_feedback", "session_feedback", ["session_id", "member_id"], unique=True
    )
    op.create_index("ix_session_feedback_session_id", "session_feedback", ["session_id"])
    op.create_index("ix_session_feedback_member_id", "session_feedback", ["member_id"])
    with op.batch_alter_table("research_preferences") as batch:
        batch.add_column(
            sa.Column("sessions", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.JSON(), nullable=True))
    with op.batch_alter_table("pending_inputs") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_pending_inputs_session_id",
            "discussion_sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_inputs") as batch:
        batch.drop_constraint("fk_pending_inputs_session_id", type_="foreignkey")
        batch.drop_column("session_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachment")
    with op.batch_alter_table("research_preferences") as batch:
        batch.drop_column("sessions")
    for table in (
        "session_feedback",
        "session_questions",
        "session_reminders",
        "session_rsvps",
        "session_community_posts",
        "session_invitations",
        "discussion_sessions",
    ):
        op.drop_table(table)
