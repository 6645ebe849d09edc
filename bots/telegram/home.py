"""The moderators' home on Telegram: a supergroup with topics, one topic per case.

Delivery (the outbox to mothers on Telegram, case cards, her messages into the topic) is the
shared `community.delivery.Delivery`; this module supplies Telegram's sends and the moderators'
handlers.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bots import wording
from bots.command_grammar import ModeratorCall, Place, command_name
from bots.commands import (
    MODERATORS,
    NO_TOPICS_NOTE,
    act_in_case_thread,
    find,
    moderator_help,
    run_moderator_command,
)
from bots.moderating import (
    CASE_CALLBACK_PREFIX,
    button_outcome,
    case_button_id,
    parse_case_button,
    press_case_button,
)
from bots.telegram.ratelimit import ahead_of_cards
from bots.telegram.render import split_text
from community.cases.handoff import CaseConflict, CaseNotFound
from community.db import Database
from community.delivery import (
    Delivery,
    MemberUnreachable,
    SentPieces,
    ThreadGone,
    TransientSendError,
    case_for_thread,
)
from community.messages import Reply
from community.safety_plan import keys_from_settings
from community.settings import Settings

log = logging.getLogger(__name__)

HOME = "telegram"
MEMBERSHIP_CACHE_SECONDS = 60.0
MEMBER_STATUSES = {"creator", "administrator", "member", "restricted"}
CASE_NUMBER = re.compile(r"#(\d+)")


def moderator_identity(user: User) -> tuple[str, str]:
    """(who in the case record, the name she sees). The record uses the account, which does not
    change when a moderator renames herself; members only ever see the first name."""
    return f"telegram:{user.id}", (user.first_name or "A moderator")[:40]


# Telegram shows at most 200 characters in a button's alert (answerCallbackQuery).
ALERT_LIMIT = 200


def _alert(text: str) -> str:
    """A refusal fit for a button's alert: cut at a word, with "…", when it is longer (a cap
    refusal naming many people on shift)."""
    if len(text) <= ALERT_LIMIT:
        return text
    return text[: ALERT_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def case_buttons(case_id: int, claimed: bool) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=case_button_id(action, case_id))

    if not claimed:
        return InlineKeyboardMarkup([[button("Claim", "claim")]])
    return InlineKeyboardMarkup([[button("Resolve", "resolve"), button("Return to bot", "return")]])


def _is_deleted_thread(error: BadRequest) -> bool:
    text = str(error).lower()
    return "thread not found" in text or "topic" in text


class ModeratorsHome:
    """Telegram's sender for the delivery path, and the moderators' handlers."""

    platform = HOME
    home = HOME

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        database: Database,
        settings: Settings,
    ) -> None:
        self.database = database
        self.announces_cases = settings.telegram_moderator_chat_id is not None
        self.delivery = Delivery(database, self, settings.research_timezone)
        self.sent_pieces = SentPieces()  # a split message that failed partway goes on from here
        self.application = application
        self.chat_id = settings.telegram_moderator_chat_id
        self.community_chat_id = settings.telegram_community_chat_id
        self.plans = keys_from_settings(settings)  # for /plan, when she shared it
        self.max_open_cases = settings.max_open_cases_per_moderator
        self.timezone = settings.research_timezone  # where "today" is, for /shifts
        self._members: dict[int, tuple[bool, float]] = {}
        self._topics_supported = True

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
        """Something for Telegram was written: deliver it now rather than within a second."""
        self.delivery.wake()

    # -- the sends the delivery path needs -------------------------------------------------

    async def send_to_member(self, address: str, reply: Reply) -> None:
        from bots.telegram.adapter import send_replies

        try:
            await send_replies(self.application, int(address), [reply], self.sent_pieces)
        except Forbidden as error:
            raise MemberUnreachable from error
        except TelegramError as error:
            log.warning("telegram send failed", extra={"error": type(error).__name__})
            raise TransientSendError from error

    async def open_thread(self, name: str, card: str) -> str:
        """A topic per case; the card posted in it right after notifies the group as any new
        message does, so `card` is not needed here."""
        if not self._topics_supported or self.chat_id is None:
            return ""
        try:
            topic = await self.application.bot.create_forum_topic(self.chat_id, name[:128])
        except BadRequest as error:
            # Not a forum: cases are posted in the group itself; replies to them still work.
            log.warning("telegram topics unavailable", extra={"error": type(error).__name__})
            self._topics_supported = False
            return ""
        except TelegramError as error:
            raise TransientSendError from error
        return str(topic.message_thread_id)

    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        await self._post(thread_id, text, case_buttons(case_id, claimed))

    async def post_in_thread(self, thread_id: str, text: str) -> None:
        # Her messages to the moderator with her, and notes: the live conversation goes before
        # new cards in the group's pacing (bots/telegram/ratelimit.py).
        with ahead_of_cards():
            await self._post(thread_id, text)

    async def post_to_community(self, text: str) -> None:
        chat_id = self.community_chat_id
        if chat_id is None:
            return

        async def send_piece(piece: str, last: bool) -> None:
            await self.application.bot.send_message(chat_id, piece)

        try:
            await self.sent_pieces.send(str(chat_id), text, split_text(text), send_piece)
        except BadRequest as error:
            log.warning("telegram community post refused", extra={"error": type(error).__name__})
        except TelegramError as error:
            raise TransientSendError from error

    async def _post(
        self, thread_id: str, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        chat_id = self.chat_id
        if chat_id is None:
            return

        async def send_piece(piece: str, last: bool) -> None:
            await self.application.bot.send_message(
                chat_id,
                piece,
                message_thread_id=int(thread_id) if thread_id else None,
                reply_markup=markup if last else None,
            )

        try:
            await self.sent_pieces.send(
                f"{chat_id}:{thread_id}", text, split_text(text), send_piece
            )
        except BadRequest as error:
            if thread_id and _is_deleted_thread(error):
                raise ThreadGone from error
            log.warning("telegram post refused", extra={"error": type(error).__name__})
            # A permanent refusal of this text: skip it rather than retry forever.
        except TelegramError as error:
            raise TransientSendError from error

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
        with ahead_of_cards():  # the moderator is waiting to see her press take effect
            await self._press(update)

    async def _press(self, update: Update) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None or not query.data:
            return
        in_group = query.message is not None and query.message.chat.id == self.chat_id
        if not await self._is_moderator(user, in_group):
            await query.answer(wording.staff_only(), show_alert=True)
            return
        parsed = parse_case_button(query.data)
        if parsed is None:
            await query.answer()
            return
        action, case_id = parsed
        moderator, display = moderator_identity(user)
        try:
            await press_case_button(
                self.database, action, case_id, moderator, display, self.max_open_cases
            )
        except (CaseConflict, CaseNotFound) as error:
            await query.answer(_alert(str(error) or "That case is gone."), show_alert=True)
            return
        await query.answer()
        self.wake()
        markup = case_buttons(case_id, claimed=True) if action == "claim" else None
        with contextlib.suppress(TelegramError):  # the note below says the same
            await query.edit_message_reply_markup(markup)
        message = query.message
        thread = getattr(message, "message_thread_id", None) if message else None
        await self.application.bot.send_message(
            self.chat_id,
            button_outcome(action, display),
            message_thread_id=thread,
        )

    async def _topic_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        with ahead_of_cards():  # answers to a moderator, in the conversation she is having
            await self._moderator_wrote(update)

    async def _moderator_wrote(self, update: Update) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or user.is_bot or not message.text:
            return
        text = message.text.strip()
        name = command_name(text)
        if name == "help":
            await message.reply_text(moderator_help(NO_TOPICS_NOTE))
            return
        moderator, display = moderator_identity(user)
        command = find(name, MODERATORS) if name else None
        if command is not None:  # a moderators' command (bots/commands.py), anywhere here
            if not await self._is_moderator(user, seen_in_group=True):
                return
            case_id = await self._case_of(message) if command.place is Place.CASE else None
            call = ModeratorCall(
                self.database, moderator, display, case_id, self.plans, self.timezone
            )
            answer = await run_moderator_command(call, text)
        else:
            case_id = await self._case_of(message)
            if case_id is None or not await self._is_moderator(user, seen_in_group=True):
                return
            call = ModeratorCall(
                self.database, moderator, display, case_id, self.plans, self.timezone
            )
            answer = await act_in_case_thread(call, text)
        for piece in split_text(answer or ""):
            await message.reply_text(piece)
        self.wake()

    async def _case_of(self, message: Any) -> int | None:
        """The case a message in the group is about: its topic's, or (in a group without
        topics) the case of the bot's message it replies to."""
        if message.is_topic_message and message.message_thread_id is not None:
            async with self.database.transaction() as session:
                return await case_for_thread(session, HOME, str(message.message_thread_id))
        return self._case_without_topics(message.reply_to_message)

    @staticmethod
    def _case_without_topics(replied: Any) -> int | None:
        """In a group without topics, only a reply to one of the bot's case messages (they
        start "#<case>") is about a case: small talk never reaches a member by accident."""
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return None
        match = CASE_NUMBER.search(replied.text or "")
        return int(match.group(1)) if match else None
