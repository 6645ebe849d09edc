"""The Discord adapter: the real discord.py client (HTTP and gateway) inside the real bot app,
connected to a local stand-in for Discord (tests/bots/discord_standin.py). Rasa is a stand-in
here too; the Telegram stand-in joins for the one-queue test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from bots.commands import MODERATORS, PRIVATE
from community.db import Database
from community.models import Case, CaseNote
from community.phrases import phrase
from community.settings import Settings
from tests.bots.app_harness import CRISIS, heard_by_gateway, running
from tests.bots.discord_standin import (
    MOD_CHANNEL_ID,
    MOD_ROLE_ID,
    TOKEN,
    DiscordStandIn,
    discord_standin,
)
from tests.bots.rasa_standin import RasaStandIn
from tests.bots.telegram_standin import TOKEN as TELEGRAM_TOKEN
from tests.bots.telegram_standin import bot_api_standin

MOM = 400000000000000001
MOD = 400000000000000002
STRANGER = 400000000000000003
SECOND_MOD = 400000000000000004
HANDOFF = [
    {
        "recipient_id": "x",
        "text": "Of course. I'm asking a person from our community to join this chat.",
        "custom": {"peerbot": "handoff"},
    }
]


@asynccontextmanager
async def discord_app(
    settings: Settings, rasa: RasaStandIn
) -> AsyncIterator[tuple[DiscordStandIn, FastAPI]]:
    async with discord_standin() as server:
        configured = settings.model_copy(
            update={
                "discord_token": SecretStr(TOKEN),
                "discord_api_base": f"{server.url}/api/v10",
                "discord_moderator_channel_id": int(MOD_CHANNEL_ID),
                "discord_moderator_role_id": int(MOD_ROLE_ID),
                "rasa_url": rasa.url,
            }
        )
        async with running(configured) as app:
            await server.wait_ready()
            await server.wait_for(lambda: any("/commands" in c.path for c in server.calls))
            yield server, app


def server_message(channel_id: str, author_id: int) -> dict[str, Any]:
    """A MESSAGE_CREATE payload in a server channel, without its id, content and mentions."""
    return {"channel_id": channel_id, "guild_id": "900000000000000010",
            "author": {"id": str(author_id), "username": "someone", "discriminator": "0",
                       "avatar": None, "bot": False},
            "member": {"roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "flags": 0},
            "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 0,
            "flags": 0}  # fmt: skip


async def test_dm_faq_with_buttons_and_slash_commands(
    settings: Settings, rasa: RasaStandIn
) -> None:
    async with discord_app(settings, rasa) as (server, _):
        synced = next(c for c in server.calls if c.path.endswith("/commands"))
        names = {c["name"] for c in synced.body}  # type: ignore[attr-defined]
        # Built from the one command table: every name there, typed options, nothing else.
        table = [*PRIVATE, *MODERATORS]
        assert names == {name for c in table for name in (c.slash_name, *c.also)}
        assert {"start", "hello", "help", "resources", "talk", "ask", "privacy"} <= names
        assert {"note", "snippet", "transcript", "send_answer", "blockflag"} <= names
        options = {c["name"]: c.get("options", []) for c in synced.body}  # type: ignore[attr-defined]
        assert [(o["name"], o["type"], o.get("required", False)) for o in options["blockflag"]] == [
            ("number", 4, True), ("days", 4, True), ("reason", 3, True),
        ]  # fmt: skip
        assert [(o["name"], o.get("required", False)) for o in options["approve"]] == [
            ("number", True), ("words", False),
        ]  # fmt: skip

        dm = server.dm_channel_for(MOM)
        await server.dm(MOM, "where do i get narcan")
        await server.wait_for(lambda: server.texts_in(dm))
        faq = server.posted(dm)[0]
        assert faq["content"].startswith("Naloxone")
        buttons = faq["components"][0]["components"]
        assert [b["custom_id"] for b in buttons] == ["say:/faq_test_strips", "say:/request_human"]
        assert str(MOM) not in str(rasa.received)  # Rasa sees a pseudonym

        # A press of a persistent button sends its payload through the gateway.
        await server.click(MOM, "say:/faq_test_strips", dm)
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 2)
        assert rasa.received[-1]["message"] == "/faq_test_strips"

        # /start answers in her DMs; in a server, a command is answered only to her.
        token = await server.slash(MOM, "start", dm)
        await server.wait_for(lambda: len(server.interaction_replies(token)) >= 2)
        followup = server.interaction_replies(token)[-1]
        assert "not a doctor" in followup["content"]
        token = await server.slash(MOM, "resources", "900000000000000099", roles=[])
        await server.wait_for(lambda: len(server.interaction_replies(token)) >= 2)
        first, *rest = server.interaction_replies(token)
        assert first["data"]["flags"] & 64  # deferred as ephemeral
        assert all(r["flags"] & 64 for r in rest)


async def test_slash_commands_in_spanish_and_her_locale_reaches_the_gateway(
    settings: Settings, rasa: RasaStandIn
) -> None:
    async with discord_app(settings, rasa) as (server, app):
        synced = next(c for c in server.calls if c.path.endswith("/commands"))
        registered = {c["name"]: c for c in synced.body}  # type: ignore[attr-defined]
        # Every member's command is described in Spanish for Spain's and Latin America's
        # locales (the same neutral Spanish); its name stays the one she types.
        for command in (c for c in PRIVATE if c.who.value == "member"):
            for name in (command.slash_name, *command.also):
                spanish = registered[name]["description_localizations"]
                assert set(spanish) == {"es-ES", "es-419"}, name
                assert spanish["es-ES"] == spanish["es-419"] != registered[name]["description"]
                assert not registered[name].get("name_localizations")
        talk = registered["talk"]["description_localizations"]["es-419"]
        assert talk == "Hablar con una persona de nuestra comunidad"
        language = registered["language"]
        assert language["description"] == "Choose the language I answer in"
        assert language["description_localizations"]["es-ES"] == (
            "Elige el idioma de mis respuestas"
        )
        (option,) = language["options"]
        assert (option["name"], option["type"], option.get("required", False)) == (
            "language", 3, False,
        )  # fmt: skip
        assert option["description_localizations"]["es-419"] == (
            '"es" para español o "en" para inglés'
        )
        # Moderators' commands stay in English.
        assert not registered["approve"].get("description_localizations")

        heard = heard_by_gateway(app)
        dm = server.dm_channel_for(MOM)
        token = await server.slash(MOM, "language", dm, {"language": "es"}, locale="es-419")
        await server.wait_for(lambda: len(server.interaction_replies(token)) >= 2)
        await server.click(MOM, "say:/faq_test_strips", dm, locale="es-ES")
        await server.wait_for(lambda: server.texts_in(dm))
        await server.dm(MOM, "donde consigo narcan")  # a message carries no locale
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 2)
        assert [(m.text, m.language_hint) for m in heard] == [
            ("/language es", "es-419"),
            ("/faq_test_strips", "es-ES"),
            ("donde consigo narcan", None),
        ]


async def test_crisis_thread_claim_refusal_relay_and_resolve(
    settings: Settings, rasa: RasaStandIn
) -> None:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with discord_app(settings, rasa) as (server, _):
            dm = server.dm_channel_for(MOM)
            await server.dm(MOM, CRISIS)
            await server.wait_for(lambda: server.texts_in(dm))
            assert "988" in server.texts_in(dm)[0] and "911" in server.texts_in(dm)[0]
            assert rasa.received == []

            await server.wait_for(lambda: server.threads())
            thread_name = server.threads()[0].body["name"]
            assert thread_name.startswith("imminent · suicide · member-")
            await server.wait_for(lambda: _thread_cards(server))
            thread, card = _thread_cards(server)[0]
            # The alert is in the channel itself, pings the moderators' role and nobody else,
            # and the case's thread is started from it (so it hangs under the alert).
            (alert,) = server.alerts()
            assert alert["content"].startswith(f"<@&{MOD_ROLE_ID}> 🔴 New case #")
            assert [str(r) for r in alert["allowed_mentions"]["roles"]] == [MOD_ROLE_ID]
            assert alert["allowed_mentions"]["parse"] == []
            assert (
                server.threads()[0].path == f"/channels/{MOD_CHANNEL_ID}/messages/{thread}/threads"
            )
            assert str(MOM) not in alert["content"]
            assert CRISIS in str(card["content"])
            claim = card["components"][0]["components"][0]
            assert claim["label"] == "Claim" and str(MOM) not in str(card["content"])

            # Without the moderators' role: refused, only to them.
            token = await server.click(STRANGER, claim["custom_id"], thread, roles=[])
            await server.wait_for(lambda: server.interaction_replies(token))
            refusal = server.interaction_replies(token)[0]
            assert refusal["type"] == 4 and refusal["data"]["flags"] & 64
            async with database.sessions() as session:
                assert (await session.scalars(select(Case))).one().status == "waiting"

            token = await server.click(MOD, claim["custom_id"], thread, roles=[MOD_ROLE_ID])
            await server.wait_for(
                lambda: any(
                    "claimed this case" in str(r) for r in server.interaction_replies(token)
                )
            )
            # She is told who joined, by display name and role, never by account.
            await server.wait_for(lambda: any("has joined" in t for t in server.texts_in(dm)))
            joined = next(t for t in server.texts_in(dm) if "has joined" in t)
            assert joined.startswith("Ana (peer support team) has joined the chat.")
            assert str(MOD) not in joined
            # A second moderator is told who has the case by name.
            token = await server.click(
                SECOND_MOD, f"pb:resolve:{_case_number(card)}", thread, roles=[MOD_ROLE_ID]
            )
            await server.wait_for(lambda: server.interaction_replies(token))
            said = str(server.interaction_replies(token))
            assert "claimed by Ana" in said and "discord:" not in said
            # Someone without the role who writes in the thread is told so directly, and
            # nothing reaches her.
            await server.thread_message(STRANGER, thread, "hello mama", roles=[], name="Sly")
            stranger_dm = server.dm_channel_for(STRANGER)
            await server.wait_for(lambda: server.texts_in(stranger_dm))
            assert "only moderators" in server.texts_in(stranger_dm)[0]

            await server.dm(MOM, "im scared and alone")
            await server.wait_for(
                lambda: any("im scared and alone" in t for t in server.texts_in(thread))
            )
            assert rasa.received == []
            assert not any("hello mama" in t for t in server.texts_in(dm))

            await server.thread_message(
                MOD, thread, "I'm here. Are you safe right now?", [MOD_ROLE_ID]
            )
            await server.wait_for(lambda: any("Are you safe" in t for t in server.texts_in(dm)))
            relayed = next(t for t in server.texts_in(dm) if "Are you safe" in t)
            assert relayed.startswith("Ana (from our team):")

            # A moderator's slash command in the thread: a private note.
            token = await server.slash(
                MOD, "note", thread, {"text": "she has a plan with her sister"}, roles=[MOD_ROLE_ID]
            )
            await server.wait_for(lambda: server.interaction_replies(token))
            async with database.sessions() as session:
                note = (await session.scalars(select(CaseNote))).one()
                assert note.text == "she has a plan with her sister"

            case_id = str(card["content"]).split("#")[1].split(":")[0]
            token = await server.click(MOD, f"pb:resolve:{case_id}", thread, roles=[MOD_ROLE_ID])
            await server.wait_for(
                lambda: any("closed this case" in str(r) for r in server.interaction_replies(token))
            )
            async with database.sessions() as session:
                assert (await session.scalars(select(Case))).one().status == "resolved"
            await server.wait_for(lambda: any("has left" in t for t in server.texts_in(dm)))
            left = next(t for t in server.texts_in(dm) if "has left" in t)
            assert left.startswith("Ana has left the chat. ")
            await server.dm(MOM, "where do i get narcan")
            await server.wait_for(lambda: len(rasa.received) == 1)
    finally:
        await database.dispose()


def _case_number(card: dict[str, object]) -> str:
    return str(card["content"]).split("#")[1].split(":")[0]


async def test_she_asks_gets_answers_while_waiting_and_cancels_by_button(
    settings: Settings, rasa: RasaStandIn
) -> None:
    async with discord_app(settings, rasa) as (server, _):
        dm = server.dm_channel_for(MOM)
        faq = rasa.reply
        rasa.reply = HANDOFF
        await server.click(MOM, "say:/request_human", dm)
        await server.wait_for(lambda: server.posted(dm))
        rasa.reply = faq
        asked = server.posted(dm)[0]
        assert "join this chat" in asked["content"]
        buttons = [b["custom_id"] for b in asked["components"][0]["components"]]
        assert buttons == ["say:/cancel_request"]
        await server.wait_for(lambda: server.alerts())
        assert server.alerts()[0]["content"].startswith(f"<@&{MOD_ROLE_ID}> 🔵 New case #")

        # Waiting: the bot still answers her, marked, and the thread shows what it said.
        await server.dm(MOM, "where do i get narcan")
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 2)
        assert server.texts_in(dm)[1].startswith("(peerbot, the bot, while you wait)\nNaloxone")
        thread, _card = _thread_cards(server)[0]
        await server.wait_for(
            lambda: any(
                t.startswith("The bot told her:\nNaloxone") for t in server.texts_in(thread)
            )
        )

        await server.click(MOM, "say:/cancel_request", dm)
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 3)
        assert "cancelled your request" in server.texts_in(dm)[2]
        await server.wait_for(
            lambda: any("she cancelled her request" in t for t in server.texts_in(thread))
        )


async def test_a_spanish_conversation_from_a_question_to_a_person_and_back(
    settings: Settings, rasa: RasaStandIn
) -> None:
    """Issue #20 on Discord: she writes in Spanish, so Rasa is asked in Spanish, and every word
    of the app's own (waiting, the cancel button, who joined, a moderator's signature, who left)
    reaches her in Spanish; the moderators' card says she writes in Spanish."""
    async with discord_app(settings, rasa) as (server, _):
        dm = server.dm_channel_for(MOM)
        await server.dm(MOM, "hola, tengo una pregunta sobre la metadona")
        await server.wait_for(lambda: server.texts_in(dm))
        assert rasa.received[-1]["metadata"] == {"language": "es"}

        faq = rasa.reply
        rasa.reply = HANDOFF
        await server.dm(MOM, "quiero hablar con una persona por favor")
        await server.wait_for(lambda: len(server.posted(dm)) >= 2)
        rasa.reply = faq
        asked = server.posted(dm)[1]
        assert rasa.received[-1]["metadata"] == {"language": "es"}
        cancel = asked["components"][0]["components"][0]
        assert cancel["label"] == phrase("button_cancel_request", "es")
        await server.wait_for(lambda: _thread_cards(server))
        thread, card = _thread_cards(server)[0]
        assert "Writes in Spanish" in str(card["content"])

        await server.dm(MOM, "gracias, sigo aqui esperando")
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 3)
        assert server.texts_in(dm)[2].startswith(phrase("from_the_bot_while_waiting", "es"))

        claim = card["components"][0]["components"][0]
        await server.click(MOD, claim["custom_id"], thread, roles=[MOD_ROLE_ID])
        await server.wait_for(lambda: any("se unió al chat" in t for t in server.texts_in(dm)))
        await server.thread_message(MOD, thread, "Hola, aquí estoy contigo.", [MOD_ROLE_ID])
        await server.wait_for(
            lambda: any(t.startswith("Ana (de nuestro equipo):") for t in server.texts_in(dm))
        )
        await server.click(MOD, f"pb:resolve:{_case_number(card)}", thread, roles=[MOD_ROLE_ID])
        await server.wait_for(lambda: any("salió del chat" in t for t in server.texts_in(dm)))
        left = next(t for t in server.texts_in(dm) if "salió del chat" in t)
        assert left == phrase("left", "es", name="Ana") + phrase("return_to_bot", "es")


