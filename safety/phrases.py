"""A small phrase language for the screening data, compiled to regular expressions.

Reviewers read and write phrases, not regex:

    want to die              words, matched whole
    (kill|hurt) myself       alternatives
    [really] want to die     an optional part (also written "(really)? want to die")
    took ... pills           up to six words in between
    overdos*                 a word that starts so
    # pills                  any number
    ## pills                 a number of two digits or more
    in ####                  a year (1900-2099)
    want to use $            the end of the clause
    @street_opioids          a word list from lexicon.yml

Letters in phrases are collapsed like the messages (see `normalize.collapse_repeats`).

Besides its regex, every phrase knows the words it can start with (`Compiled.firsts`), so the
screener only tries the phrases that can start at a given word instead of all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from safety.normalize import collapse_repeats

GAP_WORDS = 6
# Markers in `firsts` for parts that start with a number rather than a word.
NUMBER_START = "#"
_WORD = re.compile(r"@?[a-z0-9_]+\*?")


class PhraseError(ValueError):
    """A phrase in a data file cannot be compiled; the message says which and why."""


@dataclass(frozen=True)
class Compiled:
    """A phrase (or part of one): its regex, the words it can start with, and whether the
    part can match nothing (optional parts). A first word ending in '*' is a prefix."""

    source: str
    firsts: frozenset[str]
    nullable: bool = False


_GAP = Compiled("", frozenset(), nullable=True)
_END = Compiled("$", frozenset(), nullable=True)


def _alternation(parts: Iterable[Compiled]) -> Compiled:
    parts = list(parts)
    return Compiled(
        "(?:" + "|".join(p.source for p in parts) + ")",
        frozenset().union(*(p.firsts for p in parts)),
        any(p.nullable for p in parts),
    )


class _Parser:
    def __init__(self, phrase: str, lexicon: Mapping[str, Compiled]) -> None:
        self.source = phrase
        self.text = phrase.strip().lower()
        self.pos = 0
        self.lexicon = lexicon

    def error(self, why: str) -> PhraseError:
        return PhraseError(f"phrase {self.source!r}: {why}")

    def parse(self) -> Compiled:
        result = self.sequence()
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return result

    def sequence(self) -> Compiled:
        items: list[tuple[Compiled, str]] = []
        while True:
            while self.pos < len(self.text) and self.text[self.pos] == " ":
                self.pos += 1
            if self.pos >= len(self.text) or self.text[self.pos] in "|)]":
                break
            items.append(self.item())
        if not items:
            raise self.error("empty alternative")
        if items[-1][1] == "gap" or items[0][1] == "gap":
            raise self.error("'...' must stand between two words")
        # Separators lead each item, inside the optional group for optional ones, so any mix of
        # optional parts leaves exactly one space between the words that are present.
        out = ""
        started = False
        firsts: set[str] = set()
        still_leading = True  # every item so far could be absent
        for index, (part, kind) in enumerate(items):
            if still_leading:
                firsts |= part.firsts
            if kind == "end":
                if index != len(items) - 1:
                    raise self.error("'$' must come last")
                out += "$"
                continue
            if kind == "gap":
                out += f"(?: [a-z0-9]+){{0,{GAP_WORDS}}}"
                continue
            if kind == "optional":
                out += f"(?: {part.source})?" if started else f"(?:{part.source} )?"
            else:
                out += (" " if started else "") + part.source
                started = True
                still_leading = still_leading and part.nullable
        if not started and items[-1][1] != "end":
            raise self.error("every part is optional, so it would match nothing")
        return Compiled(out, frozenset(firsts), nullable=not started)

    def alternatives(self, closing: str) -> Compiled:
        options = [self.sequence()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence())
        if self.pos >= len(self.text) or self.text[self.pos] != closing:
            raise self.error(f"missing {closing!r}")
        self.pos += 1
        return _alternation(options)

    def item(self) -> tuple[Compiled, str]:
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
            return self.alternatives("]"), "optional"
        if self.text.startswith("...", self.pos):
            self.pos += 3
            return _GAP, "gap"
        if char == "$":
            self.pos += 1
            return _END, "end"
        for token, source in (("####", r"(?:19|20)\d\d"), ("##", r"\d\d+"), ("#", r"\d+")):
            if self.text.startswith(token, self.pos):
                self.pos += len(token)
                return Compiled(source, frozenset({NUMBER_START})), "word"
        match = _WORD.match(self.text, self.pos)
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
        word = collapse_repeats(token.rstrip("*"))
        first = (word + "*") if prefix else word
        if word[:1].isdigit():
            first = NUMBER_START
        source = re.escape(word) + ("[a-z]*" if prefix else "")
        return Compiled(source, frozenset({first})), "word"


def compile_phrase_parts(phrase: str, lexicon: Mapping[str, Compiled] | None = None) -> Compiled:
    """The compiled phrase with its first words."""
    return _Parser(phrase, lexicon or {}).parse()


def compile_phrase(phrase: str, lexicon: Mapping[str, Compiled] | None = None) -> str:
    """The regex source for one phrase (without word boundaries)."""
    return compile_phrase_parts(phrase, lexicon).source


def compile_lexicon(raw: Mapping[str, list[str]]) -> dict[str, Compiled]:
    """Word lists become alternations; a list may use lists defined above it."""
    compiled: dict[str, Compiled] = {}
    for name, entries in raw.items():
        compiled[name] = _alternation(compile_phrase_parts(str(e), compiled) for e in entries)
    return compiled


def bounded(source: str) -> str:
    """Match only whole words: nothing alphanumeric right before or after."""
    return f"(?<![a-z0-9])(?:{source})(?![a-z0-9])"


def word_index_keys(word: str, prefixes: Iterable[str]) -> list[str]:
    """The index keys a message word can open: itself, a number marker, matching prefixes."""
    keys = [NUMBER_START] if word[:1].isdigit() else [word]
    keys.extend(p for p in prefixes if word.startswith(p[:-1]))
    return keys


class PhraseIndex:
    """Named groups of phrases, indexed by the words they can start with.

    `matches_at` tries only the phrases that can start at a given word, so scanning a message
    costs a dictionary look-up per word plus a few small regex matches where something can start.
    Within a group list, earlier groups win a tie at the same word (put the most important first).
    """

    def __init__(self, groups: Iterable[tuple[str, Iterable[Compiled]]]) -> None:
        by_first: dict[str, dict[str, list[str]]] = {}
        for name, phrases in groups:
            for phrase in phrases:
                if not phrase.firsts:
                    raise PhraseError(f"a phrase of {name} cannot start anywhere")
                for first in phrase.firsts:
                    by_first.setdefault(first, {}).setdefault(name, []).append(phrase.source)
        self._patterns = {
            first: re.compile(
                "(?:"
                + "|".join(f"(?P<{n}>{'|'.join(sources)})" for n, sources in named.items())
                + ")(?![a-z0-9])"
            )
            for first, named in by_first.items()
        }
        self._prefixes = tuple(key for key in self._patterns if key.endswith("*"))
        self._cache: dict[str, tuple[re.Pattern[str], ...]] = {}

    def _patterns_for(self, word: str) -> tuple[re.Pattern[str], ...]:
        found = self._cache.get(word)
        if found is None:
            keys = word_index_keys(word, self._prefixes)
            found = tuple(self._patterns[k] for k in keys if k in self._patterns)
            if len(self._cache) < 65_536:  # words repeat endlessly in chat; keep it bounded
                self._cache[word] = found
        return found

    def matches_at(self, clause: str, start: int, word: str) -> list[re.Match[str]]:
        """Every candidate match starting at `start`, where `word` stands."""
        results = []
        for pattern in self._patterns_for(word):
            found = pattern.match(clause, start)
            if found is not None:
                results.append(found)
        return results

    def spans(self, clause: str) -> dict[str, list[tuple[int, int]]]:
        """Where each group matches in the clause (first-listed group wins at a word)."""
        found: dict[str, list[tuple[int, int]]] = {}
        position = 0
        for word in clause.split(" "):
            start = position
            position += len(word) + 1
            for match in self.matches_at(clause, start, word):
                found.setdefault(match.lastgroup or "", []).append(match.span())
        return found
