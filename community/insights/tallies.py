"""Counting as messages pass, without keeping them: the intent Rasa read, whether the bot could
not answer and which topics that message was nearest to, each an increment into a per-day
counter (no text, no member); and that a member wrote in a given hour, for distinct members."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from community.db import insert_ignoring_conflicts
from community.models import InsightActivity, InsightTally

# Rasa's name for a message its classifier was not sure of (config.yml's FallbackClassifier):
# the bot could not answer it and offered the nearest topics instead.
UNANSWERED_INTENT = "nlu_fallback"
INTENT = "intent"
UNANSWERED_NEAREST = "unanswered_nearest"
DIALOGUE_UNAVAILABLE = "dialogue_unavailable"
KEY_CHARS = 80


def community_day(at: datetime, timezone: str) -> date:
    """The day `at` falls on in the community's time zone."""
    return at.astimezone(ZoneInfo(timezone)).date()


def _upsert(session: AsyncSession, day: date, metric: str, key: str) -> object:
    insert = insert_ignoring_conflicts(session, InsightTally).values(
        day=day, metric=metric, key=key[:KEY_CHARS], count=1
    )
    return insert.on_conflict_do_update(
        index_elements=["day", "metric", "key"],
        set_={"count": InsightTally.__table__.c["count"] + 1},
    )


async def count(session: AsyncSession, day: date, metric: str, key: str = "") -> None:
    """One more of `metric`/`key` on `day`; two writers at once both count (an upsert)."""
    await session.execute(_upsert(session, day, metric, key))  # type: ignore[call-overload]


async def count_reading(
    session: AsyncSession, day: date, intent: str, nearest: Iterable[str]
) -> None:
    """What Rasa read in one message: its intent and, when it could not answer
    (`nlu_fallback`), the topics it was nearest to."""
    await count(session, day, INTENT, intent)
    if intent == UNANSWERED_INTENT:
        for topic in nearest:
            await count(session, day, UNANSWERED_NEAREST, topic)


def activity_hour(at: datetime) -> datetime:
    """The UTC hour `at` falls in: the grain activity is kept at (any day in any time zone
    with whole-hour offsets is a set of whole UTC hours)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def record_activity(session: AsyncSession, member_id: int, at: datetime) -> None:
    """That she wrote in this hour (once per hour, however many messages)."""
    await session.execute(
        insert_ignoring_conflicts(session, InsightActivity)
        .values(member_id=member_id, hour=activity_hour(at))
        .on_conflict_do_nothing()
    )
