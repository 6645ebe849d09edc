"""Benchmarks, run by `peerbot benchmark` (figures are reported, never asserted in tests)."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from community.db import Database
from community.settings import Settings
from community.staff import add_staff
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
    yield from run_layered_benchmark(min(count, 20_000), seed)


def run_layered_benchmark(
    count: int, seed: int = 7, models_dir: Path | None = None
) -> Iterator[str]:
    """Every layer on (rules, learned signal with the encoder, her recent messages): the time
    for one chat message as the gateway screens it, and `peerbot safety-check`'s batch rate
    over `count` messages including its start-up (a fresh process)."""
    import json
    import subprocess
    import sys

    from community.settings import PROJECT_ROOT
    from safety.context import RecentMessages
    from safety.training import build_screen

    models = models_dir or PROJECT_ROOT / "models"
    started = time.perf_counter()
    screen = build_screen(models, context=RecentMessages())
    loaded = time.perf_counter() - started
    yield f"layered screen: {screen.layers}, loaded in {loaded:.2f} s"
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    for index in range(50):  # warm caches
        screen.decide(rng.choice(SAMPLE_MESSAGES), key=f"warm{index % 5}")
    timings = []
    for index in range(2_000):
        message = rng.choice(SAMPLE_MESSAGES)
        begun = time.perf_counter()
        screen.decide(message, key=f"member{index % 40}")  # with her recent messages
        timings.append(time.perf_counter() - begun)
    p50, p99 = _percentile(timings, 0.5) * 1000, _percentile(timings, 0.99) * 1000
    yield (
        f"one chat message, every layer (2,000 messages, 40 conversations): "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    lines = "\n".join(json.dumps({"text": rng.choice(SAMPLE_MESSAGES)}) for _ in range(count))
    begun = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "safety-check"],
        input=lines,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    elapsed = time.perf_counter() - begun
    answered = len(done.stdout.splitlines())
    yield (
        f"peerbot safety-check, {answered:,} messages including start-up: {elapsed:.1f} s, "
        f"{answered / elapsed:,.0f} messages/s"
    )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_handoff_benchmark(
    conversations: int = 200, database_url: str = "", workers: int = 1, redis_url: str = ""
) -> Iterator[str]:
    """Start `peerbot serve` on a scratch SQLite database, send `conversations` crisis messages
    at once through the web API, and measure how long until each case is in the moderators'
    queue (GET /api/cases polled every 20 ms), from the moment its message was sent.
    With `database_url` (PostgreSQL), the run uses a throwaway schema there instead; with
    `workers` (and `redis_url`), that many app processes serve it."""
    import asyncio

    with _served_app(database_url, workers, redis_url) as (base, token, settings, kind):
        if workers > 1:
            kind = f"{kind}, {workers} workers"
        yield from asyncio.run(
            _drive_handoff(base, token, conversations, kind, settings.resolved_database_url)
        )


@contextmanager
def _served_app(
    database_url: str = "", workers: int = 1, redis_url: str = ""
) -> Iterator[tuple[str, str, Settings, str]]:
    """`peerbot serve` on a scratch database (SQLite, or a throwaway PostgreSQL schema) with
    Rasa away, and a moderator's token: (base URL, token, settings, "SQLite" or "PostgreSQL")."""
    import asyncio
    import os
    import subprocess
    import sys
    import tempfile

    with (
        tempfile.TemporaryDirectory() as scratch,
        _scratch_database(database_url, Path(scratch)) as (url, kind),
    ):
        port = _free_port()
        settings = Settings(var_dir=Path(scratch), database_url=url)

        async def moderator_token() -> str:
            database = Database.connect(settings.resolved_database_url)
            try:
                async with database.transaction() as session:
                    return await add_staff(session, "bench", "moderator")
            finally:
                await database.dispose()

        token = asyncio.run(moderator_token())
        env = dict(os.environ, PEERBOT_VAR_DIR=scratch, PEERBOT_DATABASE_URL=url,
                   PEERBOT_PORT=str(port), PEERBOT_RASA_URL="http://127.0.0.1:9",
                   PEERBOT_WORKERS=str(workers))  # fmt: skip
        if redis_url:
            env["PEERBOT_REDIS_URL"] = redis_url
        server = subprocess.Popen(
            [sys.executable, "-m", "peerbot.cli", "serve"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            yield f"http://127.0.0.1:{port}", token, settings, kind
        finally:
            server.terminate()
            server.wait(timeout=15)


@contextmanager
def _scratch_database(database_url: str, scratch: Path) -> Iterator[tuple[str, str]]:
    """A migrated throwaway database: SQLite in `scratch`, or with `database_url` (PostgreSQL)
    a schema of its own there, dropped afterwards. Yields (url, "SQLite" or "PostgreSQL")."""
    import os

    from community.db import migrate

    if not database_url:
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        migrate(url)
        yield url, "SQLite"
        return
    from sqlalchemy import create_engine, text

    from community.settings import sync_database_url

    schema = f"bench_{os.getpid()}"
    admin = create_engine(sync_database_url(database_url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in database_url else "?"
    url = f"{database_url}{separator}options=-csearch_path%3D{schema}"
    try:
        migrate(url)
        yield url, "PostgreSQL"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_broadcast_benchmark(members: int = 14_000, database_url: str = "") -> Iterator[str]:
    """A research question published to `members` opted-in mothers: the time to fan it out
    (one INSERT ... SELECT) and to queue every delivery into the outbox (batches), with a
    simulated crash (a new database connection) after the first batches; then a check that
    every mother has exactly one outbox message. Sending is the platforms' part: at Telegram's
    limit of about 30 messages a second, 14,000 messages take about 8 minutes."""
    import asyncio
    import tempfile

    with (
        tempfile.TemporaryDirectory() as scratch,
        _scratch_database(database_url, Path(scratch)) as (url, kind),
    ):
        settings = Settings(
            var_dir=Path(scratch), database_url=url, research_quiet_start_hour=0,
            research_quiet_end_hour=0,
        )  # fmt: skip
        yield from asyncio.run(_drive_broadcast(settings, members, kind))


async def _drive_broadcast(settings: Settings, members: int, kind: str) -> list[str]:
    from sqlalchemy import func, insert, select

    from community.models import DeliveryAddress, Member, OutboxMessage, utcnow
    from community.research.models import QuestionStatus, ResearchPreference, ResearchQuestion
    from community.research.publication import fan_out_due, queue_due

    database = Database.connect(settings.resolved_database_url)
    started = time.perf_counter()
    async with database.transaction() as session:
        await add_staff(session, "bench", "researcher")
        now = utcnow()
        await session.execute(
            insert(Member),
            [{"pseudonym": f"bench-{n:06d}", "role": "mother", "created_at": now}
             for n in range(members)],
        )  # fmt: skip
        ids = (await session.scalars(select(Member.id).order_by(Member.id))).all()
        await session.execute(
            insert(DeliveryAddress),
            [{"member_id": i, "platform": "web", "address": f"bench-{i}"} for i in ids],
        )
        await session.execute(
            insert(ResearchPreference),
            [{"member_id": i, "platform": "web", "questions": True, "invitations": False,
              "results": False, "updated_at": now} for i in ids],
        )  # fmt: skip
        session.add(
            ResearchQuestion(
                researcher_id=1, text="What helps you feel safe to speak up?", context="",
                submitted_text="", status=QuestionStatus.APPROVED.value, publish_at=now,
            )
        )  # fmt: skip
    setup = time.perf_counter() - started

    started = time.perf_counter()
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())
    fan_out = time.perf_counter() - started

    batches = 0
    started = time.perf_counter()
    for _ in range(3):  # a few batches, then the process "dies": a new connection pool
        async with database.transaction() as session:
            await queue_due(session, settings, utcnow())
        batches += 1
    await database.dispose()
    database = Database.connect(settings.resolved_database_url)
    async with database.transaction() as session:
        again = await fan_out_due(session, (), utcnow())  # nothing due: publishing is done
    while True:
        async with database.transaction() as session:
            looked_at = await queue_due(session, settings, utcnow())
        if not looked_at:
            break
        batches += 1
    queueing = time.perf_counter() - started
    async with database.sessions() as session:
        rows = await session.scalar(select(func.count(OutboxMessage.id)))
        distinct = await session.scalar(select(func.count(func.distinct(OutboxMessage.member_id))))
    await database.dispose()
    return [
        f"broadcast: one research question to {members} opted-in mothers ({kind})",
        f"  setup (members, addresses, opt-ins): {setup:.1f} s",
        f"  fan-out (one INSERT ... SELECT): {fan_out * 1000:.0f} ms",
        f"  queued into the outbox in {batches} batches, across a simulated crash: "
        f"{queueing:.1f} s ({members / queueing:.0f} mothers/s)",
        f"  outbox messages: {rows}, mothers reached: {distinct}, duplicates: "
        f"{int(rows or 0) - int(distinct or 0)}, republished after the crash: {len(again)}",
    ]


async def _drive_handoff(
    base: str, token: str, conversations: int, database: str, database_url: str
) -> list[str]:
    """Visible means committed where every moderator's queue reads it: the watcher reads the
    cases' triggers from the database itself, every 20 ms.
    (Polling GET /api/cases as fast made the app serialize a growing queue fifty times a second,
    which the crises waited behind: the measurement slowed what it measured.) The queue is read
    once through the API at the end, to check every case is there. Each conversation has a
    keep-alive connection of its own, through the light client in `peerbot/bench_client.py`:
    httpx cost about one core of the two the app's workers needed."""
    import asyncio

    from sqlalchemy import select

    from community.models import CaseMessage
    from peerbot.bench_client import BenchConnection

    health = BenchConnection(base)
    for _ in range(200):
        try:
            if (await health.request("GET", "/healthz")).status == 200:
                break
        except (OSError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.1)
    await health.close()
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = asyncio.Event()
    # Each connects when she sends, as before: connections opened all at once ahead of the
    # burst were split between workers by chance (65/35 measured), not by which one was free.
    chats = [BenchConnection(base) for _ in range(conversations)]

    async def converse(number: int) -> None:
        # Each her own words, from her own address: the same words from one address would be
        # a flood (one alert), not the simultaneous conversations this measures.
        words = "".join(chr(ord("a") + int(digit)) for digit in f"{number:04d}")
        text = f"i want to kill myself tonight, {words}"
        sent[text] = time.perf_counter()
        response = await chats[number].request(
            "POST",
            "/api/chat",
            {"user": f"bench-{number:016d}", "text": text},
            {"X-Forwarded-For": _address(number)},
        )
        response.raise_for_status()
        answered[text] = time.perf_counter() - sent[text]

    watching = Database.connect(database_url)

    async def watch_queue() -> None:
        # Every trigger each time, not only ids above the last seen: ids are given at insert
        # and committed out of order (two workers' transactions), so a lower one can appear later.
        while not done.is_set():
            async with watching.engine.connect() as connection:
                triggers = await connection.scalars(
                    select(CaseMessage.text).where(CaseMessage.author == "member")
                )
                now = time.perf_counter()
                for trigger in triggers:
                    seen.setdefault(trigger, now)
            if len(seen) >= conversations:
                return
            await asyncio.sleep(0.02)

    try:
        watcher = asyncio.create_task(watch_queue())
        cpu = time.process_time()
        await asyncio.gather(*(converse(n) for n in range(conversations)))
        await asyncio.wait_for(watcher, timeout=120)
        cpu = time.process_time() - cpu
        done.set()
    finally:
        await watching.dispose()
        await asyncio.gather(*(chat.close() for chat in chats))
    reader = BenchConnection(base)
    queue = (
        await reader.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token}"})
    ).json()["cases"]
    await reader.close()
    listed = {case["trigger"] for case in queue}
    if not set(sent) <= listed:
        raise RuntimeError(f"{len(set(sent) - listed)} crises are missing from the queue")

    visible = [seen[text] - sent[text] for text in sent]
    replies = list(answered.values())
    return [
        f"handoff: {conversations} simultaneous crisis conversations through the web API "
        f"({database})",
        f"  crisis reply latency: p50 {_percentile(replies, 0.5) * 1000:.0f} ms, "
        f"p99 {_percentile(replies, 0.99) * 1000:.0f} ms",
        f"  case visible to moderators after: p50 {_percentile(visible, 0.5) * 1000:.0f} ms, "
        f"p99 {_percentile(visible, 0.99) * 1000:.0f} ms, max {max(visible) * 1000:.0f} ms",
        f"  the benchmark's own CPU meanwhile (client and watcher): {cpu:.2f} s",
    ]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ordinary_messages() -> list[str]:
    """Everyday questions the model was not trained on (tests/nlu/heldout.yml), as mothers ask
    them: the texts both sides of the overhead benchmark answer."""
    import yaml

    from community.settings import PROJECT_ROOT

    with (PROJECT_ROOT / "tests" / "nlu" / "heldout.yml").open(encoding="utf-8") as handle:
        topics = yaml.safe_load(handle)
    return [str(text) for texts in topics.values() for text in texts]


def run_overhead_benchmark(messages: int = 600, members: int = 50) -> Iterator[str]:
    """What the gateway adds to a bare Rasa round trip, measured in one run: Rasa (with its
    action server) and `peerbot serve` on a scratch SQLite database are started, and the same
    everyday messages go, one at a time over keep-alive connections, straight to Rasa's REST
    webhook and through `POST /api/chat` (screen, member, case check, Rasa, replies), alternating
    which goes first. Flood control and the per-address limits are raised so that every message
    reaches Rasa (they are still counted)."""
    import asyncio

    from peerbot.bench_sustained import served_with_rasa

    try:
        with served_with_rasa() as (settings, _, _):
            yield from asyncio.run(
                _drive_overhead(settings, _ordinary_messages(), messages, members)
            )
    except RuntimeError as error:  # no trained model
        yield f"overhead: {error}"


async def _drive_overhead(
    settings: Settings, texts: list[str], messages: int, members: int
) -> list[str]:
    import asyncio
    import uuid

    import httpx

    rasa_base = f"http://127.0.0.1:{settings.rasa_port}"
    app_base = f"http://127.0.0.1:{settings.port}"
    async with (
        httpx.AsyncClient(base_url=rasa_base, timeout=30.0) as rasa,
        httpx.AsyncClient(base_url=app_base, timeout=30.0) as app,
    ):
        ready = {"rasa": False, "app": False}
        for _ in range(1200):  # Rasa loads its model in 20-60 s
            with suppress(httpx.HTTPError):
                ready["rasa"] = ready["rasa"] or (await rasa.get("/webhooks/rest/")).is_success
            with suppress(httpx.HTTPError):
                ready["app"] = ready["app"] or (await app.get("/healthz")).is_success
            if all(ready.values()):
                break
            await asyncio.sleep(0.2)
        if not all(ready.values()):
            return [f"overhead: not ready after 240 s ({ready})"]
        people = [uuid.uuid4().hex for _ in range(members)]

        async def direct(person: str, text: str) -> float:
            begun = time.perf_counter()
            response = await rasa.post(
                "/webhooks/rest/webhook", json={"sender": f"direct-{person}", "message": text}
            )
            response.raise_for_status()
            return time.perf_counter() - begun

        async def gateway(person: str, text: str) -> float:
            begun = time.perf_counter()
            response = await app.post("/api/chat", json={"user": person, "text": text})
            response.raise_for_status()
            return time.perf_counter() - begun

        # Warm-up: the action server's first calls, each member's first message (her row).
        for number, person in enumerate(people):
            text = texts[number % len(texts)]
            await direct(person, text)
            await gateway(person, text)
        bare: list[float] = []
        through: list[float] = []
        for number in range(messages):
            person, text = people[number % members], texts[(number * 7) % len(texts)]
            if number % 2:
                bare.append(await direct(person, text))
                through.append(await gateway(person, text))
            else:
                through.append(await gateway(person, text))
                bare.append(await direct(person, text))
    ms = 1000.0
    bare_p50, through_p50 = statistics.median(bare), statistics.median(through)
    return [
        f"overhead: {messages} everyday messages from {members} members, one at a time, "
        "same texts both ways (SQLite, learned screen on)",
        f"  bare Rasa REST webhook: p50 {bare_p50 * ms:.1f} ms, "
        f"p90 {_percentile(bare, 0.9) * ms:.1f} ms",
        f"  through POST /api/chat: p50 {through_p50 * ms:.1f} ms, "
        f"p90 {_percentile(through, 0.9) * ms:.1f} ms",
        f"  gateway overhead: {through_p50 / bare_p50:.2f}x the bare round trip "
        f"(+{(through_p50 - bare_p50) * ms:.1f} ms at the median)",
    ]


def run_flood_benchmark(messages: int = 500) -> Iterator[str]:
    """The attack that found the flood gap, measured: `peerbot serve` on a scratch SQLite
    database, then `messages` fake crises from fresh chat ids at one address, and as many from
    fresh ids at as many addresses (X-Forwarded-For, which uvicorn trusts from loopback), each
    with a genuine crisis from a member who was here before sent in the middle. Reports what
    moderators get (cases, alerts) and where her case is in the queue."""
    import asyncio

    with _served_app() as (base, token, settings, _):
        yield from asyncio.run(_drive_flood(base, token, settings, messages))


async def _drive_flood(base: str, token: str, settings: Settings, messages: int) -> list[str]:
    import asyncio
    import uuid
    from datetime import timedelta

    import httpx
    from sqlalchemy import update

    from community.members import pseudonym_for
    from community.models import Member, utcnow

    fake = "i took all my pills"
    headers = {"Authorization": f"Bearer {token}"}
    lines = [f"flood: {messages} fake crises from fresh chat ids, twice (SQLite, Rasa down)"]
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        for _ in range(200):
            with suppress(httpx.HTTPError):
                if (await client.get("/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
        database = Database.connect(settings.resolved_database_url)
        key = settings.pseudonym_key()
        for scenario in ("one address", "one address each"):
            known = f"known-{uuid.uuid4().hex}"
            await client.post("/api/chat", json={"user": known, "text": "hi"},
                              headers={"X-Forwarded-For": "192.0.2.1"})  # fmt: skip
            async with database.transaction() as session:
                await session.execute(
                    update(Member)
                    .where(Member.pseudonym == pseudonym_for(key, "web", known))
                    .values(created_at=utcnow() - timedelta(days=2))
                )
            genuine = f"i want to kill myself tonight ({scenario})"
            statuses: list[int] = []
            answered = 0

            async def one(
                number: int, scenario: str = scenario, statuses: list[int] = statuses
            ) -> None:
                nonlocal answered
                address = "198.51.100.9" if scenario == "one address" else _address(number)
                response = await client.post(
                    "/api/chat",
                    json={"user": uuid.uuid4().hex, "text": fake},
                    headers={"X-Forwarded-For": address},
                )
                statuses.append(response.status_code)
                answered += "911" in response.text

            begun = time.perf_counter()
            half = messages // 2
            for start in range(0, half, 25):
                await asyncio.gather(*(one(n) for n in range(start, min(start + 25, half))))
            await client.post("/api/chat", json={"user": known, "text": genuine},
                              headers={"X-Forwarded-For": "192.0.2.1"})  # fmt: skip
            for start in range(half, messages, 25):
                await asyncio.gather(*(one(n) for n in range(start, min(start + 25, messages))))
            elapsed = time.perf_counter() - begun
            cases = (await client.get("/api/cases", headers=headers)).json()["cases"]
            alerts = (await client.get("/api/flood-alerts", headers=headers)).json()["alerts"]
            kinds = ", ".join(f"{a['kind']}: {a['count']}" for a in alerts)
            position = next((i + 1 for i, c in enumerate(cases) if c["trigger"] == genuine), None)
            lines += [
                f"  {scenario}: {messages} sent in {elapsed:.1f} s, {answered} got the crisis "
                f"reply, statuses {sorted(set(statuses))}",
                f"    moderators see {len(cases)} open case(s) and {len(alerts)} flood alert(s) "
                f"({kinds}); the genuine "
                f"crisis is number {position} in the queue",
            ]
            # The next scenario starts with a clean console: alerts closed, her case resolved.
            for alert in alerts:
                await client.post(f"/api/flood-alerts/{alert['id']}/close", headers=headers)
            for case in cases:
                if case["trigger"] == genuine:
                    await client.post(f"/api/cases/{case['id']}/claim", headers=headers)
                    await client.post(f"/api/cases/{case['id']}/resolve", headers=headers,
                                      json={"outcome": "benchmark"})  # fmt: skip
        await database.dispose()
    return lines


def _address(number: int) -> str:
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256 or 1}"
