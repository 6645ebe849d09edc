"""Flags, blocks and flood alerts in the HTTP API (moderators only): community posts flagged as
attacking or shaming, members blocked for abuse, and floods of crisis messages from new chats.
The calls are `community.cases.flags` and `.floods`, the same ones the chat homes' commands
make."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, StringConstraints

from bots.web.auth import RecordId, Session, require_role
from community.cases import flags as cf
from community.cases import floods
from community.cases.flags import MAX_BLOCK_DAYS
from community.staff import StaffIdentity

Moderator = Annotated[StaffIdentity, Depends(require_role("moderator"))]


class FlagOut(BaseModel):
    id: int
    member: str = Field(description="A pseudonymous short name; never a platform id.")
    platform: str
    category: str = Field(description="attack or shaming")
    text: str = Field(description="The flagged post (at most 500 characters).")
    created_at: datetime


class FlagsOut(BaseModel):
    flags: list[FlagOut]


class BlockIn(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=255)]
    days: Annotated[int, Field(ge=1, le=MAX_BLOCK_DAYS)]


class BlockOut(BaseModel):
    id: int
    member: str
    reason: str
    until: datetime
    created_by: str


class BlocksOut(BaseModel):
    blocks: list[BlockOut]


class FloodAlertOut(BaseModel):
    id: int
    kind: str = Field(description='"address" (one address) or "words" (the same words)')
    count: int = Field(description="Crisis messages from new chats counted into it.")
    sample: str = Field(description="The first message's words (at most 300 characters).")
    first_at: datetime
    last_at: datetime


class FloodAlertsOut(BaseModel):
    alerts: list[FloodAlertOut]


class DoneOut(BaseModel):
    ok: bool = True


def build_conduct_router() -> APIRouter:
    router = APIRouter(tags=["conduct"])

    @router.get("/api/flags", response_model=FlagsOut)
    async def list_flags(_: Moderator, session: Session) -> FlagsOut:
        """Community posts flagged as attacking or shaming, not yet reviewed, oldest first."""
        flags = await cf.open_flags(session)
        return FlagsOut(
            flags=[
                FlagOut(
                    id=f.id,
                    member=f.member,
                    platform=f.platform,
                    category=f.category,
                    text=f.text,
                    created_at=f.created_at,
                )
                for f in flags
            ]
        )

    @router.post("/api/flags/{flag_id}/dismiss", response_model=DoneOut)
    async def dismiss(flag_id: RecordId, staff: Moderator, session: Session) -> DoneOut:
        """The post is fine: the flag is closed."""
        try:
            await cf.dismiss_flag(session, flag_id, staff.name)
        except cf.FlagNotFound:
            raise HTTPException(404, "No open flag with that number.") from None
        return DoneOut()

    @router.post("/api/flags/{flag_id}/block", response_model=DoneOut)
    async def block_author(
        flag_id: RecordId, body: BlockIn, staff: Moderator, session: Session
    ) -> DoneOut:
        """Block the post's author for some days and close the flag. A crisis from her is
        still answered."""
        try:
            await cf.block_from_flag(session, flag_id, staff.name, body.reason, body.days)
        except cf.FlagNotFound:
            raise HTTPException(404, "No open flag with that number.") from None
        return DoneOut()

    @router.get("/api/blocks", response_model=BlocksOut)
    async def list_blocks(_: Moderator, session: Session) -> BlocksOut:
        """Members blocked now, the soonest to end first."""
        blocks = await cf.active_blocks(session)
        return BlocksOut(blocks=[BlockOut(**b.__dict__) for b in blocks])

    @router.post("/api/blocks/{block_id}/lift", response_model=DoneOut)
    async def lift(block_id: RecordId, staff: Moderator, session: Session) -> DoneOut:
        """End a block now; the bot answers that member again."""
        try:
            await cf.lift_block(session, block_id, staff.name)
        except cf.BlockNotFound:
            raise HTTPException(404, "No active block with that number.") from None
        return DoneOut()

    @router.get("/api/flood-alerts", response_model=FloodAlertsOut)
    async def list_flood_alerts(_: Moderator, session: Session) -> FloodAlertsOut:
        """Floods of crisis messages from new chats, each counted into one alert instead of a
        case each; the most recently active first."""
        alerts = await floods.open_alerts(session)
        return FloodAlertsOut(alerts=[FloodAlertOut(**a.__dict__) for a in alerts])

    @router.post("/api/flood-alerts/{alert_id}/close", response_model=DoneOut)
    async def close_flood_alert(alert_id: RecordId, staff: Moderator, session: Session) -> DoneOut:
        """Seen: the alert closes; the same flood going on opens it again."""
        try:
            await floods.close_alert(session, alert_id, staff.name)
        except floods.FloodAlertNotFound:
            raise HTTPException(404, "No open flood alert with that number.") from None
        return DoneOut()

    return router
