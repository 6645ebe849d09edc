"""Training the Rasa model, skipped when nothing that shapes it has changed.

The model is named by a fingerprint of its inputs (config.yml, nlu/, responses/ and the Rasa
runtime lock), so "is there a current model?" is a file check that needs no Rasa start-up, and
the newest model is simply the one whose name matches the fingerprint.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from community.settings import PROJECT_ROOT, Settings

MODEL_PREFIX = "peerbot-"
TRAINING_INPUTS = (
    "config.yml",
    "nlu",
    "responses",
    "policies",
    "nlu_components",
    "rasa-runtime.lock",
    "rasa-encoder.lock",
)


class TrainingError(RuntimeError):
    """Rasa could not train; the message says what to look at."""


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A short hash of every training input's path and content."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix not in {".yml", ".yaml", ".lock", ".py"}:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings, root: Path = PROJECT_ROOT) -> Path:
    return settings.models_dir / f"{MODEL_PREFIX}{fingerprint(root)}.tar.gz"


@dataclass(frozen=True)
class TrainingResult:
    model: Path
    trained: bool  # False when an up-to-date model already existed


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The environment Rasa processes get: endpoints.yml reads the action server URL from it."""
    env = dict(os.environ)
    env["PEERBOT_ACTION_SERVER_URL"] = f"http://127.0.0.1:{settings.action_server_port}/webhook"
    return env


def train(settings: Settings, force: bool = False, root: Path = PROJECT_ROOT) -> TrainingResult:
    """Train unless a model for the current inputs exists; keep only the newest model."""
    target = model_path(settings, root)
    if target.exists() and not force:
        return TrainingResult(target, trained=False)
    if not settings.rasa_runtime.exists():
        raise TrainingError(
            f"The Rasa runtime is missing ({settings.rasa_runtime}). Run 'make install'."
        )
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.rasa_runtime),
        "train",
        "--config",
        str(root / "config.yml"),
        "--domain",
        str(root / "responses"),
        "--data",
        str(root / "nlu"),
        "--out",
        str(settings.models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    completed = subprocess.run(  # noqa: S603 - fixed command, no shell
        command, cwd=root, env=rasa_environment(settings), capture_output=True, text=True
    )
    if completed.returncode != 0 or not target.exists():
        tail = "\n".join(completed.stdout.splitlines()[-15:] + completed.stderr.splitlines()[-15:])
        raise TrainingError(f"rasa train failed (exit {completed.returncode}):\n{tail}")
    for old in settings.models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"):
        if old != target:
            old.unlink()
    return TrainingResult(target, trained=True)
