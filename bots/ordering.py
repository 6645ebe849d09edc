"""In order within a conversation, side by side across conversations.

Chat libraries hand events over concurrently (discord.py runs each in its own task; peerbot's
Telegram update processor too), so two messages from one chat could be handled out of order: a
moderator's replies relayed second-first, her messages swapped in a case transcript. Holding a
first-in-first-out lock per chat for the whole handling keeps each chat's order, and different
chats still run at once. The lock is taken before the handler's first await, so the order is
the order the events arrived in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedOrder:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._holders: dict[Hashable, int] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody else waits on this chat: forget its lock
                del self._holders[key]
                del self._locks[key]
