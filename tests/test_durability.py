"""Killing the bot app at any moment loses nothing it acknowledged.

`peerbot serve` is killed with SIGKILL in the middle of a burst of crisis messages, at several
moments, then restarted: every crisis the API answered has its case, the message that opened it,
and the moderators' notification; no case exists without them; and a moderator's reply that was
acknowledged is delivered after the restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from community.members import pseudonym_for
from community.models import Case, CaseMessage, Member, Notification
from community.settings import PROJECT_ROOT, sync_database_url
from tests.conftest import free_port

SECRET = "durability-secret-key-0123456789abcdef"


@contextmanager
def serve(database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        PEERBOT_DATABASE_URL=database_url,
        PEERBOT_PORT=str(port),
        PEERBOT_SECRET_KEY=SECRET,
        PEERBOT_RASA_URL="http://127.0.0.1:9",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "peerbot.cli", "serve"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def letters(number: int) -> str:
    """Words that differ by number (digits alone do not make different words)."""
    return "".join(chr(ord("a") + int(digit)) for digit in f"{number:04d}")


def burst_then_kill(
    url: str, process: subprocess.Popen[bytes], tag: str, delay: float
) -> list[str]:
    """Send 30 crises at once, SIGKILL the server after `delay` s; return the acknowledged users."""
    acknowledged: list[str] = []
    lock = threading.Lock()

    def send(number: int) -> None:
        user = f"{tag}-{number:016d}"
        # Thirty mothers, each from her own address and in her own words (the same words from
        # one address would be a flood: one alert, not thirty cases).
        text = f"i want to die tonight, {letters(number)}"
        try:
            response = httpx.post(
                f"{url}/api/chat", json={"user": user, "text": text}, timeout=10,
                headers={"X-Forwarded-For": f"10.0.1.{number + 1}"},
            )  # fmt: skip
        except httpx.HTTPError:
            return
        if response.status_code == 200 and "988" in response.text:
            with lock:
                acknowledged.append(user)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    for thread in threads:
        thread.join()
    return acknowledged


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.6])
def test_kill_during_a_crisis_burst_loses_no_acknowledged_case(
    database_url: str, delay: float
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(database_url, port) as process:
        acknowledged = burst_then_kill(url, process, f"k{int(delay * 1000)}", delay)
    with serve(database_url, port):  # restart: it must come up on the same data
        assert httpx.get(f"{url}/healthz").json()["components"]["database"] == "up"
    engine = create_engine(sync_database_url(database_url))
    with Session(engine) as session:
        for user in acknowledged:
            pseudonym = pseudonym_for(SECRET.encode(), "web", user)
            case = session.scalar(select(Case).join(Member).where(Member.pseudonym == pseudonym))
            assert case is not None, f"acknowledged crisis from {user} has no case"
        # Atomicity: no case without its trigger message and its notification.
        for case in session.scalars(select(Case)):
            messages = session.scalar(select(func.count()).where(CaseMessage.case_id == case.id))
            notices = session.scalar(select(func.count()).where(Notification.case_id == case.id))
            assert messages and notices, f"case {case.id} is missing its message or notification"
    engine.dispose()


def test_acknowledged_moderator_reply_survives_a_kill(database_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PEERBOT_DATABASE_URL=database_url, PEERBOT_SECRET_KEY=SECRET)
    token = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "moderator", "add", "kim"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    with serve(database_url, port) as process:
        httpx.post(f"{url}/api/chat", json={"user": "mom-k-00000000000", "text": "i want to die"})
        case_id = httpx.get(f"{url}/api/cases", headers=headers).json()["cases"][0]["id"]
        assert httpx.post(f"{url}/api/cases/{case_id}/claim", headers=headers).status_code == 200
        sent = httpx.post(
            f"{url}/api/cases/{case_id}/messages",
            json={"text": "I'm here with you."},
            headers=headers,
        )
        assert sent.status_code == 200
        process.send_signal(signal.SIGKILL)
    with serve(database_url, port):
        later = httpx.get(f"{url}/api/chat/mom-k-00000000000/messages").json()["messages"]
    assert [m["text"] for m in later][1:] == ["I'm here with you."]
    assert "has joined the chat" in later[0]["text"]  # told in the claim's own transaction
