"""The phrase language reviewers write screening data in."""

from __future__ import annotations

import re

import pytest

from safety.normalize import collapse_repeats
from safety.phrases import PhraseError, bounded, compile_lexicon, compile_phrase


def matches(phrase: str, text: str, lexicon: dict[str, str] | None = None) -> bool:
    return bool(re.search(bounded(compile_phrase(phrase, lexicon)), collapse_repeats(text)))


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        ("want to die", "i want to die", True),
        ("want to die", "i want to diet", False),
        ("(kill|hurt) myself", "hurt myself", True),
        ("[really] want to die", "really want to die", True),
        ("[really] want to die", "want to die", True),
        ("(really)? want to die", "want to die", True),
        ("took ... pills", "took like 30 of my pills", True),
        ("took ... pills", "took a b c d e f g pills", False),
        ("overdos*", "overdosing", True),
        ("# pills", "30 pills", True),
        ("## pills", "3 pills", False),
        ("## pills", "30 pills", True),
        ("want to use $", "i want to use", True),
        ("want to use $", "i want to use the bathroom", False),
        ("soaking (a)? pad (every)? (hour)?", "soaking a pad every hour", True),
        ("soaking (a)? pad (every)? (hour)?", "soaking pad", True),
    ],
)
def test_phrases_match_whole_words(phrase: str, text: str, expected: bool) -> None:
    assert matches(phrase, text) is expected


def test_lexicon_lists_can_use_earlier_lists() -> None:
    lexicon = compile_lexicon({"opioids": ["fetty", "dope"], "drugs": ["@opioids", "meth"]})
    assert matches("bought @drugs", "bought fetty", lexicon)
    assert matches("bought @drugs", "bought meth", lexicon)


@pytest.mark.parametrize("bad", ["(a|b", "a ...", "@missing", "[", "a ) b", "(x)?", "$ a"])
def test_malformed_phrases_are_refused_with_the_phrase_named(bad: str) -> None:
    with pytest.raises(PhraseError, match="phrase"):
        compile_phrase(bad)
