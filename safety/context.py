"""Her last few messages, in memory only, so the screen can read a crisis that unfolds slowly.

"I can't do this anymore" and then "I have the pills right here" may each look unclear; together
they are not. The window keeps at most a few messages per conversation for a few minutes, is
never written anywhere, and is forgotten when the process stops. Keys are opaque (the gateway
passes a hash, never a platform id).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_MESSAGES = 3
DEFAULT_SECONDS = 300.0
# Bounded so a flood of new senders cannot grow memory without limit; the oldest go first.
DEFAULT_CONVERSATIONS = 20_000


@dataclass(frozen=True)
class Recent:
    text: str
    at: float
    language: str
    # How worried the screen was by the window ending with this message (its learned score):
    # context only counts when the new message adds to what was already seen.
    window_score: float
    flagged: bool  # this message already led to a crisis or a check


class RecentWindow(Protocol):
    """Where the screen reads and keeps her last few messages: this process's memory
    (`RecentMessages`), or a store several app processes share (community/shared_window.py)."""

    def recent(self, key: str) -> list[Recent]: ...

    def remember(
        self, key: str, text: str, language: str, window_score: float, flagged: bool
    ) -> None: ...

    def forget(self, key: str) -> None: ...


class RecentMessages:
    def __init__(
        self,
        messages: int = DEFAULT_MESSAGES,
        seconds: float = DEFAULT_SECONDS,
        conversations: int = DEFAULT_CONVERSATIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._messages = messages
        self._seconds = seconds
        self._conversations = conversations
        self._clock = clock
        self._windows: OrderedDict[str, deque[Recent]] = OrderedDict()

    def recent(self, key: str) -> list[Recent]:
        window = self._windows.get(key)
        if not window:
            return []
        cutoff = self._clock() - self._seconds
        while window and window[0].at < cutoff:
            window.popleft()
        if not window:
            del self._windows[key]
            return []
        return list(window)

    def remember(
        self, key: str, text: str, language: str, window_score: float, flagged: bool
    ) -> None:
        if self._messages <= 0:
            return
        window = self._windows.pop(key, None) or deque(maxlen=self._messages)
        window.append(Recent(text[:2000], self._clock(), language, window_score, flagged))
        self._windows[key] = window
        while len(self._windows) > self._conversations:
            self._windows.popitem(last=False)

    def forget(self, key: str) -> None:
        self._windows.pop(key, None)

    def __len__(self) -> int:
        return len(self._windows)
