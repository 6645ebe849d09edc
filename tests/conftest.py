"""Shared fixtures: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set) and
the real peerbot stack (Rasa, action server, bot app) started once per test session."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from community.db import Database, migrate
from community.settings import PROJECT_ROOT, Settings, async_database_url, sync_database_url
from tests.bots.telegram_standin import TOKEN as TELEGRAM_TOKEN
from tests.bots.telegram_standin import BotApiStandIn, bot_api_standin

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_RASA = os.environ.get("PEERBOT_REQUIRE_RASA") == "1"
REQUIRE_BROWSER = os.environ.get("PEERBOT_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
STACK_READY_TIMEOUT = 240.0


def _backends() -> list[pytest.param]:  # type: ignore[valid-type]
    params = [pytest.param("sqlite", id="sqlite")]
    params.append(
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
        )
    )
    return params


@dataclass
class PostgresSchema:
    """A throwaway schema in the test database, so runs never see each other's tables."""

    base_url: str
    name: str = field(default_factory=lambda: f"pb_{uuid.uuid4().hex[:12]}")

    @property
    def url(self) -> str:
        separator = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{separator}options=-csearch_path%3D{self.name}"

    def create(self) -> None:
        engine = create_engine(sync_database_url(self.base_url))
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.name}"'))
        engine.dispose()

    def drop(self) -> None:
        engine = create_engine(sync_database_url(self.base_url))
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'peerbot.sqlite3'}"
        migrate(url)
        yield async_database_url(url)
        return
    with migrated_postgres_schema() as url:
        yield url


@contextmanager
def migrated_postgres_schema() -> Iterator[str]:
    """A migrated throwaway schema in the test PostgreSQL; its async URL."""
    schema = PostgresSchema(POSTGRES_URL)
    schema.create()
    try:
        migrate(schema.url)
        yield async_database_url(schema.url)
    finally:
        schema.drop()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database.connect(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        rasa_url="http://127.0.0.1:9",  # nothing listens there: Rasa is "down"
        rasa_timeout_seconds=1.0,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """A running `peerbot run`: its URL, its output so far, and the pids honcho reported."""

    process: subprocess.Popen[str]
    app_url: str
    rasa_url: str
    log_path: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)

    def add_staff(self, name: str, role: str = "moderator", display_name: str = "") -> str:
        """Create a staff account the way an operator does; return its token (last line)."""
        args = [sys.executable, "-m", "peerbot.cli", role, "add", name]
        if display_name:
            args += ["--display-name", display_name]
        done = subprocess.run(
            args, env=self.env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )
        return done.stdout.strip().splitlines()[-1]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def service_pids(self) -> dict[str, int]:
        return {
            name: int(pid)
            for name, pid in re.findall(r"system\s+\| (\w+) started \(pid=(\d+)\)", self.output())
        }


def _wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + STACK_READY_TIMEOUT
    while time.monotonic() < deadline:
        if "peerbot is ready" in stack.output():
            return
        if stack.process.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError("peerbot run did not become ready:\n" + stack.output()[-4000:])


