"""Moderators' shifts and load (#22): who is on shift, the cap on open claimed cases per
moderator, and each moderator's cases today and this week.

A moderator is named as `Case.claimed_by` spells them: a console moderator's staff name, or a
chat account (telegram:555, discord:42) for the Telegram and Discord homes. Other staff only
ever see display names. The cap is checked inside the claim's own transaction, behind a
PostgreSQL advisory lock on the moderator (SQLite has one connection, so one writer), so two
claims at the same moment cannot both pass it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from community.db import insert_ignoring_conflicts
from community.models import (
    OPEN_SHIFT_PREDICATE,
    Case,
    CaseEvent,
    CaseStatus,
    ModeratorShift,
    Notification,
    Staff,
    utcnow,
)

log = logging.getLogger(__name__)

# A transaction-level advisory lock per moderator (two-key form, so it never meets the
# scheduler's one-key leadership lock): held until the claim commits or rolls back.
CLAIMS_LOCK = sql_text(
    "SELECT pg_advisory_xact_lock(22022, hashtext(current_schema() || '.' || :moderator))"
)


@dataclass(frozen=True)
class OnShift:
    moderator: str  # the key, never shown
    display_name: str
    since: datetime


@dataclass(frozen=True)
class Load:
    """One moderator's load, by display name: open claimed cases now, and cases claimed today
    and this week (in the community's time zone; a week starts on Monday)."""

    display_name: str
    on_shift: bool
    open_now: int
    today: int
    this_week: int


def over_cap_text(held: int, cap: int, others: list[str]) -> str:
    """The kind refusal, naming who else is on shift (or where to turn when nobody is); short
    enough for a Telegram button's alert (200 characters) with a few names."""
    holding = "1 open case" if held == 1 else f"{held} open cases"
    if others:
        turn = f"On shift now: {_listed(others)}; they can take it."
    else:
        turn = "Nobody else is on shift now: on-call hears of waiting cases."
    return (
        f"Thank you for carrying so much: you hold {holding}, the most one of us holds at "
        f"once ({cap}). Resolve or hand one back first. {turn}"
    )


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def start_shift(session: AsyncSession, moderator: str, display_name: str) -> bool:
    """Go on shift; False if already on (the display name is refreshed). Two toggles at once
    end as one shift: the partial unique index lets only one open shift per moderator."""
    name = (display_name or "").strip()[:64] or "A moderator"
    started = await session.scalar(
        insert_ignoring_conflicts(session, ModeratorShift)
        .values(moderator=moderator, display_name=name, started_at=utcnow())
        .on_conflict_do_nothing(
            index_elements=["moderator"], index_where=sql_text(OPEN_SHIFT_PREDICATE)
        )
        .returning(ModeratorShift.id)
    )
    if started is None:
        await session.execute(
            update(ModeratorShift)
            .where(ModeratorShift.moderator == moderator, ModeratorShift.ended_at.is_(None))
            .values(display_name=name)
            .execution_options(synchronize_session=False)
        )
        return False
    log.info("moderator on shift", extra={"component": "shifts"})
    return True


async def end_shift(session: AsyncSession, moderator: str) -> bool:
    """Go off shift; False if they were not on. Cases they hold stay theirs."""
    result = await session.execute(
        update(ModeratorShift)
        .where(ModeratorShift.moderator == moderator, ModeratorShift.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    ended = bool(getattr(result, "rowcount", 0))
    if ended:
        log.info("moderator off shift", extra={"component": "shifts"})
    return ended


async def on_shift(session: AsyncSession) -> list[OnShift]:
    """Who is on shift now, longest on first."""
    rows = await session.scalars(
        select(ModeratorShift)
        .where(ModeratorShift.ended_at.is_(None))
        .order_by(ModeratorShift.started_at, ModeratorShift.id)
    )
    return [OnShift(r.moderator, r.display_name, r.started_at) for r in rows]


async def is_on_shift(session: AsyncSession, moderator: str) -> bool:
    return any(shift.moderator == moderator for shift in await on_shift(session))


async def open_claimed(session: AsyncSession, moderator: str) -> int:
    return int(
        await session.scalar(
            select(func.count(Case.id)).where(
                Case.status == CaseStatus.CLAIMED.value, Case.claimed_by == moderator
            )
        )
        or 0
    )


async def refusal_over_cap(session: AsyncSession, moderator: str, cap: int) -> str | None:
    """Why `moderator` may not claim another case, when they already hold `cap` open claimed
    cases (0: no cap); None when they may. Called inside the claim's transaction: on
    PostgreSQL the moderator's claims queue here until the one before commits, and the count
    then sees it (in READ COMMITTED each statement reads what is committed when it starts)."""
    if cap <= 0:
        return None
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(CLAIMS_LOCK, {"moderator": moderator})
    held = await open_claimed(session, moderator)
    if held < cap:
        return None
    others = [s.display_name for s in await on_shift(session) if s.moderator != moderator]
    log.info("claim refused: at the cap", extra={"count": held})
    return over_cap_text(held, cap, others)


def day_and_week_start(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The start of today and of this week (Monday) in the community's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today - timedelta(days=today.weekday())


async def moderator_load(
    session: AsyncSession, timezone: str, now: datetime | None = None
) -> list[Load]:
    """Everyone on shift, holding a case or with a claim this week: heaviest week first."""
    now = now or utcnow()
    today, week = day_and_week_start(now, timezone)
    claims = (
        await session.execute(
            select(CaseEvent.actor, CaseEvent.at).where(
                CaseEvent.action == "claimed", CaseEvent.at >= week
            )
        )
    ).all()
    holding: list[tuple[str, str | None]] = [
        (key, name)
        for key, name in (
            await session.execute(
                select(Case.claimed_by, Case.claimed_by_name).where(
                    Case.status == CaseStatus.CLAIMED.value, Case.claimed_by.is_not(None)
                )
            )
        ).all()
        if key is not None
    ]
    shifts = await on_shift(session)
    names: dict[str, str] = {}
    for key, name in holding:
        if name:
            names[key] = name
    keys = (
        {actor for actor, _ in claims} | {key for key, _ in holding} | {s.moderator for s in shifts}
    )
    for staff_name, display in (
        await session.execute(
            select(Staff.name, Staff.display_name).where(Staff.name.in_(list(keys)))
        )
    ).all():
        names.setdefault(staff_name, display)
    for shift in shifts:
        names[shift.moderator] = shift.display_name
    latest = (
        await session.execute(
            select(ModeratorShift.moderator, ModeratorShift.display_name)
            .where(ModeratorShift.moderator.in_(list(keys)))
            .order_by(ModeratorShift.started_at)
        )
    ).all()
    for key, display in latest:
        names.setdefault(key, display)
    on = {s.moderator for s in shifts}
    loads = [
        Load(
            display_name=names.get(key) or "A moderator",
            on_shift=key in on,
            open_now=sum(1 for holder, _ in holding if holder == key),
            today=sum(1 for actor, at in claims if actor == key and at >= today),
            this_week=sum(1 for actor, _ in claims if actor == key),
        )
        for key in keys
    ]
    return sorted(loads, key=lambda load: (-load.this_week, -load.open_now, load.display_name))


# A notification kind for the on-call home: a case waits and nobody is on shift.
NOBODY_ON_SHIFT = "nobody_on_shift"


async def alert_oncall_when_nobody_on_shift(session: AsyncSession, home: str) -> list[int]:
    """With nobody on shift, every waiting case goes to the on-call list at once (instead of
    after the re-announcement wait): one notification per case for `home`, unless it has had
    one already. A flood's cases are in its alert and are not sent one by one."""
    if await on_shift(session):
        return []
    told = select(Notification.case_id).where(Notification.home == home)
    waiting = (
        await session.scalars(
            select(Case.id).where(
                Case.status == CaseStatus.WAITING.value,
                Case.flood_alert_id.is_(None),
                Case.id.not_in(told),
            )
        )
    ).all()
    for case_id in waiting:
        session.add(Notification(case_id=case_id, home=home, kind=NOBODY_ON_SHIFT))
    return list(waiting)
