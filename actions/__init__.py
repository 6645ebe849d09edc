"""Rasa custom actions, served by the action server (`python -m rasa_sdk --actions actions`)."""

from actions.resources import ActionFindHelp

__all__ = ["ActionFindHelp"]
