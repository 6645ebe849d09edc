"""The re-announcement job, end to end: an unclaimed case is re-announced, the member is
reminded, and the on-call webhook gets an alert (retried until it is accepted)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from community.cases.handoff import HandoffCases
from community.db import Database
from community.members import resolve_member
from community.models import Notification, OutboxMessage
from community.scheduling import JobContext, build_scheduler, reannounce_job
from community.settings import Settings
from safety.screen import Screening, Severity
from tests.bots.rasa_standin import RasaStandIn, rasa_standin


async def open_due_case_and_run_job(
    database: Database, settings: Settings, user: str, screening: Screening, text: str
) -> None:
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", user)
        await HandoffCases(session).open_for_crisis(member, "web", screening, text)
    await asyncio.sleep(0.05)  # past the 6 ms threshold, so the case is due
    await reannounce_job(JobContext(settings, database))


@pytest.fixture
def webhook() -> Iterator[RasaStandIn]:
    with rasa_standin() as server:  # any JSON-recording HTTP server will do
        yield server


async def test_unclaimed_case_reaches_the_oncall_webhook(
    database: Database, database_url: str, tmp_path: Path, webhook: RasaStandIn
) -> None:
    settings = Settings(
        var_dir=tmp_path,
        database_url=database_url,
        reannounce_urgent_minutes=0.0001,
        oncall_webhook_url=f"{webhook.url}/alert",
    )
    await open_due_case_and_run_job(
        database, settings, "mom", Screening(True, "suicide", Severity.HIGH), "i want to die"
    )
    assert len(webhook.received) == 1
    alert = webhook.received[0]
    assert (alert["severity"], alert["category"]) == ("high", "suicide")
    assert "mom" not in str(alert)
    async with database.sessions() as session:
        oncall = await session.scalar(select(Notification).where(Notification.home == "oncall"))
        reminder = await session.scalar(select(OutboxMessage.text))
    assert oncall is not None and oncall.delivered_at is not None
    assert reminder is not None and "988" in reminder


async def test_failed_alert_is_kept_for_the_next_run(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        var_dir=tmp_path,
        database_url=database_url,
        reannounce_urgent_minutes=0.0001,
        oncall_webhook_url="http://127.0.0.1:9/alert",  # nothing listens: the POST fails
    )
    await open_due_case_and_run_job(
        database, settings, "mom2", Screening(True, "overdose", Severity.IMMINENT), "took 30 pills"
    )
    async with database.sessions() as session:
        oncall = await session.scalar(select(Notification).where(Notification.home == "oncall"))
    assert oncall is not None and oncall.delivered_at is None and oncall.attempts == 1


async def test_a_started_scheduler_reannounces_a_waiting_case_on_its_own(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """The jobs get the app's services from the composition root (no module global): started
    as the app starts it, the scheduler finds a case nobody claimed and re-announces it."""
    settings = Settings(
        var_dir=tmp_path,
        database_url=database_url,
        reannounce_urgent_minutes=0.0001,
        scheduler_interval_seconds=1,
    )
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", "waiting")
        await HandoffCases(session).open_for_crisis(
            member, "web", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
    scheduler = build_scheduler(JobContext(settings, database))
    assert {job.id for job in scheduler.get_jobs()} == {
        "reannounce-unclaimed-cases",
        "resource-review",
        "retention",
        "research",
        "unanswered-checks",
        "follow_ups",
        "checkins-and-reminders",
        "discussion-sessions",
    }
    scheduler.start()
    try:
        for _ in range(100):
            async with database.sessions() as session:
                kinds = set((await session.scalars(select(Notification.kind))).all())
            if "reannounced" in kinds:
                break
            await asyncio.sleep(0.1)
    finally:
        scheduler.shutdown(wait=False)
        # A job still running finishes before the database it uses is closed.
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if running:
            await asyncio.wait(running, timeout=10)
    assert "reannounced" in kinds


async def test_old_platform_update_ids_are_forgotten(database: Database) -> None:
    from datetime import timedelta

    from community.models import PlatformUpdate, utcnow
    from community.scheduling import purge_seen_updates

    async with database.transaction() as session:
        session.add(PlatformUpdate(platform="telegram", update_id=1, received_at=utcnow()))
        session.add(
            PlatformUpdate(
                platform="telegram", update_id=2, received_at=utcnow() - timedelta(days=8)
            )
        )
    await purge_seen_updates(database)
    async with database.sessions() as session:
        left = (await session.scalars(select(PlatformUpdate.update_id))).all()
    assert list(left) == [1]


async def test_a_started_scheduler_sends_a_due_reminder_and_survives_a_failing_run(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """Issue #21: a reminder written before the app started (a restart) is found in its table
    by the running scheduler and sent once; a run that fails is logged, not fatal."""
    from datetime import timedelta

    from community.models import Reminder, utcnow
    from community.scheduling import CHECKINS_JOB_ID, _resilient, checkins_job

    settings = Settings(var_dir=tmp_path, database_url=database_url, scheduler_interval_seconds=1)
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", "reminded")
        session.add(
            Reminder(member_id=member.id, platform="web", label="clinic", status="pending",
                     due_at=utcnow() - timedelta(minutes=1), timezone="America/New_York")
        )  # fmt: skip
    broken = JobContext(settings, Database.connect("sqlite+aiosqlite:///" + str(tmp_path / "x")))
    await _resilient(CHECKINS_JOB_ID, checkins_job)(broken)  # no tables there: logged, no raise
    assert CHECKINS_JOB_ID not in broken.finished
    await broken.database.dispose()
    context = JobContext(settings, database)
    scheduler = build_scheduler(context)
    scheduler.start()
    try:
        for _ in range(100):
            async with database.sessions() as session:
                texts = (await session.scalars(select(OutboxMessage.text))).all()
            if texts:
                break
            await asyncio.sleep(0.1)
    finally:
        scheduler.shutdown(wait=False)
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if running:
            await asyncio.wait(running, timeout=10)
    assert texts == ["Reminder, as you asked: clinic"]
    assert CHECKINS_JOB_ID in context.finished
