"""Handoff cases: one open case per member, raised not duplicated, also under concurrency."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from community.cases.handoff import HandoffCases
from community.db import Database
from community.members import resolve_member
from community.models import Case, CaseEvent, CaseMessage
from safety.screen import Screening, Severity

KEY = b"k" * 48


async def open_crisis(database: Database, user: str, severity: Severity, text: str) -> bool:
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", user)
        opening = await HandoffCases(session).open_for_crisis(
            member, "web", Screening(True, "suicide", severity), text
        )
        return opening.created


async def test_a_second_crisis_raises_the_open_case(database: Database) -> None:
    assert await open_crisis(database, "u1", Severity.ELEVATED, "first")
    assert not await open_crisis(database, "u1", Severity.IMMINENT, "second")
    async with database.sessions() as session:
        cases = (await session.scalars(select(Case))).all()
        assert len(cases) == 1
        assert (cases[0].severity, cases[0].severity_rank) == ("imminent", 3)
        texts = (await session.scalars(select(CaseMessage.text).order_by(CaseMessage.id))).all()
        assert texts == ["first", "second"]
        actions = (await session.scalars(select(CaseEvent.action).order_by(CaseEvent.id))).all()
        assert actions == ["opened", "raised"]


async def test_a_lower_crisis_does_not_lower_the_case(database: Database) -> None:
    await open_crisis(database, "u2", Severity.IMMINENT, "first")
    await open_crisis(database, "u2", Severity.ELEVATED, "second")
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.severity == "imminent"


async def test_request_for_a_person_opens_a_support_case(database: Database) -> None:
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", "u3")
        opening = await HandoffCases(session).open_on_request(
            member, "web", "can i talk to someone"
        )
    assert opening.created
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and (case.category, case.severity_rank) == ("request", 0)


async def test_concurrent_crises_for_one_member_make_one_case(database: Database) -> None:
    """Four crises race per member, 20 rounds: one case each, at the highest severity."""
    for round_number in range(20):
        user = f"racer-{round_number}"
        async with database.transaction() as session:
            await resolve_member(session, KEY, "web", user)
        severities = [Severity.ELEVATED, Severity.HIGH, Severity.IMMINENT, Severity.HIGH]
        await asyncio.gather(*(open_crisis(database, user, s, s.label) for s in severities))
    async with database.sessions() as session:
        per_member = (
            await session.execute(
                select(Case.member_id, func.count(), func.max(Case.severity_rank)).group_by(
                    Case.member_id
                )
            )
        ).all()
    assert len(per_member) == 20
    assert all(count == 1 and top == 3 for _, count, top in per_member)


async def _moderator_claims(database: Database, case_id: int, name: str) -> bool:
    from community.cases.handoff import CaseConflict, ModeratorActions

    try:
        async with database.transaction() as session:
            await ModeratorActions(session).claim(case_id, name)
        return True
    except CaseConflict:
        return False


async def test_exactly_one_claim_wins_under_concurrency(database: Database) -> None:
    """Five moderators click Claim at once, 30 rounds: always exactly one winner."""
    for round_number in range(30):
        await open_crisis(database, f"claim-{round_number}", Severity.HIGH, "help")
        async with database.sessions() as session:
            case_id = await session.scalar(
                select(Case.id).join(Case.member).order_by(Case.id.desc()).limit(1)
            )
        assert case_id is not None
        wins = await asyncio.gather(
            *(_moderator_claims(database, case_id, f"mod{i}") for i in range(5))
        )
        assert sum(wins) == 1, f"round {round_number}: {wins}"


async def test_unclaimed_cases_are_reannounced_and_the_member_reminded(database: Database) -> None:
    from datetime import timedelta

    from community.cases.handoff import reannounce_overdue
    from community.models import Member, Notification, OutboxMessage
    from community.phrases import phrase

    await open_crisis(database, "waiting-mom", Severity.HIGH, "ya no quiero vivir")
    async with database.transaction() as session:
        early = await reannounce_overdue(
            session, ("web", "telegram"), timedelta(minutes=5), timedelta(minutes=15)
        )
    assert early == []
    async with database.transaction() as session:
        (await session.scalar(select(Member))).language = "es"  # type: ignore[union-attr]
    async with database.transaction() as session:
        due = await reannounce_overdue(
            session, ("web", "telegram"), timedelta(seconds=0), timedelta(seconds=0)
        )
    assert len(due) == 1
    async with database.sessions() as session:
        kinds = (await session.scalars(select(Notification.kind).order_by(Notification.id))).all()
        reminder = await session.scalar(select(OutboxMessage.text))
        case = await session.scalar(select(Case))
    assert kinds.count("reannounced") == 2 and "opened" in kinds
    assert reminder == phrase("reminder", "es")  # in her language
    assert reminder != phrase("reminder", "en") and "988" in reminder
    assert case is not None and case.reannouncements == 1


def test_a_name_that_says_who_she_is_is_not_said_twice() -> None:
    from community.cases.handoff import handed_over_text, joined_text

    assert joined_text("Sam (peer)").startswith("Sam (peer) has joined the chat.")
    assert joined_text("Ana").startswith("Ana (peer support team) has joined the chat.")
    assert handed_over_text("Ana", "Sam (peer)") == (
        "Ana has handed over to Sam (peer), who is with you now."
    )
