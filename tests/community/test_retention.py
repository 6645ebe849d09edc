"""Retention: data past its period is gone from every store (database and Rasa's memory), and
nothing younger, or still open, is touched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bots.dialogue import DialogueClient
from community.cases.handoff import HandoffCases, ModeratorActions
from community.db import Database
from community.members import resolve_member
from community.models import Case, CaseEvent, CaseMessage, Member, OutboxMessage, utcnow
from community.scheduling import JobContext, retention_job
from community.settings import Settings
from safety.screen import Screening, Severity
from tests.bots.rasa_standin import rasa_standin

CRISIS = Screening(True, "suicide", Severity.HIGH)


async def open_and_close(database: Database, user: str, closed_days_ago: float) -> int:
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", user)
        opening = await HandoffCases(session).open_for_crisis(
            member, "web", CRISIS, "i want to die"
        )
        await ModeratorActions(session).resolve(opening.case_id, "ana", "safe", True)
        case = await session.get(Case, opening.case_id)
        assert case is not None
        case.closed_at = utcnow() - timedelta(days=closed_days_ago)
        member.last_seen_at = utcnow() - timedelta(days=closed_days_ago)
        return opening.case_id


async def test_each_kind_is_removed_after_its_period_and_rasa_forgets(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    old = await open_and_close(database, "old", closed_days_ago=400)  # past audit retention
    middle = await open_and_close(database, "middle", closed_days_ago=100)  # past transcripts
    recent = await open_and_close(database, "recent", closed_days_ago=1)
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", "open")
        await HandoffCases(session).open_for_crisis(member, "web", CRISIS, "help me")
        recent_member = await resolve_member(session, b"k" * 48, "web", "recent")
        recent_member.last_seen_at = utcnow()  # she is still talking
        for days in (8, 1):  # delivered outbox rows (already without text), old and new
            session.add(
                OutboxMessage(member_id=recent_member.id, platform="web", text=None,
                              delivered_at=utcnow() - timedelta(days=days))
            )  # fmt: skip

    settings = Settings(var_dir=tmp_path, database_url=database_url)  # defaults: 90 d, 365 d, 24 h
    with rasa_standin() as rasa:
        dialogue = DialogueClient(rasa.url, 1.0, settings.rasa_api_token())
        context = JobContext(settings, database, dialogue.forget)
        try:
            await retention_job(context)
            await retention_job(context)  # a second run finds nothing more to do
        finally:
            await dialogue.aclose()

    async with database.sessions() as session:
        cases = set((await session.scalars(select(Case.id))).all())
        assert old not in cases and {middle, recent} <= cases
        assert await session.scalar(select(func.count()).where(CaseEvent.case_id == old)) == 0
        assert await session.scalar(select(func.count()).where(CaseMessage.case_id == middle)) == 0
        assert await session.scalar(select(func.count()).where(CaseMessage.case_id == recent)) > 0
        open_messages = await session.scalar(
            select(func.count(CaseMessage.id)).join(Case).where(Case.status == "waiting")
        )
        assert open_messages and open_messages > 0
        delivered = (
            await session.scalars(
                select(OutboxMessage.delivered_at).where(OutboxMessage.delivered_at.is_not(None))
            )
        ).all()
        assert len(delivered) == 1 and delivered[0] > utcnow() - timedelta(days=2)
        forgotten = (
            await session.scalars(
                select(Member.pseudonym).where(Member.rasa_forgotten_at.is_not(None))
            )
        ).all()
    # Rasa's memory is wiped for the two quiet members, once each; not for the active ones.
    assert len(rasa.forgotten) == 2 and len(forgotten) == 2
    assert all(any(p in path for path in rasa.forgotten) for p in forgotten)


async def test_research_answers_and_questions_go_after_their_period(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    from community.research.member_questions import ask
    from community.research.models import MemberQuestion, ResearchAnswer, ResearchQuestion
    from community.staff import add_staff

    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", "answerer")
        await add_staff(session, "rae", "researcher")
        question = ResearchQuestion(
            researcher_id=1, text="Q?", context="", submitted_text="Q?", status="published"
        )
        session.add(question)
        await session.flush()
        for days in (400, 10):
            # One answer per mother and question: each age is another mother's answer.
            answerer = await resolve_member(session, b"k" * 48, "web", f"answerer-{days}")
            session.add(
                ResearchAnswer(question_id=question.id, member_id=answerer.id,
                               text=f"{days} days", created_at=utcnow() - timedelta(days=days))
            )  # fmt: skip
            asked = await ask(session, member.id, "web", f"asked {days} days ago")
            asked.created_at = utcnow() - timedelta(days=days)
    settings = Settings(var_dir=tmp_path, database_url=database_url)  # 365 days for research
    await retention_job(JobContext(settings, database, None))
    async with database.sessions() as session:
        assert (await session.scalars(select(ResearchAnswer.text))).all() == ["10 days"]
        assert (await session.scalars(select(MemberQuestion.text))).all() == ["asked 10 days ago"]


async def test_a_draft_question_goes_after_a_day_a_sent_one_stays(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """A question she was shown but neither sent nor dropped is not kept past a day; a sent
    question of the same age, and a younger draft, stay."""
    from community.research.member_questions import ask
    from community.research.models import MemberQuestion

    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "web", "asker")
        for text, draft, hours in (
            ("old draft", True, 25), ("young draft", True, 23), ("sent", False, 25)
        ):  # fmt: skip
            asked = await ask(session, member.id, "web", text, draft=draft)
            asked.created_at = utcnow() - timedelta(hours=hours)
    settings = Settings(var_dir=tmp_path, database_url=database_url)
    await retention_job(JobContext(settings, database, None))
    async with database.sessions() as session:
        kept = (
            await session.execute(
                select(MemberQuestion.text, MemberQuestion.status).order_by(MemberQuestion.id)
            )
        ).all()
    assert [tuple(row) for row in kept] == [("young draft", "draft"), ("sent", "queued")]


async def test_flags_notices_and_ended_blocks_go_after_their_period(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    from community.models import Block, ConductFlag, HomePost

    settings = Settings(var_dir=tmp_path, database_url=database_url)
    old = settings.retention_audit_days + 1  # past both the transcript and the audit period
    async with database.transaction() as session:
        member = await resolve_member(session, b"k" * 48, "telegram", "777")
        for days in (old, 1):
            at = utcnow() - timedelta(days=days)
            session.add(ConductFlag(member_id=member.id, platform="telegram", category="attack",
                                    text=f"flag {days}", created_at=at))  # fmt: skip
            session.add(HomePost(home="telegram", text="", created_at=at, posted_at=at))
            session.add(Block(member_id=member.id, reason=f"block {days}", until=at,
                              created_by="mia"))  # fmt: skip
        session.add(Block(member_id=member.id, reason="still on",
                          until=utcnow() + timedelta(days=3), created_by="mia"))  # fmt: skip
        session.add(
            HomePost(
                home="telegram", text="not yet posted", created_at=utcnow() - timedelta(days=old)
            )
        )
    await retention_job(JobContext(settings, database, None))
    async with database.sessions() as session:
        assert (await session.scalars(select(ConductFlag.text))).all() == ["flag 1"]
        assert sorted((await session.scalars(select(Block.reason))).all()) == [
            "block 1",
            "still on",
        ]
        posts = (await session.scalars(select(HomePost.text).order_by(HomePost.id))).all()
        assert posts == ["", "not yet posted"]  # the recent one, and the one never posted
