"""Per-member flood control: a burst gets one calm "slow down", never a pile of bot answers.

In memory and per process (a burst is seconds long; nothing here needs to survive a restart).
Keys are the adapter's own identity of the member and are never logged. The crisis screen runs
before this, so a flood never delays or hides a crisis.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

# Forget members idle this long, so the table stays small.
IDLE_SECONDS = 300.0


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False


class FloodControl:
    """At most `limit` messages per `seconds` per member go on to the dialogue core."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._windows: dict[str, _Window] = {}
        self._last_prune = time.monotonic()

    def check(self, key: str, now: float | None = None) -> str:
        """ "ok" to answer, "warn" for the first message over the limit, "quiet" after that."""
        now = time.monotonic() if now is None else now
        self._prune(now)
        window = self._windows.setdefault(key, _Window())
        while window.times and now - window.times[0] >= self.seconds:
            window.times.popleft()
        if len(window.times) < self.limit:
            window.times.append(now)
            window.warned = False
            return "ok"
        if window.warned:
            return "quiet"
        window.warned = True
        return "warn"

    def _prune(self, now: float) -> None:
        if now - self._last_prune < IDLE_SECONDS:
            return
        self._last_prune = now
        idle = [
            k for k, w in self._windows.items() if not w.times or now - w.times[-1] > IDLE_SECONDS
        ]
        for key in idle:
            del self._windows[key]
