"""The insights rollup (#22) from real rows on SQLite and PostgreSQL: each figure counted, a day
rolled up twice is the same, small numbers suppressed in the report and the CSV, and the
rollup outlives retention and "delete my data" (it names nobody)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from community.db import Database
from community.insights.report import insights, insights_csv
from community.insights.rollup import purge_insights, roll_up_day, roll_up_recent
from community.insights.tallies import community_day, count, count_reading, record_activity
from community.models import (
    Case,
    CaseMessage,
    FollowUp,
    InsightActivity,
    InsightRollup,
    InsightTally,
    Member,
    SafetyCheck,
    Staff,
    utcnow,
)
from community.my_data import delete_member
from community.research.models import (
    ResearchAnswer,
    ResearchConsent,
    ResearchDelivery,
    ResearchQuestion,
)
from community.retention import purge
from community.scheduling import JobContext, retention_job
from community.settings import Settings
from community.staff import add_staff
from tests.community.test_retention import open_and_close

MONDAY = date(2026, 11, 16)
DAY = date(2026, 11, 18)  # the Wednesday of that week
NOON = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)  # noon in New York, the community's zone
MONDAY_NOON = NOON - timedelta(days=2)
NOW = NOON + timedelta(days=2)
WEEK = MONDAY.isoformat()


def _case(
    member_id: int, category: str, severity: str, noon: datetime, **times: datetime | None
) -> Case:
    return Case(
        member_id=member_id,
        platform="web",
        source="screen",
        category=category,
        severity=severity,
        severity_rank=3,
        opened_at=noon,
        **times,
    )


async def seed(database: Database, noon: datetime = NOON, monday: datetime | None = None) -> int:
    """Members writing at `noon`: seven, with cases, checks, check-ins, research and Rasa's
    readings at that time; and, given `monday`, two more messages then (one from a member who
    also wrote at noon, one from an eighth). Returns the research question's id."""
    day = community_day(noon, "America/New_York")
    async with database.transaction() as session:
        members = [Member(pseudonym=f"pseudonym-{n:02d}", created_at=noon) for n in range(8)]
        session.add_all(members)
        await session.flush()
        ids = [m.id for m in members]
        for member_id in ids[:7]:
            await record_activity(session, member_id, noon)
            await record_activity(session, member_id, noon)  # twice in an hour: one row
        # A researcher's linked chat account writes too: not a member of the community.
        researcher = Member(pseudonym="pseudonym-rae", role="researcher", created_at=noon)
        session.add(researcher)
        await session.flush()
        await record_activity(session, researcher.id, noon)
        if monday is not None:
            for member_id in (ids[0], ids[7]):
                await record_activity(session, member_id, monday)
        for n, seconds in enumerate((60, 120, 180, 240, 300)):
            claimed = noon + timedelta(seconds=seconds)
            replied = noon + timedelta(seconds=seconds + 30) if n < 3 else None
            session.add(
                _case(
                    ids[n],
                    "suicide",
                    "high",
                    noon,
                    claimed_at=claimed,
                    first_human_reply_at=replied,
                    closed_at=noon + timedelta(hours=1),
                    outcome="safe",
                    status="resolved",
                )
            )
        session.add(_case(ids[5], "overdose", "imminent", noon))
        for n, status in enumerate(("safe", "safe", "expired")):
            session.add(
                SafetyCheck(
                    member_id=ids[n],
                    platform="web",
                    category="suicide",
                    asked_at=noon,
                    due_at=noon + timedelta(minutes=10),
                    status=status,
                )
            )
        for n in range(5):
            session.add(
                FollowUp(
                    member_id=ids[n],
                    platform="web",
                    status="answered",
                    outcome="better",
                    created_at=noon,
                )
            )
        await add_staff(session, "rae", "researcher", "Rae")
        question = ResearchQuestion(
            researcher_id=await session.scalar(select(Staff.id).where(Staff.name == "rae")),
            text="What helps?",
            context="",
            submitted_text="What helps?",
        )
        session.add(question)
        await session.flush()
        for member_id in ids[:6]:
            session.add(
                ResearchDelivery(
                    question_id=question.id,
                    member_id=member_id,
                    platform="web",
                    state="queued",
                    queued_at=noon,
                )
            )
        for member_id in ids[:2]:
            session.add(
                ResearchAnswer(
                    question_id=question.id, member_id=member_id, text="words", created_at=noon
                )
            )
        session.add(
            ResearchConsent(question_id=question.id, member_id=ids[2], consented=False, at=noon)
        )
        for _ in range(7):
            await count_reading(session, day, "faq_naloxone", ())
        for _ in range(3):
            await count_reading(session, day, "nlu_fallback", ("faq_naloxone", "help_housing"))
        await count(session, day, "dialogue_unavailable")
        return question.id


