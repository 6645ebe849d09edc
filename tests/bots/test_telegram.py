"""The Telegram adapter: the real python-telegram-bot Application, inside the real bot app,
polling a local stand-in for the Bot API (tests/bots/telegram_standin.py). Rasa is a stand-in
here (the real one is exercised through the chat API in tests/test_stack.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bots.telegram.render import MESSAGE_LIMIT, split_text
from community.db import Database
from community.models import Case, CaseNote
from community.phrases import phrase
from community.settings import Settings
from tests.bots.app_harness import CRISIS, heard_by_gateway, running
from tests.bots.rasa_standin import RasaStandIn
from tests.bots.telegram_standin import TOKEN, BotApiStandIn, bot_api_standin

MOM = 5550001
MOD = 7770001
STRANGER = 8880001


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    with bot_api_standin() as server:
        server.moderators.add(MOD)
        yield server


def _settings(settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn) -> Settings:
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(TOKEN),
            "telegram_base_url": bot_api.url,  # no "/bot": peerbot adds it
            "telegram_moderator_chat_id": bot_api.moderator_chat_id,
            "rasa_url": rasa.url,
        }
    )


def test_long_replies_are_split_on_sentences_and_lose_nothing() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(800))
    pieces = split_text(text)
    assert len(pieces) > 1 and all(len(p) <= MESSAGE_LIMIT for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text


async def test_start_faq_buttons_and_command_menu(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        await bot_api.wait_for(lambda: bot_api.sent("setMyCommands"))
        commands = [c["command"] for c in bot_api.sent("setMyCommands")[0].params["commands"]]
        assert commands == [
            "start", "help", "resources", "talk", "ask", "research", "sessions", "privacy",
            "mydata", "delete", "language", "myplan", "checkins", "remind", "reminders", "same",
            "timezone",
        ]  # fmt: skip

        bot_api.private_message(MOM, "/start")
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
        welcome = bot_api.texts_to(MOM)[0]
        assert "not a doctor or an emergency service" in welcome and "988" in welcome
        assert "/talk" in welcome

        bot_api.private_message(MOM, "where do i get narcan")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 2)
        faq = bot_api.sent("sendMessage", MOM)[1]
        assert faq.params["text"].startswith("Naloxone")
        rows = faq.params["reply_markup"]["inline_keyboard"]
        assert [r[0]["callback_data"] for r in rows] == ["/faq_test_strips", "/request_human"]
        # Rasa saw a pseudonym, never her Telegram id.
        assert str(MOM) not in str(rasa.received)

        # Pressing a button sends its payload through the gateway.
        bot_api.button_press(MOM, "/faq_test_strips", chat_id=MOM)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 3)
        assert rasa.received[-1]["message"] == "/faq_test_strips"
        assert bot_api.sent("answerCallbackQuery")


async def test_the_menu_in_spanish_and_her_apps_language_reaches_the_gateway(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)) as app:
        await bot_api.wait_for(lambda: len(bot_api.sent("setMyCommands")) >= 2)
        default, spanish = (c.params for c in bot_api.sent("setMyCommands")[:2])
        assert "language_code" not in default  # the default menu, for every other language
        assert spanish["language_code"] == "es"
        menu = {c["command"]: c["description"] for c in spanish["commands"]}
        assert list(menu) == [c["command"] for c in default["commands"]]
        assert menu["talk"] == "Hablar con una persona de nuestra comunidad"
        assert menu["language"] == "Elige el idioma de mis respuestas"
        assert {c["command"]: c["description"] for c in default["commands"]}["language"] == (
            "Choose the language I answer in"
        )

        heard = heard_by_gateway(app)
        bot_api.private_message(MOM, "hola, donde consigo narcan", language_code="es")
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
        bot_api.private_message(MOM, "/language es", language_code="es")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 2)
        bot_api.button_press(MOM, "/faq_test_strips", chat_id=MOM, language_code="es-MX")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 3)
        bot_api.private_message(MOM + 1, "where do i get narcan")  # no language set in her app
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM + 1))
        assert [(m.text, m.language_hint) for m in heard] == [
            ("hola, donde consigo narcan", "es"),
            ("/language es", "es"),
            ("/faq_test_strips", "es-MX"),
            ("where do i get narcan", None),
        ]


async def test_the_case_card_says_she_writes_in_spanish(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    from community.members import resolve_member

    async with running(_settings(settings, bot_api, rasa)) as app:
        services = app.state.services
        async with services.database.transaction() as session:  # as the gateway keeps it
            member = await resolve_member(session, services.pseudonym_key, "telegram", str(MOM))
            member.language, member.language_source = "es", "written"
        bot_api.private_message(MOM, "ya no quiero vivir, esta noche me mato", language_code="es")
        await bot_api.wait_for(lambda: bot_api.texts_to(bot_api.moderator_chat_id))
        card = bot_api.texts_to(bot_api.moderator_chat_id)[0]
        lines = card.splitlines()
        assert "Writes in Spanish: reply in Spanish if you can." in lines
        assert lines[-1].startswith("What she wrote: ya no quiero vivir")


async def test_crisis_claim_relay_both_ways_and_resolve(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with running(_settings(settings, bot_api, rasa)):
            rasa_calls = len(rasa.received)
            bot_api.private_message(MOM, CRISIS)
            await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
            reply = bot_api.texts_to(MOM)[0]
            assert "988" in reply and "911" in reply
            assert len(rasa.received) == rasa_calls, "a crisis never waits on Rasa"

            # A topic opens in the moderators' group with the summary and a Claim button.
            await bot_api.wait_for(lambda: bot_api.sent("createForumTopic"))
            topic = bot_api.sent("createForumTopic")[0].params
            assert topic["name"].startswith("imminent · suicide · member-")
            assert str(MOM) not in topic["name"]
            await bot_api.wait_for(lambda: bot_api.texts_to(bot_api.moderator_chat_id))
            card = bot_api.sent("sendMessage", bot_api.moderator_chat_id)[0]
            assert CRISIS in card.params["text"] and str(MOM) not in card.params["text"]
            claim = card.params["reply_markup"]["inline_keyboard"][0][0]
            assert claim["text"] == "Claim"
            thread = card.params["message_thread_id"]

            # Someone outside the moderators' group is refused with an alert.
            bot_api.button_press(
                STRANGER, claim["callback_data"], bot_api.moderator_chat_id, thread
            )
            await bot_api.wait_for(lambda: bot_api.sent("answerCallbackQuery"))
            refusal = bot_api.sent("answerCallbackQuery")[-1].params
            assert refusal.get("show_alert") is True and "moderators" in refusal["text"]
            async with database.sessions() as session:
                case = (await session.scalars(select(Case))).one()
                assert case.status == "waiting"

            # A moderator claims; she is told who joined (a name, never the account), and her
            # next message appears in the topic.
            bot_api.button_press(
                MOD, claim["callback_data"], bot_api.moderator_chat_id, thread, name="Ana"
            )
            await bot_api.wait_for(
                lambda: any(
                    "claimed this case" in t for t in bot_api.texts_to(bot_api.moderator_chat_id)
                )
            )
            await bot_api.wait_for(lambda: any("has joined" in t for t in bot_api.texts_to(MOM)))
            joined = next(t for t in bot_api.texts_to(MOM) if "has joined" in t)
            assert joined.startswith("Ana (peer support team) has joined the chat.")
            assert str(MOD) not in joined
            # Another moderator is told who has it by name.
            bot_api.moderators.add(MOD + 1)
            bot_api.button_press(
                MOD + 1, f"pb:resolve:{case.id}", bot_api.moderator_chat_id, thread, name="Ben"
            )
            await bot_api.wait_for(
                lambda: any(
                    "claimed by" in str(c.params.get("text"))
                    for c in bot_api.sent("answerCallbackQuery")
                )
            )
            said = next(
                str(c.params["text"])
                for c in bot_api.sent("answerCallbackQuery")
                if "claimed by" in str(c.params.get("text"))
            )
            assert "claimed by Ana" in said and "telegram:" not in said
            bot_api.private_message(MOM, "im scared and alone")
            await bot_api.wait_for(
                lambda: any(
                    "im scared and alone" in t for t in bot_api.texts_to(bot_api.moderator_chat_id)
                )
            )
            assert len(rasa.received) == rasa_calls

            # What the moderator writes in the topic reaches her under the moderator's name.
            bot_api.topic_message(MOD, thread, "Hi, I'm here with you. Are you safe right now?")
            await bot_api.wait_for(lambda: any("Are you safe" in t for t in bot_api.texts_to(MOM)))
            relayed = next(t for t in bot_api.texts_to(MOM) if "Are you safe" in t)
            assert relayed.startswith("Ana (from our team):")

            # Notes by command, never sent to her.
            bot_api.topic_message(MOD, thread, "/note she has a safety plan")
            await bot_api.wait_for(
                lambda: any("Note saved" in t for t in bot_api.texts_to(bot_api.moderator_chat_id))
            )
            async with database.sessions() as session:
                note = (await session.scalars(select(CaseNote))).one()
                assert note.text == "she has a safety plan"
            assert not any("safety plan" in t for t in bot_api.texts_to(MOM))

            # Resolve: the case closes and the bot answers again.
            resolve = {
                "callback_data": f"pb:resolve:{case.id}",
            }
            bot_api.button_press(MOD, resolve["callback_data"], bot_api.moderator_chat_id, thread)
            await bot_api.wait_for(
                lambda: any(
                    "closed this case" in t for t in bot_api.texts_to(bot_api.moderator_chat_id)
                )
            )
            async with database.sessions() as session:
                closed = await session.get(Case, case.id)
                assert closed is not None and closed.status == "resolved"
            # She is told who left, then offered a check-in (a crisis case: issue #21).
            await bot_api.wait_for(
                lambda: bot_api.texts_to(MOM)[-1:] == [phrase("followup_offer", "en")]
            )
            assert bot_api.texts_to(MOM)[-2].startswith("Ana has left the chat. ")
            bot_api.private_message(MOM, "where do i get narcan")
            await bot_api.wait_for(lambda: len(rasa.received) > rasa_calls)
    finally:
        await database.dispose()


async def test_stickers_voice_and_a_10000_character_message(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        sticker = {"file_id": "s1", "file_unique_id": "u1", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
        bot_api.private_message(MOM, sticker=sticker)
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
        assert "stickers" in bot_api.texts_to(MOM)[0]

        voice = {"file_id": "v1", "file_unique_id": "u2", "duration": 3}
        bot_api.private_message(MOM, voice=voice, caption="can i breastfeed on methadone")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 3)
        assert rasa.received[-1]["message"] == "can i breastfeed on methadone"  # caption read

        bot_api.private_message(MOM, "a" * 5000 + " " + "b" * 4999)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 5)
        assert "long message" in " ".join(bot_api.texts_to(MOM)[3:])
        assert all(len(t) <= MESSAGE_LIMIT for t in bot_api.texts_to(MOM))

        bot_api.private_message(MOM, "/dance")
        await bot_api.wait_for(
            lambda: any("don't know that command" in t for t in bot_api.texts_to(MOM))
        )


async def test_an_edit_is_screened_again(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        bot_api.edited_message(MOM, "never mind, nothing")
        bot_api.edited_message(MOM, CRISIS)
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
        assert len(bot_api.texts_to(MOM)) == 1 and "988" in bot_api.texts_to(MOM)[0]


async def test_a_restart_does_not_answer_an_update_twice(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        hello = bot_api.private_message(MOM, "hello")
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
    # The process stopped before Telegram learned the update was handled (a crash, a kill):
    # Telegram delivers it again. The stand-in's last long poll must end first, or it would
    # confirm the update on behalf of the stopped bot.
    await asyncio.sleep(1.2)
    redelivered = {"update_id": hello, "message": {"message_id": 1, "date": 0, "text": "hello",
                   "chat": {"id": MOM, "type": "private"},
                   "from": {"id": MOM, "is_bot": False, "first_name": "Mom"}}}  # fmt: skip
    bot_api.push_raw(redelivered)
    async with running(_settings(settings, bot_api, rasa)):
        await bot_api.wait_for(lambda: not bot_api.updates, within=5)  # it was fetched
        bot_api.private_message(MOM, "and a new one")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 2)
    assert len(bot_api.texts_to(MOM)) == 2
    assert [m["message"] for m in rasa.received] == ["hello", "and a new one"]


async def test_network_failures_are_retried(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        # Her chat's sends fail twice (the moderators' card may go out in between).
        bot_api.refuse("sendMessage", lambda p: p.get("chat_id") == MOM, 502, "Bad Gateway", 2)
        bot_api.private_message(MOM, CRISIS)
        await bot_api.wait_for(lambda: len(bot_api.sent("sendMessage", MOM)) >= 3, within=15)
        assert "988" in bot_api.sent("sendMessage", MOM)[-1].params["text"]


async def test_in_a_group_the_bot_speaks_only_when_addressed(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    group = -100555
    async with running(_settings(settings, bot_api, rasa)):
        base = {"date": 0, "chat": {"id": group, "type": "supergroup", "title": "Moms"},
                "from": {"id": MOM, "is_bot": False, "first_name": "Mom"}}  # fmt: skip
        bot_api.push("message", {**base, "message_id": 1, "text": "anyone up? rough night"})
        text = "@peerbot_test_bot can you help me"
        bot_api.push(
            "message",
            {**base, "message_id": 2, "text": text,
             "entities": [{"type": "mention", "offset": 0, "length": 17}]},
        )  # fmt: skip
        await bot_api.wait_for(lambda: bot_api.texts_to(group))
        assert len(bot_api.texts_to(group)) == 1
        assert "private chat" in bot_api.texts_to(group)[0]
        assert rasa.received == []


async def test_a_deleted_topic_is_recreated_and_a_blocked_bot_is_survived(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        bot_api.private_message(MOM, CRISIS)
        await bot_api.wait_for(lambda: bot_api.sent("createForumTopic"))
        await bot_api.wait_for(lambda: bot_api.texts_to(bot_api.moderator_chat_id))
        first_topic = bot_api.sent("sendMessage", bot_api.moderator_chat_id)[0].params
        # A moderator deletes the topic; her next message must still reach the moderators.
        bot_api.refuse(
            "sendMessage",
            lambda p: p.get("message_thread_id") == first_topic["message_thread_id"],
            400, "Bad Request: message thread not found", times=100,
        )  # fmt: skip
        # And she has blocked the bot: what the bot sends her is refused.
        bot_api.refuse("sendMessage", lambda p: p.get("chat_id") == MOM, 403,
                       "Forbidden: bot was blocked by the user", times=100)  # fmt: skip
        bot_api.private_message(MOM, "are you there")
        await bot_api.wait_for(lambda: len(bot_api.sent("createForumTopic")) == 2)
        await bot_api.wait_for(
            lambda: any(
                "are you there" in c.params["text"]
                and c.params.get("message_thread_id") != first_topic["message_thread_id"]
                for c in bot_api.sent("sendMessage", bot_api.moderator_chat_id)
            )
        )
        # The bot is still running: another member is answered.
        bot_api.private_message(MOM + 1, "hello")
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM + 1))


async def test_webhook_mode_checks_telegrams_secret_token(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    import httpx

    webhook = _settings(settings, bot_api, rasa).model_copy(
        update={
            "telegram_webhook_url": "https://peerbot.example.org/telegram/webhook",
            "telegram_webhook_secret": SecretStr("s3cret-token_ABC"),
        }
    )
    async with running(webhook) as app:
        await bot_api.wait_for(lambda: bot_api.sent("setWebhook"))
        set_webhook = bot_api.sent("setWebhook")[0].params
        assert set_webhook["secret_token"] == "s3cret-token_ABC"
        assert bot_api.sent("getUpdates") == []  # no polling in webhook mode
        update = {"update_id": 42, "message": {"message_id": 1, "date": 0, "text": "hello",
                  "chat": {"id": MOM, "type": "private"},
                  "from": {"id": MOM, "is_bot": False, "first_name": "Mom"}}}  # fmt: skip
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            wrong = await client.post(
                "/telegram/webhook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
            )  # fmt: skip
            assert wrong.status_code == 403
            right = await client.post(
                "/telegram/webhook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_ABC"},
            )  # fmt: skip
            assert right.status_code == 200
            junk = await client.post(
                "/telegram/webhook", content=b"\x00\xff not json",
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_ABC"},
            )  # fmt: skip
            assert junk.status_code == 400
            # A secret with characters no header should carry is wrong, not a 500.
            odd = await client.post(
                "/telegram/webhook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-tökén".encode()},
            )  # fmt: skip
            assert odd.status_code == 403
            # An update Telegram's library cannot read is taken (200) and ignored: refused,
            # Telegram would send it again and again.
            malformed = await client.post(
                "/telegram/webhook", json={"update_id": 43, "message": {"chat": "not a chat"}},
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_ABC"},
            )  # fmt: skip
            assert malformed.status_code == 200
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
        assert rasa.received[0]["message"] == "hello"


async def test_the_web_chat_does_not_wait_for_an_unreachable_telegram(
    settings: Settings, rasa: RasaStandIn
) -> None:
    import httpx

    dead = settings.model_copy(
        update={
            "telegram_token": SecretStr(TOKEN),
            "telegram_base_url": "http://127.0.0.1:9",
            "rasa_url": rasa.url,
        }
    )
    async with running(dead) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            reply = await client.post(
                "/api/chat", json={"user": "web-mom-0000000001", "text": CRISIS}
            )
        assert reply.status_code == 200 and "988" in reply.json()["replies"][0]["text"]


async def test_a_group_without_topics_still_works_by_replying_to_the_case_card(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    bot_api.refuse("createForumTopic", lambda p: True, 400, "Bad Request: the chat is not a forum")
    # And a Bot API that cannot say who is a member: acting from inside the group is enough.
    bot_api.refuse("getChatMember", lambda p: True, 400, "Bad Request: method unavailable", 100)
    async with running(_settings(settings, bot_api, rasa)):
        bot_api.private_message(MOM, CRISIS)
        await bot_api.wait_for(lambda: bot_api.texts_to(bot_api.moderator_chat_id))
        card = bot_api.sent("sendMessage", bot_api.moderator_chat_id)[0].params
        assert "message_thread_id" not in card and "#1" in card["text"]
        claim = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        bot_api.button_press(MOD, claim, bot_api.moderator_chat_id)
        await bot_api.wait_for(
            lambda: any("claimed" in t for t in bot_api.texts_to(bot_api.moderator_chat_id))
        )
        bot_api.group_message(MOD, "I'm here with you.", reply_to_text=card["text"])
        await bot_api.wait_for(lambda: any("I'm here with you" in t for t in bot_api.texts_to(MOM)))
        bot_api.private_message(MOM, "thank you for coming")
        await bot_api.wait_for(
            lambda: any(
                t.startswith("#1 She wrote") and "thank you for coming" in t
                for t in bot_api.texts_to(bot_api.moderator_chat_id)
            )
        )
        # Small talk in the group, even from the claiming moderator, is not sent to anyone.
        bot_api.group_message(MOD, "coffee anyone?")
        await asyncio.sleep(0.5)
        assert not any("coffee" in t for t in bot_api.texts_to(MOM))


async def test_research_on_telegram_review_in_the_group_answer_in_private(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    """A moderator approves a researcher's question from the moderators' group; published, it
    reaches the mom who opted in by command, with buttons, in her private chat, and the
    community group; she answers with the buttons. A stranger's /approve does nothing."""
    from community.research.models import ResearchAnswer
    from community.research.questions import submit
    from community.scheduling import research_job
    from community.staff import add_staff

    community = -100777
    configured = _settings(settings, bot_api, rasa).model_copy(
        update={
            "telegram_community_chat_id": community,
            "research_quiet_start_hour": 0,
            "research_quiet_end_hour": 0,
        }
    )
    async with running(configured) as app:
        database = Database.connect(configured.resolved_database_url)
        try:
            async with database.transaction() as session:
                await add_staff(session, "rae", "researcher")
                from community.models import Staff

                staff_id = await session.scalar(select(Staff.id).where(Staff.name == "rae"))
                assert staff_id is not None
                question = await submit(
                    session, staff_id, "What helps you feel safe to speak up?", "", True, None
                )
            bot_api.private_message(MOM, "/research")
            await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
            menu = bot_api.sent("sendMessage", MOM)[-1].params
            optin = [
                b["callback_data"]
                for row in menu["reply_markup"]["inline_keyboard"]
                for b in row
                if b["callback_data"] == "/optin_questions"
            ]
            bot_api.button_press(MOM, optin[0], MOM)
            await bot_api.wait_for(lambda: any("Done" in t for t in bot_api.texts_to(MOM)))

            bot_api.group_message(STRANGER, f"/approve {question.id}")
            bot_api.group_message(MOD, "/questions")
            group = bot_api.moderator_chat_id
            await bot_api.wait_for(
                lambda: any("What helps you feel safe" in t for t in bot_api.texts_to(group))
            )
            bot_api.group_message(MOD, f"/approve {question.id} What helps you feel safe to talk?")
            await bot_api.wait_for(lambda: any("approved" in t for t in bot_api.texts_to(group)))
            bot_api.group_message(MOD, f"/publish {question.id}")
            await bot_api.wait_for(lambda: any("go out" in t for t in bot_api.texts_to(group)))
            await research_job(app.state.jobs)
            await bot_api.wait_for(
                lambda: any("feel safe to talk?" in t for t in bot_api.texts_to(MOM))
            )
            await bot_api.wait_for(
                lambda: any(f"/answer_{question.id}" in t for t in bot_api.texts_to(community))
            )
            sent = [
                c.params
                for c in bot_api.sent("sendMessage", MOM)
                if "feel safe" in c.params["text"]
            ]
            assert len(sent) == 1
            answer = sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            bot_api.button_press(MOM, answer, MOM)
            await bot_api.wait_for(lambda: "Is that OK?" in bot_api.texts_to(MOM)[-1])
            bot_api.button_press(MOM, f"/consent_{question.id}", MOM)
            await bot_api.wait_for(lambda: "next message" in bot_api.texts_to(MOM)[-1])
            bot_api.private_message(MOM, "Knowing nobody will call CPS on me.")
            # Saved, then the separate Mothers 101 question.
            await bot_api.wait_for(lambda: "Mothers 101" in bot_api.texts_to(MOM)[-1])
            assert "saved" in bot_api.texts_to(MOM)[-2]
            async with database.sessions() as session:
                stored = (await session.scalars(select(ResearchAnswer.text))).all()
            assert stored == ["Knowing nobody will call CPS on me."]
        finally:
            await database.dispose()


