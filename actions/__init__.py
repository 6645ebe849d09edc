"""Rasa custom actions, served by the action server (`python -m rasa_sdk --actions actions`)."""

from actions.dialogue import (
    ActionAskAffirmation,
    ActionFeeling,
    ActionFollowUp,
    ActionRememberFeeling,
)
from actions.language import ActionSetLanguage
from actions.resources import ActionFindHelp

__all__ = [
    "ActionAskAffirmation",
    "ActionFeeling",
    "ActionFindHelp",
    "ActionFollowUp",
    "ActionRememberFeeling",
    "ActionSetLanguage",
]
