"""A member's data rights: see what peerbot keeps about her, and delete it.

Deletion removes her member row and, by the database's cascades, everything tied to it: the
delivery addresses (the only platform ids), her cases with their transcripts, notes, audit
events, notifications and case threads, pending messages for her, blocks, and everything of
hers in research: opt-ins, pending research messages, consents, answers, and her questions for
researchers (a Research 101 entry she agreed to share has nothing of her in it and stays).
What remains is a `DeletionRecord` saying that a deletion happened and how much it removed,
with nothing that points back to her. Rasa's memory of the conversation is wiped by the caller
(the dialogue client), since Rasa runs in its own process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import (
    Case,
    CaseMessage,
    DeletionRecord,
    DeliveryAddress,
    Member,
    OutboxMessage,
    SafetyCheck,
    utcnow,
)
from community.research.models import MemberQuestion, ResearchAnswer, ResearchPreference
from community.research.preferences import KINDS

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
    research_opt_ins: tuple[str, ...] = ()
    safety_checks: int = 0
    safety_check_waiting: bool = False


async def my_data(session: AsyncSession, member: Member) -> MyData:
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
    asked = await session.scalar(
        select(func.count(MemberQuestion.id)).where(MemberQuestion.member_id == member.id)
    )
    checks = (
        await session.scalars(select(SafetyCheck.status).where(SafetyCheck.member_id == member.id))
    ).all()
    pref = await session.get(ResearchPreference, member.id)
    opt_ins = tuple(k for k in KINDS if pref is not None and getattr(pref, k))
    return MyData(
        research_answers=int(answers or 0),
        shared_in_mothers101=int(shared or 0),
        questions_for_researchers=int(asked or 0),
        research_opt_ins=opt_ins,
        safety_checks=len(checks),
        safety_check_waiting="asked" in checks,
        code_name=member.short_name,
        first_contact=member.created_at,
        platforms=platforms,
        cases=len(cases),
        open_case=any(c.status in ("waiting", "claimed") for c in cases),
        case_messages=messages,
        pending_messages=pending,
    )


def describe(data: MyData, rasa_memory: str) -> str:
    """Her data in plain words, for a private reply."""
    where = ", ".join(sorted(set(data.platforms))) or "this chat"
    lines = [
        f'Here is what peerbot keeps about you. Inside peerbot you are "{data.code_name}", '
        f"a code, not your name. You first wrote on {data.first_contact:%B %d, %Y}.",
        f"• Where to reach you: {where} (your account number there, used only to send you "
        "messages; nobody on our team sees it).",
    ]
    if data.cases:
        lines.append(
            f"• Conversations with a person from our team: {data.cases} "
            f"({data.case_messages} messages kept"
            + (", one still open" if data.open_case else "")
            + "). Our team can read these; they are deleted after the retention period."
        )
    else:
        lines.append("• No conversations with a person from our team.")
    if data.pending_messages:
        lines.append(f"• Messages waiting to reach you: {data.pending_messages}.")
    if data.safety_checks:
        lines.append(
            f'• Times the bot asked "are you safe?": {data.safety_checks}, with your answers. '
            + (
                "The message it asked about is kept until you answer, so a person can read it."
                if data.safety_check_waiting
                else "The messages it asked about are not kept."
            )
        )
    if data.research_answers:
        lines.append(
            f"• Your answers to researchers' questions: {data.research_answers} (kept without "
            "your name, in the language you wrote them, which researchers see; you can take "
            "each one back)."
        )
    if data.shared_in_mothers101:
        lines.append(
            f"• Of those, shared with every researcher in Mothers 101: "
            f"{data.shared_in_mothers101} (taking an answer back takes it out)."
        )
    if data.questions_for_researchers:
        lines.append(f"• Questions you asked researchers: {data.questions_for_researchers}.")
    lines.append(
        "• Research messages you get: "
        + (", ".join(data.research_opt_ins) if data.research_opt_ins else "none")
        + " (send /research to change)."
    )
    lines.append(f"• Your chats with the bot itself: {rasa_memory}")
    lines.append("You can ask me to delete all of this at any time.")
    return "\n".join(lines)


async def request_deletion(session: AsyncSession, member: Member) -> None:
    member.deletion_requested_at = utcnow()


def deletion_confirmable(member: Member, now: datetime | None = None) -> bool:
    requested = member.deletion_requested_at
    return requested is not None and (now or utcnow()) - requested <= CONFIRM_WITHIN


async def delete_member(session: AsyncSession, member: Member) -> DeletionRecord:
    """Remove everything tied to her; keep only an anonymous record that it happened."""
    data = await my_data(session, member)
    record = DeletionRecord(
        cases=data.cases, messages=data.case_messages, platforms=len(set(data.platforms))
    )
    session.add(record)
    member_id = member.id
    session.expunge(member)
    await session.execute(delete(Member).where(Member.id == member_id))
    return record
