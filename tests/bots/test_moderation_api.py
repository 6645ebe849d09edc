"""The moderators' API through the real app: auth, queue, claim, relay both ways, resolve."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from community.db import Database
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app

CRISIS = "i want to kill myself tonight"


async def _staff(settings: Settings, name: str, role: str, display: str) -> str:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            return await add_staff(session, name, role, display)
    finally:
        await database.dispose()


@pytest.fixture
def tokens(settings: Settings) -> dict[str, str]:
    return {
        "ana": asyncio.run(_staff(settings, "ana", "moderator", "Ana")),
        "ben": asyncio.run(_staff(settings, "ben", "moderator", "Ben")),
        "rae": asyncio.run(_staff(settings, "rae", "researcher", "Rae")),
    }


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_scheduler=False)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_crisis(client: TestClient, user: str = "mom-web-123-000000") -> int:
    replies = client.post("/api/chat", json={"user": user, "text": CRISIS}).json()["replies"]
    assert "988" in replies[0]["text"]
    return 0


ROUTES = [
    ("get", "/api/cases", None),
    ("get", "/api/notices", None),
    ("get", "/api/cases/1", None),
    ("post", "/api/cases/1/claim", None),
    ("post", "/api/cases/1/messages", {"text": "hi"}),
    ("get", "/api/cases/1/messages", None),
    ("post", "/api/cases/1/resolve", {"outcome": "ok"}),
    ("post", "/api/cases/1/notes", {"text": "n"}),
    ("get", "/api/snippets", None),
    ("get", "/api/stats", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_moderator_token(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: object
) -> None:
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    assert call(path, **kwargs).status_code == 401
    assert call(path, headers=auth("pb_not-a-real-token"), **kwargs).status_code == 401
    assert call(path, headers={"Authorization": "Basic abc"}, **kwargs).status_code == 401
    assert call(path, headers=auth(tokens["rae"]), **kwargs).status_code == 403


def test_full_handoff_through_the_api(client: TestClient, tokens: dict[str, str]) -> None:
    user = "mom-web-123-000000"
    open_crisis(client, user)
    cases = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"]
    assert len(cases) == 1
    case = cases[0]
    assert (case["status"], case["category"], case["severity"]) == (
        "waiting",
        "suicide",
        "imminent",
    )
    assert case["trigger"] == CRISIS
    assert user not in str(case) and case["member"].startswith("member-")
    case_id = case["id"]

    # Two moderators click Claim: one wins, the other gets 409.
    assert (
        client.post(f"/api/cases/{case_id}/claim", headers=auth(tokens["ana"])).status_code == 200
    )
    assert (
        client.post(f"/api/cases/{case_id}/claim", headers=auth(tokens["ben"])).status_code == 409
    )
    # Only the claimer can reply.
    assert (
        client.post(
            f"/api/cases/{case_id}/messages", json={"text": "x"}, headers=auth(tokens["ben"])
        ).status_code
        == 409
    )
    sent = client.post(
        f"/api/cases/{case_id}/messages",
        json={"text": "Hi, I'm Ana from the community. I'm here."},
        headers=auth(tokens["ana"]),
    )
    assert sent.status_code == 200
    later = client.get(f"/api/chat/{user}/messages").json()["messages"]
    # She is told who joined (display name and role, no account), then hears from them.
    assert [(m["text"], m["sender_name"]) for m in later] == [
        (
            "Ana (peer support team) has joined the chat. From now on, a person is answering "
            "you here.",
            None,
        ),
        ("Hi, I'm Ana from the community. I'm here.", "Ana"),
    ]
    # A second moderator is told who has the case by name, never by account.
    refused = client.post(
        f"/api/cases/{case_id}/resolve", json={"outcome": "x"}, headers=auth(tokens["ben"])
    )
    assert refused.status_code == 409 and "claimed by Ana" in refused.text

    # Her answer goes to the case, and the bot stays quiet.
    assert client.post("/api/chat", json={"user": user, "text": "thank you for coming"}).json() == {
        "replies": []
    }
    transcript = client.get(f"/api/cases/{case_id}/messages", headers=auth(tokens["ana"])).json()
    assert [m["author"] for m in transcript["messages"]] == ["member", "bot", "moderator", "member"]
    assert transcript["messages"][-1]["text"] == "thank you for coming"

    client.post(
        f"/api/cases/{case_id}/notes",
        json={"text": "safety plan made"},
        headers=auth(tokens["ana"]),
    )
    detail = client.get(f"/api/cases/{case_id}", headers=auth(tokens["ana"])).json()
    assert [n["text"] for n in detail["notes"]] == ["safety plan made"]

    resolved = client.post(
        f"/api/cases/{case_id}/resolve",
        json={"outcome": "safe, plan made"},
        headers=auth(tokens["ana"]),
    )
    assert resolved.status_code == 200
    goodbye = client.get(f"/api/chat/{user}/messages").json()["messages"]
    assert goodbye[0]["text"].startswith("Ana has left the chat. ")
    assert "reach a person again any time" in goodbye[0]["text"]
    assert client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"] == []
    # The bot is back (Rasa is down in this test, so its fallback answers).
    back = client.post("/api/chat", json={"user": user, "text": "hello"}).json()["replies"]
    assert "988" in back[0]["text"]

    stats = client.get("/api/stats", headers=auth(tokens["ana"])).json()
    assert stats["cases"] == 1 and stats["claimed"] == 1
    assert stats["median_seconds_to_first_reply"] is not None


def test_release_and_transfer(client: TestClient, tokens: dict[str, str]) -> None:
    open_crisis(client)
    case_id = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"][0]["id"]
    client.post(f"/api/cases/{case_id}/claim", headers=auth(tokens["ana"]))
    assert (
        client.post(f"/api/cases/{case_id}/release", headers=auth(tokens["ben"])).status_code == 409
    )
    assert (
        client.post(f"/api/cases/{case_id}/release", headers=auth(tokens["ana"])).status_code == 200
    )
    assert (
        client.post(f"/api/cases/{case_id}/claim", headers=auth(tokens["ben"])).status_code == 200
    )
    moved = client.post(
        f"/api/cases/{case_id}/transfer", json={"to": "ana"}, headers=auth(tokens["ben"])
    )
    assert moved.status_code == 200
    assert (
        client.get(f"/api/cases/{case_id}", headers=auth(tokens["ana"])).json()["case"][
            "claimed_by"
        ]
        == "ana"
    )
    assert (
        client.post(
            f"/api/cases/{case_id}/transfer", json={"to": "rae"}, headers=auth(tokens["ana"])
        ).status_code
        == 409
    )
    # She is told each change of who is with her, by name.
    told = [
        m["text"] for m in client.get("/api/chat/mom-web-123-000000/messages").json()["messages"]
    ]
    assert [t.split(".")[0] for t in told] == [
        "Ana (peer support team) has joined the chat",
        "The person from our team who was with you had to step away",
        "Ben (peer support team) has joined the chat",
        "Ben has handed over to Ana (peer support team), who is with you now",
    ]


def test_blocked_member_gets_no_bot_but_still_gets_crisis_help(
    client: TestClient, tokens: dict[str, str]
) -> None:
    user = "abusive-one-000000"
    client.post("/api/chat", json={"user": user, "text": "can i talk to a person"})
    open_crisis(client, user)
    case_id = client.get("/api/cases", headers=auth(tokens["ana"])).json()["cases"][0]["id"]
    blocked = client.post(
        f"/api/cases/{case_id}/block",
        json={"reason": "shaming other moms", "days": 7},
        headers=auth(tokens["ana"]),
    )
    assert blocked.status_code == 200
    client.post(
        f"/api/cases/{case_id}/resolve", json={"outcome": "blocked"}, headers=auth(tokens["ana"])
    )
    paused = client.post("/api/chat", json={"user": user, "text": "hello"}).json()["replies"]
    assert "paused" in paused[0]["text"]
    crisis = client.post("/api/chat", json={"user": user, "text": CRISIS}).json()["replies"]
    assert "988" in crisis[0]["text"]


def test_snippets_are_served_and_unknown_cases_are_404(
    client: TestClient, tokens: dict[str, str]
) -> None:
    snippets = client.get("/api/snippets", headers=auth(tokens["ana"])).json()
    assert {s["id"] for s in snippets} >= {"joining", "crisis_numbers"}
    assert client.post("/api/cases/999/claim", headers=auth(tokens["ana"])).status_code == 404


def test_revoked_and_expired_tokens_are_refused(settings: Settings, client: TestClient) -> None:
    from datetime import timedelta

    from community.staff import revoke_staff

    token = asyncio.run(_staff(settings, "cat", "moderator", "Cat"))
    assert client.get("/api/cases", headers=auth(token)).status_code == 200

    async def revoke() -> None:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                await revoke_staff(session, "cat", "moderator")
        finally:
            await database.dispose()

    asyncio.run(revoke())
    assert client.get("/api/cases", headers=auth(token)).status_code == 401

    async def expired() -> str:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return await add_staff(session, "dee", "moderator", None, timedelta(seconds=-1))
        finally:
            await database.dispose()

    assert client.get("/api/cases", headers=auth(asyncio.run(expired()))).status_code == 401


def test_resources_due_for_review_are_listed_to_moderators_once_a_week(
    settings: Settings, client: TestClient, tokens: dict[str, str]
) -> None:
    from datetime import date, timedelta

    from community.resources import load_directory
    from community.scheduling import post_resource_review_notice

    directory = load_directory()
    stale_entry = directory.resources[1].model_copy(
        update={"vetted_on": date(2025, 1, 1), "review_by": date(2025, 6, 1)}
    )
    stale = directory.model_copy(update={"resources": [stale_entry, *directory.resources[2:]]})
    today = date(2026, 11, 23)

    async def run_job(day: date) -> bool:
        database = Database.connect(settings.resolved_database_url)
        try:
            return await post_resource_review_notice(database, stale, day)
        finally:
            await database.dispose()

    assert asyncio.run(run_job(today)) is True
    assert asyncio.run(run_job(today + timedelta(days=2))) is True  # same week: no second notice
    notices = client.get("/api/notices", headers=auth(tokens["ana"])).json()["notices"]
    assert len(notices) == 1 and notices[0]["kind"] == "resource_review"
    assert f"{stale_entry.name} ({stale_entry.id}): past due since 2025-06-01" in notices[0]["text"]
    # An up-to-date directory posts nothing.
    fresh = directory.model_copy(
        update={
            "resources": [
                r for r in directory.resources if r.review_by > today + timedelta(days=30)
            ]
        }
    )
    database = Database.connect(settings.resolved_database_url)
    try:
        assert asyncio.run(post_resource_review_notice(database, fresh, today)) is False
    finally:
        asyncio.run(database.dispose())
