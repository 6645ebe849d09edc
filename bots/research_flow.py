"""What a mother does with research, in any chat: her opt-ins, answering a researcher's
question (consent first, then her answer, which she can withdraw), asking researchers a
question, and reading Research 101. Platform-neutral: the gateway calls it with her message.

Commands (also the payloads of the buttons peerbot sends):
  /research                         her research preferences, with buttons to change them
  /optin_<kind> /optout_<kind>      kind: questions, invitations, results (/optout_all: all)
  /research_stop                    asked in words to stop: "stop all?", with yes and no buttons
  /answer_N /skip_N                 answer question N, or not
  /consent_N /noconsent_N           agree (or not) to question N's terms before answering
  /withdraw_N                       delete her answer to question N
  /ask [question]                   ask researchers (without text: her next message is it)
  /library_yes_N /library_no_N      may her question N and its answer join Research 101?
  /share_yes_N /share_no_N          may her answer to question N join Mothers 101 (researchers')?
  /research_library                 read Research 101
  /cancel                           her next message is for the bot again
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from community.db import Database
from community.members import resolve_member
from community.messages import Button, InboundMessage, Reply
from community.models import Member
from community.research import texts
from community.research.answers import (
    clear_input,
    consent_of,
    expect_input,
    pending_input,
    record_consent,
    store_answer,
    was_asked,
    withdraw,
)
from community.research.member_questions import ask, library, library_consent
from community.research.models import ResearchQuestion
from community.research.mothers101 import record_share
from community.research.preferences import KINDS, preferences_of, set_preference
from community.research.questions import accepting_answers

COMMAND = re.compile(
    r"^/(?P<name>[a-z_]+?)(?:_(?P<number>\d+))?(?:@\w+)?(?:\s+(?P<rest>.*))?$", re.DOTALL
)
NAMED = {
    "research", "optin_questions", "optin_invitations", "optin_results", "optout_questions",
    "optout_invitations", "optout_results", "optout_all", "ask", "research_ask",
    "research_library", "research_stop", "cancel",
}  # fmt: skip
NUMBERED = {
    "answer", "skip", "consent", "noconsent", "withdraw", "library_yes", "library_no",
    "share_yes", "share_no",
}  # fmt: skip
# What Rasa hands the app (custom payload {"peerbot": ...}) when she asks in words.
REQUESTS = {
    "research_opt_in": "/optin_questions",
    "research_opt_out": "/research_stop",  # confirmed by a button before anything changes
    "ask_researcher": "/ask",
    "research_library": "/research_library",
}


@dataclass(frozen=True)
class Command:
    name: str
    number: int | None
    rest: str


def parse_command(text: str) -> Command | None:
    match = COMMAND.match(text.strip())
    if match is None:
        return None
    name, number = match["name"], match["number"]
    if number is None and name in NAMED:
        return Command(name, None, (match["rest"] or "").strip())
    if number is not None and name in NUMBERED and len(number) <= 9:
        return Command(name, int(number), "")
    return None


def _reply(text: str, buttons: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(text, tuple(Button(t, p) for t, p in buttons or []))


class ResearchFlow:
    def __init__(self, database: Database, pseudonym_key: bytes) -> None:
        self._db = database
        self._key = pseudonym_key

    async def command(self, message: InboundMessage, command: Command) -> list[Reply]:
        async with self._db.transaction() as session:
            member = await resolve_member(session, self._key, message.platform, message.user_id)
            return await self._command(session, member, message.platform, command)

    async def request(self, message: InboundMessage, request: str) -> list[Reply]:
        parsed = parse_command(REQUESTS[request])
        assert parsed is not None  # the table above holds only valid commands
        return await self.command(message, parsed)

    async def take_input(self, message: InboundMessage, text: str) -> list[Reply] | None:
        """Her message as an answer or a question, if that is what she is writing; else None."""
        async with self._db.transaction() as session:
            member = await resolve_member(session, self._key, message.platform, message.user_id)
            pending = await pending_input(session, member.id)
            if pending is None:
                return None
            if not text:
                return [_reply(texts.ANSWER_EMPTY)]
            await session.delete(pending)
            if pending.kind == "ask":
                asked = await ask(session, member.id, message.platform, text)
                return [_reply(texts.asked(asked.id))]
            question_id = pending.question_id or 0
            question = await session.get(ResearchQuestion, question_id)
            if question is None or not accepting_answers(question):
                return [_reply(texts.QUESTION_UNAVAILABLE)]
            if not await was_asked(session, question_id, member.id, message.platform):
                return [_reply(texts.NOT_ASKED)]
            if await consent_of(session, question_id, member.id) is not True:
                body, buttons = texts.consent(question_id, question.quotes_allowed)
                return [_reply(body, buttons)]
            await store_answer(session, question_id, member.id, text)
            body, buttons = texts.answer_saved(question_id)
            share, share_buttons = texts.share_question(question_id)
            return [_reply(body, buttons), _reply(share, share_buttons)]

    async def _command(
        self, session: AsyncSession, member: Member, platform: str, command: Command
    ) -> list[Reply]:
        name, number = command.name, command.number or 0
        if name == "research_stop":
            body, buttons = texts.confirm_stop()
            return [_reply(body, buttons)]
        if name == "research":
            pref = await preferences_of(session, member.id)
            on = (pref.questions, pref.invitations, pref.results) if pref else (False,) * 3
            body, buttons = texts.preferences(*on)
            return [_reply(body, buttons)]
        if name.startswith(("optin_", "optout_")):
            turn_on = name.startswith("optin_")
            kind = name.split("_", 1)[1]
            kinds = list(KINDS) if kind == "all" else [kind]
            await set_preference(session, member.id, platform, kinds, turn_on)
            return [_reply(texts.opted_in(kind) if turn_on else texts.opted_out(kinds))]
        if name == "cancel":
            await clear_input(session, member.id)
            return [_reply(texts.CANCELLED)]
        if name in ("ask", "research_ask"):
            if command.rest:
                asked = await ask(session, member.id, platform, command.rest)
                return [_reply(texts.asked(asked.id))]
            await expect_input(session, member.id, "ask")
            return [_reply(texts.ASK_PROMPT)]
        if name == "research_library":
            entries = await library(session)
            if not entries:
                return [_reply(texts.LIBRARY_EMPTY)]
            return [_reply(texts.library([(e.question, e.answer) for e in entries]))]
        if name in ("library_yes", "library_no"):
            agreed = name == "library_yes"
            if not await library_consent(session, number, member.id, agreed):
                return [_reply(texts.LIBRARY_UNAVAILABLE)]
            return [_reply(texts.LIBRARY_YES if agreed else texts.LIBRARY_NO)]
        if name == "skip":
            return [_reply(texts.SKIPPED)]
        if name in ("share_yes", "share_no"):
            agreed = name == "share_yes"
            if not await record_share(session, number, member.id, agreed):
                return [_reply(texts.NOTHING_TO_SHARE)]
            return [_reply(texts.SHARE_YES if agreed else texts.SHARE_NO)]
        if name == "withdraw":
            removed = await withdraw(session, number, member.id)
            return [_reply(texts.WITHDRAWN if removed else texts.NOTHING_TO_WITHDRAW)]
        question = await session.get(ResearchQuestion, number)
        if question is None or not accepting_answers(question):
            return [_reply(texts.QUESTION_UNAVAILABLE)]
        if not await was_asked(session, number, member.id, platform):
            return [_reply(texts.NOT_ASKED)]
        if name == "noconsent":
            await record_consent(session, number, member.id, consented=False)
            await clear_input(session, member.id)
            return [_reply(texts.NO_CONSENT)]
        if name == "consent":
            await record_consent(session, number, member.id, consented=True)
            await expect_input(session, member.id, "answer", number)
            return [_reply(texts.write_answer())]
        # answer: the terms first (once per question), then her next message is the answer.
        if await consent_of(session, number, member.id) is True:
            await expect_input(session, member.id, "answer", number)
            return [_reply(texts.write_answer())]
        body, buttons = texts.consent(number, question.quotes_allowed)
        return [_reply(body, buttons)]
