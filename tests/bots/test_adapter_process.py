"""`peerbot adapter telegram` as its own process: with two started for one bot, one answers
and the other stands by; when the first is killed, the second takes over and answers. On
SQLite (a file lock) and PostgreSQL (an advisory lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from community.settings import PROJECT_ROOT
from tests.bots.app_harness import faq_rasa
from tests.bots.telegram_standin import TOKEN, BotApiStandIn, bot_api_standin

MOM = 424242


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    with bot_api_standin() as server:
        yield server


def _start(home: Path, name: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    log = home / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "peerbot.cli", "adapter", "telegram"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
    return process, log


def _wait(check: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


async def test_one_adapter_runs_the_other_stands_by_and_takes_over(
    database_url: str, tmp_path: Path, bot_api: BotApiStandIn
) -> None:
    with faq_rasa() as rasa:
        env = dict(os.environ)
        env.update(
            PEERBOT_VAR_DIR=str(tmp_path / "var"),
            PEERBOT_DATABASE_URL=database_url,
            PEERBOT_SECRET_KEY="adapter-test-secret-key-0123456789abcdef",
            PEERBOT_TELEGRAM_TOKEN=TOKEN,
            PEERBOT_TELEGRAM_BASE_URL=bot_api.url,
            PEERBOT_RASA_URL=rasa.url,
            PEERBOT_LEADER_CHECK_SECONDS="0.5",
            PEERBOT_SCREEN_LEARNED="false",  # the lock is under test, not the screen
        )
        first, first_log = _start(tmp_path, "first", env)
        try:
            _wait(lambda: "adapter running" in first_log.read_text(), 90, "the first adapter")
            second, second_log = _start(tmp_path, "second", env)
            try:
                _wait(lambda: "standing by" in second_log.read_text(), 90, "the standby")
                bot_api.private_message(MOM, "hello")
                _wait(lambda: bot_api.texts_to(MOM), 30, "an answer from the first")
                assert "adapter running" not in second_log.read_text()

                os.killpg(first.pid, signal.SIGKILL)  # it dies without letting go
                first.wait()
                _wait(lambda: "adapter running" in second_log.read_text(), 30, "the takeover")
                bot_api.private_message(MOM, "are you still there")
                _wait(lambda: len(bot_api.texts_to(MOM)) >= 2, 30, "an answer from the second")
                assert [m["message"] for m in rasa.received] == ["hello", "are you still there"]
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=30) == 0, second_log.read_text()[-2000:]
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()


def test_webhook_mode_is_refused_as_its_own_process(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        PEERBOT_VAR_DIR=str(tmp_path / "var"),
        PEERBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PEERBOT_SECRET_KEY="adapter-test-secret-key-0123456789abcdef",
        PEERBOT_TELEGRAM_TOKEN=TOKEN,
        PEERBOT_TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
    )
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "adapter", "telegram"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "webhook mode" in done.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "adapter", "whatsapp"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert unknown.returncode == 1 and "telegram or discord" in unknown.stderr
