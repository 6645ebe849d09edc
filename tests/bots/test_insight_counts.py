"""What the gateway counts for insights (#22) as messages pass: the intent Rasa read (asked of
Rasa's tracker API after her reply), the nearest topics when it could not answer, an
unreachable Rasa, and that she wrote this hour; never her words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bots.dialogue import DialogueClient, reading_of
from bots.gateway import Gateway, GatewayConfig
from community.db import Database
from community.messages import InboundMessage
from community.models import InsightActivity, InsightTally, Member
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

KEY = b"k" * 48
DEAD_RASA = "http://127.0.0.1:9"
FALLBACK = {
    "text": "words she wrote",
    "intent": {"name": "nlu_fallback", "confidence": 0.7},
    "intent_ranking": [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "faq_naloxone", "confidence": 0.4},
        {"name": "help_housing", "confidence": 0.38},
        {"name": "greet", "confidence": 0.1},
    ],
}


@pytest.fixture
def standin() -> Iterator[RasaStandIn]:
    with rasa_standin() as running:
        yield running


def gateway_for(database: Database, url: str) -> Gateway:
    return Gateway(
        GatewayConfig(pseudonym_key=KEY, max_message_chars=4000),
        database,
        DialogueClient(url, 1.0, api_token="rasa-token"),
    )


async def _tallies(database: Database) -> dict[tuple[str, str], int]:
    async with database.sessions() as session:
        rows = await session.execute(
            select(InsightTally.metric, InsightTally.key, InsightTally.count)
        )
        return {(metric, key): n for metric, key, n in rows}


def test_a_reading_is_the_intent_and_the_two_nearest_other_topics() -> None:
    reading = reading_of(FALLBACK)
    assert reading is not None
    assert (reading.intent, reading.nearest) == ("nlu_fallback", ("faq_naloxone", "help_housing"))
    assert reading_of({"text": "hi"}) is None and reading_of(None) is None


async def test_the_intent_and_the_nearest_topics_are_counted_without_her_words(
    database: Database, standin: RasaStandIn
) -> None:
    gateway = gateway_for(database, standin.url)
    standin.latest_message = {
        "intent": {"name": "faq_naloxone"},
        "intent_ranking": [{"name": "faq_naloxone"}],
    }
    for _ in range(2):
        await gateway.handle(InboundMessage("telegram", "555", "where do I get narcan"))
        await gateway.drain_counts()
    standin.latest_message = FALLBACK
    await gateway.handle(InboundMessage("telegram", "555", "words she wrote"))
    await gateway.drain_counts()
    assert await _tallies(database) == {
        ("intent", "faq_naloxone"): 2,
        ("intent", "nlu_fallback"): 1,
        ("unanswered_nearest", "faq_naloxone"): 1,
        ("unanswered_nearest", "help_housing"): 1,
    }
    # Asked of her conversation, with the API token, without its events (no transcript back).
    async with database.sessions() as session:
        pseudonym = await session.scalar(select(Member.pseudonym))
        hours = (await session.scalars(select(InsightActivity.hour))).all()
    assert standin.tracker_reads[0].startswith(f"/conversations/{pseudonym}/tracker?")
    assert "token=rasa-token" in standin.tracker_reads[0]
    assert "include_events=NONE" in standin.tracker_reads[0]
    assert len(hours) == 1  # three messages, one hour: one row


async def test_nothing_is_counted_when_rasas_api_is_closed(
    database: Database, standin: RasaStandIn
) -> None:
    gateway = gateway_for(database, standin.url)  # the stand-in's GET answers nothing usable
    await gateway.handle(InboundMessage("telegram", "556", "hello"))
    await gateway.drain_counts()
    assert await _tallies(database) == {}


async def test_an_unreachable_rasa_is_counted(database: Database) -> None:
    gateway = gateway_for(database, DEAD_RASA)
    replies = await gateway.handle(InboundMessage("web", "mom-insights-000001", "hello"))
    assert "988" in replies[-1].text  # the fallback
    await gateway.drain_counts()
    assert await _tallies(database) == {("dialogue_unavailable", ""): 1}
