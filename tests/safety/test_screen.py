"""Crisis screening: normalization, guards, severity, and robustness on any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safety.screen import Screener, Severity, default_screener


@pytest.fixture(scope="module")
def screener() -> Screener:
    return default_screener()


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("i took a handful of pills", "overdose", Severity.IMMINENT),
        ("my partner choked me", "violence", Severity.HIGH),
        ("my baby is limp", "baby_danger", Severity.IMMINENT),
        ("my friend won't wake up", "overdose", Severity.IMMINENT),
        ("iwanttodie", "suicide", Severity.HIGH),
        ("k1ll mys3lf", "suicide", Severity.HIGH),
        ("i wanna diiiiie", "suicide", Severity.HIGH),
        ("і wаnt tо diе", "suicide", Severity.HIGH),  # Cyrillic look-alikes
        ("i want to\u200b die", "suicide", Severity.HIGH),  # zero-width space
        ("I'm soaking a pad every hour", "medical", Severity.IMMINENT),
        ("gonna use tonight", "intent_to_use", Severity.HIGH),
        ("i relapsed after 2 years clean", "intent_to_use", Severity.ELEVATED),
        ("can't stop thinking about killing myself", "suicide", Severity.HIGH),
        ("im not okay, i want to die", "suicide", Severity.HIGH),
        ("had to narcan him", "overdose", Severity.IMMINENT),
    ],
)
def test_crises_are_found(screener: Screener, text: str, category: str, severity: Severity) -> None:
    result = screener.screen(text)
    assert result.crisis, text
    assert (result.category, result.severity) == (category, severity)
    assert result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "this diaper blowout killed me lol",
        "picked up my subs today",
        "where can i get narcan just in case",
        "I would never hurt my baby",
        "was suicidal years ago",
        "2 years clean today!",
        "dying to see her",
        "killed it at work",
        "my feet are killing me",
        "my cousin OD'd two years ago",
        "baby blues are real",
        "how do I give narcan?",
        "going to use the bathroom",
        "",
        "   ",
    ],
)
def test_everyday_talk_is_not_a_crisis(screener: Screener, text: str) -> None:
    assert not screener.screen(text).crisis, screener.screen(text)


def test_several_signs_of_one_kind_raise_the_severity(screener: Screener) -> None:
    one = screener.screen("i have been saving up my pills")
    both = screener.screen("i have been saving up my pills. this is goodbye")
    assert one.severity == Severity.HIGH
    assert both.severity == Severity.IMMINENT


def test_verdict_as_json_fields(screener: Screener) -> None:
    verdict = screener.screen("i want to die").as_dict()
    assert set(verdict) == {"crisis", "category", "severity", "evidence"}
    assert verdict["severity"] == "high"


@settings(max_examples=300, deadline=1000)
@given(st.text(max_size=3000))
def test_any_unicode_is_screened_without_error(text: str) -> None:
    result = default_screener().screen(text)
    assert result.crisis in (True, False)


@settings(max_examples=30, deadline=2000)
@given(st.text(min_size=1, max_size=300), st.integers(min_value=10_000, max_value=20_000))
def test_long_inputs_finish(fragment: str, length: int) -> None:
    text = (fragment * (length // len(fragment) + 1))[:length]
    assert default_screener().screen(text).crisis in (True, False)
