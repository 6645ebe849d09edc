"""Custom actions that answer from the vetted resource directory."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from community.resources import core_resources_text, default_directory


class ActionCoreResources(Action):
    """Lists the core national resources, warning if any is past its review date."""

    def name(self) -> str:
        return "action_core_resources"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        directory = default_directory()
        text = "Here are places that can help, any time:\n" + core_resources_text(directory)
        if directory.due_for_review():
            text += (
                "\n(Our team is re-checking some of these details; "
                "they were right when last checked.)"
            )
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": "Talk to a person", "payload": "/request_human"},
                {"title": "Medication for OUD", "payload": "/faq_moud"},
            ],
        )
        return []
