"""What the gateway needs to know about a member to route one message, read in one query.

An everyday message must cost one short transaction: who she is (created on first contact),
whether a person has her conversation (an open case), whether she is blocked, whether her next
words are for researchers, and whether the bot is waiting for her answer to "are you safe?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.first_contact import create_member_at_once
from community.insights.tallies import activity_hour as hour_of
from community.insights.tallies import record_activity
from community.members import pseudonym_for, resolve_member
from community.models import (
    OPEN_CASE_STATUSES,
    Block,
    Case,
    Member,
    SafetyCheck,
    SafetyPlan,
    utcnow,
)
from community.research.answers import PENDING_FOR
from community.research.models import PendingInput
from community.safety_plan import BUILDING_FOR

# A member this recent counts as a new chat for flood limits (one who was here before a flood
# always gets her own case).
NEW_CHAT_FOR = timedelta(days=1)
# Her last-seen time is written at most this often: it only decides when Rasa's memory of a quiet
# conversation is wiped (hours), and a write on every message would make each one a write.
LAST_SEEN_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class MemberState:
    member_id: int
    pseudonym: str
    case_id: int | None
    case_status: str | None
    blocked: bool
    writing_for_research: bool
    check_pending: bool
    created_at: datetime | None = None
    created_now: bool = False  # this message is her first contact
    # Her language as stored (Member.language, language_source, language_run).
    language: str | None = None
    language_source: str | None = None
    language_run: int = 0
    # She is building her safety plan: her next words answer its step (issue #21).
    building_plan: bool = False
    # She has a safety plan at all: only then is there a line of it to add to a crisis reply.
    has_plan: bool = False

    @property
    def is_new(self) -> bool:
        return self.created_at is None or utcnow() - self.created_at < NEW_CHAT_FOR


def _new_member(
    member_id: int,
    pseudonym: str,
    created_at: datetime | None,
    language: str | None,
    language_source: str | None,
    language_run: int = 0,
) -> MemberState:
    """Her state at first contact: no case, no block, nothing pending."""
    return MemberState(
        member_id,
        pseudonym,
        None,
        None,
        False,
        False,
        False,
        created_at,
        True,
        language=language,
        language_source=language_source,
        language_run=language_run,
    )


@cache
def _state_query() -> Select[Any]:
    """The one query, built once (building it took about a quarter of a millisecond a
    message); its times and her pseudonym are parameters, typed by the columns they meet."""
    open_case = (
        select(Case.id, Case.status)
        .where(
            Case.member_id == Member.id,
            Case.status.in_([s.value for s in OPEN_CASE_STATUSES]),
        )
        .limit(1)
    )
    return select(
        Member.id,
        Member.last_seen_at,
        Member.created_at,
        Member.language,
        Member.language_source,
        Member.language_run,
        open_case.with_only_columns(Case.id).scalar_subquery(),
        open_case.with_only_columns(Case.status).scalar_subquery(),
        exists().where(Block.member_id == Member.id, Block.until > bindparam("now")),
        exists().where(
            PendingInput.member_id == Member.id,
            PendingInput.since > bindparam("pending_since"),
        ),
        exists().where(SafetyCheck.member_id == Member.id, SafetyCheck.status == "asked"),
        exists().where(
            SafetyPlan.member_id == Member.id,
            SafetyPlan.building_step.is_not(None),
            SafetyPlan.building_since > bindparam("building_since"),
        ),
        exists().where(SafetyPlan.member_id == Member.id),
    ).where(Member.pseudonym == bindparam("pseudonym"))


async def member_state(
    session: AsyncSession,
    key: bytes,
    platform: str,
    platform_user_id: str,
    first_language: tuple[str | None, str | None] = (None, None),
) -> MemberState:
    """Her state for routing one message; a new member is created first, with
    `first_language` (her language and its source, as her first message decides them)."""
    pseudonym = pseudonym_for(key, platform, platform_user_id)
    now = utcnow()
    row = (
        await session.execute(
            _state_query(),
            {
                "pseudonym": pseudonym,
                "now": now,
                "pending_since": now - PENDING_FOR,
                "building_since": now - BUILDING_FOR,
            },
        )
    ).one_or_none()
    if row is None:
        made = await create_member_at_once(
            session, pseudonym, platform, platform_user_id, now, first_language
        )
        if made is not None:
            member_id, created_at = made
            return _new_member(member_id, pseudonym, created_at, *first_language)
        member = await resolve_member(
            session, key, platform, platform_user_id, known_new=True, first_language=first_language
        )
        await record_activity(session, member.id, now)
        return _new_member(
            member.id,
            pseudonym,
            member.created_at,
            member.language,
            member.language_source,
            int(member.language_run or 0),
        )
    (
        member_id,
        last_seen,
        created_at,
        language,
        language_source,
        language_run,
        case_id,
        case_status,
        blocked,
        for_research,
        checking,
        building_plan,
        has_plan,
    ) = row
    if last_seen is None or now - last_seen > LAST_SEEN_EVERY:
        await session.execute(update(Member).where(Member.id == member_id).values(last_seen_at=now))
    if last_seen is None or now - last_seen > LAST_SEEN_EVERY or hour_of(last_seen) != hour_of(now):
        # That she wrote this hour, for distinct members per day and week (#22); written only
        # when her last-seen time is, or a new hour began, so an everyday message stays a read.
        await record_activity(session, member_id, now)
    return MemberState(
        member_id,
        pseudonym,
        case_id,
        case_status,
        bool(blocked),
        bool(for_research),
        bool(checking),
        created_at,
        language=language,
        language_source=language_source,
        language_run=int(language_run or 0),
        building_plan=bool(building_plan),
        has_plan=bool(has_plan),
    )
