"""Her own reminders (issue #21): "remind me Tuesday 9am: clinic appointment". She sets, lists
and cancels them; the bot decides nothing about them, it only says her words back at her time.

The label is her words, kept only until the reminder is sent or cancelled (then erased; the row,
with no text, goes a week later). Each is a row the scheduled job finds, so a restart loses
none. Dates and times are read with dateparser, in English and Spanish, in her time zone.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.her_time import at_local, next_at, plain, read_time_of_day
from community.members import member_language
from community.models import Member, OutboxMessage, Reminder, utcnow
from community.phrases import phrase

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
CANCELLED = "cancelled"
STATUSES = (PENDING, SENT, CANCELLED)
LABEL_LIMIT = 200
WHEN_LIMIT = 80  # "next Tuesday at 9:30am" is short; a long text is not a time to parse
MOST_PENDING = 20
FURTHEST = timedelta(days=366)
ROWS_KEPT = timedelta(days=7)
DEFAULT_MINUTE = 9 * 60  # "remind me Tuesday: ..." means Tuesday at 9 AM
# "remind me ...", "/remind ...", "recuérdame ...".
ASKED = re.compile(
    r"^\s*(?:/remind(?:@\w+)?|(?:please\s+)?remind\s+me|recu[eé]rdame|por\s+favor\s+recu[eé]rdame)"
    r"(?=\s|$|[,:])[\s,:]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
LIST_PAYLOAD = re.compile(r"^/reminders(?:@\w+)?$")
CANCEL_PAYLOAD = re.compile(r"^/reminder_cancel_(\d{1,12})$")
# Between when and what: "Tuesday 9am: clinic", "martes 9:00 - cita".
SEPARATOR = re.compile(r":\s+|\s+-\s+|\s+—\s+")
# A time of day at the end of the "when": "9am", "at 9:30", "a las 7", "19:00".
TRAILING_TIME = re.compile(
    r"(?:^|\s)((?:at\s+|a\s+las\s+|a\s+la\s+)\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?"
    r"|\d{1,2}[:.]\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.))$"
)
RELATIVE = re.compile(r"\b(?:hour|hours|minute|minutes|hora|horas|minuto|minutos)\b")
WEEKDAYS = {
    name: index
    for names in (
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"),
    )
    for index, name in enumerate(names)
}
FILLER = re.compile(r"^(?:on|this|next|el|la|este|esta|el\s+proximo|el\s+proxima)\s+")


@dataclass(frozen=True)
class ReadReminder:
    """Her reminder as read: when (UTC) and her words; or `problem`, a phrase key."""

    when: datetime | None = None
    label: str = ""
    problem: str = ""


def asked(text: str) -> str | None:
    """What follows "remind me" (maybe ""), or None when the text is not asking for one."""
    found = ASKED.match(text)
    return found.group(1).strip() if found else None


def read(rest: str, zone: str, now: datetime) -> ReadReminder:
    """ "Tuesday 9am: clinic appointment" -> when and what, in her zone."""
    parts = SEPARATOR.split(rest.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return ReadReminder(problem="reminder_how")
    if len(parts[0]) > WHEN_LIMIT:
        return ReadReminder(problem="reminder_when_unclear")
    when = read_when(parts[0], zone, now)
    if when is None:
        return ReadReminder(problem="reminder_when_unclear")
    if when <= now:
        return ReadReminder(problem="reminder_past")
    if when > now + FURTHEST:
        return ReadReminder(problem="reminder_too_far")
    return ReadReminder(when, " ".join(parts[1].split())[:LABEL_LIMIT])


def read_when(words: str, zone: str, now: datetime) -> datetime | None:
    """A moment from her words ("Tuesday 9am", "mañana a las 3pm", "in 2 hours"), in UTC."""
    said = FILLER.sub("", plain(words))
    timed = TRAILING_TIME.search(said)
    minute = read_time_of_day(timed.group(1)) if timed else None
    day_words = said[: timed.start()].strip() if timed else said
    if minute is not None and not day_words:
        return next_at(now, minute, zone)  # "9pm": the next 9 pm
    weekday = _on_weekday(day_words, DEFAULT_MINUTE if minute is None else minute, zone, now)
    if weekday is not None:
        return weekday
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    try:
        found = dateparser.parse(
            day_words,
            languages=["en", "es"],
            settings={
                "PREFER_DATES_FROM": "future",
                "TIMEZONE": zone,
                "RETURN_AS_TIMEZONE_AWARE": True,
                "RELATIVE_BASE": local_now,
            },
        )
    except (ValueError, OverflowError):  # a year 99999, a day 0: not a moment
        return None
    if not isinstance(found, datetime):
        return None
    if minute is None and RELATIVE.search(day_words):
        return found.astimezone(ZoneInfo("UTC"))  # "in 2 hours"
    return at_local(found.date(), DEFAULT_MINUTE if minute is None else minute, zone)


def _on_weekday(day_words: str, minute: int, zone: str, now: datetime) -> datetime | None:
    """ "Tuesday 9am": the next Tuesday at 9 that is still ahead (today if it is Tuesday and
    9 has not come yet). None unless the day is a weekday's name alone."""
    if day_words not in WEEKDAYS:
        return None
    today = now.astimezone(ZoneInfo(zone)).date()
    ahead = (WEEKDAYS[day_words] - today.weekday()) % 7
    moment = at_local(today + timedelta(days=ahead), minute, zone)
    return moment if moment > now else at_local(today + timedelta(days=ahead + 7), minute, zone)


