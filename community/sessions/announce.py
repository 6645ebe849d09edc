"""Announcing a session and its timed messages, run by the scheduler (every step one
transaction, safe to repeat, all state in tables, so a restart loses nothing):

1. `announce_due`: an approved session gets one invitation row per mother who opted in to
   sessions (one INSERT ... SELECT; the unique pair makes a repeat add nobody), a post per
   community channel, and its three timed rows (the day before, the hour before, the feedback
   after), then is marked announced.
2. `queue_invitations`: due invitations move into the outbox (bulk: after everything else, at
   most once), outside the community's quiet hours, as research messages do.
3. `send_due_reminders`: each timed row that is due writes one message per mother who said yes
   (with the place) or maybe (without it; feedback only to yes), and is marked sent in the
   same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import insert_ignoring_conflicts
from community.members import member_language, reach_of
from community.models import OutboxMessage, UTCDateTime
from community.research.models import ResearchPreference
from community.research.publication import quiet_now
from community.research.texts import outbox_message
from community.sessions import texts
from community.sessions.models import (
    DiscussionSession,
    ReminderKind,
    Rsvp,
    SessionInvitation,
    SessionPost,
    SessionReminder,
    SessionRsvp,
    SessionStatus,
)
from community.settings import Settings

BATCH = 500
PENDING, QUEUED, SKIPPED = "pending", "queued", "skipped"
DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
# After the session ends: time to get home before two questions about it.
FEEDBACK_AFTER = timedelta(hours=1)


def reminder_times(item: DiscussionSession) -> dict[str, datetime]:
    ends = item.starts_at + timedelta(minutes=item.minutes)
    return {
        ReminderKind.DAY_BEFORE.value: item.starts_at - DAY_BEFORE,
        ReminderKind.HOUR_BEFORE.value: item.starts_at - HOUR_BEFORE,
        ReminderKind.FEEDBACK.value: ends + FEEDBACK_AFTER,
    }


async def announce_due(session: AsyncSession, homes: tuple[str, ...], now: datetime) -> list[int]:
    """Announce every approved session still ahead; return their ids."""
    due = (
        await session.scalars(
            select(DiscussionSession)
            .where(
                DiscussionSession.status == SessionStatus.APPROVED.value,
                DiscussionSession.starts_at > now,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    for item in due:
        recipients = select(
            literal(item.id),
            ResearchPreference.member_id,
            ResearchPreference.platform,
            literal(PENDING),
            literal(now, UTCDateTime()),
        ).where(ResearchPreference.sessions.is_(True))
        await session.execute(
            insert_ignoring_conflicts(session, SessionInvitation)
            .from_select(["session_id", "member_id", "platform", "state", "not_before"], recipients)
            .on_conflict_do_nothing(index_elements=["session_id", "member_id"])
        )
        for home in homes:
            await session.execute(
                insert_ignoring_conflicts(session, SessionPost)
                .values(session_id=item.id, home=home, attempts=0)
                .on_conflict_do_nothing(index_elements=["session_id", "home"])
            )
        for kind, due_at in reminder_times(item).items():
            await session.execute(
                insert_ignoring_conflicts(session, SessionReminder)
                .values(session_id=item.id, kind=kind, due_at=due_at, sent_to=0)
                .on_conflict_do_nothing(index_elements=["session_id", "kind"])
            )
        item.status = SessionStatus.ANNOUNCED.value
        item.announced_at = now
    return [item.id for item in due]


async def queue_invitations(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Move up to one batch of due invitations into the outbox; how many were looked at."""
    if quiet_now(settings, now):
        return 0
    rows = (
        await session.execute(
            select(SessionInvitation, DiscussionSession, ResearchPreference)
            .join(DiscussionSession, DiscussionSession.id == SessionInvitation.session_id)
            .outerjoin(
                ResearchPreference, ResearchPreference.member_id == SessionInvitation.member_id
            )
            .where(SessionInvitation.state == PENDING, SessionInvitation.not_before <= now)
            .order_by(SessionInvitation.id)
            .limit(BATCH)
            .with_for_update(of=SessionInvitation, skip_locked=True)
        )
    ).all()
    if not rows:
        return 0
    members = {invitation.member_id for invitation, _, _ in rows}
    reachable, languages = await reach_of(session, members)
    for invitation, item, pref in rows:
        if (
            pref is None
            or not pref.sessions
            or item.status != SessionStatus.ANNOUNCED.value
            or item.starts_at <= now
            or (invitation.member_id, invitation.platform) not in reachable
        ):
            invitation.state = SKIPPED
            continue
        text, buttons = texts.announcement(
            item, settings.research_timezone, languages.get(invitation.member_id)
        )
        session.add(
            outbox_message(invitation.member_id, invitation.platform, text, buttons, bulk=True)
        )
        invitation.state, invitation.queued_at = QUEUED, now
    return len(rows)


