"""The layered crisis screen: reviewed rules, a learned signal, and asking when unsure.

1. **Rules** (`screen.py`): precise and explainable. A rule hit is always a crisis, with its
   category, severity and the words that matched; nothing below can lower it.
2. **Learned signal** (`learned.py`): catches crises said without the rules' words. Above the
   crisis threshold it decides `crisis`; between the check and crisis thresholds, `check`.
3. **Context**: the same signal read over her last few messages (`context.py`, memory only),
   which counts only when the newest message adds to what was already there.

Outcomes: `crisis` (the immediate reply and a case), `check` (one warm question with 988 in it)
and `none`. Thresholds live in `data/thresholds.yml`, chosen by cross-validation. Separately
the screen says whether she reports that help is already coming (`help_coming`), and which
language she wrote in. Pure: no I/O after loading; the learned layer is optional, so a failed
load leaves the rules working.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from safety.context import RecentWindow
from safety.language import LanguageDetector
from safety.learned import LearnedSignal, Scores
from safety.phrases import PhraseIndex, compile_phrase_parts
from safety.screen import DATA_DIR, Finding, Screener, Screening, Severity

THRESHOLDS_PATH = DATA_DIR / "thresholds.yml"
HELP_COMING_PATH = DATA_DIR / "help_coming.yml"
# A window of messages is scored only when it holds this many characters or fewer.
CONTEXT_LIMIT_CHARS = 1_500


class Outcome(StrEnum):
    CRISIS = "crisis"
    CHECK = "check"
    NONE = "none"


@dataclass(frozen=True)
class Cutoffs:
    """Where a learned crisis score becomes `check` and where it becomes `crisis`."""

    crisis: float
    check: float


@dataclass(frozen=True)
class Thresholds:
    """Learned-score cut-offs for one variant of the learned layer: one pair for every
    language, and a pair of its own for a language whose scores run differently (Spanish
    non-crises score higher, so one cut-off for both over-asks in Spanish)."""

    crisis: float
    check: float
    help_coming: float
    languages: Mapping[str, Cutoffs] = field(default_factory=dict)

    def for_language(self, language: str) -> Cutoffs:
        return self.languages.get(language) or Cutoffs(self.crisis, self.check)


@dataclass(frozen=True)
class ThresholdSet:
    chosen_on: date
    variants: dict[str, Thresholds]
    figures: dict[str, Any] = field(default_factory=dict)

    def for_variant(self, variant: str) -> Thresholds:
        return self.variants[variant]


def load_thresholds(path: Path = THRESHOLDS_PATH) -> ThresholdSet:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    variants = {
        name: Thresholds(
            crisis=float(values["crisis"]),
            check=float(values["check"]),
            help_coming=float(values["help_coming"]),
            languages={
                language: Cutoffs(float(pair["crisis"]), float(pair["check"]))
                for language, pair in (values.get("languages") or {}).items()
            },
        )
        for name, values in data["variants"].items()
    }
    for name, values in variants.items():
        pairs = [("", Cutoffs(values.crisis, values.check)), *values.languages.items()]
        for language, pair in pairs:
            if not 0.0 < pair.check <= pair.crisis < 1.0:
                where = f"{name} {language}".strip()
                raise ValueError(f"thresholds.yml: {where}: need 0 < check <= crisis < 1")
    return ThresholdSet(data["chosen_on"], variants, data.get("figures", {}))


@dataclass(frozen=True)
class Decision:
    """What the screen decided about one message, and why."""

    outcome: Outcome
    language: str
    category: str | None = None
    severity: Severity | None = None
    layer: str | None = None  # "rules", "learned" or "context"
    evidence: tuple[str, ...] = ()
    help_coming: bool = False
    score: float | None = None  # the learned crisis probability, when it was computed
    findings: tuple[Finding, ...] = ()

    @property
    def crisis(self) -> bool:
        return self.outcome is Outcome.CRISIS

    @property
    def flagged(self) -> bool:
        """A crisis or a check: a person may need to look."""
        return self.outcome is not Outcome.NONE

    @property
    def help_heard_only(self) -> bool:
        """ "Help is coming" read by the learned layer alone: no reviewed phrase, no crisis."""
        return self.help_coming and not self.flagged and self.layer == "learned"

    def asked_instead(self) -> Decision:
        """The check to ask when help heard only by the learned layer is not about her case."""
        return replace(self, outcome=Outcome.CHECK, severity=Severity.ELEVATED, help_coming=False)

    @property
    def answered(self) -> bool:
        """Whether the gateway answers it as a finding (a crisis, a check, or help already
        coming, which gets its own reply and a gentle case) instead of passing it to Rasa."""
        return self.flagged or self.help_coming

    def as_screening(self) -> Screening:
        """The crisis-or-not view the case code and the reply builder take."""
        return Screening(
            crisis=self.flagged,
            category=self.category,
            severity=self.severity,
            findings=self.findings,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.outcome.value,
            "crisis": self.crisis,
            "category": self.category,
            "severity": self.severity.label if self.severity else None,
            "language": self.language,
            "layer": self.layer,
            "help_coming": self.help_coming,
            "score": None if self.score is None else round(self.score, 4),
            "evidence": list(self.evidence),
        }


class HelpComing:
    """Reviewed phrases for "help is on its way" (data/help_coming.yml)."""

    def __init__(self, screener: Screener, path: Path = HELP_COMING_PATH) -> None:
        with path.open(encoding="utf-8") as handle:
            phrases = yaml.safe_load(handle)["phrases"]
        self._screener = screener
        self._index = PhraseIndex(
            [("help", [compile_phrase_parts(p, screener.lexicon) for p in phrases])]
        )

    def found(self, clauses: Sequence[str]) -> bool:
        for clause in clauses:
            for start, _end in self._index.spans(clause).get("help", []):
                if not self._screener.negated_at(clause, start):
                    return True
        return False


def context_key(*parts: str) -> str:
    """An opaque key for the context window: a hash, so no platform id sits in memory as is."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class LayeredScreen:
    """Safe to call from one event loop; the learned layer and the context are optional."""

    def __init__(
        self,
        screener: Screener,
        detector: LanguageDetector,
        learned: LearnedSignal | None = None,
        thresholds: ThresholdSet | None = None,
        context: RecentWindow | None = None,
    ) -> None:
        self.screener = screener
        self._detector = detector
        self._help = HelpComing(screener)
        if learned is not None and thresholds is None:
            raise ValueError("a learned layer needs its thresholds")
        self.learned = learned
        self._thresholds = (
            thresholds.for_variant(learned.variant) if learned and thresholds else None
        )
        self._context = context

    @property
    def layers(self) -> str:
        """Which layers are on, for logs and the health report."""
        if self.learned is None:
            return "rules"
        return f"rules+learned({self.learned.variant})"

    def decide(self, text: str, key: str | None = None, remember: bool = True) -> Decision:
        """Screen one message, reading her recent messages under `key` if there is one."""
        recent = self._context.recent(key) if self._context and key else []
        previous_language = recent[-1].language if recent else None
        language = self._detector.detect(text, previous_language)
        rules = self.screener.screen(text)
        help_coming = self.help_coming(text)
        window_score = 0.0
        decision: Decision
        if self.learned is None or self._thresholds is None or not text.strip() or rules.crisis:
            # A reviewed rule's finding needs no learned score (as in `decide_batch`): the
            # encoder is most of a message's screening time, and in a burst of crises every
            # message waits for the one before on the screen's thread. What is lost is only the
            # learned reading of "help is already coming" on a rule hit; she then gets the full
            # crisis reply, numbers included, and a case as always.
            decision = _from_rules(rules, language, help_coming)
        else:
            texts = [text]
            window = [r.text for r in recent] + [text]
            use_window = (
                bool(recent)
                and not any(r.flagged for r in recent)
                and sum(len(t) for t in window) <= CONTEXT_LIMIT_CHARS
            )
            if use_window:
                texts.append(" \n ".join(window))
            scores = self.learned.score(texts)
            window_score = scores[-1].crisis
            decision = self.combine(rules, language, help_coming, scores[0])
            if use_window and decision.outcome is not Outcome.CRISIS:
                decision = self._with_context(decision, scores[1], recent[-1].window_score)
        if self._context is not None and key and remember:
            self._context.remember(key, text, language, window_score, decision.flagged)
        return decision

    def decide_batch(self, texts: Sequence[str]) -> list[Decision]:
        """Screen independent messages at once (no context): the batch tool's path."""
        languages = [self._detector.detect(t) for t in texts]
        rules = [self.screener.screen(t) for t in texts]
        helps = [self.help_coming(t) for t in texts]
        if self.learned is None or self._thresholds is None:
            return [_from_rules(*item) for item in zip(rules, languages, helps, strict=True)]
        # Rule hits need no learned score; the encoder is the costly part, so skip them.
        pending = [i for i, r in enumerate(rules) if not r.crisis and texts[i].strip()]
        scored = dict(zip(pending, self.learned.score([texts[i] for i in pending]), strict=True))
        decisions = []
        for index, text_rules in enumerate(rules):
            score = scored.get(index)
            if score is None:
                decisions.append(_from_rules(text_rules, languages[index], helps[index]))
            else:
                decisions.append(self.combine(text_rules, languages[index], helps[index], score))
        return decisions

    def help_coming(self, text: str) -> bool:
        return self._help.found(self.screener.normalized_clauses(text))

    def combine(
        self,
        rules: Screening,
        language: str,
        help_coming: bool,
        scores: Scores,
        thresholds: Thresholds | None = None,
    ) -> Decision:
        """One message's decision from its rule verdict and learned scores (the thresholds of
        the loaded variant unless others are given, as cross-validation does)."""
        chosen = thresholds or self._thresholds
        assert chosen is not None
        heard = scores.help_coming >= chosen.help_coming
        if rules.crisis:
            return _from_rules(rules, language, help_coming or heard, scores.crisis)
        learned = _learned(scores, chosen, language, help_coming, "learned")
        if learned is not None and learned.crisis:
            return replace(learned, help_coming=help_coming or heard)
        if learned is None and heard and not help_coming:
            # The learned reading of "help is coming" alone, with no reviewed phrase and no
            # crisis beside it, is marked as the learned layer's: in her open case it is heard
            # ("my sister is here now"), elsewhere the gateway asks instead of answering "I'm
            # glad help is on the way" ("are they gonna call cps on me at the hospital" scored
            # 0.73 on it). See `Decision.help_heard_only`.
            return Decision(
                Outcome.NONE,
                language,
                category=scores.top_category,
                layer="learned",
                help_coming=True,
                score=scores.crisis,
            )
        return learned or Decision(
            Outcome.NONE, language, help_coming=help_coming, score=scores.crisis
        )

    def _with_context(self, alone: Decision, window: Scores, before: float) -> Decision:
        """Her recent messages together may say what none said alone; only a rise counts."""
        assert self._thresholds is not None
        if window.crisis <= before:
            return alone
        together = _learned(window, self._thresholds, alone.language, alone.help_coming, "context")
        if together is None or (together.outcome is alone.outcome):
            return alone
        return together


def _learned(
    scores: Scores, thresholds: Thresholds, language: str, help_coming: bool, layer: str
) -> Decision | None:
    """`crisis` or `check` from a learned score, or None below the check threshold."""
    cutoffs = thresholds.for_language(language)
    if scores.crisis >= cutoffs.crisis:
        outcome, severity = Outcome.CRISIS, Severity.HIGH
    elif scores.crisis >= cutoffs.check:
        outcome, severity = Outcome.CHECK, Severity.ELEVATED
    else:
        return None
    return Decision(
        outcome,
        language,
        category=scores.top_category,
        severity=severity,
        layer=layer,
        help_coming=help_coming,
        score=scores.crisis,
    )


def _from_rules(
    rules: Screening, language: str, help_coming: bool, score: float | None = None
) -> Decision:
    if not rules.crisis:
        return Decision(Outcome.NONE, language, help_coming=help_coming, score=score)
    return Decision(
        Outcome.CRISIS,
        language,
        category=rules.category,
        severity=rules.severity,
        layer="rules",
        evidence=tuple(rules.evidence),
        help_coming=help_coming,
        score=score,
        findings=rules.findings,
    )
