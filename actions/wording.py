"""What the custom actions write themselves, in her language: read from actions/data/wording.yml,
one reviewable file with every text in English and Spanish (fixed answers are Rasa responses)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from actions.language import DEFAULT_LANGUAGE, LANGUAGES

WORDING_PATH = Path(__file__).parent / "data" / "wording.yml"


@cache
def wording() -> dict[str, dict[str, Any]]:
    """The whole file, by language; loaded once per process, on first use."""
    with WORDING_PATH.open(encoding="utf-8") as handle:
        data: dict[str, dict[str, Any]] = yaml.safe_load(handle)
    return data


def say(key: str, language: str = DEFAULT_LANGUAGE, **fields: str) -> str:
    """The text at a dotted `key` ("finder.no_local") in `language`, placeholders filled."""
    node: Any = wording()[language if language in LANGUAGES else DEFAULT_LANGUAGE]
    for part in key.split("."):
        node = node[part]
    return str(node).format(**fields) if fields else str(node)


def title(intent: str, language: str = DEFAULT_LANGUAGE) -> str | None:
    """The short button title of a topic, or None for a topic never offered as a button."""
    titles: dict[str, str] = wording()[language if language in LANGUAGES else DEFAULT_LANGUAGE][
        "titles"
    ]
    return titles.get(intent)
