"""Exactly one process runs the timed jobs on PostgreSQL: the one holding the advisory lock.
When it dies (its connection ends) another takes over at its next check; a leader cut off
from its lock steps down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from community.db import Database
from community.leadership import AdvisoryLock, SoleProcess, leadership_for
from community.settings import Settings
from peerbot.app import create_app
from tests.conftest import POSTGRES_URL, migrated_postgres_schema

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with migrated_postgres_schema() as url:
        yield url


async def _terminate(database: Database, lock: AdvisoryLock) -> None:
    """What PostgreSQL sees when the leading process dies: its session ends."""
    connection = lock._connection
    assert connection is not None
    pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    async with database.engine.connect() as other:
        await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@needs_postgres
async def test_one_leader_and_the_lock_passes_on_when_it_dies(postgres_url: str) -> None:
    first_db, second_db = Database.connect(postgres_url), Database.connect(postgres_url)
    first, second = AdvisoryLock(first_db), AdvisoryLock(second_db)
    try:
        assert await first.acquire() and not await second.acquire()
        assert await first.still_held() and not await second.still_held()
        await _terminate(second_db, first)
        assert not await first.still_held()  # it steps down at its next check
        assert await second.acquire() and await second.still_held()
        assert not await first.acquire()  # and cannot come back while the other leads
        await second.release()
        assert await first.acquire()
        await first.release()
    finally:
        await first_db.dispose()
        await second_db.dispose()


async def test_sqlite_is_one_process(tmp_path: Path) -> None:
    database = Database.connect(f"sqlite+aiosqlite:///{tmp_path}/one.sqlite")
    try:
        assert isinstance(leadership_for(database), SoleProcess)
    finally:
        await database.dispose()


def _settings(tmp_path: Path, database_url: str, name: str) -> Settings:
    return Settings(
        var_dir=tmp_path / name,
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_seconds=0.5,
        leader_check_seconds=0.2,
        screen_learned=False,
    )


async def _scheduler_of(app: FastAPI) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        health = (await client.get("/healthz")).json()
    return str(health["components"]["scheduler"])


async def _wait_for(check: object, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if await check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


@needs_postgres
async def test_two_app_processes_run_the_jobs_once_and_the_second_takes_over(
    postgres_url: str, tmp_path: Path
) -> None:
    first = create_app(_settings(tmp_path, postgres_url, "one"))
    second = create_app(_settings(tmp_path, postgres_url, "two"))
    first_running = AsyncExitStack()
    await first_running.enter_async_context(first.router.lifespan_context(first))
    try:
        async with second.router.lifespan_context(second):
            assert await _running(first) and second.state.scheduler is None
            assert await _scheduler_of(first) == "up"
            assert await _scheduler_of(second) == "standby"
            await asyncio.sleep(0.6)  # several checks: nobody changes places
            assert await _running(first) and second.state.scheduler is None

            # The leader is cut off from its lock: it steps down, the other takes over.
            await _terminate(first.state.services.database, first.state.leadership)
            assert await _wait_for(lambda: _running(second))
            assert await _wait_for(lambda: _standing_by(first))
            await asyncio.sleep(0.6)
            assert await _running(second) and first.state.scheduler is None

            # Now the new leader stops for good: the first one takes the jobs back.
            second_services = second.state.services.database
            await _terminate(second_services, second.state.leadership)
            assert await _wait_for(lambda: _running(first))
            assert await _wait_for(lambda: _standing_by(second))
        # The second app has stopped; the first stops last, releasing the lock.
    finally:
        await first_running.aclose()


async def _standing_by(app: FastAPI) -> bool:
    return app.state.scheduler is None


async def _running(app: FastAPI) -> bool:
    scheduler = app.state.scheduler
    return scheduler is not None and bool(scheduler.running)
