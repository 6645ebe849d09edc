"""Rasa's conversations in Redis (`PEERBOT_RASA_TRACKER_STORE=redis`): the real `peerbot run`
stack, with Rasa started on the endpoints file it writes. A Rasa killed in the middle of a
conversation comes back remembering it; "delete my data" wipes it from Redis; the keys expire
with the Rasa retention; the Redis password is in no file."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import SecretStr

from community.members import pseudonym_for
from community.settings import Settings
from peerbot.rasa_endpoints import endpoints_document, redis_parts
from tests.conftest import launch_stack, rasa_runtime_or_skip, stop_stack

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
SECRET = "stack-test-secret-key-0123456789abcdef"  # launch_stack's


def test_the_endpoints_name_redis_without_its_password(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path,
        rasa_tracker_store="redis",
        redis_url="redis://:s3cret-pass@127.0.0.1:6380/4",
        retention_rasa_hours=2,
    )
    document = endpoints_document(settings)
    assert document["tracker_store"]["type"] == "redis"
    assert document["tracker_store"]["port"] == 6380 and document["tracker_store"]["db"] == 4
    assert document["tracker_store"]["record_exp"] == 7200
    assert document["lock_store"]["type"] == "redis"
    assert "s3cret-pass" not in str(document)
    assert document["tracker_store"]["password"] == "${PEERBOT_RASA_REDIS_PASSWORD}"
    assert "tracker_store" not in endpoints_document(Settings(var_dir=tmp_path))
    with pytest.raises(ValueError):
        redis_parts("http://127.0.0.1:6379/0")
    with pytest.raises(ValueError):
        endpoints_document(Settings(var_dir=tmp_path, rasa_tracker_store="redis"))


def _user_texts(tracker: dict[str, object]) -> list[str]:
    events = tracker.get("events") or []
    assert isinstance(events, list)
    return [str(e.get("text")) for e in events if e.get("event") == "user"]


def _rasa_process(shell_pid: int) -> int:
    """The Rasa server under its restart loop (the loop's shell is the pid honcho reports)."""
    children = Path(f"/proc/{shell_pid}/task/{shell_pid}/children").read_text().split()
    assert children, "rasa is not running under its loop"
    return int(children[0])


@pytest.mark.rasa
@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
def test_a_restarted_rasa_remembers_and_deletion_wipes(tmp_path: Path) -> None:
    rasa_runtime_or_skip()
    prefix = f"t{uuid.uuid4().hex[:12]}"
    stack = launch_stack(
        tmp_path,
        {
            "PEERBOT_RASA_TRACKER_STORE": "redis",
            "PEERBOT_REDIS_URL": REDIS_URL,
            "PEERBOT_RASA_KEY_PREFIX": prefix,
        },
    )
    store = redis.Redis.from_url(REDIS_URL)
    try:
        written = tmp_path / "var" / "rasa-endpoints.yml"
        assert written.stat().st_mode & 0o077 == 0
        user = uuid.uuid4().hex
        with httpx.Client(base_url=stack.app_url, timeout=30) as app:
            assert app.post("/api/chat", json={"user": user, "text": "where do i get narcan"})
        pseudonym = pseudonym_for(SECRET.encode(), "web", user)
        token = Settings(secret_key=SecretStr(SECRET)).rasa_api_token()
        tracker_url = f"{stack.rasa_url}/conversations/{pseudonym}/tracker"
        keys = [k.decode() for k in store.keys(f"{prefix}*")]
        assert any(pseudonym in k for k in keys), keys
        key = next(k for k in keys if pseudonym in k)
        assert 0 < store.ttl(key) <= 24 * 3600  # expires with PEERBOT_RETENTION_RASA_HOURS

        # Rasa dies in the middle of the conversation; its loop starts it again.
        os.kill(_rasa_process(stack.service_pids()["rasa"]), signal.SIGKILL)
        deadline = time.monotonic() + 180
        tracker: dict[str, object] = {}
        while time.monotonic() < deadline:
            try:
                response = httpx.get(tracker_url, params={"token": token}, timeout=5)
                if response.status_code == 200:
                    tracker = response.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert _user_texts(tracker) == ["where do i get narcan"]

        with httpx.Client(base_url=stack.app_url, timeout=30) as app:
            app.post("/api/chat", json={"user": user, "text": "/delete_my_data"})
            app.post("/api/chat", json={"user": user, "text": "/confirm_delete"})
        after = httpx.get(tracker_url, params={"token": token}, timeout=10).json()
        assert _user_texts(after) == []
        assert b"narcan" not in b"".join(store.get(k) or b"" for k in store.keys(f"{prefix}*"))
    finally:
        stop_stack(stack)
        for key in store.keys(f"{prefix}*"):
            store.delete(key)
        store.close()
