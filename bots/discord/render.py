"""Turning platform-neutral replies into Discord messages: the 2,000-character limit and
buttons as persistent views (their custom ids carry the payload, so they work after a restart)."""

from __future__ import annotations

import discord

from bots.text import split_text as _split
from community.messages import Button

MESSAGE_LIMIT = 2000
SAY_PREFIX = "say:"  # a member's button: the custom id carries the payload to send
CUSTOM_ID_LIMIT = 100


def split_text(text: str) -> list[str]:
    return _split(text, MESSAGE_LIMIT)


def buttons_view(buttons: tuple[Button, ...] | list[Button]) -> discord.ui.View | None:
    view = discord.ui.View(timeout=None)
    for button in buttons:
        custom_id = f"{SAY_PREFIX}{button.payload}"
        if len(custom_id) <= CUSTOM_ID_LIMIT:
            view.add_item(
                discord.ui.Button(
                    label=button.title[:80],
                    custom_id=custom_id,
                    style=discord.ButtonStyle.secondary,
                )
            )
    return view if view.children else None
