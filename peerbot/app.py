"""The composition root: the bot app's services, adapters and scheduler, wired together.

Everything is built when the app starts (FastAPI's lifespan), never at import: the database,
the dialogue client, the layered crisis screen, the gateway, the crisis journal and its replay
loop, the scheduler with its jobs' context (run by one process only, the leader), and the
Telegram and Discord adapters when their tokens are set. The web routes (`bots/web/app.py`)
find the services in `app.state`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from bots.dialogue import DialogueClient, StoredTrackers
from bots.gateway import Gateway, GatewayConfig
from bots.web.app import AppServices, create_web_app
from community.crisis_journal import JOURNAL_NAME, CrisisJournal
from community.db import Database, private_directory
from community.flood_guard import FloodGuard, FloodLimits
from community.leadership import Leadership, leadership_for
from community.models import utcnow
from community.safety_plan import keys_from_settings
from community.scheduling import JobContext, build_scheduler
from community.settings import Settings
from community.shared_window import RedisRecentMessages
from safety.context import RecentMessages, RecentWindow
from safety.training import build_screen

log = logging.getLogger(__name__)


def screen_window(settings: Settings) -> RecentWindow:
    """Her last few messages for the screen: shared in Redis when app processes share the
    load (`PEERBOT_REDIS_URL`), else in this process's memory."""
    messages, seconds = settings.screen_context_messages, settings.screen_context_seconds
    if settings.redis_url:
        return RedisRecentMessages(settings.redis_url, messages, seconds)
    return RecentMessages(messages, seconds)


def one_math_thread() -> None:
    """One thread for the numeric libraries the screen loaded (OpenBLAS, OpenMP). Their pools
    spin while waiting for work: with the screen's small matrix products they burned more CPU
    than the crisis path itself (measured: 200 crises, 64 ms of CPU each with the pools, 30 ms
    without) and took it from the event loop. Called after the screen is loaded, so the
    libraries it brought are there to be limited; lasts for the process."""
    threadpool_limits(limits=1)


def build_services(settings: Settings) -> AppServices:
    private_directory(settings.var_dir)  # the SQLite file, the crisis journal, the secret key
    database = Database.connect(settings.resolved_database_url)
    key = settings.pseudonym_key()
    plan_keys = keys_from_settings(settings)
    dialogue = DialogueClient(
        settings.rasa_urls or settings.rasa_url,
        settings.rasa_timeout_seconds,
        settings.rasa_api_token(),
        stored=(
            StoredTrackers(settings.redis_url, settings.rasa_key_prefix)
            if settings.rasa_tracker_store == "redis" and settings.redis_url
            else None
        ),
    )
    screen = build_screen(
        settings.models_dir,
        context=screen_window(settings),
        learned=settings.screen_learned,
        thresholds_path=settings.screen_thresholds,
    )
    one_math_thread()
    log.info("crisis screen ready", extra={"layers": screen.layers})
    journal = CrisisJournal(settings.var_dir / JOURNAL_NAME)
    guard = FloodGuard(
        key,
        settings.redis_url,
        FloodLimits(
            per_address=settings.chat_limit_per_address,
            overall=settings.chat_limit_overall,
            new_chats_per_address=settings.chat_new_chats_per_address,
            crises_per_address=settings.chat_crises_per_address,
            crises_same_words=settings.chat_crises_same_words,
        ),
    )
    gateway = Gateway(
        GatewayConfig(
            key,
            settings.max_message_chars,
            settings.active_moderation_homes,
            settings.flood_messages,
            settings.flood_seconds,
            check_timeout=timedelta(minutes=settings.check_timeout_minutes),
            crisis_reply_quiet=timedelta(minutes=settings.crisis_reply_quiet_minutes),
            follow_up_after=timedelta(minutes=settings.followup_after_minutes),
            plan_keys=plan_keys,
            community_timezone=settings.research_timezone,
            checkins_last=timedelta(days=settings.checkins_last_days),
            same_person_around=timedelta(minutes=settings.same_person_around_minutes),
            same_person_first=timedelta(minutes=settings.same_person_first_minutes),
            session_retention_days=settings.retention_session_days,
        ),
        database,
        dialogue,
        screen=screen,
        journal=journal,
        flood_guard=guard,
    )
    return AppServices(settings, key, database, dialogue, gateway, journal, guard, plan_keys)


async def start_telegram(settings: Settings, services: AppServices) -> Any:
    """The Telegram adapter runs in this process when its token is set; otherwise it says so
    once. Imported here so python-telegram-bot is loaded only when it is used."""
    if not settings.telegram_enabled:
        log.info("telegram adapter off: PEERBOT_TELEGRAM_TOKEN is not set")
        return None
    from bots.telegram.adapter import TelegramAdapter

    adapter = TelegramAdapter(settings, services.database, services.gateway, services.pseudonym_key)
    adapter.launch()  # in the background: the app never waits for Telegram
    return adapter


def start_discord(settings: Settings, services: AppServices) -> Any:
    """The Discord adapter runs in this process when its token is set (imported only then)."""
    if not settings.discord_enabled:
        log.info("discord adapter off: PEERBOT_DISCORD_TOKEN is not set")
        return None
    from bots.discord.adapter import DiscordAdapter

    adapter = DiscordAdapter(settings, services.database, services.gateway)
    adapter.launch()  # in the background: the app never waits for Discord
    return adapter


