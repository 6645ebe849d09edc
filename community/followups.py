"""Follow-ups after a case (issue #21): she is asked first, checked in on at the time she agreed
to, and her answer is acted on ("I need someone now" opens a case at once, linked to the one
before).

Everything is a row in `follow_ups` and a message in the outbox, written in one transaction: the
scheduled job finds what is due from the table, so a restart loses no follow-up. Nothing she
writes is kept here, only when and how it went.

Lifecycle: offered -> scheduled | declined; scheduled -> sent (the check-in) -> answered |
sent again once -> unanswered. A moderator may schedule one directly ("check on her in 3 days").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.members import member_language
from community.messages import Button
from community.models import Case, CaseEvent, FollowUp, Member, OutboxMessage, utcnow
from community.phrases import phrase

if TYPE_CHECKING:
    from community.cases.handoff import HandoffCases

log = logging.getLogger(__name__)

OFFERED = "offered"
SCHEDULED = "scheduled"
DECLINED = "declined"
SENT = "sent"
ANSWERED = "answered"
UNANSWERED = "unanswered"
STATUSES = (OFFERED, SCHEDULED, DECLINED, SENT, ANSWERED, UNANSWERED)
OUTCOMES = ("better", "not_great", "need_now")
# Her choices when asked, by the word in the button's payload, and how much later each means
# (None: the configured delay, "tomorrow" by default).
LATER_CHOICES: dict[str, timedelta | None] = {
    "yes": None,
    "in2d": timedelta(days=2),
    "in7d": timedelta(days=7),
}
OFFER_PAYLOAD = re.compile(r"^/followup_(yes|later|no|in2d|in7d)_(\d{1,12})$")
CHECKIN_PAYLOAD = re.compile(r"^/checkin_(better|not_great|need_now)_(\d{1,12})$")
# Crisis cases get a follow-up offered by default when they are resolved.
CRISIS_SOURCE = "screen"
# `scheduled_by` of a check-in she chose herself (community/checkins.py): same buttons and
# answers, no second try (another comes on her schedule), counted apart in the stats.
CHOSEN = "checkin"


@dataclass(frozen=True)
class FollowUpTiming:
    """When check-ins go out: after how long by default, how long before the one gentle second
    try and then giving up, and the community's quiet hours (none sent then)."""

    after: timedelta
    retry_after: timedelta = timedelta(hours=4)
    quiet: Callable[[datetime], bool] | None = None  # None: no quiet hours

    def is_quiet(self, now: datetime) -> bool:
        return self.quiet is not None and self.quiet(now)


def _buttons(language: str, *pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"title": phrase(key, language), "payload": payload} for key, payload in pairs]


def _tell(
    session: AsyncSession,
    member_id: int,
    platform: str,
    text: str,
    buttons: list[dict[str, str]] | None = None,
) -> None:
    session.add(OutboxMessage(member_id=member_id, platform=platform, text=text, buttons=buttons))


async def offer(session: AsyncSession, case: Case) -> FollowUp:
    """Ask her whether a check-in is welcome (after her case is resolved)."""
    language = await member_language(session, case.member_id)
    follow_up = FollowUp(
        member_id=case.member_id, case_id=case.id, platform=case.platform, status=OFFERED
    )
    session.add(follow_up)
    await session.flush()
    n = follow_up.id
    _tell(
        session,
        case.member_id,
        case.platform,
        phrase("followup_offer", language),
        _buttons(
            language,
            ("button_followup_yes", f"/followup_yes_{n}"),
            ("button_followup_later", f"/followup_later_{n}"),
            ("button_followup_no", f"/followup_no_{n}"),
        ),
    )
    session.add(CaseEvent(case_id=case.id, actor="system", action="follow_up_offered"))
    return follow_up


def offered_by_default(case: Case) -> bool:
    """A crisis case gets a follow-up offered unless the moderator turns it off."""
    return case.source == CRISIS_SOURCE


async def schedule_by_moderator(
    session: AsyncSession, case: Case, after: timedelta, moderator: str
) -> FollowUp:
    """ "Check on her in 3 days": agreed with her in the conversation, so not asked again."""
    follow_up = FollowUp(
        member_id=case.member_id,
        case_id=case.id,
        platform=case.platform,
        status=SCHEDULED,
        scheduled_by="moderator",
        due_at=utcnow() + after,
    )
    session.add(follow_up)
    session.add(
        CaseEvent(
            case_id=case.id,
            actor=moderator,
            action="follow_up_scheduled",
            detail=f"in {after.total_seconds() / 3600:.1f} h",
        )
    )
    await session.flush()
    return follow_up


async def _hers(session: AsyncSession, member: Member, follow_up_id: int) -> FollowUp | None:
    follow_up = await session.get(FollowUp, follow_up_id, with_for_update=True)
    return follow_up if follow_up is not None and follow_up.member_id == member.id else None


@dataclass(frozen=True)
class FollowUpReply:
    """What she is told back: a phrase key and its buttons (payload pairs)."""

    key: str
    buttons: tuple[tuple[str, str], ...] = ()


