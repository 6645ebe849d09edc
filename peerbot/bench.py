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


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_handoff_benchmark(conversations: int = 200, database_url: str = "") -> Iterator[str]:
    """Start `peerbot serve` on a scratch SQLite database, send `conversations` crisis messages
    at once through the web API, and measure how long until each case is in the moderators'
    queue (GET /api/cases polled every 20 ms), from the moment its message was sent.
    With `database_url` (PostgreSQL), the run uses a throwaway schema there instead."""
    import asyncio
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from community.db import Database, migrate
    from community.settings import Settings
    from community.staff import add_staff

    with tempfile.TemporaryDirectory() as scratch, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        schema = ""
        if database_url:
            from sqlalchemy import create_engine, text

            from community.settings import sync_database_url

            schema = f"bench_{os.getpid()}"
            admin = create_engine(sync_database_url(database_url))
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            separator = "&" if "?" in database_url else "?"
            database_url = f"{database_url}{separator}options=-csearch_path%3D{schema}"
        else:
            database_url = f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        migrate(database_url)
        settings = Settings(var_dir=Path(scratch), database_url=database_url)

        async def moderator_token() -> str:
            database = Database.connect(settings.resolved_database_url)
            try:
                async with database.transaction() as session:
                    return await add_staff(session, "bench", "moderator")
            finally:
                await database.dispose()

        token = asyncio.run(moderator_token())
        env = dict(os.environ, PEERBOT_VAR_DIR=scratch, PEERBOT_DATABASE_URL=database_url,
                   PEERBOT_PORT=str(port), PEERBOT_RASA_URL="http://127.0.0.1:9")  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "peerbot.cli", "serve"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            kind = "PostgreSQL" if schema else "SQLite"
            yield from asyncio.run(
                _drive_handoff(f"http://127.0.0.1:{port}", token, conversations, kind)
            )
        finally:
            server.terminate()
            server.wait(timeout=15)
            if schema:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


async def _drive_handoff(base: str, token: str, conversations: int, database: str) -> list[str]:
    import asyncio

    import httpx

    limits = httpx.Limits(max_connections=conversations + 10)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        for _ in range(200):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        sent: dict[str, float] = {}
        answered: dict[str, float] = {}
        seen: dict[str, float] = {}
        done = asyncio.Event()

        async def converse(number: int) -> None:
            text = f"i want to kill myself tonight, message {number}"
            sent[text] = time.perf_counter()
            response = await client.post("/api/chat", json={"user": f"bench{number}", "text": text})
            response.raise_for_status()
            answered[text] = time.perf_counter() - sent[text]

        async def watch_queue() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            while not done.is_set():
                cases = (await client.get("/api/cases", headers=headers)).json()["cases"]
                now = time.perf_counter()
                for case in cases:
                    seen.setdefault(case["trigger"], now)
                if len(seen) >= conversations:
                    return
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch_queue())
        await asyncio.gather(*(converse(n) for n in range(conversations)))
        await asyncio.wait_for(watcher, timeout=60)
        done.set()

    visible = [seen[text] - sent[text] for text in sent]
    replies = list(answered.values())
    return [
        f"handoff: {conversations} simultaneous crisis conversations through the web API "
        f"({database})",
        f"  crisis reply latency: p50 {_percentile(replies, 0.5) * 1000:.0f} ms, "
        f"p99 {_percentile(replies, 0.99) * 1000:.0f} ms",
        f"  case visible to moderators after: p50 {_percentile(visible, 0.5) * 1000:.0f} ms, "
        f"p99 {_percentile(visible, 0.99) * 1000:.0f} ms, max {max(visible) * 1000:.0f} ms",
    ]
