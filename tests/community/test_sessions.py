"""Discussion sessions' domain (#22), on SQLite and PostgreSQL: answers that arrive at the same
moment never fill a session past its capacity, and the waitlist moves up exactly as many as
spots open; the calendar file is RFC 5545 a calendar reads; the place never appears in the
announcement or the community post; the wording has both languages."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from community.db import Database
from community.members import resolve_member
from community.models import OutboxMessage
from community.research.models import ResearchPreference
from community.research.texts import WordingError, validate_wording
from community.sessions import calendar, texts
from community.sessions.announce import announce_due, queue_invitations
from community.sessions.models import DiscussionSession, Rsvp, SessionRsvp
from community.sessions.proposals import Proposal, approve, propose
from community.sessions.rsvp import SessionClosed, answer
from community.settings import Settings
from community.staff import StaffIdentity, add_staff

KEY = b"k" * 48
ZONE = "America/New_York"
PLACE = "Community room, 12 Elm Street"
MOTHERS = 12
CAPACITY = 3


async def _announced_session(database: Database, capacity: int = CAPACITY) -> tuple[int, list[int]]:
    """An announced in-person session and MOTHERS mothers it reached."""
    now = datetime.now(UTC)
    settings = Settings(research_quiet_start_hour=0, research_quiet_end_hour=0)
    async with database.transaction() as session:
        await add_staff(session, "mia", "moderator", "Mia")
        from community.models import Staff

        staff = await session.scalar(select(Staff).where(Staff.name == "mia"))
        assert staff is not None
        members = []
        for n in range(MOTHERS):
            member = await resolve_member(session, KEY, "web", f"mother-{n:04d}-session-race")
            session.add(ResearchPreference(member_id=member.id, platform="web", sessions=True))
            members.append(member.id)
        item = await propose(
            session,
            StaffIdentity(staff.id, staff.name, staff.display_name, staff.role),
            Proposal(
                "Talking with researchers", "", now + timedelta(days=2), 90, False, PLACE, capacity
            ),
        )
        await approve(session, item.id, "mia")
    async with database.transaction() as session:
        assert await announce_due(session, (), now) == [item.id]
    async with database.transaction() as session:
        assert await queue_invitations(session, settings, now) == MOTHERS
    return item.id, members


async def _say(database: Database, session_id: int, member_id: int, wanted: Rsvp) -> str:
    async with database.transaction() as session:
        outcome = await answer(session, session_id, member_id, "web", wanted, ZONE)
    return outcome.answer


async def _counts(database: Database, session_id: int) -> dict[str, int]:
    async with database.sessions() as session:
        rows = await session.execute(
            select(SessionRsvp.answer, func.count())
            .where(SessionRsvp.session_id == session_id)
            .group_by(SessionRsvp.answer)
        )
        return {str(a): int(n) for a, n in rows.all()}


async def test_concurrent_yeses_never_pass_capacity_and_the_waitlist_moves_up(
    database: Database,
) -> None:
    session_id, members = await _announced_session(database)
    said = await asyncio.gather(*(_say(database, session_id, m, Rsvp.YES) for m in members))
    assert sorted(said).count("yes") == CAPACITY
    assert await _counts(database, session_id) == {"yes": CAPACITY, "waitlist": MOTHERS - CAPACITY}
    coming = [m for m, s in zip(members, said, strict=True) if s == "yes"]
    waiting_in_order = await _waitlist(database, session_id)
    # Every yes says no at the same moment: exactly as many move up, first come first.
    await asyncio.gather(*(_say(database, session_id, m, Rsvp.NO) for m in coming))
    assert await _counts(database, session_id) == {
        "yes": CAPACITY,
        "no": CAPACITY,
        "waitlist": MOTHERS - 2 * CAPACITY,
    }
    async with database.sessions() as session:
        told = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.attachment.is_not(None))
            )
        ).all()
    assert sorted(m.member_id for m in told) == sorted(waiting_in_order[:CAPACITY])
    assert all(PLACE in (m.text or "") for m in told)
    assert all("LOCATION:Community room\\, 12 Elm Street" in (m.attachment or {})["content"]
               for m in told)  # fmt: skip


async def _waitlist(database: Database, session_id: int) -> list[int]:
    async with database.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(SessionRsvp.member_id)
                    .where(
                        SessionRsvp.session_id == session_id,
                        SessionRsvp.answer == Rsvp.WAITLIST.value,
                    )
                    .order_by(SessionRsvp.since, SessionRsvp.id)
                )
            ).all()
        )


async def test_no_answers_once_it_started(database: Database) -> None:
    session_id, members = await _announced_session(database)
    later = datetime.now(UTC) + timedelta(days=3)
    async with database.transaction() as session:
        with pytest.raises(SessionClosed):
            await answer(session, session_id, members[0], "web", Rsvp.YES, ZONE, later)


def _unfold(text: str) -> list[str]:
    """RFC 5545 3.1: a line break followed by one space or tab continues the line."""
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def test_the_calendar_file_is_rfc5545() -> None:
    starts = datetime(2026, 12, 15, 23, 0, tzinfo=UTC)
    topic = "Cómo deciden los investigadores qué estudiar, y qué pasa con tus datos; " * 3
    details = "Bring questions\nor just listen, \\ whatever you like."
    text = calendar.event_file(
        7, topic, details, starts, 90, "https://meet.example.org/x?a=1;b=2", True,
        datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
    )  # fmt: skip
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)  # the long summary was folded
    lines = _unfold(text)[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    props: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        # An unescaped ; or , only ever separates parameters or list items, never inside TEXT.
        props[name] = value
    assert props["VERSION"] == "2.0" and props["PRODID"]
    assert props["UID"] == "session-7@peerbot"
    assert props["DTSTART"] == "20261215T230000Z"
    assert props["DTEND"] == "20261216T003000Z"
    assert props["DTSTAMP"] == "20261206T120000Z"
    assert _unescape(props["SUMMARY"]) == topic
    assert _unescape(props["DESCRIPTION"]) == details
    assert _unescape(props["LOCATION"]) == "https://meet.example.org/x?a=1;b=2"
    assert props["URL"] == "https://meet.example.org/x?a=1;b=2"
    assert not re.search(r"(?<!\\)[;,]", props["SUMMARY"].replace("\\\\", ""))


def test_the_place_is_never_in_the_announcement_or_the_community_post() -> None:
    item = DiscussionSession(
        id=5, proposer_id=1, host_name="Dr. Rae", topic="What we study", details="Plain words.",
        submitted_topic="What we study", topic_es="Qué estudiamos", details_es="En sencillo.",
        starts_at=datetime(2026, 12, 15, 23, 0, tzinfo=UTC), minutes=60, online=False,
        place=PLACE, capacity=10, status="announced",
    )  # fmt: skip
    for language in ("en", "es"):
        text, buttons = texts.announcement(item, ZONE, language)
        assert PLACE not in text
        assert "6:00 PM" in text or "18:00" in text
        assert buttons[0][1] == "/session_yes_5"
    post = texts.community_post(item, ZONE)
    assert PLACE not in post and "Qué estudiamos" in post and "/session_5" in post
    assert PLACE in texts.rsvp_yes(item, "en")[0]
    assert PLACE in texts.reminder(item, "hour_before", True, ZONE, "es")[0]
    assert PLACE not in texts.reminder(item, "hour_before", False, ZONE, "en")[0]


def test_the_wording_has_both_languages_with_the_same_fields() -> None:
    with texts.WORDING_PATH.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert validate_wording(data) == texts.wording()
    broken = dict(data, rsvp_waitlist={"en": "number {position}", "es": "número"})
    with pytest.raises(WordingError):
        validate_wording(broken)


async def test_migration_0022_downgrades_and_upgrades_keeping_rows(database_url: str) -> None:
    """Down to 0021 and back: her research opt-ins, the outbox and her pending input keep
    their rows (SQLite recreates those tables to drop the new columns)."""
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from community.db import alembic_config
    from community.research.answers import expect_input
    from community.settings import sync_database_url

    database = Database.connect(database_url)
    try:
        session_id, members = await _announced_session(database)
        async with database.transaction() as session:
            await expect_input(session, members[0], "session_ask", session_id=session_id)
            await expect_input(session, members[1], "ask")
    finally:
        await database.dispose()
    config = alembic_config(database_url)
    engine = create_engine(sync_database_url(database_url))

    def columns(table: str) -> set[str]:
        with engine.connect() as connection:
            return {c["name"] for c in inspect(connection).get_columns(table)}

    def count(table: str) -> int:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    try:
        command.downgrade(config, "0021")
        assert "sessions" not in columns("research_preferences")
        assert "attachment" not in columns("outbox") and "session_id" not in columns(
            "pending_inputs"
        )
        with engine.connect() as connection:
            assert "discussion_sessions" not in inspect(connection).get_table_names()
        assert [count(t) for t in ("research_preferences", "outbox", "pending_inputs")] == [
            MOTHERS, MOTHERS, 2,
        ]  # fmt: skip
        command.upgrade(config, "head")
        assert "sessions" in columns("research_preferences")
        assert count("research_preferences") == MOTHERS
    finally:
        engine.dispose()
