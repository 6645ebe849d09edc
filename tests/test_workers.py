"""Several app workers on one port (`peerbot serve --workers 2`) on PostgreSQL and Redis:
every crisis in a burst is answered and has its case, also when a worker is killed in the
middle of it; exactly one worker runs the timed jobs; uvicorn replaces the dead worker. And
the settings that cannot run several workers are refused with the reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from community.settings import PROJECT_ROOT, Settings, sync_database_url
from peerbot.app import workers_refusal
from tests.conftest import (
    POSTGRES_URL,
    STACK_FLOOD_LIMITS,
    free_port,
    migrated_postgres_schema,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
SECRET = "workers-test-secret-key-0123456789abcdef"


def test_what_cannot_run_several_workers_is_refused_with_the_reason(tmp_path: Path) -> None:
    sqlite = Settings(var_dir=tmp_path, workers=2)
    assert "PostgreSQL" in (workers_refusal(sqlite) or "")
    no_redis = Settings(var_dir=tmp_path, workers=2, database_url="postgresql://h/db")
    assert "PEERBOT_REDIS_URL" in (workers_refusal(no_redis) or "")
    bots = no_redis.model_copy(
        update={"redis_url": "redis://h:6379/0", "discord_token": SecretStr("x")}
    )
    assert "peerbot adapter" in (workers_refusal(bots) or "")
    apart = bots.model_copy(update={"adapters_in_app": False})
    assert workers_refusal(apart) is None
    assert workers_refusal(Settings(var_dir=tmp_path)) is None  # one worker: anything goes
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "serve", "--workers", "2"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PEERBOT_VAR_DIR": str(tmp_path / "var"),
             "PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'one.sqlite3'}"},
    )  # fmt: skip
    assert done.returncode == 2 and "needs PostgreSQL" in done.stderr


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with migrated_postgres_schema() as url:
        yield url


def _workers(parent: int) -> list[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker beside them)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    workers = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # it ended meanwhile
        if b"spawn_main" in command:
            workers.append(int(child))
    return workers


def _scheduler_holders(url: str) -> int:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = "
                        "hashtextextended(current_database() || '.' || current_schema() "
                        "|| '.peerbot.scheduler', 0)"
                    )
                )
                or 0
            )
    finally:
        engine.dispose()


def _wait(check: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _crisis(url: str, user: str) -> str | None:
    """The crisis reply's text if it was acknowledged (200), else None."""
    try:
        response = httpx.post(
            f"{url}/api/chat", json={"user": user, "text": "i want to kill myself tonight"},
            timeout=20,
        )  # fmt: skip
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return str(response.json()["replies"][0]["text"])


@pytest.mark.skipif(not POSTGRES_URL or not REDIS_URL, reason="needs PostgreSQL and Redis")
def test_two_workers_answer_every_crisis_and_run_the_jobs_once(
    postgres_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **STACK_FLOOD_LIMITS,
        "PEERBOT_VAR_DIR": str(tmp_path / "var"),
        "PEERBOT_DATABASE_URL": postgres_url,
        "PEERBOT_REDIS_URL": REDIS_URL,
        "PEERBOT_SECRET_KEY": SECRET,
        "PEERBOT_PORT": str(port),
        "PEERBOT_RASA_URL": "http://127.0.0.1:9",  # Rasa is not needed for crises
        "PEERBOT_SCREEN_LEARNED": "false",
        "PEERBOT_LEADER_CHECK_SECONDS": "1",
    }
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "peerbot.cli", "serve", "--workers", "2"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait(lambda: len(_workers(server.pid)) == 2, 60, "two workers")
        _wait(lambda: _healthy(url), 120, "the app")
        _wait(lambda: _scheduler_holders(postgres_url) == 1, 30, "one scheduler")

        users = [f"worker-{uuid.uuid4().hex}" for _ in range(40)]
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda u: _crisis(url, u), users[:20]))
            victim = _workers(server.pid)[0]
            os.kill(victim, signal.SIGKILL)  # a worker dies in the middle of the burst
            replies += list(pool.map(lambda u: _crisis(url, u), users[20:]))
        acknowledged = [u for u, r in zip(users, replies, strict=True) if r is not None]
        assert all("988" in r for r in replies if r is not None)
        assert len(acknowledged) >= 30  # the dead worker's open requests may be lost, no more

        token = subprocess.run(
            [sys.executable, "-m", "peerbot.cli", "moderator", "add", "mia"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        cases = httpx.get(
            f"{url}/api/cases", headers={"Authorization": f"Bearer {token}"}, timeout=20
        ).json()["cases"]
        assert len(cases) == len({c["member"] for c in cases})  # none twice
        assert len(cases) >= len(acknowledged)  # every acknowledged crisis has its case

        # uvicorn starts a new worker; still exactly one runs the jobs.
        _wait(lambda: len(_workers(server.pid)) == 2 and victim not in _workers(server.pid),
              60, "the replacement worker")  # fmt: skip
        _wait(lambda: _scheduler_holders(postgres_url) == 1, 30, "one scheduler after")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
