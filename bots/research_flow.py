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
  /ask [question]                   ask researchers (without text: her next message is it);
                                    she is shown it as researchers would read it, a draft
  /ask_send_N /ask_drop_N           send her draft question N to researchers, or delete it
  /library_yes_N /library_no_N      may her question N and its answer join Research 101?
  /share_yes_N /share_no_N          may her answer to question N join Mothers 101 (researchers')?
  /research_library                 read Research 101
  /cancel                           her next message is for the bot again
  /optin_sessions /optout_sessions  discussion sessions; their own commands (/sessions,
                                    /session_yes_N...) are in `bots/session_flow.py`

Every reply is in her language: the one the gateway decided for this message, else the one
last decided for her (`Member.language`), else English. Her answer is kept in the language she
wrote it in, and that language is noted for researchers.

Her question for researchers is never sent by the message alone:

```mermaid
flowchart LR
  A["/ask"] --> P[her next message]
  P -->|nvm, /cancel| X[nothing kept]
  P -->|"will they know it's me?"| A
  P --> D[draft, de-identified, shown to her]
  A -->|"/ask QUESTION"| D
  D -->|Send it| Q[queued for researchers: its number]
  D -->|"Don't send"| G[deleted]
  D -->|a day passes| G
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bots import session_flow
from bots.session_flow import SessionFlow
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
from community.research.member_questions import (
    DraftOutcome,
    ask,
    drop_draft,
    library,
    library_consent,
    send_draft,
)
from community.research.models import PendingInput, ResearchQuestion
from community.research.mothers101 import record_share
from community.research.preferences import KINDS, preferences_of, set_preference
from community.research.questions import accepting_answers
from safety.language import default_detector

COMMAND = re.compile(
    r"^/(?P<name>[a-z_]+?)(?:_(?P<number>\d+))?(?:@\w+)?(?:\s+(?P<rest>.*))?$", re.DOTALL
)
NAMED = {
    "research", "optin_questions", "optin_invitations", "optin_results", "optin_sessions",
    "optout_questions", "optout_invitations", "optout_results", "optout_sessions", "optout_all",
    "ask", "research_ask", "research_library", "research_stop", "cancel",
    *session_flow.NAMED,
}  # fmt: skip
NUMBERED = {
    "answer", "skip", "consent", "noconsent", "withdraw", "library_yes", "library_no",
    "share_yes", "share_no", "ask_send", "ask_drop", *session_flow.NUMBERED,
}  # fmt: skip
# What Rasa hands the app (custom payload {"peerbot": ...}) when she asks in words.
# Opting in in words is not here: Rasa's answer explains and offers the "Get questions" button,
# so a vague message ("questions w the researchers") never signs her up by itself.
REQUESTS = {
    "research_opt_out": "/research_stop",  # confirmed by a button before anything changes
    "ask_researcher": "/ask",
    "research_library": "/research_library",
}


# A reply before it is made one: its text and its (title, payload) buttons.
Said = tuple[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class Command:
    name: str
    number: int | None
    rest: str


# She changes her mind instead of writing her question or answer.
CHANGED_MIND = re.compile(
    r"^\W*(nvm|nevermind|never ?mind|forget it|forget that|cancel( that)?"
    r"|olv[ií]dalo|mejor no|cancela(r)?)\b[\s\W]*",
    re.I,
)


# Before her question, a question about asking ("will they know it's me?", "¿sabrán que soy
# yo?"): answered, and her next message is still her question.
ABOUT_ASKING = re.compile(
    r"\b(will|would|do|does|can|could)\s+(they|the researchers|researchers|anyone|anybody)"
    r"\s+(know|see|find out)\b.{0,25}\b(me|my name|it'?s me|it was me|who i am|me asking)\b"
    r"|\b(is|it'?s|will it be|would it be)\s+(it\s+|this\s+|that\s+)?anonymous\b"
    r"|\b(sabr[aá]n|van a saber|se (van a )?enterar)\b.{0,25}\b(yo|mi nombre|qui[eé]n soy)\b"
    r"|\bes an[oó]nim[oa]\b",
    re.I,
)
ABOUT_ASKING_MAX_WORDS = 15


def asks_about_asking(text: str) -> bool:
    """ "would they know it was me asking": about the asking, not the question itself."""
    return len(text.split()) <= ABOUT_ASKING_MAX_WORDS and bool(ABOUT_ASKING.search(text))


def changed_her_mind(text: str) -> str | None:
    """What she wrote after changing her mind ("" for nothing), or None if she did not."""
    match = CHANGED_MIND.match(text)
    if match is None:
        return None
    return text[match.end() :].strip()


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


def language_for(message: InboundMessage, member: Member) -> str:
    """The language to answer her in: this message's, else hers as last decided, else English."""
    return texts.language_of(message.language or member.language)


def _reply(text: str, buttons: list[tuple[str, str]] | None = None, language: str = "en") -> Reply:
    return Reply(text, tuple(Button(t, p) for t, p in buttons or []), language=language)


async def _draft(
    session: AsyncSession, member_id: int, platform: str, text: str, language: str
) -> Said:
    """Her question kept as a draft, shown to her exactly as researchers would read it (after
    de-identification), with "Send it" and "Don't send": a message that was not her question
    ("would they know it was me?") never reaches them by itself."""
    drafted = await ask(session, member_id, platform, text, draft=True)
    return texts.draft(drafted.id, drafted.text, language)


class ResearchFlow:
    def __init__(
        self, database: Database, pseudonym_key: bytes, zone: str = "America/New_York"
    ) -> None:
        self._db = database
        self._key = pseudonym_key
        # Discussion sessions: their times are said in the community's time zone (`zone`).
        self._sessions = SessionFlow(zone)

    async def command(self, message: InboundMessage, command: Command) -> list[Reply]:
        async with self._db.transaction() as session:
            member = await resolve_member(session, self._key, message.platform, message.user_id)
            language = language_for(message, member)
            if session_flow.handles(command.name):
                return await self._sessions.command(
                    session, member, message.platform, command.name, command.number or 0,
                    language,
                )  # fmt: skip
            replies = await self._command(session, member, message.platform, command, language)
            return [_reply(text, buttons, language) for text, buttons in replies]

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
            language = language_for(message, member)
            if (after := changed_her_mind(text)) is not None:
                # "nvm", "never mind, are there groups online": nothing is sent or saved, and
                # whatever else she wrote is read as any message is.
                await session.delete(pending)
                if after:
                    return None
                return [_reply(texts.say("cancelled", language), [], language)]
            if pending.session_id is not None:
                if not text:
                    return [_reply(texts.say("answer_empty", language), [], language)]
                await session.delete(pending)
                return await self._sessions.take_input(session, member, pending, text, language)
            replies = await self._input(session, member, message.platform, pending, text, language)
            return [_reply(body, buttons, language) for body, buttons in replies]

    async def _input(
        self,
        session: AsyncSession,
        member: Member,
        platform: str,
        pending: PendingInput,
        text: str,
        language: str,
    ) -> list[Said]:
        if not text:
            return [(texts.say("answer_empty", language), [])]
        if pending.kind == "ask" and asks_about_asking(text):
            return [(texts.say("ask_who_knows", language), [])]  # still waiting for her question
        await session.delete(pending)
        if pending.kind == "ask":
            return [await _draft(session, member.id, platform, text, language)]
        question_id = pending.question_id or 0
        question = await session.get(ResearchQuestion, question_id)
        if question is None or not accepting_answers(question):
            return [(texts.say("question_unavailable", language), [])]
        if not await was_asked(session, question_id, member.id, platform):
            return [(texts.say("not_asked", language), [])]
        if await consent_of(session, question_id, member.id) is not True:
            return [texts.consent(question_id, question.quotes_allowed, language)]
        # The language of her words themselves (she may answer an English question in Spanish,
        # or the other way round), for the researchers' note; her replies stay in hers.
        written_in = default_detector().detect(text, previous=language)
        await store_answer(session, question_id, member.id, text, written_in)
        return [
            texts.answer_saved(question_id, language),
            texts.share_question(question_id, language),
        ]

    async def _command(
        self, session: AsyncSession, member: Member, platform: str, command: Command, language: str
    ) -> list[Said]:
        name, number = command.name, command.number or 0

        def said(key: str) -> list[Said]:
            return [(texts.say(key, language), [])]

        if name == "research_stop":
            return [texts.confirm_stop(language)]
        if name == "research":
            pref = await preferences_of(session, member.id)
            on = (pref.questions, pref.invitations, pref.results) if pref else (False,) * 3
            sessions = pref.sessions if pref else False
            return [texts.preferences(*on, language=language, sessions=sessions)]
        if name.startswith(("optin_", "optout_")):
            turn_on = name.startswith("optin_")
            kind = name.split("_", 1)[1]
            kinds = list(KINDS) if kind == "all" else [kind]
            await set_preference(session, member.id, platform, kinds, turn_on)
            text = texts.opted_in(kind, language) if turn_on else texts.opted_out(kinds, language)
            return [(text, [])]
        if name == "cancel":
            await clear_input(session, member.id)
            return said("cancelled")
        if name in ("ask", "research_ask"):
            if command.rest:
                return [await _draft(session, member.id, platform, command.rest, language)]
            await expect_input(session, member.id, "ask")
            return said("ask_prompt")
        if name in ("ask_send", "ask_drop"):
            if name == "ask_send":
                outcome = await send_draft(session, number, member.id)
            else:
                outcome = await drop_draft(session, number, member.id)
            if outcome is DraftOutcome.SENT:
                return [(texts.asked(number, language), [])]
            if outcome is DraftOutcome.ALREADY_SENT:
                return [(texts.say("draft_already_sent", language, number=number), [])]
            return said("draft_dropped" if outcome is DraftOutcome.DROPPED else "draft_gone")
        if name == "research_library":
            entries = await library(session)
            if not entries:
                return said("library_empty")
            return [(texts.library([(e.question, e.answer) for e in entries], language), [])]
        if name in ("library_yes", "library_no"):
            agreed = name == "library_yes"
            if not await library_consent(session, number, member.id, agreed):
                return said("library_unavailable")
            return said("library_yes" if agreed else "library_no")
        if name == "skip":
            return said("skipped")
        if name in ("share_yes", "share_no"):
            agreed = name == "share_yes"
            if not await record_share(session, number, member.id, agreed):
                return said("nothing_saved")
            return said("share_yes" if agreed else "share_no")
        if name == "withdraw":
            removed = await withdraw(session, number, member.id)
            return said("withdrawn" if removed else "nothing_saved")
        question = await session.get(ResearchQuestion, number)
        if question is None or not accepting_answers(question):
            return said("question_unavailable")
        if not await was_asked(session, number, member.id, platform):
            return said("not_asked")
        if name == "noconsent":
            await record_consent(session, number, member.id, consented=False)
            await clear_input(session, member.id)
            return said("no_consent")
        if name == "consent":
            await record_consent(session, number, member.id, consented=True)
            await expect_input(session, member.id, "answer", number)
            return [(texts.write_answer(language), [])]
        # answer: the terms first (once per question), then her next message is the answer.
        if await consent_of(session, number, member.id) is True:
            await expect_input(session, member.id, "answer", number)
            return [(texts.write_answer(language), [])]
        return [texts.consent(number, question.quotes_allowed, language)]