async def _lead_scheduler(app: FastAPI, jobs: JobContext, leadership: Leadership) -> None:
    """Exactly one process runs the timed jobs (`community/leadership.py`). Here: take the
    lead when it is free, step down when it is lost, and, while leading, replace a scheduler
    that stopped or whose re-announcement job is late (a waiting crisis must be announced
    again whatever happened to the old one)."""
    every = jobs.settings.leader_check_seconds
    while True:
        await asyncio.sleep(every)
        try:
            await _keep_leading(app, jobs, leadership)
        except Exception as error:  # the database away: try again at the next check
            log.warning("scheduler leadership check failed", extra={"error": type(error).__name__})


async def _keep_leading(app: FastAPI, jobs: JobContext, leadership: Leadership) -> None:
    scheduler = app.state.scheduler
    if scheduler is None:
        if await leadership.acquire():
            log.info("this process now runs the timed jobs", extra={"component": "scheduler"})
            _start_scheduler(app, jobs)
        return
    if not await leadership.still_held():
        log.error("scheduler lead lost: stopping the timed jobs", extra={"component": "scheduler"})
        _stop_scheduler(app)
        return
    if scheduler.running and jobs.scheduler_state() == "up":
        return
    log.error("scheduler stopped or late: restarting it", extra={"component": "scheduler"})
    _stop_scheduler(app)
    _start_scheduler(app, jobs)


def _start_scheduler(app: FastAPI, jobs: JobContext) -> None:
    jobs.started_at = utcnow()  # a new scheduler gets its intervals before it counts as late
    app.state.scheduler = build_scheduler(jobs)
    app.state.scheduler.start()


def _stop_scheduler(app: FastAPI) -> None:
    scheduler, app.state.scheduler = app.state.scheduler, None
    if scheduler is not None:
        with contextlib.suppress(Exception):
            scheduler.shutdown(wait=False)


def workers_refusal(settings: Settings) -> str | None:
    """Why these settings cannot run several app processes (None when they can). What one
    process keeps between requests must be shared: the database, the rate limits and the
    screen's window; and only one process may talk to each chat platform."""
    if settings.workers <= 1:
        return None
    if not settings.resolved_database_url.startswith("postgresql"):
        return "More than one worker needs PostgreSQL (PEERBOT_DATABASE_URL): SQLite has one."
    if not settings.redis_url:
        return (
            "More than one worker needs PEERBOT_REDIS_URL: the rate limits and the crisis "
            "screen's window of her last messages must be shared by every worker."
        )
    if settings.adapters_in_app and (settings.telegram_enabled or settings.discord_enabled):
        return (
            "With more than one worker, run Telegram and Discord as their own processes "
            "(`peerbot adapter telegram`, `peerbot adapter discord`) and set "
            "PEERBOT_ADAPTERS_IN_APP=false: each bot may talk to its platform once."
        )
    return None


# Objects allocated between two young-generation collections. Python's 700 made a burst of 200
# crises run about 130 collections; at this size a handful, for a few MB more at the peak.
YOUNG_COLLECTION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Once the app is built: what it holds for its whole life (the screen's data, the models'
    metadata, the pool) is moved out of the cyclic collector's way, and young collections run
    less often. Measured on 200 crises at once: the collector took about 15% of the worker's
    CPU before, under 1% after. Nothing is freed later that was frozen here, and nothing needs
    to be: it lives as long as the process."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


def app_from_environment() -> FastAPI:
    """The app as each of several workers builds it (uvicorn calls this in every process)."""
    from community.settings import load_settings
    from peerbot.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings, serving=True)


def create_app(settings: Settings, run_scheduler: bool = True, serving: bool = False) -> FastAPI:
    """The bot app. `run_scheduler=False` keeps the timed jobs from starting (tests run them
    by hand with `app.state.jobs`). `serving`: the app is this process's one app (`peerbot
    serve`), so its pools are opened at start and its heap is settled once it is up (tests
    build many apps in one process, and a frozen app would never be collected)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        if serving:
            # Before the first burst, not inside it (tests build many short-lived apps: no).
            await services.database.warm()
            await services.flood_guard.warm()
        jobs = JobContext(settings, services.database, services.dialogue.forget)
        app.state.jobs = jobs
        app.state.scheduler = None
        leadership = leadership_for(services.database)
        app.state.leadership = leadership
        app.state.runs_scheduler = run_scheduler
        if run_scheduler:
            try:
                leading = await leadership.acquire()
            except Exception as error:  # the database away: the leadership loop tries again
                log.warning("scheduler lead not taken", extra={"error": type(error).__name__})
                leading = False
            if leading:
                _start_scheduler(app, jobs)
        # Or each in a process of its own (`peerbot adapter`, peerbot/adapters.py).
        in_app = settings.adapters_in_app
        telegram = await start_telegram(settings, services) if in_app else None
        app.state.telegram = telegram
        discord_bot = start_discord(settings, services) if in_app else None
        # Its own loop, not a scheduler job: a job's state is the database that is away when
        # the journal has work.
        watching = (
            asyncio.create_task(_lead_scheduler(app, jobs, leadership)) if run_scheduler else None
        )
        replaying = asyncio.create_task(
            services.journal.replay_forever(
                services.database, services.pseudonym_key, settings.active_moderation_homes
            )
        )
        if serving:
            settle_heap()
        try:
            yield
        finally:
            replaying.cancel()
            if watching is not None:
                watching.cancel()
            if discord_bot is not None:
                await discord_bot.stop()
            if telegram is not None:
                await telegram.stop()
            _stop_scheduler(app)
            await leadership.release()
            # The insight counts under way need Rasa's client and the database: first.
            await services.gateway.drain_counts()
            services.gateway.close()
            await services.dialogue.aclose()
            await services.database.dispose()

    return create_web_app(lifespan)
