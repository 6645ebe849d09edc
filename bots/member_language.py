"""Which language a member is answered in, and when it changes.

Her own choice counts most ("en español", "English please", /language, the web chat's switch);
then what she writes (a run of messages in the other language switches it: one message never
does, so a Spanish speaker who types "ok thanks" is still answered in Spanish); then her
platform's setting, as a first guess before she has written anything clear.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from community.phrases import DEFAULT_LANGUAGE, LANGUAGES

CHOSEN = "chosen"
WRITTEN = "written"
HINT = "hint"
# Messages in a row in the other language that switch it; more when she chose it herself.
RUN_TO_SWITCH = 2
RUN_TO_SWITCH_CHOSEN = 3

# Whole messages that choose a language (folded: case, accents and punctuation aside).
_CHOICES = {
    "en": (
        "english", "english please", "in english", "in english please", "english pls",
        "can you speak english", "do you speak english", "speak english", "speak english please",
        "answer in english", "write in english", "en ingles", "ingles", "ingles por favor",
        "en ingles por favor", "hablame en ingles", "habla ingles", "hablas ingles",
    ),
    "es": (
        "spanish", "spanish please", "in spanish", "in spanish please", "espanol", "en espanol",
        "espanol por favor", "en espanol por favor", "en espanol porfa", "espanol porfa",
        "hablas espanol", "habla espanol", "hablame en espanol", "puedes hablar en espanol",
        "puedes hablar espanol", "me puedes hablar en espanol", "do you speak spanish",
        "can you speak spanish", "speak spanish", "answer in spanish", "escribeme en espanol",
        "respondeme en espanol", "contestame en espanol", "spanish pls", "castellano",
        "en castellano",
    ),
}  # fmt: skip


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in letters).split())


_CHOICE_KEYS = {
    _fold(words): language for language, all_words in _CHOICES.items() for words in all_words
}


@dataclass(frozen=True)
class MemberLanguage:
    """Her language as stored: the language (None until known), how it was decided, and how
    many messages in a row she has written in the other one."""

    language: str | None = None
    source: str | None = None
    run: int = 0

    def answer_in(self, hint: str | None = None) -> str:
        """The language to answer in now."""
        if self.language in LANGUAGES:
            return self.language
        return hint_language(hint) or DEFAULT_LANGUAGE

    def after(self, written: str | None, hint: str | None) -> MemberLanguage:
        """After one message: `written` is the language it is clearly in (None when unclear),
        `hint` the platform's setting."""
        hinted = hint_language(hint)
        if self.language is None:
            if written is not None:
                return MemberLanguage(written, WRITTEN, 0)
            return MemberLanguage(hinted, HINT, 0) if hinted else self
        if written is None or written == self.language:
            return self if self.run == 0 else MemberLanguage(self.language, self.source, 0)
        if self.source == HINT:
            return MemberLanguage(written, WRITTEN, 0)  # her words count more than her phone's
        run = self.run + 1
        if run >= (RUN_TO_SWITCH_CHOSEN if self.source == CHOSEN else RUN_TO_SWITCH):
            return MemberLanguage(written, WRITTEN, 0)
        return MemberLanguage(self.language, self.source, run)


def chosen_language(text: str) -> str | None:
    """'en' or 'es' when the whole message chooses a language ("/language es", "en español",
    "English please"); None otherwise."""
    parts = text.strip().split()
    if parts and parts[0].split("@")[0].casefold() == "/language":
        if len(parts) < 2:
            return None
        return _CHOICE_KEYS.get(_fold(" ".join(parts[1:])), normalize_choice(parts[1]))
    if len(parts) > 8:
        return None
    return _CHOICE_KEYS.get(_fold(text))


def hint_language(hint: str | None) -> str | None:
    """'en' or 'es' from a platform's language tag ("es-MX", "en_US", "ES"); None for any
    other language or none."""
    primary = (hint or "").strip().replace("_", "-").split("-", 1)[0].casefold()
    return primary if primary in LANGUAGES else None


def normalize_choice(word: str) -> str | None:
    """A /language argument: "es", "ES", "es-MX", "spanish", "español" -> 'es'."""
    return _CHOICE_KEYS.get(_fold(word)) or hint_language(word)


def asks_for_language(text: str) -> bool:
    """/language alone: she wants to pick."""
    parts = text.strip().split()
    return len(parts) == 1 and parts[0].split("@")[0].casefold() == "/language"
