"""The moderators' HTTP API and console page: the web moderation home on the handoff service.

Every route needs `Authorization: Bearer <token>` of a moderator (401 without a valid token,
403 with another role's). Actions are calls on `community.cases.handoff.ModeratorActions`, the
same ones the Telegram and Discord homes use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bots.web.auth import RecordId, Session, bearer, database_of, require_role
from bots.web.conduct import BlockIn
from bots.web.shifts import LoadOut
from community.cases.handoff import (
    CaseConflict,
    CaseNotFound,
    CaseSummary,
    ModeratorActions,
    Turn,
    handoff_stats,
)
from community.cases.same_person import same_person_counts
from community.cases.shifts import moderator_load, on_shift
from community.checkins import checkin_counts
from community.followups import follow_up_counts, schedule_by_moderator
from community.models import OPEN_CASE_STATUSES, Case, Notification, StaffNotice, utcnow
from community.reminders import reminder_counts
from community.safety_checks import check_counts
from community.safety_plan import PlanLocked, PlanNotShared, item_line, shared_plan, steps
from community.staff import StaffIdentity, authenticate
from safety.snippets import load_snippets

Moderator = Annotated[StaffIdentity, Depends(require_role("moderator"))]


class PlanStepOut(BaseModel):
    step: str = Field(
        description="warning_signs, coping, distractions, people, professionals or safer"
    )
    words: str = Field(description="what she wrote, as she wrote it (may be empty)")
    services: list[str] = Field(description="services from the directory she chose")


class SafetyPlanOut(BaseModel):
    steps: list[PlanStepOut]


class TurnOut(BaseModel):
    author: str = Field(description="member, moderator or bot")
    author_name: str | None
    text: str
    at: datetime

    @classmethod
    def of(cls, turn: Turn) -> TurnOut:
        return cls(author=turn.author, author_name=turn.author_name, text=turn.text, at=turn.at)


class CaseOut(BaseModel):
    id: int
    status: str
    severity: str
    category: str
    platform: str
    member: str = Field(description="A pseudonymous short name; never a platform id.")
    opened_at: datetime
    waited_seconds: float
    claimed_by: str | None = Field(description="The claimer's staff account (not for display).")
    claimed_by_name: str | None = Field(
        default=None,
        description="The claimer's display name, for showing; null when unknown (show "
        '"a moderator"). Never a platform id.',
    )
    trigger: str = Field(description="The message that opened the case.")
    recent: list[TurnOut]
    reannouncements: int
    language: str | None = Field(
        default=None,
        description='The language she is answered in ("en" or "es"; null until known). The '
        'console says "Writes in Spanish" for "es", and asks for a reply in Spanish.',
    )
    follow_up_by_default: bool = Field(
        default=False,
        description="Whether resolving offers her a check-in when `follow_up` is unset (a case "
        "the crisis screen opened). The console's resolve form starts from it.",
    )
    asked_for_name: str | None = Field(
        default=None,
        description="She asked for the person she talked with before (/same): their display "
        "name; null otherwise.",
    )
    asked_for_until: datetime | None = Field(
        default=None,
        description="Until when only that person may claim the case (null: they were not "
        "around, anyone may); a crisis is open to everyone at once.",
    )

    @classmethod
    def of(cls, case: CaseSummary) -> CaseOut:
        data: dict[str, Any] = {**case.__dict__, "recent": [TurnOut.of(t) for t in case.recent]}
        return cls(**data)


class CasesOut(BaseModel):
    cases: list[CaseOut]


class NoticeOut(BaseModel):
    kind: str
    text: str
    at: datetime


class NoticesOut(BaseModel):
    notices: list[NoticeOut]


class NoteOut(BaseModel):
    author: str
    text: str
    at: datetime


class CaseDetailOut(BaseModel):
    case: CaseOut
    notes: list[NoteOut]


class TextIn(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ResolveIn(BaseModel):
    outcome: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    return_to_bot: bool = Field(
        default=True, description="Hand the conversation back to the bot (the usual ending)."
    )
    follow_up: bool | None = Field(
        default=None,
        description="Offer her a check-in (she is asked first: tomorrow, another time, or no). "
        "Unset: offered for a case the crisis screen opened, not for a request for a person.",
    )


class FollowUpIn(BaseModel):
    after_minutes: Annotated[float, Field(gt=0, le=60 * 24 * 60)] = Field(
        description="When to check on her, from now (e.g. 4320 for 3 days). She is not asked "
        "first: schedule this when you agreed it with her."
    )


class FollowUpOut(BaseModel):
    id: int
    due_at: datetime


class TransferIn(BaseModel):
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class MessagesOut(BaseModel):
    messages: list[TurnOut]


class OkOut(BaseModel):
    ok: bool = True


class SnippetOut(BaseModel):
    id: str
    title: str
    text: str


class StatsOut(BaseModel):
    cases: int
    claimed: int
    waiting_now: int
    median_seconds_to_claim: float | None
    p90_seconds_to_claim: float | None
    median_seconds_to_first_reply: float | None
    checks: dict[str, int] = Field(
        default_factory=dict,
        description="How the screen's 'are you safe?' checks ended: asked (waiting), safe, "
        "help, person, expired (no answer: a case opened), replaced.",
    )
    follow_ups: dict[str, int] = Field(
        default_factory=dict,
        description="Check-ins after cases: offered_total (asked of her), and now offered "
        "(no answer yet), scheduled, declined, sent, answered, unanswered (no answer after the "
        "second try); answered_better, answered_not_great, answered_need_now (a case opened).",
    )
    checkins: dict[str, int] = Field(
        default_factory=dict,
        description="Check-ins she chose (/checkins): schedules_active, schedules_paused, "
        "schedules_stopped, schedules_ended; check-ins sent (no answer yet), answered, "
        "unanswered (no answer before the next job run after the retry time); "
        "answered_better, answered_not_great, answered_need_now (a case opened).",
    )
    reminders: dict[str, int] = Field(
        default_factory=dict,
        description="Her own reminders: pending, and sent or cancelled in the last week "
        "(never their words).",
    )
    same_person: dict[str, int] = Field(
        default_factory=dict,
        description="Cases where she asked for the person she talked with before: asked, "
        "offered_first (that person was around), to_everyone (they were not).",
    )
    on_shift: list[str] = Field(
        default_factory=list, description="Display names of the moderators on shift now."
    )
    moderators: list[LoadOut] = Field(
        default_factory=list,
        description="Each moderator's load: open cases now, cases claimed today and this week "
        "(the community's time zone); everyone on shift, holding a case or with a claim this "
        "week, heaviest week first. Display names only.",
    )


@cache
def snippets_out() -> tuple[SnippetOut, ...]:
    return tuple(SnippetOut(id=s.id, title=s.title, text=s.text) for s in load_snippets())


async def _case_out(actions: ModeratorActions, case_id: int) -> CaseOut:
    case = await actions._case(case_id)
    return CaseOut.of(await actions.summary(case))


def _conflict(error: Exception) -> HTTPException:
    if isinstance(error, CaseNotFound):
        return HTTPException(404, "No such case.")
    return HTTPException(409, str(error))


# The queue stream: how often the database is looked at, how often a silent stream says it is
# still there, how often the token is checked again, and how long one stream lasts at most (the
# console reconnects at once).
STREAM_CHECK_SECONDS = 0.5
STREAM_KEEPALIVE_SECONDS = 15.0
STREAM_REAUTH_SECONDS = 5.0
STREAM_MAX_SECONDS = 300


async def _queue_signature(session: AsyncSession) -> tuple[Any, ...]:
    """One small query that changes whenever the queue a moderator sees changes (a case
    opened, raised, re-announced, claimed, released, transferred or closed)."""
    row = (
        await session.execute(
            select(
                func.count(Case.id),
                func.max(Case.id),
                func.sum(Case.severity_rank),
                func.sum(Case.reannouncements),
                func.count(Case.claimed_by),
                func.max(Case.claimed_at),
                func.max(Case.announced_at),
                func.sum(func.length(func.coalesce(Case.claimed_by, ""))),
            ).where(Case.status.in_([s.value for s in OPEN_CASE_STATUSES]))
        )
    ).one()
    return tuple(row)


async def _queue_out(session: AsyncSession, include_closed: bool = False) -> CasesOut:
    queue = await ModeratorActions(session).queue(include_closed)
    # For the web home, a notification is delivered once a moderator's queue shows it.
    await session.execute(
        update(Notification)
        .where(Notification.home == "web", Notification.delivered_at.is_(None))
        .values(delivered_at=utcnow(), attempts=Notification.attempts + 1)
    )
    return CasesOut(cases=[CaseOut.of(c) for c in queue])


def build_router() -> APIRouter:
    router = APIRouter()
    static = resources.files("bots.web") / "static"

    @router.get("/moderate", response_class=HTMLResponse, include_in_schema=False)
    async def console() -> HTMLResponse:
        return HTMLResponse((static / "moderate.html").read_text(encoding="utf-8"))

    @router.get("/api/cases", response_model=CasesOut, tags=["moderation"])
    async def list_cases(_: Moderator, session: Session, include_closed: bool = False) -> CasesOut:
        """The queue: open cases, waiting before claimed, then most urgent, then longest
        waiting."""
        return await _queue_out(session, include_closed)

    # Left out of the OpenAPI document: a stream that lasts minutes is no request for the API
    # fuzzer (tests/bots/test_api_fuzz.py); the README documents it.
    @router.get("/api/cases/stream", include_in_schema=False)
    async def stream_queue(
        _: Moderator,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        seconds: Annotated[int, Query(ge=1, le=STREAM_MAX_SECONDS)] = STREAM_MAX_SECONDS,
    ) -> StreamingResponse:
        """The queue pushed as server-sent events: `event: queue` with the same body as
        `GET /api/cases`, at once and whenever the queue changes (looked at every half
        second); a comment every 15 s otherwise. Ends after `seconds` (at most 300), when the
        token stops being valid, or when the client goes; the console then reconnects."""
        database = database_of(request)
        token = credentials.credentials if credentials else ""

        async def events() -> AsyncIterator[str]:
            started = last_sent = last_auth = time.monotonic()
            shown: tuple[Any, ...] | None = None
            while time.monotonic() - started < seconds:
                now = time.monotonic()
                if now - last_auth >= STREAM_REAUTH_SECONDS:
                    last_auth = now
                    async with database.sessions() as session:
                        staff = await authenticate(session, token)
                    if staff is None or staff.role != "moderator":
                        return
                async with database.sessions() as session:
                    signature = await _queue_signature(session)
                if signature != shown:
                    async with database.transaction() as session:
                        body = await _queue_out(session)
                    shown, last_sent = signature, time.monotonic()
                    yield f"event: queue\ndata: {body.model_dump_json()}\n\n"
                elif now - last_sent >= STREAM_KEEPALIVE_SECONDS:
                    last_sent = now
                    yield ": still here\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(STREAM_CHECK_SECONDS)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.get("/api/cases/{case_id}", response_model=CaseDetailOut, tags=["moderation"])
    async def get_case(case_id: RecordId, _: Moderator, session: Session) -> CaseDetailOut:
        actions = ModeratorActions(session)
        try:
            case = await _case_out(actions, case_id)
        except CaseNotFound as error:
            raise _conflict(error) from None
        notes = [
            NoteOut(author=n.author, text=n.text, at=n.created_at)
            for n in await actions.notes(case_id)
        ]
        return CaseDetailOut(case=case, notes=notes)

    @router.post(
        "/api/cases/{case_id}/claim",
        response_model=CaseOut,
        tags=["moderation"],
        responses={
            409: {
                "description": "Someone else claimed it first, or you hold the most open cases "
                "one moderator may (the message names who else is on shift)"
            }
        },
    )
    async def claim(
        case_id: RecordId, staff: Moderator, session: Session, request: Request
    ) -> CaseOut:
        """Exactly one moderator wins; a claim over PEERBOT_MAX_OPEN_CASES_PER_MODERATOR is
        refused (409) kindly, naming who else is on shift."""
        actions = ModeratorActions(session)
        cap = request.app.state.services.settings.max_open_cases_per_moderator
        try:
            await actions.claim(case_id, staff.name, display_name=staff.display_name, max_open=cap)
            return await _case_out(actions, case_id)
        except (CaseNotFound, CaseConflict) as error:
            raise _conflict(error) from None

    @router.post("/api/cases/{case_id}/release", response_model=OkOut, tags=["moderation"])
    async def release(case_id: RecordId, staff: Moderator, session: Session) -> OkOut:
        try:
            await ModeratorActions(session).release(case_id, staff.name)
        except (CaseNotFound, CaseConflict) as error:
            raise _conflict(error) from None
        return OkOut()

    @router.post("/api/cases/{case_id}/transfer", response_model=OkOut, tags=["moderation"])
    async def transfer(
        case_id: RecordId, body: TransferIn, staff: Moderator, session: Session
    ) -> OkOut:
        try:
            await ModeratorActions(session).transfer(case_id, staff.name, body.to)
        except (CaseNotFound, CaseConflict) as error:
            raise _conflict(error) from None
        return OkOut()

    @router.post("/api/cases/{case_id}/messages", response_model=OkOut, tags=["moderation"])
    async def reply(case_id: RecordId, body: TextIn, staff: Moderator, session: Session) -> OkOut:
        """Relay a reply to the member, shown under the moderator's display name."""
        try:
            await ModeratorActions(session).reply(
                case_id, staff.name, staff.display_name, body.text
            )
        except (CaseNotFound, CaseConflict) as error:
            raise _conflict(error) from None
        return OkOut()

    @router.get("/api/cases/{case_id}/messages", response_model=MessagesOut, tags=["moderation"])
    async def transcript(case_id: RecordId, _: Moderator, session: Session) -> MessagesOut:
        """The case transcript, the member's messages included."""
        try:
            turns = await ModeratorActions(session).transcript(case_id)
        except CaseNotFound as error:
            raise _conflict(error) from None
        return MessagesOut(messages=[TurnOut.of(t) for t in turns])

    @router.post("/api/cases/{case_id}/notes", response_model=OkOut, tags=["moderation"])
    async def add_note(
        case_id: RecordId, body: TextIn, staff: Moderator, session: Session
    ) -> OkOut:
        try:
            await ModeratorActions(session).add_note(case_id, staff.name, body.text)
        except CaseNotFound as error:
            raise _conflict(error) from None
        return OkOut()

    @router.post("/api/cases/{case_id}/resolve", response_model=OkOut, tags=["moderation"])
    async def resolve(
        case_id: RecordId, body: ResolveIn, staff: Moderator, session: Session
    ) -> OkOut:
        """Close the case; the bot answers again and tells her she can reach a person any time."""
        try:
            await ModeratorActions(session).resolve(
                case_id, staff.name, body.outcome, body.return_to_bot, body.follow_up
            )
        except (CaseNotFound, CaseConflict) as error:
            raise _conflict(error) from None
        return OkOut()

    @router.post("/api/cases/{case_id}/follow_up", response_model=FollowUpOut, tags=["moderation"])
    async def schedule_follow_up(
        case_id: RecordId, body: FollowUpIn, staff: Moderator, session: Session
    ) -> FollowUpOut:
        """ "Check on her in 3 days": a check-in (with her three buttons) at that time."""
        case = await session.get(Case, case_id)
        if case is None:
            raise _conflict(CaseNotFound(case_id))
        follow_up = await schedule_by_moderator(
            session, case, timedelta(minutes=body.after_minutes), staff.name
        )
        assert follow_up.due_at is not None
        return FollowUpOut(id=follow_up.id, due_at=follow_up.due_at)

    @router.get(
        "/api/cases/{case_id}/plan",
        response_model=SafetyPlanOut,
        tags=["moderation"],
        responses={
            404: {"description": "No such case"},
            409: {"description": "She has not shared it for this case, or the case is closed"},
            503: {"description": "Safety plans cannot be opened (PEERBOT_PLAN_KEYS)"},
        },
    )
    async def safety_plan(
        case_id: RecordId, staff: Moderator, session: Session, request: Request
    ) -> SafetyPlanOut:
        """Her safety plan (#21): only if she said yes for this case, only while it is open.
        Each look is kept in the case's audit events."""
        keys = request.app.state.services.plan_keys
        try:
            plan = await shared_plan(session, keys, case_id, staff.name)
        except PlanNotShared as error:
            raise _conflict(error) from None
        except PlanLocked:
            raise HTTPException(
                503, "Safety plans can't be opened: check PEERBOT_PLAN_KEYS."
            ) from None
        return SafetyPlanOut(
            steps=[
                PlanStepOut(
                    step=step,
                    words=plan.words.get(step, ""),
                    services=[item_line(item, "en") for item in plan.services.get(step, [])],
                )
                for step in steps()
            ]
        )

    @router.post("/api/cases/{case_id}/block", response_model=OkOut, tags=["moderation"])
    async def block(case_id: RecordId, body: BlockIn, staff: Moderator, session: Session) -> OkOut:
        """Block an abusive member for a time; a crisis from her is still answered."""
        try:
            await ModeratorActions(session).block_member(
                case_id, staff.name, body.reason, body.days
            )
        except CaseNotFound as error:
            raise _conflict(error) from None
        return OkOut()

    @router.get("/api/snippets", response_model=list[SnippetOut], tags=["moderation"])
    async def snippets(_: Moderator) -> list[SnippetOut]:
        return list(snippets_out())

    @router.get("/api/notices", response_model=NoticesOut, tags=["moderation"])
    async def notices(_: Moderator, session: Session, limit: int = 20) -> NoticesOut:
        """Notices for the team that are not about a case, newest first (e.g. resources due
        for review)."""
        rows = await session.scalars(
            select(StaffNotice).order_by(StaffNotice.id.desc()).limit(max(1, min(limit, 100)))
        )
        return NoticesOut(
            notices=[NoticeOut(kind=n.kind, text=n.text, at=n.created_at) for n in rows]
        )

    @router.get("/api/stats", response_model=StatsOut, tags=["moderation"])
    async def stats(_: Moderator, session: Session, request: Request) -> StatsOut:
        """Time to claim and to first human reply, over all cases; who is on shift and each
        moderator's load."""
        timezone = request.app.state.services.settings.research_timezone
        checks = await check_counts(session)
        follow_ups = await follow_up_counts(session)
        return StatsOut(
            **(await handoff_stats(session)).__dict__,
            checks=checks,
            follow_ups=follow_ups,
            checkins=await checkin_counts(session),
            reminders=await reminder_counts(session),
            same_person=await same_person_counts(session),
            on_shift=[s.display_name for s in await on_shift(session)],
            moderators=[LoadOut.of(load) for load in await moderator_load(session, timezone)],
        )

    return router
