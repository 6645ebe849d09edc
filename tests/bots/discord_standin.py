"""A local stand-in for Discord: the HTTP API routes and the gateway (websocket) peerbot uses.

discord.py connects to it unchanged (only the API base URL differs): the stand-in says hello,
accepts IDENTIFY, sends READY and GUILD_CREATE (one guild with a moderators' channel and role),
answers heartbeats, and lets tests dispatch MESSAGE_CREATE and INTERACTION_CREATE events as
Discord would. Every HTTP call is recorded. It can answer a route with Discord's rate limit (429
with its headers and body, see `rate_limit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.bots.standin_util import wait_until

TOKEN = "discord-test-token.for-the.stand-in"
APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD_ID = "900000000000000010"
MOD_CHANNEL_ID = "900000000000000020"
MOD_ROLE_ID = "900000000000000030"
BOT_USER = {"id": BOT_ID, "username": "peerbot", "discriminator": "0", "global_name": "peerbot",
            "avatar": None, "bot": True}  # fmt: skip


def user(user_id: int, name: str = "Mom") -> dict[str, Any]:
    return {"id": str(user_id), "username": name.lower(), "discriminator": "0",
            "global_name": name, "avatar": None, "bot": False}  # fmt: skip


def member(roles: list[str]) -> dict[str, Any]:
    return {"roles": roles, "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    status: int = 200  # what the stand-in answered
    response_id: str = ""  # the id of the message it created, if any
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class RateLimit:
    """The next `times` calls of `method` on a path `path` accepts (with a JSON body `when`
    accepts) are answered 429."""

    method: str
    path: Callable[[str], bool]
    when: Callable[[Any], bool]
    times: int
    retry_after: float
    is_global: bool
    bucket: str

    def response(self) -> web.Response:
        """Discord's 429: the body discord.py reads (`retry_after`, `global`), the headers a
        client may read instead, and Discord's `Via` (without it discord.py takes the 429 for a
        Cloudflare ban and gives up at once)."""
        headers = {
            "Retry-After": str(max(1, round(self.retry_after))),
            "X-RateLimit-Scope": "global" if self.is_global else "user",
            "Via": "1.1 google",
        }
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update({
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                "X-RateLimit-Bucket": self.bucket,
            })  # fmt: skip
        body = {"message": "You are being rate limited.", "retry_after": self.retry_after,
                "global": self.is_global}  # fmt: skip
        return _json(body, 429, headers)


@dataclass
class DiscordStandIn:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    dm_closed: set[int] = field(default_factory=set)  # users whose DMs refuse the bot
    rate_limits: list[RateLimit] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(910000000000000000))
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    dm_channels: dict[str, str] = field(default_factory=dict)  # user id -> channel id

    def next_id(self) -> str:
        return str(next(self._ids))

    # -- what tests do -----------------------------------------------------------------------

    async def wait_ready(self, within: float = 15.0) -> None:
        await asyncio.wait_for(self._ready.wait(), within)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        payload = json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data})
        for socket in list(self._sockets):
            if not socket.closed:
                await socket.send_str(payload)

    def dm_channel_for(self, user_id: int) -> str:
        return self.dm_channels.setdefault(str(user_id), self.next_id())

    def rate_limit(
        self,
        method: str,
        path: str | Callable[[str], bool],
        times: int,
        retry_after: float = 0.5,
        is_global: bool = False,
        when: Callable[[Any], bool] = lambda body: True,
    ) -> None:
        """Answer the next `times` calls of `method` on `path` (a path under /api/v10, or a
        predicate on it) whose JSON body `when` accepts with Discord's 429; `is_global` makes it
        the bot-wide limit."""
        accepts = path if callable(path) else path.__eq__
        bucket = f"bucket{len(self.rate_limits)}"
        self.rate_limits.append(
            RateLimit(method, accepts, when, times, retry_after, is_global, bucket)
        )

    async def dm(self, user_id: int, content: str = "", **extra: Any) -> None:
        await self.dispatch(
            "MESSAGE_CREATE",
            {"id": self.next_id(), "channel_id": self.dm_channel_for(user_id),
             "author": user(user_id), "content": content, "timestamp": now_iso(),
             "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
             "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
             "flags": 0, **extra},
        )  # fmt: skip

    async def edit_dm(self, user_id: int, message_id: str, content: str) -> None:
        """She edits a message she sent in her DMs (the gateway screens edits again)."""
        await self.dispatch(
            "MESSAGE_UPDATE",
            {"id": message_id, "channel_id": self.dm_channel_for(user_id),
             "author": user(user_id), "content": content, "timestamp": now_iso(),
             "edited_timestamp": now_iso(), "tts": False, "mention_everyone": False,
             "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
             "pinned": False, "type": 0, "flags": 0},
        )  # fmt: skip

    async def thread_message(
        self, user_id: int, thread_id: str, content: str, roles: list[str], name: str = "Ana"
    ) -> None:
        await self.dispatch(
            "MESSAGE_CREATE",
            {"id": self.next_id(), "channel_id": thread_id, "guild_id": GUILD_ID,
             "author": user(user_id, name),
             "member": member(roles),
             "content": content, "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
             "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
             "embeds": [], "pinned": False, "type": 0, "flags": 0},
        )  # fmt: skip

    async def click(
        self,
        user_id: int,
        custom_id: str,
        channel_id: str,
        roles: list[str] | None = None,
        locale: str = "en-US",
    ) -> str:
        """A button press; in the guild when `roles` is given, else in her DMs. `locale` is
        her Discord app's language, as Discord sends it with every interaction."""
        interaction_id, token = self.next_id(), f"tok{self.next_id()}"
        message = {"id": self.next_id(), "channel_id": channel_id, "author": BOT_USER,
                   "content": "(buttons)", "timestamp": now_iso(), "edited_timestamp": None,
                   "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
                   "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
                   "components": []}  # fmt: skip
        data: dict[str, Any] = {
            "id": interaction_id, "application_id": APP_ID, "type": 3, "token": token,
            "version": 1, "channel_id": channel_id, "locale": locale, "message": message,
            "data": {"custom_id": custom_id, "component_type": 2},
            "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
            "attachment_size_limit": 8388608,
        }  # fmt: skip
        data["channel"] = self._channel_object(channel_id, in_guild=roles is not None)
        if roles is not None:
            data["guild_id"] = GUILD_ID
            data["guild_locale"] = "en-US"
            data["member"] = {"user": user(user_id, "Ana"), **member(roles), "permissions": "0"}
            message["guild_id"] = GUILD_ID
        else:
            data["user"] = user(user_id)
            data["context"] = 1
        await self.dispatch("INTERACTION_CREATE", data)
        return token

    async def slash(
        self, user_id: int, name: str, channel_id: str, options: dict[str, str] | None = None,
        roles: list[str] | None = None, locale: str = "en-US",
    ) -> str:  # fmt: skip
        token = f"tok{self.next_id()}"
        data: dict[str, Any] = {
            "id": self.next_id(), "application_id": APP_ID, "type": 2, "token": token,
            "version": 1, "channel_id": channel_id, "locale": locale,
            "data": {"id": self.next_id(), "name": name, "type": 1,
                     "options": [self._option(name, k, v) for k, v in (options or {}).items()]},
            "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
            "attachment_size_limit": 8388608,
        }  # fmt: skip
        data["channel"] = self._channel_object(channel_id, in_guild=roles is not None)
        if roles is not None:
            data.update(guild_id=GUILD_ID, guild_locale="en-US")
            data["member"] = {"user": user(user_id, "Ana"), **member(roles), "permissions": "0"}
        else:
            data["user"] = user(user_id)
            data["context"] = 1
        await self.dispatch("INTERACTION_CREATE", data)
        return token

    def _option(self, command: str, name: str, value: str) -> dict[str, Any]:
        """An option as Discord sends it: typed as the bot registered it (4 is an integer)."""
        registered = [
            o for c in self.calls if c.path.endswith("/commands")
            for cmd in (c.body or []) if cmd["name"] == command  # type: ignore[union-attr]
            for o in cmd.get("options", []) if o["name"] == name
        ]  # fmt: skip
        if registered and registered[-1]["type"] == 4 and value.lstrip("-").isdigit():
            return {"name": name, "type": 4, "value": int(value)}
        return {"name": name, "type": 3, "value": value}

    def _channel_object(self, channel_id: str, in_guild: bool) -> dict[str, Any]:
        if not in_guild:
            return {"id": channel_id, "type": 1, "recipients": [], "last_message_id": None}
        thread = channel_id != MOD_CHANNEL_ID
        channel: dict[str, Any] = {
            "id": channel_id, "type": 11 if thread else 0, "guild_id": GUILD_ID,
            "name": "case" if thread else "moderators", "position": 0,
            "parent_id": MOD_CHANNEL_ID if thread else None, "permission_overwrites": [],
            "nsfw": False, "flags": 0, "rate_limit_per_user": 0,
        }  # fmt: skip
        if thread:
            channel.update(
                thread_metadata={"archived": False, "auto_archive_duration": 1440,
                                 "archive_timestamp": now_iso(), "locked": False},
                owner_id=BOT_ID, message_count=0, member_count=1,
            )  # fmt: skip
        return channel

    # -- what tests read ---------------------------------------------------------------------

    def posted(self, channel_id: str) -> list[dict[str, Any]]:
        path = f"/channels/{channel_id}/messages"
        return [c.body for c in self.calls if c.method == "POST" and c.path == path]

    def texts_in(self, channel_id: str) -> list[str]:
        return [str(b.get("content") or "") for b in self.posted(channel_id)]

    def delivered(self, channel_id: str) -> list[Call]:
        """Messages Discord accepted in the channel (a refused one reached nobody)."""
        path = f"/channels/{channel_id}/messages"
        return [c for c in self.calls if c.method == "POST" and c.path == path and c.status == 200]

    def delivered_texts(self, channel_id: str) -> list[str]:
        return [str(c.body.get("content") or "") for c in self.delivered(channel_id)]

    def limited(self) -> list[Call]:
        """The calls answered with 429."""
        return [c for c in self.calls if c.status == 429]

    def interaction_replies(self, token: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if token in c.path.split("/")]

    def threads(self) -> list[Call]:
        """Threads started in the moderators' channel, from a message or without one."""
        prefix = f"/channels/{MOD_CHANNEL_ID}/"
        return [
            c
            for c in self.calls
            if c.method == "POST" and c.path.startswith(prefix) and c.path.endswith("/threads")
        ]

    def alerts(self) -> list[dict[str, Any]]:
        """Messages in the moderators' channel that a thread was started from."""
        started = {c.path.split("/")[4] for c in self.threads() if c.path.count("/") == 5}
        posted = [
            (c.body, c.response_id)
            for c in self.calls
            if c.method == "POST" and c.path == f"/channels/{MOD_CHANNEL_ID}/messages"
        ]
        return [body for body, message_id in posted if message_id in started]

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        await wait_until(
            predicate, within, lambda: f"calls: {[(c.method, c.path) for c in self.calls]}"
        )

    # -- the HTTP API ------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: dict[str, Any] = {}
        if request.can_read_body:
            if request.content_type.startswith("multipart"):
                reader = await request.multipart()
                files: list[dict[str, str]] = []
                async for part in reader:
                    if part.name == "payload_json":
                        body = json.loads(await part.text())
                    elif getattr(part, "filename", None):
                        # An uploaded file (a session's .ics): kept as the API received it.
                        content = (await part.read()).decode()  # type: ignore[union-attr]
                        files.append({"filename": str(part.filename), "content": content})
                if files:
                    body["_files"] = files
            else:
                with contextlib.suppress(ValueError):
                    body = await request.json()
        call = Call(request.method, path, body)
        self.calls.append(call)
        for limit in self.rate_limits:
            matches = limit.method == request.method and limit.path(path) and limit.when(body)
            if limit.times > 0 and matches:
                limit.times -= 1
                call.status = 429
                return limit.response()
        result = self._answer(request.method, path, body)
        if isinstance(result, web.Response):
            call.status = result.status
            return result
        if isinstance(result, dict):
            call.response_id = str(result.get("id") or "")
        return _json(result)

    def _answer(self, method: str, path: str, body: dict[str, Any]) -> Any:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return BOT_USER
        if path == "/oauth2/applications/@me":
            return {"id": APP_ID, "name": "peerbot", "description": "", "icon": None,
                    "bot_public": False, "bot_require_code_grant": False,
                    "owner": user(1, "Owner"), "verify_key": "k", "flags": 0}  # fmt: skip
        if path == "/gateway/bot":
            return {"url": self.url.replace("http", "ws") + "/gateway", "shards": 1,
                    "session_start_limit": {"total": 1000, "remaining": 1000,
                                            "reset_after": 0, "max_concurrency": 1}}  # fmt: skip
        if path == "/users/@me/channels":
            recipient = str(body["recipient_id"])
            return {"id": self.dm_channel_for(int(recipient)), "type": 1,
                    "recipients": [user(int(recipient))], "last_message_id": None}  # fmt: skip
        if parts[0] == "users" and len(parts) == 2:
            return user(int(parts[1]))
        if parts[0] == "applications" and parts[-1] == "commands":
            return [{**c, "id": self.next_id(), "application_id": APP_ID, "version": "1",
                     "default_member_permissions": None} for c in body or []]  # fmt: skip
        if parts[0] == "interactions":  # the callback, asked "with_response" as discord.py does
            flags = (body.get("data") or {}).get("flags") or 0
            return {"interaction": {"id": parts[1], "type": 3,
                                    "response_message_loading": body.get("type") == 5,
                                    "response_message_ephemeral": bool(flags & 64)}}  # fmt: skip
        if parts[0] == "webhooks":  # follow-ups and edits of interaction responses
            return self._message(parts[1], body)
        if parts[0] == "channels" and parts[-1] == "threads" and method == "POST":
            # Started from a message, a thread takes that message's id, as on Discord.
            thread_id = parts[3] if len(parts) == 5 else self.next_id()
            return {"id": thread_id, "type": body.get("type", 11), "guild_id": GUILD_ID,
                    "parent_id": parts[1], "name": body.get("name", ""), "owner_id": BOT_ID,
                    "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                        "archive_timestamp": now_iso(), "locked": False},
                    "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
                    "flags": 0}  # fmt: skip
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            channel_id = parts[1]
            if any(
                channel_id == c for u, c in self.dm_channels.items() if int(u) in self.dm_closed
            ):
                return _json({"code": 50007, "message": "Cannot send messages to this user"}, 403)
            return self._message(channel_id, body)
        if parts[0] == "channels" and len(parts) == 4 and method == "PATCH":
            return self._message(parts[1], body)
        return {}

    def _message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.next_id(), "channel_id": channel_id, "author": BOT_USER,
                "content": body.get("content") or "", "timestamp": now_iso(),
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                "pinned": False, "type": 0, "flags": 0,
                "components": body.get("components") or []}  # fmt: skip

    # -- the gateway -------------------------------------------------------------------------

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 40000}}))
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 1:  # heartbeat
                await socket.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:  # identify
                await self._ready_sequence(socket)
        return socket

    async def _ready_sequence(self, socket: web.WebSocketResponse) -> None:
        ready = {"v": 10, "user": BOT_USER, "guilds": [{"id": GUILD_ID, "unavailable": True}],
                 "session_id": "s1", "resume_gateway_url": self.url.replace("http", "ws")
                 + "/gateway", "application": {"id": APP_ID, "flags": 0},
                 "private_channels": [], "relationships": [], "shard": [0, 1]}  # fmt: skip
        await socket.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        everyone = {"id": GUILD_ID, "name": "@everyone", "permissions": "0", "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False,
                    "flags": 0}  # fmt: skip
        guild = {
            "id": GUILD_ID, "name": "Community", "unavailable": False, "owner_id": "1",
            "roles": [everyone, {**everyone, "id": MOD_ROLE_ID, "name": "Moderators",
                                 "position": 1}],
            "channels": [{"id": MOD_CHANNEL_ID, "type": 0, "name": "moderators",
                          "guild_id": GUILD_ID, "position": 0, "permission_overwrites": [],
                          "nsfw": False, "parent_id": None, "rate_limit_per_user": 0,
                          "topic": None, "last_message_id": None, "flags": 0}],
            "members": [{"user": BOT_USER, "roles": [], "joined_at": now_iso(),
                         "deaf": False, "mute": False, "flags": 0}],
            "threads": [], "member_count": 3, "emojis": [], "stickers": [], "features": [],
            "large": False, "joined_at": now_iso(), "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "premium_tier": 0, "verification_level": 0, "explicit_content_filter": 0,
            "default_message_notifications": 0, "mfa_level": 0, "system_channel_flags": 0,
            "preferred_locale": "en-US", "nsfw_level": 0, "afk_timeout": 300,
        }  # fmt: skip
        await socket.send_str(
            json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild})
        )
        self._ready.set()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py compares the header verbatim.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@asynccontextmanager
async def discord_standin() -> AsyncIterator[DiscordStandIn]:
    state = DiscordStandIn()
    app = web.Application()
    app.router.add_get("/gateway", state.gateway)
    app.router.add_route("*", "/api/v10/{tail:.*}", state.api)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        for socket in state._sockets:
            await socket.close()
        await runner.cleanup()
