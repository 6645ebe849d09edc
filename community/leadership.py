"""Which process runs the timed jobs: exactly one, whatever the number of app processes.

On PostgreSQL the process that holds a session-level advisory lock is the leader. The lock is
held on a connection of its own, in autocommit (no transaction stays open), and PostgreSQL
lets go of it the moment that connection ends: a leader that dies, or is cut off, frees it,
and another process takes it at its next try. A leader that can no longer reach its lock
steps down at once, so two processes never run the jobs together for longer than one check.
The lock's key is derived in the database from its name and schema, so every process of one
deployment asks for the same lock whatever address it uses to reach the database.

SQLite serves one app process: it is always the leader there. Processes that must be alone on
a machine whatever the database (a chat platform's adapter) use `FileLock` on SQLite.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from community.db import Database

log = logging.getLogger(__name__)

LOCK_NAME = "peerbot.scheduler"
# One key per database and schema (tests share a database, each in its own schema).
TAKE = text(
    "SELECT pg_try_advisory_lock("
    "hashtextextended(current_database() || '.' || current_schema() || '.' || :name, 0))"
)
HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
    "AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = "
    "hashtextextended(current_database() || '.' || current_schema() || '.' || :name, 0)"
)


class Leadership(Protocol):
    async def acquire(self) -> bool:
        """Become the leader if nobody is; True if this process leads now."""
        ...

    async def still_held(self) -> bool:
        """Whether this process still leads (False after any doubt)."""
        ...

    async def release(self) -> None: ...


class SoleProcess:
    """SQLite: one process, always the leader."""

    async def acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """Leadership by a PostgreSQL session-level advisory lock, on a connection of its own."""

    def __init__(self, database: Database, name: str = LOCK_NAME) -> None:
        self._database = database
        self._name = name
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._connection is not None:
            return await self.still_held()
        connection = await self._database.engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await connection.scalar(TAKE, {"name": self._name})
        except Exception:
            await _close_quietly(connection)
            raise
        if not taken:
            await _close_quietly(connection)
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        connection = self._connection
        if connection is None:
            return False
        try:
            # The lock is ours while this connection lives; ask PostgreSQL to be sure.
            held = await connection.scalar(HELD, {"name": self._name})
        except Exception as error:
            log.warning("scheduler lock lost", extra={"error": type(error).__name__})
            held = 0
        if not held:
            self._connection = None
            await _close_quietly(connection)
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await _close_quietly(connection)  # closing the session frees its lock


async def _close_quietly(connection: AsyncConnection) -> None:
    try:
        await connection.invalidate()  # never back to the pool: its session held the lock
    except Exception as error:
        log.info("scheduler lock connection closed", extra={"error": type(error).__name__})


class FileLock:
    """Leadership among processes of one machine (SQLite): an exclusive lock on a file under
    `var/`, which the operating system releases when the holder dies."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[bytes] | None = None

    async def acquire(self) -> bool:
        if self._handle is not None:
            return True
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    async def still_held(self) -> bool:
        return self._handle is not None

    async def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing the file releases its lock


def leadership_for(database: Database) -> Leadership:
    if database.engine.dialect.name == "postgresql":
        return AdvisoryLock(database)
    return SoleProcess()
