"""Flags on community-channel posts, and blocks: what moderators see and do about members who
attack or shame others.

A flag is written together with a post for each chat moderation home (`HomePost`), in one
transaction, so a moderator hears of it even if the process dies right after. The web console
reads flags directly. Blocks end on their date or when a moderator lifts them; a blocked member
still gets crisis resources (the gateway screens before it checks a block).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Block, ConductFlag, HomePost, Member, utcnow

FLAG_TEXT_CHARS = 500
CHAT_HOMES = ("telegram", "discord")
# The longest block a moderator can set; longer needs a new decision, not a typo.
MAX_BLOCK_DAYS = 365
MIN_REASON_CHARS = 3  # a reason the next moderator can read, not a stray key


class InvalidBlock(ValueError):
    """A block's length or reason is out of bounds; the message says which, for a moderator."""


def check_block(days: int, reason: str) -> None:
    if not 1 <= days <= MAX_BLOCK_DAYS:
        raise InvalidBlock(f"A block lasts 1-{MAX_BLOCK_DAYS} days.")
    if len(reason.strip()) < MIN_REASON_CHARS:
        raise InvalidBlock("Give a reason for the block, in a few words.")


class FlagNotFound(LookupError):
    pass


class BlockNotFound(LookupError):
    pass


@dataclass(frozen=True)
class FlagView:
    id: int
    member: str
    platform: str
    category: str
    text: str
    created_at: datetime
    outcome: str | None


@dataclass(frozen=True)
class BlockView:
    id: int
    member: str
    reason: str
    until: datetime
    created_by: str


def flag_notice(flag_id: int, member: str, category: str, text: str) -> str:
    what = "may attack someone" if category == "attack" else "may shame mothers"
    return (
        f"Flag {flag_id}: a post by {member} in a community channel {what}:\n"
        f"\u201c{text}\u201d\n"
        f"/dismiss {flag_id} if it is fine; /blockflag {flag_id} DAYS REASON to block the author."
    )


async def record_flag(
    session: AsyncSession,
    member: Member,
    platform: str,
    category: str,
    text: str,
    homes: tuple[str, ...],
) -> int:
    flag = ConductFlag(
        member_id=member.id, platform=platform, category=category, text=text[:FLAG_TEXT_CHARS]
    )
    session.add(flag)
    await session.flush()
    notice = flag_notice(flag.id, member.short_name, category, flag.text)
    for home in homes:
        if home in CHAT_HOMES:
            session.add(HomePost(home=home, text=notice))
    return flag.id


async def open_flags(session: AsyncSession, limit: int = 50) -> list[FlagView]:
    rows = (
        await session.execute(
            select(ConductFlag, Member)
            .join(Member, Member.id == ConductFlag.member_id)
            .where(ConductFlag.reviewed_at.is_(None))
            .order_by(ConductFlag.id)
            .limit(limit)
        )
    ).all()
    return [
        FlagView(f.id, m.short_name, f.platform, f.category, f.text, f.created_at, f.outcome)
        for f, m in rows
    ]


async def _open_flag(session: AsyncSession, flag_id: int) -> ConductFlag:
    flag = await session.get(ConductFlag, flag_id)
    if flag is None or flag.reviewed_at is not None:
        raise FlagNotFound(flag_id)
    return flag


async def dismiss_flag(session: AsyncSession, flag_id: int, moderator: str) -> None:
    flag = await _open_flag(session, flag_id)
    flag.reviewed_at, flag.reviewed_by, flag.outcome = utcnow(), moderator, "dismissed"


async def block_member(
    session: AsyncSession, member_id: int, moderator: str, reason: str, days: int
) -> Block:
    check_block(days, reason)
    block = Block(
        member_id=member_id,
        reason=reason[:255],
        until=utcnow() + timedelta(days=days),
        created_by=moderator,
    )
    session.add(block)
    await session.flush()
    return block


async def block_from_flag(
    session: AsyncSession, flag_id: int, moderator: str, reason: str, days: int
) -> None:
    flag = await _open_flag(session, flag_id)
    await block_member(session, flag.member_id, moderator, reason, days)
    flag.reviewed_at, flag.reviewed_by, flag.outcome = utcnow(), moderator, "blocked"


async def active_blocks(session: AsyncSession, now: datetime | None = None) -> list[BlockView]:
    rows = (
        await session.execute(
            select(Block, Member)
            .join(Member, Member.id == Block.member_id)
            .where(Block.until > (now or utcnow()))
            .order_by(Block.until)
        )
    ).all()
    return [BlockView(b.id, m.short_name, b.reason, b.until, b.created_by) for b, m in rows]


async def lift_block(session: AsyncSession, block_id: int, moderator: str) -> None:
    """End a block now; the member is answered by the bot again from her next message."""
    block = await session.get(Block, block_id)
    now = utcnow()
    if block is None or block.until <= now:
        raise BlockNotFound(block_id)
    block.until, block.lifted_at, block.lifted_by = now, now, moderator
