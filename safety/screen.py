"""Crisis screening: does this message need crisis help now, of what kind, and how urgently?

Pure and platform-free: text in, a `Screening` out, no I/O after loading. The knowledge lives in
YAML under `safety/data/` (signals per category, word lists, guards, spellings, emoji) so that a
clinician can review it; this module only applies it:

1. normalize the text into clauses of canonical words (see `normalize.py`);
2. find signals (phrases with a category and severity) in each clause;
3. drop a signal when a guard applies in its clause: a negation right before it ("I would never
   hurt my baby"), a past or recovery frame ("years ago", "2 years clean"), an idiom covering it
   ("killed it at work"), a dream or a denial it belongs to ("dreamt i used", "no thoughts of
   hurting myself"), a look back said after it ("... that was 2 years ago"); and, for signals
   marked as sensitive to them, a hyperbole marker ("lol"), an information question ("where can
   I get narcan", "what are the warning signs"), a report of others' words ("the news said"),
   intrusive thoughts she is distressed by, coping that follows an urge ("... but I called my
   sponsor and it passed"), or a resolution that follows an event ("... she is totally fine");
4. also look for high-risk phrases written without spaces ("iwanttodie");
5. take the most severe finding; several distinct signals of one category raise it one level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from safety.normalize import Normalizer, collapse_repeats
from safety.phrases import Compiled, PhraseIndex, compile_lexicon, compile_phrase_parts

DATA_DIR = Path(__file__).resolve().parent / "data"
# Where a guard phrase must stand to cover a signal (see `_ClauseGuards.suppresses`):
# "over" overlaps the signal; "near" is anywhere close in its clause; "lead" ends right where the
# signal starts or inside it, so it frames exactly that statement ("had a dream | i used", "no
# thoughts of | hurting myself") and a denial elsewhere in the sentence does not cancel a risk;
# "after" follows the signal in its clause or opens one of the next clauses, as a coda does ("the
# urge came back | but it passed", "he fell off the couch | he is totally fine"); "around" is
# "near" or "after" ("images of hurting the baby | but it makes me sick").
# "qualifier" narrows what was just said ("wish i could stop existing | not die, just pause",
# "took all my pills | prenatal, iron, zoloft"); "quote" marks words as a song's ("'tired of
# being here' | evanescence was my whole 2009").
GUARD_SCOPES: Mapping[str, str] = {
    "idiom": "over",
    "past": "near",
    "recovery": "near",
    "hyperbole": "near",
    "question": "near",
    "info": "near",
    "intrusive": "around",
    "dream": "lead",
    "denial": "lead",
    "report": "lead",
    "retrospect": "after",
    "coping": "after",
    "resolved": "after",
    "qualifier": "after",
    "quote": "around",
}
GUARD_KINDS = frozenset({"negation", *GUARD_SCOPES})
DEFAULT_GUARDS = frozenset(
    {"negation", "past", "recovery", "idiom", "dream", "denial", "retrospect"}
)
NEGATION_WINDOW_WORDS = 4
NEGATION_LOOKBACK_CHARS = 80
GUARD_CONTEXT_CHARS = 200
# An "after" guard counts in this many clauses following the signal's, near their start.
CODA_CLAUSES = 2
SQUASH_MIN_LETTERS = 8


class Severity(IntEnum):
    ELEVATED = 1
    HIGH = 2
    IMMINENT = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Signal:
    id: str
    category: str
    severity: Severity
    guards: frozenset[str]
    why: str


@dataclass(frozen=True)
class Finding:
    category: str
    severity: Severity
    signal: str
    evidence: str


@dataclass(frozen=True)
class Screening:
    """The verdict for one message. `evidence` holds the normalized words that matched."""

    crisis: bool
    category: str | None = None
    severity: Severity | None = None
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def evidence(self) -> list[str]:
        return [finding.evidence for finding in self.findings]

    def as_dict(self) -> dict[str, Any]:
        return {
            "crisis": self.crisis,
            "category": self.category,
            "severity": self.severity.label if self.severity else None,
            "evidence": self.evidence,
        }


NO_CRISIS = Screening(crisis=False)


class ScreeningDataError(ValueError):
    """A screening data file is malformed; the message names the file and the entry."""


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Screener:
    """Loaded screening knowledge; `screen` is safe to call from any thread."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        normalization = _load_yaml(data_dir / "normalization.yml")
        self._normalizer = Normalizer(
            emoji_words=normalization.get("emoji", {}), spellings=normalization.get("spellings", {})
        )
        lexicon = compile_lexicon(_load_yaml(data_dir / "lexicon.yml")["lists"])
        self.lexicon = lexicon
        guards = _load_yaml(data_dir / "guards.yml")

        self._negation_cues = frozenset(
            collapse_repeats(word) for word in guards["negation"]["cues"]
        )
        self._negation_breakers = frozenset(
            collapse_repeats(word) for word in guards["negation"]["breakers"]
        )
        self._guards = PhraseIndex(
            (
                kind,
                [compile_phrase_parts(p, lexicon) for p in guards[kind]["phrases"]],
            )
            for kind in GUARD_SCOPES
        )

        self.signals: dict[str, Signal] = {}
        squashed: list[str] = []
        entries = []
        for path in sorted((data_dir / "signals").glob("*.yml")):
            document = _load_yaml(path)
            for entry in document["signals"]:
                entries.append((path, document["category"], entry))
        # Within one regex, alternatives are tried in order: most severe first wins a position.
        entries.sort(key=lambda item: -Severity[item[2]["severity"].upper()])
        groups: list[tuple[str, list[Compiled]]] = []
        for path, category, entry in entries:
            signal = self._signal(path, category, entry)
            group = f"s{len(self.signals)}"
            self.signals[group] = signal
            try:
                compiled = [compile_phrase_parts(p, lexicon) for p in entry["phrases"]]
            except ValueError as error:
                raise ScreeningDataError(f"{path.name}: {signal.id}: {error}") from None
            groups.append((group, compiled))
            for phrase in entry.get("squashed", []):
                squashed.append(f"(?P<{group}_{len(squashed)}>{collapse_repeats(phrase)})")
        self._index = PhraseIndex(groups)
        self._squashed_re = re.compile("|".join(squashed)) if squashed else None

    @staticmethod
    def _signal(path: Path, category: str, entry: Mapping[str, Any]) -> Signal:
        try:
            severity = Severity[str(entry["severity"]).upper()]
            guards = set(DEFAULT_GUARDS)
            guards |= set(entry.get("also_guard", []))
            guards -= set(entry.get("ignore_guards", []))
            unknown = guards - GUARD_KINDS
            if unknown:
                raise ValueError(f"unknown guards {sorted(unknown)}")
            return Signal(
                id=str(entry["id"]),
                category=category,
                severity=severity,
                guards=frozenset(guards),
                why=str(entry.get("why", "")),
            )
        except (KeyError, ValueError) as error:
            raise ScreeningDataError(f"{path.name}: {entry.get('id', '?')}: {error}") from None

    def normalized_text(self, text: str) -> str:
        """The message in the canonical form the rules read (the learned layer reads it too)."""
        return " | ".join(self._normalizer.normalize(text).clauses)

    def normalized_clauses(self, text: str) -> tuple[str, ...]:
        return self._normalizer.normalize(text).clauses

    def negated_at(self, clause: str, start: int) -> bool:
        """Whether a negation cue stands right before `start` ("didn't call 911")."""
        return _ClauseGuards(self, clause)._negated(start)

    def cues(self, clauses: tuple[str, ...]) -> list[str]:
        """What the rules noticed short of a finding, as words for the learned layer: which
        guards are present (a past frame, a question, an idiom...), a negation cue, and which
        categories' signals matched but were guarded. Such messages are the hard negatives."""
        found: set[str] = set()
        for index, clause in enumerate(clauses):
            following = clauses[index + 1 : index + 1 + CODA_CLAUSES]
            guards = _ClauseGuards(self, clause, following)
            for kind in sorted(GUARD_KINDS - {"negation"}):
                if guards._guard_spans(kind):
                    found.add(f"zzguard{kind}")
            if any(word in self._negation_cues for word in clause.split()):
                found.add("zzguardnegation")
            for match in self._signal_matches(clause):
                signal = self.signals[match.lastgroup or ""]
                state = "guarded" if guards.suppresses(signal, match) else "matched"
                found.add(f"zz{state}{signal.category.replace('_', '')}")
        return sorted(found)

    def learned_view(self, text: str) -> str:
        """The text the learned layer reads: normalized words, then the rules' cues."""
        clauses = self._normalizer.normalize(text).clauses
        return " | ".join(clauses) + " " + " ".join(self.cues(clauses))

    def screen(self, text: str) -> Screening:
        """Screen one message. Never raises on any string input."""
        if not text or text.isspace():
            return NO_CRISIS
        normalized = self._normalizer.normalize(text)
        findings: list[Finding] = []
        clauses = normalized.clauses
        for index, clause in enumerate(clauses):
            following = clauses[index + 1 : index + 1 + CODA_CLAUSES]
            findings.extend(self._clause_findings(clause, following))
        if not findings:
            return NO_CRISIS
        return _verdict(findings)

    def _signal_matches(self, clause: str) -> list[re.Match[str]]:
        """Non-overlapping signal matches, left to right, the most severe at each word."""
        matches: list[re.Match[str]] = []
        position = 0
        resume_at = 0
        for word in clause.split(" "):
            start = position
            position += len(word) + 1
            if start < resume_at:
                continue
            best: re.Match[str] | None = None
            for found in self._index.matches_at(clause, start, word):
                if best is None or self._outranks(found, best):
                    best = found
            if best is not None:
                matches.append(best)
                resume_at = best.end()
        return matches

    def _outranks(self, new: re.Match[str], old: re.Match[str]) -> bool:
        new_severity = self.signals[new.lastgroup or ""].severity
        old_severity = self.signals[old.lastgroup or ""].severity
        return new_severity > old_severity or (
            new_severity == old_severity and new.end() > old.end()
        )

    def _clause_findings(self, clause: str, following: tuple[str, ...] = ()) -> list[Finding]:
        found: list[Finding] = []
        matches = self._signal_matches(clause)
        if matches:
            guards = _ClauseGuards(self, clause, following)
            for match in matches:
                signal = self.signals[match.lastgroup or ""]
                if not guards.suppresses(signal, match):
                    found.append(Finding(signal.category, signal.severity, signal.id, match[0]))
        if not found and self._squashed_re is not None:
            for word in clause.split():
                if len(word) < SQUASH_MIN_LETTERS:
                    continue
                squashed = self._squashed_re.search(word)
                if squashed and squashed.lastgroup:
                    signal = self.signals[squashed.lastgroup.split("_")[0]]
                    found.append(Finding(signal.category, signal.severity, signal.id, word))
        return found


