"""Rasa custom actions, served by the action server (`python -m rasa_sdk --actions actions`)."""

from actions.resources import ActionCoreResources

__all__ = ["ActionCoreResources"]
