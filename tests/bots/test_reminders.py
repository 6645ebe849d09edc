"""Her own reminders (issue #21): her words read into a moment in her time zone (English and
Spanish), and through the real app on SQLite and PostgreSQL: set, listed, cancelled, sent at
her time by the job (its clock moved, never slept), her words erased once sent, in her data,
and deleted with her."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from community.db import Database
from community.models import Reminder
from community.phrases import phrase
from community.reminders import asked, read
from community.scheduling import JobContext, checkins_job
from community.settings import Settings
from tests.bots.test_follow_ups import _client, _messages, _payloads, _say
from tests.bots.test_moderation_api import _staff, auth

NEW_YORK = "America/New_York"
# Sunday, December 6, 2026, 10:00 in New York.
SUNDAY_10AM = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0, zone: str = NEW_YORK) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("said", "when", "label"),
    [
        ("remind me Tuesday 9am: clinic appointment", _at(8, 9), "clinic appointment"),
        ("/remind tomorrow 3pm: call WIC", _at(7, 15), "call WIC"),
        ("Remind me, December 12 10:30am - pediatrician", _at(12, 10, 30), "pediatrician"),
        ("remind me in 2 hours: rest", _at(6, 12), "rest"),
        ("remind me 9pm: pack the bag", _at(6, 21), "pack the bag"),
        ("remind me Sunday 9am: church", _at(13, 9), "church"),  # 9 has passed today
        ("remind me Friday: refill", _at(11, 9), "refill"),  # no time: 9 in the morning
        ("recuérdame el martes a las 9:00: cita en la clínica", _at(8, 9), "cita en la clínica"),
        ("Recuérdame mañana a las 3pm: llamar a la trabajadora social", _at(7, 15),
         "llamar a la trabajadora social"),
        ("recuerdame 12 de diciembre 10:30 - pediatra", _at(12, 10, 30), "pediatra"),
    ],
)  # fmt: skip
def test_her_words_are_read_in_her_time_zone(said: str, when: datetime, label: str) -> None:
    rest = asked(said)
    assert rest is not None
    reminder = read(rest, NEW_YORK, SUNDAY_10AM)
    assert (reminder.problem, reminder.when, reminder.label) == ("", when, label)


def test_her_zone_moves_the_moment() -> None:
    reminder = read("Tuesday 9am: clinic", "America/Los_Angeles", SUNDAY_10AM)
    assert reminder.when == _at(8, 9, zone="America/Los_Angeles")


@pytest.mark.parametrize(
    ("said", "problem"),
    [
        ("remind me clinic appointment", "reminder_how"),
        ("remind me banana: clinic", "reminder_when_unclear"),
        ("remind me yesterday 3pm: clinic", "reminder_past"),
        ("remind me December 12 2029 9am: clinic", "reminder_too_far"),
        ("remind me in 999999999 days: clinic", "reminder_when_unclear"),
        ("remind me 31 feb: clinic", "reminder_when_unclear"),
        ("remind me " + "tuesday " * 20 + "9am: clinic", "reminder_when_unclear"),
    ],
)
def test_what_cannot_be_read_is_asked_again(said: str, problem: str) -> None:
    rest = asked(said)
    assert rest is not None and read(rest, NEW_YORK, SUNDAY_10AM).problem == problem


def test_only_a_request_counts() -> None:
    assert asked("/reminders") is None
    assert asked("my mom reminds me of her") is None
    assert asked("remind me") == ""


def _run_job(settings: Settings, now: datetime) -> None:
    async def run() -> None:
        database = Database.connect(settings.resolved_database_url)
        try:
            await checkins_job(JobContext(settings, database), now)
        finally:
            await database.dispose()

    asyncio.run(run())


def _rows(settings: Settings) -> list[Reminder]:
    async def read_rows() -> list[Reminder]:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.sessions() as session:
                return list((await session.scalars(select(Reminder).order_by(Reminder.id))).all())
        finally:
            await database.dispose()

    return asyncio.run(read_rows())


def test_set_listed_cancelled_sent_and_her_words_erased(settings: Settings) -> None:
    user = "mom-reminders-000000001"
    ana = asyncio.run(_staff(settings, "ana", "moderator", "Ana"))
    with _client(settings) as client:
        set_reply = _say(client, user, "remind me tomorrow 9am: clinic appointment")[0]["text"]
        assert set_reply.startswith("Got it. I'll remind you on ")
        assert '9:00 AM (Eastern time): "clinic appointment"' in set_reply
        assert phrase("timezone_note", "en", zone="Eastern time") in set_reply
        second = _say(client, user, "/remind in 3 days 6pm: call my sponsor")[0]["text"]
        assert "/timezone" not in second  # told once
        listed = _say(client, user, "/reminders")[0]
        assert "\n1. " in listed["text"] and "9:00 AM: clinic appointment" in listed["text"]
        assert "\n2. " in listed["text"] and "6:00 PM: call my sponsor" in listed["text"]
        clinic, sponsor = _rows(settings)
        assert _payloads(listed) == [
            f"/reminder_cancel_{clinic.id}",
            f"/reminder_cancel_{sponsor.id}",
        ]
        cancelled = _say(client, user, f"/reminder_cancel_{sponsor.id}")[0]["text"]
        assert cancelled == phrase("reminder_cancelled", "en")
        assert _say(client, user, f"/reminder_cancel_{sponsor.id}")[0]["text"] == phrase(
            "reminder_gone", "en"
        )
        assert (
            phrase("my_data_reminders", "en", count=1) in _say(client, user, "/my_data")[0]["text"]
        )
    assert [(r.status, r.label) for r in _rows(settings)] == [
        ("pending", "clinic appointment"),
        ("cancelled", None),  # her words go at once
    ]
    _run_job(settings, clinic.due_at - timedelta(minutes=1))
    with _client(settings) as client:
        assert _messages(client, user) == []
    _run_job(settings, clinic.due_at + timedelta(seconds=30))  # a fresh process: nothing lost
    _run_job(settings, clinic.due_at + timedelta(minutes=1))  # sent once
    with _client(settings) as client:
        assert [m["text"] for m in _messages(client, user)] == [
            phrase("reminder_due", "en", label="clinic appointment")
        ]
        assert _say(client, user, "/reminders")[0]["text"] == phrase("reminders_none", "en")
        stats = client.get("/api/stats", headers=auth(ana)).json()["reminders"]
        assert stats == {"pending": 0, "sent": 1, "cancelled": 1}
    assert [(r.status, r.label) for r in _rows(settings)] == [("sent", None), ("cancelled", None)]
    _run_job(settings, clinic.due_at + timedelta(days=8))  # a week on, the empty rows go
    assert _rows(settings) == []


def test_in_spanish_in_her_zone_and_deleted_with_her(settings: Settings) -> None:
    user = "mom-reminders-000000002"
    with _client(settings) as client:
        _say(client, user, "/language es")
        zone = _say(client, user, "/timezone Central")[0]["text"]
        assert zone == phrase("timezone_set", "es", zone="hora del Centro")
        assert _say(client, user, "/timezone Narnia")[0]["text"] == phrase("timezone_unknown", "es")
        told = _say(client, user, "recuérdame el martes a las 9:00: cita en la clínica")[0]["text"]
        assert told.startswith("Listo. Te lo recuerdo el martes ")
        assert '9:00 (hora del Centro): "cita en la clínica"' in told
        assert "/timezone" not in told  # her zone is known: not asked again
        assert _say(client, user, "recuérdame cita")[0]["text"] == phrase("reminder_how", "es")
    (row,) = _rows(settings)
    assert row.due_at.astimezone(ZoneInfo("America/Chicago")).hour == 9
    _run_job(settings, row.due_at)
    with _client(settings) as client:
        assert [m["text"] for m in _messages(client, user)] == [
            phrase("reminder_due", "es", label="cita en la clínica")
        ]
        _say(client, user, "recuérdame mañana 10:00: llamar")
        _say(client, user, "/delete_my_data")
        _say(client, user, "/confirm_delete")
    assert _rows(settings) == []
