"""Researchers' questions from submission to publication. Nothing a researcher writes reaches
mothers until a moderator approved it (possibly edited for language and stigma)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import utcnow
from community.research.models import (
    DeliveryState,
    QuestionKind,
    QuestionStatus,
    ResearchAnswer,
    ResearchConsent,
    ResearchDelivery,
    ResearchQuestion,
)


class QuestionNotFound(LookupError):
    pass


class QuestionConflict(ValueError):
    """The question is not in a state that allows this; the message says why."""


@dataclass(frozen=True)
class QuestionCounts:
    asked: int  # mothers it was sent to
    answered: int  # answers kept (withdrawn ones are gone)
    declined: int  # mothers who said no to the terms


async def submit(
    session: AsyncSession,
    researcher_id: int,
    text: str,
    context: str,
    quotes_allowed: bool,
    closes_at: datetime | None,
    publish_at: datetime | None = None,
    kind: str = QuestionKind.QUESTION.value,
    about_question_id: int | None = None,
) -> ResearchQuestion:
    """Submit for review. Results name one of the researcher's own published questions: they
    go to the mothers who agreed to answer it (and want results)."""
    if closes_at is not None and closes_at <= utcnow():
        raise QuestionConflict("The closing date is in the past.")
    if kind == QuestionKind.RESULTS.value:
        if about_question_id is None:
            raise QuestionConflict("Results need the number of the question they are about.")
        about = await session.get(ResearchQuestion, about_question_id)
        if (
            about is None
            or about.researcher_id != researcher_id
            or about.kind != QuestionKind.QUESTION.value
            or about.published_at is None
        ):
            raise QuestionConflict("Results must be about a question of yours that was published.")
    else:
        about_question_id = None
    question = ResearchQuestion(
        researcher_id=researcher_id,
        text=text.strip(),
        context=context.strip(),
        submitted_text=text.strip(),
        quotes_allowed=quotes_allowed,
        closes_at=closes_at,
        publish_at=publish_at,
        status=QuestionStatus.SUBMITTED.value,
        kind=kind,
        about_question_id=about_question_id,
    )
    session.add(question)
    await session.flush()
    return question


async def get_question(
    session: AsyncSession, question_id: int, researcher_id: int | None = None
) -> ResearchQuestion:
    """The question; with `researcher_id`, only if it is hers (others' are not found)."""
    question = await session.get(ResearchQuestion, question_id)
    if question is None or (researcher_id is not None and question.researcher_id != researcher_id):
        raise QuestionNotFound(question_id)
    return question


async def list_questions(
    session: AsyncSession, researcher_id: int | None = None, status: str | None = None
) -> list[ResearchQuestion]:
    query = select(ResearchQuestion).order_by(ResearchQuestion.id)
    if researcher_id is not None:
        query = query.where(ResearchQuestion.researcher_id == researcher_id)
    if status is not None:
        query = query.where(ResearchQuestion.status == status)
    return list((await session.scalars(query)).all())


async def counts(session: AsyncSession, question_id: int) -> QuestionCounts:
    asked = await session.scalar(
        select(func.count(ResearchDelivery.id)).where(
            ResearchDelivery.question_id == question_id,
            ResearchDelivery.state == DeliveryState.QUEUED.value,
        )
    )
    answered = await session.scalar(
        select(func.count(func.distinct(ResearchAnswer.member_id))).where(
            ResearchAnswer.question_id == question_id
        )
    )
    declined = await session.scalar(
        select(func.count()).where(
            ResearchConsent.question_id == question_id, ResearchConsent.consented.is_(False)
        )
    )
    return QuestionCounts(int(asked or 0), int(answered or 0), int(declined or 0))


async def approve(
    session: AsyncSession,
    question_id: int,
    moderator: str,
    text: str | None = None,
    context: str | None = None,
    publish_at: datetime | None = None,
    text_es: str | None = None,
    context_es: str | None = None,
) -> ResearchQuestion:
    """Approve, optionally with edited words, a Spanish version and a publication time."""
    question = await get_question(session, question_id)
    if question.status not in (QuestionStatus.SUBMITTED.value, QuestionStatus.APPROVED.value):
        raise QuestionConflict(
            f"This question is {question.status}; only a submitted one can be approved."
        )
    if text is not None and text.strip():
        question.text = text.strip()
    if context is not None and context.strip():
        question.context = context.strip()
    _set_spanish(question, text_es, context_es)
    if publish_at is not None:
        question.publish_at = publish_at
    question.status = QuestionStatus.APPROVED.value
    question.reviewed_by = moderator
    question.reviewed_at = utcnow()
    question.decline_reason = None
    return question


SPANISH_EDITABLE = (
    QuestionStatus.SUBMITTED.value,
    QuestionStatus.APPROVED.value,
    QuestionStatus.PUBLISHED.value,
)


def _set_spanish(question: ResearchQuestion, text_es: str | None, context_es: str | None) -> None:
    """None leaves the Spanish version as it is; an empty text removes it. A Spanish question
    needs its context in Spanish too (the context says who asks and why, which she needs to
    decide), unless the question has no context."""
    if text_es is None and context_es is None:
        return
    new_text = question.text_es if text_es is None else (text_es.strip() or None)
    new_context = question.context_es if context_es is None else (context_es.strip() or None)
    if new_text is None:
        question.text_es = question.context_es = None
        return
    if question.context and not new_context:
        raise QuestionConflict(
            "The Spanish version needs the context in Spanish too (who asks, and why)."
        )
    question.text_es, question.context_es = new_text, new_context


async def set_spanish(
    session: AsyncSession, question_id: int, text_es: str, context_es: str
) -> ResearchQuestion:
    """Add, change or (with an empty text) remove the Spanish version a reviewer wrote, also
    after publication: mothers it has not reached yet, and every later /answer, get it."""
    question = await get_question(session, question_id)
    if question.status not in SPANISH_EDITABLE:
        raise QuestionConflict(
            f"This question is {question.status}; its Spanish version can no longer change."
        )
    _set_spanish(question, text_es, context_es)
    return question


async def decline(
    session: AsyncSession, question_id: int, moderator: str, reason: str
) -> ResearchQuestion:
    question = await get_question(session, question_id)
    if question.status not in (QuestionStatus.SUBMITTED.value, QuestionStatus.APPROVED.value):
        raise QuestionConflict(f"This question is {question.status}; it can no longer be declined.")
    question.status = QuestionStatus.DECLINED.value
    question.reviewed_by = moderator
    question.reviewed_at = utcnow()
    question.decline_reason = reason.strip()
    return question


async def schedule(
    session: AsyncSession, question_id: int, at: datetime | None, researcher_id: int | None = None
) -> ResearchQuestion:
    """Publish at `at`, or now. Only an approved question can be published."""
    question = await get_question(session, question_id, researcher_id)
    if question.status != QuestionStatus.APPROVED.value:
        raise QuestionConflict(
            f"This question is {question.status}; only an approved question can be published."
        )
    question.publish_at = at or utcnow()
    return question


async def close_expired(session: AsyncSession, now: datetime) -> int:
    """Questions past their closing date take no more answers and go to nobody new."""
    expired = (
        await session.scalars(
            select(ResearchQuestion).where(
                ResearchQuestion.closes_at.is_not(None),
                ResearchQuestion.closes_at <= now,
                ResearchQuestion.status.in_(
                    (QuestionStatus.APPROVED.value, QuestionStatus.PUBLISHED.value)
                ),
            )
        )
    ).all()
    for question in expired:
        question.status = QuestionStatus.CLOSED.value
    return len(expired)


def still_current(question: ResearchQuestion, now: datetime | None = None) -> bool:
    """Published and not past its closing date: still worth sending."""
    if question.status != QuestionStatus.PUBLISHED.value:
        return False
    return question.closes_at is None or question.closes_at > (now or utcnow())


def accepting_answers(question: ResearchQuestion, now: datetime | None = None) -> bool:
    return question.kind == QuestionKind.QUESTION.value and still_current(question, now)