class _ClauseGuards:
    """Guards for one clause, found in one pass over its words when a signal first asks.

    Guards count near a match (its clause, or for a very long clause `GUARD_CONTEXT_CHARS` on
    either side): a "years ago" far away in a pasted wall of text says nothing about this
    sentence, and the bound keeps long messages fast. A coda ("after" guards) may also open one
    of the `following` clauses: "the urge to cut came back | but i texted my therapist | it
    passed" is one thought split at "but" and the full stop. Those clauses are only read when a
    signal that listens for a coda matched, which is rare.
    """

    def __init__(self, screener: Screener, clause: str, following: tuple[str, ...] = ()) -> None:
        self._screener = screener
        self._clause = clause
        self._following = following
        self._spans: dict[str, list[tuple[int, int]]] | None = None
        self._coda_spans: list[dict[str, list[tuple[int, int]]]] | None = None

    def _guard_spans(self, kind: str) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = self._screener._guards.spans(self._clause)
        return self._spans.get(kind, [])

    def _near(self, kind: str, match: re.Match[str]) -> bool:
        low = match.start() - GUARD_CONTEXT_CHARS
        high = match.end() + GUARD_CONTEXT_CHARS
        return any(s < high and e > low for s, e in self._guard_spans(kind))

    def _leads(self, kind: str, match: re.Match[str]) -> bool:
        # Starts before the signal and reaches it: ends at the space before it or inside it.
        start = match.start()
        return any(s < start <= e + 1 for s, e in self._guard_spans(kind))

    def _follows(self, kind: str, match: re.Match[str]) -> bool:
        start = match.start()
        high = match.end() + GUARD_CONTEXT_CHARS
        if any(start < s < high for s, _ in self._guard_spans(kind)):
            return True
        if self._coda_spans is None:
            index = self._screener._guards
            self._coda_spans = [index.spans(_opening(c)) for c in self._following]
        return any(spans.get(kind) for spans in self._coda_spans)

    def _negated(self, start: int) -> bool:
        # A bounded look-back: the window is a few words, however long the clause is.
        before = self._clause[max(0, start - NEGATION_LOOKBACK_CHARS) : start].split()
        before = before[-NEGATION_WINDOW_WORDS:]
        screener = self._screener
        for index, word in enumerate(before):
            if word in screener._negation_cues:
                # "can't stop thinking about dying" is not a negation of the thought.
                return not any(w in screener._negation_breakers for w in before[index + 1 :])
        return False

    def suppresses(self, signal: Signal, match: re.Match[str]) -> bool:
        guards = signal.guards
        if "negation" in guards and self._negated(match.start()):
            return True
        return any(self._covers(kind, match) for kind in guards if kind in GUARD_SCOPES)

    def _covers(self, kind: str, match: re.Match[str]) -> bool:
        scope = GUARD_SCOPES[kind]
        if scope == "over":
            start, end = match.span()
            return any(s < end and start < e for s, e in self._guard_spans(kind))
        if scope == "lead":
            return self._leads(kind, match)
        if scope == "after":
            return self._follows(kind, match)
        if scope == "around":
            return self._near(kind, match) or self._follows(kind, match)
        return self._near(kind, match)


def _opening(clause: str) -> str:
    """The first `GUARD_CONTEXT_CHARS` of a clause, cut between words: a coda opens its clause."""
    if len(clause) <= GUARD_CONTEXT_CHARS:
        return clause
    return clause[: GUARD_CONTEXT_CHARS + 1].rsplit(" ", 1)[0]


def _verdict(findings: list[Finding]) -> Screening:
    top = max(findings, key=lambda f: f.severity)
    severity = top.severity
    # Several different warning signs of one kind (ideation + means + timing) raise the risk.
    same_category = {f.signal for f in findings if f.category == top.category}
    if len(same_category) >= 2 and severity < Severity.IMMINENT:
        severity = Severity(severity + 1)
    ordered = tuple(sorted(findings, key=lambda f: -f.severity))
    return Screening(crisis=True, category=top.category, severity=severity, findings=ordered)


@cache
def default_screener() -> Screener:
    """The screener built from the project's data files, loaded once per process on first use."""
    return Screener(DATA_DIR)


def screen_message(text: str) -> Screening:
    """Screen one message with the project's data (loads it on the first call)."""
    return default_screener().screen(text)
