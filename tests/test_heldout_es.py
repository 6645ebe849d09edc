"""The held-out Spanish paraphrase set (tests/nlu/heldout_es.yml), for issue #20.

Its format is checked always: the topics of the English set, at least 6 messages each, no
duplicates, none also in the English set or in nlu/, none over 300 characters.

With the real stack, each message is asked through POST /api/chat as tests/test_heldout.py asks
the English set, and `var/reports/heldout_es.json` records, per message, the topic expected, the
topic answered (or `unknown`: the fallback, a crisis or check reply, anything else) and the
language of the reply. Two shares are printed: the right topic (today an English answer to a
Spanish question counts when it is that topic's answer, checked as in tests/test_heldout.py), and
the right topic answered in Spanish (its Spanish answer; the detected language of each reply is
reported too).

At least 90% must get their topic's answer in Spanish: the topic's Spanish variation (or the
resource finder's Spanish reply) exactly. The first pass, before any Spanish training data
existed, was 0.247 right topic and 0.000 in Spanish (issue #20's notes).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from community.resources import load_directory
from community.settings import PROJECT_ROOT
from safety.language import default_detector
from tests.test_heldout import (
    FINDER,
    expected_reply,
    finder_reply,
    load_heldout,
    rule_actions,
    training_examples,
)

HELDOUT_ES_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout_es.yml"
REPORT_PATH = PROJECT_ROOT / "var" / "reports" / "heldout_es.json"
# Each later set was written fresh by someone who read no training data and no earlier set,
# scored once (its first pass, in its header), then its misses were read and learned from: sets
# 1-4 are development sets now. The held-out one is set 5 (tests/nlu/heldout_es_5.yml), written
# blind; nobody building the model reads it or its misses. Reports: var/reports/<set>.json.
HELDOUT_ES_2_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout_es_2.yml"
HELDOUT_ES_3_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout_es_3.yml"
HELDOUT_ES_4_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout_es_4.yml"
HELDOUT_ES_5_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout_es_5.yml"
SETS = {
    "heldout_es": HELDOUT_ES_PATH,
    "heldout_es_2": HELDOUT_ES_2_PATH,
    "heldout_es_3": HELDOUT_ES_3_PATH,
    "heldout_es_4": HELDOUT_ES_4_PATH,
    "heldout_es_5": HELDOUT_ES_5_PATH,
}
# The share that must get its Spanish answer: issue #20's 0.90, on the sets learned from (set 4's
# first pass was 0.881, before its misses were read) and on set 5, held out (first pass 0.936).
REQUIRED = {
    "heldout_es": 0.90, "heldout_es_2": 0.90, "heldout_es_3": 0.90, "heldout_es_4": 0.90,
    "heldout_es_5": 0.90,
}  # fmt: skip
MIN_PER_TOPIC = 6
MAX_CHARACTERS = 300
UNKNOWN = "unknown"
LANGUAGES = ("es", "en")


def load_heldout_es(path: Path = HELDOUT_ES_PATH) -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _key(message: str) -> str:
    """A message as compared for duplicates: case and runs of spaces aside."""
    return re.sub(r"\s+", " ", message).strip().casefold()


@pytest.mark.parametrize("name", list(SETS))
def test_spanish_heldout_set_is_well_formed(name: str) -> None:
    spanish = load_heldout_es(SETS[name])
    english = load_heldout()
    assert list(spanish) == list(english), "the same topics as tests/nlu/heldout.yml, in order"
    short = {t: len(m) for t, m in spanish.items() if len(m or []) < MIN_PER_TOPIC}
    assert short == {}, f"fewer than {MIN_PER_TOPIC} messages: {short}"
    messages = [m for topic in spanish.values() for m in topic]
    assert all(isinstance(m, str) and m.strip() for m in messages)
    keys = [_key(m) for m in messages]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert duplicates == [], f"duplicates: {duplicates}"
    in_english = {_key(m) for topic in english.values() for m in topic}
    shared = [m for m in messages if _key(m) in in_english]
    assert shared == [], f"also in the English set: {shared}"
    too_long = [m for m in messages if len(m) > MAX_CHARACTERS]
    assert too_long == [], f"over {MAX_CHARACTERS} characters: {too_long}"


@pytest.mark.parametrize("name", list(SETS))
def test_spanish_heldout_set_is_absent_from_training(name: str) -> None:
    training = training_examples()
    spanish = load_heldout_es(SETS[name])
    leaked = [m for messages in spanish.values() for m in messages if m.lower() in training]
    assert leaked == [], f"held-out Spanish messages found in training data: {leaked}"


class TopicOfReply:
    """Which topic's exact answer a reply is, and in which language: the comparison of
    tests/test_heldout.py's is_right() with the rules and responses read once rather than once
    per message and topic. A Spanish answer is the topic's Spanish variation (or, for the
    finder, what it says in Spanish)."""

    def __init__(self, topics: list[str]) -> None:
        actions = rule_actions()
        self.directory = load_directory()
        self.finder = [t for t in topics if actions[t] == FINDER]
        self.fixed = {
            language: {
                t: expected_reply(t, f"/{t}", language) for t in topics if t not in self.finder
            }
            for language in LANGUAGES
        }

    def expected(self, topic: str, message: str, language: str) -> str:
        if topic in self.finder:
            return finder_reply(topic, message, language)
        return self.fixed[language][topic]

    def is_answer_of(self, topic: str, message: str, reply: str, language: str) -> bool:
        expected = self.expected(topic, message, language)
        return reply.startswith(expected) if topic == "my_data" else reply == expected

    def answered(self, expected_topic: str, message: str, reply: str) -> tuple[str, str | None]:
        """The topic the reply answers (or `unknown`) and the language of that answer."""
        for language in LANGUAGES:
            if self.is_answer_of(expected_topic, message, reply, language):
                return expected_topic, language
        for language in LANGUAGES:
            for topic in [*self.finder, *self.fixed[language]]:
                if self.is_answer_of(topic, message, reply, language):
                    return topic, language
        return UNKNOWN, None


@pytest.mark.rasa
@pytest.mark.parametrize("name", list(SETS))
def test_spanish_heldout_through_the_chat_api(
    app_client: httpx.Client, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    spanish = load_heldout_es(SETS[name])
    report_path = REPORT_PATH.with_name(f"{name}.json")
    topics = TopicOfReply(list(spanish))
    detector = default_detector()
    violence_line = topics.directory.get("domestic_violence_hotline").phone or ""
    results = []
    for intent, messages in spanish.items():
        for message in messages:
            body = {"user": uuid.uuid4().hex, "text": message}
            response = app_client.post("/api/chat", json=body)
            assert response.status_code == 200, response.text
            replies = response.json()["replies"]
            first = str(replies[0]["text"]) if replies else ""
            answered, answer_language = topics.answered(intent, message, first)
            language = detector.detect(first)
            if (
                answered == UNKNOWN
                and intent == "help_violence"
                and violence_line in "\n".join(str(r["text"]) for r in replies)
            ):
                # The crisis reply naming the hotline, as in the English test, in its language.
                answered, answer_language = intent, language
            results.append(
                {
                    "topic": intent,
                    "text": message,
                    "answered": answered,
                    "right": answered == intent,
                    "reply_language": language,
                    "right_in_spanish": answered == intent and answer_language == "es",
                    "urgent": any(bool(r.get("urgent")) for r in replies),
                    "reply": first[:100],
                }
            )
    total = len(results)
    right = sum(r["right"] for r in results)
    in_spanish = sum(r["right_in_spanish"] for r in results)
    per_topic = {
        topic: {
            "total": len(messages),
            "right": sum(r["right"] for r in results if r["topic"] == topic),
            "right_in_spanish": sum(r["right_in_spanish"] for r in results if r["topic"] == topic),
        }
        for topic, messages in spanish.items()
    }
    report = {
        "total": total,
        "right_topic": right / total,
        "right_topic_in_spanish": in_spanish / total,
        "replies_in_spanish": sum(r["reply_language"] == "es" for r in results) / total,
        "per_topic": per_topic,
        "results": results,
    }
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    with capsys.disabled():
        print(
            f"\n{name}: right topic {right / total:.3f} ({right}/{total}); "
            f"right topic answered in Spanish {in_spanish / total:.3f} ({in_spanish}/{total}); "
            f"report {report_path.relative_to(PROJECT_ROOT)}"
        )
    assert total == sum(len(m) for m in spanish.values())
    assert in_spanish / total >= REQUIRED[name], (
        f"{in_spanish}/{total} Spanish held-out messages got their topic's Spanish answer"
    )
