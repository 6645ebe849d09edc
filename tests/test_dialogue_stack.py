"""Issue #19's six examples, played through POST /api/chat of the real stack: each gets a
fitting answer in context (the topic she is on, her state, a feeling said twice)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from actions.resources import ASK_STATE
from community.resources import expand_resource_refs, load_directory
from tests.test_heldout import domain_texts

pytestmark = pytest.mark.rasa


def chat(client: httpx.Client, *turns: str) -> list[list[dict[str, object]]]:
    user = uuid.uuid4().hex
    played = []
    for turn in turns:
        response = client.post("/api/chat", json={"user": user, "text": turn})
        assert response.status_code == 200, response.text
        played.append(response.json()["replies"])
    return played


def text(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def answer(name: str) -> str:
    return expand_resource_refs(domain_texts()[name])


def test_housing_then_her_state(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "i need help finding housing", "i'm in ohio")
    assert text(first) == ASK_STATE
    assert "Ohio" in text(second) and "211" in text(second) and "housing" in text(second)


def test_narcan_then_her_state(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "where can i get narcan", "ohio")
    assert text(first) == answer("utter_faq_naloxone")
    reply = text(second)
    assert "Ohio" in reply and "211" in reply
    assert answer("utter_greet") not in reply


def test_cps_then_only_methadone(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "will cps take my baby", "what about if its only methadone")
    assert text(first) == answer("utter_faq_cps")
    assert text(second) == answer("utter_faq_cps")


def test_nicu_withdrawal_then_how_long(app_client: httpx.Client) -> None:
    first, second = chat(app_client, "my baby has withdrawal in the nicu", "how long does it last")
    assert text(first) == answer("utter_faq_nas")
    assert text(second) == answer("utter_faq_nas")


def test_a_ride_then_her_state_gets_rides_not_crisis_lines(app_client: httpx.Client) -> None:
    first, second = chat(
        app_client, "how do i get to my clinic, i dont have a car", "i'm in kentucky"
    )
    assert text(first) == ASK_STATE
    reply = text(second)
    assert "Kentucky" in reply and "211" in reply
    lifeline = load_directory().get("lifeline_988").contact_line()
    assert lifeline not in reply


def test_feelings_without_words_and_the_same_feeling_twice(app_client: httpx.Client) -> None:
    (crying,) = chat(app_client, "😭😭😭")
    assert text(crying) != answer("utter_greet")
    assert any(r.get("buttons") for r in crying), "an offer comes with it"
    first, second = chat(app_client, "i feel so alone", "nobody gets it")
    assert text(first) == answer("utter_feeling_alone")
    assert text(second) != text(first)
    assert any(r.get("buttons") for r in second)
