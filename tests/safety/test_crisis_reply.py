"""Crisis replies: every category and severity resolves, with the right numbers."""

from __future__ import annotations

import pytest

from safety.crisis_reply import default_crisis_replies
from safety.screen import Screening, Severity

CATEGORIES = (
    "suicide",
    "self_harm",
    "overdose",
    "intent_to_use",
    "baby_danger",
    "violence",
    "medical",
)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("severity", list(Severity))
def test_every_reply_is_short_and_says_a_person_is_told(category: str, severity: Severity) -> None:
    reply = default_crisis_replies().compose(Screening(True, category, severity))
    assert "person from our community" in reply.text
    assert reply.resource_ids
    assert len(reply.text) < 1000
    assert "988" in reply.text
    if severity is Severity.IMMINENT:
        assert "911" in reply.text


def test_all_categories_of_the_screen_have_replies() -> None:
    assert set(CATEGORIES) <= default_crisis_replies().categories


def test_suicide_names_988_and_violence_is_discreet() -> None:
    replies = default_crisis_replies()
    assert "988" in replies.compose(Screening(True, "suicide", Severity.HIGH)).text
    violence = replies.compose(Screening(True, "violence", Severity.HIGH)).text
    assert "1-800-799-7233" in violence and "START to 88788" in violence
    assert "Domestic Violence" not in violence


def test_relapse_reply_does_not_judge_or_advise_stopping_medication() -> None:
    text = (
        default_crisis_replies().compose(Screening(True, "intent_to_use", Severity.ELEVATED)).text
    )
    lowered = text.lower()
    for word in ("addict", "clean", "dirty", "stop taking", "should have"):
        assert word not in lowered
