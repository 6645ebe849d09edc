"""The multi-turn conversation sets (tests/conversations/*.yml), played through POST /api/chat of
the real stack, one fresh chat user per conversation; the last reply of each is classified
(peerbot/conversation_eval.py) and the report is written to var/reports/conversations*.json: per
conversation what was expected, what came back (a topic, an outcome of #19, or "unknown") and
whether it was right; the share right, overall and by kind.

Asserted: the sets' format (unique ids, every expected name valid, at least 70 conversations of
2-4 turns), that the chat API answers every turn, and a floor for the sets whose misses were
read and learned from (a regression guard, below today's figures). The held-out set
(heldout_12.yml, never read) is scored and reported, not asserted (README "Dialogue content"
has its first pass and today's figure). Each
report also counts the last turns that carried the screen's "are you safe right now?" (none of
these conversations is a crisis, so every one is needless).
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from actions.resources import find_help_text
from community.research import texts as research_texts
from community.resources import load_directory
from peerbot import conversation_eval as ce
from tests.test_heldout import APP_ANSWERS, rule_actions

REPORTS = ce.PROJECT_ROOT / "var" / "reports"
# The held-out set (never read by anyone building the model) and the development set (the first
# set, whose misses were read and learned from).
SETS = {
    "heldout": (ce.SET_PATH, "conversations.json"),
    "dev": (ce.DEV_PATH, "conversations_dev.json"),
    # Written fresh on 2026-12-06 by someone who read neither set nor the training data.
    "heldout_2": (ce.HELDOUT_2_PATH, "conversations_heldout_2.json"),
    # Written fresh on 2026-12-06 by someone who read no set but dev.yml's format and the
    # training data not at all; the held-out one since heldout_2's misses were read.
    "heldout_3": (ce.HELDOUT_3_PATH, "conversations_heldout_3.json"),
    # Written fresh on 2026-12-06 (session 13) by a helper that read none of the sets'
    # conversations nor the training data (its header lists what it read).
    "heldout_4": (ce.HELDOUT_4_PATH, "conversations_heldout_4.json"),
    # Written fresh on 2026-12-06 (session 13) by a helper that read no set's conversations nor
    # the training data, once set 4 had been scored; read and learned from in session 14.
    "heldout_5": (ce.HELDOUT_5_PATH, "conversations_heldout_5.json"),
    # Written fresh on 2026-12-06 (session 14) by a helper that read no set's conversations nor
    # the training data, before set 5 was read; the held-out one since then.
    "heldout_6": (ce.HELDOUT_6_PATH, "conversations_heldout_6.json"),
    # Written fresh on 2026-12-06 (session 14, for session 15) by a helper that read no set's
    # conversations nor the training data; scored for a baseline, not read.
    "heldout_7": (ce.HELDOUT_7_PATH, "conversations_heldout_7.json"),
    # Written fresh on 2026-12-06 (session 15) by a helper that read no set's conversations nor
    # the training data, before sets 6 and 7 were read; scored, not read.
    "heldout_8": (ce.HELDOUT_8_PATH, "conversations_heldout_8.json"),
    # Written fresh on 2026-12-06 (session 15, for session 16) by a helper that read no set's
    # conversations nor the training data; scored first in session 16 on session 15's model.
    "heldout_9": (ce.HELDOUT_9_PATH, "conversations_heldout_9.json"),
    # Written fresh on 2026-12-06 (session 16) by a helper that read no set's conversations nor
    # the training data, before set 9 was scored or read.
    "heldout_10": (ce.HELDOUT_10_PATH, "conversations_heldout_10.json"),
    # Written fresh on 2026-12-06 (session 16) by a helper that read no set's conversations nor
    # the training data, before sets 8-10 were read; scored twice, then read and learned from.
    "heldout_11": (ce.HELDOUT_11_PATH, "conversations_heldout_11.json"),
    # Written fresh on 2026-12-06 (session 16) by a helper that read no set's conversations nor
    # the training data, before set 11 was read: the held-out one since.
    "heldout_12": (ce.HELDOUT_12_PATH, "conversations_heldout_12.json"),
}


# Sets whose misses were read and learned from: today 0.81-0.97 (2026-12-06, session 16); a drop
# below the floor means a change broke conversations that worked.
LEARNED_FROM = (
    "dev",
    "heldout",
    "heldout_2",
    "heldout_3",
    "heldout_4",
    "heldout_5",
    "heldout_6",
    "heldout_7",
    "heldout_8",
    "heldout_9",
    "heldout_10",
    "heldout_11",
)
LEARNED_FLOOR = 0.75


@pytest.fixture(scope="module")
def answers() -> ce.Answers:
    # After /ask, "would they know it was me?" is answered before her question: the app's
    # research_ask answer too.
    asking = (APP_ANSWERS["research_ask"], research_texts.say("ask_who_knows", "en"))
    return ce.Answers.build(
        rule_actions(), {**APP_ANSWERS, "research_ask": asking}, load_directory()
    )


@pytest.mark.parametrize("name", list(SETS))
def test_the_set_is_well_formed(name: str) -> None:
    conversations = ce.load_conversations(SETS[name][0])
    assert len(conversations) >= ce.MIN_CONVERSATIONS
    assert len({c.id for c in conversations}) == len(conversations)
    assert {c.kind for c in conversations} == set(ce.KINDS), "every kind is represented"
    assert all(ce.MIN_TURNS <= len(c.turns) <= ce.MAX_TURNS for c in conversations)


def test_format_problems_are_named() -> None:
    topics = {"faq_nas", "help_housing"}
    bad = {
        "conversations": [
            {"id": "a", "kind": "follow_up", "turns": ["x"], "expect": ["faq_nope"], "why": "w"},
            {"id": "a", "kind": "chat", "turns": ["x", "y"], "expect": [], "why": ""},
            {
                "id": "b",
                "kind": "resources",
                "turns": ["x", "y"],
                "expect": ["resources_for_state"],
                "why": "w",
                "need": "help_housing",
                "state": "XX",
            },
        ]
    }
    problems = "\n".join(ce.format_problems(bad, topics))
    for expected in (
        "at least 70",
        "a: turns must be 2-4",
        "unknown expected names ['faq_nope']",
        "a: duplicate id",
        "kind must be one of",
        "expect must list",
        "needs a one-line why",
        "US state code",
    ):
        assert expected in problems


def test_every_topic_answer_is_recognised_as_its_topic(answers: ce.Answers) -> None:
    """The classifier only means something if each topic's own answer is read as that topic."""
    for topic, texts in answers.texts.items():
        for text in texts:
            assert topic in answers.topics_of(text, ["hi", "hello"]), topic
    for topic in answers.finder_topics:
        reply = find_help_text(topic, "help please", answers.directory)
        assert topic in answers.topics_of(reply, ["hi", "help please"]), topic


