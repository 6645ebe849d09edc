"""The held-out paraphrase set (tests/nlu/heldout.yml), asked through POST /api/chat of the real
stack: at least 90% must get the answer of their topic.

A reply is right when it is exactly the answer the expected topic gives: the domain response of
its rule, or for help requests what the resource finder says to that message for that topic. A
request for safety-at-home resources that the crisis screen catches first is right when the crisis
reply names the domestic violence hotline (she gets those resources and a person).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import yaml

from actions.resources import ASK_STATE, ASK_STATE_RESPONSE, find_help_text
from bots import wording
from community.phrases import phrase
from community.research import texts as research_texts
from community.resources import expand_resource_refs, load_directory
from community.settings import PROJECT_ROOT

pytestmark = pytest.mark.rasa
HELDOUT_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
REPORT_PATH = PROJECT_ROOT / "var" / "reports" / "heldout.json"
REQUIRED_ACCURACY = 0.90
FINDER = "action_find_help"


def load_heldout() -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load(HELDOUT_PATH.read_text(encoding="utf-8"))
    return data


def training_examples() -> set[str]:
    """Every NLU training example in nlu/ (English) and nlu/es/ (Spanish), lowercased."""
    training: set[str] = set()
    for path in (PROJECT_ROOT / "nlu").glob("**/*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            training |= {
                line.removeprefix("- ").strip().lower()
                for line in block.get("examples", "").splitlines()
            }
    return training


# Intents that are moves in a conversation (issue #19), not topics: no held-out paraphrases.
CONVERSATION_MOVES = {"nlu_fallback", "follow_up", "inform_state", "feeling_low"}


def rule_actions() -> dict[str, str]:
    """intent -> the action its rule answers with first, from nlu/rules.yml."""
    rules = yaml.safe_load((PROJECT_ROOT / "nlu" / "rules.yml").read_text(encoding="utf-8"))
    mapping: dict[str, str] = {}
    for rule in rules["rules"]:
        steps = rule["steps"]
        if len(steps) >= 2 and "intent" in steps[0] and "action" in steps[1]:
            mapping[steps[0]["intent"]] = steps[1]["action"]
    return mapping


def _language_of(variation: dict[str, Any]) -> str | None:
    """The language of a variation a FIRST answer can give: "es" under the Spanish language
    slot, "en" without a language condition (or under "en"); None when another condition needs
    something a first answer does not have (a slot set earlier, e.g. felt_before: true)."""
    language = "en"
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            language = str(condition.get("value"))
        elif condition.get("value") not in (False, None):
            return None
    return language


def domain_texts(language: str = "en") -> dict[str, str]:
    """response name -> the text a first answer gives in `language` (the plain variation, or the
    Spanish one), from responses/*.yml."""
    texts: dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "responses").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            for variation in variations:
                if _language_of(variation) == language:
                    texts[name] = str(variation["text"])
                    break
    return texts


# Topics the app answers itself (Rasa hands them over with a custom payload): her data rights
# and her research choices.
APP_ANSWERS = {
    "my_data": "Here is what peerbot keeps about you.",
    "delete_my_data": wording.confirm_deletion().text,
    "research_ask": research_texts.say("ask_prompt", "en"),
    "research_opt_out": research_texts.confirm_stop()[0],
}


# The same in Spanish, for a member answered in Spanish.
APP_ANSWERS_ES = {
    "my_data": phrase("my_data_intro", "es").split('"', 1)[0],
    "delete_my_data": wording.confirm_deletion("es").text,
    "research_ask": research_texts.say("ask_prompt", "es"),
    "research_opt_out": research_texts.confirm_stop("es")[0],
}


def finder_reply(intent: str, message: str, language: str) -> str:
    """What the resource finder says to her first message: the list, or asking her state (a
    response of its own, so it has its Spanish variation)."""
    text = find_help_text(intent, message, load_directory(), language=language)
    return domain_texts(language)[ASK_STATE_RESPONSE] if text == ASK_STATE else text


def expected_reply(intent: str, message: str, language: str = "en") -> str:
    app_answers = {**APP_ANSWERS, **APP_ANSWERS_ES} if language == "es" else APP_ANSWERS
    if intent in app_answers:
        return app_answers[intent]
    action = rule_actions()[intent]
    if action == FINDER:
        return finder_reply(intent, message, language)
    return expand_resource_refs(domain_texts(language)[action], language=language)


def is_right(intent: str, message: str, reply: str) -> bool:
    expected = expected_reply(intent, message)
    return reply.startswith(expected) if intent == "my_data" else reply == expected


def test_every_heldout_topic_has_a_rule_and_is_absent_from_training() -> None:
    heldout = load_heldout()
    actions = rule_actions()
    assert set(heldout) <= set(actions), set(heldout) - set(actions)
    assert set(actions) - CONVERSATION_MOVES <= set(heldout), "every topic needs held-out examples"
    training = training_examples()
    leaked = [m for messages in heldout.values() for m in messages if m.lower() in training]
    assert leaked == [], f"held-out messages found in training data: {leaked}"


def test_heldout_paraphrases_get_their_topic_through_the_chat_api(
    app_client: httpx.Client,
) -> None:
    violence_line = load_directory().get("domestic_violence_hotline").phone or ""
    results = []
    for intent, messages in load_heldout().items():
        for message in messages:
            body = {"user": uuid.uuid4().hex, "text": message}
            response = app_client.post("/api/chat", json=body)
            assert response.status_code == 200, response.text
            replies = [str(r["text"]) for r in response.json()["replies"]]
            first = replies[0] if replies else ""
            right = is_right(intent, message, first) or (
                intent == "help_violence" and violence_line in "\n".join(replies)
            )
            results.append({"intent": intent, "text": message, "right": right, "reply": first})
    accuracy = sum(r["right"] for r in results) / len(results)
    misses = [
        f"{r['intent']}: {r['text']!r} -> {str(r['reply'])[:60]!r}"
        for r in results
        if not r["right"]
    ]
    report = {"accuracy": accuracy, "total": len(results), "misses": misses}
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text(json.dumps(report, indent=2), encoding="utf-8")
    assert accuracy >= REQUIRED_ACCURACY, "\n".join([f"accuracy {accuracy:.3f}", *misses])


def test_expected_replies_differ_between_topics() -> None:
    """The check above only means something if topics answer differently."""
    heldout = load_heldout()
    firsts = {intent: expected_reply(intent, f"/{intent}") for intent in heldout}
    finder = {i for i, a in rule_actions().items() if a == FINDER} - CONVERSATION_MOVES
    plain = {i: t for i, t in firsts.items() if i not in finder}
    assert len(set(plain.values())) == len(plain)
    # Without a state, every local need asks the same question; with one, each lists its own.
    assert len({expected_reply(i, "help in ohio") for i in finder}) == len(finder)