def _thread_cards(server: DiscordStandIn) -> list[tuple[str, dict[str, object]]]:
    cards = []
    for call in server.calls:
        parts = call.path.strip("/").split("/")
        is_card = call.method == "POST" and parts[-1] == "messages" and call.body.get("components")
        if is_card and parts[1] not in server.dm_channels.values():
            cards.append((parts[1], call.body))
    return cards


async def test_attachments_long_messages_own_messages_and_closed_dms(
    settings: Settings, rasa: RasaStandIn
) -> None:
    async with discord_app(settings, rasa) as (server, _):
        dm = server.dm_channel_for(MOM)
        photo = {"id": "1", "filename": "a.png", "size": 10, "url": "http://x/a.png",
                 "proxy_url": "http://x/a.png", "content_type": "image/png"}  # fmt: skip
        await server.dm(MOM, "", attachments=[photo])
        await server.wait_for(lambda: server.texts_in(dm))
        assert "photos" in server.texts_in(dm)[0]

        await server.dm(MOM, "x" * 5000 + " " + "y" * 4999)
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 3)
        assert all(len(t) <= 2000 for t in server.texts_in(dm))

        sticker = {"id": "77", "name": "hug", "format_type": 1}
        await server.dm(MOM, "", sticker_items=[sticker])
        await server.wait_for(lambda: any("stickers" in t for t in server.texts_in(dm)))

        # Its own messages (and other bots') are never answered.
        before = len(server.calls)
        await server.dispatch("MESSAGE_CREATE", {
            "id": "5", "channel_id": dm, "content": "hi", "timestamp": "2026-01-01T00:00:00+00:00",
            "author": {"id": "900000000000000002", "username": "peerbot", "discriminator": "0",
                       "avatar": None, "bot": True},
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
        })  # fmt: skip
        await asyncio.sleep(0.3)
        assert len(server.calls) == before

        # She closed her DMs: the bot survives and answers others.
        server.dm_closed.add(MOM)
        await server.dm(MOM, "hello?")
        other = server.dm_channel_for(MOM + 10)
        await server.dm(MOM + 10, "hello")
        await server.wait_for(lambda: server.texts_in(other))


