"""Telegram updates handled in order within each chat, and side by side across chats.

python-telegram-bot handles one update at a time by default, so a handler that waits (a
moderator's Claim while the moderators' group is under flood control waits out Telegram's
`retry_after` to update the card) held up every other update, a mother's crisis included
(tests/bots/test_rate_limits.py: 3.1 s). Its `concurrent_updates(True)` would lose the order of
one mother's messages. This processor keeps each chat's updates in order and lets different
chats' updates run at once, up to a bound.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bots.ordering import KeyedOrder

MAX_CONCURRENT_UPDATES = 64


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._order = KeyedOrder()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        found = update.effective_chat if isinstance(update, Update) else None
        async with self._order.hold(found.id if found is not None else None):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
