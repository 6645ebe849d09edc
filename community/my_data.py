"""A member's data rights: see what peerbot keeps about her, and delete it.

Deletion removes her member row and, by the database's cascades, everything tied to it: the
delivery addresses (the only platform ids), her cases with their transcripts, notes, audit
events, notifications and case threads, pending messages for her, blocks, her safety plan,
and everything of hers in research: opt-ins, pending research messages, consents, answers, and
her questions for researchers (a Research 101 entry she agreed to share has nothing of her in it
and stays), and in discussion sessions: her invitations, answers (yes, maybe, no, waitlist),
questions sent ahead and feedback.
What remains is a `DeletionRecord` saying that a deletion happened and how much it removed,
with nothing that points back to her. Rasa's memory of the conversation is wiped by the caller
(the dialogue client), since Rasa runs in its own process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.checkins import describe as describe_checkins
from community.followups import CHOSEN
from community.her_time import zone_name
from community.models import (
    Case,
    CaseMessage,
    CheckinSchedule,
    DeletionRecord,
    DeliveryAddress,
    FollowUp,
    Member,
    OutboxMessage,
    Reminder,
    SafetyCheck,
    utcnow,
)
from community.phrases import normalize, phrase
from community.research.models import (
    MemberQuestion,
    MemberQuestionStatus,
    ResearchAnswer,
    ResearchPreference,
)
from community.research.preferences import KINDS
from community.safety_plan import Plan, PlanKeys, PlanLocked, plan_row, render
from community.sessions.models import SessionFeedback, SessionQuestion, SessionRsvp
from community.sessions.rsvp import free_her_spots

CONFIRM_WITHIN = timedelta(minutes=15)


@dataclass(frozen=True)
class MyData:
    code_name: str
    first_contact: datetime
    platforms: tuple[str, ...]
    cases: int
    open_case: bool
    case_messages: int
    pending_messages: int
    research_answers: int = 0
    shared_in_mothers101: int = 0  # of those, the ones she agreed to share with every researcher
    questions_for_researchers: int = 0
    # Questions she wrote and was shown but has not sent (or dropped): only she sees them.
    draft_questions: int = 0
    research_opt_ins: tuple[str, ...] = ()
    safety_checks: int = 0
    safety_check_waiting: bool = False
    follow_ups: int = 0  # check-ins after a case she agreed to (or was asked about)
    language: str | None = None  # the language she is answered in, and how it was decided
    language_source: str | None = None
    # Her safety plan, opened for her alone (None: she has none, or it was not asked for);
    # `safety_plan_locked` when she has one that cannot be opened now (no key, or a wrong one).
    safety_plan: Plan | None = None
    safety_plan_locked: bool = False
    # Check-ins she chose: how often and when ("every_days", "at_minute", "timezone"), and
    # whether they are on; her reminders waiting; the time zone she told us.
    checkins: CheckinSchedule | None = None
    reminders_waiting: int = 0
    timezone: str | None = None
    # Discussion sessions: her answers, and her questions ahead and feedback (her words).
    session_answers: int = 0
    session_words: int = 0


async def _her_plan(
    session: AsyncSession, member: Member, plan_keys: PlanKeys | None
) -> tuple[Plan | None, bool]:
    row = await plan_row(session, member.id)
    if row is None:
        return None, False
    try:
        return (plan_keys or PlanKeys()).open(row.sealed), False
    except PlanLocked:
        return None, True


async def my_data(
    session: AsyncSession, member: Member, plan_keys: PlanKeys | None = None
) -> MyData:
    """What is kept about her; her safety plan opened with `plan_keys` (for her eyes only)."""
    platforms = tuple(
        (
            await session.scalars(
                select(DeliveryAddress.platform).where(DeliveryAddress.member_id == member.id)
            )
        ).all()
    )
    cases = (await session.scalars(select(Case).where(Case.member_id == member.id))).all()
    case_ids = [c.id for c in cases]
    messages = 0
    if case_ids:
        messages = int(
            await session.scalar(
                select(func.count(CaseMessage.id)).where(CaseMessage.case_id.in_(case_ids))
            )
            or 0
        )
    pending = int(
        await session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.member_id == member.id, OutboxMessage.delivered_at.is_(None)
            )
        )
        or 0
    )
    answers = await session.scalar(
        select(func.count(ResearchAnswer.id)).where(ResearchAnswer.member_id == member.id)
    )
    shared = await session.scalar(
        select(func.count(ResearchAnswer.id)).where(
            ResearchAnswer.member_id == member.id, ResearchAnswer.share_consent.is_(True)
        )
    )
    drafted = MemberQuestion.status == MemberQuestionStatus.DRAFT.value
    asked = await session.scalar(
        select(func.count(MemberQuestion.id)).where(MemberQuestion.member_id == member.id, ~drafted)
    )
    drafts = await session.scalar(
        select(func.count(MemberQuestion.id)).where(MemberQuestion.member_id == member.id, drafted)
    )
    checks = (
        await session.scalars(select(SafetyCheck.status).where(SafetyCheck.member_id == member.id))
    ).all()
    follow_ups = await session.scalar(
        select(func.count())
        .select_from(FollowUp)
        .where(FollowUp.member_id == member.id, FollowUp.scheduled_by != CHOSEN)
    )
    schedule = await session.scalar(
        select(CheckinSchedule).where(CheckinSchedule.member_id == member.id)
    )
    reminders_waiting = await session.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.member_id == member.id, Reminder.status == "pending")
    )
    session_answers = await session.scalar(
        select(func.count()).select_from(SessionRsvp).where(SessionRsvp.member_id == member.id)
    )
    session_words = 0
    for table in (SessionQuestion, SessionFeedback):
        counted = await session.scalar(
            select(func.count()).select_from(table).where(table.member_id == member.id)
        )
        session_words += int(counted or 0)
    plan, plan_locked = await _her_plan(session, member, plan_keys)
    pref = await session.get(ResearchPreference, member.id)
    opt_ins = tuple(k for k in KINDS if pref is not None and getattr(pref, k))
    return MyData(
        research_answers=int(answers or 0),
        shared_in_mothers101=int(shared or 0),
        questions_for_researchers=int(asked or 0),
        draft_questions=int(drafts or 0),
        research_opt_ins=opt_ins,
        safety_checks=len(checks),
        follow_ups=int(follow_ups or 0),
        safety_check_waiting="asked" in checks,
        code_name=member.short_name,
        first_contact=member.created_at,
        platforms=platforms,
        cases=len(cases),
        open_case=any(c.status in ("waiting", "claimed") for c in cases),
        case_messages=messages,
        pending_messages=pending,
        language=member.language,
        language_source=member.language_source,
        safety_plan=plan,
        safety_plan_locked=plan_locked,
        checkins=schedule,
        reminders_waiting=int(reminders_waiting or 0),
        timezone=member.timezone,
        session_answers=int(session_answers or 0),
        session_words=session_words,
    )


_MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip


def _date(when: datetime, language: str) -> str:
    if language == "es":
        return f"{when.day} de {_MONTHS_ES[when.month - 1]} de {when.year}"
    return f"{when:%B} {when.day}, {when.year}"


def describe(data: MyData, language: str = "en", session_days: float = 30) -> str:
    """Her data in plain words, for a private reply, in her language (`session_days`: how
    long her words about a session are kept after it, PEERBOT_RETENTION_SESSION_DAYS)."""
    lang = normalize(language)

    def say(key: str, **values: object) -> str:
        return phrase(key, lang, **values)

    where = ", ".join(sorted(set(data.platforms))) or say("my_data_this_chat")
    lines = [
        say(
            "my_data_intro",
            code_name=data.code_name,
            first_contact=_date(data.first_contact, lang),
        ),
        say("my_data_where", where=where),
    ]
    if data.language:
        how = {"chosen": "language_how_chosen", "hint": "language_how_hint"}
        lines.append(
            say(
                "my_data_language",
                name=say(f"language_name_{normalize(data.language)}"),
                how=say(how.get(data.language_source or "", "language_how_written")),
            )
        )
    if data.cases:
        still_open = say("my_data_still_open") if data.open_case else ""
        lines.append(
            say(
                "my_data_cases",
                cases=data.cases,
                messages=data.case_messages,
                still_open=still_open,
            )
        )
    else:
        lines.append(say("my_data_no_cases"))
    if data.pending_messages:
        lines.append(say("my_data_pending", count=data.pending_messages))
    if data.safety_checks:
        kept = "my_data_check_kept" if data.safety_check_waiting else "my_data_check_not_kept"
        lines.append(say("my_data_checks", count=data.safety_checks, kept=say(kept)))
    if data.follow_ups:
        lines.append(say("my_data_follow_ups", count=data.follow_ups))
    if data.checkins is not None:
        lines.append(
            say(
                "my_data_checkins",
                schedule=describe_checkins(data.checkins, lang),
                status=say(f"checkins_state_{data.checkins.status}"),
            )
        )
    if data.reminders_waiting:
        lines.append(say("my_data_reminders", count=data.reminders_waiting))
    if data.timezone:
        lines.append(say("my_data_timezone", zone=zone_name(data.timezone, lang)))
    if data.research_answers:
        lines.append(say("my_data_research_answers", count=data.research_answers))
    if data.shared_in_mothers101:
        lines.append(say("my_data_mothers101", count=data.shared_in_mothers101))
    if data.questions_for_researchers:
        lines.append(say("my_data_questions", count=data.questions_for_researchers))
    if data.draft_questions:
        lines.append(say("my_data_draft_questions", count=data.draft_questions))
    if data.session_answers:
        lines.append(say("my_data_sessions", count=data.session_answers))
    if data.session_words:
        lines.append(
            say("my_data_session_words", count=data.session_words, days=f"{session_days:g}")
        )
    if data.safety_plan is not None and not data.safety_plan.empty:
        lines.append(say("my_data_safety_plan", plan=render(data.safety_plan, lang)))
    elif data.safety_plan_locked:
        lines.append(say("my_data_safety_plan_locked"))
    kinds = ", ".join(data.research_opt_ins) if data.research_opt_ins else say("my_data_none")
    lines.append(say("my_data_research_messages", kinds=kinds))
    lines.append(say("my_data_rasa"))
    lines.append(say("my_data_closing"))
    return "\n".join(lines)


async def request_deletion(session: AsyncSession, member: Member) -> None:
    member.deletion_requested_at = utcnow()


def deletion_confirmable(member: Member, now: datetime | None = None) -> bool:
    requested = member.deletion_requested_at
    return requested is not None and (now or utcnow()) - requested <= CONFIRM_WITHIN


async def delete_member(
    session: AsyncSession, member: Member, zone: str = "America/New_York"
) -> DeletionRecord:
    """Remove everything tied to her; keep only an anonymous record that it happened. A spot
    she held in a discussion session goes to the first on its waitlist (told in `zone`)."""
    await free_her_spots(session, member.id, zone, utcnow())
    data = await my_data(session, member)
    record = DeletionRecord(
        cases=data.cases, messages=data.case_messages, platforms=len(set(data.platforms))
    )
    session.add(record)
    member_id = member.id
    session.expunge(member)
    await session.execute(delete(Member).where(Member.id == member_id))
    return record
