"""Discussion sessions in the HTTP API (`community/sessions/`): a researcher or moderator
proposes a session, moderators review it (approve, optionally reworded and with a Spanish
version, or return it with a note), the host follows it. The host's view has counts, the
questions sent ahead and the feedback, never who: no response here carries a member id or a
pseudonym. The place or link is shown to the proposer and moderators; mothers get it only
with a yes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.web.auth import RecordId, Session, require_role
from community.her_time import say_moment
from community.models import Role, Staff
from community.scheduling import run_sessions_now
from community.sessions import announce, host, proposals
from community.sessions.models import DiscussionSession, SessionStatus
from community.staff import StaffIdentity

Proposer = Annotated[
    StaffIdentity, Depends(require_role(Role.MODERATOR.value, Role.RESEARCHER.value))
]
Reviewer = Annotated[StaffIdentity, Depends(require_role(Role.MODERATOR.value))]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=300)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class SessionIn(BaseModel):
    topic: Topic = Field(description="What it is about, in plain words.")
    details: Annotated[str, Field(max_length=2000)] = Field(
        default="", description="A few plain lines: who hosts, what to expect, who it is for."
    )
    starts_at: datetime = Field(
        description="When it starts. Without an offset it is read in the community's time zone "
        "(PEERBOT_RESEARCH_TIMEZONE), e.g. 2026-12-15T18:00; at least two hours ahead."
    )
    minutes: Annotated[int, Field(ge=15, le=480)] = Field(default=60, description="How long.")
    online: bool = Field(default=True, description="true: `place` is a link; false: an address.")
    place: Place = Field(
        description="The link or the address. Sent only to mothers who said yes (and in their "
        "calendar file); never in the announcement or the community channels."
    )
    capacity: Annotated[int, Field(ge=1, le=1000)] = Field(
        description="How many can come; a yes beyond it joins the waitlist."
    )


class ApproveIn(BaseModel):
    topic: Annotated[str | None, Field(max_length=300)] = Field(
        default=None, description="The topic, reworded (plain language, stigma); default unchanged."
    )
    details: Annotated[str | None, Field(max_length=2000)] = None
    topic_es: Annotated[str | None, Field(max_length=300)] = Field(
        default=None, description='The topic in Spanish; "" removes it; default unchanged.'
    )
    details_es: Annotated[str | None, Field(max_length=2000)] = Field(
        default=None,
        description="The details in Spanish (needed with topic_es if there are details).",
    )


class ReturnIn(BaseModel):
    note: Note = Field(description="What to change, for the proposer.")


class RsvpCountsOut(BaseModel):
    yes: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0


class SessionOut(BaseModel):
    id: int
    status: Literal["submitted", "returned", "approved", "announced", "cancelled"]
    topic: str = Field(description="What mothers read (a moderator may have reworded it).")
    submitted_topic: str
    details: str
    topic_es: str | None
    details_es: str | None
    starts_at: datetime = Field(description="In UTC.")
    starts_local: str = Field(description="The same moment said in the community's time zone.")
    timezone: str
    minutes: int
    online: bool
    place: str
    capacity: int
    host: str = Field(description="The proposer's display name, as mothers see it.")
    proposer: str
    reviewed_by: str | None
    review_note: str | None = Field(description="Why a moderator returned it.")
    announced_at: datetime | None
    counts: RsvpCountsOut


class SessionsOut(BaseModel):
    sessions: list[SessionOut]


class SaidOut(BaseModel):
    text: str = Field(description="De-identified; never who wrote it.")
    date: str


class WorthOut(BaseModel):
    yes: int = 0
    some: int = 0
    no: int = 0


class FeedbackOut(BaseModel):
    worth: WorthOut = Field(description="Was it worth your time? How many said each.")
    better: list[SaidOut] = Field(description="What would make the next one better.")


class HostViewOut(BaseModel):
    session: SessionOut
    invited: int = Field(description="Mothers the announcement was sent to privately.")
    questions: list[SaidOut] = Field(description="Questions sent ahead, anonymously.")
    feedback: FeedbackOut
    reminders_sent: dict[str, int] = Field(
        description="How many got each timed message: day_before, hour_before, feedback."
    )


def _zone(request: Request) -> str:
    zone: str = request.app.state.services.settings.research_timezone
    return zone


def _moment(value: datetime, zone: str) -> datetime:
    """A time without an offset is the community's local time; kept in UTC. A moment UTC
    cannot hold (the last hours of year 9999 somewhere west) is refused like any far date."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise HTTPException(409, "The session must be within a year from now.") from None


async def _out(session: AsyncSession, item: DiscussionSession, zone: str) -> SessionOut:
    counts = await host.rsvp_counts(session, item.id)
    proposer = await session.scalar(select(Staff.name).where(Staff.id == item.proposer_id))
    return SessionOut(
        id=item.id,
        status=item.status,
        topic=item.topic,
        submitted_topic=item.submitted_topic,
        details=item.details,
        topic_es=item.topic_es,
        details_es=item.details_es,
        starts_at=item.starts_at.astimezone(UTC),
        starts_local=say_moment(item.starts_at, zone, "en"),
        timezone=zone,
        minutes=item.minutes,
        online=item.online,
        place=item.place,
        capacity=item.capacity,
        host=item.host_name,
        proposer=proposer or "",
        reviewed_by=item.reviewed_by,
        review_note=item.review_note,
        announced_at=item.announced_at,
        counts=RsvpCountsOut(**counts),
    )


