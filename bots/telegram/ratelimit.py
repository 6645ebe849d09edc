"""Telegram's flood control, waited out per chat.

python-telegram-bot's `AIORateLimiter` paces requests and retries a 429 (`RetryAfter`) after the
wait Telegram names, but while one request waits it halts every request of the bot. Telegram's
flood waits are mostly about one chat (a group's 20 messages a minute, a private chat sent too
much at once), so a flood-limited moderators' group during a burst of case cards, or a mother's
chat during a burst of moderator replies, held back the crisis reply to someone else for the
whole wait (tests/bots/test_rate_limits.py). Here a 429 holds back only requests to the chat it
came from; the pacing is the same as `AIORateLimiter`'s defaults.

A group's 20 messages a minute are shared by new case cards and the live conversation in case
topics. After a burst of cards the queue is minutes long, and a moderator who pressed Claim, or a
mother's next message relayed to the moderator talking with her, waited behind all of it. Sends
made `ahead_of_cards()` take the group's next free slot before any new card does.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

Result = bool | dict[str, Any] | list[dict[str, Any]]
FLOOD_WAIT_MARGIN = 0.1  # seconds beyond Telegram's wait, as AIORateLimiter does

_ahead: ContextVar[bool] = ContextVar("peerbot_telegram_ahead_of_cards", default=False)


@contextlib.contextmanager
def ahead_of_cards() -> Iterator[None]:
    """Sends to a group made inside this block go before queued new case cards: answers to a
    moderator's own action and the conversation in a case topic."""
    token = _ahead.set(True)
    try:
        yield
    finally:
        _ahead.reset(token)


class GroupPace:
    """A leaky bucket of `rate` sends per `period` seconds for one chat (as `AsyncLimiter`),
    whose waiters go in order of lane, then arrival: the "ahead" lane first."""

    def __init__(self, rate: float, period: float) -> None:
        self._capacity = rate
        self._drain_per_second = rate / period
        self._level = 0.0
        self._last = 0.0
        self._tickets = itertools.count()
        self._waiting: list[tuple[int, int]] = []  # (lane, arrival): a heap
        self._changed = asyncio.Condition()

    def _drain(self, now: float) -> None:
        self._level = max(0.0, self._level - (now - self._last) * self._drain_per_second)
        self._last = now

    async def acquire(self, ahead: bool) -> None:
        loop = asyncio.get_running_loop()
        ticket = (0 if ahead else 1, next(self._tickets))
        async with self._changed:
            heapq.heappush(self._waiting, ticket)
            try:
                while True:
                    self._drain(loop.time())
                    room = self._level + 1 <= self._capacity
                    if room and self._waiting[0] == ticket:
                        heapq.heappop(self._waiting)
                        self._level += 1
                        self._changed.notify_all()  # the next in line looks again
                        return
                    # Not first, or no room: look again when a drop has drained or the line moves.
                    delay = (
                        None
                        if room
                        else (self._level + 1 - self._capacity) / self._drain_per_second
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), delay)
            except BaseException:
                if ticket in self._waiting:  # cancelled while waiting: leave the line
                    self._waiting.remove(ticket)
                    heapq.heapify(self._waiting)
                    self._changed.notify_all()
                raise

    async def __aenter__(self) -> None:
        await self.acquire(_ahead.get())

    async def __aexit__(self, *exc: object) -> None:
        """A slot is used once taken, as Telegram counts it."""


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

    def __init__(
        self,
        max_retries: int,
        group_rate: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        group_period: float = 60,
    ) -> None:
        self._max_retries = max_retries
        self._group_pace = (group_rate, group_period)
        self._overall = AsyncLimiter(FloodLimit.MESSAGES_PER_SECOND, 1)
        self._groups: dict[int | str, GroupPace] = {}
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

    def _group(self, chat: int | str) -> GroupPace:
        pace = self._groups.get(chat)
        if pace is None:
            pace = self._groups[chat] = GroupPace(*self._group_pace)
        return pace


def _chat_key(chat_id: object) -> int | str | None:
    """An integer chat id, as Telegram counts chats (a "-100…" string is the same chat)."""
    if chat_id is None:
        return None
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)  # "@channelname"
