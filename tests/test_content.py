"""The content rules of the Rasa domain (responses/*.yml), checked on every answer: short,
person-first words, a next step, sources beside medical answers, no advice to stop medication,
and every number or link coming from the vetted directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from community.resources import RESOURCE_REF, load_directory
from community.settings import PROJECT_ROOT

RESPONSES = PROJECT_ROOT / "responses"
MAX_CHARS = 420  # without the filled-in resource lines
MAX_SENTENCES = 5
# Files whose answers are medical: each utter_faq_* there has a "# Source:" comment above it.
MEDICAL_FILES = ("medication.yml", "pregnancy.yml", "cps.yml", "harm_reduction.yml")
MEDICAL_MENTAL_HEALTH = ("utter_faq_ppd", "utter_faq_baby_blues")
# Answers that end a turn on purpose (no buttons or resources needed).
NO_NEXT_STEP = {"utter_goodbye", "utter_thanks", "utter_handoff"}
STIGMATIZING = (
    r"\baddicts?\b", r"\bjunkies?\b", r"\bsubstance abuse\b", r"\bdrug abuse\b", r"\babusers?\b",
    r"\bdirty\b", r"\bclean\b", r"\bdruggies?\b", r"\bcrack babies\b", r"\bborn addicted\b",
)  # fmt: skip
# A number in a reply: 3-digit service numbers, dashed phone numbers, 5-6 digit text codes.
NUMBER = re.compile(r"\b\d{3}\b|\d{1,4}(?:-[\dA-Z]{3,4}){2,}|\b\d{5,6}\b")
LINK = re.compile(r"https?://|www\.|\.(gov|org|com)\b", re.IGNORECASE)
MEDICATION = re.compile(r"methadone|buprenorphine|medication|\bmeds\b|\bsubs\b|moud", re.I)
STOPPING = re.compile(
    r"\b(stop|stopping|quit|taper|come off|get off)\b|lower (your|the) dose", re.I
)
STOPPING_SAFE = re.compile(r"don't|do not|before changing anything", re.I)
SENDS_TO_PROVIDER = re.compile(r"provider|doctor|clinic|prescriber", re.I)


def all_responses() -> dict[str, tuple[Path, dict[str, object]]]:
    found: dict[str, tuple[Path, dict[str, object]]] = {}
    for path in sorted(RESPONSES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            # One reviewed wording per answer; a further variation only for a context a slot
            # names (Rasa's conditional variations, e.g. a feeling shared a second time).
            assert "condition" not in variations[0], f"{name}: the first wording is the default"
            for index, variation in enumerate(variations):
                assert index == 0 or variation.get("condition"), f"{name}: one default wording"
                found[name if index == 0 else f"{name}[{index}]"] = (path, variation)
    return found


RESPONSE_NAMES = sorted(all_responses())


def text_of(name: str) -> str:
    return str(all_responses()[name][1]["text"])


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_answer_is_short_and_plain(name: str) -> None:
    text = RESOURCE_REF.sub("", text_of(name))
    assert len(text) <= MAX_CHARS, f"{name}: {len(text)} characters"
    assert len(re.findall(r"[.!?](?:\s|$)", text)) <= MAX_SENTENCES
    for pattern in STIGMATIZING:
        assert not re.search(pattern, text, re.IGNORECASE), f"{name}: {pattern}"


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_numbers_and_links_come_from_the_directory(name: str) -> None:
    directory = load_directory()
    text = text_of(name)
    for resource_id in RESOURCE_REF.findall(text):
        directory.get(resource_id)  # KeyError names an unknown id
    bare = RESOURCE_REF.sub("", text)
    assert not LINK.search(bare), f"{name}: write links as [[resource_id]]"
    known = " ".join(f"{r.phone or ''} {r.text or ''}" for r in directory.resources)
    for number in NUMBER.findall(bare):
        assert number in known, f"{name}: {number} is not in the vetted directory"


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_every_answer_offers_a_next_step(name: str) -> None:
    if name in NO_NEXT_STEP:
        return
    _, variation = all_responses()[name]
    assert variation.get("buttons") or RESOURCE_REF.search(str(variation["text"])), name


@pytest.mark.parametrize("name", RESPONSE_NAMES)
def test_never_advises_stopping_medication(name: str) -> None:
    """An answer about medication that speaks of stopping it says not to do it alone, and every
    answer about medication sends her to her provider."""
    text = text_of(name)
    if not MEDICATION.search(text) or name in {"utter_help", "utter_greet"}:
        return
    if STOPPING.search(text):
        assert STOPPING_SAFE.search(text), name
    if name.startswith("utter_faq_"):
        assert SENDS_TO_PROVIDER.search(text), f"{name}: send her to her provider"


def test_medical_answers_keep_their_source_beside_them() -> None:
    checked = 0
    for filename in (*MEDICAL_FILES, "mental_health.yml"):
        lines = (RESPONSES / filename).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = re.match(r"\s+(utter_\w+):$", line)
            if not match:
                continue
            name = match.group(1)
            if filename == "mental_health.yml" and name not in MEDICAL_MENTAL_HEALTH:
                continue
            assert lines[number - 1].strip().startswith("# Source:"), f"{filename}: {name}"
            checked += 1
    assert checked >= 15


def test_the_checks_catch_what_they_are_for() -> None:
    """Each rule above rejects an example of what it forbids."""
    assert NUMBER.findall("call 1-800-123-4567 or 311") == ["1-800-123-4567", "311"]
    assert LINK.search("see example.org")
    assert STOPPING.search("You should stop your methadone.")
    assert not STOPPING_SAFE.search("You should stop your methadone.")
    assert not SENDS_TO_PROVIDER.search("Methadone is great, take more.")
    assert any(re.search(p, "moms who are addicts", re.I) for p in STIGMATIZING)
