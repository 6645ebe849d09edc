"""Follow-ups after a case (issue #21), through the real app on SQLite and PostgreSQL: offered
when a crisis case is resolved, sent at the time she agreed to (after a restart too), a second
gentle try and then nothing, "I need someone now" opening a case linked to the one before, her
language, quiet hours, her data, and the team's counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from community.db import Database
from community.followups import FollowUpTiming, send_due
from community.models import FollowUp
from community.phrases import phrase
from community.scheduling import JobContext, follow_ups_job
from community.settings import Settings
from peerbot.app import create_app
from tests.bots.test_moderation_api import _staff, auth

CRISIS_ES = "esta noche me quiero matar"
# Different words for each new chat: the same crisis words from several new chats at once are
# one flood (one alert, no case each).
CRISES = {
    "mom-follow-up-000001": "i want to kill myself tonight",
    "mom-follow-up-000002": "i don't want to be alive anymore",
    "mom-follow-up-000003": "i'm going to end my life",
    "mom-follow-up-000004": "i keep thinking about killing myself",
    "mom-follow-up-000005": "i wish i was dead, i have a plan",
    "mom-follow-up-000007": "i want to die tonight",
}


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """Check-ins a moment after she agrees, a second try a moment after that, no quiet hours."""
    return settings.model_copy(
        update={
            "followup_after_minutes": 0.01,
            "followup_retry_minutes": 0.01,
            "research_quiet_start_hour": 0,
            "research_quiet_end_hour": 0,
        }
    )


@pytest.fixture
def ana(quick: Settings) -> str:
    return asyncio.run(_staff(quick, "ana", "moderator", "Ana"))


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, run_scheduler=False))


@pytest.fixture
def client(quick: Settings) -> Iterator[TestClient]:
    with _client(quick) as test_client:
        yield test_client


def _run_job(settings: Settings) -> None:
    async def run() -> None:
        database = Database.connect(settings.resolved_database_url)
        try:
            await follow_ups_job(JobContext(settings, database))
        finally:
            await database.dispose()

    asyncio.run(run())


def _messages(client: TestClient, user: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/chat/{user}/messages").json()["messages"])


def _say(client: TestClient, user: str, text: str) -> list[dict[str, Any]]:
    return list(client.post("/api/chat", json={"user": user, "text": text}).json()["replies"])


def _resolve_crisis(client: TestClient, token: str, user: str, text: str, **body: Any) -> int:
    assert "988" in _say(client, user, text)[0]["text"]
    case_id = int(client.get("/api/cases", headers=auth(token)).json()["cases"][0]["id"])
    assert client.post(f"/api/cases/{case_id}/claim", headers=auth(token)).status_code == 200
    resolved = client.post(
        f"/api/cases/{case_id}/resolve",
        json={"outcome": "safe for now", **body},
        headers=auth(token),
    )
    assert resolved.status_code == 200
    return case_id


def _payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message.get("buttons") or []]


def test_check_in_after_a_crisis_arrives_when_agreed_even_after_a_restart(
    quick: Settings, ana: str
) -> None:
    user = "mom-follow-up-000001"
    with _client(quick) as client:
        first_case = _resolve_crisis(client, ana, user, CRISES[user])
        told = _messages(client, user)
        offer = told[-1]
        assert offer["text"] == phrase("followup_offer", "en")
        yes, later, no = _payloads(offer)
        assert yes.startswith("/followup_yes_") and later.startswith("/followup_later_")
        assert no.startswith("/followup_no_")
        assert _say(client, user, yes)[0]["text"] == phrase("followup_agreed", "en")
        # Nothing is due yet: the job sends nothing.
        _run_job(quick)
        assert _messages(client, user) == []

    time.sleep(1.0)  # past the agreed time, with the app stopped: a restart loses nothing
    _run_job(quick)
    with _client(quick) as client:
        checkin = _messages(client, user)
        assert [m["text"] for m in checkin] == [phrase("checkin", "en")]
        better, not_great, need_now = _payloads(checkin[0])
        assert better.startswith("/checkin_better_") and not_great.startswith("/checkin_not_gr")

        answered = _say(client, user, need_now)
        assert answered[0]["text"] == phrase("checkin_need_now", "en")
        cases = client.get("/api/cases", headers=auth(ana)).json()["cases"]
        assert len(cases) == 1 and cases[0]["id"] != first_case
        detail = client.get(f"/api/cases/{cases[0]['id']}", headers=auth(ana)).json()
        assert f"case #{first_case}" in str(detail)  # linked for the moderator

        stats = client.get("/api/stats", headers=auth(ana)).json()["follow_ups"]
        assert stats["offered_total"] == 1 and stats["answered"] == 1
        assert stats["answered_need_now"] == 1 and stats["unanswered"] == 0
        # Pressing the old button again opens nothing more.
        _say(client, user, need_now)
        assert len(client.get("/api/cases", headers=auth(ana)).json()["cases"]) == 1


def test_no_answer_gets_one_second_try_then_nothing(quick: Settings, ana: str) -> None:
    user = "mom-follow-up-000002"
    with _client(quick) as client:
        _resolve_crisis(client, ana, user, CRISES[user])
        yes = _payloads(_messages(client, user)[-1])[0]
        _say(client, user, yes)
        for expected in ("checkin", "checkin_again"):
            time.sleep(1.0)
            _run_job(quick)
            assert [m["text"] for m in _messages(client, user)] == [phrase(expected, "en")]
        time.sleep(1.0)
        _run_job(quick)
        assert _messages(client, user) == []  # no third message, ever
        stats = client.get("/api/stats", headers=auth(ana)).json()["follow_ups"]
        assert stats["unanswered"] == 1 and stats["sent"] == 0


def test_not_great_offers_a_person_and_no_means_no(quick: Settings, ana: str) -> None:
    with _client(quick) as client:
        _resolve_crisis(client, ana, "mom-follow-up-000003", CRISES["mom-follow-up-000003"])
        no = _payloads(_messages(client, "mom-follow-up-000003")[-1])[2]
        assert _say(client, "mom-follow-up-000003", no)[0]["text"] == phrase("followup_declined")
        time.sleep(1.0)
        _run_job(quick)
        assert _messages(client, "mom-follow-up-000003") == []

        _resolve_crisis(client, ana, "mom-follow-up-000004", CRISES["mom-follow-up-000004"])
        later = _payloads(_messages(client, "mom-follow-up-000004")[-1])[1]
        when = _say(client, "mom-follow-up-000004", later)[0]
        assert when["text"] == phrase("followup_when")
        in_two_days = _payloads(when)[0]
        assert _say(client, "mom-follow-up-000004", in_two_days)[0]["text"] == phrase(
            "followup_agreed"
        )
        time.sleep(1.0)
        _run_job(quick)
        assert _messages(client, "mom-follow-up-000004") == []  # two days, not now
        stats = client.get("/api/stats", headers=auth(ana)).json()["follow_ups"]
        assert stats["declined"] == 1 and stats["scheduled"] == 1


def test_a_moderators_own_schedule_and_not_great(quick: Settings, ana: str) -> None:
    """ "Check on her in 3 days" (here: a moment), with the default offer turned off; then her
    "Not great" offers a person."""
    with _client(quick) as client:
        assert (
            "988" in _say(client, "mom-follow-up-000005", CRISES["mom-follow-up-000005"])[0]["text"]
        )
        case_id = client.get("/api/cases", headers=auth(ana)).json()["cases"][0]["id"]
        scheduled = client.post(
            f"/api/cases/{case_id}/follow_up", json={"after_minutes": 0.01}, headers=auth(ana)
        )
        assert scheduled.status_code == 200
        client.post(f"/api/cases/{case_id}/claim", headers=auth(ana))
        client.post(
            f"/api/cases/{case_id}/resolve",
            json={"outcome": "ok", "follow_up": False},
            headers=auth(ana),
        )
        assert not any(
            m["text"] == phrase("followup_offer") for m in _messages(client, "mom-follow-up-000005")
        )
        time.sleep(1.0)
        _run_job(quick)
        checkin = _messages(client, "mom-follow-up-000005")
        not_great = _payloads(checkin[-1])[1]
        reply = _say(client, "mom-follow-up-000005", not_great)[0]
        assert reply["text"] == phrase("checkin_not_great")
        assert _payloads(reply) == ["/request_human", "/cancel_request"]


def test_in_her_language_and_never_in_quiet_hours(quick: Settings, ana: str) -> None:
    user = "mom-follow-up-000006"
    with _client(quick) as client:
        _resolve_crisis(client, ana, user, CRISIS_ES)
        offer = _messages(client, user)[-1]
        assert offer["text"] == phrase("followup_offer", "es")
        assert offer["buttons"][0]["title"] == phrase("button_followup_yes", "es")
        assert _say(client, user, _payloads(offer)[0])[0]["text"] == phrase("followup_agreed", "es")
        time.sleep(1.0)
        asyncio.run(_send_in_quiet_hours(quick))  # due, but quiet hours: nothing goes out
        assert _messages(client, user) == []
        _run_job(quick)
        assert [m["text"] for m in _messages(client, user)] == [phrase("checkin", "es")]


async def _send_in_quiet_hours(settings: Settings) -> None:
    database = Database.connect(settings.resolved_database_url)
    try:
        timing = FollowUpTiming(timedelta(seconds=1), timedelta(seconds=1), lambda now: True)
        async with database.transaction() as session:
            assert await send_due(session, timing) == 0
    finally:
        await database.dispose()


def test_her_data_counts_them_and_deletion_removes_them(quick: Settings, ana: str) -> None:
    user = "mom-follow-up-000007"
    with _client(quick) as client:
        _resolve_crisis(client, ana, user, CRISES[user])
        mine = _say(client, user, "/my_data")[0]["text"]
        assert phrase("my_data_follow_ups", "en", count=1) in mine
        _say(client, user, "/delete_my_data")
        _say(client, user, "/confirm_delete")

    async def count() -> int:
        database = Database.connect(quick.resolved_database_url)
        try:
            async with database.sessions() as session:
                return int(await session.scalar(select(func.count()).select_from(FollowUp)) or 0)
        finally:
            await database.dispose()

    assert asyncio.run(count()) == 0