async def test_an_attacking_community_post_is_flagged_and_its_author_blocked(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    """Un-addressed posts in a community group pass the conduct screen: an attack reaches the
    moderators' group as a flag (the bot says nothing in the community group); a moderator
    blocks its author from the group; a stranger's /blockflag does nothing; /unblock lifts."""
    community = -100555
    troll = 6660001
    base = {"date": 0, "chat": {"id": community, "type": "supergroup", "title": "Moms"},
            "from": {"id": troll, "is_bot": False, "first_name": "T"}}  # fmt: skip
    async with running(_settings(settings, bot_api, rasa)):
        group = bot_api.moderator_chat_id
        bot_api.push("message", {**base, "message_id": 1, "text": "so glad this group exists"})
        bot_api.push(
            "message", {**base, "message_id": 2, "text": "CPS should take your baby, junkie"}
        )
        await bot_api.wait_for(lambda: any("Flag 1" in t for t in bot_api.texts_to(group)))
        flag = next(t for t in bot_api.texts_to(group) if "Flag 1" in t)
        assert "CPS should take your baby" in flag
        assert str(troll) not in flag
        assert not any("Flag 2" in t for t in bot_api.texts_to(group))  # the kind post
        assert bot_api.texts_to(community) == []
        # A kind post edited into an attack is screened again.
        bot_api.push(
            "edited_message",
            {**base, "message_id": 1, "edit_date": 1, "text": "you are a junkie"},
        )
        await bot_api.wait_for(lambda: any("Flag 2" in t for t in bot_api.texts_to(group)))

        bot_api.group_message(STRANGER, "/blockflag 1 30 rude")
        bot_api.group_message(MOD, "/blockflag 1 7 threatened a mom with CPS")
        await bot_api.wait_for(
            lambda: any("blocked for 7 days" in t for t in bot_api.texts_to(group))
        )
        bot_api.private_message(troll, "hi")
        await bot_api.wait_for(lambda: bot_api.texts_to(troll))
        assert "paused" in bot_api.texts_to(troll)[-1]
        assert rasa.received == []

        bot_api.group_message(MOD, "/blocks")
        await bot_api.wait_for(lambda: any("Block 1:" in t for t in bot_api.texts_to(group)))
        assert sum("blocked for" in t for t in bot_api.texts_to(group)) == 1  # not the stranger's
        bot_api.group_message(MOD, "/unblock 1")
        await bot_api.wait_for(lambda: any("lifted" in t for t in bot_api.texts_to(group)))
        bot_api.private_message(troll, "hi again")
        await bot_api.wait_for(lambda: len(rasa.received) == 1)


async def test_a_researcher_links_her_chat_and_submits_a_mother_cannot(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    from community.research.digest import write_digests
    from community.research.models import ResearchQuestion
    from community.staff import add_staff, issue_link_code, revoke_staff

    researcher = 4440001
    async with running(_settings(settings, bot_api, rasa)):
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                await add_staff(session, "rae", "researcher", "Dr Rae")
                code = await issue_link_code(session, "rae", "researcher")
            bot_api.private_message(MOM, "/submit Why do moms relapse?")
            await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
            assert "for researchers" in bot_api.texts_to(MOM)[-1]

            bot_api.private_message(researcher, "/link link-wrong")
            await bot_api.wait_for(lambda: bot_api.texts_to(researcher))
            assert "didn't work" in bot_api.texts_to(researcher)[-1]
            bot_api.private_message(researcher, f"/link {code}")
            await bot_api.wait_for(lambda: "Linked to Dr Rae" in bot_api.texts_to(researcher)[-1])
            bot_api.private_message(MOM, f"/link {code}")  # used up: it works once
            await bot_api.wait_for(lambda: "didn't work" in bot_api.texts_to(MOM)[-1])

            question = "What would make a research study feel safe to join?"
            bot_api.private_message(researcher, f"/submit {question}")
            await bot_api.wait_for(lambda: "waiting for" in bot_api.texts_to(researcher)[-1])
            async with database.sessions() as session:
                stored = (await session.scalars(select(ResearchQuestion))).all()
            assert [(q.text, q.status) for q in stored] == [(question, "submitted")]

            bot_api.private_message(researcher, "/submit")
            await bot_api.wait_for(lambda: "Your latest" in bot_api.texts_to(researcher)[-1])
            assert f"{stored[0].id}: submitted" in bot_api.texts_to(researcher)[-1]

            # Her digest reaches the chat she linked, once per period however often it runs.
            for _ in range(2):
                async with database.transaction() as session:
                    await write_digests(session, "weekly")
            await bot_api.wait_for(
                lambda: any("research digest" in t for t in bot_api.texts_to(researcher))
            )
            await asyncio.sleep(1.5)  # a delivery round or more
            assert sum("research digest" in t for t in bot_api.texts_to(researcher)) == 1

            async with database.transaction() as session:
                await revoke_staff(session, "rae", "researcher")
            bot_api.private_message(researcher, "/submit another one")
            await bot_api.wait_for(lambda: "for researchers" in bot_api.texts_to(researcher)[-1])
            async with database.sessions() as session:
                assert len((await session.scalars(select(ResearchQuestion))).all()) == 1
            assert rasa.received == []
        finally:
            await database.dispose()


async def test_an_unsure_message_is_asked_about_and_each_button_answers(
    unsure_settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    async with running(_settings(unsure_settings, bot_api, rasa)):
        bot_api.private_message(MOM, "idk anymore honestly")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 2)
        # Her words are answered (Rasa's reply first), then the check, whose buttons come last.
        answer, question = bot_api.sent("sendMessage", MOM)[:2]
        assert answer.params["text"] == rasa.reply[0]["text"]
        assert "Are you safe right now?" in question.params["text"]
        assert "988" in question.params["text"]
        rows = question.params["reply_markup"]["inline_keyboard"]
        payloads = [button["callback_data"] for row in rows for button in row]
        assert payloads == ["/check_safe", "/check_help", "/check_person"]

        bot_api.button_press(MOM, "/check_safe", chat_id=MOM)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 3)
        assert "Thank you" in bot_api.texts_to(MOM)[2]
        async with database.sessions() as session:
            assert await session.scalar(select(Case)) is None

        for user, payload in ((MOM + 1, "/check_help"), (MOM + 2, "/check_person")):
            bot_api.private_message(user, "idk anymore honestly")
            await bot_api.wait_for(lambda u=user: len(bot_api.texts_to(u)) >= 2)
            bot_api.button_press(user, payload, chat_id=user)
            await bot_api.wait_for(lambda u=user: len(bot_api.texts_to(u)) >= 3)
            assert "911" in bot_api.texts_to(user)[2]
        # Both reached the moderators' group as cases, with what she wrote.
        await bot_api.wait_for(lambda: len(bot_api.texts_to(bot_api.moderator_chat_id)) >= 2)
        async with database.sessions() as session:
            severities = sorted((await session.scalars(select(Case.severity))).all())
        assert severities == ["elevated", "high"]
