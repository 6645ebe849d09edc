"""Typed settings for every peerbot process, read from PEERBOT_* environment variables or `.env`.

Secrets live only here (as `SecretStr`, never printed). In development a missing secret key is
generated once into `var/secret_key` and reused, so pseudonyms stay stable across restarts; in
production a missing or placeholder key is refused with a message naming the setting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values people paste from examples; accepting them in production would make pseudonyms guessable.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "dev", "development", "test", "xxx", "placeholder"}
)
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names it and says what to do."""


class Settings(BaseSettings):
    """Everything configurable, with defaults that run the embedded single-machine setup."""

    model_config = SettingsConfigDict(
        env_prefix="PEERBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    secret_key: SecretStr | None = Field(
        default=None, description="HMAC key for pseudonyms; 32+ characters in production."
    )
    plan_keys: SecretStr | None = Field(
        default=None,
        description="Fernet keys that seal safety plans, comma-separated, newest first; in "
        "development generated once into var/plan_keys.",
    )
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="Local data (SQLite, key).")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file under var/."
    )

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_tracker_store: Literal["memory", "redis"] = Field(
        default="memory",
        description="Where Rasa keeps conversations: its memory (forgotten on restart), or "
        "Redis (PEERBOT_REDIS_URL), kept through restarts and shared by several Rasa servers.",
    )
    rasa_key_prefix: str = Field(
        default="peerbot",
        pattern=r"^[a-zA-Z0-9]{1,40}$",  # Rasa ignores a prefix that is not alphanumeric
        description="The prefix of Rasa's keys in Redis (one per community sharing a Redis).",
    )
    rasa_urls: list[str] = Field(
        default_factory=list,
        description="Several Rasa servers (JSON list; overrides PEERBOT_RASA_URL): each "
        "conversation goes to one of them, the next when it is down.",
    )
    rasa_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 1.5
    rasa_port: Annotated[int, Field(ge=1, le=65535)] = 5005
    action_server_port: Annotated[int, Field(ge=1, le=65535)] = 5055
    models_dir: Path = PROJECT_ROOT / "models"
    rasa_runtime: Path = PROJECT_ROOT / ".rasa-venv" / "bin" / "peerbot-rasa"

    max_message_chars: Annotated[int, Field(ge=100, le=100_000)] = 4000
    flood_messages: Annotated[int, Field(ge=1, le=1000)] = 8
    flood_seconds: Annotated[float, Field(gt=0, le=3600)] = 10

    retention_transcript_days: Annotated[float, Field(gt=0, le=3650)] = Field(
        default=90, description="Closed cases keep their messages and notes this long."
    )
    retention_audit_days: Annotated[float, Field(gt=0, le=3650)] = Field(
        default=365, description="Closed cases and their audit events are removed after this."
    )
    retention_rasa_hours: Annotated[float, Field(gt=0, le=8760)] = Field(
        default=24, description="Rasa's memory of a conversation is wiped after this much quiet."
    )

    retention_research_days: Annotated[float, Field(gt=0, le=3650)] = Field(
        default=365,
        description="Research answers are removed this long after they were given.",
    )
    retention_insights_days: Annotated[float, Field(gt=0, le=36500)] = Field(
        default=1825,
        description="The insights rollup (counts and durations, no text, nobody named) and its "
        "daily tallies are kept this long (about 5 years by default).",
    )

    retention_session_days: Annotated[float, Field(gt=0, le=3650)] = Field(
        default=30,
        description="A discussion session's answers (yes, maybe, no), questions sent ahead, "
        "feedback and invitations are removed this long after the session.",
    )

    research_timezone: str = Field(
        default="America/New_York",
        description="The community's time zone: quiet hours are read in it (an IANA name).",
    )
    research_quiet_start_hour: Annotated[int, Field(ge=0, le=23)] = Field(
        default=21, description="No research message is sent from this hour..."
    )
    research_quiet_end_hour: Annotated[int, Field(ge=0, le=23)] = Field(
        default=9, description="...until this hour (equal to the start: no quiet hours)."
    )
    research_weekly_cap: Annotated[int, Field(ge=1, le=50)] = Field(
        default=2, description="At most this many research questions reach a mother in 7 days."
    )
    research_digest: Literal["daily", "weekly"] = Field(
        default="weekly", description="How often researchers get a digest of new answers."
    )
    telegram_community_chat_id: int | None = Field(
        default=None, description="A community group where approved research questions appear."
    )
    discord_community_channel_id: int | None = Field(
        default=None, description="A community channel where approved research questions appear."
    )

    moderation_homes: list[str] = Field(
        default_factory=lambda: ["web"],
        description="Where moderators are told about cases: web, telegram, discord (JSON list).",
    )
    reannounce_urgent_minutes: Annotated[float, Field(gt=0, le=1440)] = 5
    reannounce_other_minutes: Annotated[float, Field(gt=0, le=1440)] = 15
    scheduler_interval_seconds: Annotated[float, Field(ge=1, le=3600)] = 30
    workers: Annotated[int, Field(ge=1, le=32)] = Field(
        default=1,
        description="App processes serving the one port (uvicorn's own process manager). More "
        "than one needs PostgreSQL, PEERBOT_REDIS_URL, and the chat adapters in their own "
        "processes.",
    )
    adapters_in_app: bool = Field(
        default=True,
        description="Run the Telegram and Discord adapters inside the app; false when each runs "
        "as its own process (`peerbot adapter telegram|discord`), e.g. with several app workers.",
    )
    leader_check_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        default=10,
        description="How often an app process checks that it still runs the timed jobs, or "
        "takes them over from one that died (PostgreSQL; one process runs them at a time).",
    )
    check_timeout_minutes: Annotated[float, Field(gt=0, le=1440)] = Field(
        default=10,
        description="When the screen asked 'are you safe?' and she does not answer in this "
        "time, an elevated case opens so that a person looks (a decimal: tests use seconds).",
    )
    followup_after_minutes: Annotated[float, Field(gt=0, le=60 * 24 * 30)] = Field(
        default=1440,
        description="After a case, when she agrees to a check-in, it is sent this long later "
        "(default a day; quiet hours respected; a decimal: tests use seconds).",
    )
    followup_retry_minutes: Annotated[float, Field(gt=0, le=60 * 24 * 7)] = Field(
        default=240,
        description="A check-in she has not answered gets one gentle second try this long "
        "after it was sent, and counts as unanswered this long after that.",
    )
    checkins_last_days: Annotated[int, Field(gt=0, le=1000)] = Field(
        default=640,
        description="Check-ins she chooses (/checkins) end this long after she sets them up "
        "(default about 21 months: a pregnancy and the baby's first year); she can start again.",
    )
    same_person_around_minutes: Annotated[float, Field(gt=0, le=1440)] = Field(
        default=120,
        description="When she asks for the person she talked with before (/same), that "
        "moderator counts as around if they acted on a case this recently (or hold one now).",
    )
    same_person_first_minutes: Annotated[float, Field(ge=0, le=60)] = Field(
        default=5,
        description="...and the new case is theirs alone to claim this long (a crisis the "
        "screen finds is open to everyone at once); then anyone on the team can take it.",
    )
    max_open_cases_per_moderator: Annotated[int, Field(ge=0, le=100)] = Field(
        default=5,
        description="The most open claimed cases one moderator holds at once; a claim over it "
        "is refused kindly, naming who else is on shift (0: no cap).",
    )
    crisis_reply_quiet_minutes: Annotated[float, Field(ge=0, le=1440)] = Field(
        default=10,
        description="While a moderator has her conversation, the bot sends its own crisis reply "
        "only if no person has written to her for this long; the moderator is alerted always.",
    )
    screen_context_messages: Annotated[int, Field(ge=0, le=10)] = Field(
        default=3, description="How many of her recent messages the crisis screen reads too."
    )
    screen_context_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=300, description="How long those messages stay in memory (never stored)."
    )
    screen_thresholds: Path = Field(
        default=PROJECT_ROOT / "safety" / "data" / "thresholds.yml",
        description="The learned layer's reviewed thresholds (try new ones before committing).",
    )
    screen_learned: bool = Field(
        default=True,
        description="Use the learned layer of the crisis screen (rules always run).",
    )
    oncall_webhook_url: str | None = Field(
        default=None,
        description="POSTed a JSON alert when a case is re-announced unclaimed (pager, chat ops).",
    )
    log_level: str = "INFO"

    redis_url: str | None = Field(
        default=None,
        description="Redis (redis://127.0.0.1:6379/0) for the chat's rate limits when several "
        "app processes share the load; without it they are kept in memory.",
    )
    chat_limit_per_address: str = Field(
        default="60/minute",
        description="Messages to the web chat from one address (over it: a kind refusal, 429; "
        "a crisis is still answered).",
    )
    chat_limit_overall: str = Field(
        default="1200/minute", description="Messages to the web chat from everyone together."
    )
    chat_new_chats_per_address: str = Field(
        default="10/hour", description="New web chats started from one address."
    )
    chat_crises_per_address: str = Field(
        default="2 per 10 minutes",
        description="Crisis messages from new chats at one address that open a case each; the "
        "rest are counted into one flood alert (each still gets the crisis reply).",
    )
    chat_crises_same_words: str = Field(
        default="2 per 10 minutes",
        description="The same, for crisis messages in the same words from new chats anywhere.",
    )

    discord_token: SecretStr | None = Field(
        default=None, description="The Discord application's bot token; turns the adapter on."
    )
    discord_api_base: str = Field(
        default="https://discord.com/api/v10",
        description="Discord's HTTP API root (a stand-in in tests); the gateway URL comes from it.",
    )
    discord_moderator_channel_id: int | None = Field(
        default=None, description="The moderators' private channel: one thread per case."
    )
    discord_moderator_role_id: int | None = Field(
        default=None, description="Only members with this role may act on cases."
    )

    telegram_token: SecretStr | None = Field(
        default=None, description="BotFather's token; turns the Telegram adapter on."
    )
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL (a self-hosted Bot API server); '/bot' is added if missing.",
    )
    telegram_moderator_chat_id: int | None = Field(
        default=None,
        description="The moderators' supergroup (with topics); makes Telegram a moderation home.",
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL for webhook mode; polling when unset."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Webhook mode's secret_token; derived from the secret key when unset.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator(
        "chat_limit_per_address",
        "chat_limit_overall",
        "chat_new_chats_per_address",
        "chat_crises_per_address",
        "chat_crises_same_words",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        parse(value)  # "N/minute", "N per 10 minutes": raises ValueError otherwise
        return value

    @field_validator("plan_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return value
        from cryptography.fernet import Fernet

        try:
            for key in value.get_secret_value().split(","):
                if key.strip():
                    Fernet(key.strip().encode())
        except ValueError:
            # Only what is wrong, never the value: it is a secret.
            raise ValueError(
                "must be Fernet keys (32 url-safe base64-encoded bytes each, comma-separated, "
                "newest first); make one with: peerbot new-plan-key"
            ) from None
        return value

    @field_validator("research_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as America/New_York") from None
        return value

    @model_validator(mode="after")
    def _production_needs_real_secret(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "PEERBOT_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters in production "
                    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
        return self

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token and self.discord_token.get_secret_value())

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token and self.telegram_token.get_secret_value())

    @property
    def telegram_api_base(self) -> str:
        """PTB's base_url: the Bot API root ending in /bot (PTB appends the token)."""
        base = self.telegram_base_url.rstrip("/")
        return base if base.endswith("/bot") else f"{base}/bot"

    @property
    def active_moderation_homes(self) -> tuple[str, ...]:
        """Where cases are announced: the configured homes, plus Telegram when its moderators'
        group is set (one queue, wherever mothers write)."""
        homes = list(dict.fromkeys(self.moderation_homes))
        if self.telegram_enabled and self.telegram_moderator_chat_id and "telegram" not in homes:
            homes.append("telegram")
        if self.discord_enabled and self.discord_moderator_channel_id and "discord" not in homes:
            homes.append("discord")
        return tuple(homes)

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "peerbot.sqlite3"

    @cached_property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL the app uses (drivers chosen here, not by the operator)."""
        url = self.database_url or f"sqlite:///{self.sqlite_path}"
        return async_database_url(url)

    def rasa_api_token(self) -> str:
        """The token for Rasa's HTTP API (used to wipe a conversation's memory), derived from
        the secret key so the app and `peerbot run` agree without another secret to manage."""
        return hmac.new(self.pseudonym_key(), b"rasa-api", hashlib.sha256).hexdigest()

    def pseudonym_key(self) -> bytes:
        """The HMAC key for pseudonyms; in development generated once and kept in var/."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        key_file = self.var_dir / "secret_key"
        if not key_file.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip().encode()


def async_database_url(url: str) -> str:
    """Map plain sqlite/postgresql URLs onto the async drivers peerbot ships with."""
    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    if url.startswith("postgres://"):
        url = url.replace("postgres://", "postgresql://", 1)
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


def sync_database_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic, APScheduler's job store)."""
    url = async_database_url(url)
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one readable message per bad setting."""
    try:
        return Settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "settings"
            name = f"PEERBOT_{field.upper()}" if problem["loc"] else "settings"
            # Only the message, never the input: it may be a secret.
            lines.append(f"{name}: {problem['msg']}")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(lines)) from None
