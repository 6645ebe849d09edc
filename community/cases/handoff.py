"""Handoff cases: a conversation handed from the bot to a person.

Platform-neutral: moderators' actions from any home (web console, Telegram, Discord) arrive as
calls here. Cases are written to the database before anyone is told about them, and the
database itself guarantees one open case per member (a partial unique index), so two messages
racing to open a case end as one case whose severity is the higher of the two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from community.cases.flags import block_member
from community.cases.shifts import refusal_over_cap
from community.db import insert_ignoring_conflicts
from community.followups import offer, offered_by_default
from community.members import member_language
from community.models import (
    OPEN_CASE_PREDICATE,
    OPEN_CASE_STATUSES,
    Block,
    Case,
    CaseEvent,
    CaseMessage,
    CaseNote,
    CaseStatus,
    Member,
    Notification,
    OutboxMessage,
    Staff,
    utcnow,
)
from community.phrases import phrase
from safety.screen import Screening, Severity

log = logging.getLogger(__name__)

REQUEST_CATEGORY = "request"
REQUEST_SEVERITY = "support"
REQUEST_RANK = 0  # below every crisis severity (1-3)
SYSTEM_ACTOR = "peerbot"
# A notification kind and case event: she took back her request before anyone claimed it.
CANCELLED = "cancelled"
CANCELLED_OUTCOME = "she cancelled her request"


@dataclass(frozen=True)
class CaseOpening:
    case_id: int
    created: bool  # False when an open case existed and was updated instead
    raised: bool  # True when the existing case's severity went up


class HandoffCases:
    """Opening and updating cases inside the caller's transaction."""

    def __init__(self, session: AsyncSession, homes: tuple[str, ...] = ("web",)) -> None:
        self.session = session
        self.homes = homes

    def _notify(self, case_id: int, kind: str) -> None:
        # Written in the same transaction as the case: no case without its notifications.
        for home in self.homes:
            self.session.add(Notification(case_id=case_id, home=home, kind=kind))

    async def open_case_for(self, member_id: int) -> Case | None:
        return await self.session.scalar(
            select(Case).where(
                Case.member_id == member_id,
                Case.status.in_([s.value for s in OPEN_CASE_STATUSES]),
            )
        )

    async def open_for_crisis(
        self,
        member: Member,
        platform: str,
        screening: Screening,
        text: str,
        signatures: tuple[str | None, str] | None = None,
    ) -> CaseOpening:
        """Open a case for a crisis, or raise the open case's priority if this one is worse.
        `signatures` (address, words) of a new chat are written with a new case, so a later
        flood can gather it (see community/cases/floods.py)."""
        severity = screening.severity or Severity.HIGH
        return await self._open_or_update(
            member,
            platform,
            source="screen",
            category=screening.category or "unknown",
            severity=severity.label,
            rank=int(severity),
            text=text,
            signatures=signatures,
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

    async def cancel_request(self, case: Case) -> bool:
        """She takes back her request for a person while nobody has claimed it. Only a case she
        opened by asking, never raised by the screen: a crisis stays for a person to look at.
        One conditional update, so a moderator's claim at the same moment wins or loses whole."""
        result = await self.session.execute(
            update(Case)
            .where(
                Case.id == case.id,
                Case.status == CaseStatus.WAITING.value,
                Case.severity_rank == REQUEST_RANK,
            )
            .values(status=CaseStatus.RETURNED.value, closed_at=utcnow(), outcome=CANCELLED_OUTCOME)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        self.session.add(CaseEvent(case_id=case.id, actor="member", action=CANCELLED))
        self._notify(case.id, CANCELLED)
        log.info("case cancelled by the member", extra={"case_id": case.id})
        return True

    async def record_member_message(self, case_id: int, text: str) -> None:
        self.session.add(CaseMessage(case_id=case_id, author="member", text=text))

    async def record_bot_message(self, case_id: int, text: str) -> None:
        self.session.add(
            CaseMessage(case_id=case_id, author="bot", author_name=SYSTEM_ACTOR, text=text)
        )

    async def record_screen_note(self, case_id: int, text: str) -> None:
        """A note from the screen for the moderator, shown in the transcript where she works
        (console, Telegram topic, Discord thread); never sent to the member."""
        self.session.add(
            CaseMessage(case_id=case_id, author="screen", author_name="peerbot screen", text=text)
        )

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
        signatures: tuple[str | None, str] | None = None,
    ) -> CaseOpening:
        now = utcnow()
        address_signature, words_signature = signatures or (None, None)
        # The partial unique index allows one open case per member; a racing second opener's
        # insert does nothing, and it raises the winner's case below instead.
        case_id = await self.session.scalar(
            insert_ignoring_conflicts(self.session, Case)
            .values(
                member_id=member.id,
                platform=platform,
                status=CaseStatus.WAITING.value,
                source=source,
                category=category,
                severity=severity,
                severity_rank=rank,
                opened_at=now,
                announced_at=now,
                reannouncements=0,
                address_signature=address_signature,
                words_signature=words_signature,
            )
            .on_conflict_do_nothing(
                index_elements=["member_id"], index_where=sql_text(OPEN_CASE_PREDICATE)
            )
            .returning(Case.id)
        )
        if case_id is not None:
            await self._record(
                case_id,
                text,
                CaseEvent(case_id=case_id, actor=SYSTEM_ACTOR, action="opened", detail=source),
                "opened",
            )
            log.info("case opened", extra={"case_id": case_id, "category": category})
            return CaseOpening(case_id, created=True, raised=False)

        existing = await self.open_case_for(member.id)
        if existing is None:  # pragma: no cover - closed between the insert and this read
            raise RuntimeError("open case vanished")
        # One atomic statement, so concurrent raisers can never lower what another one set.
        result = await self.session.execute(
            update(Case)
            .where(Case.id == existing.id, Case.severity_rank < rank)
            .values(severity_rank=rank, severity=severity, category=category)
            .execution_options(synchronize_session=False)
        )
        raised = bool(getattr(result, "rowcount", 0))
        if raised:
            event = CaseEvent(
                case_id=existing.id,
                actor=SYSTEM_ACTOR,
                action="raised",
                detail=f"{category}/{severity}",
            )
            await self._record(existing.id, text, event, "raised")
            log.info("case raised", extra={"case_id": existing.id, "category": category})
        else:
            self.session.add(CaseMessage(case_id=existing.id, author="member", text=text))
        return CaseOpening(existing.id, created=False, raised=raised)

    async def _record(self, case_id: int, text: str, event: CaseEvent, kind: str) -> None:
        """The member's message, the audit event and the moderators' notifications, in the
        caller's transaction: no case is ever announced without its trigger, or vice versa."""
        self.session.add(CaseMessage(case_id=case_id, author="member", text=text))
        self.session.add(event)
        self._notify(case_id, kind)


# --- Moderators' side --------------------------------------------------------------------------

RECENT_TURNS = 5
# A notification kind: the moderator who had the case can no longer act; it is waiting again.
RELEASED = "released"
# How a moderator's role is named to her when they join (Staff.role; chat-home moderators act
# by the home's role or group, which is the same team): a phrase key (community/data/phrases.yml).
ROLE_WORDS = {"moderator": "team_role"}
TEAM_ROLE_WORD = "team_role"


def _introduced(name: str, role_word: str, language: str) -> str:
    # A display name that already says who they are ("Sam (peer)") is not said twice.
    return name if "(" in name else f"{name} ({phrase(role_word, language)})"


def _named(name: str | None, language: str) -> str:
    return name or phrase("someone_from_team", language)


def joined_text(name: str | None, role_word: str = TEAM_ROLE_WORD, language: str = "en") -> str:
    """What she is told when a person claims her case; never a platform id."""
    who = _introduced(_named(name, language), role_word, language)
    return phrase("joined", language, who=who)


def handed_over_text(
    leaving: str | None, joining: str, role_word: str = TEAM_ROLE_WORD, language: str = "en"
) -> str:
    """What she is told when one moderator hands her conversation to another."""
    return phrase(
        "handed_over",
        language,
        leaving=_named(leaving, language),
        joining=_introduced(joining, role_word, language),
    )


def left_text(name: str | None, language: str = "en") -> str:
    """What she is told when the case is resolved or handed back to the bot."""
    left = phrase("left", language, name=name) if name else ""
    return left + phrase("return_to_bot", language)


def released_text(language: str = "en") -> str:
    """What she is told when the person with her can no longer be, and she waits again."""
    return phrase("released", language)


class CaseNotFound(LookupError):
    pass


class CaseConflict(RuntimeError):
    """The action does not fit the case's state (claimed by someone else, already closed)."""


@dataclass(frozen=True)
class Turn:
    author: str
    author_name: str | None
    text: str
    at: datetime


@dataclass(frozen=True)
class CaseSummary:
    """What a moderator sees: never a platform id, only what the member wrote."""

    id: int
    status: str
    severity: str
    category: str
    platform: str
    member: str
    opened_at: datetime
    waited_seconds: float
    claimed_by: str | None
    trigger: str
    recent: tuple[Turn, ...]
    reannouncements: int
    claimed_by_name: str | None = None  # the claimer's display name, when known
    # The language she is answered in ("en", "es"; None until known): moderators are told when
    # she writes in Spanish, so they can answer in it.
    language: str | None = None
    # Whether resolving offers her a check-in unless the moderator says otherwise (crisis cases).
    follow_up_by_default: bool = False
    # She asked for the person she talked with before (/same): their display name, and until
    # when the case is theirs alone to claim (None: they were not around; anyone may).
    asked_for_name: str | None = None
    asked_for_until: datetime | None = None


class ModeratorActions:
    """Everything a moderator can do to a case, whichever home the action came from."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _case(self, case_id: int) -> Case:
        case = await self.session.get(Case, case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    async def _event(
        self, case_id: int, actor: str, action: str, detail: str | None = None
    ) -> None:
        if action == "claimed":
            # In the claim's own transaction: she is told a person joined exactly when one did.
            name, role_word = await self._claimer(case_id, actor)
            await self._tell_member(
                case_id, lambda language: joined_text(name, role_word, language)
            )
        self.session.add(CaseEvent(case_id=case_id, actor=actor, action=action, detail=detail))

    async def _tell_member(self, case_id: int, text: Callable[[str], str]) -> None:
        """Write `text(her language)` to her outbox."""
        case = await self._case(case_id)
        language = await member_language(self.session, case.member_id)
        self.session.add(
            OutboxMessage(member_id=case.member_id, platform=case.platform, text=text(language))
        )

    async def _claimer(self, case_id: int, moderator: str) -> tuple[str | None, str]:
        """The claimer's display name as the claim stored it (never a platform id) and the
        wording for their role: a console moderator's from their staff record."""
        name = await self.session.scalar(select(Case.claimed_by_name).where(Case.id == case_id))
        role = await self.session.scalar(select(Staff.role).where(Staff.name == moderator))
        return (name[:64] if name else None), ROLE_WORDS.get(role or "", TEAM_ROLE_WORD)

    async def summary(self, case: Case, now: datetime | None = None) -> CaseSummary:
        return (await self._summaries([case], now or utcnow()))[0]

    async def _summaries(self, cases: list[Case], now: datetime) -> list[CaseSummary]:
        """Summaries for many cases in three queries, however many cases there are."""
        if not cases:
            return []
        ids = [case.id for case in cases]
        turns_by_case: dict[int, list[CaseMessage]] = {case_id: [] for case_id in ids}
        for turn in await self.session.scalars(
            select(CaseMessage).where(CaseMessage.case_id.in_(ids)).order_by(CaseMessage.id)
        ):
            turns_by_case[turn.case_id].append(turn)
        members = {
            member.id: member
            for member in await self.session.scalars(
                select(Member).where(Member.id.in_({case.member_id for case in cases}))
            )
        }
        summaries = []
        for case in cases:
            turns = turns_by_case[case.id]
            member = members.get(case.member_id)
            end = case.claimed_at or case.closed_at or now
            summaries.append(
                CaseSummary(
                    id=case.id,
                    status=case.status,
                    severity=case.severity,
                    category=case.category,
                    platform=case.platform,
                    member=member.short_name if member else "member-?",
                    opened_at=case.opened_at,
                    waited_seconds=max(0.0, (end - case.opened_at).total_seconds()),
                    claimed_by=case.claimed_by,
                    trigger=next((t.text for t in turns if t.author == "member"), ""),
                    recent=tuple(
                        Turn(t.author, t.author_name, t.text, t.created_at)
                        for t in turns[-RECENT_TURNS:]
                    ),
                    reannouncements=case.reannouncements,
                    claimed_by_name=case.claimed_by_name,
                    language=member.language if member else None,
                    follow_up_by_default=offered_by_default(case),
                    asked_for_name=case.asked_for_name if case.asked_for else None,
                    asked_for_until=case.asked_for_until,
                )
            )
        return summaries

    async def queue(self, include_closed: bool = False) -> list[CaseSummary]:
        """Open cases: waiting before claimed, then most urgent, then longest waiting."""
        # Cases gathered into a flood alert sink below every other case: a flood of fake crises
        # must not push a real one down the queue. A claimed case has someone with her already,
        # so it never sits above one nobody has taken.
        in_flood = sql_case((Case.flood_alert_id.is_(None), 0), else_=1)
        taken = sql_case((Case.status == CaseStatus.WAITING.value, 0), else_=1)
        query = select(Case).order_by(
            in_flood, taken, Case.severity_rank.desc(), Case.opened_at, Case.id
        )
        if not include_closed:
            query = query.where(Case.status.in_([s.value for s in OPEN_CASE_STATUSES]))
        cases = list((await self.session.scalars(query)).all())
        return await self._summaries(cases, utcnow())

    async def _update_if(
        self, case_id: int, conditions: list[Any], values: dict[str, Any], refusal: str
    ) -> None:
        """Change the case only if it is still in the expected state, in one statement, so
        concurrent moderators can never both succeed; otherwise refuse with `refusal`."""
        result = await self.session.execute(
            update(Case)
            .where(Case.id == case_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            raise CaseConflict(refusal)

    def _claimed_by(self, moderator: str) -> list[Any]:
        return [Case.status == CaseStatus.CLAIMED.value, Case.claimed_by == moderator]

    async def claim(
        self,
        case_id: int,
        moderator: str,
        *,
        display_name: str | None = None,
        max_open: int = 0,
    ) -> None:
        """Exactly one moderator wins: the update only applies while the case is waiting.
        `display_name` is what other staff see instead of `moderator` (which may be a
        platform id). `max_open` caps the open cases one moderator holds (0: no cap); over
        it the claim is refused kindly, naming who else is on shift (community/cases/
        shifts.py)."""
        case = await self._case(case_id)
        now = utcnow()
        if _held_for_another(case, moderator, now):
            until = case.asked_for_until or now
            raise CaseConflict(
                f"She asked for {case.asked_for_name or 'another moderator'}: theirs to claim "
                f"first until {until:%H:%M} UTC (a crisis is open to everyone at once)."
            )
        refusal = await refusal_over_cap(self.session, moderator, max_open)
        if refusal is not None:
            raise CaseConflict(refusal)
        await self._update_if(
            case_id,
            [Case.status == CaseStatus.WAITING.value, *_claimable_by(moderator, now)],
            {
                "status": CaseStatus.CLAIMED.value,
                "claimed_by": moderator,
                "claimed_by_name": (display_name or "").strip()[:64] or None,
                "claimed_at": utcnow(),
            },
            "This case was already claimed or closed.",
        )
        await self._event(case_id, moderator, "claimed")

    async def release(self, case_id: int, moderator: str) -> None:
        await self._update_if(
            case_id,
            self._claimed_by(moderator),
            {
                "status": CaseStatus.WAITING.value,
                "claimed_by": None,
                "claimed_by_name": None,
                "claimed_at": None,
            },
            "Only the moderator who claimed this case can release it.",
        )
        await self._event(case_id, moderator, "released")
        await self._tell_member(case_id, released_text)  # not left wondering who is there

    async def transfer(self, case_id: int, moderator: str, to: str) -> None:
        target = await self.session.scalar(
            select(Staff).where(
                Staff.name == to,
                Staff.role == "moderator",
                Staff.revoked_at.is_(None),
                or_(Staff.expires_at.is_(None), Staff.expires_at > utcnow()),
            )
        )
        if target is None:
            raise CaseConflict(f"There is no active moderator named {to}.")
        leaving = await self.session.scalar(
            select(Case.claimed_by_name).where(Case.id == case_id)
        )  # read before the update: the name she was told had joined
        await self._update_if(
            case_id,
            self._claimed_by(moderator),
            {"claimed_by": to, "claimed_by_name": target.display_name},
            "Only the moderator who claimed this case can transfer it.",
        )
        await self._event(case_id, moderator, "transferred", to)
        role_word = ROLE_WORDS.get(target.role, TEAM_ROLE_WORD)
        await self._tell_member(
            case_id,
            lambda language: handed_over_text(leaving, target.display_name, role_word, language),
        )

    async def reply(self, case_id: int, moderator: str, display_name: str, text: str) -> None:
        """Relay a moderator's words to the member: recorded and queued for delivery together."""
        case = await self._case(case_id)
        if case.status != CaseStatus.CLAIMED.value or case.claimed_by != moderator:
            raise CaseConflict("Claim this case before replying.")
        now = utcnow()
        self.session.add(
            CaseMessage(case_id=case_id, author="moderator", author_name=display_name, text=text)
        )
        self.session.add(
            OutboxMessage(
                member_id=case.member_id,
                platform=case.platform,
                text=text,
                sender_name=display_name,
            )
        )
        if case.first_human_reply_at is None:
            case.first_human_reply_at = now

    async def transcript(self, case_id: int) -> list[Turn]:
        await self._case(case_id)
        turns = (
            await self.session.scalars(
                select(CaseMessage).where(CaseMessage.case_id == case_id).order_by(CaseMessage.id)
            )
        ).all()
        return [Turn(t.author, t.author_name, t.text, t.created_at) for t in turns]

    async def add_note(self, case_id: int, moderator: str, text: str) -> None:
        await self._case(case_id)
        self.session.add(CaseNote(case_id=case_id, author=moderator, text=text))

    async def notes(self, case_id: int) -> list[CaseNote]:
        return list(
            (
                await self.session.scalars(
                    select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)
                )
            ).all()
        )

    async def resolve(
        self,
        case_id: int,
        moderator: str,
        outcome: str,
        return_to_bot: bool,
        follow_up: bool | None = None,
    ) -> None:
        """Close the case; the bot answers again and tells the member a person is a message away.
        A follow-up check-in is offered to her (asked first) when `follow_up` says so, or by
        default for a crisis case (community/followups.py)."""
        case = await self._case(case_id)
        if case.status not in (CaseStatus.WAITING.value, CaseStatus.CLAIMED.value):
            raise CaseConflict("This case is already closed.")
        if case.status == CaseStatus.CLAIMED.value and case.claimed_by != moderator:
            raise CaseConflict(f"This case is claimed by {case.claimed_by_name or 'a moderator'}.")
        # Who leaves: the person she was told had joined (a waiting case closed: nobody).
        leaving = case.claimed_by_name if case.status == CaseStatus.CLAIMED.value else None
        case.status = (CaseStatus.RETURNED if return_to_bot else CaseStatus.RESOLVED).value
        case.closed_at = utcnow()
        case.outcome = outcome[:64]
        language = await member_language(self.session, case.member_id)
        self.session.add(
            OutboxMessage(
                member_id=case.member_id, platform=case.platform, text=left_text(leaving, language)
            )
        )
        await self._event(case_id, moderator, case.status, outcome[:255])
        if follow_up if follow_up is not None else offered_by_default(case):
            await offer(self.session, case)

    async def block_member(self, case_id: int, moderator: str, reason: str, days: int) -> None:
        case = await self._case(case_id)
        await block_member(self.session, case.member_id, moderator, reason, days)
        await self._event(case_id, moderator, "blocked", f"{days} days")


def _held_for_another(case: Case, moderator: str, now: datetime) -> bool:
    """Whether `moderator` must wait: she asked for someone else (community/cases/
    same_person.py), who still has the first minutes; a crisis the screen raised is open to
    everyone at once."""
    return (
        case.asked_for_until is not None
        and case.asked_for_until > now
        and case.asked_for != moderator
        and case.severity_rank <= REQUEST_RANK
    )


def _claimable_by(moderator: str, now: datetime) -> list[Any]:
    """`_held_for_another`'s rule in SQL, for the claim's one conditional update."""
    return [
        or_(
            Case.asked_for_until.is_(None),
            Case.asked_for_until <= now,
            Case.asked_for == moderator,
            Case.severity_rank > REQUEST_RANK,
        )
    ]


async def is_blocked(session: AsyncSession, member_id: int) -> bool:
    return (
        await session.scalar(
            select(Block.id).where(Block.member_id == member_id, Block.until > utcnow()).limit(1)
        )
    ) is not None


@dataclass(frozen=True)
class HandoffStats:
    cases: int
    claimed: int
    median_seconds_to_claim: float | None
    p90_seconds_to_claim: float | None
    median_seconds_to_first_reply: float | None
    waiting_now: int


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def handoff_stats(session: AsyncSession) -> HandoffStats:
    cases = (await session.scalars(select(Case))).all()
    to_claim = [(c.claimed_at - c.opened_at).total_seconds() for c in cases if c.claimed_at]
    to_reply = [
        (c.first_human_reply_at - c.opened_at).total_seconds()
        for c in cases
        if c.first_human_reply_at
    ]
    return HandoffStats(
        cases=len(cases),
        claimed=len(to_claim),
        median_seconds_to_claim=_percentile(to_claim, 0.5),
        p90_seconds_to_claim=_percentile(to_claim, 0.9),
        median_seconds_to_first_reply=_percentile(to_reply, 0.5),
        waiting_now=sum(c.status == CaseStatus.WAITING.value for c in cases),
    )


async def reannounce_overdue(
    session: AsyncSession,
    homes: tuple[str, ...],
    urgent_after: timedelta,
    other_after: timedelta,
) -> list[int]:
    """Re-announce waiting cases nobody claimed in time, and remind the member of the numbers.

    Run on a schedule; all state is in the cases table, so a restart loses no timer.
    """
    now = utcnow()
    waiting = (
        await session.scalars(
            # A flood's cases are in its alert; re-announcing each would bury the queue again.
            select(Case).where(
                Case.status == CaseStatus.WAITING.value, Case.flood_alert_id.is_(None)
            )
        )
    ).all()
    due = []
    for case in waiting:
        limit = urgent_after if case.severity_rank >= int(Severity.HIGH) else other_after
        if (case.announced_at or case.opened_at) + limit > now:
            continue
        result = await session.execute(
            update(Case)
            .where(Case.id == case.id, Case.status == CaseStatus.WAITING.value,
                   Case.reannouncements == case.reannouncements)
            .values(announced_at=now, reannouncements=case.reannouncements + 1)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if not getattr(result, "rowcount", 0):
            continue  # claimed meanwhile, or another worker got here first
        for home in homes:
            session.add(Notification(case_id=case.id, home=home, kind="reannounced"))
        if case.severity_rank >= int(Severity.ELEVATED):
            reminder = phrase("reminder", await member_language(session, case.member_id))
            session.add(
                OutboxMessage(member_id=case.member_id, platform=case.platform, text=reminder)
            )
        session.add(CaseEvent(case_id=case.id, actor=SYSTEM_ACTOR, action="reannounced"))
        due.append(case.id)
    return due


async def release_orphaned(
    session: AsyncSession, homes: tuple[str, ...], names: Sequence[str] | None = None
) -> list[int]:
    """Cases claimed by a web moderator who can no longer act (token revoked or expired; or,
    with `names`, those moderators) go back to the queue: the team is told where it works and
    she is told another person will be with her. Nobody else could have taken them over."""
    now = utcnow()
    gone = select(Staff.name).where(
        Staff.role == "moderator",
        or_(Staff.revoked_at.is_not(None), Staff.expires_at <= now),
    )
    if names is not None:
        gone = select(Staff.name).where(Staff.name.in_(list(names)))
    orphaned = (
        await session.scalars(
            select(Case).where(Case.status == CaseStatus.CLAIMED.value, Case.claimed_by.in_(gone))
        )
    ).all()
    released = []
    for case in orphaned:
        result = await session.execute(
            update(Case)
            .where(Case.id == case.id, Case.status == CaseStatus.CLAIMED.value,
                   Case.claimed_by == case.claimed_by)
            .values(status=CaseStatus.WAITING.value, claimed_by=None, claimed_by_name=None,
                    claimed_at=None, announced_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if not getattr(result, "rowcount", 0):
            continue  # resolved or released meanwhile
        for home in homes:
            session.add(Notification(case_id=case.id, home=home, kind=RELEASED))
        notice = released_text(await member_language(session, case.member_id))
        session.add(OutboxMessage(member_id=case.member_id, platform=case.platform, text=notice))
        session.add(
            CaseEvent(case_id=case.id, actor=SYSTEM_ACTOR, action="released",
                      detail=f"{case.claimed_by} can no longer act")
        )  # fmt: skip
        released.append(case.id)
    return released
