"""What the gateway counts for insights through the whole of `peerbot run` (#22): the real Rasa,
asked through its token-protected API after each answer, says which intent it read; the count
reaches `insight_tallies` without her words; and `peerbot insights rollup` carries it into the
rollup the page reads."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from community.models import InsightRollup, InsightTally
from community.settings import PROJECT_ROOT, sync_database_url
from tests.conftest import Stack

pytestmark = pytest.mark.rasa


def _intents(stack: Stack) -> dict[str, int]:
    engine = create_engine(sync_database_url(stack.database_url))
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(InsightTally.key, InsightTally.count).where(InsightTally.metric == "intent")
            )
            counted: dict[str, int] = {}
            for key, n in rows:
                counted[key] = counted.get(key, 0) + n
            return counted
    finally:
        engine.dispose()


def test_the_intent_rasa_read_is_counted_and_rolled_up(
    stack: Stack, app_client: httpx.Client
) -> None:
    before = _intents(stack)
    user = uuid.uuid4().hex
    words = f"hello there {uuid.uuid4().hex[:6]}"
    for text in (words, "hi", "thank you so much"):
        response = app_client.post("/api/chat", json={"user": user, "text": text})
        assert response.status_code == 200
    deadline = time.monotonic() + 15
    while sum(_intents(stack).values()) - sum(before.values()) < 3:
        assert time.monotonic() < deadline, "Rasa's readings were not counted"
        time.sleep(0.2)
    after = _intents(stack)
    assert after.get("greet", 0) - before.get("greet", 0) >= 1
    assert after.get("thanks", 0) - before.get("thanks", 0) == 1
    assert not any(words in key or "hello" in key for key in after)  # intent names only

    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "insights", "rollup"],
        env=stack.env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Rolled up" in done.stdout
    engine = create_engine(sync_database_url(stack.database_url))
    try:
        with Session(engine) as session:
            rolled = session.scalars(
                select(InsightRollup.value).where(
                    InsightRollup.metric == "intent", InsightRollup.key == "thanks"
                )
            ).all()
    finally:
        engine.dispose()
    assert sum(rolled) >= 1
