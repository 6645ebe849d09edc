"""Researchers' digests: once a day or once a week (setting `research_digest`), each researcher
gets a summary of her questions: status, counts, and new answers since the last digest. Stored
once per period, read from the /research page and the API, and sent to every chat account she
linked (`peerbot researcher link`) through the outbox, in the same transaction: once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import insert_ignoring_conflicts
from community.models import (
    DeliveryAddress,
    OutboxMessage,
    Role,
    Staff,
    StaffChatAccount,
    utcnow,
)
from community.research.answers import answers_since
from community.research.models import ResearchDigest
from community.research.questions import counts, list_questions


def period_key(kind: str, now: datetime) -> tuple[str, timedelta]:
    if kind == "daily":
        return f"daily:{now.date().isoformat()}", timedelta(days=1)
    year, week, _ = now.isocalendar()
    return f"weekly:{year}-W{week:02d}", timedelta(days=7)


async def write_digests(session: AsyncSession, kind: str, now: datetime | None = None) -> int:
    """Write this period's digest for every researcher with questions; once per period."""
    now = now or utcnow()
    key, span = period_key(kind, now)
    researchers = (
        await session.scalars(
            select(Staff).where(Staff.role == Role.RESEARCHER.value, Staff.revoked_at.is_(None))
        )
    ).all()
    written = 0
    for researcher in researchers:
        questions = await list_questions(session, researcher_id=researcher.id)
        if not questions:
            continue
        new = await answers_since(session, [q.id for q in questions], now - span)
        lines = [f"peerbot research digest ({key.split(':', 1)[1]})"]
        for question in questions:
            c = await counts(session, question.id)
            lines.append(
                f"#{question.id} [{question.status}] {question.text[:80]}: sent to {c.asked}, "
                f"answered {c.answered} ({new.get(question.id, 0)} new), declined {c.declined}"
            )
        result = await session.execute(
            insert_ignoring_conflicts(session, ResearchDigest)
            .values(researcher_id=researcher.id, key=key, text="\n".join(lines), created_at=now)
            .on_conflict_do_nothing(index_elements=["researcher_id", "key"])
            .returning(ResearchDigest.id)
        )
        # A row back means this period's digest is new (rowcount is not reliable here on
        # every driver); only then is it sent.
        if result.first() is not None:
            written += 1
            await _send_to_linked_chats(session, researcher.id, "\n".join(lines))
    return written


async def _send_to_linked_chats(session: AsyncSession, staff_id: int, text: str) -> None:
    linked = (
        await session.execute(
            select(DeliveryAddress.member_id, DeliveryAddress.platform)
            .join(StaffChatAccount, StaffChatAccount.member_id == DeliveryAddress.member_id)
            .where(StaffChatAccount.staff_id == staff_id)
        )
    ).all()
    for member_id, platform in linked:
        session.add(OutboxMessage(member_id=member_id, platform=platform, text=text))


async def digests_for(
    session: AsyncSession, researcher_id: int, limit: int = 10
) -> list[ResearchDigest]:
    return list(
        (
            await session.scalars(
                select(ResearchDigest)
                .where(ResearchDigest.researcher_id == researcher_id)
                .order_by(ResearchDigest.id.desc())
                .limit(limit)
            )
        ).all()
    )
