"""The Telegram adapter: a python-telegram-bot `Application` in front of the gateway.

Mothers write in private chats; everything they send goes through the gateway, which screens it
first. The moderators' supergroup is handled by `bots.telegram.home`. The adapter runs inside the
bot app's process (`peerbot serve`), polling by default or fed by the app's webhook route.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import logging
from typing import Any

from telegram import (
    BotCommand,
    CallbackQuery,
    InputFile,
    Message,
    Update,
)
from telegram.error import Forbidden, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bots import wording
from bots.commands import PRIVATE, member_menu, payload_for, private_command, summary_in
from bots.gateway import Gateway
from bots.member_language import hint_language
from bots.moderating import CASE_CALLBACK_PREFIX
from bots.telegram.home import ModeratorsHome
from bots.telegram.ratelimit import PerChatRateLimiter
from bots.telegram.render import keyboard, split_text
from bots.telegram.updates import PerChatUpdateProcessor
from community.db import Database, insert_ignoring_conflicts
from community.delivery import SentPieces
from community.messages import ContentKind, InboundMessage, Reply
from community.models import PlatformUpdate, utcnow
from community.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)


def _send_retrying() -> AsyncRetrying:
    """Network failures are retried with backoff; Telegram's refusals are not."""
    return AsyncRetrying(
        retry=retry_if_exception_type((NetworkError, TimedOut)),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )


def content_kind(message: Message) -> ContentKind:
    if message.sticker:
        return ContentKind.STICKER
    if message.photo:
        return ContentKind.PHOTO
    if message.voice or message.audio:
        return ContentKind.VOICE
    if message.video or message.video_note or message.animation:
        return ContentKind.VIDEO
    if message.document:
        return ContentKind.DOCUMENT
    return ContentKind.OTHER


def webhook_secret(settings: Settings, pseudonym_key: bytes) -> str:
    """Telegram's secret_token: configured, or derived from the secret key (A-Z a-z 0-9 _ -)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    return hmac.new(pseudonym_key, b"telegram-webhook", hashlib.sha256).hexdigest()


# Telegram shows the menu in her app's language when one is set for it; English otherwise.
MENU_LANGUAGES = ("es",)


def command_menu(language: str = "en") -> list[BotCommand]:
    """Telegram's command menu in `language`, from the one command table."""
    return [BotCommand(command.name, summary_in(command, language)) for command in member_menu()]


