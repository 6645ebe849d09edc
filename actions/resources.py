"""The resource finder: answers "find me help with X (in STATE)" from the vetted directory.

The topic comes from the intent (help_housing, ...) or, for a general request, from words in the
message; the state from the message. With nothing local known, national entries answer, and the
reply says so. Safety-at-home answers name services neutrally, in case someone reads her phone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from community.resources import (
    CORE_RESOURCE_IDS,
    DISCREET_NAME,
    REVIEW_NOTE,
    US_STATES,
    Resource,
    ResourceDirectory,
    default_directory,
    state_named_in,
)

INTENT_TOPICS: dict[str, tuple[str, ...]] = {
    "help_housing": ("housing",),
    "help_transportation": ("transportation",),
    "help_childcare": ("childcare",),
    "help_benefits": ("benefits", "food"),
    "help_violence": ("violence",),
}
DISCREET_TOPICS = {"violence"}
EMERGENCY_ID = "emergency_911"
LOCAL_REFERRAL_ID = "help_211"  # 211 knows local services where the directory has none
VIOLENCE_NOTE = (
    "If it's safe to talk, these are free and confidential, and you can text if a call isn't "
    "safe. If you're in danger right now, call 911. You can clear this chat afterwards."
)
TALK_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}


def _line(resource: Resource, discreet: bool) -> str:
    line = resource.contact_line()
    if discreet and resource.phone != resource.name and line.startswith(resource.name):
        line = DISCREET_NAME + line[len(resource.name) :]
    return f"• {line}"


def find_help_text(
    intent: str, text: str, directory: ResourceDirectory, today: date | None = None
) -> str:
    """The whole reply for a help request; pure, so it is tested without Rasa."""
    state = state_named_in(text)
    topics = list(INTENT_TOPICS.get(intent, ())) or directory.topics_named_in(text)
    discreet = bool(DISCREET_TOPICS & set(topics))
    if topics:
        found = directory.for_topics(topics, state)
        if discreet:  # the note above the list already says to call 911 in danger
            found = [r for r in found if r.id != EMERGENCY_ID]
    else:
        found = [directory.get(i) for i in CORE_RESOURCE_IDS]
    label = " and ".join(directory.topics[t].label for t in topics[:2]) if topics else ""

    has_local = any(r.region == state for r in found)
    if discreet:
        heading = VIOLENCE_NOTE
    elif state and not has_local:
        heading = (
            f"I don't have checked local services for {US_STATES[state]} yet, so here are "
            f"national ones{' for ' + label if label else ''}. 211 can point you to help nearby:"
        )
        if LOCAL_REFERRAL_ID not in {r.id for r in found}:
            found.append(directory.get(LOCAL_REFERRAL_ID))
    elif label:
        heading = f"For {label}, these can help:"
    else:
        heading = "Here are places that can help, any time:"
    lines = [heading, *(_line(r, discreet) for r in found)]
    if any(r.is_due_for_review(today) for r in found):
        lines.append(REVIEW_NOTE)
    return "\n".join(lines)


class ActionFindHelp(Action):
    """Answers every help_* intent from the vetted directory."""

    def name(self) -> str:
        return "action_find_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = str((message.get("intent") or {}).get("name") or "help_resources")
        text = str(message.get("text") or "")
        dispatcher.utter_message(
            text=find_help_text(intent, text, default_directory()), buttons=[TALK_BUTTON]
        )
        return []