def _http(error: Exception) -> HTTPException:
    if isinstance(error, proposals.SessionNotFound):
        return HTTPException(404, "No such session.")
    return HTTPException(409, str(error))


def _proposal(body: SessionIn, zone: str) -> proposals.Proposal:
    return proposals.Proposal(
        topic=body.topic, details=body.details, starts_at=_moment(body.starts_at, zone),
        minutes=body.minutes, online=body.online, place=body.place, capacity=body.capacity,
    )  # fmt: skip


def build_sessions_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/sessions", response_model=SessionOut, status_code=201, tags=["sessions"])
    async def propose(
        body: SessionIn, staff: Proposer, request: Request, session: Session
    ) -> SessionOut:
        """Propose a discussion session; a moderator reviews it before any mother hears of it."""
        zone = _zone(request)
        try:
            item = await proposals.propose(session, staff, _proposal(body, zone))
        except proposals.SessionConflict as error:
            raise _http(error) from None
        return await _out(session, item, zone)

    @router.get("/api/sessions", response_model=SessionsOut, tags=["sessions"])
    async def listed(
        staff: Proposer,
        request: Request,
        session: Session,
        status: Literal["submitted", "returned", "approved", "announced", "cancelled"]
        | None = None,
    ) -> SessionsOut:
        """A researcher's own sessions; every session for a moderator (`status` to filter:
        `submitted` are those waiting for review)."""
        zone = _zone(request)
        items = await proposals.list_sessions(session, staff, status)
        return SessionsOut(sessions=[await _out(session, item, zone) for item in items])

    @router.get("/api/sessions/{session_id}", response_model=HostViewOut, tags=["sessions"])
    async def one(
        session_id: RecordId, staff: Proposer, request: Request, session: Session
    ) -> HostViewOut:
        """The host's view: counts, questions sent ahead and feedback; never who."""
        zone = _zone(request)
        try:
            item = await proposals.get_session(session, session_id, staff)
        except proposals.SessionNotFound as error:
            raise _http(error) from None
        view = await host.host_view(session, item.id)
        return HostViewOut(
            session=await _out(session, item, zone),
            invited=view.invited,
            questions=[SaidOut(text=q.text, date=q.date) for q in view.questions],
            feedback=FeedbackOut(
                worth=WorthOut(**view.worth),
                better=[SaidOut(text=b.text, date=b.date) for b in view.better],
            ),
            reminders_sent=view.reminders_sent,
        )

    @router.put("/api/sessions/{session_id}", response_model=SessionOut, tags=["sessions"])
    async def change(
        session_id: RecordId, body: SessionIn, staff: Proposer, request: Request, session: Session
    ) -> SessionOut:
        """Change a proposal that was returned (or is still waiting): back to review."""
        zone = _zone(request)
        try:
            item = await proposals.resubmit(session, session_id, staff, _proposal(body, zone))
        except (proposals.SessionNotFound, proposals.SessionConflict) as error:
            raise _http(error) from None
        return await _out(session, item, zone)

    @router.post("/api/sessions/{session_id}/cancel", response_model=SessionOut, tags=["sessions"])
    async def cancel(
        session_id: RecordId, staff: Proposer, request: Request, session: Session
    ) -> SessionOut:
        """Cancel it; mothers who said yes or maybe, or wait, are told."""
        zone = _zone(request)
        try:
            item = await proposals.get_session(session, session_id, staff)
        except proposals.SessionNotFound as error:
            raise _http(error) from None
        if item.status == SessionStatus.CANCELLED.value:
            raise HTTPException(409, "This session is already cancelled.")
        await announce.cancel(session, item.id, zone)
        return await _out(session, item, zone)

    @router.post(
        "/api/review/sessions/{session_id}/approve", response_model=SessionOut, tags=["review"]
    )
    async def approve(
        session_id: RecordId,
        body: ApproveIn,
        staff: Reviewer,
        request: Request,
        session: Session,
        tasks: BackgroundTasks,
    ) -> SessionOut:
        """Approve, optionally reworded and with a Spanish version; it is announced at once to
        mothers who opted in to sessions and in the community channels."""
        zone = _zone(request)
        try:
            item = await proposals.approve(
                session, session_id, staff.name, body.topic, body.details, body.topic_es,
                body.details_es,
            )  # fmt: skip
        except (proposals.SessionNotFound, proposals.SessionConflict) as error:
            raise _http(error) from None
        # After the response: the transaction has committed by then, so the run sees it.
        tasks.add_task(run_sessions_now, getattr(request.app.state, "scheduler", None))
        return await _out(session, item, zone)

    @router.post(
        "/api/review/sessions/{session_id}/return", response_model=SessionOut, tags=["review"]
    )
    async def give_back(
        session_id: RecordId, body: ReturnIn, staff: Reviewer, request: Request, session: Session
    ) -> SessionOut:
        """Return it to the proposer with a note (what to change)."""
        try:
            item = await proposals.return_to_proposer(session, session_id, staff.name, body.note)
        except (proposals.SessionNotFound, proposals.SessionConflict) as error:
            raise _http(error) from None
        return await _out(session, item, _zone(request))

    return router
