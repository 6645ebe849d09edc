"""The gateway under random input (hypothesis): text of any kind, and commands that look like
peerbot's research commands with junk numbers and arguments. It never raises, every reply has
words, and nothing is stored that should not be (no answer without a published question and
consent; no empty question for researchers)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from bots.research_flow import NAMED, NUMBERED
from community.db import Database, migrate
from community.messages import InboundMessage
from community.research.models import MemberQuestion, ResearchAnswer

KEY = b"fuzz-key-0123456789abcdef0123456789"
COMMANDS = sorted(NAMED | NUMBERED)

commandish = st.builds(
    lambda name, number, rest: f"/{name}{number}{rest}",
    st.sampled_from(COMMANDS),
    st.one_of(st.just(""), st.integers(-5, 10**12).map(lambda n: f"_{n}")),
    st.one_of(st.just(""), st.text(max_size=80).map(lambda t: f" {t}")),
)
messages = st.lists(st.one_of(st.text(max_size=400), commandish), min_size=1, max_size=6)


def test_random_messages_never_crash_or_store_junk() -> None:
    with tempfile.TemporaryDirectory() as home:
        url = f"sqlite:///{Path(home) / 'fuzz.sqlite3'}"
        migrate(url)

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(messages, st.integers(0, 3))
        def run(batch: list[str], who: int) -> None:
            asyncio.run(_exchange(url, batch, f"fuzz-{who}"))

        run()


async def _exchange(url: str, batch: list[str], user: str) -> None:
    database = Database.connect(url.replace("sqlite://", "sqlite+aiosqlite://", 1))
    # Rasa is "down" (nothing listens on port 9): the fallback path is part of what is fuzzed.
    dialogue = DialogueClient("http://127.0.0.1:9", 0.5)
    gateway = Gateway(GatewayConfig(KEY, 4000, flood_messages=1000), database, dialogue)
    try:
        for text in batch:
            replies = await gateway.handle(InboundMessage("web", user, text))
            assert all(r.text.strip() for r in replies), replies
        async with database.sessions() as session:
            assert await session.scalar(select(func.count(ResearchAnswer.id))) == 0
            asked = (await session.scalars(select(MemberQuestion.text))).all()
            assert all(t.strip() for t in asked), asked
    finally:
        await dialogue.aclose()
        await database.dispose()
