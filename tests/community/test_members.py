"""Members: pseudonyms from HMAC, created on first contact, platform ids in one table only."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from community.db import Database
from community.members import delivery_address, pseudonym_for, resolve_member
from community.models import DeliveryAddress, Member

KEY = b"k" * 48


def test_pseudonym_is_stable_keyed_and_platform_specific() -> None:
    assert pseudonym_for(KEY, "telegram", "42") == pseudonym_for(KEY, "telegram", "42")
    assert pseudonym_for(KEY, "telegram", "42") != pseudonym_for(KEY, "discord", "42")
    assert pseudonym_for(KEY, "telegram", "42") != pseudonym_for(b"x" * 48, "telegram", "42")
    assert pseudonym_for(KEY, "ab", "c") != pseudonym_for(KEY, "a", "bc")
    assert "42" not in pseudonym_for(KEY, "telegram", "42")


async def test_first_contact_creates_one_member_with_its_address(database: Database) -> None:
    async with database.transaction() as session:
        first = await resolve_member(session, KEY, "telegram", "12345")
    async with database.transaction() as session:
        again = await resolve_member(session, KEY, "telegram", "12345")
        assert again.id == first.id
        assert await delivery_address(session, first.id, "telegram") == "12345"
        members = await session.scalar(select(func.count()).select_from(Member))
        assert members == 1
        # The platform id is only in the delivery table.
        stored = await session.scalar(select(Member).where(Member.id == first.id))
        assert stored is not None and "12345" not in stored.pseudonym


async def test_concurrent_first_messages_make_one_member(database: Database) -> None:
    async def contact() -> int:
        async with database.transaction() as session:
            return (await resolve_member(session, KEY, "web", "same-person")).id

    ids = await asyncio.gather(*(contact() for _ in range(8)))
    assert len(set(ids)) == 1
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryAddress)) == 1


async def test_a_member_known_to_be_new_is_created_once_even_if_she_was_not(
    database: Database,
) -> None:
    """The caller's read found nobody (`known_new`), but another message made her meanwhile:
    the insert meets the conflict and she is read, not made twice."""
    async with database.transaction() as session:
        made = await resolve_member(session, KEY, "web", "raced", known_new=True)
    async with database.transaction() as session:
        again = await resolve_member(session, KEY, "web", "raced", known_new=True)
        assert again.id == made.id and again.pseudonym == made.pseudonym
        assert await session.scalar(select(func.count()).select_from(Member)) == 1
        assert await session.scalar(select(func.count()).select_from(DeliveryAddress)) == 1


async def test_a_new_member_is_written_with_her_first_language(database: Database) -> None:
    """Her first message decides her language: the row is made with it, and her state says so."""
    from community.member_state import member_state

    async with database.transaction() as session:
        state = await member_state(session, KEY, "web", "hola", first_language=("es", "written"))
    assert (state.language, state.language_source, state.created_now) == ("es", "written", True)
    async with database.sessions() as session:
        stored = (await session.execute(select(Member.language, Member.language_source))).one()
    assert tuple(stored) == ("es", "written")
    async with database.transaction() as session:  # known now: the argument is not applied again
        again = await member_state(session, KEY, "web", "hola", first_language=("en", "hint"))
    assert (again.language, again.created_now) == ("es", False)


async def test_first_contact_on_postgresql_is_one_statement(database: Database) -> None:
    """Her row, her address and this hour's activity, in one round trip on PostgreSQL; made by
    someone else first (or SQLite), nothing here, and the caller takes resolve_member."""
    from sqlalchemy import event

    from community.first_contact import create_member_at_once
    from community.models import InsightActivity, utcnow

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with database.transaction() as session:
            made = await create_member_at_once(
                session, pseudonym_for(KEY, "web", "new"), "web", "new", utcnow(), ("es", "hint")
            )
            again = await create_member_at_once(
                session, pseudonym_for(KEY, "web", "new"), "web", "new", utcnow(), ("en", "hint")
            )
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    if database.engine.dialect.name != "postgresql":
        assert made is None and again is None and statements == []
        return
    assert made is not None and again is None
    assert len([s for s in statements if "INSERT" in s]) == 2  # one each call
    async with database.sessions() as session:
        member = (await session.execute(select(Member.id, Member.language))).one()
        assert tuple(member) == (made[0], "es")
        assert await delivery_address(session, made[0], "web") == "new"
        assert await session.scalar(select(func.count()).select_from(InsightActivity)) == 1
