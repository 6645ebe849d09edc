"""The research HTTP API and the researchers' page (/research).

Researchers submit questions, follow them (status and counts), read and export the answers
(de-identified), read their digests, and answer mothers' questions. Moderators review both
directions before anything reaches a mother. Every route checks the role: 401 without a valid
bearer token, 403 with another role's.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.web.auth import MAX_RECORD_ID, RecordId, Session, require_role
from community.models import Role, Staff
from community.research import member_questions as mq
from community.research import questions as rq
from community.research.answers import answers_for_researcher, export_csv
from community.research.deidentify import removed_kinds
from community.research.digest import digests_for, period_label
from community.research.models import (
    MemberQuestion,
    MemberQuestionStatus,
    QuestionStatus,
    ResearchQuestion,
)
from community.scheduling import run_research_now
from community.staff import StaffIdentity

Researcher = Annotated[StaffIdentity, Depends(require_role(Role.RESEARCHER.value))]
Reviewer = Annotated[StaffIdentity, Depends(require_role(Role.MODERATOR.value))]
Publisher = Annotated[
    StaffIdentity, Depends(require_role(Role.MODERATOR.value, Role.RESEARCHER.value))
]
QuestionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=5, max_length=1000)
]
ContextText = Annotated[str, Field(max_length=1000)]


class QuestionIn(BaseModel):
    text: QuestionText = Field(description="The question, in plain words.")
    context: ContextText = Field(
        default="", description="A short plain-language context: who asks, and why."
    )
    quotes_allowed: bool = Field(
        default=False, description="May answers be quoted (never with identifying details)?"
    )
    closes_at: AwareDatetime | None = Field(default=None, description="No answers after this.")
    publish_at: AwareDatetime | None = Field(
        default=None, description="When to publish once approved (default: when published)."
    )
    kind: Literal["question", "invitation", "results"] = Field(
        default="question",
        description=(
            "question: mothers who opted in to research questions may answer. invitation: an "
            "invitation to a study, for mothers who opted in to invitations (no answers). "
            "results: study results for the mothers who agreed to answer `about_question_id` "
            "and opted in to results."
        ),
    )
    about_question_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_RECORD_ID,
        description="For results: your published question they are about.",
    )


class CountsOut(BaseModel):
    asked: int = Field(description="Mothers the question was sent to.")
    answered: int
    declined: int = Field(description="Mothers who said no to the question's terms.")


class QuestionOut(BaseModel):
    id: int
    kind: str
    about_question_id: int | None
    status: str
    text: str = Field(description="What mothers see (a moderator may have edited it).")
    submitted_text: str
    context: str
    text_es: str | None = Field(
        default=None,
        description="The Spanish version a moderator added at review; null: none yet (Spanish "
        "readers get the English words with a line in Spanish saying so).",
    )
    context_es: str | None = None
    quotes_allowed: bool
    closes_at: datetime | None
    publish_at: datetime | None
    published_at: datetime | None
    reviewed_by: str | None
    decline_reason: str | None
    researcher: str
    counts: CountsOut


class QuestionsOut(BaseModel):
    questions: list[QuestionOut]


class AnswerOut(BaseModel):
    number: int
    date: str
    text: str = Field(
        description="De-identified: names, numbers, emails, addresses, places and clinic "
        "names removed (shown as [name], [place], [clinic]...)."
    )
    quotable: bool = Field(description="False when the question promised not to quote.")
    language: str | None = Field(
        default=None,
        description='The language she wrote in ("en" or "es"; null if not noted). Answers are '
        "kept as she wrote them, never translated.",
    )
    removed: list[str] = Field(
        default_factory=list,
        description='What kinds of detail were taken out, in plain words ("a place name").',
    )


class AnswersOut(BaseModel):
    question_id: int
    answers: list[AnswerOut]
    total: int = Field(default=0, description="All answers to the question.")
    page: int = 1
    per_page: int | None = Field(default=None, description="null: every answer at once.")


class ApproveIn(BaseModel):
    text: Annotated[str | None, Field(max_length=1000)] = Field(
        default=None, description="The question, edited (language, stigma); default unchanged."
    )
    context: Annotated[str | None, Field(max_length=1000)] = None
    publish_at: AwareDatetime | None = None
    text_es: Annotated[str | None, Field(max_length=1000)] = Field(
        default=None,
        description="The question in Spanish, for mothers who read Spanish; default unchanged, "
        '"" removes it.',
    )
    context_es: Annotated[str | None, Field(max_length=1000)] = Field(
        default=None, description="The context in Spanish (needed with text_es if there is one)."
    )


class SpanishIn(BaseModel):
    text_es: Annotated[str, Field(max_length=1000)] = Field(
        description='The question in Spanish; "" removes the Spanish version.'
    )
    context_es: Annotated[str, Field(max_length=1000)] = Field(
        default="", description="The context in Spanish (needed if the question has a context)."
    )


class ReasonIn(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class PublishIn(BaseModel):
    at: AwareDatetime | None = Field(default=None, description="When; default now.")


class DigestOut(BaseModel):
    period: str
    period_label: str = Field(default="", description='In plain words: "the week of ...".')
    text: str
    at: datetime


class DigestsOut(BaseModel):
    digests: list[DigestOut]


class MemberQuestionOut(BaseModel):
    id: int
    status: str
    question: str = Field(description="A mother's question, de-identified; never who asked.")
    answer: str | None
    answered_by: str | None
    review_note: str | None
    asked_on: str


class MemberQuestionsOut(BaseModel):
    questions: list[MemberQuestionOut]


class AnswerIn(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=4000)]


class ReviewAnswerIn(BaseModel):
    answer: Annotated[str | None, Field(max_length=4000)] = Field(
        default=None, description="The answer, edited; default unchanged."
    )


class NoteIn(BaseModel):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


async def _question_out(session: AsyncSession, question: ResearchQuestion) -> QuestionOut:
    counts = await rq.counts(session, question.id)
    researcher = await session.scalar(select(Staff.name).where(Staff.id == question.researcher_id))
    return QuestionOut(
        id=question.id,
        kind=question.kind,
        about_question_id=question.about_question_id,
        status=question.status,
        text=question.text,
        submitted_text=question.submitted_text,
        context=question.context,
        text_es=question.text_es,
        context_es=question.context_es,
        quotes_allowed=question.quotes_allowed,
        closes_at=question.closes_at,
        publish_at=question.publish_at,
        published_at=question.published_at,
        reviewed_by=question.reviewed_by,
        decline_reason=question.decline_reason,
        researcher=researcher or "",
        counts=CountsOut(asked=counts.asked, answered=counts.answered, declined=counts.declined),
    )


def _member_question_out(question: MemberQuestion) -> MemberQuestionOut:
    return MemberQuestionOut(
        id=question.id,
        status=question.status,
        question=question.text,
        answer=question.answer,
        answered_by=question.answered_by,
        review_note=question.review_note,
        asked_on=question.created_at.date().isoformat(),
    )


def _http(error: Exception) -> HTTPException:
    if isinstance(error, (rq.QuestionNotFound, mq.MemberQuestionNotFound)):
        return HTTPException(404, "No such question.")
    return HTTPException(409, str(error))


def build_research_router() -> APIRouter:
    router = APIRouter()
    static = resources.files("bots.web") / "static"

    @router.get("/research", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse((static / "research.html").read_text(encoding="utf-8"))

    # -- researchers' questions ------------------------------------------------------------

    @router.post(
        "/api/research/questions", response_model=QuestionOut, status_code=201, tags=["research"]
    )
    async def submit(body: QuestionIn, staff: Researcher, session: Session) -> QuestionOut:
        """Submit a question, a study invitation or study results; a moderator reviews it
        before any mother sees it."""
        try:
            question = await rq.submit(
                session, staff.id, body.text, body.context, body.quotes_allowed,
                body.closes_at, body.publish_at, body.kind, body.about_question_id,
            )  # fmt: skip
        except rq.QuestionConflict as error:
            raise _http(error) from None
        return await _question_out(session, question)

    @router.get("/api/research/questions", response_model=QuestionsOut, tags=["research"])
    async def mine(staff: Researcher, session: Session) -> QuestionsOut:
        """Your questions with their status and counts (asked, answered, declined)."""
        questions = await rq.list_questions(session, researcher_id=staff.id)
        return QuestionsOut(questions=[await _question_out(session, q) for q in questions])

    @router.get(
        "/api/research/questions/{question_id}", response_model=QuestionOut, tags=["research"]
    )
    async def one(question_id: RecordId, staff: Researcher, session: Session) -> QuestionOut:
        try:
            question = await rq.get_question(session, question_id, staff.id)
        except rq.QuestionNotFound as error:
            raise _http(error) from None
        return await _question_out(session, question)

    @router.get(
        "/api/research/questions/{question_id}/answers",
        response_model=AnswersOut,
        tags=["research"],
    )
    async def answers(
        question_id: RecordId,
        staff: Researcher,
        session: Session,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int | None, Query(ge=1, le=100)] = None,
    ) -> AnswersOut:
        """The answers, de-identified, without anything that says who gave them; each says
        what kinds of detail were removed. With `per_page`, one page of them (`page` from 1)."""
        try:
            question = await rq.get_question(session, question_id, staff.id)
        except rq.QuestionNotFound as error:
            raise _http(error) from None
        rows = await answers_for_researcher(session, question)
        shown = rows if per_page is None else rows[(page - 1) * per_page : page * per_page]
        return AnswersOut(
            question_id=question.id,
            answers=[AnswerOut(**a.__dict__, removed=removed_kinds(a.text)) for a in shown],
            total=len(rows),
            page=page if per_page is not None else 1,
            per_page=per_page,
        )

    @router.get(
        "/api/research/questions/{question_id}/answers.csv",
        tags=["research"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def answers_csv(question_id: RecordId, staff: Researcher, session: Session) -> Response:
        """The same answers as CSV (question_id, answer_number, date, may_quote, answer)."""
        try:
            question = await rq.get_question(session, question_id, staff.id)
        except rq.QuestionNotFound as error:
            raise _http(error) from None
        body = export_csv(question, await answers_for_researcher(session, question))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="question-{question.id}.csv"'},
        )

    @router.get("/api/research/digests", response_model=DigestsOut, tags=["research"])
    async def digests(staff: Researcher, session: Session) -> DigestsOut:
        """Your scheduled digests, newest first (daily or weekly: PEERBOT_RESEARCH_DIGEST)."""
        rows = await digests_for(session, staff.id)
        return DigestsOut(
            digests=[
                DigestOut(
                    period=d.key.split(":", 1)[1],
                    period_label=period_label(d.key),
                    text=d.text,
                    at=d.created_at,
                )
                for d in rows
            ]
        )

    @router.post(
        "/api/research/questions/{question_id}/publish",
        response_model=QuestionOut,
        tags=["research", "review"],
    )
    async def publish(
        question_id: RecordId,
        body: PublishIn,
        staff: Publisher,
        request: Request,
        session: Session,
        tasks: BackgroundTasks,
    ) -> QuestionOut:
        """Publish an approved question now or at a time (a researcher: only her own)."""
        owner = staff.id if staff.role == Role.RESEARCHER.value else None
        try:
            question = await rq.schedule(session, question_id, body.at, owner)
        except (rq.QuestionNotFound, rq.QuestionConflict) as error:
            raise _http(error) from None
        if body.at is None:
            # After the response: the transaction has committed by then, so the run sees it.
            tasks.add_task(run_research_now, getattr(request.app.state, "scheduler", None))
        return await _question_out(session, question)

    # -- mothers' questions, for researchers ------------------------------------------------

    @router.get(
        "/api/research/member-questions", response_model=MemberQuestionsOut, tags=["research"]
    )
    async def member_questions(_: Researcher, session: Session) -> MemberQuestionsOut:
        """Mothers' questions waiting for an answer (or sent back by a moderator's review)."""
        rows = await mq.list_by_status(
            session, (MemberQuestionStatus.QUEUED.value, MemberQuestionStatus.DECLINED.value)
        )
        return MemberQuestionsOut(questions=[_member_question_out(q) for q in rows])

    @router.post(
        "/api/research/member-questions/{question_id}/answer",
        response_model=MemberQuestionOut,
        tags=["research"],
    )
    async def answer_member(
        question_id: RecordId, body: AnswerIn, staff: Researcher, session: Session
    ) -> MemberQuestionOut:
        """Answer a mother's question; a moderator reviews it before she gets it."""
        try:
            question = await mq.answer(session, question_id, staff.display_name, body.text)
        except (mq.MemberQuestionNotFound, mq.MemberQuestionConflict) as error:
            raise _http(error) from None
        return _member_question_out(question)

    # -- review, for moderators -------------------------------------------------------------

    @router.get("/api/review/questions", response_model=QuestionsOut, tags=["review"])
    async def to_review(
        _: Reviewer, session: Session, status: str | None = QuestionStatus.SUBMITTED.value
    ) -> QuestionsOut:
        """Researchers' questions (default: those waiting for review)."""
        questions = await rq.list_questions(session, status=status or None)
        return QuestionsOut(questions=[await _question_out(session, q) for q in questions])

    @router.post(
        "/api/review/questions/{question_id}/approve", response_model=QuestionOut, tags=["review"]
    )
    async def approve(
        question_id: RecordId, body: ApproveIn, staff: Reviewer, session: Session
    ) -> QuestionOut:
        """Approve, optionally with edited words, a Spanish version and a publication time."""
        try:
            question = await rq.approve(
                session, question_id, staff.name, body.text, body.context, body.publish_at,
                body.text_es, body.context_es,
            )  # fmt: skip
        except (rq.QuestionNotFound, rq.QuestionConflict) as error:
            raise _http(error) from None
        return await _question_out(session, question)

    @router.post(
        "/api/review/questions/{question_id}/spanish", response_model=QuestionOut, tags=["review"]
    )
    async def spanish(
        question_id: RecordId, body: SpanishIn, _: Reviewer, session: Session
    ) -> QuestionOut:
        """Add, change or remove the Spanish version of a question (also once published:
        mothers it has not reached yet, and every later answer, get it)."""
        try:
            question = await rq.set_spanish(session, question_id, body.text_es, body.context_es)
        except (rq.QuestionNotFound, rq.QuestionConflict) as error:
            raise _http(error) from None
        return await _question_out(session, question)

    @router.post(
        "/api/review/questions/{question_id}/decline", response_model=QuestionOut, tags=["review"]
    )
    async def decline(
        question_id: RecordId, body: ReasonIn, staff: Reviewer, session: Session
    ) -> QuestionOut:
        """Decline with a reason the researcher sees."""
        try:
            question = await rq.decline(session, question_id, staff.name, body.reason)
        except (rq.QuestionNotFound, rq.QuestionConflict) as error:
            raise _http(error) from None
        return await _question_out(session, question)

    @router.get("/api/review/member-questions", response_model=MemberQuestionsOut, tags=["review"])
    async def answers_to_review(_: Reviewer, session: Session) -> MemberQuestionsOut:
        """Researchers' answers to mothers' questions, waiting for review."""
        rows = await mq.list_by_status(session, (MemberQuestionStatus.ANSWERED.value,))
        return MemberQuestionsOut(questions=[_member_question_out(q) for q in rows])

    @router.post(
        "/api/review/member-questions/{question_id}/approve",
        response_model=MemberQuestionOut,
        tags=["review"],
    )
    async def approve_answer(
        question_id: RecordId, body: ReviewAnswerIn, staff: Reviewer, session: Session
    ) -> MemberQuestionOut:
        """Send the (possibly edited) answer to the mother who asked."""
        try:
            question = await mq.approve_answer(session, question_id, staff.name, body.answer)
        except (mq.MemberQuestionNotFound, mq.MemberQuestionConflict) as error:
            raise _http(error) from None
        return _member_question_out(question)

    @router.post(
        "/api/review/member-questions/{question_id}/decline",
        response_model=MemberQuestionOut,
        tags=["review"],
    )
    async def decline_answer(
        question_id: RecordId, body: NoteIn, staff: Reviewer, session: Session
    ) -> MemberQuestionOut:
        """Send the answer back to researchers with a note."""
        try:
            question = await mq.decline_answer(session, question_id, staff.name, body.note)
        except (mq.MemberQuestionNotFound, mq.MemberQuestionConflict) as error:
            raise _http(error) from None
        return _member_question_out(question)

    return router
