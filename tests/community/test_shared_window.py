"""The screen's window of her last few messages in Redis: two app processes (two screens) read
one window, so a crisis spread over messages that reach different processes is still seen; an
unreachable Redis never holds the screen up."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from community.shared_window import RedisRecentMessages
from safety import training
from safety.layered import LayeredScreen
from tests.conftest import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def _screen(base: LayeredScreen, window: RedisRecentMessages) -> LayeredScreen:
    assert base.learned is not None
    return LayeredScreen(
        base.screener, base._detector, base.learned, training.load_thresholds(), window
    )


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
def test_two_processes_read_one_window(layered_screen: LayeredScreen) -> None:
    key = f"test-{uuid.uuid4().hex}"
    first = _screen(layered_screen, RedisRecentMessages(REDIS_URL, 3, 300))
    second = _screen(layered_screen, RedisRecentMessages(REDIS_URL, 3, 300))
    try:
        first.decide("everything is too much and nobody would even notice", key=key)
        seen = second._context.recent(key)  # type: ignore[union-attr]
        assert [r.text for r in seen] == ["everything is too much and nobody would even notice"]
        decision = second.decide("i have them all lined up on the counter", key=key)
        assert decision.flagged, decision.as_dict()
        for n in range(5):
            second.decide(f"message {n}", key=key)
        assert len(first._context.recent(key)) == 3  # type: ignore[union-attr]
    finally:
        RedisRecentMessages(REDIS_URL, 3, 300).forget(key)
    assert RedisRecentMessages(REDIS_URL, 3, 300).recent(key) == []


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
def test_the_window_expires() -> None:
    key = f"test-{uuid.uuid4().hex}"
    now = [1000.0]
    window = RedisRecentMessages(REDIS_URL, 3, 60, clock=lambda: now[0])
    window.remember(key, "first", "en", 0.1, False)
    now[0] += 61
    assert window.recent(key) == []
    window.forget(key)


def test_an_unreachable_store_never_holds_the_screen_up(layered_screen: LayeredScreen) -> None:
    window = RedisRecentMessages(f"redis://127.0.0.1:{free_port()}/0", 3, 300)
    screen = _screen(layered_screen, window)
    started = time.monotonic()
    decision = screen.decide("i want to die tonight", key="k")
    assert decision.crisis
    for _ in range(20):  # after one failure the store is left alone: no wait at all
        screen.decide("where do i get narcan", key="k")
    assert time.monotonic() - started < 2.0
