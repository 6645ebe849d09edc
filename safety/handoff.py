"""Handoff cases: a conversation handed from the bot to a person.

Platform-neutral: moderators' actions from any home (web console, Telegram, Discord) arrive as
calls here. Cases are written to the database before anyone is told about them, and the
database itself guarantees one open case per member (a partial unique index), so two messages
racing to open a case end as one case whose severity is the higher of the two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import (
    OPEN_CASE_STATUSES,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    Member,
)
from safety.screen import Screening, Severity

log = logging.getLogger(__name__)

REQUEST_CATEGORY = "request"
REQUEST_SEVERITY = "support"
REQUEST_RANK = 0  # below every crisis severity (1-3)
SYSTEM_ACTOR = "peerbot"


@dataclass(frozen=True)
class CaseOpening:
    case_id: int
    created: bool  # False when an open case existed and was updated instead
    raised: bool  # True when the existing case's severity went up


class HandoffCases:
    """Opening and updating cases inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_case_for(self, member_id: int) -> Case | None:
        return await self.session.scalar(
            select(Case).where(
                Case.member_id == member_id,
                Case.status.in_([s.value for s in OPEN_CASE_STATUSES]),
            )
        )

    async def open_for_crisis(
        self, member: Member, platform: str, screening: Screening, text: str
    ) -> CaseOpening:
        """Open a case for a crisis, or raise the open case's priority if this one is worse."""
        severity = screening.severity or Severity.HIGH
        return await self._open_or_update(
            member,
            platform,
            source="screen",
            category=screening.category or "unknown",
            severity=severity.label,
            rank=int(severity),
            text=text,
        )

    async def open_on_request(self, member: Member, platform: str, text: str) -> CaseOpening:
        """Open a case because the member asked for a person (no crisis found)."""
        return await self._open_or_update(
            member,
            platform,
            source="request",
            category=REQUEST_CATEGORY,
            severity=REQUEST_SEVERITY,
            rank=REQUEST_RANK,
            text=text,
        )

    async def record_member_message(self, case_id: int, text: str) -> None:
        self.session.add(CaseMessage(case_id=case_id, author="member", text=text))

    async def _open_or_update(
        self,
        member: Member,
        platform: str,
        *,
        source: str,
        category: str,
        severity: str,
        rank: int,
        text: str,
    ) -> CaseOpening:
        existing = await self.open_case_for(member.id)
        if existing is None:
            case = Case(
                member_id=member.id,
                platform=platform,
                source=source,
                category=category,
                severity=severity,
                severity_rank=rank,
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(case)
                    await self.session.flush()
            except IntegrityError:
                # Another message opened a case for this member a moment ago; update that one.
                existing = await self.open_case_for(member.id)
                if existing is None:
                    raise
            else:
                self.session.add(CaseMessage(case_id=case.id, author="member", text=text))
                self.session.add(
                    CaseEvent(case_id=case.id, actor=SYSTEM_ACTOR, action="opened", detail=source)
                )
                log.info("case opened", extra={"case_id": case.id, "category": category})
                return CaseOpening(case.id, created=True, raised=False)

        # One atomic statement, so concurrent raisers can never lower what another one set.
        result = await self.session.execute(
            update(Case)
            .where(Case.id == existing.id, Case.severity_rank < rank)
            .values(severity_rank=rank, severity=severity, category=category)
            .execution_options(synchronize_session=False)
        )
        raised = bool(getattr(result, "rowcount", 0))
        if raised:
            self.session.add(
                CaseEvent(
                    case_id=existing.id,
                    actor=SYSTEM_ACTOR,
                    action="raised",
                    detail=f"{category}/{severity}",
                )
            )
            log.info("case raised", extra={"case_id": existing.id, "category": category})
        self.session.add(CaseMessage(case_id=existing.id, author="member", text=text))
        return CaseOpening(existing.id, created=False, raised=raised)


def is_with_human(case: Case | None) -> bool:
    return case is not None and case.status == CaseStatus.CLAIMED.value
