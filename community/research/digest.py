"""Researchers' digests: once a day or once a week (setting `research_digest`), each researcher
gets a summary of her questions: status, counts, and new answers since the last digest. Stored
once per period, read from the /research page and the API, and sent to every chat account she
linked (`peerbot researcher link`) through the outbox, in the same transaction: once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

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


def _plain_day(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def period_label(key: str) -> str:
    """A digest's period in plain words: "the week of Monday 30 November 2026" for
    `weekly:2026-W49`, "Saturday 5 December 2026" for `daily:2026-12-05`."""
    kind, _, when = key.partition(":")
    try:
        if kind == "weekly":
            year, week = when.split("-W")
            return f"the week of {_plain_day(date.fromisocalendar(int(year), int(week), 1))}"
        return _plain_day(date.fromisoformat(when))
    except ValueError:
        return when


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
        lines = [f"peerbot research digest for {period_label(key)}"]
        for question in questions:
            c = await counts(session, question.id)
            # The whole question: a digest is read on its own, often on a phone.
            lines.append(
                f"#{question.id} ({question.status}) {question.text}\n"
                f"    sent to {c.asked}, answered {c.answered} ({new.get(question.id, 0)} new), "
                f"declined {c.declined}"
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
