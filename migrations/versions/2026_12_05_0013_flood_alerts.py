"""flood alerts: many crisis messages from new chats at once become one alert for moderators

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flood_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Text(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_flood_alerts_kind_signature", "flood_alerts", ["kind", "signature"], unique=True
    )
    op.create_index("ix_flood_alerts_last_at", "flood_alerts", ["last_at"])
    # Nullable columns added in place, so the cases table and its partial unique index are not
    # rebuilt on SQLite; `flood_alert_id` is a plain number (SQLite cannot add a constraint in
    # place, and an alert is only ever closed, not deleted).
    op.add_column("cases", sa.Column("address_signature", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("words_signature", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("flood_alert_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("flood_alert_id")
        batch.drop_column("words_signature")
        batch.drop_column("address_signature")
    op.drop_index("ix_flood_alerts_last_at", table_name="flood_alerts")
    op.drop_index("uq_flood_alerts_kind_signature", table_name="flood_alerts")
    op.drop_table("flood_alerts")
