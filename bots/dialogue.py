"""The dialogue client: the only code that talks to Rasa, over its REST channel.

A slow or absent Rasa never surfaces as an exception in the message path: `respond` raises
`DialogueUnavailable`, which the gateway turns into a useful fallback.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from community.messages import Button, Reply
from community.resources import expand_resource_refs

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"
HANDOFF_MARKER = "handoff"
# A reply that answers nothing yet: "say it another way", "did you mean?", "I can't help with that".
UNSURE_MARKER = "unsure"
DOWN_SECONDS = 30.0  # how long a Rasa server that refused a connection is tried last


class DialogueUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with something unusable."""


@dataclass(frozen=True)
class DialogueResult:
    replies: tuple[Reply, ...]
    handoff_requested: bool
    # Other requests Rasa hands to the app (custom payload {"peerbot": ...}): "my_data",
    # "delete_request". The app, not Rasa, answers those.
    requests: frozenset[str] = frozenset()

    @property
    def unsure(self) -> bool:
        """Rasa answered nothing yet (a response marked `peerbot: unsure`)."""
        return UNSURE_MARKER in self.requests


def parse_rasa_messages(items: Any, language: str = "en") -> DialogueResult:
    """Turn the REST channel's JSON list into replies; unknown parts are ignored, not fatal.
    Resource references ([[id]]) are filled in from the vetted directory, in `language` (the
    language Rasa was asked to answer in)."""
    if not isinstance(items, list):
        raise DialogueUnavailable("unexpected response shape")
    replies: list[Reply] = []
    handoff = False
    requests: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("peerbot"), str):
            if custom["peerbot"] == HANDOFF_MARKER:
                handoff = True
            else:
                requests.add(custom["peerbot"])
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        buttons = tuple(
            Button(title=str(b["title"]), payload=str(b["payload"]))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and "title" in b and "payload" in b
        )
        # Responses name resources as [[id]]; the numbers come from the vetted directory.
        replies.append(
            Reply(
                text=expand_resource_refs(text, language=language),
                buttons=buttons,
                language=language,
            )
        )
    return DialogueResult(tuple(replies), handoff, frozenset(requests))


@dataclass(frozen=True)
class Reading:
    """The intent Rasa read in a message and the best other intents, nearest first."""

    intent: str
    nearest: tuple[str, ...]


NEAREST_TOPICS = 2
FALLBACK_INTENT = "nlu_fallback"


def reading_of(latest: Any) -> Reading | None:
    """The intent and nearest topics from a tracker's `latest_message`; None if it has none."""
    if not isinstance(latest, dict):
        return None
    intent = (latest.get("intent") or {}).get("name")
    if not isinstance(intent, str) or not intent:
        return None
    ranking = latest.get("intent_ranking") or []
    nearest = tuple(
        str(item["name"])
        for item in ranking
        if isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and item["name"] != FALLBACK_INTENT
    )[:NEAREST_TOPICS]
    return Reading(intent, nearest)


