"""The gateway's one path: screen first, cases before anything, no Rasa while a case is open,
kind answers for every kind of input, and a useful fallback when Rasa is down or slow."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from community.db import Database
from community.messages import ContentKind, InboundMessage
from community.models import Case, CaseMessage, Member
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

KEY = b"k" * 48
DEAD_RASA = "http://127.0.0.1:9"
CORE = ("988", "1-800-662-4357", "findtreatment.gov")


@pytest.fixture
def standin() -> Iterator[RasaStandIn]:
    with rasa_standin() as running:
        yield running


def make_gateway(database: Database, rasa_url: str, timeout: float = 1.0) -> Gateway:
    return Gateway(
        GatewayConfig(pseudonym_key=KEY, max_message_chars=4000),
        database,
        DialogueClient(rasa_url, timeout),
    )


@pytest.fixture
async def gateway(database: Database, standin: RasaStandIn) -> AsyncIterator[Gateway]:
    yield make_gateway(database, standin.url)


def text_of(replies: list[object]) -> str:
    return "\n".join(r.text for r in replies)  # type: ignore[attr-defined]


async def test_ordinary_message_goes_to_rasa_under_the_pseudonym(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    replies = await gateway.handle(InboundMessage("telegram", "555123", "hello"))
    assert text_of(replies) == "Hello from the stand-in"
    sender = standin.received[0]["sender"]
    assert "555123" not in sender
    async with database.sessions() as session:
        assert await session.scalar(select(Member.pseudonym)) == sender


async def test_crisis_replies_without_rasa_and_records_a_case(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    replies = await gateway.handle(InboundMessage("web", "u1", "i took a handful of pills"))
    assert "911" in text_of(replies)
    assert standin.received == []
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.category == "overdose" and case.status == "waiting"


async def test_crisis_reply_and_case_work_with_rasa_stopped(database: Database) -> None:
    replies = await make_gateway(database, DEAD_RASA).handle(
        InboundMessage("web", "u9", "my baby is limp and not breathing")
    )
    assert "911" in text_of(replies)
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None and case.category == "baby_danger" and case.severity == "imminent"


async def test_crisis_reply_survives_a_database_outage(standin: RasaStandIn) -> None:
    broken = Database.connect("postgresql://nobody@127.0.0.1:9/none")
    try:
        replies = await make_gateway(broken, standin.url).handle(
            InboundMessage("web", "u1", "my partner is choking me")
        )
    finally:
        await broken.dispose()
    assert "911" in text_of(replies)


async def test_a_waiting_case_keeps_the_transcript_and_the_bot_answers_marked(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    await gateway.handle(InboundMessage("web", "u2", "i want to die"))
    replies = await gateway.handle(InboundMessage("web", "u2", "are you there"))
    assert text_of(replies) == "(peerbot, the bot, while you wait)\nHello from the stand-in"
    assert len(standin.received) == 1
    async with database.sessions() as session:
        turns = (await session.scalars(select(CaseMessage).order_by(CaseMessage.id))).all()
    assert [t.author for t in turns] == ["member", "bot", "member", "bot"]
    assert [turns[0].text, turns[2].text, turns[3].text] == [
        "i want to die",
        "are you there",
        "Hello from the stand-in",  # the person joining sees what the bot told her
    ]
    assert "988" in turns[1].text  # moderators see the numbers she was already given


async def test_a_crisis_while_a_case_is_open_raises_it(
    gateway: Gateway, database: Database
) -> None:
    await gateway.handle(InboundMessage("web", "u3", "craving so bad today"))
    await gateway.handle(InboundMessage("web", "u3", "i just took 40 pills"))
    async with database.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
    assert len(cases) == 1 and cases[0].severity == "imminent"


async def test_handoff_payload_from_rasa_opens_a_request_case(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    standin.reply = [{"text": "Asking a person", "custom": {"peerbot": "handoff"}}]
    replies = await gateway.handle(InboundMessage("web", "u4", "can i talk to a person"))
    assert text_of(replies) == "Asking a person"
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None and case.source == "request"


async def test_rasa_down_gives_the_fallback_with_core_resources(database: Database) -> None:
    replies = await make_gateway(database, DEAD_RASA).handle(InboundMessage("web", "u", "hello"))
    for number in CORE:
        assert number in text_of(replies)


async def test_slow_rasa_is_cut_off_at_the_configured_timeout(
    database: Database, standin: RasaStandIn
) -> None:
    standin.delay_seconds = 3.0
    started = time.monotonic()
    replies = await make_gateway(database, standin.url, timeout=0.5).handle(
        InboundMessage("web", "u", "hello")
    )
    assert time.monotonic() - started < 2.0
    assert "988" in text_of(replies)


@pytest.mark.parametrize("kind", [ContentKind.STICKER, ContentKind.VOICE, ContentKind.PHOTO])
async def test_non_text_without_caption_gets_a_kind_answer(
    gateway: Gateway, standin: RasaStandIn, kind: ContentKind
) -> None:
    replies = await gateway.handle(InboundMessage("telegram", "u", kind=kind))
    assert "tell me in words" in text_of(replies)
    assert standin.received == []


async def test_a_caption_is_read_and_screened(gateway: Gateway) -> None:
    replies = await gateway.handle(
        InboundMessage("telegram", "u", kind=ContentKind.PHOTO, caption="i want to kill myself")
    )
    assert "988" in text_of(replies)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "    ",
        "🙂🙂🙂",
        "\x00\x01\x02binary\xff",
        "¿Dónde puedo conseguir ayuda?",
        "/unknowncommand",
    ],
)
async def test_odd_input_never_crashes(gateway: Gateway, text: str) -> None:
    replies = await gateway.handle(InboundMessage("web", "odd", text))
    assert replies and all(r.text for r in replies)


async def test_huge_message_is_cut_for_rasa_and_said_so(
    gateway: Gateway, standin: RasaStandIn
) -> None:
    replies = await gateway.handle(InboundMessage("web", "u", "hello " * 5000))
    assert "long message" in text_of(replies)
    assert len(standin.received[0]["message"]) <= 4000


async def test_many_members_at_once(gateway: Gateway, database: Database) -> None:
    import asyncio

    await asyncio.gather(
        *(gateway.handle(InboundMessage("web", f"m{i}", "hello")) for i in range(30))
    )
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 30


async def test_a_burst_gets_one_calm_word_and_a_crisis_still_gets_through(
    database: Database, standin: RasaStandIn
) -> None:
    gateway = Gateway(
        GatewayConfig(pseudonym_key=KEY, max_message_chars=4000, flood_messages=3,
                      flood_seconds=60),
        database,
        DialogueClient(standin.url, 1.0),
    )  # fmt: skip
    answers = [await gateway.handle(InboundMessage("web", "burst", f"hi {i}")) for i in range(6)]
    assert [len(a) for a in answers[:3]] == [1, 1, 1] and len(standin.received) == 3
    assert "catch up" in text_of(answers[3]) and "988" in text_of(answers[3])
    assert answers[4] == [] and answers[5] == []  # one "slow down" per burst, no pile of replies
    crisis = await gateway.handle(InboundMessage("web", "burst", "i want to kill myself"))
    assert "988" in text_of(crisis)
    async with database.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1
    # Someone else is not slowed down by her burst.
    other = await gateway.handle(InboundMessage("web", "someone-else", "hello"))
    assert text_of(other) == "Hello from the stand-in"


def test_the_window_moves_on() -> None:
    from bots.flood import FloodControl

    flood = FloodControl(limit=2, seconds=10)
    assert [flood.check("a", now=t) for t in (0, 1, 2, 3)] == ["ok", "ok", "warn", "quiet"]
    assert flood.check("a", now=11) == "ok"  # the first two have left the window


async def test_she_sees_her_data_and_deletes_it_with_confirmation(
    gateway: Gateway, standin: RasaStandIn, database: Database
) -> None:
    from community.models import DeletionRecord, DeliveryAddress, OutboxMessage

    await gateway.handle(InboundMessage("telegram", "777", "hello"))
    await gateway.handle(InboundMessage("telegram", "777", "i want to kill myself"))
    summary = text_of(await gateway.handle(InboundMessage("telegram", "777", "/my_data")))
    assert "member-" in summary and "telegram" in summary and "777" not in summary
    assert "Conversations with a person from our team: 1" in summary

    # Confirming without asking first deletes nothing.
    early = text_of(await gateway.handle(InboundMessage("telegram", "777", "/confirm_delete")))
    assert "ask me first" in early
    asked = await gateway.handle(InboundMessage("telegram", "777", "/delete_my_data"))
    assert [b.payload for b in asked[0].buttons] == ["/confirm_delete", "/cancel_delete"]
    done = text_of(await gateway.handle(InboundMessage("telegram", "777", "/confirm_delete")))
    assert "deleted" in done
    async with database.sessions() as session:
        for model in (Member, DeliveryAddress, Case, CaseMessage, OutboxMessage):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model
        record = (await session.scalars(select(DeletionRecord))).one()
        assert (record.cases, record.platforms) == (1, 1) and record.messages >= 2
    # Rasa's memory of her conversation was wiped, under her pseudonym.
    assert len(standin.forgotten) == 1 and standin.forgotten[0].endswith("/tracker/events?token=")


async def test_deletion_can_be_cancelled(gateway: Gateway, database: Database) -> None:
    await gateway.handle(InboundMessage("web", "u1", "hello"))
    await gateway.handle(InboundMessage("web", "u1", "/delete_my_data"))
    cancelled = text_of(await gateway.handle(InboundMessage("web", "u1", "/cancel_delete")))
    assert "nothing was deleted" in cancelled
    again = text_of(await gateway.handle(InboundMessage("web", "u1", "/confirm_delete")))
    assert "ask me first" in again
    async with database.sessions() as session:
        assert await session.scalar(select(func.count(Member.id))) == 1


@pytest.mark.parametrize(
    "text", ["i want to kill myself\u0000 tonight", "i want to kill myself \ud800 tonight"]
)
async def test_a_crisis_with_characters_no_database_stores_still_opens_its_case(
    database: Database, text: str
) -> None:
    replies = await make_gateway(database, DEAD_RASA).handle(InboundMessage("web", "u7", text))
    assert "988" in text_of(replies)
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        trigger = await session.scalar(
            select(CaseMessage.text).where(CaseMessage.author == "member")
        )
    assert case is not None and case.category == "suicide"
    assert trigger is not None and "\u0000" not in trigger and "tonight" in trigger


async def test_crises_at_once_each_get_one_whole_case(gateway: Gateway, database: Database) -> None:
    """Written together (group commit) or alone: every crisis has its case with her words and
    the reply she was given, one case each, also for her who wrote twice at once."""
    import asyncio

    messages = [InboundMessage("web", f"c{i}", f"i want to kill myself {i}") for i in range(25)]
    messages += [InboundMessage("web", "c0", "i took a handful of pills")]
    answers = await asyncio.gather(*(gateway.handle(message) for message in messages))
    assert all("988" in text_of(replies) or "911" in text_of(replies) for replies in answers)
    async with database.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 25
        rows = (
            await session.execute(
                select(CaseMessage.author, func.count())
                .where(CaseMessage.author.in_(["member", "bot"]))
                .group_by(CaseMessage.author)
            )
        ).all()
        assert dict(rows) == {"member": 26, "bot": 26}
