"""Group commit for new crisis cases: crises that arrive together are written in one transaction.

Two hundred mothers writing at once made two hundred small transactions, each paying for its
own round trips and the ORM's bookkeeping. Here a crisis that needs a new case (her state just
read: no open case) is handed to one writer per process. The writer starts at once when nothing
is being written, so a lone crisis waits for nothing; crises arriving while a transaction is in
flight wait for it and then go together in the next one, as a few multi-row statements: the
cases (one open case per member, by the same partial unique index as `HandoffCases`), her
message and what she was told, the audit events and the moderators' notifications.

A case is committed with its notifications before its caller hears of it, exactly as in
`HandoffCases`. When a whole batch fails, each crisis in it is tried alone, so one bad row cannot
cost the others their cases; a crisis that still fails raises to its caller, whose path writes
it to the crisis journal. A crisis whose member has an open case by then gets None: the caller
raises that case the usual way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from community.cases.floods import join_open_alerts
from community.db import Database
from community.models import (
    OPEN_CASE_PREDICATE,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    Notification,
    utcnow,
)

log = logging.getLogger(__name__)

# Rows per transaction at most: bounds one statement's parameters (PostgreSQL allows 65,535;
# a batch of this size uses about 3,000) and how long one commit holds the next batch back.
MAX_BATCH = 250
SYSTEM_ACTOR = "peerbot"  # as HandoffCases writes it


@dataclass(frozen=True)
class NewCrisisCase:
    """What a new crisis case is written with. `opened_at` is when she wrote."""

    member_id: int
    platform: str
    category: str
    severity: str
    rank: int
    text: str  # her message, as the transcript keeps it
    reply: str  # what she was told, numbers included: moderators see it
    address_signature: str | None = None
    words_signature: str | None = None
    opened_at: datetime = field(default_factory=utcnow)


@dataclass
class _Waiting:
    case: NewCrisisCase
    done: asyncio.Future[int | None]


class CrisisCaseWriter:
    """One per process, built by its owner (the gateway) around the process's database."""

    def __init__(self, database: Database, homes: tuple[str, ...]) -> None:
        self._db = database
        self._homes = homes
        self._waiting: list[_Waiting] = []
        self._running: asyncio.Task[None] | None = None
        self.transactions = 0  # committed batches, for tests and figures

    async def open(self, case: NewCrisisCase) -> int | None:
        """Her new case's id once it is committed; None if she had an open case by then.
        Raises when it could not be written, alone or in a batch."""
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(case, done))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._write_while_waiting())
        # Shielded: a caller that gives up must not cancel the batch the others wait on.
        return await asyncio.shield(done)

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch = self._take_batch()
            try:
                await self._write(batch)
            except Exception as error:
                log.warning(
                    "crisis batch failed; writing each alone",
                    extra={"cases": len(batch), "error": type(error).__name__},
                )
                for waiting in batch:
                    await self._write_alone(waiting)

    def _take_batch(self) -> list[_Waiting]:
        """Up to MAX_BATCH crises, one per member: a second crisis of hers goes in the next
        batch, where it meets the case the first one opened."""
        batch: list[_Waiting] = []
        later: list[_Waiting] = []
        members: set[int] = set()
        for waiting in self._waiting:
            if waiting.done.done():  # pragma: no cover - futures are only resolved here
                continue
            if len(batch) < MAX_BATCH and waiting.case.member_id not in members:
                members.add(waiting.case.member_id)
                batch.append(waiting)
            else:
                later.append(waiting)
        self._waiting = later
        return batch

    async def _write_alone(self, waiting: _Waiting) -> None:
        try:
            await self._write([waiting])
        except Exception as error:
            if not waiting.done.done():
                waiting.done.set_exception(error)

    async def _write(self, batch: list[_Waiting]) -> None:
        """One transaction; results are given only after its commit."""
        async with self._db.engine.begin() as connection:
            opened = await self._insert_cases(connection, [w.case for w in batch])
            created = [
                (w.case, opened[w.case.member_id]) for w in batch if w.case.member_id in opened
            ]
            if created:
                await self._insert_records(connection, created)
                await join_open_alerts(
                    connection, [case_id for case, case_id in created if case.words_signature]
                )
        self.transactions += 1
        for waiting in batch:
            case_id = opened.get(waiting.case.member_id)
            if case_id is not None:
                log.info(
                    "case opened", extra={"case_id": case_id, "category": waiting.case.category}
                )
            if not waiting.done.done():
                waiting.done.set_result(case_id)

    @staticmethod
    async def _insert_cases(
        connection: AsyncConnection, cases: list[NewCrisisCase]
    ) -> dict[int, int]:
        """{member id: new case id} for the cases inserted; a member with an open case has none.
        Rows go as one executemany on the Core table: SQLAlchemy sends them as multi-row
        inserts from one cached statement (a VALUES list built per batch was compiled anew
        every time, at about 10 ms for 200 rows)."""
        table = _table(Case)
        postgresql = connection.dialect.name == "postgresql"
        statement = (
            (postgresql_insert(table) if postgresql else sqlite_insert(table))
            .on_conflict_do_nothing(
                index_elements=["member_id"], index_where=sql_text(OPEN_CASE_PREDICATE)
            )
            .returning(table.c.member_id, table.c.id)
        )
        rows = await connection.execute(
            statement,
            [
                {
                    "member_id": case.member_id,
                    "platform": case.platform,
                    "status": CaseStatus.WAITING.value,
                    "source": "screen",
                    "category": case.category,
                    "severity": case.severity,
                    "severity_rank": case.rank,
                    "opened_at": case.opened_at,
                    "announced_at": case.opened_at,
                    "reannouncements": 0,
                    "address_signature": case.address_signature,
                    "words_signature": case.words_signature,
                }
                for case in cases
            ],
        )
        return {int(member_id): int(case_id) for member_id, case_id in rows}

    async def _insert_records(
        self, connection: AsyncConnection, created: list[tuple[NewCrisisCase, int]]
    ) -> None:
        """Her message, then the bot's reply (that order, as the transcript reads), the audit
        event and a notification for each moderation home, as in HandoffCases._record."""
        messages = []
        for case, case_id in created:
            messages.append(
                {"case_id": case_id, "author": "member", "author_name": None,
                 "text": case.text, "created_at": case.opened_at}
            )  # fmt: skip
            messages.append(
                {"case_id": case_id, "author": "bot", "author_name": SYSTEM_ACTOR,
                 "text": case.reply, "created_at": case.opened_at}
            )  # fmt: skip
        await connection.execute(insert(_table(CaseMessage)), messages)
        await connection.execute(
            insert(_table(CaseEvent)),
            [
                {"case_id": case_id, "actor": SYSTEM_ACTOR, "action": "opened",
                 "detail": "screen", "at": case.opened_at}
                for case, case_id in created
            ],
        )  # fmt: skip
        if self._homes:
            await connection.execute(
                insert(_table(Notification)),
                [
                    {"case_id": case_id, "home": home, "kind": "opened",
                     "created_at": case.opened_at, "attempts": 0}
                    for _, case_id in created
                    for home in self._homes
                ],
            )  # fmt: skip


def _table(model: Any) -> Table:
    """The Core table behind a model: statements on it skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)