async def answer_offer(
    session: AsyncSession, member: Member, choice: str, follow_up_id: int, timing: FollowUpTiming
) -> FollowUpReply:
    """Her answer to "would it be OK if we check in?"."""
    follow_up = await _hers(session, member, follow_up_id)
    if follow_up is None or follow_up.status != OFFERED:
        return FollowUpReply("followup_gone")
    if choice == "no":
        follow_up.status = DECLINED
        return FollowUpReply("followup_declined")
    if choice == "later":
        n = follow_up.id
        return FollowUpReply(
            "followup_when",
            (
                ("button_followup_in_2_days", f"/followup_in2d_{n}"),
                ("button_followup_in_a_week", f"/followup_in7d_{n}"),
            ),
        )
    follow_up.status = SCHEDULED
    follow_up.due_at = utcnow() + (LATER_CHOICES[choice] or timing.after)
    return FollowUpReply("followup_agreed")


async def answer_checkin(
    session: AsyncSession,
    cases: HandoffCases,
    member: Member,
    outcome: str,
    follow_up_id: int,
) -> FollowUpReply:
    """Her answer to the check-in. "I need someone now" opens a case at once (or joins the one
    open), with a note linking the case it follows."""
    follow_up = await _hers(session, member, follow_up_id)
    if follow_up is None or follow_up.status not in (SENT, UNANSWERED, ANSWERED):
        return FollowUpReply("followup_gone")
    first_answer = follow_up.status != ANSWERED
    follow_up.status = ANSWERED
    follow_up.answered_at = follow_up.answered_at or utcnow()
    if first_answer or outcome == "need_now":
        follow_up.outcome = outcome
    if outcome == "better":
        return FollowUpReply("checkin_better")
    if outcome == "not_great":
        return FollowUpReply(
            "checkin_not_great",
            (("button_yes_person", "/request_human"), ("button_no_person", "/cancel_request")),
        )
    opening = await cases.open_on_request(
        member, follow_up.platform, "(check-in) I need someone now"
    )
    follow_up.new_case_id = opening.case_id
    before = f"case #{follow_up.case_id}" if follow_up.case_id else "an earlier case"
    note = f"She asked for someone now from a follow-up check-in after {before}."
    if follow_up.scheduled_by == CHOSEN:
        note = "She asked for someone now from a regular check-in she chose (/checkins)."
    await cases.record_screen_note(opening.case_id, note)
    log.warning("follow-up asked for someone now", extra={"case_id": opening.case_id})
    return FollowUpReply("checkin_need_now")


async def send_due(
    session: AsyncSession, timing: FollowUpTiming, now: datetime | None = None
) -> int:
    """Send the check-ins that are due, the one second try, and give up after it. Returns how
    many messages were written. Run by the scheduler; all state is in the table."""
    now = now or utcnow()
    if timing.is_quiet(now):
        return 0
    written = 0
    due = (
        await session.scalars(
            select(FollowUp)
            .where(FollowUp.status == SCHEDULED, FollowUp.due_at <= now)
            .order_by(FollowUp.due_at)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for follow_up in due:
        await write_checkin(session, follow_up, "checkin")
        follow_up.status, follow_up.sent_at, follow_up.attempts = SENT, now, 1
        written += 1
    quiet_since = now - timing.retry_after
    waiting = (
        await session.scalars(
            select(FollowUp)
            .where(FollowUp.status == SENT, FollowUp.sent_at <= quiet_since)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for follow_up in waiting:
        if follow_up.attempts >= 2 or follow_up.scheduled_by == CHOSEN:
            follow_up.status = UNANSWERED  # one gentle second try, then nothing more
            continue
        await write_checkin(session, follow_up, "checkin_again")
        follow_up.sent_at, follow_up.attempts = now, follow_up.attempts + 1
        written += 1
    return written


async def write_checkin(session: AsyncSession, follow_up: FollowUp, key: str) -> None:
    """The check-in message (`key`) with its three buttons, into her outbox."""
    language = await member_language(session, follow_up.member_id)
    n = follow_up.id
    _tell(
        session,
        follow_up.member_id,
        follow_up.platform,
        phrase(key, language),
        _buttons(
            language,
            ("button_checkin_better", f"/checkin_better_{n}"),
            ("button_checkin_not_great", f"/checkin_not_great_{n}"),
            ("button_checkin_need_now", f"/checkin_need_now_{n}"),
        ),
    )


async def follow_up_counts(session: AsyncSession, chosen: bool = False) -> dict[str, int]:
    """For the team's stats: follow-ups by status, and answers by outcome; with `chosen`, the
    check-ins she chose instead (community/checkins.py)."""
    kind = FollowUp.scheduled_by == CHOSEN if chosen else FollowUp.scheduled_by != CHOSEN
    counts = {status: 0 for status in STATUSES}
    rows = await session.execute(
        select(FollowUp.status, func.count()).where(kind).group_by(FollowUp.status)
    )
    counts.update({str(status): int(n) for status, n in rows.all()})
    outcomes = await session.execute(
        select(FollowUp.outcome, func.count())
        .where(FollowUp.outcome.is_not(None), kind)
        .group_by(FollowUp.outcome)
    )
    for outcome in OUTCOMES:
        counts[f"answered_{outcome}"] = 0
    counts.update({f"answered_{o}": int(n) for o, n in outcomes.all()})
    counts["offered_total"] = (
        await session.scalar(
            select(func.count()).select_from(FollowUp).where(FollowUp.scheduled_by == "member")
        )
        or 0
    )
    return counts


def reply_buttons(reply: FollowUpReply, language: str) -> tuple[Button, ...]:
    return tuple(Button(phrase(key, language), payload) for key, payload in reply.buttons)
