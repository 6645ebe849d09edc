"""The `peerbot` command as people run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from community.settings import PROJECT_ROOT
from tests.conftest import rasa_runtime_or_skip

SEED_SET = PROJECT_ROOT / "safety" / "data" / "corpus" / "b01-seed-en.jsonl"


def peerbot(*args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peerbot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=timeout,
        check=False,
    )


def test_safety_check_meets_the_goals_on_the_seed_set(trained_screen_models: Path) -> None:
    lines = SEED_SET.read_text().splitlines()
    result = peerbot(
        "safety-check",
        stdin="\n".join(json.dumps({"text": json.loads(line)["text"]}) for line in lines),
    )
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == len(lines)
    labels = [bool(json.loads(line)["labels"]) for line in lines]
    crises = [v for v, crisis in zip(verdicts, labels, strict=True) if crisis]
    negatives = [v for v, crisis in zip(verdicts, labels, strict=True) if not crisis]
    recall = sum(v["decision"] != "none" for v in crises) / len(crises)
    false_crisis = sum(v["decision"] == "crisis" for v in negatives) / len(negatives)
    assert recall >= 0.98 and false_crisis <= 0.03
    assert set(verdicts[0]) == {
        "decision", "crisis", "category", "severity", "language", "layer", "help_coming",
        "score", "evidence",
    }  # fmt: skip
    assert all(v["crisis"] == (v["decision"] == "crisis") for v in verdicts)
    layers = {v["layer"] for v in verdicts}
    assert "rules" in layers and "learned" in layers  # the learned layer loaded in the tool


def test_safety_check_answers_in_her_language_and_hears_help_coming() -> None:
    result = peerbot(
        "safety-check",
        stdin='{"text": "ya no quiero vivir"}\n{"text": "i called 911 they are on the way"}\n',
    )
    spanish, coming = (json.loads(line) for line in result.stdout.splitlines())
    assert spanish["decision"] == "crisis" and spanish["language"] == "es"
    assert coming["help_coming"] is True and coming["language"] == "en"


def test_safety_check_reports_bad_lines_and_keeps_going() -> None:
    result = peerbot("safety-check", stdin='not json\n{"text": 5}\n{"text": "i want to die"}\n')
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0
    assert "error" in out[0] and "error" in out[1]
    assert out[2]["crisis"] is True and out[2]["category"] == "suicide"
    assert out[2]["decision"] == "crisis" and out[2]["layer"] == "rules"


def test_unknown_command_is_refused_cleanly() -> None:
    result = peerbot("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_benchmark_reports_every_figure() -> None:
    result = peerbot("benchmark", "--messages", "2000", "--handoff", "20", "--broadcast", "1200")
    assert result.returncode == 0, result.stderr
    assert "messages/s" in result.stdout and "median" in result.stdout
    assert "visible to moderators" in result.stdout
    assert "one chat message, every layer" in result.stdout and "p99" in result.stdout
    assert "peerbot safety-check, 2,000 messages including start-up" in result.stdout
    # The broadcast figure counts what reached the outbox; a duplicate would show here.
    assert "outbox messages: 1200, mothers reached: 1200, duplicates: 0" in result.stdout


@pytest.mark.rasa
def test_the_sustained_benchmark_answers_every_kind_of_message() -> None:
    """A short run of the mixed load with Rasa started: each kind is sent and answered, none
    fails (the figures themselves are reported, not asserted)."""
    rasa_runtime_or_skip()
    result = peerbot("benchmark", "--sustained", "8", "--rate", "8", timeout=400)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("sustained: 8 s at 8 messages/s") for line in lines), lines
    assert "errors 0 of 64" in result.stdout, result.stdout
    for kind in ("crisis", "faq", "relay", "research"):
        line = next(line for line in lines if line.strip().startswith(f"{kind}:"))
        assert "errors 0" in line and "p99" in line, line


def test_doctor_reports_telegram_and_the_missing_moderators_group() -> None:
    env = {**os.environ, "PEERBOT_TELEGRAM_TOKEN": "123:abc", "PEERBOT_DATABASE_URL": ""}
    env.pop("PEERBOT_TELEGRAM_MODERATOR_CHAT_ID", None)
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "doctor"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "telegram: on (https://api.telegram.org/bot); no moderators' group" in done.stdout
    assert "123:abc" not in done.stdout + done.stderr  # the token is never printed
    env["PEERBOT_TELEGRAM_MODERATOR_CHAT_ID"] = "-1001"
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "doctor"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "telegram: on (polling" in done.stdout


def test_doctor_reports_discord_without_a_moderators_role() -> None:
    env = {**os.environ, "PEERBOT_DISCORD_TOKEN": "secret.discord.token",
           "PEERBOT_DISCORD_MODERATOR_CHANNEL_ID": "123", "PEERBOT_DATABASE_URL": ""}  # fmt: skip
    env.pop("PEERBOT_DISCORD_MODERATOR_ROLE_ID", None)
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "doctor"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "discord: on; no moderators' role" in done.stdout
    assert "secret.discord.token" not in done.stdout + done.stderr


def test_rasa_token_matches_what_the_app_uses() -> None:
    from pydantic import SecretStr

    from community.settings import Settings

    env = {**os.environ, "PEERBOT_SECRET_KEY": "a-secret-key-for-this-test-0123456789abcdef"}
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "rasa-token"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    expected = Settings(secret_key=SecretStr(env["PEERBOT_SECRET_KEY"])).rasa_api_token()
    assert done.stdout.strip() == expected and len(expected) == 64


def test_doctor_reports_the_crisis_screens_layers(trained_screen_models: Path) -> None:
    env = {**os.environ, "PEERBOT_DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "doctor"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "✓ crisis screen: rules + learned layer screen-" in done.stdout
    env["PEERBOT_SCREEN_LEARNED"] = "false"
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "doctor"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "! crisis screen: rules only (PEERBOT_SCREEN_LEARNED=false)" in done.stdout


def test_flood_benchmark_reports_what_moderators_get() -> None:
    result = peerbot("benchmark", "--flood", "40")
    assert result.returncode == 0, result.stderr
    for scenario in ("one address", "one address each"):
        assert (
            f"{scenario}: 40 sent" in result.stdout and "40 got the crisis reply" in result.stdout
        )
    assert result.stdout.count("1 flood alert(s)") == 2
    assert result.stdout.count("the genuine crisis is number 1 in the queue") == 2


def test_the_mothers_101_seed_questions_are_submitted_once(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        PEERBOT_VAR_DIR=str(tmp_path / "var"),
        PEERBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'seed.sqlite3'}",
        PEERBOT_SECRET_KEY="cli-test-secret-key-0123456789abcdef",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peerbot.cli", *args],
            capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120, check=False,
        )  # fmt: skip

    missing = run("researcher", "seed-mothers101", "nobody")
    assert missing.returncode == 1 and "no researcher named nobody" in missing.stderr
    assert run("researcher", "add", "rae").returncode == 0
    first = run("researcher", "seed-mothers101", "rae")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("submitted for review") == 2
    again = run("researcher", "seed-mothers101", "rae")
    assert "already there" in again.stdout
