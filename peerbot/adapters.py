"""`peerbot adapter telegram|discord`: one chat platform's adapter in a process of its own.

With several app workers (or to restart the web app without dropping the bots), the Telegram
(polling) and Discord adapters run apart from the app, each through the same gateway, database
and delivery path. Only one process may talk to a platform with one bot token: the others wait
as standbys, by a lock (a PostgreSQL advisory lock named after the platform and a hash of its
token; on SQLite a file lock under `var/`), and take over within `PEERBOT_LEADER_CHECK_SECONDS`
when the running one dies. Telegram's webhook mode needs the app to receive updates: it runs
in the app (`PEERBOT_ADAPTERS_IN_APP`, the default), not here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from typing import Any

from community.leadership import AdvisoryLock, FileLock, Leadership
from community.settings import Settings
from peerbot.app import build_services, start_discord, start_telegram

log = logging.getLogger(__name__)

PLATFORMS = ("telegram", "discord")


class AdapterRefused(RuntimeError):
    """The adapter cannot run here; the message says why, for the person who started it."""


def _token(settings: Settings, platform: str) -> str:
    secret = settings.telegram_token if platform == "telegram" else settings.discord_token
    if secret is None:
        raise AdapterRefused(f"PEERBOT_{platform.upper()}_TOKEN is not set")
    if platform == "telegram" and settings.telegram_webhook_url:
        raise AdapterRefused(
            "Telegram in webhook mode receives updates through the app: run it there "
            "(PEERBOT_ADAPTERS_IN_APP=true), not as its own process"
        )
    return secret.get_secret_value()


def adapter_lock(settings: Settings, platform: str, services: Any) -> Leadership:
    """One per platform and bot token, across every process that shares the database."""
    token_hash = hashlib.sha256(_token(settings, platform).encode()).hexdigest()[:16]
    name = f"peerbot.adapter.{platform}.{token_hash}"
    if services.database.engine.dialect.name == "postgresql":
        return AdvisoryLock(services.database, name)
    return FileLock(settings.var_dir / f"adapter-{platform}-{token_hash}.lock")


async def run_adapter(settings: Settings, platform: str) -> None:
    """Run one platform's adapter until SIGTERM or SIGINT: standby while another process
    holds its lock, running while this one does."""
    if platform not in PLATFORMS:
        raise AdapterRefused(f"unknown platform {platform!r}: telegram or discord")
    _token(settings, platform)
    services = build_services(settings)
    lock = adapter_lock(settings, platform, services)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    replaying = asyncio.create_task(
        services.journal.replay_forever(
            services.database, services.pseudonym_key, settings.active_moderation_homes
        )
    )
    adapter: Any = None
    said_standby = False
    try:
        while not stopping.is_set():
            try:
                leading = await (lock.still_held() if adapter else lock.acquire())
            except Exception as error:  # the database away: as if not leading, try again
                log.warning("adapter lock check failed", extra={"error": type(error).__name__})
                leading = False
            if leading and adapter is None:
                log.info("adapter running", extra={"component": platform})
                adapter = await _start(settings, services, platform)
                said_standby = False
            elif not leading and adapter is not None:
                log.error("adapter lock lost: stopping", extra={"component": platform})
                await adapter.stop()
                adapter = None
            elif not leading and not said_standby:
                log.info("adapter standing by", extra={"component": platform})
                said_standby = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), settings.leader_check_seconds)
    finally:
        if adapter is not None:
            await adapter.stop()
        replaying.cancel()
        await lock.release()
        services.gateway.close()
        await services.dialogue.aclose()
        await services.database.dispose()


async def _start(settings: Settings, services: Any, platform: str) -> Any:
    if platform == "telegram":
        return await start_telegram(settings, services)
    return start_discord(settings, services)
