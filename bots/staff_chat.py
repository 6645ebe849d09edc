"""Researchers working from a private chat on Telegram or Discord: `/link CODE` (from
`peerbot researcher link NAME`) ties the chat account, by its pseudonym, to the researcher's
staff account; `/submit QUESTION` then submits a question for review, as the web page does.
Anyone else trying these gets a clean refusal; a revoked or expired account stops working at
once."""

from __future__ import annotations

import logging

from bots.command_grammar import command_name
from bots.commands import RESEARCHERS, find
from community.db import Database
from community.members import resolve_member
from community.messages import InboundMessage, Reply
from community.models import Role
from community.research import questions as rq
from community.staff import chat_staff, link_chat_account

log = logging.getLogger(__name__)

LINKABLE_PLATFORMS = ("telegram", "discord")
MAX_QUESTION_CHARS = 1000
RECENT_QUESTIONS = 5

NOT_A_RESEARCHER = (
    "That command is for researchers. If you are one, ask the team for a link code first."
)
LINK_WEB_ONLY = "On the website, researchers use the research page (/research), not this chat."
LINK_FAILED = "That code didn't work: it may be mistyped, used already, or older than 30 minutes."
SUBMIT_HELP = "Write your question after /submit, in plain words, for example:\n/submit {example}"
EXAMPLE = "What makes you comfortable speaking out about opioid use disorder?"


def parse_staff_command(text: str) -> tuple[str, str] | None:
    """A researcher's command (`/link`, `/submit`, from the table in bots/commands.py) and
    what follows it."""
    name = command_name(text)
    command = find(name, RESEARCHERS) if name else None
    if command is None:
        return None
    return command.name, text.strip().partition(" ")[2].strip()


class StaffChat:
    def __init__(self, database: Database, pseudonym_key: bytes) -> None:
        self._db = database
        self._key = pseudonym_key

    async def command(self, message: InboundMessage, name: str, rest: str) -> list[Reply]:
        if message.platform not in LINKABLE_PLATFORMS:
            return [Reply(LINK_WEB_ONLY)]
        async with self._db.transaction() as session:
            member = await resolve_member(session, self._key, message.platform, message.user_id)
            if name == "link":
                staff = await link_chat_account(session, member.id, rest)
                if staff is None:
                    return [Reply(LINK_FAILED)]
                log.info("staff chat account linked", extra={"role": staff.role})
                return [
                    Reply(
                        f"Linked to {staff.display_name} ({staff.role}). "
                        "/submit QUESTION sends a question for the team's review."
                    )
                ]
            staff = await chat_staff(session, member.id)
            if staff is None or staff.role != Role.RESEARCHER.value:
                return [Reply(NOT_A_RESEARCHER)]
            if not rest:
                mine = await rq.list_questions(session, researcher_id=staff.id)
                lines = [f"{q.id}: {q.status}, {q.text[:60]}" for q in mine[-RECENT_QUESTIONS:]]
                status = "\n\nYour latest:\n" + "\n".join(lines) if lines else ""
                return [Reply(SUBMIT_HELP.format(example=EXAMPLE) + status)]
            if len(rest) > MAX_QUESTION_CHARS:
                return [Reply(f"Please keep a question under {MAX_QUESTION_CHARS} characters.")]
            question = await rq.submit(session, staff.id, rest, "", False, None)
            return [
                Reply(
                    f"Question {question.id} is waiting for a moderator's review; nothing reaches "
                    "mothers before that. Add context, quotes or a closing date on the research "
                    "page if you need them. /submit shows its status."
                )
            ]
