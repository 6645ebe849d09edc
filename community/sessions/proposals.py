"""Sessions from proposal to announcement. Nothing a proposer writes reaches mothers until a
moderator approved it (possibly reworded for plain language and stigma, with a Spanish
version); a moderator may instead return it with a note, and the proposer may change it and
propose it again. Approving sets it up for the scheduler, which announces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Role, utcnow
from community.sessions.models import DiscussionSession, SessionStatus
from community.staff import StaffIdentity

# Soon enough to be worth announcing, and not so far that plans are guesses.
EARLIEST = timedelta(hours=2)
LATEST = timedelta(days=366)
REVIEWABLE = (SessionStatus.SUBMITTED.value, SessionStatus.APPROVED.value)


class SessionNotFound(LookupError):
    pass


class SessionConflict(ValueError):
    """The session is not in a state that allows this; the message says why."""


@dataclass(frozen=True)
class Proposal:
    """What a proposer fills in; `starts_at` is already a moment (UTC)."""

    topic: str
    details: str
    starts_at: datetime
    minutes: int
    online: bool
    place: str
    capacity: int


def _check_time(starts_at: datetime, now: datetime) -> None:
    if starts_at < now + EARLIEST:
        raise SessionConflict("The session must start at least two hours from now.")
    if starts_at > now + LATEST:
        raise SessionConflict("The session must be within a year from now.")


async def propose(
    session: AsyncSession, proposer: StaffIdentity, proposal: Proposal, now: datetime | None = None
) -> DiscussionSession:
    """A researcher's or moderator's proposal, waiting for a moderator's review."""
    _check_time(proposal.starts_at, now or utcnow())
    item = DiscussionSession(
        proposer_id=proposer.id,
        host_name=proposer.display_name,
        topic=proposal.topic.strip(),
        details=proposal.details.strip(),
        submitted_topic=proposal.topic.strip(),
        starts_at=proposal.starts_at,
        minutes=proposal.minutes,
        online=proposal.online,
        place=proposal.place.strip(),
        capacity=proposal.capacity,
        status=SessionStatus.SUBMITTED.value,
    )
    session.add(item)
    await session.flush()
    return item


async def resubmit(
    session: AsyncSession,
    session_id: int,
    proposer: StaffIdentity,
    proposal: Proposal,
    now: datetime | None = None,
) -> DiscussionSession:
    """A returned (or still waiting) proposal, changed by its proposer: back to review."""
    item = await get_session(session, session_id, proposer)
    if item.status not in (SessionStatus.RETURNED.value, SessionStatus.SUBMITTED.value):
        raise SessionConflict(f"This session is {item.status}; it can no longer be changed.")
    _check_time(proposal.starts_at, now or utcnow())
    item.topic = item.submitted_topic = proposal.topic.strip()
    item.details = proposal.details.strip()
    item.starts_at, item.minutes, item.online = (
        proposal.starts_at,
        proposal.minutes,
        proposal.online,
    )
    item.place, item.capacity = proposal.place.strip(), proposal.capacity
    item.topic_es = item.details_es = None
    item.status = SessionStatus.SUBMITTED.value
    return item


async def get_session(
    session: AsyncSession, session_id: int, viewer: StaffIdentity | None = None
) -> DiscussionSession:
    """The session; a researcher sees only those she proposed (others' are not found)."""
    item = await session.get(DiscussionSession, session_id)
    if item is None or (
        viewer is not None
        and viewer.role == Role.RESEARCHER.value
        and item.proposer_id != viewer.id
    ):
        raise SessionNotFound(session_id)
    return item


async def list_sessions(
    session: AsyncSession, viewer: StaffIdentity, status: str | None = None
) -> list[DiscussionSession]:
    """A researcher's own sessions; every session for a moderator."""
    query = select(DiscussionSession).order_by(DiscussionSession.starts_at, DiscussionSession.id)
    if viewer.role == Role.RESEARCHER.value:
        query = query.where(DiscussionSession.proposer_id == viewer.id)
    if status is not None:
        query = query.where(DiscussionSession.status == status)
    return list((await session.scalars(query)).all())


async def approve(
    session: AsyncSession,
    session_id: int,
    moderator: str,
    topic: str | None = None,
    details: str | None = None,
    topic_es: str | None = None,
    details_es: str | None = None,
    now: datetime | None = None,
) -> DiscussionSession:
    """Approve, optionally reworded and with a Spanish version; the scheduler announces it."""
    item = await get_session(session, session_id)
    if item.status not in REVIEWABLE:
        raise SessionConflict(f"This session is {item.status}; only a proposed one is approved.")
    if item.starts_at <= (now or utcnow()):
        raise SessionConflict("This session's time has passed; ask for a new date.")
    if topic is not None and topic.strip():
        item.topic = topic.strip()
    if details is not None and details.strip():
        item.details = details.strip()
    if topic_es is not None:
        item.topic_es = topic_es.strip() or None
        spanish_details = (details_es or "").strip() or None
        item.details_es = spanish_details if item.topic_es else None
    if item.topic_es and item.details and not item.details_es:
        raise SessionConflict("The Spanish version needs the details in Spanish too.")
    item.status = SessionStatus.APPROVED.value
    item.reviewed_by, item.reviewed_at, item.review_note = moderator, utcnow(), None
    return item


async def return_to_proposer(
    session: AsyncSession, session_id: int, moderator: str, note: str
) -> DiscussionSession:
    """Give it back with a note (what to change); nothing reaches mothers."""
    item = await get_session(session, session_id)
    if item.status not in REVIEWABLE:
        raise SessionConflict(f"This session is {item.status}; it can no longer be returned.")
    item.status = SessionStatus.RETURNED.value
    item.reviewed_by, item.reviewed_at, item.review_note = moderator, utcnow(), note.strip()
    return item
