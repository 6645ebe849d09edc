"""Platform rate limits (issue #16). The stand-ins answer as the platforms do when a bot sends
too much: Telegram with 429 and `parameters.retry_after`, Discord with 429, its `Retry-After` and
`X-RateLimit-*` headers and a JSON `retry_after` (per route, or `global`). They do so while
peerbot delivers (a) a burst of moderator replies to one member, through the outbox, and (b) a
research broadcast and case cards to the moderators' home.

python-telegram-bot (with peerbot's `PerChatRateLimiter`, max_retries=3) and discord.py's HTTP
client retry a 429 themselves; these tests hold the whole product to what matters with them
underneath: nothing is lost, nothing is sent twice, and a crisis from another member while those
sends wait is answered at once and her case recorded. Some limits outlast the libraries' own
retries, so the delivery loop's retry (next round) is exercised too, and a message split in
pieces is limited midway.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from community.db import Database
from community.members import resolve_member
from community.models import Case, DeliveryAddress, Notification, OutboxMessage, Staff, utcnow
from community.research.preferences import set_preference
from community.research.publication import fan_out_due, queue_due
from community.research.questions import approve, schedule, submit
from community.settings import Settings
from community.staff import add_staff
from tests.bots.app_harness import CRISIS, running
from tests.bots.discord_standin import (
    MOD_CHANNEL_ID,
    MOD_ROLE_ID,
    DiscordStandIn,
    discord_standin,
)
from tests.bots.discord_standin import TOKEN as DISCORD_TOKEN
from tests.bots.discord_standin import Call as DiscordCall
from tests.bots.rasa_standin import RasaStandIn
from tests.bots.telegram_standin import TOKEN as TELEGRAM_TOKEN
from tests.bots.telegram_standin import BotApiStandIn, bot_api_standin
from tests.bots.telegram_standin import Call as TelegramCall

TG_MOM, TG_OTHER, TG_MOD = 5550101, 5550102, 7770101
TG_MOTHERS = [70_000_101 + n for n in range(4)]
DC_MOM, DC_OTHER, DC_MOD = 400000000000000101, 400000000000000102, 400000000000000103
DC_MOTHERS = [400000000000000201 + n for n in range(4)]
REPLIES = ["First: I'm here.", "Second: are you somewhere safe?", "Third: I'll stay with you."]
QUESTION = "What would make asking for help feel safer?"
# Telegram counts flood waits in whole seconds; discord.py retries a 429 itself 5 times.
TELEGRAM_RETRY_AFTER = 1
DISCORD_RETRY_AFTER = 1.0
BEYOND_PTB_RETRIES = 4  # the rate limiter's max_retries=3: a 4th 429 in a row reaches peerbot
BEYOND_DISCORD_RETRIES = 5  # discord.py's 5 tries: a 5th 429 in a row reaches peerbot


# -- shared checks -------------------------------------------------------------------------


async def _case_recorded(database: Database, platform: str, address: int) -> float:
    """When her case was seen in the database (time.monotonic, as the stand-ins record)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with database.sessions() as session:
            found = await session.scalar(
                select(Case.id)
                .join(DeliveryAddress, DeliveryAddress.member_id == Case.member_id)
                .where(
                    DeliveryAddress.platform == platform, DeliveryAddress.address == str(address)
                )
            )
        if found is not None:
            return time.monotonic()
        await asyncio.sleep(0.02)
    raise AssertionError(f"no case was recorded for {platform} {address}")