async def was_invited(
    session: AsyncSession, session_id: int, member_id: int, platform: str
) -> bool:
    """Only a mother a session reached may answer it: it was sent to her, or posted in the
    community channel of the platform she writes from (anyone could type /session_yes_N)."""
    sent = await session.scalar(
        select(SessionInvitation.id).where(
            SessionInvitation.session_id == session_id,
            SessionInvitation.member_id == member_id,
            SessionInvitation.state == QUEUED,
        )
    )
    if sent is not None:
        return True
    posted = await session.scalar(
        select(SessionPost.session_id).where(
            SessionPost.session_id == session_id,
            SessionPost.home == platform,
            SessionPost.posted_at.is_not(None),
        )
    )
    return posted is not None


def _still_useful(reminder: SessionReminder, item: DiscussionSession, now: datetime) -> bool:
    """A reminder found late (the app was down) still goes if it still helps: the day-before
    one until the hour-before one is due, the hour-before one until the start."""
    if item.status != SessionStatus.ANNOUNCED.value:
        return False
    if reminder.kind == ReminderKind.DAY_BEFORE.value:
        return now < item.starts_at - HOUR_BEFORE
    if reminder.kind == ReminderKind.HOUR_BEFORE.value:
        return now < item.starts_at
    return True


async def send_due_reminders(session: AsyncSession, zone: str, now: datetime) -> int:
    """Write the due reminders and feedback requests to the outbox; return how many messages."""
    due = (
        await session.execute(
            select(SessionReminder, DiscussionSession)
            .join(DiscussionSession, DiscussionSession.id == SessionReminder.session_id)
            .where(SessionReminder.sent_at.is_(None), SessionReminder.due_at <= now)
            .order_by(SessionReminder.due_at)
            .limit(100)
            .with_for_update(of=SessionReminder, skip_locked=True)
        )
    ).all()
    written = 0
    for reminder, item in due:
        reminder.sent_at = now
        if not _still_useful(reminder, item, now):
            continue
        feedback = reminder.kind == ReminderKind.FEEDBACK.value
        answers = (Rsvp.YES.value,) if feedback else (Rsvp.YES.value, Rsvp.MAYBE.value)
        rsvps = (
            await session.scalars(
                select(SessionRsvp)
                .where(SessionRsvp.session_id == item.id, SessionRsvp.answer.in_(answers))
                .order_by(SessionRsvp.id)
            )
        ).all()
        for rsvp in rsvps:
            language = await member_language(session, rsvp.member_id)
            if feedback:
                text, buttons = texts.feedback_worth(item, language)
            else:
                yes = rsvp.answer == Rsvp.YES.value
                text, buttons = texts.reminder(item, reminder.kind, yes, zone, language)
            session.add(outbox_message(rsvp.member_id, rsvp.platform, text, buttons, bulk=True))
        reminder.sent_to = len(rsvps)
        written += len(rsvps)
    return written


async def cancel(session: AsyncSession, session_id: int, zone: str) -> DiscussionSession | None:
    """Cancel a session: those who said yes or maybe, or wait, are told (written to the
    outbox); nothing more is sent for it. None when there is no such session."""
    item = await session.get(DiscussionSession, session_id, with_for_update=True)
    if item is None:
        return None
    was_announced = item.status == SessionStatus.ANNOUNCED.value
    item.status = SessionStatus.CANCELLED.value
    if not was_announced:
        return item
    told = (
        await session.scalars(
            select(SessionRsvp).where(
                SessionRsvp.session_id == item.id,
                SessionRsvp.answer.in_((Rsvp.YES.value, Rsvp.MAYBE.value, Rsvp.WAITLIST.value)),
            )
        )
    ).all()
    for rsvp in told:
        language = await member_language(session, rsvp.member_id)
        session.add(
            OutboxMessage(
                member_id=rsvp.member_id,
                platform=rsvp.platform,
                text=texts.cancelled(item, zone, language),
            )
        )
    return item
