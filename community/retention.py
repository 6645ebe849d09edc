"""Retention: what is kept only for a while is removed on time, from every store.

Per kind (settings `retention_*`): the messages and notes of a closed case after
`retention_transcript_days`; the closed case itself, with its audit events, after
`retention_audit_days`; delivered outbox rows (already without text) after a week; and Rasa's
memory of a conversation once its member has been quiet for `retention_rasa_hours` (the caller
wipes those trackers through the dialogue client, which returns whether it could); research
answers, and mothers' questions to researchers with their answers, after
`retention_research_days` (Research 101 entries she agreed to share hold nothing of her and
stay), and a question she drafted but neither sent nor dropped after a day; delivery records
of research questions (no text) after 30 days; flagged community posts after
`retention_transcript_days`, and posted notices to moderators' homes (their text already
cleared) after a week. Blocks go when they have ended and the audit period has passed.
Answered safety checks (their text already cleared) go after the audit period too.
Everything of mothers about a discussion session (invitations, answers, questions sent ahead,
feedback) goes `retention_session_days` after the session ended; the session itself (the
proposer's words, with counts of nothing) stays, as staff data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from community.db import Database
from community.models import (
    OPEN_CASE_STATUSES,
    Block,
    Case,
    CaseEvent,
    CaseMessage,
    CaseNote,
    CaseThread,
    ConductFlag,
    FloodAlert,
    HomePost,
    Member,
    ModeratorShift,
    Notification,
    OutboxMessage,
    SafetyCheck,
)
from community.research.member_questions import DRAFT_KEPT
from community.research.models import (
    DeliveryState,
    MemberQuestion,
    MemberQuestionStatus,
    ResearchAnswer,
    ResearchDelivery,
)
from community.sessions.models import (
    DiscussionSession,
    SessionFeedback,
    SessionInvitation,
    SessionQuestion,
    SessionRsvp,
)
from community.settings import Settings

OUTBOX_KEPT = timedelta(days=7)
# Long enough for the weekly cap, which counts the last 7 days.
RESEARCH_DELIVERIES_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class PurgeResult:
    transcripts: int  # case messages and notes removed
    cases: int  # closed cases removed with their audit events
    rasa_due: tuple[str, ...]  # pseudonyms whose Rasa memory is due to be wiped


async def purge(database: Database, settings: Settings, now: datetime) -> PurgeResult:
    transcript_cutoff = now - timedelta(days=settings.retention_transcript_days)
    audit_cutoff = now - timedelta(days=settings.retention_audit_days)
    async with database.transaction() as session:
        closed_long_ago = select(Case.id).where(
            Case.status.not_in(OPEN_CASE_STATUSES), Case.closed_at < transcript_cutoff
        )
        removed = 0
        for model in (CaseMessage, CaseNote):
            result = await session.execute(delete(model).where(model.case_id.in_(closed_long_ago)))
            removed += int(getattr(result, "rowcount", 0) or 0)
        await session.execute(delete(CaseThread).where(CaseThread.case_id.in_(closed_long_ago)))
        await session.execute(delete(Notification).where(Notification.case_id.in_(closed_long_ago)))
        expired = select(Case.id).where(
            Case.status.not_in(OPEN_CASE_STATUSES), Case.closed_at < audit_cutoff
        )
        await session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(expired)))
        cases = await session.execute(delete(Case).where(Case.id.in_(expired)))
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.delivered_at.is_not(None),
                OutboxMessage.delivered_at < now - OUTBOX_KEPT,
            )
        )
        await session.execute(delete(ConductFlag).where(ConductFlag.created_at < transcript_cutoff))
        # A flood alert keeps a sample of someone's words: gone with transcripts.
        await session.execute(delete(FloodAlert).where(FloodAlert.last_at < transcript_cutoff))
        await session.execute(
            delete(HomePost).where(
                HomePost.posted_at.is_not(None), HomePost.posted_at < now - OUTBOX_KEPT
            )
        )
        await session.execute(delete(Block).where(Block.until < audit_cutoff))
        # The shift log is staff data, kept as long as the case audit it explains.
        await session.execute(
            delete(ModeratorShift).where(
                ModeratorShift.ended_at.is_not(None), ModeratorShift.ended_at < audit_cutoff
            )
        )
        await session.execute(
            delete(SafetyCheck).where(
                SafetyCheck.status != "asked", SafetyCheck.asked_at < audit_cutoff
            )
        )
        research_cutoff = now - timedelta(days=settings.retention_research_days)
        await session.execute(
            delete(ResearchAnswer).where(ResearchAnswer.created_at < research_cutoff)
        )
        await session.execute(
            delete(MemberQuestion).where(MemberQuestion.created_at < research_cutoff)
        )
        # Shown to her with "Send it?" and never answered: it was not meant to be kept.
        await session.execute(
            delete(MemberQuestion).where(
                MemberQuestion.status == MemberQuestionStatus.DRAFT.value,
                MemberQuestion.created_at < now - DRAFT_KEPT,
            )
        )
        await session.execute(
            delete(ResearchDelivery).where(
                ResearchDelivery.not_before < now - RESEARCH_DELIVERIES_KEPT,
                ResearchDelivery.state != DeliveryState.PENDING.value,
            )
        )
        # Cut on the start: a session lasts at most 8 hours (480 minutes), so it has ended.
        sessions_over = select(DiscussionSession.id).where(
            DiscussionSession.starts_at
            < now - timedelta(days=settings.retention_session_days, hours=8)
        )
        for table in (SessionInvitation, SessionRsvp, SessionQuestion, SessionFeedback):
            await session.execute(delete(table).where(table.session_id.in_(sessions_over)))
        quiet_since = now - timedelta(hours=settings.retention_rasa_hours)
        due = (
            await session.scalars(
                select(Member.pseudonym).where(
                    Member.last_seen_at < quiet_since,
                    or_(
                        Member.rasa_forgotten_at.is_(None),
                        Member.rasa_forgotten_at < Member.last_seen_at,
                    ),
                )
            )
        ).all()
    return PurgeResult(removed, int(getattr(cases, "rowcount", 0) or 0), tuple(due))


async def mark_rasa_forgotten(database: Database, pseudonyms: list[str], now: datetime) -> None:
    if not pseudonyms:
        return
    async with database.transaction() as session:
        for member in await session.scalars(select(Member).where(Member.pseudonym.in_(pseudonyms))):
            member.rasa_forgotten_at = now
