"""What mothers read about discussion sessions, in her language, from the reviewed words in
`wording.yml` (checked like the research wording: both languages, the same {fields}). Buttons
are (title, payload) pairs; the payloads are the commands `bots/session_flow.py` reads.

The place or link is filled in only by the functions for those who said yes (`rsvp_yes`,
`moved_up`, `reminder` with `yes=True`): every other message says it comes with a yes.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import yaml

from community.her_time import say_moment, zone_name
from community.research.texts import Button, language_of, validate_wording
from community.sessions.models import DiscussionSession

WORDING_PATH = Path(__file__).resolve().parent / "wording.yml"


@cache
def wording() -> dict[str, dict[str, str]]:
    """The reviewed words, read and checked once (on first use, never at import)."""
    with WORDING_PATH.open(encoding="utf-8") as handle:
        return validate_wording(yaml.safe_load(handle))


def say(key: str, language: str | None, **fields: object) -> str:
    text = wording()[key][language_of(language)]
    return text.format(**fields) if fields else text


def when(starts_at: datetime, zone: str, language: str | None) -> str:
    """ "Tuesday, December 8, 6:00 PM (Eastern time)", in the community's time zone."""
    lang = language_of(language)
    return f"{say_moment(starts_at, zone, lang)} ({zone_name(zone, lang)})"


def topic_in(item: DiscussionSession, language: str | None) -> str:
    return item.topic_es if language_of(language) == "es" and item.topic_es else item.topic


def rsvp_buttons(session_id: int, language: str | None) -> list[Button]:
    return [
        (say("button_yes", language), f"/session_yes_{session_id}"),
        (say("button_maybe", language), f"/session_maybe_{session_id}"),
        (say("button_no", language), f"/session_no_{session_id}"),
        (say("button_ask", language), f"/session_ask_{session_id}"),
    ]


def _facts(item: DiscussionSession, zone: str, language: str | None) -> str:
    key = "announce_facts_online" if item.online else "announce_facts_place"
    return say(
        key, language, when=when(item.starts_at, zone, language), host=item.host_name,
        capacity=item.capacity,
    )  # fmt: skip


def _described(item: DiscussionSession, language: str) -> list[str]:
    """The topic and details in her language: the reviewed Spanish version, or the English
    words after a line saying it is only in English for now."""
    if language == "es" and item.topic_es:
        return [item.topic_es, *([item.details_es] if item.details_es else [])]
    note = [say("only_in_english", language)] if language == "es" else []
    return [*note, item.topic, *([item.details] if item.details else [])]


def announcement(
    item: DiscussionSession, zone: str, language: str | None
) -> tuple[str, list[Button]]:
    """What an opted-in mother receives privately: no place or link in it."""
    lang = language_of(language)
    parts = [
        say("announce_header", lang),
        *_described(item, lang),
        _facts(item, zone, lang),
        say("announce_footer", lang),
    ]
    return "\n\n".join(parts), rsvp_buttons(item.id, lang)


def community_post(item: DiscussionSession, zone: str) -> str:
    """The post in a community channel: English, then the Spanish version when reviewers added
    one. No place or link: those go privately, to each mother who says yes."""

    def one(language: str) -> str:
        return "\n\n".join(
            [
                say("announce_header", language),
                *_described(item, language),
                _facts(item, zone, language),
                say("community_footer", language, number=item.id),
            ]
        )

    post = one("en")
    if item.topic_es:
        post += "\n\n" + say("community_in_spanish", "es") + "\n\n" + one("es")
    return post


def rsvp_yes(item: DiscussionSession, language: str | None) -> tuple[str, list[Button]]:
    key = "rsvp_yes_online" if item.online else "rsvp_yes_place"
    return say(key, language, place=item.place), [
        (say("button_no_longer", language), f"/session_no_{item.id}"),
        (say("button_ask", language), f"/session_ask_{item.id}"),
    ]


def moved_up(item: DiscussionSession, zone: str, language: str | None) -> tuple[str, list[Button]]:
    key = "moved_up_online" if item.online else "moved_up_place"
    text = say(
        key, language, topic=topic_in(item, language), when=when(item.starts_at, zone, language),
        place=item.place,
    )  # fmt: skip
    return text, [(say("button_no_longer", language), f"/session_no_{item.id}")]


def reminder(
    item: DiscussionSession, kind: str, yes: bool, zone: str, language: str | None
) -> tuple[str, list[Button]]:
    """The day-before or hour-before reminder: with the place for a yes; for a maybe, how to
    get it (a yes, if there is room)."""
    which = "day" if kind == "day_before" else "hour"
    fields: dict[str, object] = {
        "topic": topic_in(item, language),
        "when": when(item.starts_at, zone, language),
    }
    if yes:
        return say(f"reminder_{which}_yes", language, place=item.place, **fields), [
            (say("button_no_longer", language), f"/session_no_{item.id}")
        ]
    return say(f"reminder_{which}_maybe", language, **fields), [
        (say("button_yes", language), f"/session_yes_{item.id}"),
        (say("button_no", language), f"/session_no_{item.id}"),
    ]


def feedback_worth(item: DiscussionSession, language: str | None) -> tuple[str, list[Button]]:
    return say("feedback_worth", language, topic=topic_in(item, language)), [
        (say("button_worth_yes", language), f"/feedback_yes_{item.id}"),
        (say("button_worth_some", language), f"/feedback_some_{item.id}"),
        (say("button_worth_no", language), f"/feedback_no_{item.id}"),
    ]


def feedback_better(session_id: int, language: str | None) -> tuple[str, list[Button]]:
    return say("feedback_better", language), [
        (say("button_skip", language), f"/feedback_skip_{session_id}")
    ]


def cancelled(item: DiscussionSession, zone: str, language: str | None) -> str:
    return say(
        "cancelled", language, topic=topic_in(item, language),
        when=when(item.starts_at, zone, language),
    )  # fmt: skip