async def add(
    session: AsyncSession,
    member: Member,
    platform: str,
    reminder: ReadReminder,
    zone: str,
) -> Reminder | None:
    """Keep her reminder; None when she already has the most a member may have waiting."""
    assert reminder.when is not None
    waiting = await session.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.member_id == member.id, Reminder.status == PENDING)
    )
    if (waiting or 0) >= MOST_PENDING:
        return None
    row = Reminder(
        member_id=member.id,
        platform=platform,
        label=reminder.label,
        due_at=reminder.when,
        timezone=zone,
        status=PENDING,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    log.info("reminder set", extra={"reminder_id": row.id})
    return row


async def waiting(session: AsyncSession, member_id: int) -> list[Reminder]:
    """Her reminders not yet sent, soonest first."""
    return list(
        (
            await session.scalars(
                select(Reminder)
                .where(Reminder.member_id == member_id, Reminder.status == PENDING)
                .order_by(Reminder.due_at)
            )
        ).all()
    )


async def cancel(session: AsyncSession, member_id: int, reminder_id: int) -> bool:
    """Cancel one of hers (her words go at once); False when it is not hers or not waiting."""
    row = await session.get(Reminder, reminder_id, with_for_update=True)
    if row is None or row.member_id != member_id or row.status != PENDING:
        return False
    row.status, row.label, row.done_at = CANCELLED, None, utcnow()
    return True


async def send_due(session: AsyncSession, now: datetime | None = None) -> int:
    """Send the reminders that are due (at the time she chose: quiet hours are the community's
    and do not hold back her own reminder), erase their words, and remove rows done a week ago.
    Returns how many were sent. Run by the scheduler; all state is in the table."""
    now = now or utcnow()
    due = (
        await session.scalars(
            select(Reminder)
            .where(Reminder.status == PENDING, Reminder.due_at <= now)
            .order_by(Reminder.due_at)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for row in due:
        language = await member_language(session, row.member_id)
        session.add(
            OutboxMessage(
                member_id=row.member_id,
                platform=row.platform,
                text=phrase("reminder_due", language, label=row.label or ""),
            )
        )
        row.status, row.label, row.done_at = SENT, None, now
    await session.execute(
        delete(Reminder).where(Reminder.status != PENDING, Reminder.done_at < now - ROWS_KEPT)
    )
    return len(due)


async def reminder_counts(session: AsyncSession) -> dict[str, int]:
    """For the team's stats: reminders by status (never their words)."""
    counts = {status: 0 for status in STATUSES}
    rows = await session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
    counts.update({str(status): int(n) for status, n in rows.all()})
    return counts
