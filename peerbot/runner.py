"""`peerbot run`: the Rasa server, the action server and the bot app, supervised together.

honcho runs the three processes, each in its own process group, prefixes their output, and on
Ctrl-C or SIGTERM stops them all (SIGTERM to each group, SIGKILL after a grace period), so no
orphan survives. Rasa and the action server run in a restart loop inside their process group,
so a crash brings them back while the app keeps answering with its fallback. A readiness thread
polls each service's health endpoint and reports when the whole stack is up, or stops
everything if a service never becomes healthy.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from honcho.manager import Manager
from honcho.printer import Message

from community.settings import PROJECT_ROOT, Settings
from peerbot.rasa_endpoints import endpoints_file, password_environment
from peerbot.training import rasa_environment

READINESS_TIMEOUT_SECONDS = 240.0
POLL_INTERVAL_SECONDS = 0.5


RESTART_DELAY_SECONDS = 3


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    health_url: str
    # Rasa and the action server are restarted if they die: the app keeps answering (with the
    # fallback) meanwhile. If the app itself dies, everything stops.
    restart: bool = True

    def shell_command(self) -> str:
        quoted = " ".join(shlex.quote(part) for part in self.command)
        if not self.restart:
            return "exec " + quoted
        return (
            f"while :; do {quoted}; echo '{self.name} exited ('$?'); restarting in "
            f"{RESTART_DELAY_SECONDS} s'; sleep {RESTART_DELAY_SECONDS}; done"
        )


def rasa_api_environment(settings: Settings) -> dict[str, str]:
    """The environment Rasa's wrapper (`peerbot-rasa`) reads its API token from."""
    return {"PEERBOT_RASA_AUTH_TOKEN": settings.rasa_api_token()}


def services(settings: Settings, model: Path, root: Path = PROJECT_ROOT) -> list[Service]:
    """The three processes of a single-machine peerbot, on the configured ports."""
    python = sys.executable
    return [
        Service(
            "rasa",
            [
                str(settings.rasa_runtime),
                "run",
                "--model",
                str(model),
                "--endpoints",
                str(endpoints_file(settings, root)),
                "--credentials",
                str(root / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(settings.rasa_port),
                # The HTTP API, for wiping a conversation's memory on deletion; token-protected
                # (the token comes by environment, see `rasa_api_environment`, not on this
                # command line where `ps` shows it) and on the loopback interface only.
                "--enable-api",
            ],
            f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/",
        ),
        Service(
            "actions",
            [
                python,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(settings.action_server_port),
            ],
            f"http://127.0.0.1:{settings.action_server_port}/health",
        ),
        Service(
            "app",
            [python, "-m", "peerbot.cli", "serve"],
            f"http://{settings.host}:{settings.port}/healthz",
            restart=False,
        ),
    ]


def _is_healthy(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


class _Readiness(threading.Thread):
    """Polls health URLs and reports each service as it comes up."""

    def __init__(self, manager: Manager, items: list[Service], public_url: str) -> None:
        super().__init__(name="readiness", daemon=True)
        self._manager = manager
        self._items = items
        self._public_url = public_url

    def _say(self, text: str) -> None:
        self._manager.events.put(
            Message(type="line", data=text + "\n", time=datetime.now(), name="peerbot", colour=None)
        )

    def run(self) -> None:
        started = time.monotonic()
        pending = {s.name: s.health_url for s in self._items}
        with httpx.Client(timeout=2.0) as client:
            while pending:
                elapsed = time.monotonic() - started
                if elapsed > READINESS_TIMEOUT_SECONDS:
                    self._say(f"not ready after {elapsed:.0f} s: {', '.join(pending)}; stopping")
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                for name, url in list(pending.items()):
                    if _is_healthy(client, url):
                        del pending[name]
                        self._say(f"{name} is ready ({time.monotonic() - started:.1f} s)")
                time.sleep(POLL_INTERVAL_SECONDS)
        self._say(
            f"peerbot is ready in {time.monotonic() - started:.1f} s: open {self._public_url} "
            "(Ctrl-C stops everything)"
        )


def run_stack(settings: Settings, model: Path, root: Path = PROJECT_ROOT) -> int:
    """Run all services until one exits or a signal arrives; return the exit code."""
    manager = Manager()
    env = rasa_environment(settings) | rasa_api_environment(settings)
    env |= password_environment(settings)
    env["SANIC_HOST"] = "127.0.0.1"  # the action server listens on loopback only
    env["PYTHONUNBUFFERED"] = "1"
    items = services(settings, model, root)
    for service in items:
        manager.add_process(service.name, service.shell_command(), env=env, cwd=str(root))
    _Readiness(manager, items, f"http://{settings.host}:{settings.port}/").start()
    manager.loop()
    return int(manager.returncode or 0)
