"""Check-ins she chooses (issue #21), through the real app on SQLite and PostgreSQL: set up with
buttons, sent at her chosen time (the job's clock moved, never slept), held in quiet hours,
kept across a restart, paused, resumed and stopped with a word, "I need someone now" opening a
case, Spanish, her data, and the team's counts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from community.checkins import ACTIVE, PAUSED, STOPPED, read_request
from community.db import Database
from community.models import CheckinSchedule, FollowUp
from community.phrases import phrase
from community.scheduling import JobContext, checkins_job
from community.settings import Settings
from tests.bots.test_follow_ups import _client, _messages, _payloads, _say
from tests.bots.test_moderation_api import _staff, auth

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def community(settings: Settings) -> Settings:
    """The community's own quiet hours (9 pm to 9 am, New York)."""
    return settings.model_copy(
        update={
            "research_timezone": "America/New_York",
            "research_quiet_start_hour": 21,
            "research_quiet_end_hour": 9,
        }
    )


def _run_job(settings: Settings, now: datetime) -> None:
    """The scheduler's job, as it runs in a fresh process, at `now`."""

    async def run() -> None:
        database = Database.connect(settings.resolved_database_url)
        try:
            await checkins_job(JobContext(settings, database), now)
        finally:
            await database.dispose()

    asyncio.run(run())


def _schedule(settings: Settings) -> CheckinSchedule:
    async def read() -> CheckinSchedule:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.sessions() as session:
                schedule = await session.scalar(select(CheckinSchedule))
                assert schedule is not None
                return schedule
        finally:
            await database.dispose()

    return asyncio.run(read())


