"""A durable local journal for crisis findings the database could not take.

When the case for a crisis (or a `check`, or help already coming) cannot be written because the
database is away, the gateway still answers her at once and appends the finding here: one JSON
line, flushed and fsynced, in an owner-only file under `var/`. A replay loop writes each entry
into the database once it answers again, as a case opened at the time she really wrote, with a
note that tells the moderators why it is late, and then drops it from the file. Exactly once: the
entry's random id goes into `journal_replays` in the same transaction as its case, so a replay
repeated after a crash does nothing.

An entry holds the least needed to open her case and reach her: the platform and her platform id
(kept, as in `delivery_addresses`, only to resolve and reach her), the category and severity, the
bounded text she wrote and what she was told. Nothing from it is logged.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from community.cases.handoff import HandoffCases
from community.db import Database
from community.members import pseudonym_for, resolve_member
from community.models import Case, CaseMessage, JournalReplay, Member, utcnow
from safety.screen import Screening, Severity

log = logging.getLogger(__name__)

JOURNAL_NAME = "crisis-journal.jsonl"
# What a database that is away raises (refused, reset, timed out): the replay stops and waits.
DATABASE_AWAY = (OperationalError, InterfaceError, OSError, TimeoutError)
REPLAY_INTERVAL_SECONDS = 5.0
DELAY_NOTE = (
    "Written while peerbot's database was away: she wrote this at {at} UTC and was sent the "
    "crisis reply then. Please look first at whether she is safe now."
)


@dataclass(frozen=True)
class JournalEntry:
    id: str
    at: str  # when she wrote, ISO 8601 UTC
    platform: str
    user_id: str
    category: str
    severity: str  # a Severity label: imminent, high, elevated
    text: str
    reply: str
    # "finding": a crisis, check or help coming, which becomes her case; "message": what she
    # wrote while perhaps talking with a person, kept only if her case is open when replayed.
    kind: str = "finding"

    @property
    def written_at(self) -> datetime:
        return datetime.fromisoformat(self.at)

    @property
    def screening(self) -> Screening:
        severity = next((s for s in Severity if s.label == self.severity), Severity.HIGH)
        return Screening(crisis=True, category=self.category, severity=severity)


def new_entry(
    platform: str, user_id: str, screening: Screening, text: str, reply: str
) -> JournalEntry:
    severity = screening.severity or Severity.HIGH
    return JournalEntry(
        id=str(uuid.uuid4()),
        at=utcnow().isoformat(),
        platform=platform,
        user_id=user_id,
        category=screening.category or "unknown",
        severity=severity.label,
        text=text,
        reply=reply,
    )


def message_entry(platform: str, user_id: str, text: str) -> JournalEntry:
    return JournalEntry(
        id=str(uuid.uuid4()),
        at=utcnow().isoformat(),
        platform=platform,
        user_id=user_id,
        category="",
        severity="",
        text=text,
        reply="",
        kind="message",
    )


class CrisisJournal:
    """Append, read and replay. Several app processes on one machine may share the file: an
    append and a read-and-rewrite each hold an exclusive lock on a file beside it, so a
    rewrite never drops what another process appended meanwhile (within one process neither
    awaits, so they never interleave there either). Two processes replaying the same entry
    write it once: its id is the `journal_replays` key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # held for milliseconds by the other side
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def append(self, entry: JournalEntry) -> None:
        """Durable before it returns: written, flushed and fsynced, owner-only."""
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with self._locked():
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        log.warning("crisis written to the local journal", extra={"platform": entry.platform})

    def entries(self) -> list[JournalEntry]:
        """Every whole entry; a line torn by a crash mid-write is skipped (and kept)."""
        if not self.path.exists():
            return []
        found = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                found.append(JournalEntry(**json.loads(line)))
            except (ValueError, TypeError):
                log.error("crisis journal line %d is unreadable; kept for a person", number)
        return found

    def remove(self, ids: set[str]) -> None:
        """Drop replayed entries: the rest is written to a new file that replaces the old."""
        if not ids or not self.path.exists():
            return
        with self._locked():
            self._rewrite_without(ids)

    def _rewrite_without(self, ids: set[str]) -> None:
        if not self.path.exists():
            return
        kept = [
            line
            for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            if _entry_id(line) not in ids
        ]
        partial = self.path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, "".join(kept).encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        partial.replace(self.path)
        if not kept:
            self.path.unlink(missing_ok=True)

    async def replay(self, database: Database, pseudonym_key: bytes, homes: tuple[str, ...]) -> int:
        """Write waiting entries into the database; returns how many were newly written.
        Stops at the first failure (the database is still away) and tries again next time."""
        written = 0
        done: set[str] = set()
        try:
            for entry in self.entries():
                try:
                    if await _replay_one(database, pseudonym_key, homes, entry):
                        written += 1
                    done.add(entry.id)
                except DATABASE_AWAY:
                    raise
                except Exception as error:
                    # Not the database being away: this entry stays for a person, and the
                    # ones after it are not held up by it. (The error's text could carry hers.)
                    log.error(
                        "a crisis journal entry could not be replayed (%s); kept",
                        type(error).__name__,
                    )
        except DATABASE_AWAY as error:
            log.warning("crisis journal not replayed yet (%s)", type(error).__name__)
        finally:
            self.remove(done)
        if written:
            log.warning("crisis journal replayed", extra={"cases": written})
        return written

    async def replay_forever(
        self,
        database: Database,
        pseudonym_key: bytes,
        homes: tuple[str, ...],
        interval: float = REPLAY_INTERVAL_SECONDS,
    ) -> None:
        """The app's background loop: cheap while the journal is empty (one stat a turn)."""
        while True:
            if self.path.exists():
                try:
                    await self.replay(database, pseudonym_key, homes)
                except Exception as error:
                    # The file could not be rewritten (a full disk): the loop must outlive it,
                    # or no later crisis would ever reach a person.
                    log.error("crisis journal replay failed (%s)", type(error).__name__)
            await asyncio.sleep(interval)


