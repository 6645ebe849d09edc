"""The same person again (issue #21): after a case she can ask for the moderator she talked with
("can I talk to Sam again?", "same person as last time", /same). If that moderator is around
(acted on a case lately, or holds one now, with a staff account still valid), the new case is
theirs alone to claim for a few minutes, and their card says she asked for them; otherwise it
goes to everyone at once and she is told so honestly. She knows moderators by display name only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.cases.handoff import HandoffCases
from community.her_time import plain
from community.models import Case, CaseEvent, CaseStatus, Member, Staff, utcnow

log = logging.getLogger(__name__)

SAME_PAYLOAD = "/same"
# Compared after `plain` (lower case, no accents or punctuation).
SAME_WORDS = re.compile(
    r"\b(?:same (?:person|one|moderator|peer)(?: (?:as|like) (?:last time|before))?"
    r"|(?:la )?misma persona(?: de (?:la )?(?:ultima vez|antes))?)\b"
)
NAMED = re.compile(
    r"^(?:can i |could i |may i |i want to |i d like to |id like to |i would like to )?"
    r"(?:talk|speak|chat)(?: to| with) (?P<en>[a-z][a-z'-]{1,30})(?: again| one more time)\b"
    r"|^(?:puedo |quiero |podria )?(?:hablar|platicar|conversar) con (?P<es>[a-z][a-z'-]{1,30})"
    r" (?:otra vez|de nuevo|nuevamente)\b"
)
NOT_NAMES = frozenset(
    {"someone", "somebody", "a", "the", "you", "alguien", "una", "un", "la", "el"}
)
PAST_CASES = 20


@dataclass(frozen=True)
class SameAsk:
    """She asked for the same person; `name` when she named them."""

    name: str | None = None


@dataclass(frozen=True)
class SameOutcome:
    """What she is told (a phrase key and the name she knows), and the case it opened."""

    key: str
    name: str = ""
    case_id: int | None = None


def asked_for_same(text: str) -> SameAsk | None:
    """Her request for the person she talked with before, or None."""
    said = text.strip()
    if said.split("@")[0].casefold() == SAME_PAYLOAD:
        return SameAsk()
    words = plain(said).replace(".", " ").replace(":", " ")
    if len(words.split()) > 14:
        return None
    named = NAMED.search(words)
    if named is not None:
        name = named.group("en") or named.group("es")
        return SameAsk(None if name in NOT_NAMES else name)
    return SameAsk() if SAME_WORDS.search(words) else None


async def is_around(
    session: AsyncSession, moderator: str, now: datetime, within: timedelta
) -> bool:
    """Whether that moderator is working now: holds an open case, or acted on one within
    `within`; a console account revoked or expired is not around."""
    staff = await session.scalar(select(Staff).where(Staff.name == moderator))
    if staff is not None and (
        staff.revoked_at is not None or (staff.expires_at is not None and staff.expires_at <= now)
    ):
        return False
    holding = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.claimed_by == moderator, Case.status == CaseStatus.CLAIMED.value)
    )
    if holding:
        return True
    last = await session.scalar(select(func.max(CaseEvent.at)).where(CaseEvent.actor == moderator))
    return last is not None and now - last <= within


async def _who(session: AsyncSession, member_id: int, name: str | None) -> Case | None:
    """Her most recent closed case with a person (by the name she gave, if she gave one)."""
    past = (
        await session.scalars(
            select(Case)
            .where(
                Case.member_id == member_id,
                Case.claimed_by.is_not(None),
                Case.status.in_([CaseStatus.RESOLVED.value, CaseStatus.RETURNED.value]),
            )
            .order_by(Case.closed_at.desc(), Case.id.desc())
            .limit(PAST_CASES)
        )
    ).all()
    if name is None:
        return past[0] if past else None
    for case in past:
        known = plain(case.claimed_by_name or "").split()
        if known and known[0] == plain(name):
            return case
    return None


async def ask_for_same(
    session: AsyncSession,
    cases: HandoffCases,
    member: Member,
    platform: str,
    ask: SameAsk,
    text: str,
    around_within: timedelta,
    first_for: timedelta,
    now: datetime | None = None,
) -> SameOutcome:
    """Open her case, offered first to the person she asked for when they are around."""
    now = now or utcnow()
    if await cases.open_case_for(member.id) is not None:
        return SameOutcome("same_already_open")
    before = await _who(session, member.id, ask.name)
    opening = await cases.open_on_request(member, platform, text)
    if before is None or before.claimed_by is None:
        log.info("same person asked: nobody to ask for", extra={"case_id": opening.case_id})
        key = "same_not_found_named" if ask.name else "same_not_found"
        return SameOutcome(key, (ask.name or "").title(), opening.case_id)
    name = before.claimed_by_name or (ask.name or "").title()
    around = await is_around(session, before.claimed_by, now, around_within)
    until = now + first_for if around and first_for > timedelta(0) else None
    await session.execute(
        update(Case)
        .where(Case.id == opening.case_id)
        .values(asked_for=before.claimed_by, asked_for_name=name or None, asked_for_until=until)
        .execution_options(synchronize_session=False)
    )
    who = name or "the moderator"
    if around:
        first = f" It is yours to claim first until {until:%H:%M} UTC" if until else ""
        note = f"She asked for {who} again (with her on case #{before.id}).{first}."
    else:
        note = (
            f"She asked for {who} again (with her on case #{before.id}); {who} isn't around, "
            "so this is for whoever is on the team."
        )
    await cases.record_screen_note(opening.case_id, note)
    log.info(
        "same person asked: " + ("offered to them first" if around else "not around"),
        extra={"case_id": opening.case_id},
    )
    return SameOutcome("same_asked" if around else "same_not_around", name, opening.case_id)


async def same_person_counts(session: AsyncSession) -> dict[str, int]:
    """For the team's stats: how often she asked for the same person, and whether they were
    around to be offered the case first."""
    asked = await session.scalar(
        select(func.count()).select_from(Case).where(Case.asked_for.is_not(None))
    )
    first = await session.scalar(
        select(func.count()).select_from(Case).where(Case.asked_for_until.is_not(None))
    )
    return {
        "asked": int(asked or 0),
        "offered_first": int(first or 0),
        "to_everyone": int(asked or 0) - int(first or 0),
    }
