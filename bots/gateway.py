"""The gateway: the one path every member's message takes, whatever platform it came from.

Order matters and is the product's promise (DESIGN.md, "The one path of a message"):
the safety screen runs first, on every message, and its reply does not wait for the database,
Rasa or the network; a case is recorded before anything else; Rasa is not called while a case
is open; and any failure after the screen still ends in a kind, useful answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bots import wording
from bots.dialogue import DialogueClient, DialogueUnavailable
from bots.flood import FloodControl
from bots.messages import ContentKind, InboundMessage, Reply
from bots.research_flow import REQUESTS as RESEARCH_REQUESTS
from bots.research_flow import ResearchFlow, parse_command
from bots.staff_chat import StaffChat, parse_staff_command
from community.db import Database
from community.members import resolve_member
from community.models import CaseStatus
from community.my_data import (
    delete_member,
    deletion_confirmable,
    describe,
    my_data,
    request_deletion,
)
from community.research.answers import pending_input
from safety.conduct import ConductScreen, default_conduct_screen
from safety.conduct_flags import record_flag
from safety.crisis_reply import CrisisReplies, default_crisis_replies
from safety.handoff import HandoffCases, is_blocked
from safety.screen import Screener, Screening, default_screener

log = logging.getLogger(__name__)

# Button payloads and commands for her data rights, answered by the app itself.
DATA_RIGHTS_PAYLOADS = {
    "/my_data": "my_data",
    "/delete_my_data": "delete_request",
    "/confirm_delete": "confirm_delete",
    "/cancel_delete": "cancel_delete",
}
RASA_MEMORY = (
    "the bot keeps the conversation only in its working memory (not on disk), and forgets "
    "it when you delete your data or when it restarts."
)

# Screening reads this much of a message; more than a chat message ever needs, and bounded so
# a pasted book cannot slow the path down.
SCREEN_LIMIT_CHARS = 20_000
# Case transcripts keep at most this much of one message.
TRANSCRIPT_LIMIT_CHARS = 10_000


@dataclass(frozen=True)
class GatewayConfig:
    pseudonym_key: bytes
    max_message_chars: int
    moderation_homes: tuple[str, ...] = ("web",)
    flood_messages: int = 8
    flood_seconds: float = 10.0


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        database: Database,
        dialogue: DialogueClient,
        screener: Screener | None = None,
        crisis_replies: CrisisReplies | None = None,
        conduct_screen: ConductScreen | None = None,
    ) -> None:
        self._config = config
        self._db = database
        self._dialogue = dialogue
        self._screener = screener or default_screener()
        self._crisis_replies = crisis_replies or default_crisis_replies()
        self._conduct = conduct_screen or default_conduct_screen()
        self._flood = FloodControl(config.flood_messages, config.flood_seconds)
        self._research = ResearchFlow(database, config.pseudonym_key)
        self._staff_chat = StaffChat(database, config.pseudonym_key)

    def knows_command(self, text: str) -> bool:
        """Whether a /command is one the gateway answers (adapters pass those on)."""
        first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
        return (
            first.split("@")[0] in DATA_RIGHTS_PAYLOADS
            or parse_command(text) is not None
            or parse_staff_command(text) is not None
        )

    async def _data_rights(self, message: InboundMessage, request: str) -> list[Reply]:
        """See her data, ask to delete it, confirm or cancel (community/my_data.py)."""
        async with self._db.transaction() as session:
            member = await resolve_member(
                session, self._config.pseudonym_key, message.platform, message.user_id
            )
            if request == "my_data":
                return [wording.my_data(describe(await my_data(session, member), RASA_MEMORY))]
            if request == "delete_request":
                await request_deletion(session, member)
                return [wording.confirm_deletion()]
            if request == "cancel_delete":
                member.deletion_requested_at = None
                return [wording.deletion_cancelled()]
            if not deletion_confirmable(member):
                return [wording.deletion_not_requested()]
            pseudonym = member.pseudonym
            await delete_member(session, member)
        log.info("member data deleted", extra={"platform": message.platform})
        await self._dialogue.forget(pseudonym)
        return [wording.deletion_done()]

    def screen(self, text: str) -> Screening:
        """The crisis screen alone (adapters use it for edits and group messages)."""
        return self._screener.screen(text[:SCREEN_LIMIT_CHARS])

    async def watch_community_post(self, platform: str, user_id: str, text: str) -> bool:
        """A post in a community channel: flag it to moderators if it seems to attack or shame
        someone. Nothing is said in the channel and nothing of it is kept otherwise. Returns
        whether a flag was written (so the adapter wakes its home). Never raises."""
        finding = self._conduct.screen(text)
        if finding is None:
            return False
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(
                    session, self._config.pseudonym_key, platform, user_id
                )
                await record_flag(
                    session,
                    member,
                    platform,
                    finding.category,
                    text,
                    self._config.moderation_homes,
                )
        except Exception:
            log.exception("conduct flag could not be recorded", extra={"platform": platform})
            return False
        log.info(
            "community post flagged", extra={"platform": platform, "category": finding.category}
        )
        return True

    def crisis_reply(self, screening: Screening) -> Reply:
        return Reply(self._crisis_replies.compose(screening).text)

    async def handle(self, message: InboundMessage) -> list[Reply]:
        """Everything a member gets back for one message. Never raises."""
        text = message.readable_text.strip()
        screening = self._screener.screen(text[:SCREEN_LIMIT_CHARS])
        if screening.crisis:
            return await self._handle_crisis(message, text, screening)
        try:
            return await self._handle_ordinary(message, text)
        except Exception:
            log.exception("message path failed", extra={"platform": message.platform})
            return [wording.fallback()]

    async def _handle_crisis(
        self, message: InboundMessage, text: str, screening: Screening
    ) -> list[Reply]:
        reply = Reply(self._crisis_replies.compose(screening).text)
        log.warning(
            "crisis screened",
            extra={
                "category": screening.category,
                "severity": screening.severity.label if screening.severity else None,
            },
        )
        try:
            async with self._db.transaction() as session:
                member = await resolve_member(
                    session, self._config.pseudonym_key, message.platform, message.user_id
                )
                cases = HandoffCases(session, self._config.moderation_homes)
                opening = await cases.open_for_crisis(
                    member, message.platform, screening, text[:TRANSCRIPT_LIMIT_CHARS]
                )
                # Moderators see what she has already been told, numbers included.
                await cases.record_bot_message(opening.case_id, reply.text)
        except Exception:
            # The reply still goes out: the numbers in it do not depend on the database.
            log.exception("crisis case could not be recorded", extra={"platform": message.platform})
        return [reply]

    async def _handle_ordinary(self, message: InboundMessage, text: str) -> list[Reply]:
        if text in DATA_RIGHTS_PAYLOADS:
            return await self._data_rights(message, DATA_RIGHTS_PAYLOADS[text])
        async with self._db.transaction() as session:
            member = await resolve_member(
                session, self._config.pseudonym_key, message.platform, message.user_id
            )
            cases = HandoffCases(session, self._config.moderation_homes)
            case = await cases.open_case_for(member.id)
            if case is not None:
                # A person has (or is about to have) this conversation: no bot answers.
                if text:
                    await cases.record_member_message(case.id, text[:TRANSCRIPT_LIMIT_CHARS])
                if case.status == CaseStatus.CLAIMED.value:
                    return []
                return [wording.waiting_for_person()]
            if await is_blocked(session, member.id):
                # Blocked for abuse: no bot, no case. A crisis still gets help (screened above).
                return [wording.blocked()]
            pseudonym = member.pseudonym
            writing_for_research = await pending_input(session, member.id) is not None

        if not text:
            if message.kind is not ContentKind.TEXT:
                return [wording.cannot_read(message.kind)]
            return [wording.empty_message()]

        # After the screen and the open-case check: a flood never hides a crisis, and what she
        # writes to a person is always kept. One calm word per burst, then quiet.
        flood = self._flood.check(f"{message.platform}:{message.user_id}")
        if flood == "warn":
            return [wording.slow_down()]
        if flood == "quiet":
            return []

        staff_command = parse_staff_command(text)
        if staff_command is not None:
            return await self._staff_chat.command(message, *staff_command)
        command = parse_command(text)
        if command is not None:
            return await self._research.command(message, command)
        if writing_for_research:
            # Her answer to a researcher's question, or her question for researchers.
            taken = await self._research.take_input(message, text)
            if taken is not None:
                return taken

        notes: list[Reply] = []
        if len(text) > self._config.max_message_chars:
            text = text[: self._config.max_message_chars]
            notes.append(wording.long_message())
        try:
            result = await self._dialogue.respond(pseudonym, text)
        except DialogueUnavailable:
            return [*notes, wording.fallback()]

        for request in ("my_data", "delete_request"):
            if request in result.requests:  # asked in words; the app answers, not Rasa
                return await self._data_rights(message, request)
        for request in RESEARCH_REQUESTS:
            if request in result.requests:
                return await self._research.request(message, request)
        replies = list(result.replies)
        if result.handoff_requested:
            async with self._db.transaction() as session:
                member = await resolve_member(
                    session, self._config.pseudonym_key, message.platform, message.user_id
                )
                await HandoffCases(session, self._config.moderation_homes).open_on_request(
                    member, message.platform, text[:TRANSCRIPT_LIMIT_CHARS]
                )
        if message.kind is not ContentKind.TEXT:
            notes.append(wording.caption_only(message.kind))
        return [*notes, *replies] if replies else [*notes, wording.fallback()]
