"""Mothers ask researchers: her question goes to the researchers' queue without anything that
identifies her; a researcher answers; a moderator reviews; the answer reaches her (through the
outbox, so it is never lost), and joins the Research 101 library only if she says yes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Member, utcnow
from community.research import texts
from community.research.deidentify import deidentify
from community.research.models import LibraryEntry, MemberQuestion, MemberQuestionStatus

MAX_QUESTION_CHARS = 2000
LIBRARY_SHOWN = 5


class MemberQuestionNotFound(LookupError):
    pass


class MemberQuestionConflict(ValueError):
    pass


async def ask(session: AsyncSession, member_id: int, platform: str, text: str) -> MemberQuestion:
    question = MemberQuestion(
        member_id=member_id, platform=platform, text=deidentify(text[:MAX_QUESTION_CHARS].strip())
    )
    session.add(question)
    await session.flush()
    return question


async def get(session: AsyncSession, question_id: int) -> MemberQuestion:
    question = await session.get(MemberQuestion, question_id)
    if question is None:
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
