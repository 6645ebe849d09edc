"""What mothers read from the research side, in her language. The words themselves live in
`wording.yml` (English and Spanish for every key), so they can be reviewed together; this
module puts them together with the question, her choices and the buttons.

Plain, warm and short; every message says that taking part is her choice and how to stop.
Buttons are (title, payload) pairs; the payloads are the commands `bots/research_flow.py`
reads, the same in every language.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from community.models import OutboxMessage

Button = tuple[str, str]
WORDING_PATH = Path(__file__).resolve().parent / "wording.yml"
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
KINDS = ("questions", "invitations", "results", "sessions")


class WordingError(ValueError):
    """The wording file is missing a language, a key, or uses different {fields} per language."""


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def validate_wording(data: Any) -> dict[str, dict[str, str]]:
    """Every key has a non-empty English and Spanish text with the same {fields}."""
    if not isinstance(data, dict) or not data:
        raise WordingError("the wording file holds no keys")
    checked: dict[str, dict[str, str]] = {}
    for key, texts in data.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            raise WordingError(f"{key}: needs exactly {', '.join(LANGUAGES)}")
        if not all(isinstance(t, str) and t.strip() for t in texts.values()):
            raise WordingError(f"{key}: every language needs words")
        if _fields(texts["en"]) != _fields(texts["es"]):
            raise WordingError(f"{key}: the languages fill in different {{fields}}")
        checked[str(key)] = {language: texts[language] for language in LANGUAGES}
    return checked


@cache
def wording() -> dict[str, dict[str, str]]:
    """The reviewed words, read and checked once (on first use, never at import)."""
    with WORDING_PATH.open(encoding="utf-8") as handle:
        return validate_wording(yaml.safe_load(handle))


def language_of(language: str | None) -> str:
    """'es' for Spanish; English for anything else, and when her language is not known yet."""
    return language if language is not None and language in LANGUAGES else DEFAULT_LANGUAGE


def say(key: str, language: str | None, **fields: object) -> str:
    text = wording()[key][language_of(language)]
    return text.format(**fields) if fields else text


def outbox_message(
    member_id: int, platform: str, text: str, buttons: list[Button], bulk: bool = False
) -> OutboxMessage:
    """A message for her with its buttons, to be written to the outbox (delivered once)."""
    return OutboxMessage(
        member_id=member_id,
        platform=platform,
        text=text,
        buttons=[{"title": title, "payload": payload} for title, payload in buttons],
        bulk=bulk,
    )


def kind_name(kind: str, language: str | None) -> str:
    return say(f"kind_{kind}", language)


def preferences(
    questions: bool,
    invitations: bool,
    results: bool,
    language: str | None = None,
    sessions: bool = False,
) -> tuple[str, list[Button]]:
    state = {
        "questions": questions,
        "invitations": invitations,
        "results": results,
        "sessions": sessions,
    }
    lines = [say("preferences_intro", language)]
    lines += [
        say(
            "preferences_item",
            language,
            kind=kind_name(k, language),
            state=say("yes" if on else "no", language),
        )
        for k, on in state.items()
    ]
    lines.append(say("preferences_outro", language))
    buttons = [
        (
            say(f"button_{'stop' if on else 'get'}_{k}", language),
            f"/{'optout' if on else 'optin'}_{k}",
        )
        for k, on in state.items()
    ]
    if any(state.values()):
        buttons.append((say("button_stop_all", language), "/optout_all"))
    return "\n".join(lines), buttons


def opted_in(kind: str, language: str | None = None) -> str:
    if kind == "sessions":  # no weekly cap for sessions: its own words
        return say("opted_in_sessions", language)
    return say("opted_in", language, kind=kind_name(kind, language))


def opted_out(kinds: list[str], language: str | None = None) -> str:
    if len(kinds) == len(KINDS):
        return say("opted_out_all", language)
    joined = say("kinds_joined_negative", language).join(kind_name(k, language) for k in kinds)
    return say("opted_out", language, kinds=joined)


def confirm_stop(language: str | None = None) -> tuple[str, list[Button]]:
    """Asked in words ("stop the research stuff"): confirmed by a button first, because a word
    read wrongly must not turn off what she chose."""
    return say("confirm_stop", language), [
        (say("button_confirm_stop", language), "/optout_all"),
        (say("button_keep", language), "/research"),
    ]


def _body(header: str, note: str | None, text: str, context: str, footer: str) -> str:
    parts = [header, *([note] if note else []), text, *([context] if context else []), footer]
    return "\n\n".join(parts)


def research_message(
    question_id: int,
    kind: str,
    text: str,
    context: str,
    language: str | None = None,
    text_es: str | None = None,
    context_es: str | None = None,
) -> tuple[str, list[Button]]:
    """What an opted-in mother receives privately, by kind of research message, in her
    language: the reviewed Spanish version for a Spanish reader, or the English words with a
    line in Spanish before them saying it is only in English for now."""
    language = language_of(language)
    note = None
    if language == "es" and text_es:
        text, context = text_es, context_es or ""
    elif language == "es":
        note = say(f"only_in_english_{_kind_key(kind)}", language)
    if kind == "invitation":
        header, footer = say("invitation_header", language), say("invitation_footer", language)
        return _body(header, note, text, context, footer), []
    if kind == "results":
        header, footer = say("results_header", language), say("results_footer", language)
        return _body(header, note, text, context, footer), []
    header, footer = say("question_header", language), say("question_footer", language)
    return _body(header, note, text, context, footer), [
        (say("button_answer", language), f"/answer_{question_id}"),
        (say("button_skip", language), f"/skip_{question_id}"),
    ]


def _kind_key(kind: str) -> str:
    return kind if kind in ("invitation", "results") else "question"


def community_post(
    question_id: int,
    kind: str,
    text: str,
    context: str,
    text_es: str | None = None,
    context_es: str | None = None,
) -> str:
    """A question or invitation posted in a community channel (read by everyone there): in
    English, followed by the Spanish version when the reviewers added one."""

    def one(language: str, words: str, more: str) -> str:
        if kind == "invitation":
            return _body(
                say("invitation_header", language), None, words, more,
                say("community_invitation_footer", language),
            )  # fmt: skip
        return _body(
            say("question_header", language), None, words, more,
            say("community_question_footer", language, number=question_id),
        )  # fmt: skip

    post = one("en", text, context)
    if text_es:
        post += (
            "\n\n"
            + say("community_in_spanish", "es")
            + "\n\n"
            + one("es", text_es, context_es or "")
        )
    return post


def consent(
    question_id: int, quotes_allowed: bool, language: str | None = None
) -> tuple[str, list[Button]]:
    how = say("consent_quotes_allowed" if quotes_allowed else "consent_no_quotes", language)
    return say("consent", language, how=how), [
        (say("button_consent_yes", language), f"/consent_{question_id}"),
        (say("button_consent_no", language), f"/noconsent_{question_id}"),
    ]


def write_answer(language: str | None = None) -> str:
    return say("write_answer", language)


def answer_saved(question_id: int, language: str | None = None) -> tuple[str, list[Button]]:
    return say("answer_saved", language), [
        (say("button_withdraw", language), f"/withdraw_{question_id}")
    ]


def share_question(question_id: int, language: str | None = None) -> tuple[str, list[Button]]:
    """Asked after her answer is saved, separately: Mothers 101 is read by every researcher."""
    return say("share_question", language), [
        (say("button_share_yes", language), f"/share_yes_{question_id}"),
        (say("button_share_no", language), f"/share_no_{question_id}"),
    ]


def draft(number: int, question: str, language: str | None = None) -> tuple[str, list[Button]]:
    """Her question exactly as researchers would read it (de-identified), before it is sent."""
    return say("draft_question", language, question=question), [
        (say("button_send_question", language), f"/ask_send_{number}"),
        (say("button_drop_question", language), f"/ask_drop_{number}"),
    ]


def asked(number: int, language: str | None = None) -> str:
    return say("asked", language, number=number)


def researcher_answer(
    question: str, answer: str, number: int, language: str | None = None
) -> tuple[str, list[Button]]:
    return say("researcher_answer", language, question=question, answer=answer), [
        (say("button_library_yes", language), f"/library_yes_{number}"),
        (say("button_library_no", language), f"/library_no_{number}"),
    ]


def library(entries: list[tuple[str, str]], language: str | None = None) -> str:
    lines = [say("library_intro", language)]
    lines += [say("library_entry", language, question=q, answer=a) for q, a in entries]
    lines.append(say("library_outro", language))
    return "\n".join(lines)
