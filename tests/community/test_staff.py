"""Staff accounts acting from a chat: a link code works once and only while fresh, a revoked
account stops working, and blocking from a case thread is a moderator's command there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.command_grammar import ModeratorCall
from bots.commands import act_in_case_thread
from community.cases.handoff import HandoffCases, is_blocked
from community.db import Database
from community.members import resolve_member
from community.models import Staff, utcnow
from community.staff import add_staff, chat_staff, issue_link_code, link_chat_account, revoke_staff
from safety.screen import Screening, Severity

KEY = b"k" * 48


async def test_a_link_code_works_once_and_expires(database: Database) -> None:
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "telegram", "101")
        await add_staff(session, "rae", "researcher")
        stale = await issue_link_code(session, "rae", "researcher")
        staff = await session.scalar(select(Staff).where(Staff.name == "rae"))
        assert staff is not None and staff.link_code_hash is not None
        assert stale not in (staff.link_code_hash or "")  # only the hash is kept
        staff.link_code_expires_at = utcnow() - timedelta(seconds=1)
        assert await link_chat_account(session, member.id, stale) is None
        assert await chat_staff(session, member.id) is None

        fresh = await issue_link_code(session, "rae", "researcher")
        linked = await link_chat_account(session, member.id, fresh)
        assert linked is not None and linked.role == "researcher"
        assert await link_chat_account(session, member.id, fresh) is None  # used up
        assert (await chat_staff(session, member.id)) == linked
        await revoke_staff(session, "rae", "researcher")
        assert await chat_staff(session, member.id) is None


async def test_block_from_a_case_thread(database: Database) -> None:
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "telegram", "202")
        opening = await HandoffCases(session).open_for_crisis(
            member, "telegram", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
    case_id, member_id = opening.case_id, member.id
    call = ModeratorCall(database, "mia", "Mia", case_id)
    refused = await act_in_case_thread(call, "/block soon")
    assert "/block DAYS REASON" in refused
    too_long = await act_in_case_thread(call, "/block 4000 threats to staff")
    assert "1-365 days" in too_long and "/block DAYS REASON" in too_long
    async with database.sessions() as session:
        assert not await is_blocked(session, member_id)
    done = await act_in_case_thread(call, "/block 3 threats to staff")
    assert "Blocked for 3 days" in done
    async with database.sessions() as session:
        assert await is_blocked(session, member_id)


async def _claimed_case(database: Database, user: str, moderator: str) -> tuple[int, int]:
    from community.cases.handoff import ModeratorActions

    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", user)
        opening = await HandoffCases(session, ("web", "telegram")).open_for_crisis(
            member, "web", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
        await ModeratorActions(session).claim(opening.case_id, moderator)
    return opening.case_id, member.id


async def _released_state(database: Database, case_id: int) -> tuple[str, list[str], list[str]]:
    from community.models import Case, Notification, OutboxMessage

    async with database.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        kinds = list(
            (
                await session.scalars(
                    select(Notification.home).where(
                        Notification.case_id == case_id, Notification.kind == "released"
                    )
                )
            ).all()
        )
        told = [t or "" for t in (await session.scalars(select(OutboxMessage.text))).all()]
    return case.status, sorted(kinds), told


async def test_revoking_a_moderator_puts_her_cases_back_in_the_queue(database: Database) -> None:
    """Nobody else could claim, reply to or resolve a case held by a revoked moderator: it goes
    back to the queue, the team is told in every home, and so is she."""
    from community.cases.handoff import release_orphaned

    async with database.transaction() as session:
        await add_staff(session, "mia", "moderator")
        await add_staff(session, "ana", "moderator")
    held, _ = await _claimed_case(database, "orphan-1", "mia")
    kept, _ = await _claimed_case(database, "not-orphan", "ana")
    async with database.transaction() as session:
        await revoke_staff(session, "mia", "moderator")
        released = await release_orphaned(session, ("web", "telegram"), names=["mia"])
    assert released == [held]
    status, homes, told = await _released_state(database, held)
    assert status == "waiting" and homes == ["telegram", "web"]
    assert any("Another person from our team will be with you" in t for t in told)
    assert (await _released_state(database, kept))[0] == "claimed"
    async with database.transaction() as session:  # a second run finds nothing more
        assert await release_orphaned(session, ("web",)) == []


async def test_an_expired_moderator_releases_her_cases_and_cannot_be_given_one(
    database: Database, database_url: str, tmp_path: object
) -> None:
    """Expiry is found by the re-announcement job; a transfer to someone who cannot act now is
    refused."""
    from pathlib import Path

    from community.cases.handoff import CaseConflict, ModeratorActions
    from community.scheduling import JobContext, reannounce_job
    from community.settings import Settings

    async with database.transaction() as session:
        await add_staff(session, "lou", "moderator", expires_in=timedelta(days=1))
        await add_staff(session, "kim", "moderator")
    held, _ = await _claimed_case(database, "orphan-2", "lou")
    other, _ = await _claimed_case(database, "orphan-3", "kim")
    async with database.transaction() as session:
        lou = await session.scalar(select(Staff).where(Staff.name == "lou"))
        assert lou is not None
        lou.expires_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(CaseConflict, match="no active moderator"):
        async with database.transaction() as session:
            await ModeratorActions(session).transfer(other, "kim", "lou")
    settings = Settings(var_dir=Path(str(tmp_path)), database_url=database_url)
    await reannounce_job(JobContext(settings, database))
    assert (await _released_state(database, held))[0] == "waiting"
    assert (await _released_state(database, other))[0] == "claimed"
