"""Research publication and data on both databases: a repeated fan-out adds nobody twice,
quiet hours and the weekly cap hold, closed questions go to nobody, opting out stops what is
waiting, de-identification removes what it should, and deleting a member removes every
research row of hers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from community.db import Database
from community.members import resolve_member
from community.models import Member, OutboxMessage, Staff, utcnow
from community.my_data import delete_member
from community.research.answers import record_consent, store_answer
from community.research.deidentify import deidentify
from community.research.member_questions import ask
from community.research.models import (
    DeliveryState,
    MemberQuestion,
    PendingInput,
    ResearchAnswer,
    ResearchConsent,
    ResearchDelivery,
    ResearchPreference,
    ResearchQuestion,
)
from community.research.preferences import set_preference
from community.research.publication import fan_out_due, queue_due, quiet_now
from community.research.questions import approve, schedule, submit
from community.settings import Settings
from community.staff import add_staff

KEY = b"k" * 32


@pytest.fixture
def open_hours(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"research_quiet_start_hour": 0, "research_quiet_end_hour": 0}
    )


async def _mothers(database: Database, count: int, opted_in: bool = True) -> list[int]:
    ids = []
    async with database.transaction() as session:
        for n in range(count):
            member = await resolve_member(session, KEY, "web", f"mom-{n}")
            if opted_in:
                await set_preference(session, member.id, "web", ["questions"], True)
            ids.append(member.id)
    return ids


_names = iter(range(1000))


async def _published_question(database: Database, closes_in: timedelta | None = None) -> int:
    """An approved question by a new researcher, due for publication now."""
    name = f"researcher-{next(_names)}"
    async with database.transaction() as session:
        await add_staff(session, name, "researcher")
    async with database.transaction() as session:
        staff_id = await session.scalar(select(Staff.id).where(Staff.name == name))
        assert staff_id is not None
        closes = utcnow() + closes_in if closes_in else None
        question = await submit(session, staff_id, "What helps you?", "Context.", True, closes)
        await approve(session, question.id, "mia")
        await schedule(session, question.id, None)
        return question.id


async def _outbox_per_member(database: Database) -> dict[int, int]:
    async with database.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.member_id, func.count()).group_by(OutboxMessage.member_id)
            )
        ).all()
    return {member: count for member, count in rows}


async def test_fan_out_and_queueing_repeated_add_nobody_twice(
    database: Database, open_hours: Settings
) -> None:
    members = await _mothers(database, 30)
    await _mothers_not_opted_in(database)
    question_id = await _published_question(database)
    for _ in range(2):  # as after a crash between the steps
        async with database.transaction() as session:
            await fan_out_due(session, (), utcnow())
        async with database.transaction() as session:
            await queue_due(session, open_hours, utcnow())
    async with database.transaction() as session:
        # Even with the question set back to approved, the unique pair keeps it at one each.
        question = await session.get(ResearchQuestion, question_id)
        assert question is not None
        question.status = "approved"
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())
    async with database.transaction() as session:
        await queue_due(session, open_hours, utcnow())
    assert await _outbox_per_member(database) == {m: 1 for m in members}


async def _mothers_not_opted_in(database: Database) -> None:
    async with database.transaction() as session:
        await resolve_member(session, KEY, "web", "not-opted-in")


async def test_the_weekly_cap_defers_the_rest(database: Database, open_hours: Settings) -> None:
    [member] = await _mothers(database, 1)
    for _ in range(3):
        await _published_question(database)
    now = utcnow()
    async with database.transaction() as session:
        await fan_out_due(session, (), now)
    async with database.transaction() as session:
        await queue_due(session, open_hours, now)
    assert await _outbox_per_member(database) == {member: open_hours.research_weekly_cap}
    async with database.sessions() as session:
        waiting = (
            await session.scalars(
                select(ResearchDelivery).where(
                    ResearchDelivery.state == DeliveryState.PENDING.value
                )
            )
        ).all()
    assert len(waiting) == 1
    assert waiting[0].not_before >= now + timedelta(days=7) - timedelta(seconds=1)


async def test_quiet_hours_hold_nothing_back_when_open(
    database: Database, settings: Settings
) -> None:
    await _mothers(database, 2)
    await _published_question(database)
    tomorrow = (utcnow() + timedelta(days=1)).date()
    night = datetime.combine(tomorrow, time(3, 0), tzinfo=UTC)  # 22:00 in New York
    async with database.transaction() as session:
        await fan_out_due(session, (), night)
    async with database.transaction() as session:
        assert await queue_due(session, settings, night) == 0
    assert await _outbox_per_member(database) == {}
    morning = datetime.combine(tomorrow, time(15, 0), tzinfo=UTC)  # 10:00 or 11:00 there
    async with database.transaction() as session:
        await queue_due(session, settings, morning)
    assert sorted((await _outbox_per_member(database)).values()) == [1, 1]


def test_quiet_hours_read_in_the_community_time_zone(settings: Settings) -> None:
    assert quiet_now(settings, datetime(2026, 6, 1, 2, 0, tzinfo=UTC))  # 22:00 EDT
    assert quiet_now(settings, datetime(2026, 6, 1, 12, 59, tzinfo=UTC))  # 08:59 EDT
    assert not quiet_now(settings, datetime(2026, 6, 1, 13, 0, tzinfo=UTC))  # 09:00 EDT
    assert not quiet_now(settings, datetime(2026, 6, 1, 0, 59, tzinfo=UTC))  # 20:59 EDT
    daytime = settings.model_copy(
        update={"research_quiet_start_hour": 9, "research_quiet_end_hour": 17}
    )
    assert quiet_now(daytime, datetime(2026, 6, 1, 14, 0, tzinfo=UTC))


async def test_opting_out_skips_what_was_waiting(database: Database, open_hours: Settings) -> None:
    [member] = await _mothers(database, 1)
    await _published_question(database)
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())
        await set_preference(session, member, "web", ["questions"], False)
    async with database.transaction() as session:
        await queue_due(session, open_hours, utcnow())
    assert await _outbox_per_member(database) == {}


async def test_a_closed_question_goes_to_nobody(database: Database, open_hours: Settings) -> None:
    await _mothers(database, 1)
    await _published_question(database, closes_in=timedelta(seconds=1))
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())
    later = utcnow() + timedelta(minutes=1)
    async with database.transaction() as session:
        await queue_due(session, open_hours, later)
    assert await _outbox_per_member(database) == {}


async def test_deleting_a_member_removes_her_research_data(database: Database) -> None:
    [member_id, other] = await _mothers(database, 2)
    question_id = await _published_question(database)
    async with database.transaction() as session:
        await fan_out_due(session, (), utcnow())
        for who in (member_id, other):
            await record_consent(session, question_id, who, True)
            await store_answer(session, question_id, who, "Being listened to.")
            await ask(session, who, "web", "How do you pick topics?")
            await ask(session, who, "web", "Do you pay moms who take part?", draft=True)
        session.add(PendingInput(member_id=member_id, kind="ask"))
    async with database.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        await delete_member(session, member)
    async with database.sessions() as session:
        for model in (
            ResearchPreference, ResearchDelivery, ResearchConsent, ResearchAnswer,
            MemberQuestion, PendingInput,
        ):  # fmt: skip
            left = await session.scalar(
                select(func.count()).select_from(model).where(model.member_id == member_id)
            )
            assert left == 0, model.__tablename__
        others = await session.scalar(
            select(func.count())
            .select_from(ResearchAnswer)
            .where(ResearchAnswer.member_id == other)
        )
        assert others == 1
        her_questions = await session.scalars(
            select(MemberQuestion.status).where(MemberQuestion.member_id == other)
        )
        assert sorted(her_questions.all()) == ["draft", "queued"]


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("My name is Jessica Brown and my son Liam was born 3/14/2025.",
         ["Jessica", "Brown", "Liam", "3/14"], ["my son", "born"]),
        ("Text me at 555.123.4567 or +1 (555) 987-6543", ["123", "987"], ["Text me"]),
        ("email jess_b+1@mail.example.org", ["jess_b", "example"], ["email"]),
        ("I live at 1200 North Lake Shore Drive, Apt 4B, Chicago 60611",
         ["1200", "Lake Shore", "4B", "60611", "Chicago"], ["I live at"]),
        ("my caseworker Ms. Ramirez said no, my baby is called Nova",
         ["Ramirez", "Nova"], ["caseworker", "said no"]),
        ("Born January 5th, 1996. Case number 20231234567.", ["January", "1996", "2023123"], []),
        ("find me @jessb on insta or https://facebook.com/jess", ["jessb", "facebook"], []),
        ("I'm Dana.\nThanks for asking.\n- Kayla", ["Dana", "Kayla"], ["Thanks for asking"]),
        ("I am tired and scared but I am on methadone 80mg since 2019",
         [], ["I am tired and scared", "methadone 80mg", "2019"]),
    ],
)  # fmt: skip
def test_deidentify(text: str, gone: list[str], kept: list[str]) -> None:
    result = deidentify(text)
    for part in gone:
        assert part not in result, result
    for part in kept:
        assert part in result, result


async def test_only_mothers_a_question_reached_can_answer_it_once_each(
    database: Database, open_hours: Settings
) -> None:
    """Fresh ids typing /answer_N, /consent_N and text to a question never sent to them are
    refused and nothing is stored; a mother it reached who answers twice leaves one answer, the
    second."""
    from bots.research_flow import ResearchFlow, parse_command
    from community.messages import InboundMessage

    await _mothers(database, 1)
    question_id = await _published_question(database)
    async with database.transaction() as session:
        await fan_out_due(session, ("web",), utcnow())
    async with database.transaction() as session:
        await queue_due(session, open_hours, utcnow())
    flow = ResearchFlow(database, KEY)

    async def say(user: str, text: str) -> str:
        command = parse_command(text)
        message = InboundMessage("web", user, text)
        if command is not None:
            replies = await flow.command(message, command)
        else:
            replies = await flow.take_input(message, text) or []
        return " ".join(r.text for r in replies)

    for stuffer in ("stuffer-a", "stuffer-b"):
        for text in (f"/answer_{question_id}", f"/consent_{question_id}"):
            assert "wasn't sent to you" in await say(stuffer, text)
        assert await say(stuffer, "my made-up answer") == ""  # nothing was expected from her
    await say("mom-0", f"/answer_{question_id}")
    await say("mom-0", f"/consent_{question_id}")
    await say("mom-0", "talking to other moms helps")
    await say("mom-0", f"/answer_{question_id}")
    await say("mom-0", "talking to other moms helps, and my nurse")
    async with database.sessions() as session:
        answers = (
            await session.scalars(
                select(ResearchAnswer.text).where(ResearchAnswer.question_id == question_id)
            )
        ).all()
    assert list(answers) == ["talking to other moms helps, and my nurse"]
