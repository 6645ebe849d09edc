"""`peerbot benchmark --sustained SECONDS`: a mixed load held for minutes, as a bad night looks.

Rasa (with its action server) and `peerbot serve` are started on a scratch database (SQLite, or
a throwaway PostgreSQL schema; several workers with Redis), and messages are sent at a steady
rate whether or not earlier ones have been answered (an open loop: a slow answer does not slow
the arrivals, as it would not on a real night). The mix:

- crisis: a new chat's crisis message (each from her own address): reply, case, notification;
- FAQ: an everyday question the model was not trained on (tests/nlu/heldout.yml), through Rasa;
- relay: a mother writing into her case that a moderator has claimed, and the moderator
  answering her (`POST /api/cases/{id}/messages`): no Rasa;
- research: a mother's research commands (`/research`, opting in to questions, `/sessions`;
  the app's own research flow, no Rasa).

Reported per kind and overall: messages sent, answered, errors (anything but 200, or no answer
within 30 s), throughput, p50 and p99 latency. Figures are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from community.db import Database
from community.settings import Settings
from community.staff import add_staff

# The share of each kind in the mix, out of 100.
MIX = {"crisis": 10, "faq": 60, "relay": 20, "research": 10}
RELAY_CASES = 8
FAQ_MEMBERS = 200
RESEARCH_WORDS = ("/research", "/optin_questions", "/sessions")
RELAY_WORDS = (
    "thank you for staying with me",
    "the baby is finally asleep",
    "i just feel so tired tonight",
    "can you tell me more about the group",
)


@dataclass
class _Kind:
    sent: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def line(self, name: str) -> str:
        if not self.latencies:
            return f"  {name}: sent {self.sent}, answered 0, errors {self.errors}"
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        return (
            f"  {name}: sent {self.sent}, answered {len(ordered)}, errors {self.errors}, "
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_with_rasa(
    database_url: str = "", workers: int = 1, redis_url: str = ""
) -> Iterator[tuple[Settings, str, str]]:
    """Rasa, the action server and `peerbot serve` on a scratch database; yields the settings,
    a moderator's token and "SQLite" or "PostgreSQL"."""
    from peerbot.bench import _scratch_database
    from peerbot.runner import rasa_api_environment, services
    from peerbot.training import model_path, rasa_environment

    model = model_path(Settings())
    if not model.exists():
        raise RuntimeError("no trained Rasa model; run 'peerbot train' (or 'make install') first")
    with (
        tempfile.TemporaryDirectory() as scratch,
        _scratch_database(database_url, Path(scratch)) as (url, kind),
    ):
        settings = Settings(
            var_dir=Path(scratch),
            database_url=url,
            port=_free_port(),
            rasa_port=_free_port(),
            action_server_port=_free_port(),
        )

        async def moderator_token() -> str:
            database = Database.connect(url)
            try:
                async with database.transaction() as session:
                    return await add_staff(session, "bench", "moderator")
            finally:
                await database.dispose()

        token = asyncio.run(moderator_token())
        env = (
            rasa_environment(settings)
            | rasa_api_environment(settings)
            | {
                "PEERBOT_VAR_DIR": scratch,
                "PEERBOT_DATABASE_URL": url,
                "PEERBOT_PORT": str(settings.port),
                "PEERBOT_RASA_URL": f"http://127.0.0.1:{settings.rasa_port}",
                "PEERBOT_WORKERS": str(workers),
                "PEERBOT_FLOOD_MESSAGES": "1000",
                "PEERBOT_MAX_OPEN_CASES_PER_MODERATOR": "100",
                # The limits are still counted (their cost is in the figures), set out of the way
                # of a load that is meant to be answered.
                "PEERBOT_CHAT_LIMIT_PER_ADDRESS": "100000/minute",
                "PEERBOT_CHAT_LIMIT_OVERALL": "100000/minute",
                "PEERBOT_CHAT_NEW_CHATS_PER_ADDRESS": "100000/hour",
                "SANIC_HOST": "127.0.0.1",
            }
        )
        if redis_url:
            env["PEERBOT_REDIS_URL"] = redis_url
        processes = [
            subprocess.Popen(  # noqa: S603 - our own fixed commands
                service.command,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for service in services(settings, model)
        ]
        try:
            yield settings, token, kind
        finally:
            for process in processes:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def run_sustained_benchmark(
    seconds: int = 300,
    rate: float = 20.0,
    database_url: str = "",
    workers: int = 1,
    redis_url: str = "",
) -> Iterator[str]:
    from peerbot.bench import _ordinary_messages

    with served_with_rasa(database_url, workers, redis_url) as (settings, token, kind):
        where = f"{kind}, {workers} worker{'s' if workers > 1 else ''}"
        yield from asyncio.run(_drive(settings, token, _ordinary_messages(), seconds, rate, where))


async def _ready(app: httpx.AsyncClient, rasa: httpx.AsyncClient) -> bool:
    ready = {"rasa": False, "app": False}
    for _ in range(1200):  # Rasa loads its model in 20-60 s
        with suppress(httpx.HTTPError):
            ready["rasa"] = ready["rasa"] or (await rasa.get("/webhooks/rest/")).is_success
        with suppress(httpx.HTTPError):
            ready["app"] = ready["app"] or (await app.get("/healthz")).is_success
        if all(ready.values()):
            return True
        await asyncio.sleep(0.2)
    return False


async def _claimed_cases(app: httpx.AsyncClient, token: str) -> list[tuple[str, int]]:
    """Mothers who asked for a person, each case claimed by the moderator: (mother, case)."""
    headers = {"Authorization": f"Bearer {token}"}
    mothers = [f"relay-{uuid.uuid4().hex}" for _ in range(RELAY_CASES)]
    for mother in mothers:
        (await app.post("/api/chat", json={"user": mother, "text": "/talk"})).raise_for_status()
    cases = (await app.get("/api/cases", headers=headers)).json()["cases"]
    claimed = []
    for case in cases:
        response = await app.post(f"/api/cases/{case['id']}/claim", headers=headers)
        if response.is_success:
            claimed.append(int(case["id"]))
    return list(zip(mothers, claimed, strict=False))


async def _drive(
    settings: Settings, token: str, texts: list[str], seconds: int, rate: float, where: str
) -> list[str]:
    base = f"http://127.0.0.1:{settings.port}"
    limits = httpx.Limits(max_connections=500)
    async with (
        httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as app,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.rasa_port}") as rasa,
    ):
        if not await _ready(app, rasa):
            return ["sustained: the stack was not ready after 240 s"]
        relays = await _claimed_cases(app, token)
        if not relays:
            return ["sustained: no case could be claimed for the relay part"]
        faq_members = [f"faq-{uuid.uuid4().hex}" for _ in range(FAQ_MEMBERS)]
        kinds = {name: _Kind() for name in MIX}
        chooser = random.Random(7)  # noqa: S311 - a reproducible mix, not security
        headers = {"Authorization": f"Bearer {token}"}

        def send(name: str, number: int) -> Callable[[], Awaitable[httpx.Response]]:
            if name == "crisis":
                words = "".join(chr(ord("a") + int(d)) for d in f"{number:06d}")
                body = {"user": f"crisis-{number:016d}", "text": f"i want to die tonight {words}"}
                address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256 or 1}"
                return lambda: app.post(
                    "/api/chat", json=body, headers={"X-Forwarded-For": address}
                )
            if name == "faq":
                body = {"user": chooser.choice(faq_members), "text": chooser.choice(texts)}
                return lambda: app.post("/api/chat", json=body)
            if name == "relay":
                mother, case_id = relays[number % len(relays)]
                words = chooser.choice(RELAY_WORDS)
                if number % 2:
                    return lambda: app.post(
                        f"/api/cases/{case_id}/messages", json={"text": words}, headers=headers
                    )
                return lambda: app.post("/api/chat", json={"user": mother, "text": words})
            body = {"user": chooser.choice(faq_members), "text": chooser.choice(RESEARCH_WORDS)}
            return lambda: app.post("/api/chat", json=body)

        async def one(name: str, request: Callable[[], Awaitable[httpx.Response]]) -> None:
            kind = kinds[name]
            kind.sent += 1
            begun = time.perf_counter()
            try:
                response = await request()
            except httpx.HTTPError:
                kind.errors += 1
                return
            if response.status_code != 200:
                kind.errors += 1
                return
            kind.latencies.append(time.perf_counter() - begun)

        names = [name for name, share in MIX.items() for _ in range(share)]
        pending: set[asyncio.Task[None]] = set()
        started = time.perf_counter()
        count = int(seconds * rate)
        for number in range(count):
            delay = started + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            name = chooser.choice(names)
            task = asyncio.create_task(one(name, send(name, number)))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
    answered = sum(len(k.latencies) for k in kinds.values())
    errors = sum(k.errors for k in kinds.values())
    every = _Kind(count, errors, [x for k in kinds.values() for x in k.latencies])
    mix = ", ".join(f"{name} {share}%" for name, share in MIX.items())
    return [
        f"sustained: {seconds} s at {rate:g} messages/s ({mix}; {where})",
        f"  throughput {answered / elapsed:.1f} answered/s over {elapsed:.0f} s; "
        f"errors {errors} of {count}",
        every.line("all"),
        *(kinds[name].line(name) for name in MIX),
    ]
