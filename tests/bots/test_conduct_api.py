"""Flags on community posts and blocks, through the real app: a post that attacks a mother is
flagged (one that doesn't is not), a moderator blocks its author from the flag, the blocked
member gets the calm "paused" answer but still gets crisis help, and lifting the block brings
the bot back. Every route checks the role."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from community.db import Database
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app


async def _staff(settings: Settings, name: str, role: str) -> str:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            return await add_staff(session, name, role)
    finally:
        await database.dispose()


@pytest.fixture
def tokens(settings: Settings) -> dict[str, str]:
    return {
        "moderator": asyncio.run(_staff(settings, "mia", "moderator")),
        "researcher": asyncio.run(_staff(settings, "rae", "researcher")),
    }


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_scheduler=False)) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_in_community(client: TestClient, user: str, text: str) -> bool:
    """What an adapter does with a post in a community channel."""
    user = user.ljust(16, "0")  # web chat ids are 16+ characters
    assert client.portal is not None
    gateway = client.app.state.services.gateway  # type: ignore[attr-defined]
    flagged: bool = client.portal.call(gateway.watch_community_post, "web", user, text)
    return flagged


def say(client: TestClient, user: str, text: str) -> list[dict[str, Any]]:
    user = user.ljust(16, "0")  # web chat ids are 16+ characters
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


ROUTES = [
    ("get", "/api/flags", None),
    ("post", "/api/flags/1/dismiss", None),
    ("post", "/api/flags/1/block", {"reason": "abuse", "days": 3}),
    ("get", "/api/blocks", None),
    ("post", "/api/blocks/1/lift", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_conduct_route_checks_the_role(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: Any
) -> None:
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    assert call(path, **kwargs).status_code == 401
    assert call(path, headers=auth("pb_not-a-token"), **kwargs).status_code == 401
    assert call(path, headers=auth(tokens["researcher"]), **kwargs).status_code == 403
    assert call(path, headers=auth(tokens["moderator"]), **kwargs).status_code in (200, 404)


def test_flag_block_crisis_still_answered_then_lift(
    client: TestClient, tokens: dict[str, str]
) -> None:
    mod = auth(tokens["moderator"])
    assert not post_in_community(client, "troll", "Welcome! So glad you found us.")
    assert not post_in_community(client, "mom-a", "I feel like a bad mom some days")
    assert post_in_community(client, "troll", "CPS should take your baby, junkie")
    assert post_in_community(client, "other", "methadone is just another drug")

    flags = client.get("/api/flags", headers=mod).json()["flags"]
    assert [f["category"] for f in flags] == ["shaming", "shaming"]
    assert flags[0]["text"] == "CPS should take your baby, junkie"
    assert flags[0]["member"].startswith("member-")
    assert "troll" not in str(flags)

    assert client.post(f"/api/flags/{flags[1]['id']}/dismiss", headers=mod).status_code == 200
    blocked = client.post(
        f"/api/flags/{flags[0]['id']}/block",
        headers=mod,
        json={"reason": "threatened a mother with CPS", "days": 7},
    )
    assert blocked.status_code == 200
    assert client.get("/api/flags", headers=mod).json()["flags"] == []
    # A reviewed flag cannot be acted on twice.
    assert client.post(f"/api/flags/{flags[0]['id']}/dismiss", headers=mod).status_code == 404

    blocks = client.get("/api/blocks", headers=mod).json()["blocks"]
    assert len(blocks) == 1
    assert blocks[0]["reason"] == "threatened a mother with CPS"
    assert blocks[0]["member"] == flags[0]["member"]

    paused = say(client, "troll", "hello?")
    assert "paused" in paused[0]["text"]
    crisis = say(client, "troll", "I want to kill myself tonight")
    assert "988" in crisis[0]["text"]
    assert "paused" not in crisis[0]["text"]

    lifted = client.post(f"/api/blocks/{blocks[0]['id']}/lift", headers=mod)
    assert lifted.status_code == 200
    assert client.get("/api/blocks", headers=mod).json()["blocks"] == []
    assert client.post(f"/api/blocks/{blocks[0]['id']}/lift", headers=mod).status_code == 404
    assert "paused" not in say(client, "troll", "hello again")[0]["text"]


def test_block_validation(client: TestClient, tokens: dict[str, str]) -> None:
    mod = auth(tokens["moderator"])
    post_in_community(client, "troll", "kys")
    flag_id = client.get("/api/flags", headers=mod).json()["flags"][0]["id"]
    for body in ({"reason": "x", "days": 3}, {"reason": "abuse", "days": 0}, {"days": 3}):
        assert client.post(f"/api/flags/{flag_id}/block", headers=mod, json=body).status_code == 422
    assert len(client.get("/api/flags", headers=mod).json()["flags"]) == 1


def test_the_chat_commands_are_listed_from_the_one_table(
    client: TestClient, tokens: dict[str, str]
) -> None:
    from bots.commands import ALL

    assert client.get("/api/commands").status_code == 401
    assert client.get("/api/commands", headers=auth(tokens["researcher"])).status_code == 403
    listed = client.get("/api/commands", headers=auth(tokens["moderator"])).json()["commands"]
    assert [c["name"] for c in listed] == [c.name for c in ALL]
    blockflag = next(c for c in listed if c["name"] == "blockflag")
    assert blockflag["usage"] == "/blockflag N DAYS REASON"
    assert blockflag["where"] == "moderators' home" and blockflag["who"] == "moderator"
    assert [(a["name"], a["kind"]) for a in blockflag["args"]] == [
        ("number", "number"), ("days", "number"), ("reason", "text"),
    ]  # fmt: skip
    send = next(c for c in listed if c["name"] == "send")
    assert send["discord_name"] == "send_answer"
