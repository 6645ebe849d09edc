"""Telegram's flood control, waited out per chat.

python-telegram-bot's `AIORateLimiter` paces requests and retries a 429 (`RetryAfter`) after the
wait Telegram names, but while one request waits it halts every request of the bot. Telegram's
flood waits are mostly about one chat (a group's 20 messages a minute, a private chat sent too
much at once), so a flood-limited moderators' group during a burst of case cards, or a mother's
chat during a burst of moderator replies, held back the crisis reply to someone else for the
whole wait (tests/bots/test_rate_limits.py). Here a 429 holds back only requests to the chat it
came from; the pacing is the same as `AIORateLimiter`'s defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

Result = bool | dict[str, Any] | list[dict[str, Any]]
FLOOD_WAIT_MARGIN = 0.1  # seconds beyond Telegram's wait, as AIORateLimiter does


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # An int today, a timedelta in a later python-telegram-bot: either is read.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class PerChatRateLimiter(BaseRateLimiter[int]):
    """At most 30 requests a second in all and 20 a minute per group or channel (Telegram's
    limits); a 429 is retried up to `max_retries` times after its wait, during which only
    requests to the same chat wait too."""

    def __init__(self, max_retries: int) -> None:
        self._max_retries = max_retries
        self._overall = AsyncLimiter(FloodLimit.MESSAGES_PER_SECOND, 1)
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._held_until: dict[int | str | None, float] = {}  # chat -> loop time the wait ends

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        chat = _chat_key(data.get("chat_id"))
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        attempt = 0
        while True:
            await self._flood_wait(chat)
            try:
                async with (
                    self._group(chat) if group and chat is not None else contextlib.nullcontext(),
                    self._overall if chat is not None else contextlib.nullcontext(),
                ):
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                # Held even when giving up: the next request to this chat (the delivery loop's
                # next round) must wait too.
                loop_time = asyncio.get_running_loop().time()
                until = loop_time + _retry_after_seconds(error) + FLOOD_WAIT_MARGIN
                self._held_until[chat] = max(self._held_until.get(chat, 0.0), until)
                if attempt >= retries:
                    raise
                attempt += 1

    async def _flood_wait(self, chat: int | str | None) -> None:
        """Wait while this chat is under a flood wait (another request to it may extend it)."""
        loop = asyncio.get_running_loop()
        while (until := self._held_until.get(chat)) is not None:
            if until <= loop.time():
                self._held_until.pop(chat, None)
                return
            await asyncio.sleep(until - loop.time())

    def _group(self, chat: int | str) -> AsyncLimiter:
        limiter = self._groups.get(chat)
        if limiter is None:
            limiter = self._groups[chat] = AsyncLimiter(
                FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP, 60
            )
        return limiter


def _chat_key(chat_id: object) -> int | str | None:
    """An integer chat id, as Telegram counts chats (a "-100…" string is the same chat)."""
    if chat_id is None:
        return None
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)  # "@channelname"
