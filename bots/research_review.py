"""Research review from a chat moderation home (the Telegram moderators' group, the Discord
moderators' channel), the same on every platform: list what waits, approve (optionally with
edited words), decline with a reason, publish, and review researchers' answers to mothers'
questions. The calls are the ones the web console's API makes; the commands' names, arguments
and help are in `bots/commands.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bots.command_grammar import ModeratorCall, Values
from community.research import member_questions as mq
from community.research import questions as rq
from community.research.models import (
    MemberQuestionStatus,
    QuestionKind,
    QuestionStatus,
    ResearchQuestion,
)

MIN_NOTE_CHARS = 3  # a reason or note the researcher can act on
Review = Callable[[AsyncSession], Awaitable[str]]


NO_SPANISH = (
    "No Spanish version yet (/spanish N QUESTION | CONTEXT here, or the web console's Research "
    "review); until then moms who read Spanish get the English with a line in Spanish saying so."
)
# Between the Spanish question and its Spanish context in one /spanish command.
SPANISH_SEPARATOR = "|"


def spanish_line(question: ResearchQuestion) -> str:
    return f"In Spanish: {question.text_es}" if question.text_es else NO_SPANISH


def review_label(question: ResearchQuestion) -> str:
    if question.kind == QuestionKind.INVITATION.value:
        return "a study invitation, to moms who want invitations"
    if question.kind == QuestionKind.RESULTS.value:
        return f"study results, to the moms who answered question {question.about_question_id}"
    return f"quotes {'allowed' if question.quotes_allowed else 'not allowed'}"


async def questions(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        waiting = await rq.list_questions(session, status=QuestionStatus.SUBMITTED.value)
    if not waiting:
        return "No researchers' questions waiting for review."
    return "\n\n".join(
        f"Question {q.id} ({review_label(q)}):\n{q.text}\nContext: {q.context or '(none)'}\n"
        f"{spanish_line(q)}"
        for q in waiting
    )


async def answers(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        waiting = await mq.list_by_status(session, (MemberQuestionStatus.ANSWERED.value,))
    if not waiting:
        return "No answers waiting for review."
    return "\n\n".join(
        f"Answer {q.id} by {q.answered_by}:\nQ: {q.text}\nA: {q.answer}" for q in waiting
    )


async def _review(call: ModeratorCall, number: int, act: Review) -> str:
    """Run one review step on question or answer `number`; its outcome, or why not."""
    try:
        async with call.database.transaction() as session:
            return await act(session)
    except (rq.QuestionNotFound, mq.MemberQuestionNotFound):
        return f"There is no number {number}."
    except (rq.QuestionConflict, mq.MemberQuestionConflict) as error:
        return str(error)


async def approve(call: ModeratorCall, values: Values) -> str:
    number, words = values.number("number"), values.text("words")

    async def act(session: AsyncSession) -> str:
        question = await rq.approve(session, number, call.moderator, words or None)
        return (
            f"Question {number} approved. /publish {number} sends it now.\n"
            f"Mothers will see: {question.text}\n{spanish_line(question)}"
        )

    return await _review(call, number, act)


async def spanish(call: ModeratorCall, values: Values) -> str:
    """The Spanish version of question N, written by a reviewer: "QUESTION | CONTEXT"; "-"
    alone removes it. The same rules as the console's: the context too, when there is one."""
    number, words = values.number("number"), values.text("words").strip()
    text_es, _, context_es = words.partition(SPANISH_SEPARATOR)
    removing = words == "-"

    async def act(session: AsyncSession) -> str:
        question = await rq.set_spanish(
            session, number, "" if removing else text_es.strip(), context_es.strip()
        )
        if removing:
            return f"Question {number}: Spanish version removed.\n{NO_SPANISH}"
        return (
            f"Question {number}: Spanish version saved.\n{spanish_line(question)}\n"
            f"Context in Spanish: {question.context_es or '(none)'}"
        )

    return await _review(call, number, act)


async def decline(call: ModeratorCall, values: Values) -> str:
    number, reason = values.number("number"), values.text("reason")
    if len(reason) < MIN_NOTE_CHARS:
        return "Give the researcher a reason: /decline N REASON"

    async def act(session: AsyncSession) -> str:
        await rq.decline(session, number, call.moderator, reason)
        return f"Question {number} declined; the researcher sees your reason."

    return await _review(call, number, act)


async def publish(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")

    async def act(session: AsyncSession) -> str:
        await rq.schedule(session, number, None)
        return f"Question {number} will go out shortly (quiet hours and weekly limits apply)."

    return await _review(call, number, act)


async def send_answer(call: ModeratorCall, values: Values) -> str:
    number, words = values.number("number"), values.text("words")

    async def act(session: AsyncSession) -> str:
        await mq.approve_answer(session, number, call.moderator, words or None)
        return f"Answer {number} is on its way to the mom who asked."

    return await _review(call, number, act)


async def return_answer(call: ModeratorCall, values: Values) -> str:
    number, note = values.number("number"), values.text("note")
    if len(note) < MIN_NOTE_CHARS:
        return "Add a note for the researcher: /return N NOTE"

    async def act(session: AsyncSession) -> str:
        await mq.decline_answer(session, number, call.moderator, note)
        return f"Answer {number} went back to the researcher with your note."

    return await _review(call, number, act)
