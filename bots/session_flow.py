"""What a mother does with discussion sessions, in any chat: see those coming up, answer yes,
maybe or no (and change her mind), send the host a question ahead without her name, and
answer the two feedback questions afterwards. Platform-neutral: `bots/research_flow.py` hands
it the session commands (also the payloads of the buttons), inside its transaction.

Commands:
  /sessions                                   the sessions coming up, with her answer to each
  /session_N                                  session N, with the buttons
  /session_yes_N /session_maybe_N /session_no_N   her answer (a yes when full: the waitlist)
  /session_ask_N                              her next message is a question for the host
  /feedback_yes_N /feedback_some_N /feedback_no_N  was it worth her time? then one more
  /feedback_skip_N                            no second answer

```mermaid
flowchart LR
  A[announcement] -->|yes| Y{room?}
  Y -->|yes| S[spot: place + .ics]
  Y -->|no| W[waitlist]
  S -->|maybe / no| M[first on the waitlist moved up: place + .ics]
  A -->|ask| Q[question ahead, anonymous]
  S -->|after| F[feedback: worth it? then better how?]
```
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.messages import Attachment, Button, Reply
from community.models import Member, utcnow
from community.research.answers import clear_input, expect_input
from community.research.models import PendingInput
from community.sessions import rsvp as rsvps
from community.sessions import texts, voice
from community.sessions.announce import was_invited
from community.sessions.models import DiscussionSession, Rsvp, SessionStatus

NAMED = {"sessions"}
NUMBERED = {
    "session", "session_yes", "session_maybe", "session_no", "session_ask", "feedback_yes",
    "feedback_some", "feedback_no", "feedback_skip",
}  # fmt: skip
ASK, FEEDBACK = "session_ask", "session_feedback"  # her next message, for `pending_inputs`
ANSWERS = {"session_yes": Rsvp.YES, "session_maybe": Rsvp.MAYBE, "session_no": Rsvp.NO}


def handles(name: str) -> bool:
    return name in NAMED or name in NUMBERED


def _reply(
    text: str,
    buttons: list[tuple[str, str]] | None,
    language: str,
    attachment: Attachment | None = None,
) -> Reply:
    return Reply(
        text,
        tuple(Button(t, p) for t, p in buttons or []),
        language=language,
        attachment=attachment,
    )


class SessionFlow:
    """Answers in her language; times are said in the community's time zone (`zone`)."""

    def __init__(self, zone: str) -> None:
        self._zone = zone

    def _said(self, key: str, language: str, **fields: object) -> list[Reply]:
        return [_reply(texts.say(key, language, **fields), [], language)]

    async def command(
        self,
        session: AsyncSession,
        member: Member,
        platform: str,
        name: str,
        number: int,
        language: str,
        now: datetime | None = None,
    ) -> list[Reply]:
        now = now or utcnow()
        if name == "sessions":
            return await self._upcoming(session, member, platform, language, now)
        if name == "feedback_skip":
            await clear_input(session, member.id)
            return self._said("feedback_thanks", language)
        item = await session.get(DiscussionSession, number)
        if name.startswith("feedback_"):
            if not await voice.may_give_feedback(session, item, member.id, now):
                return self._said("feedback_unavailable", language)
            await voice.record_worth(session, number, member.id, name.removeprefix("feedback_"))
            await expect_input(session, member.id, FEEDBACK, session_id=number)
            return [_reply(*texts.feedback_better(number, language), language)]
        if item is None or not await was_invited(session, number, member.id, platform):
            return self._said("not_invited", language)
        if not rsvps.open_for_answers(item, now):
            return self._said("session_unavailable", language)
        if name == "session":
            return [_reply(*texts.announcement(item, self._zone, language), language)]
        if name == "session_ask":
            await expect_input(session, member.id, ASK, session_id=number)
            return self._said("ask_prompt", language)
        outcome = await rsvps.answer(
            session, number, member.id, platform, ANSWERS[name], self._zone, now
        )
        if outcome.answer == Rsvp.YES.value:
            text, buttons = texts.rsvp_yes(item, language)
            attachment = rsvps.calendar_file(item, language, now)
            return [
                _reply(text, buttons, language),
                _reply(texts.say("calendar_note", language), [], language, attachment),
            ]
        if outcome.answer == Rsvp.WAITLIST.value:
            return self._said("rsvp_waitlist", language, position=outcome.position)
        return self._said(f"rsvp_{outcome.answer}", language)

    async def take_input(
        self,
        session: AsyncSession,
        member: Member,
        pending: PendingInput,
        text: str,
        language: str,
        now: datetime | None = None,
    ) -> list[Reply]:
        """Her question ahead, or her second feedback answer (the pending input is removed)."""
        number = pending.session_id or 0
        if pending.kind == FEEDBACK:
            await voice.record_better(session, number, member.id, text)
            return self._said("feedback_thanks", language)
        item = await session.get(DiscussionSession, number)
        if not voice.asking_open(item, now or utcnow()):
            return self._said("session_unavailable", language)
        await voice.ask_ahead(session, number, member.id, text)
        return self._said("asked", language)

    async def _upcoming(
        self, session: AsyncSession, member: Member, platform: str, language: str, now: datetime
    ) -> list[Reply]:
        ahead = (
            await session.scalars(
                select(DiscussionSession)
                .where(
                    DiscussionSession.status == SessionStatus.ANNOUNCED.value,
                    DiscussionSession.starts_at > now,
                )
                .order_by(DiscussionSession.starts_at)
                .limit(20)
            )
        ).all()
        lines = []
        for item in ahead:
            if not await was_invited(session, item.id, member.id, platform):
                continue
            row = await rsvps.rsvp_of(session, item.id, member.id)
            answer = texts.say(f"answer_{row.answer if row else 'none'}", language)
            lines.append(
                texts.say(
                    "sessions_item",
                    language,
                    topic=texts.topic_in(item, language),
                    when=texts.when(item.starts_at, self._zone, language),
                    answer=answer,
                    number=item.id,
                )
            )
        if not lines:
            return self._said("sessions_none", language)
        return [_reply("\n".join([texts.say("sessions_intro", language), *lines]), [], language)]
