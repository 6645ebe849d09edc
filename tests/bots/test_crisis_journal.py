"""A crisis that arrives while the database is away: she is answered at once, the finding waits
in the local journal, and it reaches the moderators' queue once when the database is back."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from bots.messages import InboundMessage
from community.crisis_journal import CrisisJournal
from community.db import Database
from community.models import Case, CaseMessage, JournalReplay

KEY = b"k" * 48
AWAY = "postgresql://nobody@127.0.0.1:9/none"  # nothing listens there
DEAD_RASA = "http://127.0.0.1:9"


def gateway_on(database: Database, journal: CrisisJournal) -> Gateway:
    return Gateway(
        GatewayConfig(pseudonym_key=KEY, max_message_chars=4000),
        database,
        DialogueClient(DEAD_RASA, 1.0),
        journal=journal,
    )


async def crises_while_away(journal: CrisisJournal, *texts: str) -> list[str]:
    away = Database.connect(AWAY)
    try:
        gateway = gateway_on(away, journal)
        replies = [await gateway.handle(InboundMessage("web", "u1", text)) for text in texts]
    finally:
        await away.dispose()
    return ["\n".join(r.text for r in reply) for reply in replies]


async def test_a_crisis_while_the_database_is_away_reaches_the_queue_once_it_is_back(
    database: Database, tmp_path: Path
) -> None:
    journal = CrisisJournal(tmp_path / "var" / "crisis-journal.jsonl")
    replies = await crises_while_away(
        journal, "i took all my pills", "my chest hurts and i cant breathe"
    )
    assert all("911" in reply for reply in replies)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    waiting = journal.entries()
    assert [e.category for e in waiting] == ["overdose", "medical"]

    assert await journal.replay(database, KEY, ("web",)) == 2
    assert not journal.path.exists()
    async with database.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
        assert len(cases) == 1  # one open case per member: the second finding joins it
        case = cases[0]
        assert case.opened_at == waiting[0].written_at  # when she really wrote
        turns = (
            await session.scalars(
                select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
            )
        ).all()
    authors = [t.author for t in turns]
    assert authors.count("member") == 2 and authors.count("bot") == 2
    assert any("database was away" in t.text for t in turns if t.author == "screen")
    assert "i took all my pills" in [t.text for t in turns]
    # Nothing is written twice.
    assert await journal.replay(database, KEY, ("web",)) == 0


async def test_a_replay_cut_before_the_file_is_rewritten_is_not_written_twice(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await crises_while_away(journal, "he is choking me")
    monkeypatch.setattr(journal, "remove", lambda ids: None)  # the "crash"
    assert await journal.replay(database, KEY, ("web",)) == 1
    monkeypatch.undo()
    assert len(journal.entries()) == 1
    assert await journal.replay(database, KEY, ("web",)) == 0
    assert journal.entries() == []
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1
        assert await session.scalar(select(func.count()).select_from(JournalReplay)) == 1


async def test_while_the_database_is_still_away_nothing_is_lost(tmp_path: Path) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await crises_while_away(journal, "my baby is not breathing")
    away = Database.connect(AWAY)
    try:
        assert await journal.replay(away, KEY, ("web",)) == 0
    finally:
        await away.dispose()
    assert [e.category for e in journal.entries()] == ["baby_danger"]


async def test_a_torn_line_is_kept_and_the_rest_replayed(
    database: Database, tmp_path: Path
) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await crises_while_away(journal, "i want to kill myself tonight")
    with journal.path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "torn", "at": "2026-12')  # a crash mid-write
    assert await journal.replay(database, KEY, ("web",)) == 1
    left = journal.path.read_text(encoding="utf-8")
    assert "torn" in left and "kill myself" not in left


async def test_the_journal_holds_no_more_than_her_case_needs(tmp_path: Path) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await crises_while_away(journal, "i took too many pills")
    (line,) = journal.path.read_text(encoding="utf-8").splitlines()
    assert set(json.loads(line)) == {
        "id", "at", "platform", "user_id", "category", "severity", "text", "reply"
    }  # fmt: skip
