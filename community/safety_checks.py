"""Checks: when the screen is unsure, the bot asks her once whether she is safe.

"I need help now" or "talk to a person" opens a case at once; "I'm safe" lets the conversation
go on and is counted (the thresholds are recalibrated from those counts); no answer within the
configured time opens an `elevated` case so that a person looks. All state is in the
`safety_checks` table, so a restart loses no timer: the scheduler's job only asks the table
which checks are overdue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.cases.handoff import HandoffCases
from community.models import Member, OutboxMessage, SafetyCheck, utcnow
from safety.screen import Screening, Severity

log = logging.getLogger(__name__)

NO_ANSWER_TEXT = "(no answer to the bot's check within the set time)"
CHECK_TEXT_LIMIT = 2_000


@dataclass(frozen=True)
class CheckAnswer:
    answer: str  # safe, help, person
    category: str
    language: str
    case_id: int | None


async def ask_check(
    session: AsyncSession,
    member: Member,
    platform: str,
    category: str,
    language: str,
    text: str,
    wait: timedelta,
) -> SafetyCheck:
    """Record that she was asked; an earlier unanswered check is replaced by this one."""
    now = utcnow()
    await session.execute(
        update(SafetyCheck)
        .where(SafetyCheck.member_id == member.id, SafetyCheck.status == "asked")
        .values(status="replaced", text="", answered_at=now)
    )
    check = SafetyCheck(
        member_id=member.id,
        platform=platform,
        category=category,
        language=language,
        text=text[:CHECK_TEXT_LIMIT],
        asked_at=now,
        due_at=now + wait,
        status="asked",
    )
    session.add(check)
    await session.flush()
    return check


async def pending_check(session: AsyncSession, member_id: int) -> SafetyCheck | None:
    return await session.scalar(
        select(SafetyCheck)
        .where(SafetyCheck.member_id == member_id, SafetyCheck.status == "asked")
        .order_by(SafetyCheck.id.desc())
        .limit(1)
    )


def _screening(category: str, severity: Severity) -> Screening:
    return Screening(crisis=True, category=category, severity=severity)


async def answer_check(
    session: AsyncSession,
    cases: HandoffCases,
    member: Member,
    platform: str,
    answer: str,
    language: str,
) -> CheckAnswer:
    """Her answer (a button or the same words typed). Help and person open a case now."""
    check = await pending_check(session, member.id)
    category = check.category if check else "suicide"
    language = check.language if check else language
    case_id = None
    if answer in ("help", "person"):
        severity = Severity.HIGH if answer == "help" else Severity.ELEVATED
        trigger = (check.text if check and check.text else "") or f"(she chose: {answer})"
        opening = await cases.open_for_crisis(
            member, platform, _screening(category, severity), trigger
        )
        case_id = opening.case_id
    if check is not None:
        check.status = answer
        check.answered_at = utcnow()
        check.case_id = case_id
        check.text = ""  # in the case transcript now, or not needed: she is safe
    log.info("check answered", extra={"answer": answer, "category": category})
    return CheckAnswer(answer, category, language, case_id)


async def expire_due_checks(
    session: AsyncSession,
    homes: tuple[str, ...],
    now: datetime | None = None,
    tell_her: Callable[[str], str] | None = None,
) -> list[int]:
    """Open an elevated case for every check nobody answered in time, and (with `tell_her`,
    the words in her language) tell her through the outbox that a person will write. Returns
    the case ids."""
    now = now or utcnow()
    due = (
        await session.scalars(
            select(SafetyCheck)
            .where(SafetyCheck.status == "asked", SafetyCheck.due_at <= now)
            .order_by(SafetyCheck.due_at)
            .limit(200)
            .with_for_update(skip_locked=True)
        )
    ).all()
    opened = []
    cases = HandoffCases(session, homes)
    for check in due:
        member = await session.get(Member, check.member_id)
        if member is None:  # pragma: no cover - deleted members' checks go by cascade
            continue
        trigger = check.text or NO_ANSWER_TEXT
        opening = await cases.open_for_crisis(
            member,
            check.platform,
            _screening(check.category, Severity.ELEVATED),
            f"{trigger}\n{NO_ANSWER_TEXT}" if check.text else trigger,
        )
        if tell_her is not None:
            session.add(
                OutboxMessage(
                    member_id=member.id, platform=check.platform, text=tell_her(check.language)
                )
            )
        check.status = "expired"
        check.case_id = opening.case_id
        check.text = ""
        opened.append(opening.case_id)
    return opened


async def check_counts(session: AsyncSession) -> dict[str, int]:
    """How checks ended, for the team's stats and for recalibrating the thresholds."""
    rows = (
        await session.execute(select(SafetyCheck.status, func.count()).group_by(SafetyCheck.status))
    ).all()
    return {str(status): int(count) for status, count in rows}