def language_hint(update: Update) -> str | None:
    """The language her Telegram app is set to (`language_code`, an IETF tag such as "es" or
    "en-US"), when Telegram says: a hint for the gateway, never a decision."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return user.language_code or None


async def send_replies(
    application: Application[Any, Any, Any, Any, Any, Any],
    chat_id: int,
    replies: list[Reply],
    sent: SentPieces | None = None,
) -> None:
    """Send replies in order; long ones split on sentences, buttons on the last piece. Network
    failures are retried with backoff; the rate limiter paces bursts. With `sent` (the delivery
    loop's), a reply that failed partway is taken up after the pieces already sent."""
    memory = sent or SentPieces()
    for reply in replies:
        text = reply.signed_text
        send_piece = functools.partial(_send_piece, application, chat_id, reply)
        await memory.send(str(chat_id), text, split_text(text) or [" "], send_piece)


async def _send_piece(
    application: Application[Any, Any, Any, Any, Any, Any],
    chat_id: int,
    reply: Reply,
    piece: str,
    last: bool,
) -> None:
    markup = keyboard(reply.buttons) if last else None
    async for attempt in _send_retrying():
        with attempt:
            await application.bot.send_message(chat_id, piece, reply_markup=markup)
    if last and reply.attachment is not None:
        # A session's calendar file, as a document after the words it belongs to.
        attachment = reply.attachment
        async for attempt in _send_retrying():
            with attempt:
                await application.bot.send_document(
                    chat_id,
                    InputFile(attachment.content.encode("utf-8"), filename=attachment.filename),
                )


class TelegramAdapter:
    """Builds and runs the Application; owns the member-facing handlers."""

    def __init__(
        self, settings: Settings, database: Database, gateway: Gateway, pseudonym_key: bytes
    ) -> None:
        if settings.telegram_token is None:
            raise ValueError("PEERBOT_TELEGRAM_TOKEN is not set")
        self.settings = settings
        self.database = database
        self.gateway = gateway
        self.secret = webhook_secret(settings, pseudonym_key)
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_token.get_secret_value())
            .base_url(settings.telegram_api_base)
            # Not AIORateLimiter: its flood wait for one chat halted every send, a crisis reply
            # to someone else included (see bots/telegram/ratelimit.py).
            .rate_limiter(PerChatRateLimiter(max_retries=3))
            # In order within a chat, side by side across chats: a handler waiting out a
            # limit must not hold up another mother's crisis (bots/telegram/updates.py).
            .concurrent_updates(PerChatUpdateProcessor())
        )
        if settings.telegram_webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.home = ModeratorsHome(self.application, database, settings)
        self._delivery: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[None] | None = None
        self._add_handlers()

    def launch(self) -> None:
        """Start in the background (see `start_when_reachable`)."""
        self._starting = asyncio.create_task(self.start_when_reachable(), name="telegram-start")

    # -- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        try:
            await app.bot.set_my_commands(command_menu())
            for language in MENU_LANGUAGES:
                await app.bot.set_my_commands(command_menu(language), language_code=language)
        except TelegramError as error:
            log.warning("telegram command menu not set", extra={"error": type(error).__name__})
        await app.start()
        if self.settings.telegram_webhook_url:
            await app.bot.set_webhook(
                self.settings.telegram_webhook_url,
                secret_token=self.secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        elif app.updater is not None:
            await app.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
        self._delivery = asyncio.create_task(self.home.delivery.run(), name="telegram-delivery")
        log.info("telegram adapter started", extra={"mode": self.mode})

    async def start_when_reachable(self) -> None:
        """Start, retrying with backoff while the Bot API cannot be reached: the web chat and
        the crisis path never wait for Telegram to be up."""
        delay = 1.0
        while True:
            try:
                await self.start()
                return
            except TelegramError as error:
                # Unreachable, or refused (a wrong token says InvalidToken): keep trying, say why.
                log.warning(
                    "telegram could not start; retrying",
                    extra={"error": type(error).__name__, "retry_in_seconds": delay},
                )
                with contextlib.suppress(TelegramError, RuntimeError):
                    await self.application.shutdown()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.telegram_webhook_url else "polling"

    async def stop(self) -> None:
        self.home.delivery.stop()
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        with contextlib.suppress(TelegramError, RuntimeError):
            await app.shutdown()

    async def process_webhook(self, data: dict[str, Any]) -> None:
        """An update POSTed by Telegram to the app's webhook route."""
        update = Update.de_json(data, self.application.bot)
        await self.application.update_queue.put(update)

    # -- handlers --------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        private = filters.ChatType.PRIVATE
        app.add_handler(TypeHandler(Update, self._once), group=-1)
        self.home.add_handlers()
        names = [name for command in PRIVATE for name in command.names]
        app.add_handler(CommandHandler(names, self._command, filters=private))
        app.add_handler(MessageHandler(private & filters.COMMAND, self._unknown_command))
        app.add_handler(
            MessageHandler(
                private & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
                self._text,
            )
        )
        app.add_handler(
            MessageHandler(private & filters.UpdateType.MESSAGE & NON_TEXT, self._non_text)
        )
        app.add_handler(
            MessageHandler(
                private & filters.UpdateType.EDITED_MESSAGE & (filters.TEXT | filters.CAPTION),
                self._edited,
            )
        )
        app.add_handler(CallbackQueryHandler(self._button, pattern=rf"^(?!{CASE_CALLBACK_PREFIX})"))
        app.add_handler(
            MessageHandler(
                filters.ChatType.GROUPS
                & filters.UpdateType.MESSAGE
                & (filters.Entity("mention") | filters.REPLY),
                self._group_mention,
            )
        )
        # A handler group of its own: the mention handler above still answers the same post.
        app.add_handler(
            MessageHandler(
                filters.ChatType.GROUPS
                & filters.UpdateType.MESSAGES
                & (filters.TEXT | filters.CAPTION),
                self._community_post,
            ),
            group=1,
        )
        app.add_error_handler(self._error)

    async def _once(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Take each update in once: a redelivery after a restart stops here."""
        async with self.database.transaction() as session:
            result = await session.execute(
                insert_ignoring_conflicts(session, PlatformUpdate)
                .values(platform=PLATFORM, update_id=update.update_id, received_at=utcnow())
                .on_conflict_do_nothing(index_elements=["platform", "update_id"])
                .returning(PlatformUpdate.update_id)
            )
            taken_in = result.first() is not None  # no row back: it was already there
        if not taken_in:
            log.info("telegram update already handled", extra={"update_id": update.update_id})
            raise ApplicationHandlerStop

    async def _answer(self, update: Update, inbound: InboundMessage) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        replies = await self.gateway.handle(inbound)
        try:
            # The delivery path's memory of pieces sent: a reply it takes over goes on from there.
            await send_replies(self.application, chat.id, replies, self.home.sent_pieces)
        except Forbidden:
            log.info("telegram member blocked the bot")
        except TelegramError as error:
            log.warning("telegram reply kept for later", extra={"error": type(error).__name__})
            await self.gateway.keep_for_later(PLATFORM, str(chat.id), replies)
        self.home.wake()  # a case, a message for moderators, or a reply kept for later

    @staticmethod
    def _user_id(update: Update) -> str | None:
        user = update.effective_user
        return str(user.id) if user is not None and not user.is_bot else None

    async def _command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A member's or researcher's command (bots/commands.py): the gateway answers its
        payload, with what she wrote after it."""
        user_id = self._user_id(update)
        message = update.effective_message
        if user_id is None or message is None or not message.text:
            return
        command = private_command(message.text)
        if command is None:
            return
        payload = payload_for(command, message.text.strip().partition(" ")[2])
        await self._answer(
            update, InboundMessage(PLATFORM, user_id, payload, language_hint=language_hint(update))
        )

    async def _unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Numbered research commands (/answer_12) are not in the menu; the gateway knows
        them. Anything else gets a kind word about what the bot understands."""
        chat = update.effective_chat
        message = update.effective_message
        user_id = self._user_id(update)
        text = message.text if message is not None and message.text else ""
        if user_id is not None and self.gateway.knows_command(text):
            inbound = InboundMessage(PLATFORM, user_id, text, language_hint=language_hint(update))
            await self._answer(update, inbound)
        elif chat is not None:
            language = hint_language(language_hint(update)) or "en"
            await send_replies(self.application, chat.id, [wording.unknown_command(language)])

    async def _text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user_id = self._user_id(update)
        message = update.effective_message
        if user_id is None or message is None:
            return
        inbound = InboundMessage(
            PLATFORM, user_id, message.text or "", language_hint=language_hint(update)
        )
        await self._answer(update, inbound)

    async def _non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user_id = self._user_id(update)
        message = update.effective_message
        if user_id is None or message is None:
            return
        inbound = InboundMessage(
            PLATFORM,
            user_id,
            kind=content_kind(message),
            caption=message.caption or "",
            language_hint=language_hint(update),
        )
        await self._answer(update, inbound)

    async def _edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edit is screened again; only a crisis is answered (the rest was answered once)."""
        user_id = self._user_id(update)
        message = update.edited_message
        if user_id is None or message is None:
            return
        text = message.text or message.caption or ""
        inbound = InboundMessage(PLATFORM, user_id, text, language_hint=language_hint(update))
        replies = await self.gateway.handle_edit(inbound)
        if replies and update.effective_chat is not None:
            await send_replies(self.application, update.effective_chat.id, replies)
            self.home.wake()

    async def _button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query: CallbackQuery | None = update.callback_query
        user_id = self._user_id(update)
        if query is None:
            return
        await query.answer()
        chat = update.effective_chat
        if user_id is None or query.data is None or chat is None:
            return
        if chat.type != chat.PRIVATE:
            return  # buttons the bot sends outside private chats are case buttons only
        inbound = InboundMessage(PLATFORM, user_id, query.data, language_hint=language_hint(update))
        await self._answer(update, inbound)

    async def _group_mention(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a community group the bot speaks only when addressed, and never about anyone's
        situation: crisis numbers if the screen finds a crisis, and an invitation to a private
        chat."""
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None or chat.id == self.settings.telegram_moderator_chat_id:
            return
        username = self.application.bot.username
        addressed = f"@{username}".lower() in (message.text or "").lower() or (
            message.reply_to_message is not None
            and message.reply_to_message.from_user is not None
            and message.reply_to_message.from_user.id == self.application.bot.id
        )
        if not addressed:
            return
        replies = self.gateway.public_mention_replies(
            message.text or "",
            wording.private_chat_invitation(username, hint_language(language_hint(update)) or "en"),
        )
        await send_replies(self.application, chat.id, replies)

    async def _community_post(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every post (and edit) in a community group passes the conduct screen; one that seems
        to attack or shame someone is flagged to moderators. The bot says nothing about it."""
        message = update.effective_message
        chat = update.effective_chat
        user_id = self._user_id(update)
        if message is None or chat is None or user_id is None:
            return
        if chat.id == self.settings.telegram_moderator_chat_id:
            return
        text = message.text or message.caption or ""
        if await self.gateway.watch_community_post(PLATFORM, user_id, text):
            self.home.wake()

    async def _error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One handler's failure never stops the bot; the log names the error, not the text."""
        error = context.error
        if isinstance(error, Forbidden):
            log.info("telegram member blocked the bot")
            return
        log.error(
            "telegram handler failed",
            extra={"error": type(error).__name__},
            exc_info=error if not isinstance(error, NetworkError) else None,
        )