async def _rows(database: Database) -> list[tuple[object, ...]]:
    async with database.sessions() as session:
        result = await session.execute(
            select(
                InsightRollup.day, InsightRollup.metric, InsightRollup.key, InsightRollup.value
            ).order_by(
                InsightRollup.day, InsightRollup.metric, InsightRollup.key, InsightRollup.value
            )
        )
        return [tuple(row) for row in result]


async def _roll_week(database: Database, settings: Settings, now: datetime = NOW) -> None:
    for n in range(3):  # Monday to Wednesday
        await roll_up_day(database, settings, MONDAY + timedelta(days=n), now)


def _chart(report: object, chart_id: str) -> dict[str, object]:
    chart = next(c for c in report.charts if c.id == chart_id)  # type: ignore[attr-defined]
    return {
        "labels": chart.labels,
        **{s.label: s.values for s in chart.series},
    }


async def test_each_figure_is_counted_and_small_ones_suppressed(
    database: Database, settings: Settings
) -> None:
    question = await seed(database, NOON, MONDAY_NOON)
    await _roll_week(database, settings)
    async with database.sessions() as session:
        report = await insights(session, settings.research_timezone, 3, NOW)
    assert report.weeks[-1] == MONDAY and report.through == DAY
    activity = _chart(report, "activity")
    # Conversations: members writing on a day, summed (2 on Monday, 7 on Wednesday); members:
    # distinct in the week (8).
    assert activity["labels"][-1] == WEEK  # type: ignore[index]
    assert activity["Conversations"] == [0, 0, 9]
    assert activity["Members"] == [0, 0, 8]
    assert _chart(report, "topics") == {"labels": ["faq_naloxone"], "Messages": [7]}
    unanswered = _chart(report, "unanswered")
    assert unanswered["Messages read"] == [0, 0, 10]
    assert unanswered["Could not answer"] == [0, 0, "<5"]
    assert unanswered["Bot unreachable"] == [0, 0, "<5"]
    assert _chart(report, "unanswered_share")["Could not answer (%)"] == [None, None, "<5"]
    assert _chart(report, "unanswered_nearest") == {
        "labels": ["faq_naloxone", "help_housing"],
        "Messages": ["<5", "<5"],
    }
    assert _chart(report, "crisis") == {
        "labels": ["suicide", "overdose"],
        "high": [5, 0],
        "imminent": [0, "<5"],
    }
    assert _chart(report, "checks") == {
        "labels": ["suicide"],
        "safe": ["<5"],
        "expired": ["<5"],
    }
    assert _chart(report, "case_outcomes") == {"labels": ["safe"], "Cases": [5]}
    claim = _chart(report, "claim_time")
    assert (claim["p50"], claim["p90"]) == ([None, None, 180], [None, None, 300])
    reply = _chart(report, "first_reply_time")  # three replies: too few to show
    assert (reply["p50"], reply["p90"]) == ([None, None, "<5"], [None, None, "<5"])
    assert _chart(report, "follow_ups") == {"labels": ["better"], "Check-ins": [5]}
    assert _chart(report, "research") == {
        "labels": [f"Question {question}"],
        "Sent": [6],
        "Answered": ["<5"],
        "Declined": ["<5"],
    }
    assert _chart(report, "session_rsvp") == {"labels": [], "Answers": []}

    exported = insights_csv(report)
    assert exported.startswith("chart,label,series,value\n")
    assert f"activity,{WEEK},Members,8\n" in exported
    assert "unanswered_nearest,help_housing,Messages,<5\n" in exported
    assert "pseudonym" not in exported and "words" not in exported
    for value in ("1", "2", "3", "4"):
        assert f",{value}\n" not in exported  # no small count leaves the server


async def test_a_day_rolled_up_twice_is_the_same(database: Database, settings: Settings) -> None:
    await seed(database, NOON, MONDAY_NOON)
    await _roll_week(database, settings)
    first = await _rows(database)
    await _roll_week(database, settings)
    assert await _rows(database) == first
    # No row holds text or points to anyone: metric names, keys (intents, categories,
    # question ids) and numbers.
    assert {type(value) for *_, value in first} == {int}
    assert not any("pseudonym" in str(row) for row in first)


