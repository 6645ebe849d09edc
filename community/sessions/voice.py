"""What she says to the host without being named: a question sent ahead, and her two answers
after the session. Both are de-identified before they are stored; the host reads them without
any link to her (`community/sessions/host.py`). Her member id stays on the row only so that
she sees them in her data and they go when she deletes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import utcnow
from community.research.deidentify import deidentify
from community.sessions.models import (
    DiscussionSession,
    Rsvp,
    SessionFeedback,
    SessionQuestion,
    SessionStatus,
)
from community.sessions.rsvp import rsvp_of

MAX_CHARS = 1000
WORTH = ("yes", "some", "no")


def asking_open(item: DiscussionSession | None, now: datetime) -> bool:
    """Questions ahead are taken until the session starts."""
    return (
        item is not None and item.status == SessionStatus.ANNOUNCED.value and item.starts_at > now
    )


async def ask_ahead(
    session: AsyncSession, session_id: int, member_id: int, text: str
) -> SessionQuestion:
    row = SessionQuestion(
        session_id=session_id, member_id=member_id, text=deidentify(text.strip()[:MAX_CHARS])
    )
    session.add(row)
    await session.flush()
    return row


async def may_give_feedback(
    session: AsyncSession, item: DiscussionSession | None, member_id: int, now: datetime
) -> bool:
    """Feedback is asked of those who said yes, once the session has started."""
    if item is None or item.status != SessionStatus.ANNOUNCED.value or item.starts_at > now:
        return False
    row = await rsvp_of(session, item.id, member_id)
    return row is not None and row.answer == Rsvp.YES.value


async def record_worth(
    session: AsyncSession, session_id: int, member_id: int, worth: str
) -> SessionFeedback:
    """Her first answer (yes, some, no); answering again replaces it."""
    if worth not in WORTH:
        raise ValueError(f"unknown feedback answer: {worth}")
    row = await _feedback_of(session, session_id, member_id)
    if row is None:
        row = SessionFeedback(session_id=session_id, member_id=member_id, worth=worth)
        session.add(row)
    row.worth, row.created_at = worth, utcnow()
    await session.flush()
    return row


async def record_better(session: AsyncSession, session_id: int, member_id: int, text: str) -> bool:
    """Her second answer, in her words (de-identified); False without a first answer."""
    row = await _feedback_of(session, session_id, member_id)
    if row is None:
        return False
    row.better = deidentify(text.strip()[:MAX_CHARS]) or None
    return True


async def _feedback_of(
    session: AsyncSession, session_id: int, member_id: int
) -> SessionFeedback | None:
    return await session.scalar(
        select(SessionFeedback).where(
            SessionFeedback.session_id == session_id, SessionFeedback.member_id == member_id
        )
    )
