"""Settings: typed, PEERBOT_-prefixed, clear errors, and no secret ever printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from community.settings import Settings, SettingsError, async_database_url, load_settings


def test_production_refuses_a_placeholder_secret_and_does_not_echo_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PEERBOT_ENV", "production")
    monkeypatch.setenv("PEERBOT_SECRET_KEY", "changeme")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "PEERBOT_SECRET_KEY" in message
    assert "changeme" not in message


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERBOT_PORT", "not-a-port")
    with pytest.raises(SettingsError, match="PEERBOT_PORT"):
        load_settings()


def test_unknown_database_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERBOT_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="PEERBOT_DATABASE_URL"):
        load_settings()


def test_development_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path).pseudonym_key()
    second = Settings(var_dir=tmp_path).pseudonym_key()
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_is_not_in_the_settings_repr() -> None:
    settings = Settings(secret_key="a-very-secret-value-that-is-long-enough-123")
    assert "a-very-secret-value" not in repr(settings)


def test_default_database_is_sqlite_under_var(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path}/peerbot.sqlite3"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls_get_the_async_drivers(given: str, expected: str) -> None:
    assert async_database_url(given) == expected
