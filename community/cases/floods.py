"""Flood alerts: many crisis messages from new chats at once, one alert for moderators.

Each message of a flood got the crisis reply at once (the gateway sends it before anything is
written); what moderators get is one alert per address or per wording, with a count and a
sample, and a notice in each chat home when it opens and as it grows, so hundreds of fake cases
cannot bury a real one. A crisis from a member who was here before the flood, or that is not
part of it, still opens her own case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from community.cases.flags import CHAT_HOMES
from community.db import insert_ignoring_conflicts
from community.flood_guard import Flood
from community.models import Case, CaseStatus, FloodAlert, HomePost, utcnow

# The alert is posted again to chat homes when its count reaches these.
MILESTONES = (10, 100, 1000, 10000)
# Cases opened this recently by the chats of a flood join its alert when it opens.
GATHER_WINDOW = timedelta(minutes=10)
KIND_NAMES = {"address": "from one address", "words": "with the same words, from many chats"}


class FloodAlertNotFound(LookupError):
    pass


@dataclass(frozen=True)
class FloodAlertView:
    id: int
    kind: str
    count: int
    sample: str
    first_at: datetime
    last_at: datetime


def alert_notice(alert_id: int, kind: str, count: int, sample: str) -> str:
    return (
        f"⚠ Flood alert {alert_id}: {count} crisis message(s) from new chats "
        f"{KIND_NAMES.get(kind, kind)}. Each got the crisis numbers at once; no case was opened "
        f'for them. A sample: "{sample}". A member who was here before still gets her own case. '
        f"/floods lists alerts; the web console can close this one."
    )


async def count_into_alert(session: AsyncSession, flood: Flood, homes: tuple[str, ...]) -> int:
    """Add one message to its alert (opened, or reopened if it was closed); returns its id."""
    now = utcnow()
    await session.execute(
        insert_ignoring_conflicts(session, FloodAlert)
        .values(
            kind=flood.kind,
            signature=flood.signature,
            count=0,
            sample=flood.sample,
            first_at=now,
            last_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "signature"])
    )
    alert = await session.scalar(
        select(FloodAlert)
        .where(FloodAlert.kind == flood.kind, FloodAlert.signature == flood.signature)
        .with_for_update()
    )
    if alert is None:  # pragma: no cover - the insert or the other writer made it
        raise RuntimeError("flood alert missing after insert")
    # Read before the update below, which refreshes these attributes in the session.
    reopened = alert.resolved_at is not None
    opened = reopened or alert.count == 0
    before = 0 if opened else alert.count
    first_sample = alert.sample
    values: dict[str, object] = {"count": FloodAlert.count + 1, "last_at": now}
    if reopened:
        values |= {"count": 1, "first_at": now, "resolved_at": None, "resolved_by": None}
        values["sample"] = flood.sample
    await session.execute(update(FloodAlert).where(FloodAlert.id == alert.id).values(**values))
    count = before + 1
    if opened:
        # Its first messages opened cases before it was a flood: they join it now, unless a
        # moderator has one already, and sink below every other case.
        count += await _gather_first_cases(session, alert.id, flood, now)
    if opened or any(before < mark <= count for mark in MILESTONES):
        sample = flood.sample if reopened else first_sample
        notice = alert_notice(alert.id, flood.kind, count, sample)
        for home in homes:
            if home in CHAT_HOMES:
                session.add(HomePost(home=home, text=notice))
    return alert.id


async def _gather_first_cases(
    session: AsyncSession, alert_id: int, flood: Flood, now: datetime
) -> int:
    signature = Case.address_signature if flood.kind == "address" else Case.words_signature
    result = await session.execute(
        update(Case)
        .where(
            signature == flood.signature,
            Case.status == CaseStatus.WAITING.value,
            Case.flood_alert_id.is_(None),
            Case.opened_at > now - GATHER_WINDOW,
        )
        .values(flood_alert_id=alert_id)
        .execution_options(synchronize_session=False)
    )
    gathered = int(getattr(result, "rowcount", 0) or 0)
    if gathered:
        await session.execute(
            update(FloodAlert)
            .where(FloodAlert.id == alert_id)
            .values(count=FloodAlert.count + gathered)
        )
    return gathered


async def open_alerts(session: AsyncSession, limit: int = 50) -> list[FloodAlertView]:
    """Open alerts, the most recently active first."""
    alerts = await session.scalars(
        select(FloodAlert)
        .where(FloodAlert.resolved_at.is_(None))
        .order_by(FloodAlert.last_at.desc())
        .limit(limit)
    )
    return [FloodAlertView(a.id, a.kind, a.count, a.sample, a.first_at, a.last_at) for a in alerts]


async def close_alert(session: AsyncSession, alert_id: int, moderator: str) -> None:
    """A moderator has seen it; the next message of the same flood opens it again."""
    result = await session.execute(
        update(FloodAlert)
        .where(FloodAlert.id == alert_id, FloodAlert.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by=moderator[:64])
    )
    if not getattr(result, "rowcount", 0):
        raise FloodAlertNotFound(alert_id)


async def join_open_alerts(connection: AsyncConnection | AsyncSession, case_ids: list[int]) -> int:
    """New cases whose flood's alert opened while they were being written join it, as its
    first cases would have been gathered (`_gather_first_cases` sees only committed cases, and
    a case written in a group commit may still be in flight when its flood is noticed). In the
    cases' own transaction; returns how many joined."""
    if not case_ids:
        return 0
    same_flood = or_(
        and_(FloodAlert.kind == "address", FloodAlert.signature == Case.address_signature),
        and_(FloodAlert.kind == "words", FloodAlert.signature == Case.words_signature),
    )
    joined = (
        await connection.execute(
            update(Case)
            .where(
                Case.id.in_(case_ids),
                Case.flood_alert_id.is_(None),
                FloodAlert.resolved_at.is_(None),
                same_flood,
            )
            .values(flood_alert_id=FloodAlert.id)
            .returning(Case.flood_alert_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for (alert_id,) in joined:
        await connection.execute(
            update(FloodAlert)
            .where(FloodAlert.id == alert_id)
            .values(count=FloodAlert.count + 1)
            .execution_options(synchronize_session=False)
        )
    return len(joined)
