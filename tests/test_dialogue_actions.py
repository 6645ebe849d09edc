"""The conversation actions' pure parts (actions/dialogue.py, actions/resources.py): which topic
answers a follow-up, her state in a reply, asking for it once, and the "Did you mean" options."""

from __future__ import annotations

from actions.dialogue import (
    clarify_options,
    follow_up_topic,
    is_follow_up_in_context,
    medication_named_in,
)
from actions.resources import ASK_STATE, find_help_text, state_in_reply
from community.resources import load_directory


def test_a_follow_up_is_read_against_the_topic_she_is_on() -> None:
    assert follow_up_topic("faq_nas", "how long does it last") == "faq_nas"
    assert follow_up_topic("faq_cps", "what about if its only methadone") == "faq_cps"
    assert follow_up_topic("faq_methadone", "and in pregnancy?") == "faq_moud_pregnancy"
    assert follow_up_topic("faq_methadone", "can i breastfeed on it") == "faq_breastfeeding"
    assert follow_up_topic("faq_drug_testing", "can i stay with him") == "faq_nas"
    assert follow_up_topic("faq_moud", "what about subs") == "faq_buprenorphine"
    assert follow_up_topic("faq_moud", "and the done?") == "faq_methadone"
    assert follow_up_topic(None, "how long does it last") is None


def test_the_medication_she_names_is_a_detail_kept() -> None:
    assert medication_named_in("what if its just the done") == "methadone"
    assert medication_named_in("im on bupe") == "buprenorphine"
    assert medication_named_in("how long does it last") is None


def test_her_state_is_understood_in_a_reply() -> None:
    for text, code in (
        ("ohio", "OH"), ("OH", "OH"), ("oh", "OH"), ("in kentucky", "KY"), ("ky", "KY"),
        ("i'm in new york city", "NY"), ("im in west virginia", "WV"),
        ("i'm in nyc", "NY"), ("im in philly", "PA"), ("in oh", "OH"), ("in OR", "OR"),
    ):  # fmt: skip
        assert state_in_reply(text) == code, text
    # Words that are also state codes are not a state in lower case ("in" is not Indiana).
    for text in ("/inform_state", "ok", "in", "me", "i live in me", "hi"):
        assert state_in_reply(text) is None, text


def test_a_local_need_asks_for_her_state_once() -> None:
    directory = load_directory()
    assert find_help_text("help_housing", "i need help finding housing", directory) == ASK_STATE
    assert "Which state are you in?" in ASK_STATE
    ohio = find_help_text("help_housing", "i need housing in ohio", directory)
    assert "Ohio" in ohio and "211" in ohio
    remembered = find_help_text("help_housing", "i need housing", directory, state="OH")
    assert remembered == ohio
    not_asked_again = find_help_text("help_housing", "", directory, ask=False)
    assert not_asked_again != ASK_STATE
    # Safety at home never waits on a question.
    assert find_help_text("help_violence", "he hits me", directory) != ASK_STATE


def test_a_ride_gets_rides_not_crisis_lines() -> None:
    directory = load_directory()
    reply = find_help_text(
        "inform_state", "", directory, state="KY", topics=["transportation"], ask=False
    )
    assert "Kentucky" in reply and "211" in reply
    assert directory.get("lifeline_988").contact_line() not in reply


def test_did_you_mean_offers_the_two_best_topics() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "faq_test_strips", "confidence": 0.2},
        {"name": "greet", "confidence": 0.19},
        {"name": "faq_buprenorphine", "confidence": 0.18},
        {"name": "faq_nas", "confidence": 0.1},
    ]
    assert clarify_options(ranking) == ["faq_test_strips", "faq_buprenorphine"]


def test_unsure_between_a_follow_up_and_a_topic_the_conversation_decides() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "faq_nas", "confidence": 0.2},
        {"name": "follow_up", "confidence": 0.19},
    ]
    assert is_follow_up_in_context(ranking, "faq_nas")
    assert not is_follow_up_in_context(ranking, None), "with no topic, it asks"
    assert not is_follow_up_in_context(ranking[:2], "faq_nas")


def test_a_general_request_for_help_gets_the_24_7_lines_at_once() -> None:
    directory = load_directory()
    reply = find_help_text("help_resources", "where can i find help", directory)
    assert reply != ASK_STATE
    assert directory.get("lifeline_988").contact_line() in reply
    assert find_help_text("help_resources", "i need a daycare", directory) == ASK_STATE
