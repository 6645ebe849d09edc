"""What a mother sets up for herself, in any chat (issue #21): check-ins she chooses, her own
reminders, her time zone, and asking for the person she talked with before. Platform-neutral:
the gateway calls it with her message (after the crisis screen) before the dialogue core.

Commands (also the payloads of the buttons peerbot sends):
  /checkins [days time]             her check-ins: set up ("/checkins 7 8pm"), see, change
  /checkins_every_N /checkins_set_N_M   the set-up buttons (N days; M minutes after midnight)
  /checkins_pause /checkins_resume /checkins_stop   (or "pause check-ins", "stop check-ins",
                                    and "pause" or "stop" alone just after a check-in)
  /remind WHEN: WHAT                a reminder (or "remind me Tuesday 9am: clinic appointment")
  /reminders  /reminder_cancel_N    her reminders, and cancelling one
  /timezone ZONE                    her time zone ("Pacific", "America/Chicago")
  /same                             the person from last time (or "can I talk to Sam again?")
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community import checkins, reminders
from community.cases.handoff import HandoffCases
from community.cases.same_person import ask_for_same, asked_for_same
from community.db import Database
from community.her_time import her_zone, read_zone, say_moment, zone_name
from community.members import resolve_member
from community.messages import Button, InboundMessage, Reply
from community.models import Member, Reminder, utcnow
from community.phrases import normalize, phrase

log = logging.getLogger(__name__)

TIMEZONE = re.compile(r"^/timezone(?:@\w+)?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)
TRANSCRIPT_LIMIT_CHARS = 10_000


@dataclass(frozen=True)
class PlansConfig:
    pseudonym_key: bytes
    moderation_homes: tuple[str, ...]
    community_timezone: str = "America/New_York"
    checkins_last: timedelta = timedelta(days=640)
    same_person_around: timedelta = timedelta(hours=2)
    same_person_first: timedelta = timedelta(minutes=5)


def knows(text: str) -> bool:
    """Whether a /command is one of these (adapters pass those on to the gateway)."""
    first = text.strip().split(maxsplit=1)[0].split("@")[0] if text.strip() else ""
    return (
        checkins.PAYLOAD.match(first) is not None
        or reminders.asked(first) is not None
        or reminders.LIST_PAYLOAD.match(first) is not None
        or reminders.CANCEL_PAYLOAD.match(first) is not None
        or TIMEZONE.match(first) is not None
        or first == "/same"
    )


class HerPlans:
    """Her check-ins, reminders, time zone and "the same person again"."""

    def __init__(self, database: Database, config: PlansConfig) -> None:
        self._db = database
        self._config = config

    async def answer(self, message: InboundMessage, text: str) -> list[Reply] | None:
        """The answer when `text` is one of hers; None when it is not (the dialogue core
        answers it). `message.language` is the language she is answered in."""
        language = normalize(message.language)
        request = checkins.read_request(text)
        bare = checkins.bare_word(text) if request is None else None
        remind = reminders.asked(text)
        zone_words = TIMEZONE.match(text.strip())
        same = asked_for_same(text)
        listing = reminders.LIST_PAYLOAD.match(text.strip())
        cancelling = reminders.CANCEL_PAYLOAD.match(text.strip())
        if not any((request, bare, remind is not None, zone_words, same, listing, cancelling)):
            return None
        async with self._db.transaction() as session:
            member = await resolve_member(
                session, self._config.pseudonym_key, message.platform, message.user_id
            )
            if request is not None or bare is not None:
                return await self._checkins(session, member, message, request, bare, language)
            if remind is not None:
                return [await self._remind(session, member, message.platform, remind, language)]
            if listing is not None:
                return [await self._list(session, member, language)]
            if cancelling is not None:
                done = await reminders.cancel(session, member.id, int(cancelling.group(1)))
                key = "reminder_cancelled" if done else "reminder_gone"
                return [Reply(phrase(key, language), language=language)]
            if zone_words is not None:
                return [await self._set_zone(session, member, zone_words.group(1) or "", language)]
            assert same is not None
            cases = HandoffCases(session, self._config.moderation_homes)
            outcome = await ask_for_same(
                session,
                cases,
                member,
                message.platform,
                same,
                text[:TRANSCRIPT_LIMIT_CHARS],
                self._config.same_person_around,
                self._config.same_person_first,
            )
            reply = Reply(phrase(outcome.key, language, name=outcome.name), language=language)
            if outcome.case_id is not None:
                await cases.record_bot_message(outcome.case_id, reply.text)
            return [reply]

    def _zone(self, member: Member) -> str:
        return her_zone(member.timezone, self._config.community_timezone)

    async def _checkins(
        self,
        session: AsyncSession,
        member: Member,
        message: InboundMessage,
        request: checkins.CheckinRequest | None,
        bare: checkins.CheckinRequest | None,
        language: str,
    ) -> list[Reply] | None:
        if request is None:
            # "pause" or "stop" alone counts only just after a check-in she chose.
            if bare is None or not await checkins.recently_checked_in(session, member.id, utcnow()):
                return None
            request = bare
        first_timed = await self._first_timed(session, member)
        reply = await checkins.act(
            session,
            member,
            message.platform,
            request,
            self._zone(member),
            self._config.checkins_last,
            language,
        )
        log.info("check-ins request", extra={"component": request.action})
        text = phrase(reply.key, language, **dict(reply.values))
        if reply.key == "checkins_set" and first_timed:
            text += "\n" + self._zone_note(member, language)
        buttons = tuple(Button(phrase(key, language), payload) for key, payload in reply.buttons)
        return [Reply(text, buttons, language=language)]

    @staticmethod
    async def _first_timed(session: AsyncSession, member: Member) -> bool:
        """Whether this is the first check-in or reminder she sets with no zone of hers known:
        then (once) she is told which zone is used and how to name hers."""
        if member.timezone is not None:
            return False
        earlier = await session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.member_id == member.id)
        )
        return not earlier and await checkins.schedule_of(session, member.id) is None

    def _zone_note(self, member: Member, language: str) -> str:
        """Asked once: the first time she sets something timed without having named a zone."""
        return phrase("timezone_note", language, zone=zone_name(self._zone(member), language))

    async def _remind(
        self, session: AsyncSession, member: Member, platform: str, rest: str, language: str
    ) -> Reply:
        zone = self._zone(member)
        read = reminders.read(rest, zone, utcnow())
        if read.problem:
            return Reply(phrase(read.problem, language), language=language)
        first_timed = await self._first_timed(session, member)
        kept = await reminders.add(session, member, platform, read, zone)
        if kept is None:
            return Reply(phrase("reminder_too_many", language), language=language)
        text = phrase(
            "reminder_set",
            language,
            when=say_moment(kept.due_at, zone, language),
            zone=zone_name(zone, language),
            label=read.label,
        )
        if first_timed:
            text += "\n" + self._zone_note(member, language)
        return Reply(text, language=language)

    async def _list(self, session: AsyncSession, member: Member, language: str) -> Reply:
        waiting = await reminders.waiting(session, member.id)
        if not waiting:
            return Reply(phrase("reminders_none", language), language=language)
        zone = self._zone(member)
        items = "\n".join(
            f"{n}. {say_moment(row.due_at, row.timezone or zone, language)}: {row.label or ''}"
            for n, row in enumerate(waiting, start=1)
        )
        buttons = tuple(
            Button(
                phrase("button_reminder_cancel", language, number=n), f"/reminder_cancel_{row.id}"
            )
            for n, row in enumerate(waiting, start=1)
        )
        return Reply(phrase("reminders_list", language, items=items), buttons, language=language)

    async def _set_zone(
        self, session: AsyncSession, member: Member, words: str, language: str
    ) -> Reply:
        """Her zone, kept; her check-ins follow it at once (reminders set already keep theirs)."""
        zone = read_zone(words) if words.strip() else None
        if zone is None:
            return Reply(phrase("timezone_unknown", language), language=language)
        member.timezone = zone
        await checkins.move_to_zone(session, member.id, zone)
        return Reply(
            phrase("timezone_set", language, zone=zone_name(zone, language)), language=language
        )
