"""Her answer to a session: yes, maybe or no, changed as often as she likes. Capacity counts
the yeses; a yes when it is full puts her on the waitlist, and a yes that becomes a maybe or a
no moves the first on the waitlist up, told at once (with the place) through the outbox.

The session's row is locked (SELECT ... FOR UPDATE) for the whole answer on PostgreSQL, so
answers to one session at the same moment are counted one after the other and never fill it
past its capacity; on SQLite the app's one connection does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.members import member_language
from community.messages import Attachment
from community.models import OutboxMessage, utcnow
from community.research.texts import language_of
from community.sessions import calendar, texts
from community.sessions.models import DiscussionSession, Rsvp, SessionRsvp, SessionStatus


class SessionClosed(ValueError):
    """Not announced, cancelled, or already started: no answers are taken."""


@dataclass(frozen=True)
class RsvpOutcome:
    answer: str  # what she is now: yes, maybe, no, waitlist
    position: int = 0  # on the waitlist: her number (1 is next)
    moved_up: int = 0  # how many were moved up from the waitlist by this answer


def open_for_answers(item: DiscussionSession | None, now: datetime) -> bool:
    return (
        item is not None and item.status == SessionStatus.ANNOUNCED.value and item.starts_at > now
    )


async def rsvp_of(session: AsyncSession, session_id: int, member_id: int) -> SessionRsvp | None:
    return await session.scalar(
        select(SessionRsvp).where(
            SessionRsvp.session_id == session_id, SessionRsvp.member_id == member_id
        )
    )


async def _count(session: AsyncSession, session_id: int, answer: str) -> int:
    found = await session.scalar(
        select(func.count()).where(
            SessionRsvp.session_id == session_id, SessionRsvp.answer == answer
        )
    )
    return int(found or 0)


async def waitlist_position(session: AsyncSession, row: SessionRsvp) -> int:
    ahead = await session.scalar(
        select(func.count()).where(
            SessionRsvp.session_id == row.session_id,
            SessionRsvp.answer == Rsvp.WAITLIST.value,
            (SessionRsvp.since < row.since)
            | ((SessionRsvp.since == row.since) & (SessionRsvp.id < row.id)),
        )
    )
    return int(ahead or 0) + 1


def calendar_file(item: DiscussionSession, language: str | None, now: datetime) -> Attachment:
    """Her `.ics`, with the place: only ever made for a yes."""
    text = calendar.event_file(
        item.id, texts.topic_in(item, language),
        item.details_es if language_of(language) == "es" and item.details_es
        else item.details,
        item.starts_at, item.minutes, item.place, item.online, now,
    )  # fmt: skip
    return Attachment(calendar.file_name(item.id), calendar.MEDIA_TYPE, text)


async def answer(
    session: AsyncSession,
    session_id: int,
    member_id: int,
    platform: str,
    wanted: Rsvp,
    zone: str,
    now: datetime | None = None,
) -> RsvpOutcome:
    """Record her answer; raise SessionClosed when the session takes none."""
    now = now or utcnow()
    # The lock that makes concurrent answers count one after the other (PostgreSQL).
    item = await session.get(DiscussionSession, session_id, with_for_update=True)
    if item is None or not open_for_answers(item, now):
        raise SessionClosed(session_id)
    row = await rsvp_of(session, session_id, member_id)
    previous = row.answer if row is not None else None
    if row is None:
        row = SessionRsvp(
            session_id=session_id, member_id=member_id, platform=platform, answer="", since=now
        )
        session.add(row)
    row.platform = platform  # where she answered is where she is reached
    if wanted is Rsvp.YES:
        if previous in (Rsvp.YES.value, Rsvp.WAITLIST.value):
            pass  # already in, or already waiting in her place
        elif await _count(session, session_id, Rsvp.YES.value) < item.capacity:
            row.answer, row.since = Rsvp.YES.value, now
        else:
            row.answer, row.since = Rsvp.WAITLIST.value, now
    else:
        row.answer, row.since = wanted.value, now
    await session.flush()
    moved = 0
    if previous == Rsvp.YES.value and row.answer != Rsvp.YES.value:
        moved = await move_up(session, item, zone, now)
    position = await waitlist_position(session, row) if row.answer == Rsvp.WAITLIST.value else 0
    return RsvpOutcome(row.answer, position, moved)


async def move_up(session: AsyncSession, item: DiscussionSession, zone: str, now: datetime) -> int:
    """Fill free spots from the waitlist, first come first; each is told at once, with the
    place and her calendar file, through the outbox (written now, sent after the commit)."""
    free = item.capacity - await _count(session, item.id, Rsvp.YES.value)
    if free <= 0:
        return 0
    waiting = (
        await session.scalars(
            select(SessionRsvp)
            .where(SessionRsvp.session_id == item.id, SessionRsvp.answer == Rsvp.WAITLIST.value)
            .order_by(SessionRsvp.since, SessionRsvp.id)
            .limit(free)
        )
    ).all()
    for row in waiting:
        row.answer, row.since = Rsvp.YES.value, now
        language = await member_language(session, row.member_id)
        text, buttons = texts.moved_up(item, zone, language)
        session.add(
            OutboxMessage(
                member_id=row.member_id,
                platform=row.platform,
                text=text,
                buttons=[{"title": t, "payload": p} for t, p in buttons],
                attachment=calendar_file(item, language, now).as_row(),
            )
        )
    return len(waiting)


async def counts(session: AsyncSession, session_id: int) -> dict[str, int]:
    """How many said each answer (never who)."""
    out = {answer.value: 0 for answer in Rsvp}
    rows = await session.execute(
        select(SessionRsvp.answer, func.count())
        .where(SessionRsvp.session_id == session_id)
        .group_by(SessionRsvp.answer)
    )
    out.update({str(answer): int(n) for answer, n in rows.all()})
    return out


async def free_her_spots(session: AsyncSession, member_id: int, zone: str, now: datetime) -> int:
    """Before her data is deleted: each spot she holds in a session still ahead goes to the
    first on its waitlist (her row is removed here; the rest goes with her member row)."""
    held = (
        await session.execute(
            select(SessionRsvp, DiscussionSession)
            .join(DiscussionSession, DiscussionSession.id == SessionRsvp.session_id)
            .where(
                SessionRsvp.member_id == member_id,
                SessionRsvp.answer == Rsvp.YES.value,
                DiscussionSession.status == SessionStatus.ANNOUNCED.value,
                DiscussionSession.starts_at > now,
            )
        )
    ).all()
    moved = 0
    for row, item in held:
        # The same lock as an answer: a spot is never given twice.
        await session.refresh(item, with_for_update=True)
        await session.delete(row)
        await session.flush()
        moved += await move_up(session, item, zone, now)
    return moved
