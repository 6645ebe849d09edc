"""Rate limits against floods: per address and overall for the public chat, stricter for new
chats, and the test that turns a burst of crisis messages from new chats into one alert.

The counters are sliding-window counters from the `limits` library (this window's count plus the
last window's, weighted by how much of it is still inside), kept in this process's memory, or in
Redis (`PEERBOT_REDIS_URL`) when several app processes share the load. Not moving windows: their
in-memory store walked every key, each through a thread, on every hit: work that grows with
everyone writing. Addresses and words are
counted under keyed hashes, never as themselves. If the store fails (Redis away), every limit
lets the message through: a limit must never be the reason a crisis goes unanswered.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)

SAMPLE_CHARS = 300
# Redis connections per app process, and how long a request waits for a free one before its
# limit lets it through (as when Redis is away).
REDIS_POOL_SIZE = 20
REDIS_POOL_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class FloodLimits:
    """Each a `limits` string ("N/minute", "N per 10 minutes")."""

    # Every message to the public chat from one address, and from everyone together.
    per_address: str = "60/minute"
    overall: str = "1200/minute"
    # New chats (a `user` id never seen) started from one address.
    new_chats_per_address: str = "10/hour"
    # Crisis messages from new chats that still open a case each, from one address or with the
    # same words, before the rest are counted into one flood alert.
    crises_per_address: str = "2 per 10 minutes"
    crises_same_words: str = "2 per 10 minutes"
    # What one member's messages to an open case keep in full (a person reads them all).
    case_messages: str = "30/minute"
    case_characters: str = "20000/hour"


@dataclass(frozen=True)
class Flood:
    """A crisis message that belongs to a flood: counted into the alert of this kind and
    signature ("address" or "words")."""

    kind: str
    signature: str
    sample: str


@dataclass(frozen=True)
class CrisisFromNewChat:
    """What the guard found about a crisis message from a new chat: the flood it belongs to, if
    any, and its signatures (kept on a case it opens, so a flood that follows can gather it)."""

    flood: Flood | None
    address_signature: str | None
    words_signature: str


def _words(text: str) -> str:
    """The same words whatever the case, accents, punctuation, digits and spacing."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if c.isalpha() or c.isspace())
    return " ".join(letters.split())


class FloodGuard:
    def __init__(
        self, key: bytes, storage_url: str | None = None, limits: FloodLimits | None = None
    ) -> None:
        chosen = limits or FloodLimits()
        self._key = key
        self._pool: Any = None
        # What this guard's connections are called in Redis's CLIENT LIST: whose they are.
        self.store_name = f"peerbot-limits-{os.getpid()}-{id(self):x}"
        if storage_url:
            import redis.asyncio

            # Bounded: a burst of 200 crises opened a Redis connection for nearly every one
            # (redis-py's pool grows without limit), each with its handshake and a read of the
            # library's own version from its package metadata, about 1 ms of CPU. Requests
            # beyond the pool wait briefly for a connection instead.
            self._pool = redis.asyncio.BlockingConnectionPool.from_url(
                storage_url,
                max_connections=REDIS_POOL_SIZE,
                timeout=REDIS_POOL_TIMEOUT_SECONDS,
                client_name=self.store_name,
            )
            storage = storage_from_string(
                f"async+{storage_url}", implementation="redispy", connection_pool=self._pool
            )
        else:
            storage = storage_from_string("async+memory://")
        if not isinstance(storage, Storage):  # pragma: no cover - "async+" always gives one
            raise TypeError("an asyncio rate-limit storage was expected")
        self._storage = storage
        self._shared = bool(storage_url)
        self._burst_items: dict[tuple[int, int], tuple[RateLimitItem, RateLimitItem]] = {}
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {
            name: parse(getattr(chosen, name))
            for name in (
                "per_address",
                "overall",
                "new_chats_per_address",
                "crises_per_address",
                "crises_same_words",
                "case_messages",
                "case_characters",
            )
        }

    def signature(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:32]

    async def _hit(self, name: str, *identifiers: str, cost: int = 1) -> bool:
        try:
            return await self._limiter.hit(
                self._items[name], "peerbot", name, *identifiers, cost=cost
            )
        except Exception as error:  # the store is away: let it through
            log.warning("rate limit store failed", extra={"error": type(error).__name__})
            return True

    @property
    def shared(self) -> bool:
        """Whether the counters are shared by app processes (Redis)."""
        return self._shared

    async def member_burst(self, member: str, limit: int, seconds: float) -> str:
        """The gateway's burst check for one member, counted where every app process sees it:
        "ok", "warn" for the first message over `limit` in `seconds`, then "quiet" until the
        window moves on. `member` is hashed here."""
        who = self.signature("member-burst", member)
        window = max(1, round(seconds))
        burst = self._burst_items.setdefault(
            (limit, window),
            (parse(f"{limit} per {window} seconds"), parse(f"1 per {window} seconds")),
        )
        try:
            if await self._limiter.hit(burst[0], "peerbot", "burst", who):
                return "ok"
            return (
                "warn" if await self._limiter.hit(burst[1], "peerbot", "warned", who) else "quiet"
            )
        except Exception as error:  # the store is away: answer her
            log.warning("rate limit store failed", extra={"error": type(error).__name__})
            return "ok"

    async def allow_message(self, address: str | None) -> bool:
        """A message to the public chat, within its address's and everyone's limits."""
        within = await self._hit("overall")
        if address is not None:
            within = await self._hit("per_address", self.signature("address", address)) and within
        return within

    async def allow_new_chat(self, address: str | None) -> bool:
        if address is None:
            return True
        return await self._hit("new_chats_per_address", self.signature("address", address))

    async def within_case_budget(self, member: str, characters: int) -> bool:
        """Whether her message to an open case is within what the transcript keeps in full
        (`member` is her pseudonym, hashed again here)."""
        who = self.signature("member", member)
        within_count = await self._hit("case_messages", who)
        within_size = await self._hit("case_characters", who, cost=max(1, characters))
        return within_count and within_size

    async def crisis_from_new_chat(self, address: str | None, text: str) -> CrisisFromNewChat:
        """For a crisis message from a new chat: whether it may open a case of its own, or
        belongs to a flood (one address, or the same words from many)."""
        sample = text[:SAMPLE_CHARS]
        words = self.signature("words", _words(text))
        where = self.signature("address", address) if address is not None else None
        same_words_within = await self._hit("crises_same_words", words)
        if where is not None and not await self._hit("crises_per_address", where):
            return CrisisFromNewChat(Flood("address", where, sample), where, words)
        if not same_words_within:
            return CrisisFromNewChat(Flood("words", words, sample), where, words)
        return CrisisFromNewChat(None, where, words)

    async def warm(self) -> int:
        """Open the Redis pool's connections now, all at once (none for memory); returns how
        many answered. Best-effort: a Redis that is away is met later, as always."""
        if self._pool is None:
            return 0
        import redis.asyncio

        client: Any = redis.asyncio.Redis(connection_pool=self._pool)
        answers = await asyncio.gather(
            *(client.ping() for _ in range(REDIS_POOL_SIZE)), return_exceptions=True
        )
        failed = next((a for a in answers if isinstance(a, BaseException)), None)
        if failed is not None:
            log.warning("rate limit store not warmed", extra={"error": type(failed).__name__})
        return sum(1 for a in answers if not isinstance(a, BaseException))

    async def close(self) -> None:
        """Nothing to release for memory; Redis connections close with the process."""