async def test_the_rollup_outlives_retention_and_deleted_data(
    database: Database, settings: Settings
) -> None:
    await seed(database, NOON, MONDAY_NOON)
    await _roll_week(database, settings)
    before = await _rows(database)
    async with database.transaction() as session:
        for member in (await session.scalars(select(Member))).all():
            await delete_member(session, member)
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InsightActivity)) == 0
        assert await session.scalar(select(func.count()).select_from(Case)) == 0
    assert await _rows(database) == before  # nothing in it was hers

    # Weeks later the hourly run leaves the settled days alone...
    later = NOW + timedelta(days=30)
    await roll_up_recent(database, settings, later)
    assert [r for r in await _rows(database) if r[0] <= DAY] == before
    # ...and a rebuild after retention keeps what sources no longer hold (cases, activity).
    await purge(database, settings, later + timedelta(days=400))
    await roll_up_day(database, settings, DAY, later + timedelta(days=400), rebuild=True)
    metrics = {row[1] for row in await _rows(database) if row[0] == DAY}
    assert {"members", "members_week", "crisis", "claim_seconds", "check", "intent"} <= metrics
    async with database.sessions() as session:
        report = await insights(session, settings.research_timezone, 3, NOW)
    assert _chart(report, "crisis")["high"] == [5, 0]


async def test_insights_are_kept_for_their_own_retention(
    database: Database, settings: Settings
) -> None:
    await seed(database, NOON, MONDAY_NOON)
    await _roll_week(database, settings)
    # Activity (the one table naming a member) goes after 15 days; the rest after the years set.
    await purge_insights(database, settings, NOW + timedelta(days=20))
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InsightActivity)) == 0
        assert await session.scalar(select(func.count()).select_from(InsightTally)) > 0
    far = NOW + timedelta(days=settings.retention_insights_days + 10)
    await purge_insights(database, settings, far)
    assert await _rows(database) == []
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InsightTally)) == 0


async def test_the_retention_job_rolls_up_first_and_never_waits_on_a_failing_rollup(
    database: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # A case opened today and closed long ago (as the retention tests make them): this run's
    # purge removes it, so it is counted only if the rollup runs before the purge.
    gone = await open_and_close(database, "gone", closed_days_ago=400)
    await retention_job(JobContext(settings, database, None))
    today = community_day(utcnow(), settings.research_timezone)
    async with database.sessions() as session:
        assert await session.get(Case, gone) is None
        crisis = await session.scalar(
            select(InsightRollup.value).where(
                InsightRollup.day == today, InsightRollup.metric == "crisis"
            )
        )
    assert crisis == 1

    # A rollup that fails (a table it reads is gone) is logged; retention still runs.
    middle = await open_and_close(database, "middle", closed_days_ago=100)
    async with database.transaction() as session:
        await session.execute(text("DROP TABLE follow_ups"))
    with caplog.at_level(logging.ERROR):
        await retention_job(JobContext(settings, database, None))
    assert "insights rollup failed" in caplog.text
    async with database.sessions() as session:
        kept = await session.scalar(
            select(func.count()).select_from(CaseMessage).where(CaseMessage.case_id == middle)
        )
    assert kept == 0


async def test_discussion_sessions_are_counted_without_anyone(
    database: Database, settings: Settings
) -> None:
    """Answers to a session (as they stand, on the day given) and its feedback, rolled up with
    small numbers suppressed; the rows name no session's member."""
    from community.sessions.models import DiscussionSession, SessionFeedback, SessionRsvp

    async with database.transaction() as session:
        await add_staff(session, "host", "researcher")
        host = await session.scalar(select(Staff.id).where(Staff.name == "host"))
        assert host is not None
        members = [Member(pseudonym=f"session-{n:02d}", created_at=NOON) for n in range(9)]
        session.add_all(members)
        held = DiscussionSession(
            proposer_id=host, host_name="Dr. Lee", topic="Sleep after the NICU",
            submitted_topic="Sleep after the NICU", starts_at=NOON + timedelta(days=1),
            place="https://example.org/room", capacity=6, status="announced",
        )  # fmt: skip
        session.add(held)
        await session.flush()
        answers = ["yes"] * 6 + ["waitlist", "maybe", "no"]
        for member, answer in zip(members, answers, strict=True):
            session.add(SessionRsvp(session_id=held.id, member_id=member.id, platform="web",
                                    answer=answer, since=NOON))  # fmt: skip
        for n, member in enumerate(members[:6]):
            session.add(SessionFeedback(session_id=held.id, member_id=member.id,
                                        worth="yes" if n < 5 else "no",
                                        better="more time" if n < 2 else None,
                                        created_at=NOON))  # fmt: skip
    await _roll_week(database, settings)
    async with database.sessions() as session:
        report = await insights(session, settings.research_timezone, 3, NOW)
    rsvp = _chart(report, "session_rsvp")
    assert dict(zip(rsvp["labels"], rsvp["Answers"], strict=True)) == {  # type: ignore[call-overload]
        "yes": 6, "waitlist": "<5", "maybe": "<5", "no": "<5",
    }  # fmt: skip
    feedback = _chart(report, "session_feedback")
    assert dict(zip(feedback["labels"], feedback["Answers"], strict=True)) == {  # type: ignore[call-overload]
        "worth it: yes": 5, "worth it: no": "<5", "wrote a suggestion": "<5",
    }  # fmt: skip
