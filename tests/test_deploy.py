"""The production units in deploy/: every peerbot command they run exists and takes what they
give it, they read the shared environment file, and `peerbot rasa-endpoints` writes what the
Rasa unit starts with."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from community.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def _units() -> dict[str, configparser.ConfigParser]:
    units = {}
    for path in sorted(DEPLOY.glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(path)
        units[path.name] = parser
    return units


def test_every_unit_runs_real_commands_with_the_shared_environment() -> None:
    units = _units()
    assert {"peerbot-app.service", "peerbot-adapter@.service", "peerbot-rasa@.service",
            "peerbot-actions.service"} <= set(units)  # fmt: skip
    subcommands = set()
    for name, unit in units.items():
        service = unit["Service"]
        assert service["EnvironmentFile"] == "/etc/peerbot/peerbot.env", name
        assert service["Restart"] == "always", name
        for key in ("ExecStartPre", "ExecStart"):
            for found in re.findall(r"/bin/peerbot ([a-z-]+)", service.get(key, "")):
                subcommands.add(found)
    assert {"serve", "migrate", "adapter", "rasa-endpoints", "rasa-token"} <= subcommands
    for subcommand in subcommands:
        shown = subprocess.run(
            [sys.executable, "-m", "peerbot.cli", subcommand, "--help"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert shown.returncode == 0, (subcommand, shown.stderr)
    example = (DEPLOY / "peerbot.env.example").read_text()
    assert "PEERBOT_ADAPTERS_IN_APP=false" in example and "PEERBOT_WORKERS=" in example


def test_rasa_endpoints_are_written_for_the_rasa_unit(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PEERBOT_VAR_DIR": str(tmp_path / "var"),
        "PEERBOT_RASA_TRACKER_STORE": "redis",
        "PEERBOT_REDIS_URL": "redis://:pw-not-in-the-file@127.0.0.1:6379/2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "rasa-endpoints"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    path = Path(done.stdout.strip())
    assert path == tmp_path / "var" / "rasa-endpoints.yml"
    written = path.read_text()
    assert "pw-not-in-the-file" not in written
    document = yaml.safe_load(written)
    assert document["tracker_store"]["db"] == 2 and document["lock_store"]["type"] == "redis"
    assert path.stat().st_mode & 0o077 == 0
