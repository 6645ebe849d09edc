"""Running the real bot app (its lifespan starts the platform adapters) against stand-ins, for
the Telegram and Discord tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from fastapi import FastAPI

from community.messages import InboundMessage, Reply
from community.settings import Settings
from peerbot.app import create_app
from tests.bots.rasa_standin import RasaStandIn, rasa_standin

CRISIS = "i want to kill myself tonight"
FAQ_REPLY = [
    {
        "recipient_id": "x",
        "text": "Naloxone (Narcan) reverses an opioid overdose.",
        "buttons": [
            {"title": "Fentanyl test strips", "payload": "/faq_test_strips"},
            {"title": "Talk to a person", "payload": "/request_human"},
        ],
    }
]


@contextmanager
def faq_rasa() -> Iterator[RasaStandIn]:
    """A Rasa stand-in that answers every message with a FAQ with two buttons."""
    with rasa_standin() as server:
        server.reply = FAQ_REPLY
        yield server


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[FastAPI]:
    """The bot app with its lifespan; Discord's API root (process-wide) is put back after."""
    import discord

    original = discord.http.Route.BASE
    app = create_app(settings, run_scheduler=False)
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        discord.http.Route.BASE = original


def heard_by_gateway(app: FastAPI) -> list[InboundMessage]:
    """Every message an adapter hands the running app's gateway, as handed (what a platform
    adapter fills in, such as her language hint). The gateway still answers each as always:
    this only keeps a copy of its argument."""
    gateway = app.state.services.gateway
    heard: list[InboundMessage] = []
    handle, handle_edit = gateway.handle, gateway.handle_edit

    async def handled(message: InboundMessage) -> list[Reply]:
        heard.append(message)
        replies: list[Reply] = await handle(message)
        return replies

    async def edited(message: InboundMessage) -> list[Reply]:
        heard.append(message)
        replies: list[Reply] = await handle_edit(message)
        return replies

    gateway.handle, gateway.handle_edit = handled, edited
    return heard
