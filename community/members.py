"""Members: turning a platform identity into a pseudonym and a role, created on first contact."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import insert_ignoring_conflicts
from community.models import DeliveryAddress, Member, Role, utcnow
from community.phrases import normalize


def pseudonym_for(key: bytes, platform: str, platform_user_id: str) -> str:
    """A stable pseudonym: HMAC-SHA256 of platform and user id under the server's secret key.

    The platform is part of the message so the same number on two platforms gives two members,
    and the separator keeps ("ab", "c") and ("a", "bc") apart.
    """
    message = f"{platform}\x1f{platform_user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def resolve_member(
    session: AsyncSession,
    key: bytes,
    platform: str,
    platform_user_id: str,
    *,
    known_new: bool = False,
    first_language: tuple[str | None, str | None] = (None, None),
) -> Member:
    """Find the member behind a platform identity, creating member and address on first contact.
    `known_new`: the caller has just looked and found nobody, so the first read is skipped.
    `first_language`: her language and how it was decided, written with a new member's row (no
    second statement to set it)."""
    pseudonym = pseudonym_for(key, platform, platform_user_id)
    if not known_new:
        member = await session.scalar(select(Member).where(Member.pseudonym == pseudonym))
        if member is not None:
            member.last_seen_at = utcnow()  # the retention job forgets Rasa's memory after quiet
            return member
    # First contact. Two first messages may race: the database keeps one of each row, and the
    # loser of the race reads the winner's.
    member = await session.scalar(
        insert_ignoring_conflicts(session, Member)
        .values(
            pseudonym=pseudonym,
            role=Role.MOTHER.value,
            created_at=utcnow(),
            last_seen_at=utcnow(),
            language=first_language[0],
            language_source=first_language[1],
        )
        .on_conflict_do_nothing(index_elements=["pseudonym"])
        .returning(Member),
        execution_options={"populate_existing": True},
    )
    if member is None:
        member = await session.scalar(select(Member).where(Member.pseudonym == pseudonym))
    if member is None:  # pragma: no cover - the insert or the other writer made it
        raise RuntimeError("member row missing after insert")
    await session.execute(
        insert_ignoring_conflicts(session, DeliveryAddress)
        .values(member_id=member.id, platform=platform, address=platform_user_id)
        .on_conflict_do_nothing(index_elements=["platform", "address"])
    )
    return member


async def delivery_address(session: AsyncSession, member_id: int, platform: str) -> str | None:
    """The platform id to deliver to; used only by the code that sends messages."""
    return await session.scalar(
        select(DeliveryAddress.address).where(
            DeliveryAddress.member_id == member_id, DeliveryAddress.platform == platform
        )
    )


async def member_language(session: AsyncSession, member_id: int) -> str:
    """The language she is answered in, for what is written to her later (the outbox)."""
    return normalize(await session.scalar(select(Member.language).where(Member.id == member_id)))


async def reach_of(
    session: AsyncSession, member_ids: set[int]
) -> tuple[set[tuple[int, str]], dict[int, str | None]]:
    """For a batch of messages to send: the (member, platform) pairs she can be reached on, and
    her language as the gateway last decided it (None: not known yet, so English)."""
    reachable = {
        (int(member_id), str(platform))
        for member_id, platform in (
            await session.execute(
                select(DeliveryAddress.member_id, DeliveryAddress.platform).where(
                    DeliveryAddress.member_id.in_(member_ids)
                )
            )
        ).all()
    }
    languages: dict[int, str | None] = {
        member_id: language
        for member_id, language in (
            await session.execute(
                select(Member.id, Member.language).where(Member.id.in_(member_ids))
            )
        ).all()
    }
    return reachable, languages
