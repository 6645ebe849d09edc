"""Group commit of new crisis cases: crises arriving together share a transaction, each gets its
whole case, a lone one is written at once, and a failed batch costs no crisis its case."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from community.cases.crisis_writes import CrisisCaseWriter, NewCrisisCase
from community.cases.handoff import HandoffCases
from community.db import Database
from community.members import resolve_member
from community.models import Case, CaseEvent, CaseMessage, Notification
from safety.screen import Screening, Severity

KEY = b"k" * 48
HOMES = ("web", "telegram")


async def new_members(database: Database, count: int) -> list[int]:
    async with database.transaction() as session:
        return [(await resolve_member(session, KEY, "web", f"m{n}")).id for n in range(count)]


def crisis(member_id: int, text: str = "i want to die", **extra: str) -> NewCrisisCase:
    return NewCrisisCase(
        member_id=member_id, platform="web", category="suicide", severity="imminent", rank=3,
        text=text, reply="You are not alone. Call or text 988.", **extra,
    )  # fmt: skip


async def test_crises_arriving_together_share_a_transaction_and_each_has_its_whole_case(
    database: Database,
) -> None:
    members = await new_members(database, 30)
    writer = CrisisCaseWriter(database, HOMES)
    case_ids = await asyncio.gather(*(writer.open(crisis(m, f"help {m}")) for m in members))
    assert all(case_id is not None for case_id in case_ids)
    assert len(set(case_ids)) == 30
    # All thirty were waiting when the writer began: one transaction.
    assert writer.transactions == 1
    async with database.sessions() as session:
        cases = (await session.execute(select(Case.id, Case.member_id, Case.status))).all()
        assert sorted(member for _, member, _ in cases) == sorted(members)
        assert {status for _, _, status in cases} == {"waiting"}
        for case_id, member_id, _ in cases:
            turns = (
                await session.execute(
                    select(CaseMessage.author, CaseMessage.text)
                    .where(CaseMessage.case_id == case_id)
                    .order_by(CaseMessage.id)
                )
            ).all()
            assert turns == [
                ("member", f"help {member_id}"),
                ("bot", "You are not alone. Call or text 988."),
            ]
        events = (
            await session.execute(select(CaseEvent.action, func.count()).group_by(CaseEvent.action))
        ).all()
        assert events == [("opened", 30)]
        homes = (
            await session.execute(
                select(Notification.home, func.count()).group_by(Notification.home)
            )
        ).all()
        assert sorted(homes) == [("telegram", 30), ("web", 30)]


async def test_a_lone_crisis_is_written_at_once_with_its_signatures(database: Database) -> None:
    (member,) = await new_members(database, 1)
    writer = CrisisCaseWriter(database, HOMES)
    case_id = await asyncio.wait_for(
        writer.open(crisis(member, address_signature="a" * 32, words_signature="w" * 32)), 5
    )
    assert writer.transactions == 1
    async with database.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        assert (case.address_signature, case.words_signature) == ("a" * 32, "w" * 32)
        assert (case.category, case.severity, case.severity_rank) == ("suicide", "imminent", 3)


async def test_a_member_with_an_open_case_gets_none_and_no_second_case(database: Database) -> None:
    """Her case was opened between her state's read and the write: the caller raises that one."""
    first, second = await new_members(database, 2)
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "web", "m0")
        await HandoffCases(session).open_for_crisis(
            member, "web", Screening(True, "suicide", Severity.ELEVATED), "earlier"
        )
    writer = CrisisCaseWriter(database, HOMES)
    # Two crises of hers at once and one of another member's: one batch cannot hold both of
    # hers, and neither may open a second case.
    results = await asyncio.gather(
        writer.open(crisis(first, "again")),
        writer.open(crisis(second)),
        writer.open(crisis(first, "and again")),
    )
    assert results[0] is None and results[2] is None and results[1] is not None
    async with database.sessions() as session:
        per_member = dict(
            (
                await session.execute(select(Case.member_id, func.count()).group_by(Case.member_id))
            ).all()
        )
        assert per_member == {first: 1, second: 1}


async def test_a_failed_batch_writes_each_crisis_alone_and_only_the_bad_one_fails(
    database: Database,
) -> None:
    members = await new_members(database, 4)
    writer = CrisisCaseWriter(database, HOMES)
    missing_member = max(members) + 1000  # no such member: its row breaks the batch's insert
    results = await asyncio.gather(
        writer.open(crisis(members[0])),  # written alone, at once
        *(writer.open(crisis(m)) for m in members[1:]),
        writer.open(crisis(missing_member)),
        return_exceptions=True,
    )
    assert all(isinstance(case_id, int) for case_id in results[:4]), results
    assert isinstance(results[4], Exception)
    async with database.sessions() as session:
        assert await session.scalar(select(func.count(Case.id))) == 4
        assert await session.scalar(select(func.count(Notification.id))) == 4 * len(HOMES)


@pytest.mark.parametrize("count", [1, 3])
async def test_every_crisis_waits_for_its_commit(database: Database, count: int) -> None:
    """What a caller is told is committed: another connection reads the case at once."""
    members = await new_members(database, count)
    writer = CrisisCaseWriter(database, HOMES)
    other = Database.connect(str(database.engine.url.render_as_string(hide_password=False)))
    try:
        for case_id in await asyncio.gather(*(writer.open(crisis(m)) for m in members)):
            async with other.sessions() as session:
                assert await session.get(Case, case_id) is not None
    finally:
        await other.dispose()


async def test_a_case_written_after_its_flood_was_noticed_joins_the_alert(
    database: Database,
) -> None:
    """Its flood's alert opened while the case was waiting to be written (its first cases were
    gathered without it): it joins the alert, and sinks below the other cases, all the same."""
    from community.cases.floods import count_into_alert
    from community.flood_guard import Flood
    from community.models import FloodAlert

    (member,) = await new_members(database, 1)
    async with database.transaction() as session:
        alert_id = await count_into_alert(session, Flood("words", "w" * 32, "i took my pills"), ())
    writer = CrisisCaseWriter(database, HOMES)
    case_id = await writer.open(crisis(member, words_signature="w" * 32))
    other = await writer.open(crisis((await new_members(database, 2))[1], words_signature="x" * 32))
    async with database.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None and case.flood_alert_id == alert_id
        unrelated = await session.get(Case, other)
        assert unrelated is not None and unrelated.flood_alert_id is None
        alert = await session.get(FloodAlert, alert_id)
        assert alert is not None and alert.count == 2
