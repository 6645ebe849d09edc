"""A research question's Spanish version (added at review), and the language of each answer

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("research_questions") as batch:
        batch.add_column(sa.Column("text_es", sa.Text(), nullable=True))
        batch.add_column(sa.Column("context_es", sa.Text(), nullable=True))
    with op.batch_alter_table("research_answers") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("research_answers") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("research_questions") as batch:
        batch.drop_column("context_es")
        batch.drop_column("text_es")
