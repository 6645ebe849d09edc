"""What peerbot itself says to a member, in her language: read from the reviewable data file
`community/data/phrases.yml` (every phrase in English and Spanish) and filled in.

Loaded once, on first use, and checked whole then: a phrase missing a language fails at once,
not in front of a mother.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

PHRASES_PATH = Path(__file__).resolve().parent / "data" / "phrases.yml"
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"


def normalize(language: str | None) -> str:
    """'en' or 'es' from whatever a platform or a row says ("es-MX", "ES", None)."""
    primary = (language or "").replace("_", "-").split("-", 1)[0].strip().casefold()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


@cache
def phrases(path: Path = PHRASES_PATH) -> dict[str, dict[str, str]]:
    """Every phrase by key, then by language."""
    with path.open(encoding="utf-8") as handle:
        data: Any = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: a mapping of phrases is expected")
    checked: dict[str, dict[str, str]] = {}
    for key, texts in data.items():
        if not isinstance(texts, dict) or any(
            not isinstance(texts.get(language), str) or not texts[language].strip()
            for language in LANGUAGES
        ):
            raise ValueError(f"{path.name}: {key} needs non-empty text in {', '.join(LANGUAGES)}")
        checked[str(key)] = {language: texts[language] for language in LANGUAGES}
    return checked


def phrase(key: str, language: str | None = None, **values: object) -> str:
    """The phrase `key` in `language` (English for anything else), its {names} filled."""
    text = phrases()[key][normalize(language)]
    return text.format(**values) if values else text
