"""Where Rasa keeps its conversations: in its own memory (the single-machine default), or in
Redis, so a restarted Rasa forgets nothing and several Rasa servers can serve the same
conversations.

With `PEERBOT_RASA_TRACKER_STORE=redis`, `peerbot run` hands Rasa an endpoints file written
under `var/` (readable by its owner only) that names Redis as the tracker store and the lock
store. Each conversation there expires after `PEERBOT_RETENTION_RASA_HOURS` of quiet (Redis
drops it; the app's retention job also wipes it through Rasa's API), and "delete my data"
replaces it with an empty one. The Redis password never goes into the file: Rasa reads it from
the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from community.db import private_directory
from community.settings import PROJECT_ROOT, Settings

ENDPOINTS_NAME = "rasa-endpoints.yml"
PASSWORD_VARIABLE = "PEERBOT_RASA_REDIS_PASSWORD"  # noqa: S105 - a variable's name, not a password


def redis_parts(url: str) -> dict[str, Any]:
    """Host, port, database number, whether TLS, and the password (if any) of a Redis URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("PEERBOT_REDIS_URL must be redis://host:port/db (or rediss://)")
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise ValueError("PEERBOT_REDIS_URL must end with a database number, e.g. /0")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(database),
        "use_ssl": parts.scheme == "rediss",
        "password": parts.password,
    }


def endpoints_document(settings: Settings) -> dict[str, Any]:
    """Rasa's endpoints: the action server always; Redis stores when chosen."""
    document: dict[str, Any] = {"action_endpoint": {"url": "${PEERBOT_ACTION_SERVER_URL}"}}
    if settings.rasa_tracker_store != "redis":
        return document
    if not settings.redis_url:
        raise ValueError("PEERBOT_RASA_TRACKER_STORE=redis needs PEERBOT_REDIS_URL")
    redis = redis_parts(settings.redis_url)
    common: dict[str, Any] = {
        "type": "redis",
        "url": redis["host"],
        "port": redis["port"],
        "db": redis["db"],
        "use_ssl": redis["use_ssl"],
        "key_prefix": settings.rasa_key_prefix,
    }
    if redis["password"]:
        common["password"] = "${" + PASSWORD_VARIABLE + "}"
    document["tracker_store"] = {
        **common,
        "record_exp": int(settings.retention_rasa_hours * 3600),
    }
    document["lock_store"] = dict(common)
    return document


def endpoints_file(settings: Settings, root: Path = PROJECT_ROOT) -> Path:
    """The endpoints file Rasa is started with: the project's own for the memory default, a
    file written under var/ for Redis."""
    if settings.rasa_tracker_store != "redis":
        return root / "endpoints.yml"
    private_directory(settings.var_dir)
    path = settings.var_dir / ENDPOINTS_NAME
    path.write_text(
        "# Written by `peerbot run` from the settings; edits are overwritten.\n"
        + yaml.safe_dump(endpoints_document(settings), sort_keys=False),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def password_environment(settings: Settings) -> dict[str, str]:
    """The Redis password for Rasa's environment (never in a file or on a command line)."""
    if settings.rasa_tracker_store != "redis" or not settings.redis_url:
        return {}
    password = redis_parts(settings.redis_url)["password"]
    return {PASSWORD_VARIABLE: password} if password else {}
