"""Benchmarks, run by `peerbot benchmark` (figures are reported, never asserted in tests)."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator

from safety.screen import default_screener

# Realistic short messages: mostly everyday talk, some crises, as the screen sees them.
SAMPLE_MESSAGES = (
    "picked up my subs today, feeling ok",
    "how long does nas last for babies on methadone",
    "does anyone know where to get narcan around here",
    "my toddler is killing me today lol",
    "i took a handful of pills",
    "what is a plan of safe care",
    "baby wont stop crying and im so tired",
    "hi",
    "i want to die",
    "my partner choked me last night",
    "can i breastfeed on bupe",
    "2 years clean today!!",
)
LONG_MESSAGE_CHARS = 10_000


def run_screen_benchmark(count: int, seed: int = 7) -> Iterator[str]:
    screener = default_screener()
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    messages = [rng.choice(SAMPLE_MESSAGES) for _ in range(count)]
    for message in messages[:100]:  # warm caches
        screener.screen(message)
    started = time.perf_counter()
    for message in messages:
        screener.screen(message)
    elapsed = time.perf_counter() - started
    yield f"screen throughput: {count / elapsed:,.0f} messages/s on one core ({count} messages)"

    timings = []
    for _ in range(200):
        words = [rng.choice(SAMPLE_MESSAGES) for _ in range(400)]
        long_text = " ".join(words)[:LONG_MESSAGE_CHARS]
        started = time.perf_counter()
        screener.screen(long_text)
        timings.append(time.perf_counter() - started)
    yield (
        f"screen time for a {LONG_MESSAGE_CHARS:,}-character message (200 runs): "
        f"worst {max(timings) * 1000:.2f} ms, median {statistics.median(timings) * 1000:.2f} ms"
    )
