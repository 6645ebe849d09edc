"""The multi-turn held-out conversations (tests/conversations/heldout.yml): load and check the
set, and classify the last reply of a conversation played through POST /api/chat.

A reply matches a topic when it is that topic's answer: one of its response's variations in
responses/*.yml (resources filled in), for the resource finder's topics what the finder says for
that topic to one of her messages, and for the topics the app answers itself the app's text. The
conversation outcomes #19 adds (`ask_state`, `clarify`, `feeling`, `resources_for_state`) are
recognised from the reply's words, buttons and the services it lists; the set's header defines
each precisely. Pure: the caller plays the conversations and hands the replies in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.resources import INTENT_TOPICS, find_help_text
from bots import wording
from community.resources import US_STATES, ResourceDirectory, expand_resource_refs
from community.settings import PROJECT_ROOT
from safety.crisis_reply import default_crisis_replies

SET_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout.yml"
# The first set, read and learned from since: a development set (its header says so).
DEV_PATH = PROJECT_ROOT / "tests" / "conversations" / "dev.yml"
HELDOUT_2_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_2.yml"
HELDOUT_3_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_3.yml"
HELDOUT_4_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_4.yml"
HELDOUT_5_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_5.yml"
HELDOUT_6_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_6.yml"
HELDOUT_7_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_7.yml"
HELDOUT_8_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_8.yml"
HELDOUT_9_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_9.yml"
HELDOUT_10_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_10.yml"
HELDOUT_11_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_11.yml"
HELDOUT_12_PATH = PROJECT_ROOT / "tests" / "conversations" / "heldout_12.yml"
TOPICS_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
RESPONSES_DIR = PROJECT_ROOT / "responses"
FINDER = "action_find_help"
OUTCOMES = ("ask_state", "clarify", "feeling", "resources_for_state")
KINDS = ("follow_up", "switch", "resources", "feeling", "ambiguous")
MIN_CONVERSATIONS = 70
MIN_TURNS, MAX_TURNS = 2, 4
# Services that are for a crisis, never a "service" for a ride, a home, childcare or benefits.
CRISIS_LINE_IDS = ("lifeline_988", "crisis_text_line")
EVERYDAY_NEEDS = ("help_housing", "help_transportation", "help_childcare", "help_benefits")
# Topics whose app answer only starts the reply (the rest is her data).
PREFIX_TOPICS = frozenset({"my_data"})
FEELING_TOPIC = "feeling_alone"
UNKNOWN = "unknown"
CRISIS = "crisis"  # the crisis screen's urgent reply
SCREEN_CHECK = "screen_check"  # the crisis screen's "are you safe right now?" question
CASE_OPEN = "case_open"  # a case is open: her words go to the person joining her

_ASKS_STATE = re.compile(r"\b(which|what)\s+(us\s+)?state\b[^?]*\?", re.IGNORECASE)
_DID_YOU_MEAN = re.compile(r"\bdid you mean\b", re.IGNORECASE)
_NOTHING_CHECKED = re.compile(
    r"\b(don'?t|do not|doesn'?t|haven'?t|have no|no)\b[^.\n]{0,40}\bchecked\b"
    r"|\bnothing\b[^.\n]{0,20}\bchecked\b",
    re.IGNORECASE,
)


class ConversationSetError(ValueError):
    """The set breaks its format; the message lists every problem."""


@dataclass(frozen=True)
class Conversation:
    id: str
    kind: str
    turns: tuple[str, ...]
    expect: tuple[str, ...]
    why: str
    need: str | None = None
    state: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """One reply of POST /api/chat, as much of it as scoring needs."""

    text: str
    payloads: tuple[str, ...] = ()
    urgent: bool = False

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Reply:
        buttons = item.get("buttons") or []
        return cls(
            text=str(item.get("text") or ""),
            payloads=tuple(str(b.get("payload", "")) for b in buttons if isinstance(b, dict)),
            urgent=bool(item.get("urgent")),
        )


def topic_names(path: Path = TOPICS_PATH) -> frozenset[str]:
    """The 41 topics: the keys of the single-turn held-out set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return frozenset(str(k) for k in data)


