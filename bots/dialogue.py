"""The dialogue client: the only code that talks to Rasa, over its REST channel.

A slow or absent Rasa never surfaces as an exception in the message path: `respond` raises
`DialogueUnavailable`, which the gateway turns into a useful fallback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from community.messages import Button, Reply
from community.resources import expand_resource_refs

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"
HANDOFF_MARKER = "handoff"


class DialogueUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with something unusable."""


@dataclass(frozen=True)
class DialogueResult:
    replies: tuple[Reply, ...]
    handoff_requested: bool
    # Other requests Rasa hands to the app (custom payload {"peerbot": ...}): "my_data",
    # "delete_request". The app, not Rasa, answers those.
    requests: frozenset[str] = frozenset()


def parse_rasa_messages(items: Any) -> DialogueResult:
    """Turn the REST channel's JSON list into replies; unknown parts are ignored, not fatal.
    Resource references ([[id]]) are filled in from the vetted directory."""
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
        replies.append(Reply(text=expand_resource_refs(text), buttons=buttons))
    return DialogueResult(tuple(replies), handoff, frozenset(requests))


class DialogueClient:
    """Sends a member's message (under her pseudonym) to Rasa and returns its replies."""

    def __init__(self, base_url: str, timeout_seconds: float, api_token: str = "") -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout_seconds))
        self._api_token = api_token

    async def forget(self, pseudonym: str) -> bool:
        """Wipe Rasa's memory of a conversation (its tracker's events), through Rasa's HTTP API
        (enabled with a token by `peerbot run`). Retried; False if Rasa could not be reached."""
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2), reraise=True
            ):
                with attempt:
                    response = await self._client.put(
                        f"/conversations/{pseudonym}/tracker/events",
                        params={"token": self._api_token},
                        json=[],
                    )
                    response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("rasa memory not wiped", extra={"error": type(error).__name__})
            return False
        return True

    async def respond(self, pseudonym: str, text: str) -> DialogueResult:
        try:
            response = await self._client.post(
                WEBHOOK_PATH, json={"sender": pseudonym, "message": text}
            )
            response.raise_for_status()
            return parse_rasa_messages(response.json())
        except (httpx.HTTPError, ValueError) as error:
            log.warning("rasa unavailable", extra={"error": type(error).__name__})
            raise DialogueUnavailable(type(error).__name__) from error

    async def is_up(self) -> bool:
        try:
            return (await self._client.get("/webhooks/rest/")).status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self._client.aclose()
