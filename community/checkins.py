"""Check-ins she chooses (issue #21): every few days or weekly, at a time of her day, for up to a
pregnancy and the baby's first year; paused, resumed or stopped with a word.

Her choice is one row (`checkin_schedules`); the scheduled job finds what is due from the table,
so a restart loses nothing. Each check-in it sends is a `follow_ups` row (scheduled_by
"checkin") with the follow-ups' own three buttons, so "Not great" offers a person and "I need
someone now" opens a case exactly as after a case. Quiet hours are respected: a check-in due in
them goes out when they end. No text of hers is kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community import followups
from community.her_time import (
    at_local,
    next_at,
    plain,
    read_time_of_day,
    say_time_of_day,
    zone_name,
)
from community.members import member_language
from community.models import (
    OPEN_CASE_STATUSES,
    Case,
    CheckinSchedule,
    FollowUp,
    Member,
    OutboxMessage,
    utcnow,
)
from community.phrases import phrase

log = logging.getLogger(__name__)

ACTIVE = "active"
PAUSED = "paused"
STOPPED = "stopped"
ENDED = "ended"
SCHEDULE_STATUSES = (ACTIVE, PAUSED, STOPPED, ENDED)
EVERY_CHOICES = (3, 7)  # every few days, or once a week
# The times offered as buttons (minutes after midnight, her time); she may type any other.
TIME_CHOICES = (9 * 60, 13 * 60, 19 * 60)
# "/checkins", "/checkins 7 8pm", and the buttons' payloads.
PAYLOAD = re.compile(
    r"^/checkins(?:@\w+)?(?:_(every|set|pause|resume|stop)(?:_(\d{1,2}))?(?:_(\d{1,4}))?)?"
    r"(?:\s+(.*))?$",
    re.DOTALL,
)
# What she may write instead of a button (compared after `plain`).
PAUSE_WORDS = frozenset(
    {
        "pause check ins", "pause checkins", "pause my check ins", "pause my checkins",
        "pausar check ins", "pausar los check ins", "pausar mis check ins", "pausar mensajes",
        "pausar los mensajes", "pausa los mensajes", "pausa los check ins",
    }
)  # fmt: skip
RESUME_WORDS = frozenset(
    {
        "resume check ins", "resume checkins", "resume my check ins", "restart check ins",
        "reanudar check ins", "reanudar los check ins", "reanudar mensajes",
        "reanudar los mensajes", "seguir con los mensajes",
    }
)  # fmt: skip
STOP_WORDS = frozenset(
    {
        "stop check ins", "stop checkins", "stop my check ins", "stop my checkins",
        "no more check ins", "parar check ins", "parar los check ins", "detener check ins",
        "detener los check ins", "parar mensajes", "parar los mensajes", "detener los mensajes",
        "no mas check ins", "no mas mensajes",
    }
)  # fmt: skip
# One word answers a check-in that has just come: "pause" or "stop" (and in Spanish).
BARE_PAUSE = frozenset({"pause", "pausa", "pausar"})
BARE_STOP = frozenset({"stop", "parar", "para", "detener", "basta"})
RECENT_CHECKIN = timedelta(days=2)


@dataclass(frozen=True)
class CheckinRequest:
    """What she asked: "menu", "every" (then the time), "set", "pause", "resume" or "stop"."""

    action: str
    every_days: int | None = None
    at_minute: int | None = None


@dataclass(frozen=True)
class CheckinReply:
    """What she is told back: a phrase key, its values, and its buttons (phrase key, payload)."""

    key: str
    values: tuple[tuple[str, str], ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()


def read_request(text: str) -> CheckinRequest | None:
    """Her request from a command, a button or her words; None when the text is none of them."""
    said = text.strip()
    command = PAYLOAD.match(said)
    if command is not None:
        action, first, second, rest = command.groups()
        if action in ("pause", "resume", "stop"):
            return CheckinRequest(action)
        if action == "every" and first and int(first) in EVERY_CHOICES:
            return CheckinRequest("every", int(first))
        if action == "set" and first and second:
            return _set(int(first), int(second))
        if action is None and rest:
            return _typed(rest)
        return CheckinRequest("menu")
    words = plain(said)
    for action, known in (("pause", PAUSE_WORDS), ("resume", RESUME_WORDS), ("stop", STOP_WORDS)):
        if words in known:
            return CheckinRequest(action)
    return None


def bare_word(text: str) -> CheckinRequest | None:
    """ "pause" or "stop" alone: her answer to a check-in that has just come (the gateway asks
    `recently_checked_in` before acting on it)."""
    words = plain(text)
    if words in BARE_PAUSE:
        return CheckinRequest("pause")
    if words in BARE_STOP:
        return CheckinRequest("stop")
    return None


def _set(every: int, minute: int) -> CheckinRequest:
    if every not in EVERY_CHOICES or not 0 <= minute < 24 * 60:
        return CheckinRequest("menu")
    return CheckinRequest("set", every, minute)


def _typed(rest: str) -> CheckinRequest:
    """ "/checkins 7 8pm" or "/checkins 3 19:30"."""
    first, _, when = rest.strip().partition(" ")
    minute = read_time_of_day(when) if first.isdigit() and when else None
    if minute is None or int(first) not in EVERY_CHOICES:
        return CheckinRequest("menu")
    return CheckinRequest("set", int(first), minute)


async def schedule_of(session: AsyncSession, member_id: int) -> CheckinSchedule | None:
    return await session.scalar(
        select(CheckinSchedule).where(CheckinSchedule.member_id == member_id).with_for_update()
    )


async def recently_checked_in(session: AsyncSession, member_id: int, now: datetime) -> bool:
    """Whether a check-in she chose reached her lately and her check-ins are still on."""
    schedule = await schedule_of(session, member_id)
    if schedule is None or schedule.status != ACTIVE:
        return False
    last = await session.scalar(
        select(func.max(FollowUp.sent_at)).where(
            FollowUp.member_id == member_id, FollowUp.scheduled_by == followups.CHOSEN
        )
    )
    return last is not None and now - last <= RECENT_CHECKIN


def describe(schedule: CheckinSchedule, language: str) -> str:
    """ "every 3 days at 9:00 AM (Eastern time)", in her language."""
    return phrase(
        f"checkins_every_{schedule.every_days}",
        language,
        at=say_time_of_day(schedule.at_minute, language),
        zone=zone_name(schedule.timezone, language),
    )


async def act(
    session: AsyncSession,
    member: Member,
    platform: str,
    request: CheckinRequest,
    zone: str,
    last: timedelta,
    language: str,
    now: datetime | None = None,
) -> CheckinReply:
    """Carry out her request and say what happened (in `language`, the one she is answered
    in)."""
    now = now or utcnow()
    schedule = await schedule_of(session, member.id)
    if request.action == "every" and request.every_days:
        n = request.every_days
        return CheckinReply(
            "checkins_what_time",
            buttons=tuple(
                (f"button_checkins_at_{minute // 60}", f"/checkins_set_{n}_{minute}")
                for minute in TIME_CHOICES
            ),
        )
    if request.action == "set" and request.every_days and request.at_minute is not None:
        schedule = await _choose(
            session, schedule, member, platform, request.every_days, request.at_minute, zone, now
        )
        schedule.ends_at = now + last
        return CheckinReply(
            "checkins_set",
            (("schedule", describe(schedule, language)),),
            (
                ("button_checkins_pause", "/checkins_pause"),
                ("button_checkins_stop", "/checkins_stop"),
            ),
        )
    if request.action in ("pause", "resume", "stop"):
        return _change(schedule, request.action, now)
    return _menu(schedule, language)


async def _choose(
    session: AsyncSession,
    schedule: CheckinSchedule | None,
    member: Member,
    platform: str,
    every: int,
    minute: int,
    zone: str,
    now: datetime,
) -> CheckinSchedule:
    if schedule is None:
        schedule = CheckinSchedule(member_id=member.id, created_at=now, sent=0)
        session.add(schedule)
    schedule.platform, schedule.every_days, schedule.at_minute = platform, every, minute
    schedule.timezone, schedule.status, schedule.changed_at = zone, ACTIVE, now
    schedule.next_at = next_at(now, minute, zone)
    log.info("check-ins chosen", extra={"count": every})
    return schedule


async def move_to_zone(session: AsyncSession, member_id: int, zone: str) -> None:
    """She told us her time zone: her check-ins come at her time of day there."""
    schedule = await schedule_of(session, member_id)
    if schedule is None:
        return
    schedule.timezone = zone
    if schedule.status == ACTIVE:
        schedule.next_at = next_at(utcnow(), schedule.at_minute, zone)


def _change(schedule: CheckinSchedule | None, action: str, now: datetime) -> CheckinReply:
    if schedule is None or schedule.status in (STOPPED, ENDED):
        return CheckinReply("checkins_none", buttons=_choices())
    if action == "stop":
        schedule.status, schedule.next_at, schedule.changed_at = STOPPED, None, now
        return CheckinReply("checkins_stopped")
    if action == "pause":
        schedule.status, schedule.next_at, schedule.changed_at = PAUSED, None, now
        return CheckinReply(
            "checkins_paused", buttons=(("button_checkins_resume", "/checkins_resume"),)
        )
    schedule.status, schedule.changed_at = ACTIVE, now
    schedule.next_at = next_at(now, schedule.at_minute, schedule.timezone)
    return CheckinReply("checkins_resumed")


def _choices() -> tuple[tuple[str, str], ...]:
    return tuple((f"button_checkins_every_{n}", f"/checkins_every_{n}") for n in EVERY_CHOICES)


def _menu(schedule: CheckinSchedule | None, language: str) -> CheckinReply:
    if schedule is None or schedule.status in (STOPPED, ENDED):
        return CheckinReply("checkins_offer", buttons=_choices())
    values = (("schedule", describe(schedule, language)),)
    if schedule.status == PAUSED:
        return CheckinReply(
            "checkins_status_paused",
            values,
            (
                ("button_checkins_resume", "/checkins_resume"),
                ("button_checkins_stop", "/checkins_stop"),
                *_choices(),
            ),
        )
    return CheckinReply(
        "checkins_status",
        values,
        (
            ("button_checkins_pause", "/checkins_pause"),
            ("button_checkins_stop", "/checkins_stop"),
            *_choices(),
        ),
    )


async def send_due(
    session: AsyncSession, quiet: Callable[[datetime], bool], now: datetime | None = None
) -> int:
    """Send the chosen check-ins that are due (none in quiet hours: they go when those end),
    each as a follow-up with the three buttons; a schedule past its end ends, and she is told.
    Returns how many were sent. Run by the scheduler; all state is in the tables."""
    now = now or utcnow()
    if quiet(now):
        return 0
    due = (
        await session.scalars(
            select(CheckinSchedule)
            .where(CheckinSchedule.status == ACTIVE, CheckinSchedule.next_at <= now)
            .order_by(CheckinSchedule.next_at)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    sent = 0
    for schedule in due:
        if now >= schedule.ends_at:
            schedule.status, schedule.next_at, schedule.changed_at = ENDED, None, now
            language = await member_language(session, schedule.member_id)
            session.add(
                OutboxMessage(
                    member_id=schedule.member_id,
                    platform=schedule.platform,
                    text=phrase("checkins_ended", language),
                )
            )
            continue
        if await _with_a_person(session, schedule.member_id):
            # A person has her conversation now: no "how are you?" from the bot over it.
            schedule.next_at = _after(schedule, now)
            continue
        follow_up = FollowUp(
            member_id=schedule.member_id,
            platform=schedule.platform,
            status=followups.SENT,
            scheduled_by=followups.CHOSEN,
            due_at=schedule.next_at,
            sent_at=now,
            attempts=1,
        )
        session.add(follow_up)
        await session.flush()
        await followups.write_checkin(session, follow_up, "checkin_chosen")
        schedule.sent += 1
        schedule.next_at = _after(schedule, now)
        sent += 1
    return sent


async def _with_a_person(session: AsyncSession, member_id: int) -> bool:
    open_cases = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.member_id == member_id, Case.status.in_([s.value for s in OPEN_CASE_STATUSES]))
    )
    return bool(open_cases)


def _after(schedule: CheckinSchedule, now: datetime) -> datetime:
    """The next check-in: `every_days` after the one just due, at her time of day (a run missed
    while the app was down is not sent twice: the next one is after now)."""
    zone, every = ZoneInfo(schedule.timezone), timedelta(days=schedule.every_days)
    day = (schedule.next_at or now).astimezone(zone).date() + every
    moment = at_local(day, schedule.at_minute, schedule.timezone)
    while moment <= now:
        day += every
        moment = at_local(day, schedule.at_minute, schedule.timezone)
    return moment


async def checkin_counts(session: AsyncSession) -> dict[str, int]:
    """For the team's stats: schedules by status, and the check-ins sent and how they went."""
    counts = {f"schedules_{status}": 0 for status in SCHEDULE_STATUSES}
    rows = await session.execute(
        select(CheckinSchedule.status, func.count()).group_by(CheckinSchedule.status)
    )
    counts.update({f"schedules_{status}": int(n) for status, n in rows.all()})
    counts.update(await followups.follow_up_counts(session, chosen=True))
    return counts
