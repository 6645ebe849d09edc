"""The settings that cannot run several app workers are refused with the reason. Several
workers at work, killed in the middle of a burst, are tested with the whole cluster
(tests/test_cluster.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from community.settings import PROJECT_ROOT, Settings
from peerbot.app import workers_refusal


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


def test_a_serving_process_settles_its_heap_once_it_is_up() -> None:
    """`peerbot serve` freezes what the app holds for its life out of the collector's scans and
    collects the young generation less often (in a process of its own: a test process that froze
    its apps would never collect them)."""
    code = (
        "import gc; from peerbot.app import settle_heap, YOUNG_COLLECTION_THRESHOLD as T; "
        "before = gc.get_freeze_count(); settle_heap(); "
        "print(before == 0, gc.get_freeze_count() > 0, gc.get_threshold()[0] == T)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "True", "True"]


def test_a_serving_app_opens_its_pool_at_start_and_a_test_app_does_not(
    tmp_path: Path, database_url: str
) -> None:
    """`peerbot serve`'s app (serving) opens its database pool before the first request; an
    app built by a test does not (in a process of its own: serving also freezes the heap)."""
    code = (
        "import asyncio, gc\n"
        "from community.settings import load_settings\n"
        "from peerbot.app import create_app\n"
        "async def main(serving):\n"
        "    app = create_app(load_settings(), run_scheduler=False, serving=serving)\n"
        "    async with app.router.lifespan_context(app):\n"
        "        pool = app.state.services.database.engine.pool\n"
        "        print(pool.checkedin(), gc.get_freeze_count() > 0)\n"
        "asyncio.run(main(False)); asyncio.run(main(True))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120, check=False,
        env={**os.environ, "PEERBOT_VAR_DIR": str(tmp_path / "var"),
             "PEERBOT_DATABASE_URL": database_url, "PEERBOT_RASA_URL": "http://127.0.0.1:9",
             "PEERBOT_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    test_app, serving_app = done.stdout.splitlines()[-2:]
    size = "20" if "postgresql" in database_url else "1"
    assert test_app.split() == ["0", "False"] or test_app.split() == ["1", "False"]
    assert serving_app.split() == [size, "True"]
