"""drop apscheduler_jobs: the scheduler keeps its jobs in memory, given the app's services

The table was APScheduler's own job store (pickled references to job functions). The jobs' state
was never there (it is in cases, checks and deliveries), and the jobs now take the running app's
services as an argument, which a stored job cannot; the table would only hold stale rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # APScheduler created it on first start, outside the migrations: it may not exist.
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    # Nothing to restore: an older app's scheduler creates its own table on start.
    pass
