"""The same person again (issue #21), through the real app on SQLite and PostgreSQL: after a
case she asks for the moderator she talked with; when they are around the new case is theirs
to claim first and their card says she asked for them; when they are not, it goes to everyone
and she is told so honestly; in English and Spanish; and the team's counts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from community.cases.handoff import ModeratorActions
from community.cases.same_person import asked_for_same
from community.db import Database
from community.delivery import case_card_text
from community.phrases import phrase
from community.settings import Settings
from community.staff import revoke_staff
from tests.bots.test_follow_ups import _client, _say
from tests.bots.test_moderation_api import _staff, auth

CRISES = {
    "mom-same-person-000001": "i want to kill myself tonight",
    "mom-same-person-000002": "i don't want to be alive anymore",
    "mom-same-person-000003": "i'm going to end my life",
    "mom-same-person-000004": "esta noche me quiero matar",
}


@pytest.fixture
def team(settings: Settings) -> dict[str, str]:
    return {
        name: asyncio.run(_staff(settings, name, "moderator", name.title()))
        for name in ("ana", "ben")
    }


def _cases(client: TestClient, token: str) -> list[dict[str, Any]]:
    return list(client.get("/api/cases", headers=auth(token)).json()["cases"])


def _talk_with(client: TestClient, token: str, user: str) -> int:
    """A crisis, claimed by the moderator with `token`, then resolved."""
    assert "988" in _say(client, user, CRISES[user])[0]["text"]
    case_id = int(_cases(client, token)[0]["id"])
    assert client.post(f"/api/cases/{case_id}/claim", headers=auth(token)).status_code == 200
    resolved = client.post(
        f"/api/cases/{case_id}/resolve",
        json={"outcome": "safe for now", "follow_up": False},
        headers=auth(token),
    )
    assert resolved.status_code == 200
    return case_id


def _card(settings: Settings) -> str:
    async def read() -> str:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.sessions() as session:
                (summary,) = await ModeratorActions(session).queue()
                return case_card_text(summary, "opened")
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_offered_first_to_her_moderator_when_around(
    settings: Settings, team: dict[str, str]
) -> None:
    user = "mom-same-person-000001"
    with _client(settings) as client:
        before = _talk_with(client, team["ana"], user)
        told = _say(client, user, "Can I talk to Ana again?")[0]["text"]
        assert told == phrase("same_asked", "en", name="Ana")
        (case,) = _cases(client, team["ben"])
        assert case["id"] != before and case["status"] == "waiting"
        assert case["asked_for_name"] == "Ana" and case["asked_for_until"] is not None
        card = _card(settings)
        assert "She asked for Ana again: theirs to claim first until " in card
        detail = client.get(f"/api/cases/{case['id']}", headers=auth(team["ana"])).json()
        assert f"with her on case #{before}" in str(detail)  # for the moderator, not for her
        refused = client.post(f"/api/cases/{case['id']}/claim", headers=auth(team["ben"]))
        assert refused.status_code == 409 and "She asked for Ana" in refused.text
        taken = client.post(f"/api/cases/{case['id']}/claim", headers=auth(team["ana"]))
        assert taken.status_code == 200
        stats = client.get("/api/stats", headers=auth(team["ana"])).json()["same_person"]
        assert stats == {"asked": 1, "offered_first": 1, "to_everyone": 0}


def test_to_everyone_with_an_honest_word_when_not_around(
    settings: Settings, team: dict[str, str]
) -> None:
    user = "mom-same-person-000002"
    with _client(settings) as client:
        _talk_with(client, team["ana"], user)

    async def ana_leaves() -> None:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                await revoke_staff(session, "ana", "moderator")
        finally:
            await database.dispose()

    asyncio.run(ana_leaves())
    with _client(settings) as client:
        told = _say(client, user, "/same")[0]["text"]
        assert told == phrase("same_not_around", "en", name="Ana")
        assert told.startswith("Ana isn't around right now; the next person on our team")
        (case,) = _cases(client, team["ben"])
        assert case["asked_for_name"] == "Ana" and case["asked_for_until"] is None
        assert "She asked for Ana again, who isn't around: anyone can take it." in _card(settings)
        taken = client.post(f"/api/cases/{case['id']}/claim", headers=auth(team["ben"]))
        assert taken.status_code == 200
        stats = client.get("/api/stats", headers=auth(team["ben"])).json()["same_person"]
        assert stats == {"asked": 1, "offered_first": 0, "to_everyone": 1}


def test_a_name_she_never_talked_with_goes_to_everyone(
    settings: Settings, team: dict[str, str]
) -> None:
    user = "mom-same-person-000003"
    with _client(settings) as client:
        _talk_with(client, team["ana"], user)
        told = _say(client, user, "could I talk to Sam again")[0]["text"]
        assert told == phrase("same_not_found_named", "en", name="Sam")
        (case,) = _cases(client, team["ben"])
        assert case["asked_for_name"] is None
        assert client.post(f"/api/cases/{case['id']}/claim", headers=auth(team["ben"])).is_success
        # With a person already, asking again opens nothing more.
        assert _say(client, user, "same person as last time") == []
        assert len(_cases(client, team["ben"])) == 1


def test_in_spanish(settings: Settings, team: dict[str, str]) -> None:
    user = "mom-same-person-000004"
    with _client(settings) as client:
        _talk_with(client, team["ben"], user)
        told = _say(client, user, "¿Puedo hablar con Ben otra vez?")[0]["text"]
        assert told == phrase("same_asked", "es", name="Ben")
        assert told.startswith("Le pedí a Ben que se una.")
        (case,) = _cases(client, team["ana"])
        assert case["asked_for_name"] == "Ben"


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("/same", None),
        ("same person as last time please", None),
        ("Can I talk to Sam again?", "sam"),
        ("i'd like to speak with Dee again", "dee"),
        ("quiero la misma persona de la última vez", None),
        ("¿puedo hablar con María de nuevo?", "maria"),
    ],
)
def test_how_she_asks(said: str, name: str | None) -> None:
    ask = asked_for_same(said)
    assert ask is not None and ask.name == name


@pytest.mark.parametrize(
    "said", ["I talked to my mom again today", "the same thing happened", "can I talk to someone"]
)
def test_what_is_not_asking_for_the_same_person(said: str) -> None:
    assert asked_for_same(said) is None
