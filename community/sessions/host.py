"""What the host (and moderators) see of a session: how many answered each way, the questions
sent ahead, and the feedback. Never who: nothing here carries a member id or a pseudonym, and
each question and comment carries only its date."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.sessions.models import (
    SessionFeedback,
    SessionInvitation,
    SessionQuestion,
    SessionReminder,
)
from community.sessions.rsvp import counts as rsvp_counts

__all__ = ["HostView", "Said", "host_view", "rsvp_counts"]
from community.sessions.voice import WORTH


@dataclass(frozen=True)
class Said:
    text: str
    date: str  # the day only


@dataclass(frozen=True)
class HostView:
    rsvps: dict[str, int]
    invited: int  # mothers the announcement was sent to
    questions: list[Said] = field(default_factory=list)
    worth: dict[str, int] = field(default_factory=dict)
    better: list[Said] = field(default_factory=list)
    reminders_sent: dict[str, int] = field(default_factory=dict)


async def host_view(session: AsyncSession, session_id: int) -> HostView:
    invited = await session.scalar(
        select(func.count()).where(
            SessionInvitation.session_id == session_id, SessionInvitation.state == "queued"
        )
    )
    questions = (
        await session.execute(
            select(SessionQuestion.text, SessionQuestion.created_at)
            .where(SessionQuestion.session_id == session_id)
            .order_by(SessionQuestion.id)
        )
    ).all()
    feedback = (
        await session.execute(
            select(SessionFeedback.worth, SessionFeedback.better, SessionFeedback.created_at)
            .where(SessionFeedback.session_id == session_id)
            .order_by(SessionFeedback.id)
        )
    ).all()
    worth = dict.fromkeys(WORTH, 0)
    for answer, _, _ in feedback:
        worth[answer] = worth.get(answer, 0) + 1
    reminders = (
        await session.execute(
            select(SessionReminder.kind, SessionReminder.sent_to).where(
                SessionReminder.session_id == session_id, SessionReminder.sent_at.is_not(None)
            )
        )
    ).all()
    return HostView(
        rsvps=await rsvp_counts(session, session_id),
        invited=int(invited or 0),
        questions=[Said(text, at.date().isoformat()) for text, at in questions],
        worth=worth,
        better=[Said(text, at.date().isoformat()) for _, text, at in feedback if text],
        reminders_sent={kind: int(n) for kind, n in reminders},
    )
