"""Mothers 101: her separate consent on a research answer, and the curated library

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 20:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("research_answers", sa.Column("share_consent", sa.Boolean(), nullable=True))
    op.create_table(
        "mothers_library",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "answer_id",
            sa.Integer(),
            sa.ForeignKey("research_answers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("research_questions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=80), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mothers_library_question_id", "mothers_library", ["question_id"])


def downgrade() -> None:
    op.drop_index("ix_mothers_library_question_id", table_name="mothers_library")
    op.drop_table("mothers_library")
    with op.batch_alter_table("research_answers") as batch:
        batch.drop_column("share_consent")
