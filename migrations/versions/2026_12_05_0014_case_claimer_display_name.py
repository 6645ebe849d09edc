"""cases.claimed_by_name: the claimer's display name, so staff never see a platform id

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable and added in place: the cases table and its partial unique index are not rebuilt
    # on SQLite. Cases claimed before this show "a moderator".
    op.add_column("cases", sa.Column("claimed_by_name", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("claimed_by_name")