class StoredTrackers:
    """Rasa's conversations kept in Redis (`PEERBOT_RASA_TRACKER_STORE=redis`). Forgetting one
    means deleting its key: Rasa's API merges a replaced conversation into the stored one
    rather than replacing it."""

    def __init__(self, redis_url: str, key_prefix: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(redis_url, socket_timeout=5)
        self._prefix = f"{key_prefix}:tracker:"  # Rasa's own key shape for a conversation

    async def forget(self, pseudonym: str) -> bool:
        try:
            await self._redis.delete(self._prefix + pseudonym)
        except Exception as error:  # Redis away: the retention job tries again
            log.warning("rasa memory not wiped in redis", extra={"error": type(error).__name__})
            return False
        return True

    async def aclose(self) -> None:
        await self._redis.aclose()


@dataclass
class _Server:
    client: httpx.AsyncClient
    down_until: float = 0.0  # monotonic time; skipped until then after it refused a connection


class DialogueClient:
    """Sends a member's message (under her pseudonym) to Rasa and returns its replies.

    With several Rasa servers (`PEERBOT_RASA_URLS`), each conversation goes to the same one,
    chosen from her pseudonym, so a server's memory of it is used; a server that refuses
    connections is skipped for `DOWN_SECONDS` and her message goes to the next one at once.
    """

    def __init__(
        self,
        base_urls: str | Sequence[str],
        timeout_seconds: float,
        api_token: str = "",
        stored: StoredTrackers | None = None,
    ) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not urls:
            raise ValueError("at least one Rasa server is needed")
        self._servers = [
            _Server(httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(timeout_seconds)))
            for url in urls
        ]
        self._api_token = api_token
        self._stored = stored

    def _order(self, pseudonym: str) -> list[_Server]:
        """Her server first, then the others; those known to be down go last."""
        first = int(hashlib.sha256(pseudonym.encode()).hexdigest()[:8], 16) % len(self._servers)
        turn = self._servers[first:] + self._servers[:first]
        now = time.monotonic()
        return [s for s in turn if s.down_until <= now] + [s for s in turn if s.down_until > now]

    async def forget(self, pseudonym: str) -> bool:
        """Wipe Rasa's memory of a conversation (its tracker's events) on every server (it may
        have moved between them), through Rasa's HTTP API (enabled with a token by
        `peerbot run`), and in Redis when Rasa keeps it there. Retried; False if a server or
        the store could not be reached."""
        wiped = [await self._forget_on(server, pseudonym) for server in self._servers]
        if self._stored is not None:
            wiped.append(await self._stored.forget(pseudonym))
        return all(wiped)

    async def _forget_on(self, server: _Server, pseudonym: str) -> bool:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2), reraise=True
            ):
                with attempt:
                    response = await server.client.put(
                        f"/conversations/{pseudonym}/tracker/events",
                        params={"token": self._api_token},
                        json=[],
                    )
                    response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("rasa memory not wiped", extra={"error": type(error).__name__})
            return False
        return True

    async def respond(self, pseudonym: str, text: str, language: str = "en") -> DialogueResult:
        """Rasa's answer, in `language` (sent as the message's metadata; see
        actions/language.py)."""
        last_error: Exception | None = None
        for server in self._order(pseudonym):
            try:
                response = await server.client.post(
                    WEBHOOK_PATH,
                    json={
                        "sender": pseudonym,
                        "message": text,
                        "metadata": {"language": language},
                    },
                )
                response.raise_for_status()
                return parse_rasa_messages(response.json(), language)
            except httpx.ConnectError as error:
                # Nothing listens there (stopped, restarting): the next server, without waiting.
                server.down_until = time.monotonic() + DOWN_SECONDS
                last_error = error
            except (httpx.HTTPError, ValueError) as error:
                last_error = error
                break  # slow or broken: the gateway's fallback, not another wait
        name = type(last_error).__name__
        log.warning("rasa unavailable", extra={"error": name})
        raise DialogueUnavailable(name) from last_error

    async def read_intent(self, pseudonym: str) -> Reading | None:
        """What Rasa read in her latest message: its intent, and the topics it was nearest to
        (for insights, #22). Asked of her server through Rasa's HTTP API (the tracker without
        its events: no text comes back but her latest message, which is not kept). None when
        it cannot be read."""
        server = self._order(pseudonym)[0]
        try:
            response = await server.client.get(
                f"/conversations/{pseudonym}/tracker",
                params={"token": self._api_token, "include_events": "NONE"},
            )
            response.raise_for_status()
            latest = response.json().get("latest_message") or {}
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            log.debug("rasa reading unavailable", extra={"error": type(error).__name__})
            return None
        return reading_of(latest)

    async def is_up(self) -> bool:
        """Whether any Rasa server answers."""
        for server in self._servers:
            try:
                if (await server.client.get("/webhooks/rest/")).status_code == 200:
                    return True
            except httpx.HTTPError:
                continue
        return False

    async def aclose(self) -> None:
        for server in self._servers:
            await server.client.aclose()
        if self._stored is not None:
            await self._stored.aclose()
