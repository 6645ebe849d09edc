"""Her language: the one she is answered in, how it was decided, and a run in the other one

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("language_source", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("language_run", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("language_run")
        batch.drop_column("language_source")
        batch.drop_column("language")
