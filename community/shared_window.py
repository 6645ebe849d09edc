"""The crisis screen's window of her last few messages, in Redis, so that every app process
reads the same window: a crisis that unfolds over several messages is seen whichever process
each message reaches.

Each conversation's window is one Redis list under an opaque key (the gateway's hash, never a
platform id), trimmed to the last few messages and expiring with the window
(`PEERBOT_SCREEN_CONTEXT_SECONDS`, minutes). Nothing else is kept and we never write it to
disk; a Redis configured to persist would, so PRIVACY.md says to run it without persistence.
The screen must never wait on it: short timeouts, and after a failure the store is left alone
for a while and each message is screened on its own, as it is with the window empty.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from safety.context import Recent

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.2
PAUSE_AFTER_FAILURE_SECONDS = 10.0
PREFIX = "peerbot:window:"


class RedisRecentMessages:
    def __init__(
        self,
        url: str,
        messages: int,
        seconds: float,
        clock: Callable[[], float] = time.time,  # wall time: shared by processes
    ) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        self._messages = messages
        self._seconds = seconds
        self._clock = clock
        self._paused_until = 0.0

    def _usable(self) -> bool:
        return time.monotonic() >= self._paused_until

    def _failed(self, error: Exception) -> None:
        log.warning("screen window store failed", extra={"error": type(error).__name__})
        self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS

    def recent(self, key: str) -> list[Recent]:
        if not self._usable():
            return []
        try:
            raw = self._redis.lrange(PREFIX + key, 0, -1)
        except Exception as error:
            self._failed(error)
            return []
        cutoff = self._clock() - self._seconds
        window = [Recent(**json.loads(item)) for item in raw]  # type: ignore[union-attr]
        return [r for r in window if r.at >= cutoff]

    def remember(
        self, key: str, text: str, language: str, window_score: float, flagged: bool
    ) -> None:
        if self._messages <= 0 or not self._usable():
            return
        item = Recent(text[:2000], self._clock(), language, window_score, flagged)
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(PREFIX + key, json.dumps(item.__dict__))
                pipe.ltrim(PREFIX + key, -self._messages, -1)
                pipe.expire(PREFIX + key, max(1, int(self._seconds)))
                pipe.execute()
        except Exception as error:
            self._failed(error)

    def forget(self, key: str) -> None:
        try:
            self._redis.delete(PREFIX + key)
        except Exception as error:
            self._failed(error)
