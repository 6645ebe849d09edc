"""What the community asks (#22): per-day tallies, hourly activity and the daily rollup

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_tallies",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("metric", sa.String(length=40), primary_key=True),
        sa.Column("key", sa.String(length=80), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "insight_activity",
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
    )
    op.create_index("ix_insight_activity_hour", "insight_activity", ["hour"])
    op.create_table(
        "insight_rollup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_insight_rollup_day", "insight_rollup", ["day"])


def downgrade() -> None:
    op.drop_index("ix_insight_rollup_day", table_name="insight_rollup")
    op.drop_table("insight_rollup")
    op.drop_index("ix_insight_activity_hour", table_name="insight_activity")
    op.drop_table("insight_activity")
    op.drop_table("insight_tallies")