async def test_one_queue_a_telegram_crisis_is_taken_from_discord(
    settings: Settings, rasa: RasaStandIn
) -> None:
    with bot_api_standin() as telegram:
        async with discord_standin() as server:
            configured = settings.model_copy(
                update={
                    "discord_token": SecretStr(TOKEN),
                    "discord_api_base": f"{server.url}/api/v10",
                    "discord_moderator_channel_id": int(MOD_CHANNEL_ID),
                    "discord_moderator_role_id": int(MOD_ROLE_ID),
                    "telegram_token": SecretStr(TELEGRAM_TOKEN),
                    "telegram_base_url": telegram.url,
                    "telegram_moderator_chat_id": telegram.moderator_chat_id,
                    "rasa_url": rasa.url,
                }
            )
            async with running(configured):
                await server.wait_ready()
                telegram_mom = 5550077
                telegram.private_message(telegram_mom, CRISIS)
                await telegram.wait_for(lambda: telegram.texts_to(telegram_mom))
                # The case appears in both homes; a Discord moderator takes it.
                await server.wait_for(lambda: _thread_cards(server))
                await telegram.wait_for(lambda: telegram.sent("createForumTopic"))
                thread, card = _thread_cards(server)[0]
                assert "(from telegram)" in str(card["content"])
                claim = card["components"][0]["components"][0]["custom_id"]  # type: ignore[index]
                token = await server.click(MOD, claim, thread, roles=[MOD_ROLE_ID])
                await server.wait_for(lambda: server.interaction_replies(token))
                await server.thread_message(MOD, thread, "Hi, I'm Ana. I'm here.", [MOD_ROLE_ID])
                await telegram.wait_for(
                    lambda: any("I'm here" in t for t in telegram.texts_to(telegram_mom))
                )
                telegram.private_message(telegram_mom, "thank you")
                await server.wait_for(
                    lambda: any("thank you" in t for t in server.texts_in(thread))
                )
                # And a Telegram moderator can no longer claim it.
                tg_card = telegram.sent("sendMessage", telegram.moderator_chat_id)[0].params
                telegram.moderators.add(7001)
                telegram.button_press(
                    7001, tg_card["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
                    telegram.moderator_chat_id, tg_card["message_thread_id"],
                )  # fmt: skip
                await telegram.wait_for(lambda: telegram.sent("answerCallbackQuery"))
                answer = telegram.sent("answerCallbackQuery")[-1].params
                assert answer.get("show_alert") is True and "claimed" in answer["text"]

                # And the other way: a crisis in Discord DMs is taken from the Telegram group.
                dm = server.dm_channel_for(MOM)
                await server.dm(MOM, "i took a whole bottle of pills")
                await server.wait_for(lambda: server.texts_in(dm))
                await telegram.wait_for(lambda: len(telegram.sent("createForumTopic")) >= 2)
                await telegram.wait_for(
                    lambda: any(
                        "(from discord)" in t for t in telegram.texts_to(telegram.moderator_chat_id)
                    )
                )
                card2 = next(
                    c.params
                    for c in telegram.sent("sendMessage", telegram.moderator_chat_id)
                    if "(from discord)" in c.params["text"]
                )
                telegram.button_press(
                    7001, card2["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
                    telegram.moderator_chat_id, card2["message_thread_id"],
                )  # fmt: skip
                await telegram.wait_for(
                    lambda: any("claimed this case" in t
                                for t in telegram.texts_to(telegram.moderator_chat_id))
                )  # fmt: skip
                telegram.topic_message(
                    7001, card2["message_thread_id"], "Rae here. Breathe.", "Rae"
                )
                await server.wait_for(lambda: any("Rae here" in t for t in server.texts_in(dm)))


async def test_in_a_server_channel_the_bot_speaks_only_when_mentioned(
    settings: Settings, rasa: RasaStandIn
) -> None:
    community = "900000000000000055"
    async with discord_app(settings, rasa) as (server, _):
        base = server_message(community, MOM)
        await server.dispatch("MESSAGE_CREATE", {**base, "id": "1", "content": "rough night",
                                                 "mentions": []})  # fmt: skip
        bot = {"id": "900000000000000002", "username": "peerbot", "discriminator": "0",
               "avatar": None, "bot": True}  # fmt: skip
        await server.dispatch(
            "MESSAGE_CREATE",
            {**base, "id": "2", "content": "<@900000000000000002> i want to die",
             "mentions": [bot]},
        )  # fmt: skip
        await server.wait_for(lambda: len(server.texts_in(community)) >= 2)
        texts = server.texts_in(community)
        assert "988" in texts[0] and "direct message" in texts[1]
        assert len(texts) == 2 and rasa.received == []


async def test_the_web_chat_does_not_wait_for_an_unreachable_discord(
    settings: Settings, rasa: RasaStandIn
) -> None:
    import httpx

    dead = settings.model_copy(
        update={"discord_token": SecretStr(TOKEN), "discord_api_base": "http://127.0.0.1:9/api/v10",
                "discord_moderator_channel_id": int(MOD_CHANNEL_ID), "rasa_url": rasa.url}
    )  # fmt: skip
    async with running(dead) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            reply = await client.post(
                "/api/chat", json={"user": "web-mom-0000000001", "text": CRISIS}
            )
        assert reply.status_code == 200 and "988" in reply.json()["replies"][0]["text"]


async def test_a_shaming_post_is_flagged_and_blocked_and_a_researcher_submits_by_dm(
    settings: Settings, rasa: RasaStandIn
) -> None:
    """In a community channel an un-addressed post that shames mothers is flagged into the
    moderators' channel (the bot says nothing where it was posted); /blockflag by a member
    without the moderators' role is refused, by a moderator it blocks. A researcher links her
    account with a code and submits by DM; a mother's /submit is refused."""
    from community.research.models import ResearchQuestion
    from community.staff import add_staff, issue_link_code

    community = "900000000000000055"
    async with discord_app(settings, rasa) as (server, _):
        base = {**server_message(community, STRANGER), "mentions": []}
        await server.dispatch("MESSAGE_CREATE", {**base, "id": "1", "content": "hugs to all"})
        await server.dispatch(
            "MESSAGE_CREATE",
            {**base, "id": "2", "content": "moms on methadone dont deserve their babies"},
        )
        await server.wait_for(lambda: any("Flag 1" in t for t in server.texts_in(MOD_CHANNEL_ID)))
        flag = next(t for t in server.texts_in(MOD_CHANNEL_ID) if "Flag 1" in t)
        assert "dont deserve their babies" in flag and str(STRANGER) not in flag
        assert server.texts_in(community) == []
        assert not any("Flag 2" in t for t in server.texts_in(MOD_CHANNEL_ID))

        options = {"number": "1", "days": "7", "reason": "shaming moms on methadone"}
        refused = await server.slash(MOM, "blockflag", MOD_CHANNEL_ID, options, roles=[])
        await server.wait_for(lambda: server.interaction_replies(refused))
        blocked = await server.slash(MOD, "blockflag", MOD_CHANNEL_ID, options, roles=[MOD_ROLE_ID])
        await server.wait_for(lambda: server.interaction_replies(blocked))
        assert "blocked for 7 days" in str(server.interaction_replies(blocked))
        assert "blocked for" not in str(server.interaction_replies(refused))

        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                await add_staff(session, "rae", "researcher", "Dr Rae")
                code = await issue_link_code(session, "rae", "researcher")
            researcher = 400000000000000009
            dm = server.dm_channel_for(researcher)
            await server.dm(researcher, f"/link {code}")
            await server.wait_for(lambda: any("Linked" in t for t in server.texts_in(dm)))
            token = await server.slash(
                researcher, "submit", dm, {"question": "How do you decide whom to trust?"}
            )
            await server.wait_for(lambda: len(server.interaction_replies(token)) >= 2)
            assert "waiting for" in str(server.interaction_replies(token))
            mom_dm = server.dm_channel_for(MOM)
            await server.dm(MOM, "/submit my question")
            await server.wait_for(lambda: server.texts_in(mom_dm))
            assert "for researchers" in server.texts_in(mom_dm)[-1]
            async with database.sessions() as session:
                texts = (await session.scalars(select(ResearchQuestion.text))).all()
            assert texts == ["How do you decide whom to trust?"]
        finally:
            await database.dispose()


async def test_a_published_question_is_posted_in_the_community_channel_once(
    settings: Settings, rasa: RasaStandIn
) -> None:
    """Review by slash command in the moderators' channel, then publication: the question is
    posted once in the configured community channel, with how to answer privately."""
    from community.models import Staff
    from community.research.questions import submit
    from community.scheduling import research_job
    from community.staff import add_staff

    community = "900000000000000055"
    configured = settings.model_copy(
        update={
            "discord_community_channel_id": int(community),
            "research_quiet_start_hour": 0,
            "research_quiet_end_hour": 0,
        }
    )
    async with discord_app(configured, rasa) as (server, app):
        database = Database.connect(configured.resolved_database_url)
        try:
            async with database.transaction() as session:
                await add_staff(session, "rae", "researcher")
                staff_id = await session.scalar(select(Staff.id).where(Staff.name == "rae"))
                assert staff_id is not None
                question = await submit(
                    session, staff_id, "What helps you trust a study?", "A stigma study.", False,
                    None,
                )  # fmt: skip
            number = str(question.id)
            token = await server.slash(
                MOD, "approve", MOD_CHANNEL_ID, {"number": number}, roles=[MOD_ROLE_ID]
            )
            await server.wait_for(lambda: "approved" in str(server.interaction_replies(token)))
            token = await server.slash(
                MOD, "publish", MOD_CHANNEL_ID, {"number": number}, roles=[MOD_ROLE_ID]
            )
            await server.wait_for(lambda: server.interaction_replies(token))
            await research_job(app.state.jobs)
            await server.wait_for(lambda: server.texts_in(community))
            await research_job(app.state.jobs)  # a second run posts nothing again
            await asyncio.sleep(0.3)
            posts = server.texts_in(community)
            assert len(posts) == 1
            assert "What helps you trust a study?" in posts[0] and f"/answer_{number}" in posts[0]
        finally:
            await database.dispose()


async def test_an_unsure_message_is_asked_about_and_each_button_answers(
    unsure_settings: Settings, rasa: RasaStandIn, database: Database
) -> None:
    async with discord_app(unsure_settings, rasa) as (server, _):
        dm = server.dm_channel_for(MOM)
        await server.dm(MOM, "idk anymore honestly")
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 2)
        # Her words are answered (Rasa's reply first), then the check, whose buttons come last.
        answer, question = server.posted(dm)[:2]
        assert answer["content"] == rasa.reply[0]["text"]
        assert "Are you safe right now?" in question["content"] and "988" in question["content"]
        buttons = [b["custom_id"] for b in question["components"][0]["components"]]
        assert buttons == ["say:/check_safe", "say:/check_help", "say:/check_person"]

        await server.click(MOM, "say:/check_safe", dm)
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 3)
        assert "Thank you" in server.texts_in(dm)[2]

        for user, payload in ((MOM + 10, "say:/check_help"), (MOM + 11, "say:/check_person")):
            channel = server.dm_channel_for(user)
            await server.dm(user, "idk anymore honestly")
            await server.wait_for(lambda c=channel: len(server.texts_in(c)) >= 2)
            await server.click(user, payload, channel)
            await server.wait_for(lambda c=channel: len(server.texts_in(c)) >= 3)
            assert "911" in server.texts_in(channel)[2]
        async with database.sessions() as session:
            severities = sorted((await session.scalars(select(Case.severity))).all())
        assert severities == ["elevated", "high"]


