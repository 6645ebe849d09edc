"""A small phrase language for the screening data, compiled to regular expressions.

Reviewers read and write phrases, not regex:

    want to die              words, matched whole
    (kill|hurt) myself       alternatives
    [really] want to die     an optional part (also written "(really)? want to die")
    took ... pills           up to six words in between
    overdos*                 a word that starts so
    # pills                  any number
    ## pills                 a number of two digits or more
    want to use $            the end of the clause
    @street_opioids          a word list from lexicon.yml

Letters in phrases are collapsed like the messages (see `normalize.collapse_repeats`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from safety.normalize import collapse_repeats

GAP_WORDS = 6


class PhraseError(ValueError):
    """A phrase in a data file cannot be compiled; the message says which and why."""


class _Parser:
    def __init__(self, phrase: str, lexicon: Mapping[str, str]) -> None:
        self.source = phrase
        self.text = phrase.strip().lower()
        self.pos = 0
        self.lexicon = lexicon

    def error(self, why: str) -> PhraseError:
        return PhraseError(f"phrase {self.source!r}: {why}")

    def parse(self) -> str:
        result = self.sequence()
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return result

    def sequence(self) -> str:
        items: list[tuple[str, str]] = []
        while True:
            while self.pos < len(self.text) and self.text[self.pos] == " ":
                self.pos += 1
            if self.pos >= len(self.text) or self.text[self.pos] in "|)]":
                break
            items.append(self.item())
        if not items:
            raise self.error("empty alternative")
        if items[-1][1] == "gap":
            raise self.error("'...' must stand between two words")
        # Separators lead each item, inside the optional group for optional ones, so any mix of
        # optional parts leaves exactly one space between the words that are present.
        out = ""
        started = False
        for index, (piece, kind) in enumerate(items):
            if kind == "end":
                if index != len(items) - 1:
                    raise self.error("'$' must come last")
                out += "$"
            elif kind == "gap":
                if not started:
                    raise self.error("'...' must stand between two words")
                out += f"(?: [a-z0-9]+){{0,{GAP_WORDS}}}"
            elif kind == "optional":
                out += f"(?: {piece})?" if started else f"(?:{piece} )?"
            else:
                out += (" " if started else "") + piece
                started = True
        if not started and items[-1][1] != "end":
            raise self.error("every part is optional, so it would match nothing")
        return out

    def alternatives(self, closing: str) -> str:
        options = [self.sequence()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence())
        if self.pos >= len(self.text) or self.text[self.pos] != closing:
            raise self.error(f"missing {closing!r}")
        self.pos += 1
        return "(?:" + "|".join(options) + ")"

    def item(self) -> tuple[str, str]:
        char = self.text[self.pos]
        if char == "(":
            self.pos += 1
            group = self.alternatives(")")
            if self.pos < len(self.text) and self.text[self.pos] == "?":
                self.pos += 1
                return group, "optional"
            return group, "word"
        if char == "[":
            self.pos += 1
            return self.alternatives("]")[3:-1], "optional"
        if self.text.startswith("...", self.pos):
            self.pos += 3
            return "", "gap"
        if char == "$":
            self.pos += 1
            return "$", "end"
        if self.text.startswith("##", self.pos):
            self.pos += 2
            return r"\d\d+", "word"
        if char == "#":
            self.pos += 1
            return r"\d+", "word"
        match = re.compile(r"@?[a-z0-9_]+\*?").match(self.text, self.pos)
        if match is None:
            raise self.error(f"unexpected {char!r} at {self.pos}")
        self.pos = match.end()
        token = match.group(0)
        if token.startswith("@"):
            name = token[1:]
            if name not in self.lexicon:
                raise self.error(f"unknown word list @{name}")
            return self.lexicon[name], "word"
        prefix = token.endswith("*")
        word = re.escape(collapse_repeats(token.rstrip("*")))
        return (word + "[a-z]*") if prefix else word, "word"


def compile_phrase(phrase: str, lexicon: Mapping[str, str] | None = None) -> str:
    """The regex source for one phrase (without word boundaries)."""
    return _Parser(phrase, lexicon or {}).parse()


def compile_lexicon(raw: Mapping[str, list[str]]) -> dict[str, str]:
    """Word lists become alternations; a list may use lists defined above it."""
    compiled: dict[str, str] = {}
    for name, entries in raw.items():
        compiled[name] = "(?:" + "|".join(compile_phrase(str(e), compiled) for e in entries) + ")"
    return compiled


def bounded(source: str) -> str:
    """Match only whole words: nothing alphanumeric right before or after."""
    return f"(?<![a-z0-9])(?:{source})(?![a-z0-9])"