async def _outbox_when_done(
    database: Database, platform: str, rows: int
) -> list[tuple[str | None, int]]:
    """Each outbox row's (outcome, attempts), once all `rows` are marked done (a row is marked
    just after the platform accepted it, so a moment after the stand-in saw it)."""
    outcomes: list[tuple[str | None, int]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with database.sessions() as session:
            found = (
                await session.execute(
                    select(OutboxMessage.outcome, OutboxMessage.attempts)
                    .where(OutboxMessage.platform == platform)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        outcomes = [(outcome, attempts) for outcome, attempts in found]
        if len(outcomes) == rows and all(outcome is not None for outcome, _ in outcomes):
            return outcomes
        await asyncio.sleep(0.05)
    raise AssertionError(f"the outbox is not done: {outcomes}")


async def _publish_question(
    database: Database, settings: Settings, platform: str, mothers: list[int]
) -> None:
    """Mothers who opted in to questions, and an approved question published to them now: one
    bulk outbox row each, as the research job writes them."""
    key = settings.pseudonym_key()
    async with database.transaction() as session:
        for address in mothers:
            member = await resolve_member(session, key, platform, str(address))
            await set_preference(session, member.id, platform, ["questions"], True)
        await add_staff(session, "rae", "researcher")
        staff_id = await session.scalar(select(Staff.id).where(Staff.name == "rae"))
        assert staff_id is not None
        question = await submit(session, staff_id, QUESTION, "A study on stigma.", False, None)
        await approve(session, question.id, "mia")
        await schedule(session, question.id, None)
    now = utcnow()
    async with database.transaction() as session:
        await fan_out_due(session, (), now)
    async with database.transaction() as session:
        assert await queue_due(session, settings, now) == len(mothers)


# -- Telegram ------------------------------------------------------------------------------


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    with bot_api_standin() as server:
        server.moderators.add(TG_MOD)
        yield server


def _telegram(settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn) -> Settings:
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_base_url": bot_api.url,
            "telegram_moderator_chat_id": bot_api.moderator_chat_id,
            "rasa_url": rasa.url,
            "research_quiet_start_hour": 0,  # no quiet hours: the test may run at night
            "research_quiet_end_hour": 0,
        }
    )


async def _telegram_crisis_answered_at_once(
    bot_api: BotApiStandIn, database: Database, member: int, held: TelegramCall
) -> None:
    """She writes while `held` (a send answered 429) waits out its retry_after: her case is
    recorded and her reply goes out before that wait is over."""
    bot_api.private_message(member, CRISIS)
    recorded = await _case_recorded(database, "telegram", member)
    await bot_api.wait_for(lambda: bot_api.delivered("sendMessage", member))
    reply = bot_api.delivered("sendMessage", member)[0]
    assert "988" in reply.params["text"]
    assert recorded - held.at < TELEGRAM_RETRY_AFTER
    waited = reply.at - held.at
    assert waited < TELEGRAM_RETRY_AFTER, (
        f"her crisis reply went out {waited:.2f}s after a 429 for another chat: it waited "
        "behind a rate-limited send"
    )


async def _telegram_claimed_case(bot_api: BotApiStandIn, member: int) -> int:
    """A crisis from `member`, its card in the moderators' group, claimed; the topic's id."""
    group = bot_api.moderator_chat_id
    bot_api.private_message(member, CRISIS)
    await bot_api.wait_for(lambda: bot_api.delivered("sendMessage", group))
    card = bot_api.delivered("sendMessage", group)[0].params
    claim = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    thread = int(card["message_thread_id"])
    bot_api.button_press(TG_MOD, claim, group, thread)
    await bot_api.wait_for(lambda: any("claimed this case" in t for t in bot_api.texts_to(group)))
    # She is told who joined (the first outbox row) before any limit begins.
    await bot_api.wait_for(lambda: any("has joined" in t for t in bot_api.delivered_texts(member)))
    return thread


async def test_telegram_moderator_replies_through_flood_control_arrive_once_in_order(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    """(a) A moderator writes three replies to her while her chat is under flood control."""
    async with running(_telegram(settings, bot_api, rasa)):
        thread = await _telegram_claimed_case(bot_api, TG_MOM)
        crisis_replies = len(bot_api.delivered("sendMessage", TG_MOM))
        # Her chat is flood-limited for longer than the rate limiter retries: the outbox must
        # take the first reply up again next round, and keep the order.
        bot_api.rate_limit(
            "sendMessage", BEYOND_PTB_RETRIES, TELEGRAM_RETRY_AFTER,
            when=lambda p: p.get("chat_id") == TG_MOM,
        )  # fmt: skip
        for text in REPLIES:
            bot_api.topic_message(TG_MOD, thread, text)
        await bot_api.wait_for(lambda: bot_api.limited("sendMessage", TG_MOM))
        held = bot_api.limited("sendMessage", TG_MOM)[0]
        await _telegram_crisis_answered_at_once(bot_api, database, TG_OTHER, held)

        expected = [f"Ana (from our team):\n{text}" for text in REPLIES]
        outcomes = await _outbox_when_done(database, "telegram", 1 + len(REPLIES))
    # Her chat's flood wait was honoured after every 429, the last one (given up) included.
    to_her = [c for c in bot_api.sent("sendMessage", TG_MOM) if c.at >= held.at]
    waits = [b.at - a.at for a, b in itertools.pairwise(to_her) if a.status == 429]
    assert len(waits) == BEYOND_PTB_RETRIES and min(waits) >= TELEGRAM_RETRY_AFTER, waits
    assert bot_api.delivered_texts(TG_MOM)[crisis_replies:] == expected  # once each, in order
    # All three sent; the first needed a second round (its retries were used up). The "has
    # joined" line went before the limit began.
    assert outcomes == [("sent", 1), ("sent", 2), ("sent", 1), ("sent", 1)]


async def test_telegram_research_broadcast_through_flood_control_reaches_each_mother_once(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    """(b) A research question to four mothers, two of whose chats are under flood control."""
    configured = _telegram(settings, bot_api, rasa)
    # One mother's chat is limited once (the library's retry is enough), another's for longer
    # than its retries (the outbox's next round takes it up).
    bot_api.rate_limit(
        "sendMessage", 1, TELEGRAM_RETRY_AFTER, when=lambda p: p.get("chat_id") == TG_MOTHERS[1]
    )
    bot_api.rate_limit(
        "sendMessage", BEYOND_PTB_RETRIES, TELEGRAM_RETRY_AFTER,
        when=lambda p: p.get("chat_id") == TG_MOTHERS[2],
    )  # fmt: skip
    async with running(configured):
        await _publish_question(database, configured, "telegram", TG_MOTHERS)
        await bot_api.wait_for(lambda: bot_api.limited("sendMessage"))
        await _telegram_crisis_answered_at_once(
            bot_api, database, TG_OTHER, bot_api.limited("sendMessage")[0]
        )

        def questions() -> Counter[int]:
            return Counter(
                int(c.params["chat_id"])
                for c in bot_api.delivered("sendMessage")
                if QUESTION in c.params["text"]
            )

        outcomes = await _outbox_when_done(database, "telegram", len(TG_MOTHERS))
    assert questions() == Counter(TG_MOTHERS)  # each mother, exactly once
    assert len(bot_api.limited("sendMessage")) == 1 + BEYOND_PTB_RETRIES
    assert [outcome for outcome, _ in outcomes] == ["sent"] * len(TG_MOTHERS)


async def test_telegram_case_cards_through_flood_control_are_posted_once(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    """(b) Case cards while the moderators' group is under flood control: its topic, then its
    card, are refused; another crisis meanwhile is answered at once and gets its own card."""
    group = bot_api.moderator_chat_id
    # The moderators' group is limited: a topic once, then the card for longer than the
    # library's retries.
    bot_api.rate_limit("createForumTopic", 1, TELEGRAM_RETRY_AFTER)
    bot_api.rate_limit(
        "sendMessage", BEYOND_PTB_RETRIES, TELEGRAM_RETRY_AFTER,
        when=lambda p: p.get("chat_id") == group,
    )  # fmt: skip
    async with running(_telegram(settings, bot_api, rasa)):
        bot_api.private_message(TG_MOM, CRISIS)
        await bot_api.wait_for(lambda: bot_api.limited("createForumTopic"))
        held = bot_api.limited("createForumTopic")[0]
        await bot_api.wait_for(lambda: bot_api.delivered("sendMessage", TG_MOM))
        first_reply = bot_api.delivered("sendMessage", TG_MOM)[0]
        assert first_reply.at - held.at < TELEGRAM_RETRY_AFTER  # her own reply did not wait
        await _telegram_crisis_answered_at_once(bot_api, database, TG_OTHER, held)

        def cards() -> list[str]:
            return [
                c.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                for c in bot_api.delivered("sendMessage", group)
                if c.params.get("reply_markup")
            ]

        await bot_api.wait_for(lambda: len(cards()) >= 2, 20)
        bot_api.private_message(TG_MOM, "are you still there")
        await bot_api.wait_for(
            lambda: any("are you still there" in t for t in bot_api.delivered_texts(group))
        )
    assert len(bot_api.limited("sendMessage", group)) == BEYOND_PTB_RETRIES
    assert sorted(cards()) == ["pb:claim:1", "pb:claim:2"]  # one card per case
    assert len(bot_api.delivered("createForumTopic")) == 2  # one topic per case
    assert sum("are you still there" in t for t in bot_api.delivered_texts(group)) == 1
    async with database.sessions() as session:
        undelivered = await session.scalars(
            select(Notification.id).where(
                Notification.home == "telegram", Notification.delivered_at.is_(None)
            )
        )
        assert undelivered.all() == []


async def test_telegram_a_long_reply_limited_midway_is_not_sent_twice(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    """A moderator's reply too long for one Telegram message goes out in two; the second is
    limited longer than the rate limiter retries: the first is not sent to her again."""
    long_reply = " ".join(f"Sentence {n} of what I want you to know." for n in range(120))
    async with running(_telegram(settings, bot_api, rasa)):
        thread = await _telegram_claimed_case(bot_api, TG_MOM)
        before = len(bot_api.delivered("sendMessage", TG_MOM))
        bot_api.rate_limit(
            "sendMessage", BEYOND_PTB_RETRIES, TELEGRAM_RETRY_AFTER,
            when=lambda p: p.get("chat_id") == TG_MOM and not p["text"].startswith("Ana"),
        )  # fmt: skip
        bot_api.topic_message(TG_MOD, thread, long_reply)
        outcomes = await _outbox_when_done(database, "telegram", 2)
    pieces = bot_api.delivered_texts(TG_MOM)[before:]
    assert len(pieces) == 2 and " ".join(pieces) == f"Ana (from our team):\n{long_reply}"
    assert len(bot_api.limited("sendMessage", TG_MOM)) == BEYOND_PTB_RETRIES
    # The "has joined" line, then the reply taken up again next round, after the piece she has.
    assert outcomes == [("sent", 1), ("sent", 2)]


# -- Discord -------------------------------------------------------------------------------


@asynccontextmanager
async def discord_app(settings: Settings, rasa: RasaStandIn) -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as server:
        configured = settings.model_copy(
            update={
                "discord_token": SecretStr(DISCORD_TOKEN),
                "discord_api_base": f"{server.url}/api/v10",
                "discord_moderator_channel_id": int(MOD_CHANNEL_ID),
                "discord_moderator_role_id": int(MOD_ROLE_ID),
                "rasa_url": rasa.url,
                "research_quiet_start_hour": 0,
                "research_quiet_end_hour": 0,
            }
        )
        async with running(configured):
            await server.wait_ready()
            await server.wait_for(lambda: any("/commands" in c.path for c in server.calls))
            yield server


async def _discord_crisis(
    server: DiscordStandIn, database: Database, member: int, held: DiscordCall
) -> DiscordCall:
    """She writes in her DMs while `held` (answered 429) waits: her case is recorded before
    that wait is over; her reply is returned (when it may go out depends on the limit)."""
    dm = server.dm_channel_for(member)
    await server.dm(member, CRISIS)
    recorded = await _case_recorded(database, "discord", member)
    assert recorded - held.at < DISCORD_RETRY_AFTER, "her case waited for a rate limit"
    await server.wait_for(lambda: server.delivered(dm))
    reply = server.delivered(dm)[0]
    assert "988" in reply.body["content"]
    return reply


def _content(call: DiscordCall) -> str:
    body = call.body if isinstance(call.body, dict) else {}  # a command sync sends a list
    return str(body.get("content") or "")


def _discord_cards(server: DiscordStandIn) -> list[str]:
    """The custom ids of the case buttons Discord accepted (one card per case, one each)."""
    return [
        c.body["components"][0]["components"][0]["custom_id"]
        for c in server.calls
        if c.status == 200
        and c.method == "POST"
        and c.path.endswith("/messages")
        and str(c.body.get("components", "")).count("pb:")
    ]


async def test_discord_moderator_replies_through_rate_limits_arrive_once_in_order(
    settings: Settings, rasa: RasaStandIn, database: Database
) -> None:
    """(a) A moderator writes three replies to her while her DM channel's route is limited."""
    async with discord_app(settings, rasa) as server:
        dm = server.dm_channel_for(DC_MOM)
        await server.dm(DC_MOM, CRISIS)
        await server.wait_for(lambda: _discord_cards(server))
        card = next(
            c for c in server.calls if c.status == 200 and "pb:claim" in str(c.body)
        )  # fmt: skip
        thread = card.path.split("/")[2]
        token = await server.click(DC_MOD, "pb:claim:1", thread, roles=[MOD_ROLE_ID])
        await server.wait_for(lambda: server.interaction_replies(token))
        # She is told who joined (the first outbox row) before the limit begins.
        await server.wait_for(lambda: any("has joined" in t for t in server.delivered_texts(dm)))
        crisis_replies = len(server.delivered(dm))
        # Her DM channel's bucket is limited for longer than discord.py retries: one long
        # wait, then four short ones.
        server.rate_limit("POST", f"/channels/{dm}/messages", 1, DISCORD_RETRY_AFTER)
        server.rate_limit("POST", f"/channels/{dm}/messages", BEYOND_DISCORD_RETRIES - 1, 0.2)
        for text in REPLIES:
            await server.thread_message(DC_MOD, thread, text, [MOD_ROLE_ID])
        await server.wait_for(lambda: server.limited())
        held = server.limited()[0]
        reply = await _discord_crisis(server, database, DC_OTHER, held)
        assert reply.at - held.at < DISCORD_RETRY_AFTER, "her crisis reply waited"

        outcomes = await _outbox_when_done(database, "discord", 1 + len(REPLIES))
    expected = [f"Ana (from our team):\n{text}" for text in REPLIES]
    assert server.delivered_texts(dm)[crisis_replies:] == expected  # once each, in order
    assert len(server.limited()) == BEYOND_DISCORD_RETRIES
    assert outcomes == [("sent", 1), ("sent", 2), ("sent", 1), ("sent", 1)]


async def test_discord_research_broadcast_through_rate_limits_reaches_each_mother_once(
    settings: Settings, rasa: RasaStandIn, database: Database
) -> None:
    """(b) A research question to four mothers while opening DMs, and one DM, are limited."""
    async with discord_app(settings, rasa) as server:
        # Opening a DM is limited once (a shared route); one mother's DM channel for longer
        # than discord.py retries.
        server.rate_limit("POST", "/users/@me/channels", 1, DISCORD_RETRY_AFTER)
        third = server.dm_channel_for(DC_MOTHERS[2])
        server.rate_limit("POST", f"/channels/{third}/messages", BEYOND_DISCORD_RETRIES, 0.2)
        configured = settings.model_copy(
            update={"research_quiet_start_hour": 0, "research_quiet_end_hour": 0}
        )
        await _publish_question(database, configured, "discord", DC_MOTHERS)
        await server.wait_for(lambda: server.limited())
        held = server.limited()[0]
        reply = await _discord_crisis(server, database, DC_OTHER, held)
        assert reply.at - held.at < DISCORD_RETRY_AFTER, "her crisis reply waited"

        def questions() -> Counter[str]:
            return Counter(
                c.path for c in server.calls if c.status == 200 and QUESTION in _content(c)
            )

        outcomes = await _outbox_when_done(database, "discord", len(DC_MOTHERS))
    channels = {f"/channels/{server.dm_channel_for(m)}/messages" for m in DC_MOTHERS}
    assert questions() == Counter(channels)  # each mother, exactly once
    assert len(server.limited()) == 1 + BEYOND_DISCORD_RETRIES
    assert [outcome for outcome, _ in outcomes] == ["sent"] * len(DC_MOTHERS)


async def test_discord_case_cards_through_a_global_and_a_route_limit_are_posted_once(
    settings: Settings, rasa: RasaStandIn, database: Database
) -> None:
    """(b) Case cards through Discord's global limit (on opening the thread) and a route limit
    (on the card). A global limit stops every request, a crisis reply included, by Discord's
    rules: her case is recorded at once all the same, and her reply goes as soon as it ends."""
    async with discord_app(settings, rasa) as server:
        # Opening the case's thread meets Discord's global limit: every request waits, by
        # Discord's rules. Then the card in the thread is limited longer than discord.py
        # retries.
        server.rate_limit(
            "POST", f"/channels/{MOD_CHANNEL_ID}/threads", 1, DISCORD_RETRY_AFTER, is_global=True
        )
        server.rate_limit(
            "POST",
            lambda path: path.endswith("/messages") and f"/{MOD_CHANNEL_ID}/" not in path
            and path.split("/")[2] not in server.dm_channels.values(),
            BEYOND_DISCORD_RETRIES, 0.2,
        )  # fmt: skip
        await server.dm(DC_MOM, CRISIS)
        await server.wait_for(lambda: server.limited())
        held = server.limited()[0]
        # Her case is recorded while the global limit holds; her reply follows it at once.
        reply = await _discord_crisis(server, database, DC_OTHER, held)
        assert reply.at - held.at < DISCORD_RETRY_AFTER + 1.0, "her crisis reply waited"

        await server.wait_for(lambda: len(_discord_cards(server)) >= 2, 20)
        await server.dm(DC_MOM, "are you still there")
        await server.wait_for(
            lambda: any(
                "are you still there" in _content(c)
                for c in server.calls
                if c.status == 200 and c.path.split("/")[2] != server.dm_channel_for(DC_MOM)
            )
        )
    assert sorted(_discord_cards(server)) == ["pb:claim:1", "pb:claim:2"]  # once per case
    threads = [c for c in server.threads() if c.status == 200]
    assert len(threads) == 2  # one thread per case
    relayed = [c for c in server.calls if c.status == 200 and "are you still there" in _content(c)]
    assert len(relayed) == 1
    async with database.sessions() as session:
        undelivered = await session.scalars(
            select(Notification.id).where(
                Notification.home == "discord", Notification.delivered_at.is_(None)
            )
        )
        assert undelivered.all() == []


async def test_discord_a_long_case_card_limited_midway_is_not_posted_twice(
    settings: Settings, rasa: RasaStandIn, database: Database
) -> None:
    """Her long message makes the case card two messages; the second (with the buttons) is
    limited longer than discord.py retries: the first is not posted again."""
    long_crisis = CRISIS + ". " + " ".join(f"Thought {n} keeps coming back." for n in range(90))
    async with discord_app(settings, rasa) as server:
        server.rate_limit(
            "POST", lambda path: path.endswith("/messages"), BEYOND_DISCORD_RETRIES, 0.2,
            when=lambda body: "pb:claim" in str(body),
        )  # fmt: skip
        await server.dm(DC_MOM, long_crisis)
        await server.wait_for(lambda: _discord_cards(server), 15)
        card_channel = next(
            c.path.split("/")[2]
            for c in server.calls
            if c.status == 200 and "pb:claim" in str(c.body)
        )  # fmt: skip
        in_thread = server.delivered_texts(card_channel)
    assert len(server.limited()) == BEYOND_DISCORD_RETRIES
    assert len(in_thread) == 2, in_thread  # the card's two pieces, once each
    assert "What she wrote" in in_thread[0] and "Thought 89" in in_thread[1]


async def test_telegram_a_moderators_action_waiting_out_a_limit_does_not_hold_up_a_crisis(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    """A moderator presses Claim while the moderators' group is under flood control, so the
    handler waits out the limit to update the card. Updates from other chats are handled
    meanwhile: another member's crisis is answered at once (in order within each chat)."""
    long_wait = 3
    group = bot_api.moderator_chat_id
    async with running(_telegram(settings, bot_api, rasa)):
        bot_api.private_message(TG_MOM, CRISIS)
        await bot_api.wait_for(lambda: bot_api.delivered("sendMessage", group))
        card = bot_api.delivered("sendMessage", group)[0].params
        claim = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        bot_api.rate_limit("editMessageReplyMarkup", 1, long_wait)
        bot_api.button_press(TG_MOD, claim, group, int(card["message_thread_id"]))
        await bot_api.wait_for(lambda: bot_api.limited("editMessageReplyMarkup"))
        held = bot_api.limited("editMessageReplyMarkup")[0]
        bot_api.private_message(TG_OTHER, CRISIS)
        await bot_api.wait_for(lambda: bot_api.delivered("sendMessage", TG_OTHER))
        reply = bot_api.delivered("sendMessage", TG_OTHER)[0]
        assert "988" in reply.params["text"]
        assert reply.at - held.at < 1.5, (
            f"her crisis reply waited {reply.at - held.at:.2f}s behind a moderator's action"
        )
        # The claim itself still completes once the wait is over.
        await bot_api.wait_for(
            lambda: any("claimed this case" in t for t in bot_api.texts_to(group)), within=10
        )


async def test_telegram_a_crisis_reply_limited_past_the_retries_still_reaches_her_once(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn, database: Database
) -> None:
    """Her own chat stays flood-limited longer than the library retries: her crisis reply is
    kept in the outbox and delivered when the limit ends, once, not just logged."""
    bot_api.rate_limit(
        "sendMessage", BEYOND_PTB_RETRIES, TELEGRAM_RETRY_AFTER,
        when=lambda p: p.get("chat_id") == TG_OTHER,
    )  # fmt: skip
    async with running(_telegram(settings, bot_api, rasa)):
        bot_api.private_message(TG_OTHER, CRISIS)
        await _case_recorded(database, "telegram", TG_OTHER)
        await bot_api.wait_for(lambda: bot_api.delivered("sendMessage", TG_OTHER), within=20)
        outcomes = await _outbox_when_done(database, "telegram", 1)
    replies = [t for t in bot_api.delivered_texts(TG_OTHER) if "988" in t]
    assert len(replies) == 1  # once
    assert outcomes == [("sent", 1)]  # through the outbox, after the direct send gave up
