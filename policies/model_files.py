"""Data a policy of ours keeps inside the trained model: written when it trains, read when the
model loads, so a served model never reads the project's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def keep(model_storage: ModelStorage, resource: Resource, name: str, data: Any) -> None:
    """Writes `data` as JSON into the policy's part of the model."""
    with model_storage.write_to(resource) as directory:
        (Path(directory) / name).write_text(json.dumps(data), encoding="utf-8")


def read(model_storage: ModelStorage, resource: Resource, name: str) -> Any:
    """The data kept under `name`, or None in a model trained before it was kept."""
    try:
        with model_storage.read_from(resource) as directory:
            return json.loads((Path(directory) / name).read_text(encoding="utf-8"))
    except (ValueError, FileNotFoundError, OSError):
        return None