def chromium_or_skip() -> str:
    """The system Chromium for browser tests; CI (PEERBOT_REQUIRE_BROWSER) fails without it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if REQUIRE_BROWSER:
            pytest.fail(
                "chromium is missing: run 'make install' as root, or apt-get install chromium"
            )
        pytest.skip("chromium is not installed (make install installs it when run as root)")
    return chromium


def rasa_runtime_or_skip() -> None:
    if not Settings().rasa_runtime.exists():
        if REQUIRE_RASA:
            pytest.fail("The Rasa runtime is missing: run 'make install' (make test does this).")
        pytest.skip("The Rasa runtime is not installed (run 'make install'); skipping Rasa tests.")


STACK_FLOOD_LIMITS = {
    "PEERBOT_CHAT_LIMIT_PER_ADDRESS": "100000/minute",
    "PEERBOT_CHAT_LIMIT_OVERALL": "100000/minute",
    "PEERBOT_CHAT_NEW_CHATS_PER_ADDRESS": "100000/hour",
    "PEERBOT_CHAT_CRISES_PER_ADDRESS": "100000/hour",
    "PEERBOT_CHAT_CRISES_SAME_WORDS": "100000/hour",
}


def launch_stack(home: Path, extra_env: dict[str, str] | None = None) -> Stack:
    """Start `peerbot run` on free ports with its own SQLite file, and wait until it is ready."""
    database_url = f"sqlite:///{home / 'peerbot.sqlite3'}"
    ports = {name: free_port() for name in ("app", "rasa", "actions")}
    env = dict(os.environ)
    env.update(
        PEERBOT_VAR_DIR=str(home / "var"),
        PEERBOT_DATABASE_URL=database_url,
        PEERBOT_PORT=str(ports["app"]),
        PEERBOT_RASA_PORT=str(ports["rasa"]),
        PEERBOT_RASA_URL=f"http://127.0.0.1:{ports['rasa']}",
        PEERBOT_ACTION_SERVER_PORT=str(ports["actions"]),
        PEERBOT_SECRET_KEY="stack-test-secret-key-0123456789abcdef",
        # Every test member writes from 127.0.0.1, often a crisis in the same words: the flood
        # limits (tested on their own in tests/bots/test_flood.py) are raised out of the way.
        **STACK_FLOOD_LIMITS,
    )
    env.update(extra_env or {})
    log_path = home / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "peerbot.cli", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    running = Stack(
        process,
        f"http://127.0.0.1:{ports['app']}",
        f"http://127.0.0.1:{ports['rasa']}",
        log_path,
        async_database_url(database_url),
        env,
    )
    try:
        _wait_ready(running)
    except Exception:
        stop_stack(running)
        raise
    return running


def stop_stack(running: Stack) -> int:
    """SIGTERM, as Ctrl-C or a service manager would; SIGKILL only if it hangs."""
    process = running.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return int(process.returncode)


@pytest.fixture(scope="session")
def stack_bot_api() -> Iterator[BotApiStandIn]:
    """The Bot API stand-in the session's stack polls: Telegram is on in the shared stack, so
    every stack test also runs with a Telegram moderators' group as a second home."""
    with bot_api_standin() as server:
        yield server


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, stack_bot_api: BotApiStandIn
) -> Iterator[Stack]:
    """The real stack (Rasa with the model `make install` trained), shared by the session."""
    rasa_runtime_or_skip()
    telegram = {
        "PEERBOT_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "PEERBOT_TELEGRAM_BASE_URL": stack_bot_api.url,
        "PEERBOT_TELEGRAM_MODERATOR_CHAT_ID": str(stack_bot_api.moderator_chat_id),
        # No quiet hours for research messages: a test must not depend on when it runs.
        "PEERBOT_RESEARCH_QUIET_START_HOUR": "0",
        "PEERBOT_RESEARCH_QUIET_END_HOUR": "0",
    }
    running = launch_stack(tmp_path_factory.mktemp("stack"), telegram)
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.fixture
def app_client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.app_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def trained_screen_models() -> Path:
    """The project's models folder with a current learned crisis screen (trained if missing,
    as `make install` does), so tests run the real artifact."""
    from safety.training import train_screen

    models = PROJECT_ROOT / "models"
    train_screen(models)
    return models


@pytest.fixture(scope="session")
def layered_screen(trained_screen_models: Path) -> object:
    """Every layer of the crisis screen, as the app builds it (without her context)."""
    from safety.training import build_screen

    screen = build_screen(trained_screen_models)
    assert screen.learned is not None, "the learned layer did not load"
    return screen


UNSURE_THRESHOLDS = """chosen_on: 2026-12-01
variants:
  full: {crisis: 0.99999, check: 0.000000001, help_coming: 0.99999}
  ngram: {crisis: 0.99999, check: 0.000000001, help_coming: 0.99999}
"""


@pytest.fixture
def unsure_settings(settings: Settings, tmp_path: Path, trained_screen_models: Path) -> Settings:
    """Settings whose screen asks "are you safe?" about every message the rules do not catch:
    the check flow is tested on each platform without depending on where a message falls."""
    path = tmp_path / "unsure-thresholds.yml"
    path.write_text(UNSURE_THRESHOLDS)
    return settings.model_copy(
        update={"screen_thresholds": path, "models_dir": trained_screen_models}
    )
