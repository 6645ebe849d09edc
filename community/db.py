"""Database engines and sessions (async SQLAlchemy), and applying migrations with Alembic.

Nothing connects at import time: callers build a `Database` from settings when they start.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from community.settings import PROJECT_ROOT, async_database_url, sync_database_url

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Per app process. Several workers, adapters and Rasa share PostgreSQL's 100 connections by
# default: 3 workers x 20 leaves room for the rest.
POSTGRES_POOL_SIZE = 20
POSTGRES_POOL_TIMEOUT_SECONDS = 30


def private_directory(path: Path) -> None:
    """Create `path` readable by its owner only, or take group and other access away from it:
    it holds members' data (the SQLite file, the crisis journal, the secret key)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    file = Path(database)
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created owner-only before SQLite opens it (its -wal and -shm files copy these modes), and
    # fixed if an older version left it readable by others.
    os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))
    for part in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
        if part.exists() and part.stat().st_mode & 0o077:
            part.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web app read while a write is in progress; foreign keys make cascades real.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    url = async_database_url(url)
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        # One connection: SQLite has one writer anyway, and writers queueing in-process wait
        # only for each other, where several connections would sleep-poll on the file lock
        # (measured: 200 simultaneous crises, p99 until visible 3.0 s with a pool of 15).
        engine = create_async_engine(
            url,
            hide_parameters=True,  # a failed statement's error (and log) never carries her words
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            pool_size=1,
            max_overflow=0,
            pool_timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A steady pool and no overflow: under a burst (200 crises at once) overflow connections
    # were opened and closed for nearly every request, and each new PostgreSQL connection cost
    # more than the crisis's own statements. Requests beyond the pool wait their turn briefly.
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=0,
        pool_timeout=POSTGRES_POOL_TIMEOUT_SECONDS,
    )


@dataclass
class Database:
    """An engine and its session factory, shared by everything in one process."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str) -> Database:
        engine = create_engine(url)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def warm(self) -> int:
        """Open the pool's connections now, all at once; returns how many opened. A new
        PostgreSQL connection costs more than a crisis's own statements (about 10 ms of this
        process's CPU), and a pool filled lazily paid that inside the first burst after a
        start. Best-effort: a database that is away is met later, as always."""
        size = self.engine.pool.size() if isinstance(self.engine.pool, QueuePool) else 1
        opened: list[AsyncConnection] = []

        async def one() -> None:
            opened.append(await self.engine.connect())

        results = await asyncio.gather(*(one() for _ in range(size)), return_exceptions=True)
        for connection in opened:
            await connection.close()  # back into the pool, open
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            log.warning("database pool not filled", extra={"error": type(failed).__name__})
        return len(opened)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # Alembic runs synchronously; '%' must be escaped for ConfigParser.
    config.set_main_option("sqlalchemy.url", sync_database_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database schema to the newest migration (idempotent)."""
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
    command.upgrade(alembic_config(url), "head")


def insert_ignoring_conflicts(session: AsyncSession, table: Any) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's database (PostgreSQL or SQLite).

    Lets concurrent writers race on a unique index without savepoints or retries: the loser's
    insert simply does nothing, and it reads the winner's row.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)
