"""Staff accounts acting from a chat: a link code works once and only while fresh, a revoked
account stops working, and blocking from a case thread is a moderator's command there."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bots.moderating import act_in_case_thread
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
    refused = await act_in_case_thread(database, case_id, "mia", "Mia", "/block soon")
    assert "/block DAYS REASON" in refused
    async with database.sessions() as session:
        assert not await is_blocked(session, member_id)
    done = await act_in_case_thread(database, case_id, "mia", "Mia", "/block 3 threats to staff")
    assert "Blocked for 3 days" in done
    async with database.sessions() as session:
        assert await is_blocked(session, member_id)
