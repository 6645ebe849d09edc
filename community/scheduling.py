"""Timed work on APScheduler 3, with its jobs in a persistent SQLAlchemy job store.

Jobs are stored by reference (`module:function`), so the functions here are module-level and
find the running app's services through `JobContext`, set when the app starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from community.db import Database
from community.settings import Settings, sync_database_url

log = logging.getLogger(__name__)

REANNOUNCE_JOB_ID = "reannounce-unclaimed-cases"
REMINDER_TEXT = (
    "A person from our team hasn't been able to join yet, and I'm sorry for the wait. They've "
    "been asked again. If you need help now: call or text 988, or call 911 in an emergency."
)


@dataclass
class JobContext:
    settings: Settings
    database: Database


_context: JobContext | None = None


def set_job_context(context: JobContext | None) -> None:
    global _context
    _context = context


async def reannounce_job() -> None:
    """Re-announce unclaimed cases and remind their members of the crisis numbers."""
    from safety.handoff import reannounce_overdue

    if _context is None:
        return
    settings = _context.settings
    async with _context.database.transaction() as session:
        due = await reannounce_overdue(
            session,
            homes=tuple(settings.moderation_homes),
            urgent_after=timedelta(minutes=settings.reannounce_urgent_minutes),
            other_after=timedelta(minutes=settings.reannounce_other_minutes),
            reminder_text=REMINDER_TEXT,
        )
    for case_id in due:
        log.warning("case re-announced", extra={"case_id": case_id})


def build_scheduler(settings: Settings) -> AsyncIOScheduler:
    store = SQLAlchemyJobStore(
        url=sync_database_url(settings.resolved_database_url), tablename="apscheduler_jobs"
    )
    scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.add_job(
        reannounce_job,
        "interval",
        seconds=settings.scheduler_interval_seconds,
        id=REANNOUNCE_JOB_ID,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    return scheduler
