"""Which language a message is written in, English or Spanish, for the words of the reply.

py3langid (a maintained port of langid.py that ships its model in the package) decides when it
is confident; short messages are settled by reviewed marker words (`data/languages.yml`); a
message with no evidence either way keeps the language of her recent messages, then English.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES_PATH = Path(__file__).resolve().parent / "data" / "languages.yml"
DEFAULT_LANGUAGE = "en"
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class LanguageDetector:
    def __init__(self, data: dict[str, Any]) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._identifier.set_languages(["en", "es"])
        self._confident = float(data["confident"])
        self._markers = {
            language: frozenset(word.casefold() for word in words if " " not in word)
            for language, words in data["markers"].items()
        }

    def clear(self, text: str) -> str | None:
        """'en' or 'es' when this message alone says so: the detector confident on three words
        or more and the marker words not saying otherwise, or more marker words of one language;
        None when it does not ("ok", "911", an emoji), so one unclear message never changes her
        language. Markers overrule the detector on short slang it misreads ("see ya later")."""
        words = [w.casefold() for w in _WORDS.findall(text[:2000])]
        if not words:
            return None
        counts = {lang: sum(w in markers for w in words) for lang, markers in self._markers.items()}
        by_markers = None
        if counts["es"] != counts["en"]:
            by_markers = "es" if counts["es"] > counts["en"] else "en"
        language, confidence = self._identifier.classify(" ".join(words))
        if confidence >= self._confident and len(words) >= 3:
            margin = abs(counts["es"] - counts["en"])
            if by_markers is None or by_markers == language:
                return str(language)
            # Short slang the detector misreads ("see ya later"), or a clear majority of marker
            # words, overrules it; otherwise the detector's reading of the whole message stands.
            return by_markers if len(words) <= 4 or margin >= 3 else str(language)
        return by_markers

    def detect(self, text: str, previous: str | None = None) -> str:
        """'en' or 'es'. `previous` is her recent language, used when this message is unclear."""
        words = [w.casefold() for w in _WORDS.findall(text[:2000])]
        if not words:
            return previous or DEFAULT_LANGUAGE
        language, confidence = self._identifier.classify(" ".join(words))
        if confidence >= self._confident and len(words) >= 3:
            return str(language)
        counts = {lang: sum(w in markers for w in words) for lang, markers in self._markers.items()}
        if counts["es"] > counts["en"]:
            return "es"
        if counts["en"] > counts["es"]:
            return "en"
        if previous:
            return previous
        return str(language) if confidence >= self._confident else DEFAULT_LANGUAGE


@cache
def default_detector() -> LanguageDetector:
    with LANGUAGES_PATH.open(encoding="utf-8") as handle:
        return LanguageDetector(yaml.safe_load(handle))