def _local(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment.astimezone(NEW_YORK)


def _set_up(client: Any, user: str, every: int, minute: int) -> dict[str, Any]:
    offer = _say(client, user, "/checkins")[0]
    assert offer["text"] == phrase("checkins_offer", "en")
    assert _payloads(offer) == ["/checkins_every_3", "/checkins_every_7"]
    times = _say(client, user, f"/checkins_every_{every}")[0]
    assert times["text"] == phrase("checkins_what_time", "en")
    assert _payloads(times) == [f"/checkins_set_{every}_{m}" for m in (540, 780, 1140)]
    return _say(client, user, f"/checkins_set_{every}_{minute}")[0]


def test_sent_at_her_time_after_a_restart_and_then_a_week_later(community: Settings) -> None:
    user = "mom-checkins-0000000001"
    with _client(community) as client:
        done = _set_up(client, user, 7, 9 * 60)
        assert "once a week at 9:00 AM (Eastern time)" in done["text"]
        assert phrase("timezone_note", "en", zone="Eastern time") in done["text"]
        assert _payloads(done) == ["/checkins_pause", "/checkins_stop"]
    # The app is stopped; the row is all there is.
    first = _local(_schedule(community).next_at)
    assert (first.hour, first.minute) == (9, 0)
    assert first - datetime.now(UTC) <= timedelta(days=1)
    _run_job(community, first - timedelta(minutes=1))
    with _client(community) as client:
        assert _messages(client, user) == []
    _run_job(community, first + timedelta(minutes=1))  # a fresh process: a restart lost nothing
    _run_job(community, first + timedelta(minutes=2))  # and it is sent once, not twice
    with _client(community) as client:
        sent = _messages(client, user)
        assert [m["text"] for m in sent] == [phrase("checkin_chosen", "en")]
        better, _, need_now = _payloads(sent[0])
        assert better.startswith("/checkin_better_") and need_now.startswith("/checkin_need_now_")
        assert _say(client, user, better)[0]["text"] == phrase("checkin_better", "en")
    schedule = _schedule(community)
    assert schedule.sent == 1 and schedule.status == ACTIVE
    assert _local(schedule.next_at) == first + timedelta(days=7)


def test_quiet_hours_hold_it_until_morning(community: Settings) -> None:
    user = "mom-checkins-0000000002"
    with _client(community) as client:
        done = _say(client, user, "/checkins 3 7am")[0]  # typed: every 3 days, at 7 AM
        assert "every 3 days at 7:00 AM" in done["text"]
    due = _local(_schedule(community).next_at)
    assert (due.hour, due.minute) == (7, 0)
    _run_job(community, due + timedelta(minutes=5))  # 7:05 AM: the community's quiet hours
    with _client(community) as client:
        assert _messages(client, user) == []
    _run_job(community, due.replace(hour=9, minute=1))  # quiet hours over
    with _client(community) as client:
        assert [m["text"] for m in _messages(client, user)] == [phrase("checkin_chosen", "en")]
    assert _local(_schedule(community).next_at) == due + timedelta(days=3)


def test_need_someone_now_opens_a_case_and_the_team_counts_it(community: Settings) -> None:
    user = "mom-checkins-0000000003"
    ana = asyncio.run(_staff(community, "ana", "moderator", "Ana"))
    with _client(community) as client:
        _set_up(client, user, 3, 13 * 60)
    due = _schedule(community).next_at
    assert due is not None
    _run_job(community, due)
    with _client(community) as client:
        need_now = _payloads(_messages(client, user)[0])[2]
        assert _say(client, user, need_now)[0]["text"] == phrase("checkin_need_now", "en")
        cases = client.get("/api/cases", headers=auth(ana)).json()["cases"]
        assert len(cases) == 1 and cases[0]["status"] == "waiting"
        detail = client.get(f"/api/cases/{cases[0]['id']}", headers=auth(ana)).json()
        assert "regular check-in she chose" in str(detail)
        stats = client.get("/api/stats", headers=auth(ana)).json()
        assert stats["checkins"]["schedules_active"] == 1
        assert stats["checkins"]["answered"] == 1 and stats["checkins"]["answered_need_now"] == 1
        assert stats["follow_ups"]["answered"] == 0  # counted apart from follow-ups after cases
    # While a person has her conversation, the next check-in is not sent over it.
    after = _schedule(community).next_at
    assert after is not None and after == due + timedelta(days=3)
    _run_job(community, after)
    with _client(community) as client:
        assert _messages(client, user) == []
    assert _schedule(community).next_at == after + timedelta(days=3)


def test_pause_resume_and_stop_with_a_word(community: Settings) -> None:
    user = "mom-checkins-0000000004"
    with _client(community) as client:
        _set_up(client, user, 7, 19 * 60)
        # "stop" alone means nothing to check-ins before one has come (the bot answers it).
        assert _say(client, user, "stop")[0]["text"] != phrase("checkins_stopped", "en")
        assert _schedule(community).status == ACTIVE
        paused = _say(client, user, "Pause check-ins")[0]
        assert paused["text"] == phrase("checkins_paused", "en")
        assert _payloads(paused) == ["/checkins_resume"]
    assert _schedule(community).status == PAUSED and _schedule(community).next_at is None
    _run_job(community, datetime.now(UTC) + timedelta(days=8))
    with _client(community) as client:
        assert _messages(client, user) == []  # paused: nothing comes
        assert _say(client, user, "resume check-ins")[0]["text"] == phrase("checkins_resumed", "en")
    due = _schedule(community).next_at
    assert due is not None
    _run_job(community, due)
    with _client(community) as client:
        assert [m["text"] for m in _messages(client, user)] == [phrase("checkin_chosen", "en")]
        # Just after a check-in, one word stops them.
        assert _say(client, user, "Stop")[0]["text"] == phrase("checkins_stopped", "en")
    assert _schedule(community).status == STOPPED
    _run_job(community, due + timedelta(days=30))
    with _client(community) as client:
        assert _messages(client, user) == []


def test_in_spanish_with_her_data_and_deletion(community: Settings) -> None:
    user = "mom-checkins-0000000005"
    with _client(community) as client:
        _say(client, user, "/language es")
        offer = _say(client, user, "/checkins")[0]
        assert offer["text"] == phrase("checkins_offer", "es")
        assert offer["buttons"][1]["title"] == "Una vez por semana"
        done = _say(client, user, "/checkins_set_7_540")[0]
        assert "una vez por semana a las 9:00 (hora del Este)" in done["text"]
        assert _say(client, user, "/timezone pacífico")[0]["text"] == phrase(
            "timezone_set", "es", zone="hora del Pacífico"
        )
        mine = _say(client, user, "/my_data")[0]["text"]
        assert "una vez por semana a las 9:00 (hora del Pacífico), activos" in mine
    due = _schedule(community).next_at
    assert due is not None and due.astimezone(ZoneInfo("America/Los_Angeles")).hour == 9
    _run_job(community, due)
    with _client(community) as client:
        sent = _messages(client, user)
        assert [m["text"] for m in sent] == [phrase("checkin_chosen", "es")]
        assert sent[0]["buttons"][0]["title"] == phrase("button_checkin_better", "es")
        assert _say(client, user, "pausa")[0]["text"] == phrase("checkins_paused", "es")
        _say(client, user, "/delete_my_data")
        _say(client, user, "/confirm_delete")

    async def left() -> int:
        database = Database.connect(community.resolved_database_url)
        try:
            async with database.sessions() as session:
                schedules = (await session.scalars(select(CheckinSchedule))).all()
                follow_ups = (await session.scalars(select(FollowUp))).all()
                return len(schedules) + len(follow_ups)
        finally:
            await database.dispose()

    assert asyncio.run(left()) == 0


def test_her_words_are_read_into_requests() -> None:
    assert read_request("/checkins") is not None
    request = read_request("/checkins 7 8:30pm")
    assert request is not None and (request.action, request.every_days, request.at_minute) == (
        "set",
        7,
        20 * 60 + 30,
    )
    assert read_request("/checkins 5 8pm") == read_request("/checkins")  # 3 or 7 only: asked
    assert read_request("pausar los mensajes") is not None
    assert read_request("Stop check-ins!") is not None
    assert read_request("stop") is None  # alone, only just after a check-in (the gateway asks)
    assert read_request("I want to stop using") is None
