"""The console's server side through the real app and SQLite: staff by display name, never by
platform id, the queue sorted waiting first, then risk, then wait, and her language shown when
she writes in Spanish."""

from __future__ import annotations

import asyncio
import json

from fastapi.testclient import TestClient
from sqlalchemy import update

from community.cases.handoff import ModeratorActions
from community.db import Database
from community.delivery import case_card_text
from community.members import pseudonym_for
from community.models import Member
from community.settings import Settings
from tests.bots.test_moderation_api import CRISIS, auth, client, tokens

__all__ = ["client", "tokens"]  # fixtures used below


def _crisis(client: TestClient, user: str, text: str = CRISIS) -> None:
    assert "988" in client.post("/api/chat", json={"user": user, "text": text}).text


def test_a_claim_shows_the_display_name_and_release_clears_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    _crisis(client, "mom-console-name-0001")
    case_id = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"][0]["id"]
    assert (
        client.post(f"/api/cases/{case_id}/claim", headers=auth(tokens["ana"])).json()[
            "claimed_by_name"
        ]
        == "Ana"
    )
    seen_by_ben = client.get(f"/api/cases/{case_id}", headers=auth(tokens["ben"])).json()["case"]
    assert seen_by_ben["claimed_by_name"] == "Ana"
    refused = client.post(
        f"/api/cases/{case_id}/resolve", json={"outcome": "x"}, headers=auth(tokens["ben"])
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == "This case is claimed by Ana."
    client.post(f"/api/cases/{case_id}/release", headers=auth(tokens["ana"]))
    listed = client.get("/api/cases", headers=auth(tokens["ben"])).json()["cases"][0]
    assert (listed["status"], listed["claimed_by_name"]) == ("waiting", None)
    client.post(f"/api/cases/{case_id}/claim", headers=auth(tokens["ben"]))
    client.post(f"/api/cases/{case_id}/transfer", json={"to": "ana"}, headers=auth(tokens["ben"]))
    moved = client.get(f"/api/cases/{case_id}", headers=auth(tokens["ana"])).json()["case"]
    assert (moved["claimed_by"], moved["claimed_by_name"]) == ("ana", "Ana")


async def _claim_from_a_chat_home(settings: Settings, case_id: int, name: str | None) -> str:
    """Claim as a chat home does (platform id as the actor); return the case card's text."""
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            actions = ModeratorActions(session)
            await actions.claim(case_id, "telegram:555", display_name=name)
        async with database.transaction() as session:
            actions = ModeratorActions(session)
            return case_card_text(await actions.summary(await actions._case(case_id)), "claimed")
    finally:
        await database.dispose()


def test_a_chat_home_claim_never_shows_its_platform_id(
    client: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    _crisis(client, "mom-console-card-0001")
    _crisis(client, "mom-console-card-0002")
    first, second = (
        c["id"] for c in client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"]
    )
    card = asyncio.run(_claim_from_a_chat_home(settings, first, "Sam (peer)"))
    assert "claimed by Sam (peer)" in card and "telegram:555" not in card
    # An older caller that passes no name: "a moderator", never the id.
    card = asyncio.run(_claim_from_a_chat_home(settings, second, None))
    assert "claimed by a moderator" in card and "555" not in card
    cases = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"]
    assert {c["id"]: c["claimed_by_name"] for c in cases} == {first: "Sam (peer)", second: None}


def test_the_queue_puts_waiting_cases_above_claimed_ones(
    client: TestClient, tokens: dict[str, str]
) -> None:
    _crisis(client, "mom-console-sort-0001")
    _crisis(client, "mom-console-sort-0002", "i keep thinking about ending my life")
    top = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"][0]
    client.post(f"/api/cases/{top['id']}/claim", headers=auth(tokens["ana"]))
    after = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"]
    assert [c["status"] for c in after] == ["waiting", "claimed"]
    assert after[1]["id"] == top["id"]


def test_the_queue_stream_pushes_the_queue_and_needs_a_moderator(
    client: TestClient, tokens: dict[str, str]
) -> None:
    _crisis(client, "mom-console-stream-01")
    with client.stream(
        "GET", "/api/cases/stream", params={"seconds": 1}, headers=auth(tokens["ana"])
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read().decode()
    event, data = body.split("\n")[:2]
    assert event == "event: queue"
    cases = json.loads(data.removeprefix("data: "))["cases"]
    assert [c["status"] for c in cases] == ["waiting"]
    assert client.get("/api/cases/stream").status_code == 401


async def _answered_in(settings: Settings, key: bytes, user: str, language: str | None) -> None:
    """Her language as the gateway keeps it (Member.language), for a web chat member."""
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            await session.execute(
                update(Member)
                .where(Member.pseudonym == pseudonym_for(key, "web", user))
                .values(language=language, language_source="written")
            )
    finally:
        await database.dispose()


def test_moderators_see_when_she_writes_in_spanish(
    client: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    key = client.app.state.services.pseudonym_key  # type: ignore[attr-defined]
    _crisis(client, "mom-console-lang-es01", "ya no quiero vivir, me quiero morir")
    _crisis(client, "mom-console-lang-en01")
    asyncio.run(_answered_in(settings, key, "mom-console-lang-es01", "es"))
    asyncio.run(_answered_in(settings, key, "mom-console-lang-en01", None))
    cases = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"]
    by_trigger = {c["trigger"]: c for c in cases}
    spanish = by_trigger["ya no quiero vivir, me quiero morir"]
    assert spanish["language"] == "es"
    assert by_trigger[CRISIS]["language"] is None  # not known yet
    asyncio.run(_answered_in(settings, key, "mom-console-lang-en01", "en"))
    cases = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"]
    assert {c["trigger"]: c["language"] for c in cases}[CRISIS] == "en"
    detail = client.get(f"/api/cases/{spanish['id']}", headers=auth(tokens["ben"])).json()
    assert detail["case"]["language"] == "es"

    # The chat homes' case card says so on a line of its own; an English one says nothing.
    card = asyncio.run(_claim_from_a_chat_home(settings, spanish["id"], "Sam (peer)"))
    assert "Writes in Spanish: reply in Spanish if you can." in card.splitlines()
    english = asyncio.run(_claim_from_a_chat_home(settings, by_trigger[CRISIS]["id"], "Sam"))
    assert "Spanish" not in english
