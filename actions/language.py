"""Which language the answers are in: the `language` slot, filled on every message from the
language the gateway decided for her (sent as the message's metadata, `{"language": "es"}`).

The gateway decides (her choice, the platform's hint, a run of messages in the other language:
bots/member_language.py); Rasa only carries it, so responses pick their Spanish variation by a
slot condition (responses/*.yml) and the custom actions write in the same language.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"


def language_of(tracker: Tracker) -> str:
    """The slot's value, English when unset or unknown."""
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


class ActionSetLanguage(Action):
    """The slot's custom mapping: run by Rasa's action_extract_slots after each message."""

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        metadata = tracker.latest_message.get("metadata") or {}
        wanted = metadata.get("language") if isinstance(metadata, dict) else None
        language = wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE
        if tracker.get_slot("language") == language:
            return []
        return [SlotSet("language", language)]
