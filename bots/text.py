"""Platform-neutral text helpers for adapters."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_text(text: str, limit: int) -> list[str]:
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