async def _replay_one(
    database: Database, pseudonym_key: bytes, homes: tuple[str, ...], entry: JournalEntry
) -> bool:
    async with database.transaction() as session:
        if await session.get(JournalReplay, entry.id) is not None:
            return False  # written before a crash cut the rewrite of the file
        if entry.kind == "message":
            return await _replay_message(session, pseudonym_key, homes, entry)
        member = await resolve_member(session, pseudonym_key, entry.platform, entry.user_id)
        cases = HandoffCases(session, homes)
        opening = await cases.open_for_crisis(member, entry.platform, entry.screening, entry.text)
        if opening.created:
            await session.execute(
                update(Case).where(Case.id == opening.case_id).values(opened_at=entry.written_at)
            )
        await cases.record_bot_message(opening.case_id, entry.reply)
        at = entry.written_at.strftime("%Y-%m-%d %H:%M")
        await cases.record_screen_note(opening.case_id, DELAY_NOTE.format(at=at))
        session.add(JournalReplay(entry_id=entry.id, case_id=opening.case_id))
    return True


async def _replay_message(
    session: AsyncSession, pseudonym_key: bytes, homes: tuple[str, ...], entry: JournalEntry
) -> bool:
    """Her words reach the person with her case; with no open case they are not kept."""
    pseudonym = pseudonym_for(pseudonym_key, entry.platform, entry.user_id)
    member_id = await session.scalar(select(Member.id).where(Member.pseudonym == pseudonym))
    cases = HandoffCases(session, homes)
    case = await cases.open_case_for(member_id) if member_id is not None else None
    if case is None:
        return False
    session.add(
        CaseMessage(case_id=case.id, author="member", text=entry.text, created_at=entry.written_at)
    )
    session.add(JournalReplay(entry_id=entry.id, case_id=case.id))
    return True


def _entry_id(line: str) -> str | None:
    try:
        value = json.loads(line).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
