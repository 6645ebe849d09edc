"""Moderators' shifts in the HTTP API (#22): the console's on/off shift toggle, who is on shift,
and each moderator's cases today and this week. The chat homes do the same with /onshift,
/offshift and /shifts (`bots/shift_commands.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bots.web.auth import Session, require_role
from community.cases.shifts import Load, end_shift, moderator_load, on_shift, start_shift
from community.staff import StaffIdentity

Moderator = Annotated[StaffIdentity, Depends(require_role("moderator"))]


class OnShiftOut(BaseModel):
    name: str = Field(description="The moderator's display name (never an account id).")
    since: datetime


class LoadOut(BaseModel):
    name: str = Field(description="The moderator's display name (never an account id).")
    on_shift: bool
    open_now: int = Field(description="Open cases they hold now.")
    today: int = Field(description="Cases they claimed today (the community's time zone).")
    this_week: int = Field(description="Cases they claimed this week (from Monday).")

    @classmethod
    def of(cls, load: Load) -> LoadOut:
        return cls(
            name=load.display_name,
            on_shift=load.on_shift,
            open_now=load.open_now,
            today=load.today,
            this_week=load.this_week,
        )


class ShiftsOut(BaseModel):
    me: bool = Field(description="Whether the calling moderator is on shift.")
    on_shift: list[OnShiftOut] = Field(description="Who is on shift now, longest on first.")
    max_open_cases: int = Field(
        description="The most open claimed cases one moderator may hold (0: no cap)."
    )
    moderators: list[LoadOut] = Field(
        description="Everyone on shift, holding a case or with a claim this week; heaviest "
        "week first."
    )


async def shifts_out(session: AsyncSession, request: Request, staff: StaffIdentity) -> ShiftsOut:
    settings = request.app.state.services.settings
    shifts = await on_shift(session)
    loads = await moderator_load(session, settings.research_timezone)
    return ShiftsOut(
        me=any(s.moderator == staff.name for s in shifts),
        on_shift=[OnShiftOut(name=s.display_name, since=s.since) for s in shifts],
        max_open_cases=settings.max_open_cases_per_moderator,
        moderators=[LoadOut.of(load) for load in loads],
    )


def build_shifts_router() -> APIRouter:
    router = APIRouter(prefix="/api/shifts", tags=["moderation"])

    @router.get("", response_model=ShiftsOut)
    async def list_shifts(staff: Moderator, session: Session, request: Request) -> ShiftsOut:
        """Who is on shift, whether you are, and each moderator's cases today and this week."""
        return await shifts_out(session, request, staff)

    @router.post("/on", response_model=ShiftsOut)
    async def go_on(staff: Moderator, session: Session, request: Request) -> ShiftsOut:
        """Go on shift: new cases name you first. Going on twice keeps one shift."""
        await start_shift(session, staff.name, staff.display_name)
        return await shifts_out(session, request, staff)

    @router.post("/off", response_model=ShiftsOut)
    async def go_off(staff: Moderator, session: Session, request: Request) -> ShiftsOut:
        """Go off shift (cases you hold stay yours). When nobody is on shift, new cases go to
        the on-call list at once."""
        await end_shift(session, staff.name)
        return await shifts_out(session, request, staff)

    return router