def _conversation(**fields: object) -> ce.Conversation:
    base: dict[str, object] = {"id": "c", "kind": "resources", "turns": ("a", "b"), "why": "w"}
    base.update(fields)
    return ce.Conversation(**base)  # type: ignore[arg-type]


def test_outcomes_are_recognised(answers: ce.Answers) -> None:
    directory = answers.directory
    asks = [ce.Reply("Which state are you in? I only use it to find services near you.")]
    conv = _conversation(expect=("ask_state",))
    assert ce.classify(conv, [[], asks], answers).right

    clarify = [ce.Reply("Did you mean one of these?", ("/faq_test_strips", "/faq_buprenorphine"))]
    conv = _conversation(kind="ambiguous", expect=("clarify",), options=("faq_test_strips",))
    assert ce.classify(conv, [[], clarify], answers).right
    conv = _conversation(kind="ambiguous", expect=("clarify",), options=("faq_nas",))
    assert not ce.classify(conv, [[], clarify], answers).right

    conv = _conversation(
        expect=("resources_for_state",), need="help_housing", state="OH", turns=("rent", "ohio")
    )
    housing_ohio = find_help_text("help_housing", "i need housing in ohio", directory)
    assert ce.classify(conv, [[], [ce.Reply(housing_ohio)]], answers).right
    housing_anywhere = find_help_text("help_housing", "i need housing", directory)
    assert not ce.classify(conv, [[], [ce.Reply(housing_anywhere)]], answers).right
    conv = _conversation(expect=("resources_for_state",), need="help_transportation", state="KY")
    crisis_lines_for_a_ride = find_help_text("help_resources", "i'm in kentucky", directory)
    assert not ce.classify(conv, [[], [ce.Reply(crisis_lines_for_a_ride)]], answers).right

    alone = answers.texts["feeling_alone"][0]
    gentle = [ce.Reply("That sounds heavy. I'm here.", ("/request_human",))]
    conv = _conversation(kind="feeling", expect=("feeling",))
    assert ce.classify(conv, [[ce.Reply(alone)], gentle], answers).right
    assert ce.classify(conv, [[], [ce.Reply(alone, ("/request_human",))]], answers).right
    same_twice = [ce.Reply(alone, ("/request_human",))]
    assert not ce.classify(conv, [same_twice, same_twice], answers).right
    greeting = [ce.Reply(answers.texts["greet"][0], ("/faq_moud",))]
    verdict = ce.classify(conv, [[], greeting], answers)
    assert (verdict.got, verdict.right) == ("greet", False)
    check = [ce.Reply(answers.outside[ce.SCREEN_CHECK] + "\nIf you want...", ("/check_safe",))]
    verdict = ce.classify(conv, [[], check], answers)
    assert (verdict.got, verdict.right, verdict.checked) == (ce.SCREEN_CHECK, False, True)
    # An answer with the check after it is judged by the answer; the check is still reported.
    asks_and_checks = [*asks, *check]
    conv = _conversation(expect=("ask_state",))
    verdict = ce.classify(conv, [[], asks_and_checks], answers)
    assert (verdict.got, verdict.right, verdict.checked) == ("ask_state", True, True)
    assert not ce.classify(conv, [[], check], answers).right


@pytest.mark.rasa
@pytest.mark.parametrize("name", list(SETS))
def test_conversations_through_the_chat_api(
    app_client: httpx.Client, answers: ce.Answers, name: str
) -> None:
    path, report_name = SETS[name]
    conversations = ce.load_conversations(path)
    verdicts: list[ce.Verdict] = []
    transcripts: list[list[str]] = []
    for conversation in conversations:
        user = uuid.uuid4().hex  # a fresh chat for each conversation
        played: list[list[ce.Reply]] = []
        for turn in conversation.turns:
            response = app_client.post("/api/chat", json={"user": user, "text": turn})
            assert response.status_code == 200, (conversation.id, response.text)
            played.append([ce.Reply.from_api(r) for r in response.json()["replies"]])
        verdicts.append(ce.classify(conversation, played, answers))
        transcripts.append(["\n".join(r.text for r in replies) for replies in played])
    result = ce.report(conversations, verdicts, transcripts)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / report_name).write_text(
        json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    kinds = ", ".join(f"{k} {v['right']}/{v['total']}" for k, v in result["by_kind"].items())
    print(
        f"{name}: {result['right']}/{result['total']} = {result['accuracy']} ({kinds});"
        f" last turn checked {result['checked']}"
    )
    assert result["total"] == len(conversations)
    if name in LEARNED_FROM:
        assert result["accuracy"] >= LEARNED_FLOOR, (name, result["accuracy"], kinds)
