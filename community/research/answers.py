"""Answers with consent: she agrees to a question's terms once, answers, and may withdraw.
Answers are de-identified before they are stored, carry no platform id, and are exported for
researchers without quotes when the question said no quotes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import utcnow
from community.research.deidentify import deidentify
from community.research.models import (
    CommunityPost,
    DeliveryState,
    PendingInput,
    ResearchAnswer,
    ResearchConsent,
    ResearchDelivery,
    ResearchQuestion,
)

PENDING_FOR = timedelta(hours=24)
MAX_ANSWER_CHARS = 4000


async def was_asked(session: AsyncSession, question_id: int, member_id: int, platform: str) -> bool:
    """Only a mother a question reached may answer it: it was sent to her, or posted in the
    community channel of the platform she writes from. Anyone could type /answer_N, and
    researchers must not get answers stuffed by ids that were never asked."""
    sent = await session.scalar(
        select(ResearchDelivery.id)
        .where(
            ResearchDelivery.question_id == question_id,
            ResearchDelivery.member_id == member_id,
            ResearchDelivery.state == DeliveryState.QUEUED.value,
        )
        .limit(1)
    )
    if sent is not None:
        return True
    posted = await session.scalar(
        select(CommunityPost.question_id).where(
            CommunityPost.question_id == question_id,
            CommunityPost.home == platform,
            CommunityPost.posted_at.is_not(None),
        )
    )
    return posted is not None


async def consent_of(session: AsyncSession, question_id: int, member_id: int) -> bool | None:
    row = await session.get(ResearchConsent, (question_id, member_id))
    return None if row is None else row.consented


async def record_consent(
    session: AsyncSession, question_id: int, member_id: int, consented: bool
) -> None:
    row = await session.get(ResearchConsent, (question_id, member_id))
    if row is None:
        session.add(
            ResearchConsent(question_id=question_id, member_id=member_id, consented=consented)
        )
    else:
        row.consented, row.at = consented, utcnow()
    if not consented:
        await session.execute(
            delete(ResearchAnswer).where(
                ResearchAnswer.question_id == question_id, ResearchAnswer.member_id == member_id
            )
        )


async def expect_input(
    session: AsyncSession,
    member_id: int,
    kind: str,
    question_id: int | None = None,
    session_id: int | None = None,
) -> None:
    """Her next message is for `kind`: a research question's answer (`question_id`), her
    question for researchers, or for a discussion session (`session_id`)."""
    row = await session.get(PendingInput, member_id)
    if row is None:
        session.add(
            PendingInput(
                member_id=member_id, kind=kind, question_id=question_id, session_id=session_id
            )
        )
    else:
        row.kind, row.question_id, row.session_id = kind, question_id, session_id
        row.since = utcnow()


async def pending_input(session: AsyncSession, member_id: int) -> PendingInput | None:
    row = await session.get(PendingInput, member_id)
    if row is not None and utcnow() - row.since > PENDING_FOR:
        await session.delete(row)
        return None
    return row


async def clear_input(session: AsyncSession, member_id: int) -> bool:
    result = await session.execute(delete(PendingInput).where(PendingInput.member_id == member_id))
    return bool(getattr(result, "rowcount", 0))


async def store_answer(
    session: AsyncSession,
    question_id: int,
    member_id: int,
    text: str,
    language: str | None = None,
) -> ResearchAnswer:
    """One answer per mother and question: answering again replaces what she wrote before.
    Kept in the language she wrote it in (`language`, noted for researchers), never
    translated."""
    await withdraw(session, question_id, member_id)
    answer = ResearchAnswer(
        question_id=question_id,
        member_id=member_id,
        text=deidentify(text[:MAX_ANSWER_CHARS]),
        language=language,
    )
    session.add(answer)
    await session.flush()
    return answer


async def withdraw(session: AsyncSession, question_id: int, member_id: int) -> int:
    result = await session.execute(
        delete(ResearchAnswer).where(
            ResearchAnswer.question_id == question_id, ResearchAnswer.member_id == member_id
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class AnswerForResearcher:
    """What a researcher sees: a number within the question, a date, the words. Never who."""

    number: int
    date: str
    text: str
    # False when the question promised no quotes: read to learn from, never quoted in any
    # publication (what she was told when she agreed).
    quotable: bool
    # The language she wrote in ("en", "es"; None if not noted): her words are not translated.
    language: str | None = None


async def answers_for_researcher(
    session: AsyncSession, question: ResearchQuestion
) -> list[AnswerForResearcher]:
    rows = (
        await session.scalars(
            select(ResearchAnswer)
            .where(ResearchAnswer.question_id == question.id)
            .order_by(ResearchAnswer.created_at, ResearchAnswer.id)
        )
    ).all()
    return [
        AnswerForResearcher(
            number=index,
            # The day only: an exact time could be matched with a platform's own records.
            date=row.created_at.date().isoformat(),
            # Stored de-identified; run again so improved rules reach older answers too.
            text=deidentify(row.text),
            quotable=question.quotes_allowed,
            language=row.language,
        )
        for index, row in enumerate(rows, start=1)
    ]


def export_csv(question: ResearchQuestion, answers: list[AnswerForResearcher]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["question_id", "answer_number", "date", "may_quote", "answer", "language"])
    for answer in answers:
        writer.writerow(
            [
                question.id, answer.number, answer.date, answer.quotable,
                csv_safe(answer.text), answer.language or "",
            ]
        )  # fmt: skip
    return buffer.getvalue()


def csv_safe(value: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula; answers are not formulas."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def answers_since(
    session: AsyncSession, question_ids: list[int], since: datetime
) -> dict[int, int]:
    """New answers per question since a time (for digests)."""
    rows = (
        await session.execute(
            select(ResearchAnswer.question_id).where(
                ResearchAnswer.question_id.in_(question_ids), ResearchAnswer.created_at > since
            )
        )
    ).all()
    out: dict[int, int] = {}
    for (question_id,) in rows:
        out[question_id] = out.get(question_id, 0) + 1
    return out
