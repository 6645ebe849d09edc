"""The bot app's HTTP side: the web chat adapter, its page, and the health check.

The three chat routes are a stable contract (documented in the README):
  POST /api/chat                      a member's message in, the bot's replies out
  GET  /api/chat/{user}/messages      messages that arrived later (a moderator's, a scheduled one)
  GET  /api/chat/{user}/events        server-sent events: a later message is waiting, a case's state
  GET  /healthz                       200 while the app is up; the body says which parts are up
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy import func, select, text
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from bots import wording
from bots.dialogue import DialogueClient
from bots.gateway import Gateway
from bots.member_language import hint_language
from bots.web.commands import build_commands_router
from bots.web.conduct import build_conduct_router
from bots.web.contact_links import contact_links
from bots.web.errors import http_error, server_error, validation_error
from bots.web.insights import build_insights_router
from bots.web.moderation import build_router
from bots.web.mothers101 import build_mothers101_router
from bots.web.page_words import page_language, preferred_language_tag, render_chat_page
from bots.web.research import build_research_router
from bots.web.sessions import build_sessions_router
from bots.web.shifts import build_shifts_router
from community.crisis_journal import CrisisJournal
from community.db import Database
from community.flood_guard import FloodGuard
from community.members import pseudonym_for
from community.messages import Attachment, InboundMessage, Reply
from community.models import OPEN_CASE_STATUSES, Case, Member, OutboxMessage, utcnow
from community.safety_plan import PlanKeys
from community.settings import Settings

log = logging.getLogger(__name__)

WEB_PLATFORM = "web"
# A request body larger than this is refused before it is parsed.
MAX_BODY_BYTES = 256 * 1024
# More headers, or more header bytes, than any browser or bot sends.
TOO_LARGE = "That message is too large to send. Could you shorten it?"
MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024
# At least 16 characters: a guessable id ("a", "mom1") would let someone read her later
# messages. The page makes 32 random hex digits.
USER_ID_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"
# The chat's event stream looks at her outbox this often, each time in its own short read (no
# transaction is held while it waits); says it is alive when quiet for a while; and ends after
# a few minutes, for the browser to open a fresh one.
STREAM_TICK_SECONDS = 0.5
STREAM_HEARTBEAT_SECONDS = 15.0
STREAM_LIFETIME_SECONDS = 300.0
STREAM_RETRY_MS = 2000
# Open streams one app process serves at most; past this a page is told 503 and polls instead,
# so streams cannot crowd out the chat's own database work.
MAX_OPEN_STREAMS = 200
CaseState = Literal["waiting", "claimed"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ButtonOut(BaseModel):
    title: str
    payload: str


class LinkOut(BaseModel):
    start: int = Field(description="First character of the link in `text` (UTF-16 code units).")
    end: int = Field(description="One past its last character (UTF-16 code units).")
    href: str = Field(description="`tel:` or `sms:` address of a number from the directory.")


class AttachmentOut(BaseModel):
    filename: str = Field(description='The file\'s name, like "session-3.ics".')
    media_type: str = Field(description='Its type: "text/calendar" for a session\'s .ics.')
    content: str = Field(description="The file itself (text); the page offers it as a download.")


class ReplyOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)
    sender_name: str | None = Field(
        default=None, description="A moderator's display name when a person wrote this."
    )
    urgent: bool = Field(
        default=False, description="The crisis reply: shown as urgent and announced at once."
    )
    links: list[LinkOut] = Field(
        default_factory=list,
        description="Where `text` names a number from the resource directory, what to link.",
    )
    language: str | None = Field(
        default=None,
        description='The language it is written in ("en" or "es"); the page switches its own '
        "words and `lang` to it. Null for a later message when her language is not known yet.",
    )
    attachment: AttachmentOut | None = Field(
        default=None,
        description="A file that comes with the message (a discussion session's calendar file "
        "for her, once she said yes); null for almost every message.",
    )

    @classmethod
    def of(cls, reply: Reply) -> ReplyOut:
        out = cls.build(
            reply.text,
            [ButtonOut(title=b.title, payload=b.payload) for b in reply.buttons],
            reply.sender_name,
            reply.urgent,
            reply.language,
        )
        return out.with_attachment(reply.attachment)

    def with_attachment(self, attachment: Attachment | None) -> ReplyOut:
        if attachment is None:
            return self
        self.attachment = AttachmentOut(
            filename=attachment.filename,
            media_type=attachment.media_type,
            content=attachment.content,
        )
        return self

    @classmethod
    def build(
        cls,
        text: str,
        buttons: list[ButtonOut],
        sender_name: str | None,
        urgent: bool = False,
        language: str | None = None,
    ) -> ReplyOut:
        links = [LinkOut(start=k.start, end=k.end, href=k.href) for k in contact_links(text)]
        return cls(
            text=text,
            buttons=buttons,
            sender_name=sender_name,
            urgent=urgent,
            links=links,
            language=language,
        )


class ChatIn(BaseModel):
    user: Annotated[
        str,
        Field(
            pattern=USER_ID_PATTERN,
            description="An id the page chooses at random (16-128 of A-Z a-z 0-9 _ -; the page "
            "makes 32 hex digits); keep it secret like a password.",
        ),
    ]
    text: Annotated[str, Field(max_length=100_000)] = ""


class ChatOut(BaseModel):
    replies: list[ReplyOut]


class LaterMessagesOut(BaseModel):
    messages: list[ReplyOut]
    case: CaseState | None = Field(
        default=None,
        description="Whether a person from the team is about to join her (`waiting`) or is "
        "with her (`claimed`); null when no case is open. The page asks before forgetting.",
    )


class HealthOut(BaseModel):
    status: str
    components: dict[str, str]


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@dataclass
class AppServices:
    """What the routes need, built by the composition root when the app starts."""

    settings: Settings
    pseudonym_key: bytes  # resolved once: in development it is read from a file
    database: Database
    dialogue: DialogueClient
    gateway: Gateway
    journal: CrisisJournal  # crisis findings the database could not take, until it answers
    flood_guard: FloodGuard  # the chat's rate limits, per address and overall
    # The keys safety plans are sealed with (none set: plans cannot be kept or opened).
    plan_keys: PlanKeys = field(default_factory=PlanKeys)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(request: Request) -> bool:
    """A browser's request that another site started (CSRF). Our pages keep tokens in session
    storage, not cookies, so a forged request carries no credentials; this refuses it anyway,
    before any work. Clients that are not browsers send neither header and are not affected.
    An Origin that cannot even be parsed is refused too."""
    if request.method not in UNSAFE_METHODS:
        return False
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:
        return True
    return netloc != request.headers.get("host", "").lower()


def _refusal(scope: Scope) -> JSONResponse | None:
    """What the edge refuses before any route runs, or None."""
    headers = scope["headers"]
    if len(headers) > MAX_HEADERS or sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES:
        return JSONResponse({"detail": "Too many or too large request headers."}, 431)
    request = Request(scope)
    if cross_site(request):
        return JSONResponse({"detail": "Cross-site requests are not accepted."}, 403)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        return JSONResponse({"detail": TOO_LARGE}, 413)
    return None


class BodyTooLarge(HTTPException):
    """A body without a length (chunked) that grew past the limit while it was read."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class EdgeGuard:
    """Before a route runs: refuse oversized or too many headers, cross-site writes and bodies
    declared too large; a chunked body is counted as it arrives and refused when it passes the
    limit, so nothing larger is ever held in memory.
    On every response: the security headers (CSP, no framing). Plain ASGI, so it adds no task
    or copy per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for header, value in SECURITY_HEADERS.items():
                    headers.setdefault(header, value)
            await send(message)

        refusal = _refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, secured)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLarge
            return message

        await self.app(scope, counted, secured)


def create_web_app(lifespan: Lifespan) -> FastAPI:
    """The ASGI app's routes. The services are built by `lifespan` (the composition root in
    `peerbot/app.py`), when the app starts, and found in `app.state.services`."""

    app = FastAPI(
        title="peerbot",
        version="0.1.0",
        summary="Community peer-support chat: web chat, health, moderators' and research APIs.",
        lifespan=lifespan,
        # Browsers get a kind HTML page, API clients JSON; neither echoes what was sent.
        exception_handlers={
            RequestValidationError: validation_error,
            StarletteHTTPException: http_error,
            Exception: server_error,
        },
        # FastAPI's own /docs page loads Swagger UI from a CDN with an inline script, which
        # the CSP refuses: ours below serves a pinned copy from this origin.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(EdgeGuard)
    app.include_router(build_router())
    app.include_router(build_research_router())
    app.include_router(build_conduct_router())
    app.include_router(build_commands_router())
    app.include_router(build_mothers101_router())
    app.include_router(build_shifts_router())
    app.include_router(build_sessions_router())
    app.include_router(build_insights_router())
    static_dir = resources.files("bots.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")
    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    open_streams = [0]  # the chat's event streams open now, in this process

    def services_of(request: Request) -> AppServices:
        services: AppServices = request.app.state.services
        return services

    @app.post("/telegram/webhook", include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        """Updates from Telegram in webhook mode; refused unless Telegram's secret_token matches."""
        adapter = getattr(request.app.state, "telegram", None)
        if adapter is None or adapter.mode != "webhook":
            return Response(status_code=404)
        # Compared as bytes: a header with non-ASCII characters is simply wrong, not a 500.
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode("latin-1")
        if not hmac.compare_digest(given, adapter.secret.encode()):
            return Response(status_code=403)
        try:
            data = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return Response(status_code=400)
        try:
            await adapter.process_webhook(data)
        except Exception as error:
            # Telegram sends a refused update again and again: take it, say so, move on.
            log.warning("telegram update ignored", extra={"error": type(error).__name__})
        return Response(status_code=200)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page(request: Request) -> HTMLResponse:
        """The chat, in the browser's language (Spanish for any `es`, else English); the page
        switches itself later (a reply in the other language, her choice)."""
        template = (static_dir / "chat.html").read_text(encoding="utf-8")
        tag = preferred_language_tag(request.headers.get("accept-language"))
        # The words differ by the header: caches must keep one copy per language.
        return HTMLResponse(
            render_chat_page(template, page_language(tag)), headers={"Vary": "Accept-Language"}
        )

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        """The OpenAPI document, browsable: Swagger UI from the pinned swagger-ui-bundle-v2."""
        return HTMLResponse((static_dir / "docs.html").read_text(encoding="utf-8"))

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    async def healthz(request: Request) -> HealthOut:
        """200 whenever the app answers; `components` says whether the database, Rasa and the
        scheduler are up ("off" when the app runs without one)."""
        services = services_of(request)
        components = {"app": "up"}
        try:
            async with services.database.sessions() as session:
                await session.execute(text("SELECT 1"))
            components["database"] = "up"
        except Exception:
            components["database"] = "down"
        components["rasa"] = "up" if await services.dialogue.is_up() else "down"
        # The timed jobs (re-announcing a waiting crisis among them): "down" when late.
        # "standby" in an app process while another one runs the jobs.
        jobs = getattr(request.app.state, "jobs", None)
        running = getattr(request.app.state, "scheduler", None) is not None
        if jobs and running:
            components["scheduler"] = jobs.scheduler_state()
        else:
            standby = getattr(request.app.state, "runs_scheduler", False)
            components["scheduler"] = "standby" if standby else "off"
        return HealthOut(status="ok", components=components)

    @app.post(
        "/api/chat",
        response_model=ChatOut,
        tags=["chat"],
        responses={429: {"model": ChatOut, "description": "Over the rate limits; kind words."}},
    )
    async def chat(body: ChatIn, request: Request) -> ChatOut | JSONResponse:
        """A member's message in; the bot's replies (or a crisis reply) out. Over the rate
        limits (per address, overall) the answer is 429 with a kind reply and `Retry-After`,
        except for a crisis, which is always answered."""
        services = services_of(request)
        address = request.client.host if request.client else None
        message = InboundMessage(
            platform=WEB_PLATFORM,
            user_id=body.user,
            text=body.text,
            source=address,
            # The browser's first language (its Accept-Language header, sent with every fetch).
            language_hint=preferred_language_tag(request.headers.get("accept-language")),
        )
        if not await services.flood_guard.allow_message(address):
            answered = await services.gateway.handle_over_limit(message)
            if answered is None:
                refusal = ChatOut(
                    replies=[
                        ReplyOut.of(
                            wording.over_limit(hint_language(message.language_hint) or "en")
                        )
                    ]
                )
                return JSONResponse(
                    refusal.model_dump(), status_code=429, headers={"Retry-After": "60"}
                )
            return ChatOut(replies=[ReplyOut.of(r) for r in answered])
        replies = await services.gateway.handle(message)
        return ChatOut(replies=[ReplyOut.of(r) for r in replies])

    @app.get("/api/chat/{user}/messages", response_model=LaterMessagesOut, tags=["chat"])
    async def later_messages(
        user: Annotated[str, Path(pattern=USER_ID_PATTERN)], request: Request
    ) -> LaterMessagesOut:
        """Messages that arrived for this chat since the last call; each is returned once."""
        services = services_of(request)
        pseudonym = pseudonym_for(services.pseudonym_key, WEB_PLATFORM, user)
        async with services.database.transaction() as session:
            found = (
                await session.execute(
                    select(Member.id, Member.language).where(Member.pseudonym == pseudonym)
                )
            ).first()
            if found is None:
                return LaterMessagesOut(messages=[])
            # Later messages (a person's, the team's) are said in the language she is answered in.
            member_id, language = found
            pending = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.member_id == member_id,
                        OutboxMessage.platform == WEB_PLATFORM,
                        OutboxMessage.delivered_at.is_(None),
                    )
                    .order_by(OutboxMessage.id)
                    .with_for_update()
                )
            ).all()
            out = []
            for item in pending:
                out.append(
                    ReplyOut.build(
                        item.text or "",
                        [ButtonOut(**b) for b in item.buttons or []],
                        item.sender_name,
                        language=language,
                    ).with_attachment(Attachment.from_row(item.attachment))
                )
                # Delivered: keep the fact, not the words.
                item.delivered_at = utcnow()
                item.text = None
                item.attachment = None
                item.attempts += 1
                item.outcome = "sent"
            case = await session.scalar(_open_case_status(member_id))
        return LaterMessagesOut(messages=out, case=_case_state(case))

    @app.get("/api/chat/{user}/events", include_in_schema=False)
    async def chat_events(
        user: Annotated[str, Path(pattern=USER_ID_PATTERN)], request: Request
    ) -> Response:
        """Server-sent events for the page: `{"pending": bool, "case": ...}` whenever a later
        message starts waiting or the case's state changes (the page then fetches the messages
        from `/api/chat/{user}/messages`, which hands each out once). Never carries a message's
        words, so a connection that drops loses nothing."""
        services = services_of(request)
        if open_streams[0] >= MAX_OPEN_STREAMS:
            return Response(status_code=503, headers={"Retry-After": "30"})
        pseudonym = pseudonym_for(services.pseudonym_key, WEB_PLATFORM, user)

        async def counted() -> AsyncGenerator[str, None]:
            open_streams[0] += 1
            try:
                async for event in _chat_signals(services.database, pseudonym):
                    yield event
            finally:
                open_streams[0] -= 1

        return StreamingResponse(
            counted(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    return app


def _open_case_status(member_id: Any) -> Any:
    return (
        select(Case.status)
        .where(Case.member_id == member_id, Case.status.in_([s.value for s in OPEN_CASE_STATUSES]))
        .limit(1)
    )


def _case_state(status: str | None) -> CaseState | None:
    if status == "waiting":
        return "waiting"
    if status == "claimed":
        return "claimed"
    return None


async def _chat_signal(database: Database, pseudonym: str) -> tuple[int | None, CaseState | None]:
    """The newest message waiting for her on the web, and her case's state: one short read."""
    member = select(Member.id).where(Member.pseudonym == pseudonym).scalar_subquery()
    newest = (
        select(func.max(OutboxMessage.id))
        .where(
            OutboxMessage.member_id == member,
            OutboxMessage.platform == WEB_PLATFORM,
            OutboxMessage.delivered_at.is_(None),
        )
        .scalar_subquery()
    )
    async with database.sessions() as session:
        row = (
            await session.execute(select(newest, _open_case_status(member).scalar_subquery()))
        ).one()
    return row[0], _case_state(row[1])


async def _chat_signals(database: Database, pseudonym: str) -> AsyncGenerator[str, None]:
    """The event stream's body; Starlette ends it when the browser goes away."""
    yield f"retry: {STREAM_RETRY_MS}\n\n"
    started = last_sent = time.monotonic()
    sent: tuple[int | None, CaseState | None] | None = None
    while time.monotonic() - started < STREAM_LIFETIME_SECONDS:
        signal: tuple[int | None, CaseState | None] | None
        try:
            signal = await _chat_signal(database, pseudonym)
        except Exception:
            # The database is away for a moment: say nothing, look again shortly.
            signal = sent
        if signal is not None and signal != sent:
            sent = signal
            last_sent = time.monotonic()
            event = {"pending": signal[0] is not None, "case": signal[1]}
            yield f"data: {json.dumps(event)}\n\n"
        elif time.monotonic() - last_sent > STREAM_HEARTBEAT_SECONDS:
            last_sent = time.monotonic()
            yield ": still here\n\n"
        await asyncio.sleep(STREAM_TICK_SECONDS)
