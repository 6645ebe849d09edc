"""The moderators' home on Discord: a private channel, one thread per case, acting by role.

Delivery (the outbox to mothers on Discord, case cards, her messages into the thread) is the
shared `community.delivery.Delivery`; this module supplies Discord's sends, the case buttons,
what moderators write in a case thread, and who may run the moderators' slash commands.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord.ext import commands

from bots import wording
from bots.command_grammar import Command, ModeratorCall, Place, Values
from bots.commands import act_in_case_thread, run
from bots.discord.render import MESSAGE_LIMIT, split_text
from bots.moderating import (
    button_outcome,
    case_button_id,
    parse_case_button,
    press_case_button,
)
from community.cases.handoff import CaseConflict, CaseNotFound
from community.cases.shifts import on_shift
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

if TYPE_CHECKING:
    from bots.discord.adapter import PeerBot

log = logging.getLogger(__name__)

HOME = "discord"
ALERTS_REMEMBERED = 100


ACCOUNT_PREFIX = "discord:"  # a moderator's key in the case records: discord:<account id>


def moderator_identity(user: discord.abc.User) -> tuple[str, str]:
    """(who in the case record, the name she sees): the account, and its display name."""
    return f"{ACCOUNT_PREFIX}{user.id}", user.display_name[:40]


def _shortened(text: str, limit: int) -> str:
    """The alert carries the card's start; the whole card is the thread's first message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def case_view(case_id: int, claimed: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    buttons = (
        [("Resolve", "resolve", discord.ButtonStyle.success),
         ("Return to bot", "return", discord.ButtonStyle.secondary)]
        if claimed
        else [("Claim", "claim", discord.ButtonStyle.primary)]
    )  # fmt: skip
    for label, action, style in buttons:
        view.add_item(
            discord.ui.Button(label=label, custom_id=case_button_id(action, case_id), style=style)
        )
    return view


class DiscordHome:
    """Discord's sender for the delivery path, and the moderators' side of the Discord bot."""

    platform = HOME
    home = HOME

    def __init__(self, bot: PeerBot, database: Database, settings: Settings) -> None:
        self.database = database
        self.announces_cases = settings.discord_moderator_channel_id is not None
        self.delivery = Delivery(database, self, settings.research_timezone)
        self.sent_pieces = SentPieces()  # a split message that failed partway goes on from here
        self.bot = bot
        self.channel_id = settings.discord_moderator_channel_id
        self.role_id = settings.discord_moderator_role_id
        self.community_channel_id = settings.discord_community_channel_id
        self.plans = keys_from_settings(settings)  # for /plan, when she shared it
        self.max_open_cases = settings.max_open_cases_per_moderator
        self.timezone = settings.research_timezone  # where "today" is, for /shifts
        self._case_threads: set[int] = set()
        self._alerts: dict[str, int] = {}  # thread name -> its alert, thread not started yet

    # -- who may act -----------------------------------------------------------------------

    def is_moderator(self, user: discord.abc.User) -> bool:
        """Members with the moderators' role; with no role configured, anyone who can see the
        moderators' (private) channel, which is everyone acting from inside it."""
        if not isinstance(user, discord.Member):
            return False
        if self.role_id is None:
            return True
        return user.get_role(self.role_id) is not None

    def is_case_channel(self, channel: Any) -> bool:
        parent = getattr(channel, "parent_id", None)
        return bool(
            channel.id == self.channel_id
            or channel.id in self._case_threads
            or (self.channel_id is not None and parent == self.channel_id)
        )

    def wake(self) -> None:
        """Something for Discord was written: deliver it now rather than within a second."""
        self.delivery.wake()

    # -- the sends the delivery path needs -------------------------------------------------

    async def send_to_member(self, address: str, reply: Reply) -> None:
        from bots.discord.adapter import send_replies

        try:
            user = self.bot.get_user(int(address)) or await self.bot.fetch_user(int(address))
            await send_replies(await user.create_dm(), [reply], self.sent_pieces)
        except (discord.Forbidden, discord.NotFound) as error:
            raise MemberUnreachable from error
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            raise TransientSendError from error

    async def open_thread(self, name: str, card: str) -> str:
        """An alert in the moderators' channel itself, mentioning their role (and nobody else),
        with the case's thread started from it: a thread started without a message shows
        nothing in the channel and pings no one. A retry after the alert went out but the
        thread did not starts the thread from the same alert."""
        if self.channel_id is None:
            return ""
        try:
            channel = self.bot.get_channel(self.channel_id) or await self.bot.fetch_channel(
                self.channel_id
            )
            if not isinstance(channel, discord.TextChannel):
                log.warning("discord moderators' channel is not a text channel")
                return ""
            alert_id = self._alerts.pop(name, None)
            if alert_id is None:
                # Read (and the session closed) before the send: no transaction is open then.
                alert = await channel.send(**self._alert(card, await self._on_shift_here()))
                alert_id = alert.id
            try:
                thread = await channel.get_partial_message(alert_id).create_thread(
                    name=name[:100],
                    auto_archive_duration=1440,  # a day without activity
                )
            except BaseException:
                if len(self._alerts) >= ALERTS_REMEMBERED:
                    self._alerts.clear()
                self._alerts[name] = alert_id
                raise
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            raise TransientSendError from error
        self._case_threads.add(thread.id)
        return str(thread.id)

    async def _on_shift_here(self) -> list[int]:
        """The Discord accounts of the moderators on shift (#22), pinged first on a new case."""
        async with self.database.sessions() as session:
            shifts = await on_shift(session)
        return [
            int(s.moderator.removeprefix(ACCOUNT_PREFIX))
            for s in shifts
            if s.moderator.startswith(ACCOUNT_PREFIX)
            and s.moderator.removeprefix(ACCOUNT_PREFIX).isdigit()
        ]

    def _alert(self, card: str, on_shift: list[int] | None = None) -> dict[str, Any]:
        """The channel alert: those on shift and the role's mention first, allowed to ping
        them alone (with nobody on shift here, the role alone)."""
        users = [discord.Object(user) for user in on_shift or []]
        pings = "".join(f"<@{user}> " for user in on_shift or [])
        if self.role_id is None and not users:
            return {
                "content": _shortened(card, MESSAGE_LIMIT),
                "allowed_mentions": discord.AllowedMentions.none(),
            }
        role = f"<@&{self.role_id}> " if self.role_id is not None else ""
        mention = role + pings
        return {
            "content": mention + _shortened(card, MESSAGE_LIMIT - len(mention)),
            "allowed_mentions": discord.AllowedMentions(
                everyone=False,
                users=users or False,
                roles=[discord.Object(self.role_id)] if self.role_id is not None else False,
            ),
        }

    def _target(self, thread_id: str) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(int(thread_id or self.channel_id or 0))

    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        await self._send(thread_id, text, case_view(case_id, claimed))

    async def post_in_thread(self, thread_id: str, text: str) -> None:
        await self._send(thread_id, text, None)

    async def post_to_community(self, text: str) -> None:
        if self.community_channel_id is None:
            return
        channel = self.bot.get_partial_messageable(self.community_channel_id)

        async def send_piece(piece: str, last: bool) -> None:
            await channel.send(piece)

        try:
            await self.sent_pieces.send(str(channel.id), text, split_text(text), send_piece)
        except discord.NotFound:
            log.warning("discord community channel not found")
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            raise TransientSendError from error

    async def _send(self, thread_id: str, text: str, view: discord.ui.View | None) -> None:
        async def send_piece(piece: str, last: bool) -> None:
            if view is not None and last:
                await self._target(thread_id).send(piece, view=view)
            else:
                await self._target(thread_id).send(piece)

        try:
            await self.sent_pieces.send(thread_id, text, split_text(text), send_piece)
        except discord.NotFound as error:
            if thread_id:
                raise ThreadGone from error
            log.warning("discord moderators' channel not found")
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            raise TransientSendError from error

    # -- moderators' actions ---------------------------------------------------------------

    async def on_case_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        if not self.is_moderator(interaction.user):
            await interaction.response.send_message(wording.staff_only(), ephemeral=True)
            return
        parsed = parse_case_button(custom_id)
        if parsed is None:
            await interaction.response.defer()
            return
        action, case_id = parsed
        moderator, display = moderator_identity(interaction.user)
        try:
            await press_case_button(
                self.database, action, case_id, moderator, display, self.max_open_cases
            )
        except (CaseConflict, CaseNotFound) as error:
            await interaction.response.send_message(
                str(error) or "That case is gone.", ephemeral=True
            )
            return
        self.wake()
        view = case_view(case_id, claimed=True) if action == "claim" else None
        await interaction.response.edit_message(view=view)
        await interaction.followup.send(button_outcome(action, display))

    async def on_thread_message(self, message: discord.Message) -> None:
        if message.author.bot or not message.content:
            return
        # A moderator's replies reach her in the order she wrote them.
        async with self.bot.order.hold(message.channel.id):
            await self._thread_message(message)

    async def _thread_message(self, message: discord.Message) -> None:
        async with self.database.transaction() as session:
            case_id = await case_for_thread(session, HOME, str(message.channel.id))
        if case_id is None:
            return
        if not self.is_moderator(message.author):
            await self._refuse_in_private(message.author)
            return
        moderator, display = moderator_identity(message.author)
        call = ModeratorCall(self.database, moderator, display, case_id, self.plans, self.timezone)
        for piece in split_text(await act_in_case_thread(call, message.content)):
            await message.channel.send(piece)
        self.wake()

    async def _refuse_in_private(self, user: discord.User | discord.Member) -> None:
        """Someone without the moderators' role wrote in a case thread: nothing reaches her,
        and they are told so directly (a plain message cannot be answered for one person's
        eyes only in the thread)."""
        log.info("case thread message refused: not a moderator")
        try:
            await user.send(wording.staff_only_in_thread())
        except (discord.HTTPException, aiohttp.ClientError, OSError):
            log.info("refusal could not be sent: their DMs are closed")

    async def run_slash(
        self, interaction: discord.Interaction[Any], command: Command, values: Values
    ) -> None:
        """A moderators' slash command: only moderators, only from the moderators' channel or
        its threads (with no role configured, being there is what makes one a moderator), a
        case's own commands only in its thread. Answers go only to the one who asked."""
        channel = interaction.channel
        in_home = channel is not None and self.is_case_channel(channel)
        if not in_home or not self.is_moderator(interaction.user):
            await interaction.response.send_message(wording.staff_only(), ephemeral=True)
            return
        case_id = None
        if command.place is Place.CASE:
            async with self.database.transaction() as session:
                case_id = await case_for_thread(session, HOME, str(interaction.channel_id or ""))
        moderator, display = moderator_identity(interaction.user)
        call = ModeratorCall(self.database, moderator, display, case_id, self.plans, self.timezone)
        answer = await run(call, command, values)
        self.wake()
        pieces = split_text(answer) or ["Sent to her."]
        await interaction.response.send_message(pieces[0], ephemeral=True)
        for piece in pieces[1:]:
            await interaction.followup.send(piece, ephemeral=True)


class ModeratorThreads(commands.Cog):
    """What moderators write in a case thread (their slash commands are built from the table
    in `bots/commands.py`, see `bots/discord/slash.py`)."""

    def __init__(self, home: DiscordHome) -> None:
        self.home = home

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None and self.home.is_case_channel(message.channel):
            await self.home.on_thread_message(message)
