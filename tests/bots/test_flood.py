"""A fake flood must not bury a real crisis: crisis messages from new chats at one address, or
with the same words from many addresses, become one flood alert for moderators (each sender still
gets the crisis numbers), while a crisis from a member who was here before opens her own case
and stays on top of the queue. Over the rate limits, everything but a crisis is refused kindly.
Through the real app on SQLite and PostgreSQL; the same script as the attack that found it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from community.db import Database
from community.members import pseudonym_for
from community.messages import InboundMessage
from community.models import Member, utcnow
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app

FAKE = "i took all my pills"
GENUINE = "i want to kill myself tonight, i have the rope ready"


def _run(settings: Settings, work: object) -> object:
    async def go() -> object:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return await work(session)  # type: ignore[operator]
        finally:
            await database.dispose()

    return asyncio.run(go())


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def moderator(settings: Settings) -> dict[str, str]:
    token = _run(settings, lambda session: add_staff(session, "ana", "moderator", "Ana"))
    return {"Authorization": f"Bearer {token}"}


def _known_member(client: TestClient, settings: Settings, user: str) -> None:
    """A member who first wrote two days ago."""
    client.post("/api/chat", json={"user": user, "text": "hi"})
    pseudonym = pseudonym_for(settings.pseudonym_key(), "web", user)
    _run(
        settings,
        lambda session: session.execute(
            update(Member)
            .where(Member.pseudonym == pseudonym)
            .values(created_at=utcnow() - timedelta(days=2))
        ),
    )


def _fresh_id() -> str:
    return uuid.uuid4().hex


def test_a_flood_from_one_address_is_one_alert_and_a_real_crisis_stays_on_top(
    client: TestClient, settings: Settings, moderator: dict[str, str]
) -> None:
    _known_member(client, settings, "known-member-0001")
    answered = 0
    for number in range(90):  # past the per-address limit of 60 a minute
        if number == 45:
            genuine = client.post("/api/chat", json={"user": "known-member-0001", "text": GENUINE})
            assert genuine.status_code == 200 and "988" in genuine.text
        response = client.post("/api/chat", json={"user": _fresh_id(), "text": FAKE})
        assert response.status_code == 200, response.text  # a crisis is always answered
        answered += "911" in response.json()["replies"][0]["text"]
    assert answered == 90

    cases = client.get("/api/cases", headers=moderator).json()["cases"]
    assert cases[0]["trigger"] == GENUINE  # on top of the queue
    assert len(cases) <= 3  # hers, and the flood's first two (gathered into its alert, below)
    alerts = client.get("/api/flood-alerts", headers=moderator).json()["alerts"]
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "address" and alerts[0]["count"] == 90
    assert alerts[0]["sample"] == FAKE

    # Over the limit, anything but a crisis is refused kindly, with when to try again.
    refused = client.post("/api/chat", json={"user": _fresh_id(), "text": "hello?"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "faster than I can read" in refused.json()["replies"][0]["text"]

    # Seen and closed; the same flood going on opens it again, counted from one.
    closed = client.post(f"/api/flood-alerts/{alerts[0]['id']}/close", headers=moderator)
    assert closed.status_code == 200
    assert client.get("/api/flood-alerts", headers=moderator).json()["alerts"] == []
    client.post("/api/chat", json={"user": _fresh_id(), "text": FAKE})
    again = client.get("/api/flood-alerts", headers=moderator).json()["alerts"]
    assert [(a["id"], a["count"]) for a in again] == [(alerts[0]["id"], 1)]


def test_the_same_words_from_many_addresses_are_one_alert(
    client: TestClient, settings: Settings, moderator: dict[str, str]
) -> None:
    gateway = client.app.state.services.gateway  # type: ignore[attr-defined]
    assert client.portal is not None
    for number in range(30):
        message = InboundMessage("web", _fresh_id(), f"I took ALL my pills!! {number}",
                                 source=f"10.0.{number}.7")  # fmt: skip
        replies = client.portal.call(gateway.handle, message)
        assert "911" in replies[0].text
    # A new mother, elsewhere, in her own words: her own case, on top.
    mine = InboundMessage("web", _fresh_id(), GENUINE, source="192.0.2.40")
    assert "988" in client.portal.call(gateway.handle, mine)[0].text

    cases = client.get("/api/cases", headers=moderator).json()["cases"]
    assert cases[0]["trigger"] == GENUINE
    alerts = client.get("/api/flood-alerts", headers=moderator).json()["alerts"]
    assert [(a["kind"], a["count"]) for a in alerts] == [("words", 30)]


def test_new_chats_from_one_address_are_limited_but_not_her_crisis(
    client: TestClient, settings: Settings
) -> None:
    for _ in range(10):  # the per-address allowance of new chats an hour
        assert client.post("/api/chat", json={"user": _fresh_id(), "text": "hi"}).status_code == 200
    eleventh = client.post("/api/chat", json={"user": _fresh_id(), "text": "hi"})
    assert "new chats are starting from your connection" in eleventh.text
    crisis = client.post("/api/chat", json={"user": _fresh_id(), "text": GENUINE})
    assert "988" in crisis.text


async def test_a_flood_alert_reaches_the_chat_homes_once_and_again_as_it_grows(
    database: Database,
) -> None:
    from community.cases.floods import count_into_alert
    from community.flood_guard import Flood
    from community.models import HomePost

    async def flood(messages: int) -> list[str]:
        for _ in range(messages):
            async with database.transaction() as session:
                await count_into_alert(session, Flood("words", "sig-1", FAKE), ("web", "telegram"))
        async with database.sessions() as session:
            return list((await session.scalars(select(HomePost.text))).all())

    posts = await flood(12)
    assert len(posts) == 2  # opened, then at 10
    assert "1 crisis message(s)" in posts[0] and "10 crisis message(s)" in posts[1]


async def test_an_open_case_keeps_her_words_within_a_budget_and_tells_the_moderator(
    database: Database,
) -> None:
    """A script could fill the disk through an open case (300 messages of 90,000 characters in
    two seconds): past 20,000 characters an hour (or 30 messages a minute) a message is kept
    short, the moderator is told once, and a crisis message is still kept whole."""
    from bots.dialogue import DialogueClient
    from bots.gateway import Gateway, GatewayConfig
    from community.flood_guard import FloodGuard
    from community.models import CaseMessage

    key = b"k" * 48
    gateway = Gateway(
        GatewayConfig(key, 4000, ("web",)),
        database,
        DialogueClient("http://127.0.0.1:9", 1.0),
        flood_guard=FloodGuard(key),
    )
    user = "budgeted-member-01"
    await gateway.handle(InboundMessage("web", user, GENUINE))  # opens her case
    words = ("word " * 200).strip()  # 999 characters: 20 of them fit in 20,000
    for _ in range(25):
        await gateway.handle(InboundMessage("web", user, words))
    await gateway.handle(InboundMessage("web", user, "i took all my pills " + words))
    async with database.sessions() as session:
        turns = (await session.scalars(select(CaseMessage).order_by(CaseMessage.id))).all()
    from_her = [t.text for t in turns if t.author == "member"]
    notes = [t.text for t in turns if t.author == "screen" and "kept short" in t.text]
    assert sum(len(t) == len(words.strip()) for t in from_her) == 20
    assert sum(t.endswith("[shortened: over the limit]") for t in from_her) == 5
    assert len(notes) == 1
    assert from_her[-1].startswith("i took all my pills") and len(from_her[-1]) > 1000
