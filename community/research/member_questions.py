"""Mothers ask researchers: her question is kept as a draft, de-identified, and shown to her as
researchers would read it; only when she presses "Send it" does it go to the researchers' queue
(a draft she drops is deleted, one she leaves is deleted after a day). A researcher answers; a
moderator reviews; the answer reaches her (through the outbox, so it is never lost), and joins
the Research 101 library only if she says yes."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from community.models import Member, utcnow
from community.research import texts
from community.research.deidentify import deidentify
from community.research.models import LibraryEntry, MemberQuestion, MemberQuestionStatus

MAX_QUESTION_CHARS = 2000
LIBRARY_SHOWN = 5
# A draft she neither sends nor drops: deleted by the retention job after this long, and no
# longer sendable (she asks again with /ask).
DRAFT_KEPT = timedelta(days=1)


class MemberQuestionNotFound(LookupError):
    pass


class MemberQuestionConflict(ValueError):
    pass


class DraftOutcome(StrEnum):
    """What her "Send it" or "Don't send" did."""

    SENT = "sent"  # her draft is now in the researchers' queue
    DROPPED = "dropped"  # her draft is deleted
    ALREADY_SENT = "already_sent"  # hers, but no longer a draft: nothing changed
    GONE = "gone"  # no draft of hers by that number (dropped, expired, or not hers)


def _draft_of(question_id: int, member_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        MemberQuestion.id == question_id,
        MemberQuestion.member_id == member_id,
        MemberQuestion.status == MemberQuestionStatus.DRAFT.value,
    )


async def ask(
    session: AsyncSession, member_id: int, platform: str, text: str, draft: bool = False
) -> MemberQuestion:
    """Her question, de-identified before it is stored: queued for researchers, or with
    `draft` kept for her to see and send (`send_draft`) or drop (`drop_draft`)."""
    question = MemberQuestion(
        member_id=member_id,
        platform=platform,
        text=deidentify(text[:MAX_QUESTION_CHARS].strip()),
        status=(MemberQuestionStatus.DRAFT if draft else MemberQuestionStatus.QUEUED).value,
    )
    session.add(question)
    await session.flush()
    return question


async def send_draft(session: AsyncSession, question_id: int, member_id: int) -> DraftOutcome:
    """Her draft goes to the researchers' queue: only her own, only while it is a draft and
    younger than `DRAFT_KEPT`. One statement, so two presses at once send it once."""
    now = utcnow()
    sent = await session.execute(
        update(MemberQuestion)
        .where(*_draft_of(question_id, member_id), MemberQuestion.created_at >= now - DRAFT_KEPT)
        .values(status=MemberQuestionStatus.QUEUED.value, created_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(sent, "rowcount", 0):
        return DraftOutcome.SENT
    # Not sendable: an expired draft of hers is deleted now, not at the next retention run.
    outcome = await drop_draft(session, question_id, member_id)
    return DraftOutcome.GONE if outcome is DraftOutcome.DROPPED else outcome


async def drop_draft(session: AsyncSession, question_id: int, member_id: int) -> DraftOutcome:
    """Her draft is deleted: only her own, only while it is a draft."""
    dropped = await session.execute(
        delete(MemberQuestion)
        .where(*_draft_of(question_id, member_id))
        .execution_options(synchronize_session=False)
    )
    if getattr(dropped, "rowcount", 0):
        return DraftOutcome.DROPPED
    return await _not_a_draft(session, question_id, member_id)


async def _not_a_draft(session: AsyncSession, question_id: int, member_id: int) -> DraftOutcome:
    """Why a press changed nothing: her question was already sent, or there is no draft of hers
    by that number (someone else's number is answered the same as a missing one)."""
    owner = await session.scalar(
        select(MemberQuestion.member_id).where(MemberQuestion.id == question_id)
    )
    return DraftOutcome.ALREADY_SENT if owner == member_id else DraftOutcome.GONE


async def get(session: AsyncSession, question_id: int) -> MemberQuestion:
    """A question as staff may act on it: a draft is hers alone, so it is not found."""
    question = await session.get(MemberQuestion, question_id)
    if question is None or question.status == MemberQuestionStatus.DRAFT.value:
        raise MemberQuestionNotFound(question_id)
    return question


async def list_by_status(session: AsyncSession, statuses: tuple[str, ...]) -> list[MemberQuestion]:
    return list(
        (
            await session.scalars(
                select(MemberQuestion)
                .where(MemberQuestion.status.in_(statuses))
                .order_by(MemberQuestion.id)
            )
        ).all()
    )


async def answer(
    session: AsyncSession, question_id: int, researcher: str, text: str
) -> MemberQuestion:
    question = await get(session, question_id)
    if question.status not in (
        MemberQuestionStatus.QUEUED.value,
        MemberQuestionStatus.DECLINED.value,
    ):
        raise MemberQuestionConflict(f"This question is already {question.status}.")
    question.answer = text.strip()
    question.answered_by = researcher
    question.answered_at = utcnow()
    question.status = MemberQuestionStatus.ANSWERED.value
    return question


async def approve_answer(
    session: AsyncSession, question_id: int, moderator: str, edited: str | None = None
) -> MemberQuestion:
    """The reviewed answer goes to her: written to the outbox in this same transaction."""
    question = await get(session, question_id)
    if question.status != MemberQuestionStatus.ANSWERED.value or question.answer is None:
        raise MemberQuestionConflict(
            f"This question is {question.status}; there is no answer to review."
        )
    if edited is not None and edited.strip():
        question.answer = edited.strip()
    question.reviewed_by = moderator
    question.status = MemberQuestionStatus.DELIVERED.value
    question.delivered_at = utcnow()
    # In her language as last decided (she may have written since she asked).
    language = await session.scalar(select(Member.language).where(Member.id == question.member_id))
    text, buttons = texts.researcher_answer(question.text, question.answer, question.id, language)
    session.add(texts.outbox_message(question.member_id, question.platform, text, buttons))
    return question


async def decline_answer(
    session: AsyncSession, question_id: int, moderator: str, note: str
) -> MemberQuestion:
    """Back to the researchers with the moderator's note (e.g. a word to change)."""
    question = await get(session, question_id)
    if question.status != MemberQuestionStatus.ANSWERED.value:
        raise MemberQuestionConflict(
            f"This question is {question.status}; there is no answer to review."
        )
    question.status = MemberQuestionStatus.DECLINED.value
    question.reviewed_by = moderator
    question.review_note = note.strip()
    return question


async def library_consent(
    session: AsyncSession, question_id: int, member_id: int, agreed: bool
) -> bool:
    """Her yes or no to sharing; False if the question is not hers or not yet answered."""
    question = await session.get(MemberQuestion, question_id)
    if (
        question is None
        or question.member_id != member_id
        or question.status != MemberQuestionStatus.DELIVERED.value
        or question.answer is None
    ):
        return False
    if agreed and question.library_consent is not True:
        session.add(LibraryEntry(question=question.text, answer=question.answer))
    question.library_consent = agreed
    return True


async def library(session: AsyncSession, limit: int = LIBRARY_SHOWN) -> list[LibraryEntry]:
    return list(
        (
            await session.scalars(
                select(LibraryEntry).order_by(LibraryEntry.id.desc()).limit(limit)
            )
        ).all()
    )
