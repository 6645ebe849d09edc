"""Moderators' canned replies (`data/snippets.yml`), shared by every moderation home."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

SNIPPETS_PATH = Path(__file__).resolve().parent / "data" / "snippets.yml"


@dataclass(frozen=True)
class Snippet:
    id: str
    title: str
    text: str


@cache
def load_snippets(path: Path = SNIPPETS_PATH) -> tuple[Snippet, ...]:
    with path.open(encoding="utf-8") as handle:
        return tuple(Snippet(**item) for item in yaml.safe_load(handle)["snippets"])