def format_problems(data: Any, topics: Iterable[str]) -> list[str]:
    """Everything wrong with the set's format (empty when it is well formed)."""
    valid = set(topics)
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        return ["the file needs a top-level 'conversations' list"]
    items: list[Any] = data["conversations"]
    problems: list[str] = []
    if len(items) < MIN_CONVERSATIONS:
        problems.append(f"{len(items)} conversations, at least {MIN_CONVERSATIONS} needed")
    seen: set[str] = set()
    allowed_keys = {"id", "kind", "turns", "expect", "why", "need", "state", "options"}
    for index, item in enumerate(items):
        where = f"conversation {index + 1}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not a mapping")
            continue
        cid = item.get("id")
        if not isinstance(cid, str) or not cid:
            problems.append(f"{where}: needs an id")
        else:
            where = cid
            if cid in seen:
                problems.append(f"{cid}: duplicate id")
            seen.add(cid)
        if extra := set(item) - allowed_keys:
            problems.append(f"{where}: unknown fields {sorted(extra)}")
        if item.get("kind") not in KINDS:
            problems.append(f"{where}: kind must be one of {KINDS}")
        turns = item.get("turns")
        if (
            not isinstance(turns, list)
            or not MIN_TURNS <= len(turns) <= MAX_TURNS
            or not all(isinstance(t, str) and t.strip() for t in turns)
        ):
            problems.append(f"{where}: turns must be {MIN_TURNS}-{MAX_TURNS} non-empty messages")
        if not isinstance(item.get("why"), str) or not item["why"].strip():
            problems.append(f"{where}: needs a one-line why")
        expect = item.get("expect")
        if not isinstance(expect, list) or not expect:
            problems.append(f"{where}: expect must list at least one outcome")
            expect = []
        bad = [e for e in expect if e not in valid and e not in OUTCOMES]
        if bad:
            problems.append(f"{where}: unknown expected names {bad}")
        for_state = "resources_for_state" in expect
        if for_state and item.get("need") not in valid:
            problems.append(f"{where}: resources_for_state needs a 'need' that is a topic")
        if for_state and item.get("state") not in US_STATES:
            problems.append(f"{where}: resources_for_state needs a US state code in 'state'")
        if not for_state and ("need" in item or "state" in item):
            problems.append(f"{where}: 'need' and 'state' go only with resources_for_state")
        options = item.get("options")
        if options is not None and (
            "clarify" not in expect
            or not isinstance(options, list)
            or not options
            or any(o not in valid for o in options)
        ):
            problems.append(f"{where}: 'options' is a non-empty list of topics, with clarify")
    return problems


def load_conversations(
    path: Path = SET_PATH, topics: Iterable[str] | None = None
) -> list[Conversation]:
    """The set, checked; ConversationSetError lists every format problem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = format_problems(data, topic_names() if topics is None else topics)
    if problems:
        raise ConversationSetError("\n".join(problems))
    return [
        Conversation(
            id=item["id"],
            kind=item["kind"],
            turns=tuple(item["turns"]),
            expect=tuple(item["expect"]),
            why=item["why"],
            need=item.get("need"),
            state=item.get("state"),
            options=tuple(item.get("options") or ()),
        )
        for item in data["conversations"]
    ]


def response_variations(directory: ResourceDirectory) -> dict[str, tuple[str, ...]]:
    """response name -> the texts of all its variations, resources filled in (a Spanish
    variation's with each entry's Spanish line, as the app fills a Spanish answer)."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(RESPONSES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            found[name] = tuple(
                expand_resource_refs(str(v["text"]), directory, language=_language_of(v))
                for v in variations or []
                if isinstance(v, dict) and v.get("text")
            )
    return found


