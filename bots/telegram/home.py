"""The moderators' home on Telegram: a supergroup with topics, one topic per case.

Everything here starts from the database, so nothing is lost to a crash or a network failure:
a case's notification, a moderator's reply for a mother (the outbox) and the mother's messages
for the topic (the case transcript, relayed up to a cursor) are written first and sent by one
delivery loop, which marks them done only after Telegram accepted them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bots import wording
from community.db import Database
from community.members import delivery_address
from community.models import (
    OPEN_CASE_STATUSES,
    Case,
    CaseMessage,
    CaseThread,
    Notification,
    OutboxMessage,
    utcnow,
)
from community.settings import Settings
from safety.handoff import CaseConflict, CaseNotFound, ModeratorActions
from safety.snippets import load_snippets

log = logging.getLogger(__name__)

HOME = "telegram"
CASE_CALLBACK_PREFIX = "pb:"
TOPIC_LOST = "topic_lost"
CASE_NUMBER = re.compile(r"#(\d+)")  # a notification kind: the case's topic was deleted
LOOP_SECONDS = 1.0
BATCH = 50
MEMBERSHIP_CACHE_SECONDS = 60.0
MEMBER_STATUSES = {"creator", "administrator", "member", "restricted"}
SEVERITY_MARK = {"imminent": "🔴", "high": "🟠", "elevated": "🟡", "request": "🔵"}
HELP_TEXT = (
    "In a case topic: press Claim, then what you write here reaches her under your first name.\n"
    "/note TEXT: a private note (she never sees it)\n"
    "/snippets: the canned replies; /snippet ID: send one to her\n"
    "/transcript: the conversation so far\n"
    "In a group without topics, reply to a case's message to write to her."
)


def moderator_identity(user: User) -> tuple[str, str]:
    """(who in the case record, the name she sees). The record uses the account, which does not
    change when a moderator renames herself; members only ever see the first name."""
    return f"telegram:{user.id}", (user.first_name or "A moderator")[:40]


def case_buttons(case_id: int, claimed: bool) -> InlineKeyboardMarkup:
    if not claimed:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "Claim", callback_data=f"{CASE_CALLBACK_PREFIX}claim:{case_id}"
                    )
                ]
            ]
        )
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Resolve", callback_data=f"{CASE_CALLBACK_PREFIX}resolve:{case_id}"
                ),
                InlineKeyboardButton(
                    "Return to bot", callback_data=f"{CASE_CALLBACK_PREFIX}return:{case_id}"
                ),
            ]
        ]
    )


class ModeratorsHome:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        database: Database,
        settings: Settings,
    ) -> None:
        self.application = application
        self.database = database
        self.chat_id = settings.telegram_moderator_chat_id
        self._wake = asyncio.Event()
        self._running = True
        self._members: dict[int, tuple[bool, float]] = {}
        self._topics_supported = True

    # -- wiring ----------------------------------------------------------------------------

    def add_handlers(self) -> None:
        app = self.application
        app.add_handler(
            CallbackQueryHandler(self._case_button, pattern=rf"^{CASE_CALLBACK_PREFIX}")
        )
        if self.chat_id is not None:
            app.add_handler(
                MessageHandler(
                    filters.Chat(self.chat_id) & filters.UpdateType.MESSAGE & filters.TEXT,
                    self._topic_message,
                )
            )

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._running = False
        self._wake.set()

    async def run(self) -> None:
        """The delivery loop: every second, or at once when woken."""
        while self._running:
            try:
                await self.deliver_once()
            except Exception:
                log.exception("telegram delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LOOP_SECONDS)
            self._wake.clear()

    async def deliver_once(self) -> None:
        await self._deliver_outbox()
        if self.chat_id is not None:
            await self._deliver_notifications()
            await self._relay_transcripts()

    # -- to mothers ------------------------------------------------------------------------

    async def _deliver_outbox(self) -> None:
        from bots.messages import Reply
        from bots.telegram.adapter import send_replies

        async with self.database.transaction() as session:
            pending = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.platform == HOME, OutboxMessage.delivered_at.is_(None))
                    .order_by(OutboxMessage.id)
                    .limit(BATCH)
                )
            ).all()
            for item in pending:
                address = await delivery_address(session, item.member_id, HOME)
                item.attempts += 1
                if address is None or item.text is None:
                    item.delivered_at, item.text = utcnow(), None
                    continue
                try:
                    await send_replies(
                        self.application,
                        int(address),
                        [Reply(item.text, sender_name=item.sender_name)],
                    )
                except Forbidden:
                    # She blocked the bot or deleted her account: nothing more can reach her.
                    log.info("telegram member unreachable", extra={"outbox_id": item.id})
                    item.delivered_at, item.text = utcnow(), None
                    continue
                except TelegramError as error:
                    log.warning("telegram send failed", extra={"error": type(error).__name__})
                    break  # keep order: retry this one and the rest next round
                item.delivered_at, item.text = utcnow(), None

    # -- to moderators ---------------------------------------------------------------------

    async def _deliver_notifications(self) -> None:
        async with self.database.transaction() as session:
            pending = (
                await session.execute(
                    select(Notification, Case)
                    .join(Case, Case.id == Notification.case_id)
                    .where(Notification.home == HOME, Notification.delivered_at.is_(None))
                    .order_by(Notification.id)
                    .limit(BATCH)
                )
            ).all()
            actions = ModeratorActions(session)
            for notification, case in pending:
                notification.attempts += 1
                try:
                    summary = await actions.summary(case)
                    thread = await self._thread_for(
                        session, case, summary.member, replay=notification.kind == TOPIC_LOST
                    )
                    await self._post(
                        thread, self._summary_text(summary, notification.kind),
                        case_buttons(case.id, summary.claimed_by is not None),
                    )  # fmt: skip
                except BadRequest as error:
                    if await self._forget_deleted_topic(session, case.id, error):
                        continue  # recreated next round
                    log.warning("telegram case post refused", extra={"error": str(error)[:80]})
                    notification.delivered_at = utcnow()  # a permanent refusal: do not loop
                    continue
                except TelegramError as error:
                    log.warning("telegram case post failed", extra={"error": type(error).__name__})
                    break
                notification.delivered_at = utcnow()

    async def _relay_transcripts(self) -> None:
        """Her messages (and the bot's crisis reply) appear in the case's topic."""
        async with self.database.transaction() as session:
            rows = (
                await session.execute(
                    select(CaseThread, Case)
                    .join(Case, Case.id == CaseThread.case_id)
                    .where(
                        CaseThread.home == HOME,
                        Case.status.in_(OPEN_CASE_STATUSES),
                    )
                )
            ).all()
            for thread, case in rows:
                turns = (
                    await session.scalars(
                        select(CaseMessage)
                        .where(
                            CaseMessage.case_id == case.id,
                            CaseMessage.id > thread.relayed_message_id,
                            CaseMessage.author.in_(("member", "bot")),
                        )
                        .order_by(CaseMessage.id)
                        .limit(BATCH)
                    )
                ).all()
                for turn in turns:
                    who = "She wrote" if turn.author == "member" else "The bot told her"
                    if not thread.thread_id:
                        who = f"#{case.id} {who}"  # no topics: say which case
                    try:
                        await self._post(thread.thread_id, f"{who}:\n{turn.text}")
                    except BadRequest as error:
                        await self._forget_deleted_topic(session, case.id, error)
                        break
                    except TelegramError:
                        break
                    thread.relayed_message_id = turn.id

    async def _thread_for(self, session: Any, case: Case, member: str, replay: bool = False) -> str:
        """The case's topic, created on first use. A new topic relays from after the summary;
        one replacing a deleted topic (`replay`) relays the whole conversation again."""
        existing = await session.get(CaseThread, (case.id, HOME))
        if existing is not None:
            return str(existing.thread_id)
        name = f"{case.severity} · {case.category} · {member}"[:128]
        thread_id = ""
        if self._topics_supported:
            try:
                topic = await self.application.bot.create_forum_topic(self.chat_id, name)
                thread_id = str(topic.message_thread_id)
            except BadRequest as error:
                # Not a forum: cases are posted in the group itself (claim and buttons work;
                # replying to her is then done from the web console).
                log.warning("telegram topics unavailable", extra={"error": str(error)[:80]})
                self._topics_supported = False
        session.add(CaseThread(case_id=case.id, home=HOME, thread_id=thread_id))
        # The transcript so far is shown by the summary; relay only what comes after it.
        last = await session.scalar(
            select(CaseMessage.id)
            .where(CaseMessage.case_id == case.id)
            .order_by(CaseMessage.id.desc())
            .limit(1)
        )
        await session.flush()
        thread = await session.get(CaseThread, (case.id, HOME))
        thread.relayed_message_id = 0 if replay else (last or 0)
        return thread_id

    async def _forget_deleted_topic(self, session: Any, case_id: int, error: BadRequest) -> bool:
        if "thread not found" not in str(error).lower() and "topic" not in str(error).lower():
            return False
        thread = await session.get(CaseThread, (case_id, HOME))
        if thread is not None:
            await session.delete(thread)
            # A new topic is opened by the next round, with the conversation so far.
            session.add(Notification(case_id=case_id, home=HOME, kind=TOPIC_LOST))
        log.warning(
            "telegram case topic was deleted; it will be recreated", extra={"case_id": case_id}
        )
        return True

    async def _post(
        self, thread_id: str, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        from bots.telegram.render import split_text

        pieces = split_text(text)
        for index, piece in enumerate(pieces):
            await self.application.bot.send_message(
                self.chat_id,
                piece,
                message_thread_id=int(thread_id) if thread_id else None,
                reply_markup=markup if index == len(pieces) - 1 else None,
            )

    @staticmethod
    def _summary_text(summary: Any, kind: str) -> str:
        mark = SEVERITY_MARK.get(summary.severity, "⚪")
        heading = {
            "opened": "New case",
            "raised": "Case raised",
            "reannounced": "Still waiting for a moderator",
            TOPIC_LOST: "Case topic reopened (the old one was deleted); the conversation follows",
        }.get(kind, "Case")
        lines = [
            f"{mark} {heading} #{summary.id}: {summary.severity} · {summary.category} · "
            f"{summary.member} (from {summary.platform})",
            f"Waiting {int(summary.waited_seconds // 60)} min"
            + (f" · claimed by {summary.claimed_by}" if summary.claimed_by else ""),
            f"What she wrote: {summary.trigger}",
        ]
        return "\n".join(lines)

    # -- moderators' actions ---------------------------------------------------------------

    async def _is_moderator(self, user: User, seen_in_group: bool) -> bool:
        """Membership of the moderators' group, as Telegram reports it. If Telegram cannot be
        asked, someone acting from inside the (private) group is a member: only members see
        its messages."""
        if self.chat_id is None:
            return False
        cached = self._members.get(user.id)
        if cached is not None and time.monotonic() - cached[1] < MEMBERSHIP_CACHE_SECONDS:
            return cached[0]
        try:
            member = await self.application.bot.get_chat_member(self.chat_id, user.id)
            allowed = member.status in MEMBER_STATUSES
        except TelegramError:
            return seen_in_group
        self._members[user.id] = (allowed, time.monotonic())
        return allowed

    async def _case_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None or not query.data:
            return
        in_group = query.message is not None and query.message.chat.id == self.chat_id
        if not await self._is_moderator(user, in_group):
            await query.answer(wording.staff_only(), show_alert=True)
            return
        try:
            _, action, raw_id = query.data.split(":")
            case_id = int(raw_id)
        except ValueError:
            await query.answer()
            return
        moderator, display = moderator_identity(user)
        try:
            async with self.database.transaction() as session:
                actions = ModeratorActions(session)
                if action == "claim":
                    await actions.claim(case_id, moderator)
                elif action in ("resolve", "return"):
                    await actions.resolve(
                        case_id, moderator, f"{action} on Telegram", action == "return"
                    )
                else:
                    raise CaseConflict("Unknown action.")
        except (CaseConflict, CaseNotFound) as error:
            await query.answer(str(error) or "That case is gone.", show_alert=True)
            return
        await query.answer()
        self.wake()
        if action == "claim":
            note = (
                f"{display} claimed this case. What {display} writes in this topic now reaches her."
            )
            markup: InlineKeyboardMarkup | None = case_buttons(case_id, claimed=True)
        else:
            note = f"{display} closed this case; the bot answers her again."
            markup = None
        with contextlib.suppress(TelegramError):  # the note below says the same
            await query.edit_message_reply_markup(markup)
        message = query.message
        thread = getattr(message, "message_thread_id", None) if message else None
        await self.application.bot.send_message(
            self.chat_id,
            note,
            message_thread_id=thread,
        )

    async def _topic_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or user.is_bot or not message.text:
            return
        text = message.text.strip()
        thread_id = message.message_thread_id if message.is_topic_message else None
        if text.split()[0].split("@")[0] == "/help":
            await message.reply_text(HELP_TEXT)
            return
        moderator, display = moderator_identity(user)
        if thread_id is not None:
            async with self.database.transaction() as session:
                case_id = await session.scalar(
                    select(CaseThread.case_id).where(
                        CaseThread.home == HOME, CaseThread.thread_id == str(thread_id)
                    )
                )
        else:
            case_id = self._case_without_topics(message.reply_to_message)
        if case_id is None:
            return
        if not await self._is_moderator(user, seen_in_group=True):
            return
        answer = await self._act_in_topic(case_id, moderator, display, text)
        if answer:
            await message.reply_text(answer)
        self.wake()

    @staticmethod
    def _case_without_topics(replied: Any) -> int | None:
        """In a group without topics, only a reply to one of the bot's case messages (they
        start "#<case>") is about a case: small talk never reaches a member by accident."""
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return None
        match = CASE_NUMBER.search(replied.text or "")
        return int(match.group(1)) if match else None

    async def _act_in_topic(self, case_id: int, moderator: str, display: str, text: str) -> str:
        command, _, rest = text.partition(" ")
        command = command.split("@")[0].lower()
        try:
            async with self.database.transaction() as session:
                actions = ModeratorActions(session)
                if command == "/note":
                    if not rest.strip():
                        return "Write the note after /note."
                    await actions.add_note(case_id, moderator, rest.strip())
                    return "Note saved (she never sees it)."
                if command == "/snippets":
                    return "\n".join(f"{s.id}: {s.text}" for s in load_snippets())
                if command == "/transcript":
                    turns = await actions.transcript(case_id)
                    return "\n".join(f"{t.author_name or t.author}: {t.text}" for t in turns)[:4000]
                if command == "/snippet":
                    chosen = {s.id: s for s in load_snippets()}.get(rest.strip())
                    if chosen is None:
                        return "No such snippet; /snippets lists them."
                    text = chosen.text
                elif command.startswith("/"):
                    return HELP_TEXT
                await actions.reply(case_id, moderator, display, text)
                return ""
        except CaseConflict as error:
            return str(error)
        except CaseNotFound:
            return "That case is gone."
        except (NetworkError, TelegramError):  # pragma: no cover - database work only above
            return "Something went wrong; please try again."
