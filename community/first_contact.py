"""A new member's first contact in one statement on PostgreSQL: her row, her address and that she
wrote this hour.

Three inserts were three round trips inside the first transaction of every new chat, the one
every crisis from a new chat waits for. PostgreSQL runs data-modifying CTEs in one statement, so
the address and the hour's activity are inserted from the member row the same statement makes.
Other databases (SQLite), and the loser of a race for the same new member (her row is then the
winner's, and nothing is returned here), take `resolve_member` as before.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.insights.tallies import activity_hour
from community.models import DeliveryAddress, InsightActivity, Member, Role


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


@cache
def _first_contact() -> Select[Any]:
    """Built once; everything about her is a parameter."""
    members = _table(Member)
    member = (
        postgresql_insert(members)
        .values(
            pseudonym=bindparam("pseudonym"),
            role=bindparam("role"),
            created_at=bindparam("now"),
            last_seen_at=bindparam("now"),
            language=bindparam("language"),
            language_source=bindparam("language_source"),
            language_run=0,  # a CTE's insert gets no Python-side defaults: each is given
        )
        .on_conflict_do_nothing(index_elements=["pseudonym"])
        .returning(members.c.id, members.c.created_at)
        .cte("new_member")
    )
    addresses = _table(DeliveryAddress)
    address = (
        postgresql_insert(addresses)
        .from_select(
            ["member_id", "platform", "address"],
            select(
                member.c.id,
                bindparam("platform", type_=addresses.c.platform.type),
                bindparam("address", type_=addresses.c.address.type),
            ),
        )
        .on_conflict_do_nothing(index_elements=["platform", "address"])
        .cte("new_address")
    )
    activity_table = _table(InsightActivity)
    activity = (
        postgresql_insert(activity_table)
        .from_select(
            ["member_id", "hour"],
            select(member.c.id, bindparam("hour", type_=activity_table.c.hour.type)),
        )
        .on_conflict_do_nothing()
        .cte("new_activity")
    )
    return select(member.c.id, member.c.created_at).add_cte(address, activity, nest_here=False)


async def create_member_at_once(
    session: AsyncSession,
    pseudonym: str,
    platform: str,
    platform_user_id: str,
    now: datetime,
    first_language: tuple[str | None, str | None],
) -> tuple[int, datetime] | None:
    """(id, created at) of the member this statement made, with her address and this hour's
    activity; None when it made nobody (not PostgreSQL, or another message made her first)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = (
        await session.execute(
            _first_contact(),
            {
                "pseudonym": pseudonym,
                "role": Role.MOTHER.value,
                "now": now,
                "language": first_language[0],
                "language_source": first_language[1],
                "platform": platform,
                "address": platform_user_id,
                "hour": activity_hour(now),
            },
        )
    ).first()
    return None if row is None else (int(row[0]), row[1])