async def test_an_edited_dm_is_screened_again(settings: Settings, rasa: RasaStandIn) -> None:
    async with discord_app(settings, rasa) as (server, _):
        dm = server.dm_channel_for(MOM)
        await server.dm(MOM, "what time is group tonight", id="500000000000000001")
        await server.wait_for(lambda: server.texts_in(dm))
        await server.edit_dm(MOM, "500000000000000001", "i want to kill myself tonight")
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 2)
        assert "988" in server.texts_in(dm)[1]


async def test_after_a_claim_the_bot_does_not_talk_over_the_moderator(
    settings: Settings, rasa: RasaStandIn
) -> None:
    """Her "yes I called 911, they are coming" goes to the thread with a note from the screen,
    not a canned medical reply to her."""
    async with discord_app(settings, rasa) as (server, _):
        dm = server.dm_channel_for(MOM)
        await server.dm(MOM, CRISIS)
        await server.wait_for(lambda: _thread_cards(server))
        thread, card = _thread_cards(server)[0]
        claim = card["components"][0]["components"][0]
        token = await server.click(MOD, claim["custom_id"], thread, roles=[MOD_ROLE_ID])
        await server.wait_for(
            lambda: any("claimed this case" in str(r) for r in server.interaction_replies(token))
        )
        await server.thread_message(
            MOD, thread, "I'm here with you. Can you call 911?", [MOD_ROLE_ID]
        )
        await server.wait_for(lambda: any("call 911?" in t for t in server.texts_in(dm)))
        before = len(server.texts_in(dm))

        await server.dm(MOM, "yes I called 911, they are coming")
        await server.wait_for(lambda: any("Screen" in t for t in server.texts_in(thread)))
        note = next(t for t in server.texts_in(thread) if "Screen" in t)
        assert "on its way" in note and "did not answer her" in note
        assert any("they are coming" in t for t in server.texts_in(thread))
        await asyncio.sleep(0.5)
        assert len(server.texts_in(dm)) == before  # nothing from the bot to her


async def test_a_thread_refused_for_a_while_is_started_later_from_the_same_alert(
    settings: Settings, rasa: RasaStandIn
) -> None:
    """Discord refuses to start the thread past discord.py's own retries: the next round starts
    it from the alert already posted, so moderators are pinged once, not once per try."""
    async with discord_app(settings, rasa) as (server, _):
        server.rate_limit("POST", lambda path: path.endswith("/threads"), times=5, retry_after=0.1)
        await server.dm(MOM, CRISIS)
        await server.wait_for(lambda: _thread_cards(server), within=20)
        started = [c for c in server.threads() if c.status == 200]
        assert len(started) == 1 and len(server.threads()) == 6  # five refusals, then one
        (alert,) = server.alerts()
        assert server.texts_in(MOD_CHANNEL_ID).count(alert["content"]) == 1
