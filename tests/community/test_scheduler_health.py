"""A scheduler that cannot die quietly: a locked or unreachable database delays the
re-announcement of a waiting crisis but never stops it; the heartbeat says when the job is late;
and a watchdog replaces a scheduler that stopped."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, select

from community.cases.handoff import HandoffCases
from community.db import Database
from community.leadership import SoleProcess
from community.members import resolve_member
from community.models import Notification, utcnow
from community.scheduling import REANNOUNCE_JOB_ID, JobContext, build_scheduler
from community.settings import Settings
from peerbot.app import _lead_scheduler
from safety.screen import Screening, Severity
from tests.bots.test_crisis_journal import CuttableProxy
from tests.conftest import POSTGRES_URL, migrated_postgres_schema


async def _waiting_crisis(database: Database, user: str) -> None:
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", user)
        await HandoffCases(session).open_for_crisis(
            member, "web", Screening(True, "overdose", Severity.IMMINENT), "i took all my pills"
        )


async def _reannounced(database: Database, seconds: float) -> bool:
    for _ in range(int(seconds * 10)):
        async with database.sessions() as session:
            kinds = set((await session.scalars(select(Notification.kind))).all())
        if "reannounced" in kinds:
            return True
        await asyncio.sleep(0.1)
    return False


def _fast(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        var_dir=tmp_path,
        database_url=database_url,
        reannounce_urgent_minutes=0.0001,
        scheduler_interval_seconds=1,
        leader_check_seconds=1,
    )


async def _stop(scheduler: object) -> None:
    scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
    running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if running:
        await asyncio.wait(running, timeout=10)


async def test_a_locked_sqlite_database_delays_the_reannouncement_but_never_stops_it(
    tmp_path: Path,
) -> None:
    from community.db import migrate

    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    migrate(url)
    database = Database.connect(url)
    await _waiting_crisis(database, "locked-out")
    released = threading.Event()

    def hold_the_lock() -> None:
        other = sqlite3.connect(tmp_path / "locked.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        released.wait(3)
        other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    jobs = JobContext(_fast(tmp_path, url), database)
    scheduler = build_scheduler(jobs)
    scheduler.start()
    try:
        await asyncio.sleep(2)  # the job waits on the lock meanwhile
        assert scheduler.running
        released.set()
        assert await _reannounced(database, 10)
        assert REANNOUNCE_JOB_ID in jobs.finished and jobs.scheduler_state() == "up"
    finally:
        released.set()
        holder.join()
        await _stop(scheduler)
        await database.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")
async def test_postgresql_cut_for_a_while_then_the_reannouncement_happens(
    tmp_path: Path,
) -> None:
    with migrated_postgres_schema() as direct_url:
        url = make_url(direct_url)
        proxy = CuttableProxy(url.port or 5432)
        await proxy.start()
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        database = Database.connect(through)
        await _waiting_crisis(database, "cut-off")
        await proxy.cut()
        jobs = JobContext(_fast(tmp_path, through), database)
        scheduler = build_scheduler(jobs)
        scheduler.start()
        try:
            await asyncio.sleep(4)  # every run fails meanwhile, tried again with backoff
            assert scheduler.running and REANNOUNCE_JOB_ID not in jobs.finished
            await proxy.start()
            assert await _reannounced(database, 15)
            for _ in range(50):
                if REANNOUNCE_JOB_ID in jobs.finished:
                    break
                await asyncio.sleep(0.1)
            assert jobs.scheduler_state() == "up"
        finally:
            await _stop(scheduler)
            await database.dispose()
            await proxy.cut()


async def test_the_heartbeat_says_late_and_the_watchdog_replaces_a_stopped_scheduler(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    jobs = JobContext(_fast(tmp_path, database_url), database)
    jobs.started_at = utcnow() - timedelta(minutes=5)
    assert jobs.scheduler_state() == "down"  # never finished in five minutes

    app = FastAPI()
    app.state.scheduler = build_scheduler(jobs)
    app.state.scheduler.start()
    app.state.scheduler.shutdown(wait=False)  # it dies
    dead = app.state.scheduler
    await _waiting_crisis(database, "after-the-watchdog")
    watchdog = asyncio.create_task(_lead_scheduler(app, jobs, SoleProcess()))
    try:
        assert await _reannounced(database, 15)
        assert app.state.scheduler is not dead and app.state.scheduler.running
        assert jobs.scheduler_state() == "up"
    finally:
        watchdog.cancel()
        await _stop(app.state.scheduler)
