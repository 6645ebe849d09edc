"""The daily rollup: each day's figures as (day, metric, key, value) rows, with no text and
nothing that points to a member, so they outlive retention and "delete my data".

Each figure comes from a `Source`: the metrics it writes, how long the rows it reads are kept
(its reach), and a query over one day. Rolling a day up replaces that day's rows of every source
whose data still covers it, and leaves the rows of the others alone: a rebuild after retention
has removed old cases keeps what was counted while they were there. The last `RECENT_DAYS`
are rolled up again every hour (a case opened Monday and claimed Tuesday counts on Monday);
after that a day is settled and only an explicit rebuild touches it again, so members deleting
their data later does not change it. Rolling up is idempotent.

A new figure is one more `Source` in `SOURCES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import Database
from community.insights.tallies import community_day
from community.models import (
    Case,
    FollowUp,
    InsightActivity,
    InsightRollup,
    InsightTally,
    Member,
    Role,
    SafetyCheck,
    utcnow,
)
from community.research.models import (
    DeliveryState,
    ResearchAnswer,
    ResearchConsent,
    ResearchDelivery,
)
from community.retention import RESEARCH_DELIVERIES_KEPT
from community.sessions.models import SessionFeedback, SessionRsvp
from community.settings import Settings

# Activity (a member wrote in an hour) is kept this long: a day rolled up within
# `ACTIVITY_REACH` still has its whole week (from Monday) to count distinct members in.
ACTIVITY_REACH = timedelta(days=8)
ACTIVITY_KEPT = ACTIVITY_REACH + timedelta(days=7)
# The scheduled run rolls up today and the days before it, back to the last day it rolled (at
# most this many): a case opened on Monday and claimed on Tuesday counts on Monday's row.
RECENT_DAYS = 7
CATCH_UP_DAYS = 400
# A day rolled up this long after it ended is settled: later runs leave it as it is.
SETTLED_AFTER = timedelta(days=RECENT_DAYS + 1)
ROLLED = "rolled"  # one row per day rolled up: when the figures were last computed

Row = tuple[str, str, int]  # metric, key, value


@dataclass(frozen=True)
class Day:
    """One day in the community's time zone, as a UTC interval [start, end)."""

    day: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date, timezone: str) -> Day:
        zone = ZoneInfo(timezone)
        start = datetime.combine(day, time(), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
        return cls(day, start, end)

    def monday(self, timezone: str) -> datetime:
        return Day.of(self.day - timedelta(days=self.day.weekday()), timezone).start


Collect = Callable[[AsyncSession, Day, Settings], Awaitable[list[Row]]]


@dataclass(frozen=True)
class Source:
    name: str
    metrics: tuple[str, ...]
    collect: Collect
    # How long the rows it reads are kept (None: as long as the rollup itself).
    reach: Callable[[Settings], timedelta | None]


def _grouped(rows: Sequence[Any], metric: str) -> list[Row]:
    """(key, count) rows as the rollup's; a missing key (a case closed without an outcome)
    is ""."""
    return [(metric, str(key if key is not None else ""), int(n)) for key, n in rows]


async def _activity(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    # Members of the community only: a researcher's or moderator's linked chat account is not.
    distinct = (
        select(func.count(func.distinct(InsightActivity.member_id)))
        .join(Member, Member.id == InsightActivity.member_id)
        .where(Member.role == Role.MOTHER.value, InsightActivity.hour < day.end)
    )
    that_day = await session.scalar(distinct.where(InsightActivity.hour >= day.start))
    week = await session.scalar(
        distinct.where(InsightActivity.hour >= day.monday(settings.research_timezone))
    )
    # "members" is her writing on that day; summed over a week it is the week's conversations.
    return [("members", "", int(that_day or 0)), ("members_week", "", int(week or 0))]


async def _tallies(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    rows = await session.execute(
        select(InsightTally.metric, InsightTally.key, InsightTally.count).where(
            InsightTally.day == day.day
        )
    )
    return [(metric, key, int(n)) for metric, key, n in rows]


async def _cases(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    opened = (Case.opened_at >= day.start, Case.opened_at < day.end)
    rows: list[Row] = []
    by_source = await session.execute(
        select(Case.source, func.count()).where(*opened).group_by(Case.source)
    )
    rows += _grouped(by_source.all(), "cases_opened")
    screened = await session.execute(
        select(Case.category, Case.severity, func.count())
        .where(*opened, Case.source == "screen")
        .group_by(Case.category, Case.severity)
    )
    rows += [("crisis", f"{category}/{severity}", int(n)) for category, severity, n in screened]
    outcomes = await session.execute(
        select(Case.outcome, func.count())
        .where(Case.closed_at >= day.start, Case.closed_at < day.end)
        .group_by(Case.outcome)
    )
    rows += _grouped(outcomes.all(), "case_outcome")
    # Durations, one row per case, counted on the day the case opened.
    times = await session.execute(
        select(Case.opened_at, Case.claimed_at, Case.first_human_reply_at).where(*opened)
    )
    for opened_at, claimed_at, replied_at in times:
        if claimed_at is not None:
            rows.append(("claim_seconds", "", round((claimed_at - opened_at).total_seconds())))
        if replied_at is not None:
            rows.append(
                ("first_reply_seconds", "", round((replied_at - opened_at).total_seconds()))
            )
    return rows


async def _checks(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    rows = await session.execute(
        select(SafetyCheck.category, SafetyCheck.status, func.count())
        .where(SafetyCheck.asked_at >= day.start, SafetyCheck.asked_at < day.end)
        .group_by(SafetyCheck.category, SafetyCheck.status)
    )
    return [("check", f"{category}/{status}", int(n)) for category, status, n in rows]


async def _follow_ups(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    # How each check-in offered that day has gone so far: its answer, else where it stands.
    rows = await session.execute(
        select(func.coalesce(FollowUp.outcome, FollowUp.status), func.count())
        .where(FollowUp.created_at >= day.start, FollowUp.created_at < day.end)
        .group_by(func.coalesce(FollowUp.outcome, FollowUp.status))
    )
    return _grouped(rows.all(), "followup_outcome")


async def _research_sent(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    rows = await session.execute(
        select(ResearchDelivery.question_id, func.count())
        .where(
            ResearchDelivery.state == DeliveryState.QUEUED.value,
            ResearchDelivery.queued_at >= day.start,
            ResearchDelivery.queued_at < day.end,
        )
        .group_by(ResearchDelivery.question_id)
    )
    return _grouped(rows.all(), "research_sent")


async def _research_answered(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    rows = await session.execute(
        select(ResearchAnswer.question_id, func.count())
        .where(ResearchAnswer.created_at >= day.start, ResearchAnswer.created_at < day.end)
        .group_by(ResearchAnswer.question_id)
    )
    return _grouped(rows.all(), "research_answered")


async def _research_declined(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    rows = await session.execute(
        select(ResearchConsent.question_id, func.count())
        .where(
            ResearchConsent.consented.is_(False),
            ResearchConsent.at >= day.start,
            ResearchConsent.at < day.end,
        )
        .group_by(ResearchConsent.question_id)
    )
    return _grouped(rows.all(), "research_declined")


async def _session_rsvps(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    # Answers to discussion sessions as they stand, on the day each was last given.
    rows = await session.execute(
        select(SessionRsvp.answer, func.count())
        .where(SessionRsvp.since >= day.start, SessionRsvp.since < day.end)
        .group_by(SessionRsvp.answer)
    )
    return _grouped(rows.all(), "session_rsvp")


async def _session_feedback(session: AsyncSession, day: Day, settings: Settings) -> list[Row]:
    # "Was it worth your time?" by answer, and how many wrote what would make it better.
    worth = await session.execute(
        select(SessionFeedback.worth, func.count())
        .where(SessionFeedback.created_at >= day.start, SessionFeedback.created_at < day.end)
        .group_by(SessionFeedback.worth)
    )
    wrote = await session.scalar(
        select(func.count()).where(
            SessionFeedback.created_at >= day.start,
            SessionFeedback.created_at < day.end,
            SessionFeedback.better.is_not(None),
        )
    )
    rows = [("session_feedback", f"worth it: {answer}", int(n)) for answer, n in worth]
    return [*rows, ("session_feedback", "wrote a suggestion", int(wrote or 0))]


def _sessions_kept(settings: Settings) -> timedelta:
    # Her answers are deleted this long after the session, and a session comes after the
    # day she answered: a day this recent still has them all.
    return timedelta(days=settings.retention_session_days)


def _audit(settings: Settings) -> timedelta:
    return timedelta(days=settings.retention_audit_days)


SOURCES: tuple[Source, ...] = (
    Source("activity", ("members", "members_week"), _activity, lambda _: ACTIVITY_REACH),
    Source(
        "tallies",
        ("intent", "unanswered_nearest", "dialogue_unavailable"),
        _tallies,
        lambda _: None,
    ),
    Source(
        "cases",
        ("cases_opened", "crisis", "case_outcome", "claim_seconds", "first_reply_seconds"),
        _cases,
        _audit,
    ),
    Source("checks", ("check",), _checks, _audit),
    Source("follow_ups", ("followup_outcome",), _follow_ups, lambda _: None),
    Source("research_sent", ("research_sent",), _research_sent, lambda _: RESEARCH_DELIVERIES_KEPT),
    Source(
        "research_answered",
        ("research_answered",),
        _research_answered,
        lambda s: timedelta(days=s.retention_research_days),
    ),
    Source("research_declined", ("research_declined",), _research_declined, lambda _: None),
    Source("session_rsvps", ("session_rsvp",), _session_rsvps, _sessions_kept),
    Source("session_feedback", ("session_feedback",), _session_feedback, _sessions_kept),
)


def in_reach(source: Source, day: Day, settings: Settings, now: datetime) -> bool:
    reach = source.reach(settings)
    return reach is None or day.start > now - reach


async def roll_up_day(
    database: Database,
    settings: Settings,
    day: date,
    now: datetime | None = None,
    rebuild: bool = False,
) -> list[str]:
    """Replace `day`'s rows from every source whose data still covers it; the names of the
    sources rolled up (the others' rows are left as they were). A day rolled up before and
    older than `SETTLED_AFTER` is settled and left alone unless `rebuild`: what it counted
    stays counted after members delete their data."""
    now = now or utcnow()
    window = Day.of(day, settings.research_timezone)
    rolled: list[str] = []
    async with database.transaction() as session:
        if not rebuild and window.end < now - SETTLED_AFTER:
            done = await session.scalar(
                select(InsightRollup.id)
                .where(InsightRollup.day == day, InsightRollup.metric == ROLLED)
                .limit(1)
            )
            if done is not None:
                return []
        for source in SOURCES:
            if not in_reach(source, window, settings, now):
                continue
            rows = await source.collect(session, window, settings)
            await session.execute(
                delete(InsightRollup).where(
                    InsightRollup.day == day, InsightRollup.metric.in_(source.metrics)
                )
            )
            session.add_all(
                InsightRollup(day=day, metric=metric, key=key, value=value)
                for metric, key, value in rows
                if metric in source.metrics and value
            )
            rolled.append(source.name)
        await session.execute(
            delete(InsightRollup).where(InsightRollup.day == day, InsightRollup.metric == ROLLED)
        )
        session.add(InsightRollup(day=day, metric=ROLLED, key="", value=1))
    return rolled


async def last_rolled_day(database: Database) -> date | None:
    async with database.sessions() as session:
        day: date | None = await session.scalar(
            select(func.max(InsightRollup.day)).where(InsightRollup.metric == ROLLED)
        )
    return day


async def roll_up_recent(
    database: Database, settings: Settings, now: datetime | None = None
) -> list[date]:
    """The scheduled run: today (so far) and the `RECENT_DAYS` before it (further back to the
    last day rolled up after an outage). Each day is its own transaction."""
    now = now or utcnow()
    today = community_day(now, settings.research_timezone)
    last = await last_rolled_day(database)
    first = today - timedelta(days=RECENT_DAYS)
    if last is not None and last < first:
        # Down for longer than a week: catch up from the day after the last one rolled up.
        first = max(last + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS))
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    for day in days:
        await roll_up_day(database, settings, day, now)
    return days


async def purge_insights(database: Database, settings: Settings, now: datetime) -> None:
    """Retention of the insights' own rows (the retention job runs it): activity once its
    weeks are rolled up; tallies and the rollup after `retention_insights_days`."""
    oldest = community_day(
        now - timedelta(days=settings.retention_insights_days), settings.research_timezone
    )
    async with database.transaction() as session:
        await session.execute(
            delete(InsightActivity).where(InsightActivity.hour < now - ACTIVITY_KEPT)
        )
        await session.execute(delete(InsightTally).where(InsightTally.day < oldest))
        await session.execute(delete(InsightRollup).where(InsightRollup.day < oldest))
