"""Research review from a chat moderation home (the Telegram moderators' group, the Discord
moderators' channel), the same on every platform: list what waits, approve (optionally with
edited words), decline with a reason, publish, and review researchers' answers to mothers'
questions. The calls are the ones the web console's API makes."""

from __future__ import annotations

from community.db import Database
from community.research import member_questions as mq
from community.research import questions as rq
from community.research.models import (
    MemberQuestionStatus,
    QuestionKind,
    QuestionStatus,
    ResearchQuestion,
)

REVIEW_HELP = (
    "Research review:\n"
    "/questions: researchers' questions waiting for review\n"
    "/approve N [new words]: approve question N, optionally reworded\n"
    "/decline N REASON: decline question N (the researcher sees why)\n"
    "/publish N: publish approved question N now\n"
    "/answers: researchers' answers to moms' questions, waiting for review\n"
    "/send N [new words]: send answer N to the mom who asked\n"
    "/return N NOTE: give answer N back to the researcher with a note"
)
COMMANDS = ("/questions", "/approve", "/decline", "/publish", "/answers", "/send", "/return")


def review_label(question: ResearchQuestion) -> str:
    if question.kind == QuestionKind.INVITATION.value:
        return "a study invitation, to moms who want invitations"
    if question.kind == QuestionKind.RESULTS.value:
        return f"study results, to the moms who answered question {question.about_question_id}"
    return f"quotes {'allowed' if question.quotes_allowed else 'not allowed'}"


def is_review_command(text: str) -> bool:
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return first.split("@")[0].lower() in COMMANDS


async def review_command(database: Database, moderator: str, text: str) -> str:
    """Carry out one review command; the answer to show the moderator."""
    parts = text.strip().split(maxsplit=2)
    command = parts[0].split("@")[0].lower()
    number = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    rest = parts[2].strip() if len(parts) > 2 else ""
    try:
        async with database.transaction() as session:
            if command == "/questions":
                waiting = await rq.list_questions(session, status=QuestionStatus.SUBMITTED.value)
                if not waiting:
                    return "No researchers' questions waiting for review."
                return "\n\n".join(
                    f"Question {q.id} ({review_label(q)}):\n{q.text}\n"
                    f"Context: {q.context or '(none)'}"
                    for q in waiting
                )
            if command == "/answers":
                waiting_answers = await mq.list_by_status(
                    session, (MemberQuestionStatus.ANSWERED.value,)
                )
                if not waiting_answers:
                    return "No answers waiting for review."
                return "\n\n".join(
                    f"Answer {q.id} by {q.answered_by}:\nQ: {q.text}\nA: {q.answer}"
                    for q in waiting_answers
                )
            if number is None:
                return REVIEW_HELP
            if command == "/approve":
                question = await rq.approve(session, number, moderator, rest or None)
                return (
                    f"Question {number} approved. /publish {number} sends it now.\n"
                    f"Mothers will see: {question.text}"
                )
            if command == "/decline":
                if len(rest) < 3:
                    return "Give the researcher a reason: /decline N REASON"
                await rq.decline(session, number, moderator, rest)
                return f"Question {number} declined; the researcher sees your reason."
            if command == "/publish":
                await rq.schedule(session, number, None)
                return (
                    f"Question {number} will go out shortly (quiet hours and weekly limits apply)."
                )
            if command == "/send":
                await mq.approve_answer(session, number, moderator, rest or None)
                return f"Answer {number} is on its way to the mom who asked."
            if command == "/return":
                if len(rest) < 3:
                    return "Add a note for the researcher: /return N NOTE"
                await mq.decline_answer(session, number, moderator, rest)
                return f"Answer {number} went back to the researcher with your note."
    except (rq.QuestionNotFound, mq.MemberQuestionNotFound):
        return f"There is no number {number}."
    except (rq.QuestionConflict, mq.MemberQuestionConflict) as error:
        return str(error)
    return REVIEW_HELP
