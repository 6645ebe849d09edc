"""Moderators' shifts and load (#22), on SQLite and PostgreSQL: on and off shift, the cap on open
claimed cases per moderator (also when one moderator's claims race), each moderator's cases
today and this week, and the routing: cards name those on shift first, and with nobody on
shift a waiting case goes to the on-call list at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from community.cases.handoff import CaseConflict, HandoffCases, ModeratorActions
from community.cases.shifts import (
    NOBODY_ON_SHIFT,
    alert_oncall_when_nobody_on_shift,
    day_and_week_start,
    end_shift,
    moderator_load,
    on_shift,
    start_shift,
)
from community.db import Database
from community.delivery import Delivery, case_card_text
from community.members import resolve_member
from community.messages import Reply
from community.models import Case, CaseEvent, CaseStatus, ModeratorShift, Notification
from community.scheduling import JobContext, reannounce_job
from community.settings import Settings
from safety.screen import Screening, Severity
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

KEY = b"k" * 48
TIMEZONE = "America/New_York"


async def _case(database: Database, user: str) -> int:
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", user)
        opening = await HandoffCases(session).open_for_crisis(
            member, "web", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
    return opening.case_id


async def _claim(database: Database, case_id: int, moderator: str, cap: int) -> str | None:
    """None when the claim won, else the refusal."""
    try:
        async with database.transaction() as session:
            await ModeratorActions(session).claim(
                case_id, moderator, display_name=moderator.title(), max_open=cap
            )
    except CaseConflict as error:
        return str(error)
    return None


async def _toggle(database: Database, moderator: str, display: str, on: bool = True) -> bool:
    async with database.transaction() as session:
        if on:
            return await start_shift(session, moderator, display)
        return await end_shift(session, moderator)


async def test_on_and_off_shift_keep_one_open_shift(database: Database) -> None:
    assert await _toggle(database, "ana", "Ana")
    assert not await _toggle(database, "ana", "Ana (peer)")  # already on: renamed, one shift
    assert await _toggle(database, "telegram:555", "Sam")
    async with database.sessions() as session:
        shifts = await on_shift(session)
    assert [(s.moderator, s.display_name) for s in shifts] == [
        ("ana", "Ana (peer)"),
        ("telegram:555", "Sam"),
    ]
    assert await _toggle(database, "ana", "", on=False)
    assert not await _toggle(database, "ana", "", on=False)  # not on: nothing to end
    # Many toggles at once from several homes: still one open shift.
    started = await asyncio.gather(*(_toggle(database, "ben", "Ben") for _ in range(6)))
    assert sum(started) == 1
    async with database.sessions() as session:
        open_shifts = await session.scalar(
            select(func.count())
            .select_from(ModeratorShift)
            .where(ModeratorShift.moderator == "ben", ModeratorShift.ended_at.is_(None))
        )
        names = [s.display_name for s in await on_shift(session)]
    assert open_shifts == 1 and names == ["Sam", "Ben"]


async def test_a_claim_over_the_cap_is_refused_kindly_naming_who_is_on_shift(
    database: Database,
) -> None:
    cases = [await _case(database, f"cap-{i}") for i in range(4)]
    await _toggle(database, "ana", "Ana")
    await _toggle(database, "telegram:555", "Sam")
    await _toggle(database, "ben", "Ben")
    assert await _claim(database, cases[0], "ana", cap=2) is None
    assert await _claim(database, cases[1], "ana", cap=2) is None
    refusal = await _claim(database, cases[2], "ana", cap=2)
    assert refusal is not None
    assert refusal.startswith("Thank you for carrying so much: you hold 2 open cases")
    assert "On shift now: Sam and Ben; they can take it." in refusal
    assert "telegram:555" not in refusal and "Ana" not in refusal
    # The refused case still waits for someone else.
    assert await _claim(database, cases[2], "telegram:555", cap=2) is None
    # Resolving one makes room again.
    async with database.transaction() as session:
        await ModeratorActions(session).resolve(cases[0], "ana", "safe", True)
    assert await _claim(database, cases[3], "ana", cap=2) is None
    # Nobody else on shift: the refusal says where cases go instead.
    await _toggle(database, "telegram:555", "", on=False)
    await _toggle(database, "ben", "", on=False)
    more = await _case(database, "cap-more")
    refusal = await _claim(database, more, "ana", cap=2)
    assert refusal is not None and "Nobody else is on shift now" in refusal
    # 0: no cap.
    assert await _claim(database, more, "ana", cap=0) is None


async def test_concurrent_claims_by_one_moderator_never_pass_the_cap(database: Database) -> None:
    """One moderator presses Claim on five cases at once (two homes, a double tap), 8 rounds
    with a cap of 2: exactly two claims win each round, however they interleave."""
    for round_number in range(8):
        cases = [await _case(database, f"race-{round_number}-{i}") for i in range(5)]
        refusals = await asyncio.gather(
            *(_claim(database, case_id, f"mod{round_number}", cap=2) for case_id in cases)
        )
        assert sum(r is None for r in refusals) == 2, f"round {round_number}: {refusals}"
        async with database.sessions() as session:
            held = await session.scalar(
                select(func.count(Case.id)).where(
                    Case.claimed_by == f"mod{round_number}",
                    Case.status == CaseStatus.CLAIMED.value,
                )
            )
        assert held == 2


async def test_load_counts_each_moderators_cases_today_and_this_week(database: Database) -> None:
    cases = [await _case(database, f"load-{i}") for i in range(4)]
    await _toggle(database, "telegram:555", "Sam")
    for case_id in cases[:3]:
        assert await _claim(database, case_id, "ana", cap=0) is None
    assert await _claim(database, cases[3], "telegram:555", cap=0) is None
    async with database.transaction() as session:
        await ModeratorActions(session).resolve(cases[0], "ana", "safe", True)
    now = datetime.now(UTC)
    today, week = day_and_week_start(now, TIMEZONE)
    # One of Ana's claims was earlier this week (or, on a Monday, last week): not today.
    earlier = week + timedelta(minutes=1) if today > week else week - timedelta(days=1)
    async with database.transaction() as session:
        await session.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id == cases[1], CaseEvent.action == "claimed")
            .values(at=earlier)
        )
    async with database.sessions() as session:
        loads = await moderator_load(session, TIMEZONE, now)
    by_name = {load.display_name: load for load in loads}
    ana, sam = by_name["Ana"], by_name["Sam"]
    assert (ana.on_shift, ana.open_now, ana.today) == (False, 2, 2)
    assert ana.this_week == (3 if today > week else 2)
    assert (sam.on_shift, sam.open_now, sam.today, sam.this_week) == (True, 1, 1, 1)
    assert "telegram:555" not in str(loads)


def test_today_and_this_week_are_read_in_the_community_time_zone() -> None:
    # 03:00 UTC on Wednesday 2026-12-09 is still Tuesday evening in New York.
    today, week = day_and_week_start(datetime(2026, 12, 9, 3, 0, tzinfo=UTC), TIMEZONE)
    assert (today.date().isoformat(), week.date().isoformat()) == ("2026-12-08", "2026-12-07")
    assert today.utcoffset() == timedelta(hours=-5)


async def test_cards_name_those_on_shift_first(database: Database) -> None:
    case_id = await _case(database, "card-1")
    async with database.sessions() as session:
        summary = await ModeratorActions(session).summary(await session.get_one(Case, case_id))
    card = case_card_text(summary, "opened", ["Ana", "Sam"])
    assert "For those on shift first: Ana, Sam." in card
    assert "on shift" not in case_card_text(summary, "opened", [])  # for everyone, as before
    assert "on shift" not in case_card_text(summary, "cancelled", ["Ana"])


async def test_with_nobody_on_shift_a_waiting_case_goes_to_oncall_once(
    database: Database,
) -> None:
    case_id = await _case(database, "oncall-1")
    await _toggle(database, "ana", "Ana")
    async with database.transaction() as session:
        assert await alert_oncall_when_nobody_on_shift(session, "oncall") == []
    await _toggle(database, "ana", "", on=False)
    async with database.transaction() as session:
        assert await alert_oncall_when_nobody_on_shift(session, "oncall") == [case_id]
    async with database.transaction() as session:
        assert await alert_oncall_when_nobody_on_shift(session, "oncall") == []  # once
    async with database.sessions() as session:
        kinds = (
            await session.scalars(select(Notification.kind).where(Notification.home == "oncall"))
        ).all()
    assert kinds == [NOBODY_ON_SHIFT]


@pytest.fixture
def webhook() -> Iterator[RasaStandIn]:
    with rasa_standin() as server:  # any JSON-recording HTTP server will do
        yield server


async def test_the_job_alerts_oncall_at_once_only_when_nobody_is_on_shift(
    database: Database, database_url: str, tmp_path: Path, webhook: RasaStandIn
) -> None:
    settings = Settings(
        var_dir=tmp_path,
        database_url=database_url,
        reannounce_urgent_minutes=60,  # far from due: only the shift rule can alert
        oncall_webhook_url=f"{webhook.url}/alert",
    )
    await _toggle(database, "ana", "Ana")
    first = await _case(database, "job-1")
    await reannounce_job(JobContext(settings, database))
    assert webhook.received == []  # someone is on shift: the card is for them first
    await _toggle(database, "ana", "", on=False)
    await reannounce_job(JobContext(settings, database))
    await reannounce_job(JobContext(settings, database))
    assert len(webhook.received) == 1
    alert = webhook.received[0]
    assert alert["case_id"] == first and "nobody is on shift" in alert["text"]
    assert "job-1" not in str(alert)


class RecordingHome:
    """A moderation home that records the cards it is given."""

    platform = "telegram"
    home = "telegram"
    announces_cases = True

    def __init__(self) -> None:
        self.cards: list[str] = []

    async def send_to_member(self, address: str, reply: Reply) -> None:
        return None

    async def open_thread(self, name: str, card: str) -> str:
        return "thread-1"

    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        self.cards.append(text)

    async def post_in_thread(self, thread_id: str, text: str) -> None:
        return None

    async def post_to_community(self, text: str) -> None:
        return None


async def test_a_home_posts_the_card_naming_those_on_shift(database: Database) -> None:
    await _toggle(database, "telegram:555", "Sam")
    await _toggle(database, "ana", "Ana")
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "telegram", "card-home")
        await HandoffCases(session, ("telegram",)).open_for_crisis(
            member, "telegram", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
    home = RecordingHome()
    await Delivery(database, home).deliver_once()
    assert len(home.cards) == 1
    assert "For those on shift first: Sam, Ana." in home.cards[0]
    assert "telegram:555" not in home.cards[0]


async def test_the_shift_log_goes_with_the_case_audit(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    from community.retention import purge

    settings = Settings(var_dir=tmp_path, database_url=database_url)
    now = datetime.now(UTC)
    async with database.transaction() as session:
        for moderator, ended in (("old", now - timedelta(days=400)), ("recent", now)):
            session.add(
                ModeratorShift(
                    moderator=moderator,
                    display_name=moderator,
                    started_at=ended - timedelta(hours=8),
                    ended_at=ended,
                )
            )
    await _toggle(database, "open", "Open")
    await purge(database, settings, now)
    async with database.sessions() as session:
        kept = sorted((await session.scalars(select(ModeratorShift.moderator))).all())
    assert kept == ["open", "recent"]
