"""Mothers 101: what mothers answered researchers, for every researcher to learn from.

A mother who answers a research question is asked a second, separate yes or no: may her
de-identified answer also go into Mothers 101? Moderators choose among the answers shared
that way, trim anything identifying, and file each under its question and a theme; every
signed-in researcher reads and exports the library. An entry hangs on her answer: withdrawing
the answer, saying no after all, or deleting her data takes it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import utcnow
from community.research.deidentify import deidentify
from community.research.models import MothersLibraryEntry, ResearchAnswer, ResearchQuestion

MAX_ENTRY_CHARS = 2000
# The questions this initiative's researchers already asked, to start the library with
# (`peerbot research seed-mothers101` submits them for review like any question).
SEED_QUESTIONS = (
    "What makes you as a woman/mother comfortable with speaking out about opioid use disorders?",
    "If you participate in a research project, would you like to find out about results? "
    "What's the best way to provide them to you?",
)
SEED_CONTEXT = (
    "Asked by the researchers of this initiative; answers you agree to share go into "
    "Mothers 101, for researchers to learn from mothers."
)
# Their Spanish versions, offered to the reviewers with the questions (a first version awaiting
# a native speaker's review, like community/research/wording.yml).
SEED_QUESTIONS_ES = (
    "¿Qué te hace sentir cómoda, como mujer y como mamá, para hablar abiertamente sobre el "
    "trastorno por consumo de opioides?",
    "Si participas en un proyecto de investigación, ¿te gustaría conocer los resultados? "
    "¿Cuál es la mejor manera de hacértelos llegar?",
)
SEED_CONTEXT_ES = (
    "Lo preguntan los investigadores de esta iniciativa; las respuestas que aceptes compartir "
    "van a Mothers 101, para que los investigadores aprendan de las mamás."
)


async def seed(session: AsyncSession, researcher_name: str) -> list[int]:
    """Submit the seed questions for review under a researcher (skipping any already there);
    the numbers of those submitted now."""
    from community.models import Role, Staff
    from community.research.questions import submit

    researcher = await session.scalar(
        select(Staff).where(Staff.name == researcher_name, Staff.role == Role.RESEARCHER.value)
    )
    if researcher is None:
        raise LookupError(f"no researcher named {researcher_name}")
    existing = set((await session.scalars(select(ResearchQuestion.submitted_text))).all())
    submitted = []
    for text, text_es in zip(SEED_QUESTIONS, SEED_QUESTIONS_ES, strict=True):
        if text in existing:
            continue
        question = await submit(
            session, researcher.id, text, SEED_CONTEXT, quotes_allowed=False, closes_at=None
        )
        question.text_es, question.context_es = text_es, SEED_CONTEXT_ES
        submitted.append(question.id)
    return submitted


class NotShared(LookupError):
    """No answer with that number that its author agreed to share."""


class EntryNotFound(LookupError):
    pass


async def record_share(
    session: AsyncSession, question_id: int, member_id: int, agreed: bool
) -> bool:
    """Her yes or no for her answer to `question_id`; False if she has no answer there. A no
    after a yes takes the answer out of the library."""
    answer = await session.scalar(
        select(ResearchAnswer).where(
            ResearchAnswer.question_id == question_id, ResearchAnswer.member_id == member_id
        )
    )
    if answer is None:
        return False
    answer.share_consent = agreed
    if not agreed:
        await session.execute(
            delete(MothersLibraryEntry).where(MothersLibraryEntry.answer_id == answer.id)
        )
    return True


@dataclass(frozen=True)
class Candidate:
    """An answer shared for Mothers 101, not yet in it (never who wrote it)."""

    answer_id: int
    question_id: int
    question: str
    text: str
    date: str
    language: str | None = None  # the language she wrote in, kept as she wrote it


async def candidates(session: AsyncSession) -> list[Candidate]:
    filed = select(MothersLibraryEntry.answer_id)
    rows = (
        await session.execute(
            select(ResearchAnswer, ResearchQuestion.text)
            .join(ResearchQuestion, ResearchQuestion.id == ResearchAnswer.question_id)
            .where(ResearchAnswer.share_consent.is_(True), ResearchAnswer.id.not_in(filed))
            .order_by(ResearchAnswer.id)
        )
    ).all()
    return [
        Candidate(a.id, a.question_id, question, a.text, f"{a.created_at:%Y-%m-%d}", a.language)
        for a, question in rows
    ]


async def add_entry(
    session: AsyncSession, answer_id: int, text: str, theme: str, moderator: str
) -> MothersLibraryEntry:
    """File a shared answer, as the moderator trimmed it (de-identified again)."""
    answer = await session.get(ResearchAnswer, answer_id)
    if answer is None or answer.share_consent is not True:
        raise NotShared(answer_id)
    entry = MothersLibraryEntry(
        answer_id=answer.id,
        question_id=answer.question_id,
        text=deidentify(text.strip()[:MAX_ENTRY_CHARS]),
        theme=theme.strip(),
        added_by=moderator,
        added_at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def remove_entry(session: AsyncSession, entry_id: int) -> None:
    entry = await session.get(MothersLibraryEntry, entry_id)
    if entry is None:
        raise EntryNotFound(entry_id)
    await session.delete(entry)


@dataclass(frozen=True)
class Entry:
    id: int
    question_id: int
    question: str
    theme: str
    text: str
    added: datetime
    language: str | None = None  # the language she wrote in ("en", "es")


async def entries(session: AsyncSession) -> list[Entry]:
    """The library, by question, then theme, then the order entries were filed."""
    rows = (
        await session.execute(
            select(MothersLibraryEntry, ResearchQuestion.text, ResearchAnswer.language)
            .join(ResearchQuestion, ResearchQuestion.id == MothersLibraryEntry.question_id)
            .join(ResearchAnswer, ResearchAnswer.id == MothersLibraryEntry.answer_id)
            .order_by(
                MothersLibraryEntry.question_id, MothersLibraryEntry.theme, MothersLibraryEntry.id
            )
        )
    ).all()
    return [
        Entry(e.id, e.question_id, q, e.theme, e.text, e.added_at, language)
        for e, q, language in rows
    ]
