"""Telegram through the whole of `peerbot run` (the session's stack polls a Bot API stand-in):
the real Rasa answers a FAQ, a crisis gets 988/911 within 5 s and a case card with a Claim button
in the moderators' group, and after a claim the conversation relays both ways. A crisis from the
web chat lands in the same Telegram group: one queue, wherever mothers write."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.bots.telegram_standin import TOKEN, BotApiStandIn
from tests.conftest import Stack

pytestmark = pytest.mark.rasa
MOD = 7771234


async def test_telegram_in_the_running_stack(stack: Stack, stack_bot_api: BotApiStandIn) -> None:
    api = stack_bot_api
    api.moderators.add(MOD)
    mom = 5000000 + uuid.uuid4().int % 1000000
    await api.wait_for(lambda: api.sent("setMyCommands"), within=30)

    api.private_message(mom, "/start")
    await api.wait_for(lambda: api.texts_to(mom))
    assert "not a doctor" in api.texts_to(mom)[0]

    api.private_message(mom, "can i breastfeed on methadone")
    await api.wait_for(lambda: len(api.texts_to(mom)) >= 2)
    assert "breastfeed" in api.texts_to(mom)[1]  # the trained model's answer

    cards_before = len(api.sent("createForumTopic"))
    started = time.monotonic()
    crisis_text = f"i took all my pills i want to die {uuid.uuid4().hex[:8]}"  # unique in the stack
    api.private_message(mom, crisis_text)
    await api.wait_for(lambda: len(api.texts_to(mom)) >= 3)
    crisis_seconds = time.monotonic() - started
    crisis = api.texts_to(mom)[2]
    assert "911" in crisis and "988" in crisis and crisis_seconds < 5
    await api.wait_for(lambda: len(api.sent("createForumTopic")) > cards_before)
    # The moderators' group is paced at Telegram's 20 messages a minute and the shared stack has
    # earlier tests' cards queued: this crisis goes first, after the one card in flight.
    await api.wait_for(
        lambda: any(
            crisis_text in c.params["text"] for c in api.sent("sendMessage", api.moderator_chat_id)
        ),
        within=60,
    )
    card = next(
        c for c in api.sent("sendMessage", api.moderator_chat_id) if crisis_text in c.params["text"]
    )
    claim = card.params["reply_markup"]["inline_keyboard"][0][0]
    assert claim["text"] == "Claim"
    thread = card.params["message_thread_id"]

    api.button_press(MOD, claim["callback_data"], api.moderator_chat_id, thread)
    # Her claim's two group sends (the card's buttons, then the note) go before the queued
    # cards, each at the group's next free slot: one every 3 s under the pacing.
    await api.wait_for(
        lambda: any("claimed this case" in t for t in api.texts_to(api.moderator_chat_id)),
        within=20,
    )
    api.topic_message(MOD, thread, "I'm here. Is someone with you?", name="Rae")
    await api.wait_for(lambda: any("Is someone with you" in t for t in api.texts_to(mom)))
    api.private_message(mom, "my sister is here now")
    await api.wait_for(
        lambda: any("my sister is here now" in t for t in api.texts_to(api.moderator_chat_id))
    )
    # The stack's log names no member, no message text and no token.
    log = stack.log_path.read_text(encoding="utf-8")
    assert str(mom) not in log and crisis_text not in log and "my sister" not in log
    assert TOKEN not in log


async def test_a_web_crisis_reaches_the_telegram_moderators(
    stack: Stack, stack_bot_api: BotApiStandIn
) -> None:
    api = stack_bot_api
    text = f"i want to end my life {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=stack.app_url, timeout=10) as client:
        reply = await client.post("/api/chat", json={"user": uuid.uuid4().hex, "text": text})
    assert "988" in reply.json()["replies"][0]["text"]
    await api.wait_for(
        lambda: any(text in c.params["text"] and "(from web)" in c.params["text"]
                    for c in api.sent("sendMessage", api.moderator_chat_id)),
        within=60,  # after the card in flight (see above)
    )  # fmt: skip


async def test_a_spanish_conversation_from_start_to_a_person_and_back(
    stack: Stack, stack_bot_api: BotApiStandIn
) -> None:
    """Issue #20: her app in Spanish, /start, a question, a person, and back to the bot, all in
    Spanish; the moderators' queue says that she writes in Spanish."""
    api = stack_bot_api
    mom = 6000000 + uuid.uuid4().int % 1000000
    await api.wait_for(lambda: api.sent("setMyCommands"), within=30)

    api.private_message(mom, "/start", language_code="es")
    await api.wait_for(lambda: api.texts_to(mom))
    assert api.texts_to(mom)[0].startswith("Hola, soy peerbot")

    api.private_message(mom, "puedo dar pecho si tomo metadona?", language_code="es")
    await api.wait_for(lambda: len(api.texts_to(mom)) >= 2)
    assert "amamant" in api.texts_to(mom)[1].lower() or "pecho" in api.texts_to(mom)[1]

    request = f"quiero hablar con una persona por favor {uuid.uuid4().hex[:4]}"
    api.private_message(mom, request, language_code="es")
    await api.wait_for(lambda: len(api.texts_to(mom)) >= 3)
    assert "persona" in api.texts_to(mom)[2]  # the bot's Spanish answer: a person is coming
    # A moderator takes it from the console (one queue, wherever she writes); the queue says
    # she writes in Spanish.
    rae = stack.add_staff(f"rae-{uuid.uuid4().hex[:6]}", display_name="Rae")
    async with httpx.AsyncClient(base_url=stack.app_url, timeout=10) as client:
        case = await _case_with_trigger(client, rae, request)
        assert case["language"] == "es"
        claimed = await client.post(f"/api/cases/{case['id']}/claim", headers=_bearer(rae))
        assert claimed.status_code == 200
        await api.wait_for(lambda: any("se unió al chat" in t for t in api.texts_to(mom)))
        await client.post(
            f"/api/cases/{case['id']}/messages",
            json={"text": "Hola, soy Rae. Aquí estoy."},
            headers=_bearer(rae),
        )
        await api.wait_for(lambda: any("(de nuestro equipo)" in t for t in api.texts_to(mom)))
        await client.post(
            f"/api/cases/{case['id']}/resolve", json={"outcome": "ok"}, headers=_bearer(rae)
        )
    await api.wait_for(lambda: any("salió del chat" in t for t in api.texts_to(mom)), within=30)
    api.private_message(mom, "gracias, donde consigo narcan?", language_code="es")
    await api.wait_for(lambda: "naloxona" in api.texts_to(mom)[-1].lower())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _case_with_trigger(
    client: httpx.AsyncClient, token: str, trigger: str, within: float = 10.0
) -> dict[str, object]:
    deadline = time.monotonic() + within
    while True:
        cases = (await client.get("/api/cases", headers=_bearer(token))).json()["cases"]
        found = [c for c in cases if c["trigger"] == trigger]
        if found:
            return dict(found[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"no case for {trigger!r} within {within} s")
        await asyncio.sleep(0.1)
