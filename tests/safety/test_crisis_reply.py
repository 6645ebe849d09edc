"""Crisis replies: every category and severity resolves, with the right numbers."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from community.resources import DIRECTORY_PATH, ResourceDirectory, load_directory
from safety.crisis_reply import (
    REPLIES_PATH,
    CrisisReplies,
    check_answer_for,
    crisis_reply_for,
    default_crisis_replies,
)
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


# --- Languages: Spanish replies, help on the way, the "are you safe?" check -----------------

LANGUAGES = ("en", "es")
# Words of the English wording that must never show up in a Spanish reply's own words.
ENGLISH_WORDS = re.compile(
    r"\b(thank|thanks|please|you|your|call|text|help|right now|person|community|"
    r"someone|safe|alone|baby|emergency|the|and|with)\b",
    re.IGNORECASE,
)
SPANISH_988 = ("oprime 2", "AYUDA")
# Services' own names, said as they are in every language.
PROPER_NAMES = ("Never Use Alone", "Poison Help", "Postpartum Support International", "SAMHSA")


def _directory_with_spanish(es: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(DIRECTORY_PATH.read_text(encoding="utf-8"))
    entry = next(r for r in raw["resources"] if r["id"] == "lifeline_988")
    entry["es"] = es
    return raw


def _raw_replies() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REPLIES_PATH.read_text(encoding="utf-8"))
    return data


def _own_words(text: str, ids: tuple[str, ...]) -> str:
    """The reply without the resource lines of entries that have no Spanish line (those fall
    back to the English line on purpose, with the Spanish availability noted)."""
    directory = load_directory()
    fallback = {f"• {directory.get(i).contact_line('es')}" for i in ids if not directory.get(i).es}
    words = "\n".join(line for line in text.splitlines() if line not in fallback)
    for name in PROPER_NAMES:
        words = words.replace(name, "")
    return words


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("severity", list(Severity))
def test_every_category_and_severity_composes_in_both_languages(
    language: str, category: str, severity: Severity
) -> None:
    reply = default_crisis_replies().compose(Screening(True, category, severity), language)
    assert reply.resource_ids
    assert 100 < len(reply.text) < 1000
    assert "988" in reply.text
    if severity is Severity.IMMINENT:
        assert "911" in reply.text
    if language == "es":
        assert "persona de nuestra comunidad" in reply.text
        assert all(word in reply.text for word in SPANISH_988), "988 with its Spanish line"
    else:
        assert "person from our community" in reply.text


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("severity", list(Severity))
def test_no_english_leaks_into_a_spanish_reply(category: str, severity: Severity) -> None:
    replies = default_crisis_replies()
    reply = replies.compose(Screening(True, category, severity), "es")
    words = _own_words(reply.text, reply.resource_ids)
    assert not ENGLISH_WORDS.search(words), ENGLISH_WORDS.findall(words)
    # Same resources in the same order in both languages: only the words change.
    assert reply.resource_ids == replies.compose(Screening(True, category, severity)).resource_ids


def test_english_stays_the_default_and_unknown_languages_get_english() -> None:
    replies = default_crisis_replies()
    screening = Screening(True, "suicide", Severity.HIGH)
    english = replies.compose(screening).text
    assert replies.compose(screening, "en").text == english
    assert replies.compose(screening, "fr").text == english
    assert replies.compose(screening, "").text == english
    assert crisis_reply_for(screening).text == english
    spanish = replies.compose(screening, "es").text
    assert replies.compose(screening, "es-MX").text == spanish
    assert replies.compose(screening, "ES_pr").text == spanish
    assert crisis_reply_for(screening, "es").text == spanish
    assert {"en", "es"} <= replies.languages


def test_spanish_988_line_comes_from_the_directory() -> None:
    text = (
        default_crisis_replies().compose(Screening(True, "suicide", Severity.IMMINENT), "es").text
    )
    assert "llama al 988 y oprime 2" in text
    assert "envía AYUDA por mensaje de texto al 988" in text
    assert "https://988lineadevida.org" in text
    assert "Llama al 911" in text


def test_spanish_violence_reply_is_discreet() -> None:
    replies = default_crisis_replies()
    for severity in Severity:
        text = replies.compose(Screening(True, "violence", severity), "es").text
        assert "Violencia Doméstica" not in text and "Domestic Violence" not in text
        assert "thehotline" not in text
    text = replies.compose(Screening(True, "violence", Severity.HIGH), "es").text
    assert "• Una línea de ayuda confidencial: llama al 1-800-799-7233" in text
    assert text.endswith("puedes borrar este chat.")


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_coming_is_short_and_lists_no_numbers_but_911(language: str) -> None:
    reply = default_crisis_replies().compose_help_coming(language)
    assert set(reply.resource_ids) <= {"emergency_911"}
    assert len(reply.text) < 300
    digits = re.findall(r"\d[\d-]*", reply.text)
    assert set(digits) <= {"911"}
    expected = ("persona de nuestro equipo", "camino") if language == "es" else ("person", "way")
    assert all(word in reply.text for word in expected)
    if language == "es":
        assert not ENGLISH_WORDS.search(reply.text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_asks_if_she_is_safe_with_988_and_three_buttons(language: str) -> None:
    check = default_crisis_replies().compose_check(language)
    assert check.resource_ids == ("lifeline_988",)
    assert "988" in check.text and len(check.text) < 400
    assert [payload for _, payload in check.buttons] == [
        "/check_safe",
        "/check_help",
        "/check_person",
    ]
    titles = [title for title, _ in check.buttons]
    if language == "es":
        assert titles == ["Estoy bien", "Necesito ayuda ahora", "Hablar con una persona"]
        assert "¿Estás a salvo ahora mismo?" in check.text
        assert all(word in check.text for word in SPANISH_988)
        assert not ENGLISH_WORDS.search(check.text)
    else:
        assert titles == ["I'm safe", "I need help now", "Talk to a person"]
        assert "Are you safe right now?" in check.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_answers(language: str) -> None:
    replies = default_crisis_replies()
    safe = replies.compose_check_answer("safe", language)
    assert safe.resource_ids == () and len(safe.text) < 200
    assert ("persona" if language == "es" else "person") in safe.text
    for answer in ("help", "person"):
        reply = replies.compose_check_answer(answer, language)
        assert "988" in reply.text and "911" in reply.text and len(reply.text) < 600
        told = "persona de nuestro equipo" if language == "es" else "person from our team"
        assert told in reply.text
        if language == "es":
            assert all(word in reply.text for word in SPANISH_988)
            assert not ENGLISH_WORDS.search(reply.text)
    for title, payload in replies.compose_check(language).buttons:
        pressed = check_answer_for(payload)
        assert pressed is not None, title
        assert replies.compose_check_answer(pressed, language).text
    assert check_answer_for("/request_human") is None
    with pytest.raises(ValueError, match="unknown check answer"):
        replies.compose_check_answer("maybe", language)  # type: ignore[arg-type]


def test_replies_fail_at_load_when_a_language_misses_something() -> None:
    directory = load_directory()
    data = _raw_replies()
    del data["languages"]["es"]["categories"]["medical"]["now"]["high"]
    with pytest.raises(ValueError, match="medical has no 'now' for high in es"):
        CrisisReplies(data, directory)
    data = _raw_replies()
    del data["languages"]["es"]["categories"]["violence"]["after"]
    with pytest.raises(ValueError, match="violence has no 'after'"):
        CrisisReplies(data, directory)
    data = _raw_replies()
    del data["languages"]["es"]["check"]["buttons"]["person"]
    with pytest.raises(ValueError, match=r"languages\.es\.check\.buttons\.person"):
        CrisisReplies(data, directory)
    data = _raw_replies()
    data["check"]["answers"]["help"].append("no_such_service")
    with pytest.raises(ValueError, match="no_such_service"):
        CrisisReplies(data, directory)
    data = _raw_replies()
    del data["languages"]["en"]
    with pytest.raises(ValueError, match="no 'en'"):
        CrisisReplies(data, directory)
    data = _raw_replies()
    del data["categories"]["overdose"]["resources"]["elevated"]
    with pytest.raises(ValueError, match="overdose has no resources for elevated"):
        CrisisReplies(data, directory)


def test_a_malformed_spanish_resource_block_fails_at_load() -> None:
    good = load_directory().get("lifeline_988").es
    assert good is not None
    base = good.model_dump(by_alias=True, mode="json", exclude_none=True)
    for broken in (
        {k: v for k, v in base.items() if k != "source"},  # no source
        {**base, "review_by": base["vetted_on"]},  # review not after vetting
        {**base, "numero": "988"},  # unknown field
        {**base, "press": "dos"},  # not a menu digit
        {k: v for k, v in base.items() if k not in {"phone", "text", "chat_url", "url"}},
    ):
        with pytest.raises(ValidationError, match="es"):
            ResourceDirectory.model_validate(_directory_with_spanish(broken))