def _language_of(variation: dict[str, Any]) -> str:
    """The language a variation is written for: its condition on the `language` slot, else
    English (the default variation)."""
    for condition in variation.get("condition") or []:
        if isinstance(condition, dict) and condition.get("name") == "language":
            return str(condition.get("value"))
    return "en"


@dataclass(frozen=True)
class Answers:
    """What each topic answers, built from the rules' actions and the responses' variations."""

    directory: ResourceDirectory
    texts: Mapping[str, tuple[str, ...]]  # topic -> acceptable texts (not finder topics)
    finder_topics: frozenset[str]
    # Replies that come from outside the dialogue core (the crisis screen, an open case):
    # label -> how such a reply starts.
    outside: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        rule_actions: Mapping[str, str],
        app_answers: Mapping[str, str | tuple[str, ...]],
        directory: ResourceDirectory,
    ) -> Answers:
        """`rule_actions`: intent -> the action answering it; `app_answers`: topics the app
        answers itself -> its text or texts (their domain response, shown when that path is
        down, is accepted too)."""
        variations = response_variations(directory)
        texts: dict[str, tuple[str, ...]] = {}
        finder: set[str] = set()
        for intent, action in rule_actions.items():
            if action == FINDER:
                finder.add(intent)
                continue
            accepted = list(variations.get(action, ()))
            if intent in app_answers:
                own = app_answers[intent]
                accepted[:0] = [own] if isinstance(own, str) else list(own)
            texts[intent] = tuple(accepted)
        outside = {
            SCREEN_CHECK: default_crisis_replies().compose_check().text.splitlines()[0],
            CASE_OPEN: wording.waiting_for_person().text,
        }
        return cls(directory, texts, frozenset(finder), outside)

    def topics_of(self, reply: str, messages: Sequence[str]) -> list[str]:
        """Every topic whose answer `reply` is (finder answers checked against `messages`)."""
        found = [
            topic
            for topic, texts in self.texts.items()
            if any(reply.startswith(t) if topic in PREFIX_TOPICS else reply == t for t in texts)
        ]
        candidates = [*messages, " ".join(messages)]
        found += [
            topic
            for topic in sorted(self.finder_topics)
            if any(reply == find_help_text(topic, m, self.directory) for m in candidates)
        ]
        return found

    def outside_of(self, replies: Sequence[Reply]) -> list[str]:
        """Labels of the replies that came from outside the dialogue core."""
        found = [
            label
            for label, start in self.outside.items()
            if any(r.text.startswith(start) for r in replies)
        ]
        return [*found, CRISIS] if any(r.urgent for r in replies) else found

    def services_in(self, text: str) -> list[str]:
        """Ids of the directory entries whose contact line `text` carries."""
        return [r.id for r in self.directory.resources if r.contact_line() in text]


@dataclass(frozen=True)
class Verdict:
    got: str  # the expected outcome that matched, else the first label, else "unknown"
    labels: tuple[str, ...]
    right: bool
    checked: bool = False  # the last turn also asked "are you safe right now?"


