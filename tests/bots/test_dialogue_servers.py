"""Several Rasa servers: each conversation stays on one, a stopped server is skipped at once
for the next, and a member's memory is wiped on every server."""

from __future__ import annotations

import time

import pytest

from bots.dialogue import DialogueClient, DialogueUnavailable
from community.settings import Settings
from tests.bots.rasa_standin import rasa_standin
from tests.conftest import free_port


async def test_conversations_stay_on_one_server_and_move_when_it_is_down() -> None:
    with rasa_standin() as one, rasa_standin() as two:
        one.reply = [{"text": "from one"}]
        two.reply = [{"text": "from two"}]
        client = DialogueClient([one.url, two.url], 2.0)
        try:
            members = [f"member-{n:02d}" for n in range(12)]
            first = {m: (await client.respond(m, "hi")).replies[0].text for m in members}
            assert set(first.values()) == {"from one", "from two"}  # spread over both
            for member in members:  # and each stays where she was
                assert (await client.respond(member, "again")).replies[0].text == first[member]
            assert await client.is_up()
        finally:
            await client.aclose()


async def test_a_stopped_server_is_skipped_without_waiting() -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with rasa_standin() as alive:
        alive.reply = [{"text": "still here"}]
        client = DialogueClient([dead, alive.url, dead], 5.0)
        try:
            started = time.monotonic()
            for n in range(6):
                result = await client.respond(f"member-{n}", "hello")
                assert result.replies[0].text == "still here"
            assert time.monotonic() - started < 3.0  # refused connections, no timeouts
            assert len(alive.received) == 6
            assert await client.is_up()
        finally:
            await client.aclose()
    everyone_gone = DialogueClient([dead, dead], 5.0)
    try:
        with pytest.raises(DialogueUnavailable):
            await everyone_gone.respond("member-0", "hello")
        assert not await everyone_gone.is_up()
    finally:
        await everyone_gone.aclose()


async def test_her_memory_is_wiped_on_every_server() -> None:
    with rasa_standin() as one, rasa_standin() as two:
        client = DialogueClient([one.url, two.url], 2.0, "token")
        try:
            assert await client.forget("member-abc")
            assert one.forgotten and two.forgotten
            assert all("/conversations/member-abc/tracker/events" in p for p in one.forgotten)
        finally:
            await client.aclose()
        stopped = DialogueClient([one.url, f"http://127.0.0.1:{free_port()}"], 1.0)
        try:
            assert not await stopped.forget("member-abc")  # one could not be reached: say so
        finally:
            await stopped.aclose()


def test_rasa_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERBOT_RASA_URLS", '["http://127.0.0.1:5005", "http://127.0.0.1:5006"]')
    assert Settings().rasa_urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
