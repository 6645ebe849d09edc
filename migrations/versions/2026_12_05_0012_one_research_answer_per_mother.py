"""one research answer per mother and question: a second replaces the first

Earlier versions stored every answer a member sent; only the latest of each mother's answers to
a question is kept.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM research_answers WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MAX(id) AS keep FROM research_answers "
        "GROUP BY question_id, member_id) AS latest)"
    )
    op.create_index(
        "uq_research_answers_question_member",
        "research_answers",
        ["question_id", "member_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_research_answers_question_member", table_name="research_answers")