def _joined(replies: Sequence[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def is_ask_state(answers: Answers, replies: Sequence[Reply]) -> bool:
    text = _joined(replies)
    return bool(_ASKS_STATE.search(text)) and not answers.services_in(text)


def is_clarify(replies: Sequence[Reply], options: Sequence[str]) -> bool:
    text = _joined(replies)
    payloads = [p for r in replies for p in r.payloads]
    if not _DID_YOU_MEAN.search(text) or len(payloads) < 2:
        return False
    if not options:
        return True
    named = {re.split(r"[{@]", p.removeprefix("/"), maxsplit=1)[0] for p in payloads}
    return bool(named & set(options))


def is_resources_for_state(
    answers: Answers, replies: Sequence[Reply], need: str | None, state: str | None
) -> bool:
    if state is None or need is None:
        return False
    text = _joined(replies)
    listed = answers.services_in(text)
    if not listed:
        return False
    names_state = re.search(rf"\b{re.escape(US_STATES[state])}\b", text, re.IGNORECASE)
    nothing_checked = _NOTHING_CHECKED.search(text) and re.search(r"\b211\b", text)
    if not (names_state or nothing_checked):
        return False
    if need in EVERYDAY_NEEDS:
        wanted = set(INTENT_TOPICS.get(need, ()))
        tags = {r.id: set(r.topics) for r in answers.directory.resources}
        if not any(wanted & tags[i] for i in listed):
            return False
        if set(listed) & set(CRISIS_LINE_IDS):
            return False
    return True


def is_feeling(
    topic_labels: Sequence[str],
    other_outcomes: Sequence[str],
    replies: Sequence[Reply],
    previous: Sequence[Reply],
    answers: Answers,
) -> bool:
    if not replies or other_outcomes or answers.outside_of(replies):
        return False
    if any(t != FEELING_TOPIC for t in topic_labels):
        return False
    text = _joined(replies)
    offers = any(r.payloads for r in replies) or bool(answers.services_in(text))
    return offers and text != _joined(previous)


def classify(
    conversation: Conversation, replies_per_turn: Sequence[Sequence[Reply]], answers: Answers
) -> Verdict:
    """Label the last reply of a played conversation and judge it against what it expects."""
    last = list(replies_per_turn[-1]) if replies_per_turn else []
    previous = list(replies_per_turn[-2]) if len(replies_per_turn) > 1 else []
    # The screen's "are you safe right now?" may follow her answer (the screen was unsure): the
    # answer is judged by itself, and the check is reported beside it (`Verdict.checked`).
    check = answers.outside[SCREEN_CHECK]
    answer = [r for r in last if not r.text.startswith(check)]
    first = answer[0].text if answer else ""
    labels = answers.topics_of(first, conversation.turns) if first else []
    outcomes: list[str] = []
    if is_ask_state(answers, answer):
        outcomes.append("ask_state")
    if is_clarify(answer, conversation.options):
        outcomes.append("clarify")
    if is_resources_for_state(answers, answer, conversation.need, conversation.state):
        outcomes.append("resources_for_state")
    if is_feeling(labels, outcomes, answer, previous, answers):
        outcomes.append("feeling")
    outcomes += answers.outside_of(last)
    found = [*labels, *outcomes]
    matched = [e for e in conversation.expect if e in found]
    got = matched[0] if matched else (found[0] if found else UNKNOWN)
    return Verdict(got=got, labels=tuple(found), right=bool(matched), checked=SCREEN_CHECK in found)


def report(
    conversations: Sequence[Conversation],
    verdicts: Sequence[Verdict],
    transcripts: Sequence[Sequence[str]],
) -> dict[str, Any]:
    """The report written to var/reports/conversations.json; `transcripts` holds, for each
    conversation, the bot's words after each of her turns."""
    rows = [
        {
            "id": c.id,
            "kind": c.kind,
            "turns": list(c.turns),
            "expected": list(c.expect),
            "got": v.got,
            "right": v.right,
            "checked": v.checked,
            "reply": said[-1][:300] if said else "",
            "bot_said": [text[:100] for text in said],
        }
        for c, v, said in zip(conversations, verdicts, transcripts, strict=True)
    ]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        kind_rows = [r for r in rows if r["kind"] == kind]
        if kind_rows:
            right = sum(bool(r["right"]) for r in kind_rows)
            by_kind[kind] = {
                "right": right,
                "total": len(kind_rows),
                "accuracy": round(right / len(kind_rows), 3),
            }
    right = sum(bool(r["right"]) for r in rows)
    return {
        "accuracy": round(right / len(rows), 3) if rows else 0.0,
        "right": right,
        "total": len(rows),
        # None of these conversations is a crisis: every check on a last turn is a needless
        # one, counted whether or not her answer came with it.
        "checked": sum(bool(r["checked"]) for r in rows),
        "by_kind": by_kind,
        "conversations": rows,
    }
