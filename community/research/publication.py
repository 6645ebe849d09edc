"""Publication: an approved question, at its time, reaches every mother who opted in, exactly
once, at a humane hour and never more than the weekly cap.

Two steps, each one database transaction, so a crash anywhere repeats nothing:
1. `fan_out_due` adds one `research_deliveries` row per opted-in mother in a single
   INSERT ... SELECT (the unique (question, member) pair makes a repeat add nobody), writes the
   community-channel posts, and marks the question published.
2. `queue_due` moves due deliveries into the outbox in batches: the delivery's state and the
   outbox row change together. The outbox sends bulk rows at most once (see
   `community/delivery.py`), and the web chat takes them in a transaction of its own.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import insert_ignoring_conflicts
from community.members import reach_of
from community.models import UTCDateTime
from community.research import texts
from community.research.models import (
    CommunityPost,
    DeliveryState,
    QuestionKind,
    QuestionStatus,
    ResearchConsent,
    ResearchDelivery,
    ResearchPreference,
    ResearchQuestion,
)
from community.research.questions import still_current
from community.settings import Settings

WEEK = timedelta(days=7)
BATCH = 500


def quiet_now(settings: Settings, now: datetime) -> bool:
    """Whether `now` falls in the community's quiet hours (read in its time zone)."""
    start, end = settings.research_quiet_start_hour, settings.research_quiet_end_hour
    if start == end:
        return False
    hour = now.astimezone(ZoneInfo(settings.research_timezone)).hour
    return (hour >= start or hour < end) if start > end else start <= hour < end


def community_homes(settings: Settings) -> tuple[str, ...]:
    homes = []
    if settings.telegram_enabled and settings.telegram_community_chat_id:
        homes.append("telegram")
    if settings.discord_enabled and settings.discord_community_channel_id:
        homes.append("discord")
    return tuple(homes)


def wants(question: ResearchQuestion) -> ColumnElement[bool]:
    """Who asked for this kind of research message."""
    column = {
        QuestionKind.INVITATION.value: ResearchPreference.invitations,
        QuestionKind.RESULTS.value: ResearchPreference.results,
    }.get(question.kind, ResearchPreference.questions)
    return column.is_(True)


def pref_wants(pref: ResearchPreference, kind: str) -> bool:
    if kind == QuestionKind.INVITATION.value:
        return pref.invitations
    if kind == QuestionKind.RESULTS.value:
        return pref.results
    return pref.questions


async def fan_out_due(session: AsyncSession, homes: tuple[str, ...], now: datetime) -> list[int]:
    """Publish every approved question whose time has come; return their ids."""
    due = (
        await session.scalars(
            select(ResearchQuestion).where(
                ResearchQuestion.status == QuestionStatus.APPROVED.value,
                ResearchQuestion.publish_at.is_not(None),
                ResearchQuestion.publish_at <= now,
            )
        )
    ).all()
    for question in due:
        recipients = select(
            literal(question.id),
            ResearchPreference.member_id,
            ResearchPreference.platform,
            literal(DeliveryState.PENDING.value),
            literal(now, UTCDateTime()),
        ).where(wants(question))
        if question.kind == QuestionKind.RESULTS.value:
            # Results go to the mothers who took part: those who agreed to answer the question.
            recipients = recipients.where(
                ResearchPreference.member_id.in_(
                    select(ResearchConsent.member_id).where(
                        ResearchConsent.question_id == question.about_question_id,
                        ResearchConsent.consented.is_(True),
                    )
                )
            )
        await session.execute(
            insert_ignoring_conflicts(session, ResearchDelivery)
            .from_select(
                ["question_id", "member_id", "platform", "state", "not_before"], recipients
            )
            .on_conflict_do_nothing(index_elements=["question_id", "member_id"])
        )
        for home in homes if question.kind != QuestionKind.RESULTS.value else ():
            await session.execute(
                insert_ignoring_conflicts(session, CommunityPost)
                .values(question_id=question.id, home=home, attempts=0)
                .on_conflict_do_nothing(index_elements=["question_id", "home"])
            )
        question.status = QuestionStatus.PUBLISHED.value
        question.published_at = now
    return [q.id for q in due]


async def queue_due(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Move up to one batch of due deliveries into the outbox (or skip or defer them); return
    how many were looked at, so the caller knows whether another batch may be waiting."""
    if quiet_now(settings, now):
        return 0
    rows = (
        await session.execute(
            select(ResearchDelivery, ResearchQuestion, ResearchPreference)
            .join(ResearchQuestion, ResearchQuestion.id == ResearchDelivery.question_id)
            .outerjoin(
                ResearchPreference, ResearchPreference.member_id == ResearchDelivery.member_id
            )
            .where(
                ResearchDelivery.state == DeliveryState.PENDING.value,
                ResearchDelivery.not_before <= now,
            )
            .order_by(ResearchDelivery.id)
            .limit(BATCH)
            # Exactly one scheduler runs this (DESIGN.md); the lock keeps a second from ever
            # queueing the same delivery on PostgreSQL.
            .with_for_update(of=ResearchDelivery, skip_locked=True)
        )
    ).all()
    if not rows:
        return 0
    members = {delivery.member_id for delivery, _, _ in rows}
    recent = await _sent_this_week(session, members, now)
    reachable, languages = await reach_of(session, members)
    sent_now: Counter[int] = Counter()
    for delivery, question, pref in rows:
        wanted = pref is not None and pref_wants(pref, question.kind)
        if (
            not wanted
            or not still_current(question, now)
            or ((delivery.member_id, delivery.platform) not in reachable)
        ):
            delivery.state = DeliveryState.SKIPPED.value
            continue
        times = recent.get(delivery.member_id, [])
        if len(times) + sent_now[delivery.member_id] >= settings.research_weekly_cap:
            # Her week is full: this one waits until the oldest of the week is 7 days old.
            delivery.not_before = (min(times) if times else now) + WEEK
            continue
        text, buttons = texts.research_message(
            question.id, question.kind, question.text, question.context,
            languages.get(delivery.member_id), question.text_es, question.context_es,
        )  # fmt: skip
        session.add(
            texts.outbox_message(delivery.member_id, delivery.platform, text, buttons, bulk=True)
        )
        delivery.state = DeliveryState.QUEUED.value
        delivery.queued_at = now
        sent_now[delivery.member_id] += 1
    return len(rows)


async def _sent_this_week(
    session: AsyncSession, members: set[int], now: datetime
) -> dict[int, list[datetime]]:
    rows = (
        await session.execute(
            select(ResearchDelivery.member_id, ResearchDelivery.queued_at).where(
                ResearchDelivery.member_id.in_(members),
                ResearchDelivery.state == DeliveryState.QUEUED.value,
                ResearchDelivery.queued_at > now - WEEK,
            )
        )
    ).all()
    out: dict[int, list[datetime]] = {}
    for member_id, at in rows:
        if at is not None:
            out.setdefault(member_id, []).append(at)
    return out


def community_post_text(question: ResearchQuestion) -> str:
    """In English, and in Spanish too when the reviewers added a Spanish version."""
    return texts.community_post(
        question.id, question.kind, question.text, question.context,
        question.text_es, question.context_es,
    )  # fmt: skip
