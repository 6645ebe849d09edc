"""A crisis that arrives while the database is away: she is answered at once, the finding waits
in the local journal, and it reaches the moderators' queue once when the database is back."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from community.crisis_journal import CrisisJournal
from community.db import Database
from community.messages import InboundMessage
from community.models import Case, CaseMessage, JournalReplay, Member
from tests.conftest import POSTGRES_URL, migrated_postgres_schema

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
        "id", "at", "platform", "user_id", "category", "severity", "text", "reply", "kind"
    }  # fmt: skip


class CuttableProxy:
    """A TCP proxy to PostgreSQL on loopback that can be cut (every connection closed, nothing
    accepted) and restored on the same port: the database "away" as a network failure is."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated schema of its own: a network cut is a PostgreSQL matter (SQLite is a file)."""
    with migrated_postgres_schema() as url:
        yield url


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set")
async def test_postgresql_cut_and_restored_loses_no_crisis(
    postgres_url: str, tmp_path: Path
) -> None:
    database_url = postgres_url
    url = make_url(database_url)
    proxy = CuttableProxy(url.port or 5432)
    await proxy.start()
    through = Database.connect(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    gateway = gateway_on(through, journal)
    try:
        await gateway.handle(InboundMessage("web", "before", "i took all my pills"))
        await proxy.cut()
        replies = await gateway.handle(InboundMessage("web", "during", "he is choking me"))
        assert "911" in "\n".join(r.text for r in replies)
        assert [e.category for e in journal.entries()] == ["violence"]
        await proxy.start()  # the database answers again, on the same address
        for _ in range(20):  # the pool drops its dead connections on the first try
            await journal.replay(through, KEY, ("web",))
            if not journal.entries():
                break
            await asyncio.sleep(0.2)
        assert journal.entries() == []
    finally:
        await through.dispose()
        await proxy.cut()
    direct = Database.connect(database_url)
    try:
        async with direct.sessions() as session:
            categories = sorted((await session.scalars(select(Case.category))).all())
    finally:
        await direct.dispose()
    assert categories == ["overdose", "violence"]


async def test_her_words_to_a_person_written_while_away_reach_the_case(
    database: Database, tmp_path: Path
) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await gateway_on(database, journal).handle(InboundMessage("web", "u1", "i want to die"))
    away = Database.connect(AWAY)
    try:
        gateway = gateway_on(away, journal)
        await gateway.handle(InboundMessage("web", "u1", "are you still there? please"))
        await gateway.handle(InboundMessage("web", "stranger", "what time is group"))
    finally:
        await away.dispose()
    assert [e.kind for e in journal.entries()] == ["message", "message"]
    assert await journal.replay(database, KEY, ("web",)) == 1
    assert journal.entries() == []
    async with database.sessions() as session:
        texts = (await session.scalars(select(CaseMessage.text))).all()
        members = await session.scalar(select(func.count()).select_from(Member))
    assert "are you still there? please" in texts
    assert "what time is group" not in texts  # no case: not kept
    assert members == 1


async def test_an_entry_that_cannot_be_written_does_not_hold_up_the_others(
    database: Database, tmp_path: Path
) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await crises_while_away(journal, "i took all my pills", "my baby is not breathing")
    first, second = journal.entries()
    # The first entry's time cannot be read: a data error, not an outage.
    lines = journal.path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace(f'"at": "{first.at}"', '"at": "not a time"')
    journal.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert await journal.replay(database, KEY, ("web",)) == 1
    assert [e.id for e in journal.entries()] == [first.id]  # kept for a person
    async with database.sessions() as session:
        assert await session.scalar(select(Case.category)) == "baby_danger"
    assert second.category == "baby_danger"


async def test_the_replay_loop_outlives_a_failed_round(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = CrisisJournal(tmp_path / "crisis-journal.jsonl")
    await crises_while_away(journal, "i took all my pills")
    real_remove = journal.remove
    failures = iter([OSError("disk full")])

    def remove_once_failing(ids: set[str]) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        real_remove(ids)

    monkeypatch.setattr(journal, "remove", remove_once_failing)
    loop = asyncio.create_task(journal.replay_forever(database, KEY, ("web",), interval=0.05))
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not journal.path.exists():
                break
    finally:
        loop.cancel()
    assert not journal.path.exists()  # the second round wrote nothing twice and emptied it
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1


def test_processes_sharing_the_journal_lose_no_entry(tmp_path: Path) -> None:
    """Two other processes append while this one keeps rewriting the file (a replay dropping
    what it wrote): every entry is either still in the file or was taken out on purpose."""
    import subprocess
    import sys

    from community.crisis_journal import new_entry
    from community.settings import PROJECT_ROOT
    from safety.screen import Screening, Severity

    path = tmp_path / "journal.jsonl"
    writer = (
        "import sys\n"
        "from community.crisis_journal import CrisisJournal, new_entry\n"
        "from safety.screen import Screening, Severity\n"
        "journal = CrisisJournal(__import__('pathlib').Path(sys.argv[1]))\n"
        "for n in range(150):\n"
        "    journal.append(new_entry('web', f'{sys.argv[2]}-{n}',"
        " Screening(True, 'suicide', Severity.HIGH), 'words', 'reply'))\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, str(path), name], cwd=PROJECT_ROOT)
        for name in ("a", "b")
    ]
    journal = CrisisJournal(path)
    removed: set[str] = set()
    journal.append(new_entry("web", "first", Screening(True, "suicide", Severity.HIGH), "w", "r"))
    while any(w.poll() is None for w in writers):
        entries = journal.entries()
        dropped = {e.id for e in entries[: len(entries) // 2]}
        journal.remove(dropped)
        removed |= dropped
    assert all(w.wait() == 0 for w in writers)
    left = {e.id for e in journal.entries()}
    assert not left & removed
    assert len(left) + len(removed) == 301  # 150 from each writer and the first
