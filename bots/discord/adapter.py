"""The Discord adapter: a `commands.Bot` with its dependencies passed in, in front of the gateway.

Mothers write in DMs (and may use the slash commands in a community server, answered only to
them). Moderators work in a private channel, one thread per case (`bots.discord.home`). The bot
runs inside the bot app's process; discord.py reconnects with backoff by itself.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bots import wording
from bots.command_grammar import Command, Values
from bots.commands import MODERATORS, PRIVATE, payload_for
from bots.discord.home import DiscordHome, ModeratorThreads
from bots.discord.render import SAY_PREFIX, buttons_view, split_text
from bots.discord.slash import SpanishDescriptions, slash_commands
from bots.gateway import Gateway
from bots.moderating import CASE_CALLBACK_PREFIX
from bots.ordering import KeyedOrder
from community.db import Database
from community.delivery import SentPieces
from community.messages import Attachment, ContentKind, InboundMessage, Reply
from community.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
DISCORD_API = "https://discord.com/api/v10"


def content_kind(message: discord.Message) -> ContentKind:
    if message.stickers:
        return ContentKind.STICKER
    for attachment in message.attachments:
        kind = (attachment.content_type or "").split("/")[0]
        return {
            "image": ContentKind.PHOTO,
            "audio": ContentKind.VOICE,
            "video": ContentKind.VIDEO,
        }.get(kind, ContentKind.DOCUMENT)
    return ContentKind.TEXT


def language_hint(interaction: discord.Interaction[Any]) -> str | None:
    """The language her Discord app is set to (`interaction.locale`, "es-ES", "es-419",
    "en-US"...): a hint for the gateway. Slash commands and button presses carry it; a message
    in her DMs does not (Discord sends no locale with messages), so those have none."""
    locale = getattr(interaction, "locale", None)
    return locale.value if isinstance(locale, discord.Locale) else None


async def send_replies(
    channel: discord.abc.Messageable, replies: list[Reply], sent: SentPieces | None = None
) -> None:
    """Replies in order; long ones split on sentences, buttons under the last piece. With
    `sent` (the delivery loop's), a reply that failed partway is taken up after the pieces
    already sent."""
    memory = sent or SentPieces()
    for reply in replies:
        text = reply.signed_text
        send_piece = functools.partial(_send_piece, channel, reply)
        await memory.send(
            str(getattr(channel, "id", "")), text, split_text(text) or ["\u200b"], send_piece
        )


async def _send_piece(
    channel: discord.abc.Messageable, reply: Reply, piece: str, last: bool
) -> None:
    view = buttons_view(reply.buttons) if last else None
    extra: dict[str, Any] = {}
    if view is not None:
        extra["view"] = view
    if last and reply.attachment is not None:
        extra["file"] = calendar_file(reply.attachment)  # a session's .ics, with its words
    await channel.send(piece, **extra)


def calendar_file(attachment: Attachment) -> discord.File:
    return discord.File(io.BytesIO(attachment.content.encode("utf-8")), attachment.filename)


async def answer_interaction(interaction: discord.Interaction[Any], replies: list[Reply]) -> None:
    """Answer a slash command or a button: only to her when in a server (ephemeral)."""
    private = interaction.guild is not None
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=private, thinking=True)
    for reply in replies:
        pieces = split_text(reply.text) or ["\u200b"]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            view = buttons_view(reply.buttons) if last else None
            extra: dict[str, Any] = {}
            if view is not None:
                extra["view"] = view
            if last and reply.attachment is not None:
                extra["file"] = calendar_file(reply.attachment)
            await interaction.followup.send(piece, ephemeral=private, **extra)


class PeerBot(commands.Bot):
    def __init__(self, settings: Settings, database: Database, gateway: Gateway) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        intents.guild_messages = True
        # Needed only to read what moderators write in case threads (a privileged intent).
        intents.message_content = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, help_command=None)
        self.settings = settings
        self.database = database
        self.gateway = gateway
        self.order = KeyedOrder()  # each channel's events in the order they came
        self.home = DiscordHome(self, database, settings)
        self._delivery: asyncio.Task[None] | None = None
        self._synced = False

    async def setup_hook(self) -> None:
        if self.settings.discord_api_base.rstrip("/") != DISCORD_API:
            # Elsewhere than Discord itself (a stand-in, a proxy): ask that API for its gateway.
            _, url, _ = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        if self.get_cog("MemberCog") is None:  # setup runs again after a failed start
            await self.add_cog(MemberCog(self))
            await self.add_cog(ModeratorThreads(self.home))
        # The slash commands, from the one command table (bots/commands.py), with their
        # descriptions in Spanish for Spanish locales.
        await self.tree.set_translator(SpanishDescriptions())
        for command in [
            *slash_commands(PRIVATE, self._private_slash),
            *slash_commands(MODERATORS, self.home.run_slash),
        ]:
            self.tree.add_command(command, override=True)
        self.tree.error(self._on_app_command_error)
        self._delivery = asyncio.create_task(self.home.delivery.run(), name="discord-delivery")

    async def on_ready(self) -> None:
        """Register the slash commands once connected (the application id comes with READY)."""
        if self._synced:
            return
        try:
            await self.tree.sync()
            self._synced = True
        except (discord.HTTPException, discord.ClientException) as error:
            log.warning("discord commands not synced", extra={"error": type(error).__name__})

    async def close(self) -> None:
        self.home.delivery.stop()
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
        await super().close()

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """One handler's failure never stops the bot; the log names the event, not the text."""
        log.exception("discord handler failed", extra={"component": event_method})

    async def _on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error("discord command failed", extra={"error": type(error).__name__})
        if not interaction.response.is_done():
            await interaction.response.send_message(
                "Something went wrong on my side, sorry. Please try again.", ephemeral=True
            )

    async def _private_slash(
        self, interaction: discord.Interaction[Any], command: Command, values: Values
    ) -> None:
        """A member's or researcher's slash command: the gateway answers its payload, only to
        her when used in a server."""
        rest = " ".join(str(value) for value in values.as_dict().values())
        inbound = InboundMessage(
            PLATFORM,
            str(interaction.user.id),
            payload_for(command, rest),
            language_hint=language_hint(interaction),
        )
        await interaction.response.defer(ephemeral=interaction.guild is not None, thinking=True)
        await answer_interaction(interaction, await self.answer(inbound))

    async def answer(self, inbound: InboundMessage) -> list[Reply]:
        replies = await self.gateway.handle(inbound)
        self.home.wake()  # a case or a message for moderators may have been written
        return replies


class MemberCog(commands.Cog):
    """What members see: DMs, buttons, slash commands; in servers, only when addressed."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return  # never answer itself or other bots
        # discord.py runs each event in its own task: her messages keep their order.
        async with self.bot.order.hold(message.channel.id):
            await self._on_message(message)

    async def _on_message(self, message: discord.Message) -> None:
        if isinstance(message.channel, discord.DMChannel):
            await self._direct_message(message)
        elif message.guild is not None and not self.bot.home.is_case_channel(message.channel):
            await self._watch(message)
            await self._server_message(message)

    @commands.Cog.listener()
    async def on_message_edit(self, before: discord.Message, after: discord.Message) -> None:
        if after.author.bot or before.content == after.content:
            return
        async with self.bot.order.hold(after.channel.id):
            await self._on_edit(after)

    async def _on_edit(self, after: discord.Message) -> None:
        if isinstance(after.channel, discord.DMChannel):
            # Screened again, like every edit on every platform (the gateway decides).
            inbound = InboundMessage(PLATFORM, str(after.author.id), after.content)
            replies = await self.bot.gateway.handle_edit(inbound)
            if replies:
                self.bot.home.wake()
                try:
                    await send_replies(after.channel, replies)
                except discord.Forbidden:
                    log.info("discord member closed her DMs")
        elif after.guild is not None and not self.bot.home.is_case_channel(after.channel):
            await self._watch(after)  # community posts: the conduct screen

    async def _watch(self, message: discord.Message) -> None:
        """Posts in community channels pass the conduct screen; one that seems to attack or
        shame someone is flagged to moderators. The bot says nothing about it."""
        if await self.bot.gateway.watch_community_post(
            PLATFORM, str(message.author.id), message.content
        ):
            self.bot.home.wake()

    async def _direct_message(self, message: discord.Message) -> None:
        kind = content_kind(message)
        user_id = str(message.author.id)
        inbound = (
            InboundMessage(PLATFORM, user_id, message.content)
            if kind is ContentKind.TEXT
            else InboundMessage(PLATFORM, user_id, kind=kind, caption=message.content)
        )
        replies = await self.bot.answer(inbound)
        try:
            await send_replies(message.channel, replies, self.bot.home.sent_pieces)
        except discord.Forbidden:
            log.info("discord member closed her DMs")
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            # Past discord.py's own retries: the outbox delivers it, retried until it is sent.
            log.warning("discord reply kept for later", extra={"error": type(error).__name__})
            await self.bot.gateway.keep_for_later(PLATFORM, user_id, replies)
            self.bot.home.wake()

    async def _server_message(self, message: discord.Message) -> None:
        """In a public channel the bot speaks only when mentioned, and never about anyone's
        situation: crisis numbers if the screen finds a crisis, and an invitation to DM."""
        me = self.bot.user
        if me is None or me not in message.mentions:
            return
        replies = self.bot.gateway.public_mention_replies(
            message.content, wording.private_chat_invitation_discord()
        )
        await send_replies(message.channel, replies)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id") or "")
        if interaction.type is not discord.InteractionType.component:
            return
        if custom_id.startswith(CASE_CALLBACK_PREFIX):
            await self.bot.home.on_case_button(interaction, custom_id)
        elif custom_id.startswith(SAY_PREFIX):
            payload = custom_id[len(SAY_PREFIX) :]
            user_id = str(interaction.user.id)
            hint = language_hint(interaction)
            inbound = InboundMessage(PLATFORM, user_id, payload, language_hint=hint)
            await interaction.response.defer()
            replies = await self.bot.answer(inbound)
            if interaction.guild is not None:
                await answer_interaction(interaction, replies)  # only to her, in a server
            elif interaction.channel_id is not None:
                channel = self.bot.get_partial_messageable(interaction.channel_id)
                await send_replies(channel, replies)


class DiscordAdapter:
    """Owns the bot's lifetime inside the app: start in the background, stop cleanly."""

    def __init__(self, settings: Settings, database: Database, gateway: Gateway) -> None:
        if settings.discord_token is None:
            raise ValueError("PEERBOT_DISCORD_TOKEN is not set")
        # discord.py has no per-client API root; one bot per process, so setting it is safe.
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
        self.token = settings.discord_token.get_secret_value()
        self.bot = PeerBot(settings, database, gateway)
        self._task: asyncio.Task[None] | None = None

    def launch(self) -> None:
        self._task = asyncio.create_task(self._run(), name="discord")

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.bot.start(self.token, reconnect=True)
                return
            except (discord.LoginFailure, discord.PrivilegedIntentsRequired) as error:
                log.error("discord refused the bot", extra={"error": type(error).__name__})
                return
            except Exception as error:  # unreachable, or failing: keep trying, say why
                log.warning(
                    "discord could not start; retrying", extra={"error": type(error).__name__}
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def stop(self) -> None:
        await self.bot.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
