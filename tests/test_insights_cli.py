"""`peerbot insights rollup` (#22): a day never rolled up is filled in from the sources that
still hold it, a settled day is left alone unless rebuilt, and a bad or future day is refused
with a plain message."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from community.insights.tallies import community_day
from community.models import utcnow
from community.settings import PROJECT_ROOT


def _rollup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "insights", "rollup", *args],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_days_are_filled_in_settled_and_rebuilt(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PEERBOT_VAR_DIR": str(tmp_path / "var"),
        "PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'peerbot.sqlite3'}",
        "PEERBOT_RESEARCH_TIMEZONE": "America/New_York",
    }
    today = community_day(utcnow(), "America/New_York")
    old = (today - timedelta(days=20)).isoformat()
    first = _rollup(env, "--day", old)
    assert first.returncode == 0, first.stderr
    # Twenty days back: past the reach of activity (8 days), within research deliveries' (30).
    assert first.stdout.startswith(f"Rolled up {old}: tallies, cases, checks")
    assert "activity" not in first.stdout and "research_sent" in first.stdout
    again = _rollup(env, "--day", old)
    assert again.stdout == f"Left {old} as it was (settled; --rebuild to redo)\n"
    assert _rollup(env, "--day", old, "--rebuild").stdout.startswith(f"Rolled up {old}: ")

    # As the hourly job: it catches up from the day after the last one rolled up, to today.
    recent = _rollup(env)
    assert recent.returncode == 0 and recent.stdout.count("Rolled up") == 20
    assert _rollup(env).stdout.count("Rolled up") == 8  # then today and the seven before

    bad = _rollup(env, "--day", "2026-13-01")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    tomorrow = (today + timedelta(days=2)).isoformat()
    future = _rollup(env, "--since", tomorrow)
    assert future.returncode == 2 and "not come yet" in future.stderr
