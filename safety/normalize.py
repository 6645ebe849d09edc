"""Text normalization for crisis screening: one canonical form for the ways people really type.

The result is lowercase ASCII letters, digits and single spaces, split into clauses. Accents are
folded ("está" -> "esta", "niño" -> "nino"), so Spanish keeps its words. Stretched
letters are collapsed (any run of a letter becomes one letter), and the phrase compiler collapses
its phrases the same way, so "diiiie" and "kiiilll" need no special patterns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\ufeff\u180e")
)

# Letters from other scripts that look like Latin ones, used to dodge filters or by keyboards.
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "ԁ": "d", "ɡ": "g", "ӏ": "l", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ν": "v", "ß": "ss", "’": "'", "‘": "'",
        "ʼ": "'", "`": "'", "´": "'",
    }
)  # fmt: skip

# Digits and symbols used as letters ("k1ll", "su1c1de", "@ss"), applied only inside words.
_LEET = str.maketrans(
    {"1": "i", "3": "e", "4": "a", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s"}
)
# Anchored at a word start, so each word is scanned once.
_LEET_WORD = re.compile(r"(?<![a-z0-9@$])[a-z]*[013457@$][a-z0-9@$]*")
_LEET_CHARS = re.compile(r"[013457@$]")
# A number followed by a unit ("30mg", "2x", "8am") is a number, not leetspeak.
_NUMBER_WITH_UNIT = re.compile(r"\d+[a-z]*")

# "pero" / "aunque" (Spanish "but" / "although") break clauses like their English counterparts.
_CLAUSE_BREAK = re.compile(r"[.!?;:\n\r\t]+|\s(?:but|though|although|pero|aunque)\s")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1+")
# Inverted question and exclamation marks ("¿estás bien?") are clause-neutral: they vanish.
_INVERTED = str.maketrans({"¿": " ", "¡": " "})


def fold_accents(text: str) -> str:
    """Letters with accents become plain ASCII letters ("está" -> "esta", "ñ" -> "n", "ü" -> "u").

    NFKD splits a letter from its combining marks, which are then dropped. Pure-ASCII text (most
    messages) is returned untouched, so English pays nothing for it.
    """
    if text.isascii():
        return text
    text = text.translate(_INVERTED)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Normalized:
    """A message in canonical form: its clauses, and the emoji words found in it."""

    clauses: tuple[str, ...]

    @property
    def text(self) -> str:
        return " | ".join(self.clauses)


def collapse_repeats(word_text: str) -> str:
    """Collapse every run of one letter ("kill" -> "kil", "diiie" -> "die")."""
    return _REPEATS.sub(r"\1", word_text)


def _unleet(match: re.Match[str]) -> str:
    token = match.group(0)
    if _NUMBER_WITH_UNIT.fullmatch(token) or not any(c.isalpha() for c in token):
        return token
    return token.translate(_LEET)


class Normalizer:
    """Turns raw text into clauses of canonical words, with emoji and misspellings mapped."""

    def __init__(self, emoji_words: Mapping[str, str], spellings: Mapping[str, str]) -> None:
        self._emoji = {key: f" {value} " for key, value in emoji_words.items()}
        self._emoji_pattern = (
            re.compile(
                "|".join(re.escape(key) for key in sorted(emoji_words, key=len, reverse=True))
            )
            if emoji_words
            else None
        )
        self._spellings = {
            collapse_repeats(_NOT_WORD.sub("", wrong)): collapse_repeats(right)
            for wrong, right in spellings.items()
        }

    def normalize(self, raw: str) -> Normalized:
        text = unicodedata.normalize("NFKC", raw).translate(_ZERO_WIDTH)
        if self._emoji_pattern is not None:
            text = self._emoji_pattern.sub(lambda m: self._emoji[m.group(0)], text)
        text = fold_accents(text.casefold().translate(_LOOKALIKES))
        # Apostrophes join words ("don't" -> "dont"), so cues need one spelling only.
        text = text.replace("'", "")
        if _LEET_CHARS.search(text):
            text = _LEET_WORD.sub(_unleet, text)
        clauses = []
        for part in _CLAUSE_BREAK.split(text):
            words = collapse_repeats(_NOT_WORD.sub(" ", part)).split()
            if not words:
                continue
            spellings = self._spellings
            clauses.append(" ".join([spellings.get(word, word) for word in words]))
        return Normalized(tuple(clauses))
