"""What the web chat's page is told beyond the words: a crisis reply is marked urgent, the
directory's numbers come with their tel:/sms: links, the later-messages answer says whether a
person is with her, and the event stream signals a waiting message without holding a database
connection (let alone a transaction) while it waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bots.web.app import _chat_signals
from bots.web.contact_links import contact_links
from community.db import Database
from community.members import pseudonym_for, resolve_member
from community.models import OutboxMessage
from community.settings import Settings
from peerbot.app import create_app

KEY = b"k" * 48


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_crisis_reply_is_urgent_and_its_numbers_are_links(client: TestClient) -> None:
    user = "urgent-web-user-0001"
    reply = client.post("/api/chat", json={"user": user, "text": "I took too many pills"}).json()[
        "replies"
    ][0]
    assert reply["urgent"] is True
    text = reply["text"]
    linked = {(text[k["start"] : k["end"]], k["href"]) for k in reply["links"]}
    assert {("911", "tel:911"), ("988", "tel:988"), ("988", "sms:988")} <= linked
    # A person is about to join her: the page is told, so "Forget" can say so.
    later = client.get(f"/api/chat/{user}/messages").json()
    assert later["case"] == "waiting"
    assert client.get("/api/chat/someone-else-00000001/messages").json()["case"] is None


def test_an_everyday_reply_is_not_urgent(client: TestClient) -> None:
    # Rasa is down in these settings: the kind fallback, which names 988 too.
    reply = client.post("/api/chat", json={"user": "everyday-web-user-01", "text": "hi"}).json()[
        "replies"
    ][0]
    assert reply["urgent"] is False
    assert any(link["href"] == "tel:988" for link in reply["links"])


def test_the_page_carries_the_welcome_line(client: TestClient) -> None:
    page = client.get("/").text
    assert "{{welcome}}" not in page
    assert "Hi, welcome. I&#x27;m peerbot" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call or text 988", [("call", "tel:988"), ("988", "sms:988")]),
        ("Crisis Text Line: text HOME to 741741", [("741741", "sms:741741?&body=HOME")]),
        ("call 1-833-TLC-MAMA (1-833-852-6262)", [
            ("1-833-TLC-MAMA", "tel:18338526262"), ("1-833-852-6262", "tel:18338526262"),
        ]),
        ("llama al 988 y oprime 2, envía AYUDA por mensaje de texto al 988", [
            ("988", "tel:988"), ("988", "sms:988?&body=AYUDA"),
        ]),
        # Only the directory's numbers: one a person typed is left as text.
        ("call me at 312-555-0199 or 9881", []),
    ],
)  # fmt: skip
def test_only_directory_numbers_become_links(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(text[k.start : k.end], k.href) for k in contact_links(text)] == expected


def test_links_count_utf16_units_as_the_page_does() -> None:
    text = "💛 call 988"
    (link,) = contact_links(text)
    assert (link.start, link.end) == (8, 11)  # the emoji is two units in JavaScript


async def test_the_stream_signals_a_waiting_message_and_holds_no_connection(
    database: Database,
) -> None:
    user = "stream-web-user-0001"
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", user)
        member_id = member.id
    stream = _chat_signals(database, pseudonym_for(KEY, "web", user))
    try:
        assert (await anext(stream)).startswith("retry:")
        assert await anext(stream) == 'data: {"pending": false, "case": null}\n\n'
        async with database.transaction() as session:
            session.add(OutboxMessage(member_id=member_id, platform="web", text="hello"))
        # Between looks the stream sleeps with every connection back in the pool.
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await anext(stream) == 'data: {"pending": true, "case": null}\n\n'
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await stream.aclose()


def test_past_the_open_streams_limit_the_page_is_told_to_poll(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bots.web.app.MAX_OPEN_STREAMS", 0)
    refused = client.get("/api/chat/stream-web-user-0002/events")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
