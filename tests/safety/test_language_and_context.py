"""Her language is read from her words, and her last few messages are held briefly in memory."""

from __future__ import annotations

import pytest

from safety.context import RecentMessages
from safety.language import default_detector


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ya no quiero vivir", "es"),
        ("me tome todas las pastillas", "es"),
        ("el baby no respira", "es"),
        ("estoy bien", "es"),
        ("i took all my pills", "en"),
        ("my baby wont stop crying", "en"),
        ("im fine", "en"),
        ("help", "en"),
        ("yo", "en"),  # a greeting, not Spanish "I"
        ("yo tengo una pregunta", "es"),
    ],
)
def test_language_of_a_message(text: str, language: str) -> None:
    assert default_detector().detect(text) == language


def test_a_message_with_no_evidence_keeps_her_language() -> None:
    detector = default_detector()
    assert detector.detect("911", previous="es") == "es"
    assert detector.detect("😭😭", previous="es") == "es"
    assert detector.detect("", previous=None) == "en"
    assert detector.detect("yo", previous="es") == "es"


def test_plain_english_is_not_held_in_spanish_by_her_last_message() -> None:
    assert default_detector().detect("do u guys report stuff", previous="es") == "en"


def test_recent_messages_expire_and_are_bounded() -> None:
    now = [0.0]
    memory = RecentMessages(messages=2, seconds=60, conversations=2, clock=lambda: now[0])
    memory.remember("a", "one", "en", 0.1, False)
    memory.remember("a", "two", "en", 0.2, False)
    memory.remember("a", "three", "en", 0.3, False)
    assert [r.text for r in memory.recent("a")] == ["two", "three"]
    now[0] = 61.0
    assert memory.recent("a") == []
    for key in ("b", "c", "d"):
        memory.remember(key, "x", "en", 0.0, False)
    assert len(memory) == 2 and memory.recent("b") == []  # the oldest conversation went first
