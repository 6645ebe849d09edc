"""Each mother's research opt-ins (questions, study invitations, study results, discussion
sessions). Everything is
off until she says yes; opting out of everything also stops every research message already
waiting for her, at once."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import OutboxMessage, utcnow
from community.research.models import DeliveryState, ResearchDelivery, ResearchPreference

KINDS = ("questions", "invitations", "results", "sessions")


async def preferences_of(session: AsyncSession, member_id: int) -> ResearchPreference | None:
    return await session.get(ResearchPreference, member_id)


async def set_preference(
    session: AsyncSession, member_id: int, platform: str, kinds: list[str], on: bool
) -> ResearchPreference:
    """Turn the given kinds on or off; the platform she said it on is where she is reached."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown research preference: {sorted(unknown)}")
    pref = await session.get(ResearchPreference, member_id)
    if pref is None:
        pref = ResearchPreference(
            member_id=member_id, platform=platform, questions=False, invitations=False,
            results=False, sessions=False,
        )  # fmt: skip
        session.add(pref)
    for kind in kinds:
        setattr(pref, kind, on)
    if on:
        pref.platform = platform
    pref.updated_at = utcnow()
    if not on and "questions" in kinds:
        await stop_pending(session, member_id)
    await session.flush()
    return pref


async def stop_pending(session: AsyncSession, member_id: int) -> None:
    """No research message waiting for her goes out: pending ones are skipped and queued ones
    leave the outbox (bulk rows are research messages; a moderator's reply is never bulk)."""
    await session.execute(
        update(ResearchDelivery)
        .where(
            ResearchDelivery.member_id == member_id,
            ResearchDelivery.state == DeliveryState.PENDING.value,
        )
        .values(state=DeliveryState.SKIPPED.value)
    )
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.member_id == member_id,
            OutboxMessage.bulk.is_(True),
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.sending_at.is_(None),
        )
    )
