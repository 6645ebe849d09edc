"""The conduct screen: does a post in a community channel attack or shame someone?

Pure and platform-free, like the crisis screen (`screen.py`), and it shares that screen's
normalizer and phrase language. The knowledge lives in `safety/data/conduct.yml` for review.
A finding is only ever a flag for a moderator to look at: the product never removes, warns or
answers anyone because of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from safety.normalize import Normalizer, collapse_repeats
from safety.phrases import PhraseIndex, compile_lexicon, compile_phrase_parts

DATA_DIR = Path(__file__).resolve().parent / "data"
GUARD_WINDOW_WORDS = 4
# Posts are screened up to this length; a pasted book is not a comment.
SCREEN_LIMIT_CHARS = 4_000


@dataclass(frozen=True)
class ConductFinding:
    category: str  # "attack" or "shaming"
    evidence: str  # the normalized words that matched (for the moderator, never logged)


class ConductDataError(ValueError):
    """conduct.yml cannot be loaded; the message says where."""


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class ConductScreen:
    """Loaded conduct knowledge; `screen` is safe to call from any thread and never raises."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        normalization = _load(data_dir / "normalization.yml")
        self._normalizer = Normalizer(
            emoji_words=normalization.get("emoji", {}), spellings=normalization.get("spellings", {})
        )
        document = _load(data_dir / "conduct.yml")
        try:
            lexicon = compile_lexicon(document["lists"])
            self.categories = tuple(document["categories"])
            self._index = PhraseIndex(
                (
                    name,
                    [compile_phrase_parts(p, lexicon) for p in entry["phrases"]],
                )
                for name, entry in document["categories"].items()
            )
            self._guard_cues = frozenset(collapse_repeats(w) for w in document["guard_cues"])
        except (KeyError, ValueError) as error:
            raise ConductDataError(f"conduct.yml: {error}") from None

    def screen(self, text: str) -> ConductFinding | None:
        if not text or text.isspace():
            return None
        for clause in self._normalizer.normalize(text[:SCREEN_LIMIT_CHARS]).clauses:
            words = clause.split(" ")
            position = 0
            for index, word in enumerate(words):
                start = position
                position += len(word) + 1
                for match in self._index.matches_at(clause, start, word):
                    before = words[max(0, index - GUARD_WINDOW_WORDS) : index]
                    if not self._guard_cues.intersection(before):
                        return ConductFinding(match.lastgroup or "", match[0])
        return None


@cache
def default_conduct_screen() -> ConductScreen:
    return ConductScreen()
