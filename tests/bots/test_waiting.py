"""While a case waits for a person, through the real app (web chat and moderators' API): she can
cancel a request she made, a crisis case stays open and she is told so, her data rights and
commands work, and the bot answers her (marked as the bot's, copied to the case); once a person
has claimed, only the person answers. A case opens only on her clear request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bots.gateway import clear_request_for_person
from community.db import Database
from community.models import Case, CaseEvent, Notification
from community.settings import Settings
from community.staff import add_staff
from peerbot.app import create_app
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

USER = "mom-web-waiting-0001"
CRISIS = "i want to kill myself tonight"
HANDOFF = [
    {
        "recipient_id": "x",
        "text": "Of course. I'm asking a person from our community to join this chat.",
        "custom": {"peerbot": "handoff"},
    }
]
FAQ = [{"recipient_id": "x", "text": "Naloxone (Narcan) reverses an opioid overdose."}]
CANCEL = "/cancel_request"


@pytest.fixture
def rasa() -> Iterator[RasaStandIn]:
    with rasa_standin() as server:
        server.reply = FAQ
        yield server


@pytest.fixture
def client(settings: Settings, rasa: RasaStandIn) -> Iterator[TestClient]:
    live = settings.model_copy(update={"rasa_url": rasa.url})
    with TestClient(create_app(live, run_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def ana(settings: Settings) -> str:
    async def make() -> str:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return await add_staff(session, "ana", "moderator", "Ana")
        finally:
            await database.dispose()

    return asyncio.run(make())


def say(client: TestClient, text: str, user: str = USER) -> list[dict[str, Any]]:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


def payloads(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in reply["buttons"]]


async def _cases(settings: Settings) -> list[tuple[str, str | None, int]]:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.sessions() as session:
            return [
                (c.status, c.outcome, c.id)
                for c in await session.scalars(select(Case).order_by(Case.id))
            ]
    finally:
        await database.dispose()


def cases(settings: Settings) -> list[tuple[str, str | None, int]]:
    return asyncio.run(_cases(settings))


def ask_for_a_person(client: TestClient, rasa: RasaStandIn, text: str) -> list[dict[str, Any]]:
    rasa.reply = HANDOFF
    try:
        return say(client, text)
    finally:
        rasa.reply = FAQ


def test_she_cancels_her_request_in_words_and_moderators_are_told(
    client: TestClient, rasa: RasaStandIn, settings: Settings, ana: str
) -> None:
    asked = ask_for_a_person(client, rasa, "/request_human")
    assert "join this chat" in asked[-1]["text"]
    assert CANCEL in payloads(asked[-1])  # the "a person will join you" reply can be taken back
    assert [c[0] for c in cases(settings)] == ["waiting"]

    cancelled = say(client, "Never mind!")
    assert "cancelled your request" in cancelled[0]["text"]
    assert [c[:2] for c in cases(settings)] == [("returned", "she cancelled her request")]
    queue = client.get("/api/cases", headers={"Authorization": f"Bearer {ana}"}).json()
    assert queue["cases"] == []  # nothing left for a moderator to claim

    async def told() -> list[tuple[str, str]]:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.sessions() as session:
                events = [(e.actor, e.action) for e in await session.scalars(select(CaseEvent))]
                kinds = set(await session.scalars(select(Notification.kind)))
                assert "cancelled" in kinds  # each home gets a line, so nobody goes to join
                return events
        finally:
            await database.dispose()

    assert ("member", "cancelled") in asyncio.run(told())
    # The bot is back: an ordinary message gets an ordinary, unmarked answer.
    assert say(client, "what is narcan")[0]["text"] == FAQ[0]["text"]


def test_the_cancel_button_works_once_and_an_old_one_is_harmless(
    client: TestClient, rasa: RasaStandIn, settings: Settings
) -> None:
    ask_for_a_person(client, rasa, "can i talk to a person")
    assert "cancelled your request" in say(client, CANCEL)[0]["text"]
    again = say(client, CANCEL)
    assert "no one will join" in again[0]["text"]
    assert [c[0] for c in cases(settings)] == ["returned"]
    assert all(r["message"] != CANCEL for r in rasa.received)  # never sent to Rasa


def test_a_crisis_case_stays_open_and_she_is_told_kindly(
    client: TestClient, rasa: RasaStandIn, settings: Settings, ana: str
) -> None:
    say(client, CRISIS)
    told = say(client, "cancel")
    assert "will still look in on you" in told[0]["text"]
    assert "988" in told[0]["text"]
    assert [c[0] for c in cases(settings)] == ["waiting"]
    case_id = cases(settings)[0][2]
    transcript = client.get(
        f"/api/cases/{case_id}/messages", headers={"Authorization": f"Bearer {ana}"}
    ).json()["messages"]
    assert [(m["author"], m["text"][:6]) for m in transcript[-2:]] == [
        ("member", "cancel"),
        ("bot", "I hear"),
    ]


def test_while_waiting_the_bot_answers_marked_and_the_moderator_sees_it(
    client: TestClient, rasa: RasaStandIn, settings: Settings, ana: str
) -> None:
    say(client, CRISIS)
    answer = say(client, "what is narcan")
    assert answer[0]["text"].startswith("(peerbot, the bot, while you wait)\n")
    assert answer[0]["text"].endswith(FAQ[0]["text"])
    assert answer[0]["sender_name"] is None  # not a person's words
    case_id = cases(settings)[0][2]
    transcript = client.get(
        f"/api/cases/{case_id}/messages", headers={"Authorization": f"Bearer {ana}"}
    ).json()["messages"]
    assert [(m["author"], m["text"]) for m in transcript[-2:]] == [
        ("member", "what is narcan"),
        ("bot", FAQ[0]["text"]),
    ]
    # Asking again does not open a second case or repeat the request.
    again = ask_for_a_person(client, rasa, "/request_human")
    assert "already on their way" in again[0]["text"]
    assert len(cases(settings)) == 1


def test_while_waiting_her_data_rights_and_research_commands_work(
    client: TestClient, rasa: RasaStandIn, settings: Settings
) -> None:
    ask_for_a_person(client, rasa, "/request_human")
    assert "/confirm_delete" in str(say(client, "/my_data") + say(client, "/delete_my_data"))
    research = say(client, "/research")
    assert research and "while you wait" not in research[0]["text"]
    assert all(r["message"] not in ("/my_data", "/research") for r in rasa.received)
    done = say(client, "/confirm_delete")
    assert "deleted" in done[0]["text"].lower()
    assert cases(settings) == []  # her case went with the rest of her data


def test_once_claimed_only_the_person_answers(
    client: TestClient, rasa: RasaStandIn, settings: Settings, ana: str
) -> None:
    say(client, CRISIS)
    case_id = cases(settings)[0][2]
    claimed = client.post(f"/api/cases/{case_id}/claim", headers={"Authorization": f"Bearer {ana}"})
    assert claimed.status_code == 200
    before = len(rasa.received)
    assert say(client, "what is narcan") == []
    assert say(client, "never mind") == []  # a person has her: not cancelled by the bot
    assert len(rasa.received) == before
    assert [c[0] for c in cases(settings)] == ["claimed"]


def test_a_word_in_passing_asks_first_and_opens_no_case(
    client: TestClient, rasa: RasaStandIn, settings: Settings
) -> None:
    slip = "i slipped last month and used again, i feel so ashamed about it"
    asked = ask_for_a_person(client, rasa, slip)
    assert asked[0]["text"] == "Would you like a person from our community to join this chat?"
    assert payloads(asked[0]) == ["/request_human", CANCEL]
    assert cases(settings) == []
    assert "no one will join" in say(client, CANCEL)[0]["text"]
    ask_for_a_person(client, rasa, "/talk")
    assert [c[0] for c in cases(settings)] == ["waiting"]


@pytest.mark.parametrize(
    ("text", "clear"),
    [
        ("/request_human", True),
        ("/talk", True),
        ("can I talk to a real person?", True),
        ("I need someone to talk to", True),
        ("human please", True),
        ("get me a moderator", True),
        ("i slipped last week", False),
        ("someone offered me pills at the clinic and I took them and now I feel awful about "
         "everything that happened with my caseworker", False),
        ("talk", False),
        ("could i chat with a real mom from the group", True),
        ("is one of the moderators around to talk", True),
        ("quiero hablar con una persona", True),
        ("¿puedo hablar con alguien de verdad?", True),
        ("necesito hablar con alguien por favor", True),
        ("mi mamá me cuida al bebé", False),
        ("hablar", False),
    ],
)  # fmt: skip
def test_what_counts_as_a_clear_request(text: str, clear: bool) -> None:
    assert clear_request_for_person(text) is clear
