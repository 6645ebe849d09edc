"""Turning platform-neutral replies into Telegram messages: length limits and inline keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.text import split_text as _split
from community.messages import Button

MESSAGE_LIMIT = 4096  # Telegram's limit for one text message
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for a button's callback data


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    return _split(text, limit)


def keyboard(buttons: tuple[Button, ...] | list[Button]) -> InlineKeyboardMarkup | None:
    """One button per row (easy to tap on a phone); payloads too long for Telegram are left out."""
    rows = [
        [InlineKeyboardButton(b.title[:64], callback_data=b.payload)]
        for b in buttons
        if 0 < len(b.payload.encode()) <= CALLBACK_DATA_LIMIT
    ]
    return InlineKeyboardMarkup(rows) if rows else None
