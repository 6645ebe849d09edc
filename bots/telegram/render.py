"""Turning platform-neutral replies into Telegram messages: length limits and inline keyboards."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.messages import Button

MESSAGE_LIMIT = 4096  # Telegram's limit for one text message
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for a button's callback data
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut after a sentence or line where possible, else
    at a space, else anywhere; nothing is lost but the whitespace at the cuts."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(
            (m.end() for m in _SENTENCE_END.finditer(window) if m.start() <= limit), default=0
        )
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def keyboard(buttons: tuple[Button, ...] | list[Button]) -> InlineKeyboardMarkup | None:
    """One button per row (easy to tap on a phone); payloads too long for Telegram are left out."""
    rows = [
        [InlineKeyboardButton(b.title[:64], callback_data=b.payload)]
        for b in buttons
        if 0 < len(b.payload.encode()) <= CALLBACK_DATA_LIMIT
    ]
    return InlineKeyboardMarkup(rows) if rows else None
