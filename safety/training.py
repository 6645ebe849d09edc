"""Training, loading and measuring the layered crisis screen.

- `train_screen` fits the learned layer on the corpus and writes the artifact named by its
  fingerprint (skipped when a current one exists), as `peerbot train` does for Rasa.
- `build_screen` loads everything for the app and `peerbot safety-check`: rules, language
  detector, the verified encoder and the artifact, falling back to fewer layers (logged) when
  a part is missing, so screening never stops.
- `cross_validate` scores every corpus message with heads that never saw its batch
  (whole batches held out: each batch was written by someone else, as new messages are), and
  `choose_thresholds` picks the cut-offs for the recall target from those scores.
- `evaluate` reports recall, false alarms and check rate per category, language and layer.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from safety.context import RecentWindow
from safety.corpus import NLU_BATCH, Example, training_examples
from safety.encoder import Encoder, load_encoder
from safety.language import default_detector
from safety.layered import (
    THRESHOLDS_PATH,
    Cutoffs,
    Decision,
    LayeredScreen,
    Thresholds,
    ThresholdSet,
    load_thresholds,
)
from safety.learned import (
    Featurizer,
    LearnedSignal,
    Scores,
    _scores,
    _targets,
    artifact_path,
    embed,
    fingerprint,
    fit_heads,
    read_heads,
    save_heads,
    train_heads,
)
from safety.screen import Screener, default_screener

log = logging.getLogger(__name__)

# Goals the thresholds are chosen for (issue #15): crises detected (crisis or check) >= 0.97
# on unseen messages; a little above it here, since unseen batches score lower than folds.
RECALL_TARGET = 0.975
# Each language has cut-offs of its own (Spanish non-crises score higher than English ones, so
# one pair over-asks in Spanish). Spanish (goal 0.90) gives up a little recall for fewer "are
# you safe?" questions on ordinary messages. English at 0.98 asked about 1 ordinary message in
# 4 on new batches (round 8); 0.975 is where the folds' check rate meets its goal's order.
LANGUAGE_RECALL_TARGETS = {"en": 0.975, "es": 0.95}
CV_FOLDS = 6
# Learned crises on non-crises in the folds. First passes on new batches ran at about twice the
# folds' rate (rounds 5-8), so the learned share is kept at 0.5%: below it a learned finding is
# a `check`, which still reaches a person when she does not answer.
CRISIS_FALSE_ALARM_TARGET = 0.005


@dataclass(frozen=True)
class TrainResult:
    artifact: Path
    trained: bool
    examples: int
    variants: tuple[str, ...]


def train_screen(
    models_dir: Path, force: bool = False, encoder: Encoder | None = None
) -> TrainResult:
    """Train the learned layer unless a current artifact exists; keep only the newest."""
    path = artifact_path(models_dir)
    examples = training_examples()
    if path.exists() and not force:
        heads, _ = read_heads(path)
        return TrainResult(path, False, len(examples), tuple(heads))
    encoder = encoder or load_encoder()
    screener = default_screener()
    heads = train_heads(Featurizer(screener.learned_view), encoder, examples)
    save_heads(path, heads, fingerprint())
    for old in models_dir.glob("screen-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
    return TrainResult(path, True, len(examples), tuple(heads))


def load_learned(
    models_dir: Path, screener: Screener, encoder: Encoder | None
) -> LearnedSignal | None:
    path = artifact_path(models_dir)
    if not path.exists():
        log.error("no learned screen for the current corpus; run `peerbot train` (rules only)")
        return None
    try:
        heads, stored = read_heads(path)
    except (OSError, ValueError, KeyError) as error:
        log.error("learned screen could not be read (%s); rules only", type(error).__name__)
        return None
    if encoder is None:
        heads.pop("full", None)
    return LearnedSignal(Featurizer(screener.learned_view), heads, encoder, stored)


def build_screen(
    models_dir: Path,
    context: RecentWindow | None = None,
    learned: bool = True,
    thresholds_path: Path = THRESHOLDS_PATH,
) -> LayeredScreen:
    """Every layer that loads. Rules always; the rest only when verified and current."""
    screener = default_screener()
    signal = None
    thresholds = None
    if learned:
        try:
            thresholds = load_thresholds(thresholds_path)
            signal = load_learned(models_dir, screener, load_encoder())
        except Exception:
            log.exception("learned screen failed to load; rules only")
            signal = None
    return LayeredScreen(
        screener,
        default_detector(),
        learned=signal,
        thresholds=thresholds if signal is not None else None,
        context=context,
    )


@dataclass
class OutOfFold:
    """Scores of every example from heads that did not see its batch, per variant."""

    examples: list[Example]
    rules_crisis: list[bool]
    scores: dict[str, list[Scores]]


def cross_validate(examples: Sequence[Example], encoder: Encoder | None) -> OutOfFold:
    import numpy as np

    screener = default_screener()
    featurizer = Featurizer(screener.learned_view)
    # Whole batches are held out (each was written by someone else, as new messages are): one
    # batch per fold up to CV_FOLDS batches, beyond that batches share folds, so the run stays a
    # few minutes. A corpus of one batch is split in five by position instead.
    names = sorted({e.batch for e in examples})
    fold_of = {name: f"fold{index % CV_FOLDS}" for index, name in enumerate(names)}
    groups = [fold_of[e.batch] for e in examples]
    if len(names) == 1:
        groups = [f"part{i % 5}" for i in range(len(examples))]
    batches = sorted(set(groups))
    texts = [e.text for e in examples]
    ngrams, cues = featurizer.features(texts)
    vectors = embed(encoder, texts)
    targets = _targets(examples)
    variants = ["ngram"] + (["full"] if vectors is not None else [])
    out: dict[str, list[Scores | None]] = {v: [None] * len(examples) for v in variants}
    for batch in batches:
        log.info("cross-validation: holding out %s", batch)
        test = np.asarray([g == batch for g in groups])
        train = ~test
        for variant in variants:
            use = vectors if variant == "full" else None
            heads = fit_heads(
                ngrams[train], cues[train], None if use is None else use[train], targets[train]
            )
            probabilities = heads.probabilities(
                ngrams[test], cues[test], None if use is None else use[test]
            )
            for index, row in zip(np.flatnonzero(test), probabilities, strict=True):
                out[variant][index] = _scores(row)
    rules = [screener.screen(t).crisis for t in texts]
    complete = {v: [s for s in scores if s is not None] for v, scores in out.items()}
    return OutOfFold(list(examples), rules, complete)


def choose_thresholds(oof: OutOfFold) -> ThresholdSet:
    """From the labelled batches only: the everyday NLU examples would make false alarms look
    rarer than they are on the hard negatives the corpus is built from."""
    keep = [i for i, e in enumerate(oof.examples) if e.batch != NLU_BATCH]
    oof = OutOfFold(
        [oof.examples[i] for i in keep],
        [oof.rules_crisis[i] for i in keep],
        {v: [scores[i] for i in keep] for v, scores in oof.scores.items()},
    )
    variants = {}
    figures: dict[str, Any] = {}
    for variant, scores in oof.scores.items():
        scored = list(zip(oof.examples, scores, oof.rules_crisis, strict=True))
        every = _cutoffs(scored, RECALL_TARGET)
        languages = {
            language: _cutoffs([item for item in scored if item[0].language == language], target)
            for language, target in LANGUAGE_RECALL_TARGETS.items()
        }
        helps = [(s.help_coming, "help_coming" in e.labels) for e, s, _ in scored]
        help_threshold = _best_f1(helps)
        variants[variant] = Thresholds(
            every.crisis, every.check, round(help_threshold, 4), languages
        )
    result = ThresholdSet(date.today(), variants, figures)
    report = evaluate_out_of_fold(oof, result)
    for variant in variants:
        figures[variant] = report[variant].summary()
    return result


def _cutoffs(scored: Sequence[tuple[Example, Scores, bool]], recall_target: float) -> Cutoffs:
    """`check` at the highest cut-off that keeps crises detected (by the rules, or by the
    learned score) at the recall target; `crisis` at the lowest that keeps learned crises on
    non-crises the rules let through under the false-alarm target."""
    crises = [(s.crisis, rules) for e, s, rules in scored if e.crisis]
    negatives = [s.crisis for e, s, rules in scored if not e.crisis and not rules]
    missed_by_rules = sorted((p for p, rules in crises if not rules), reverse=True)
    allowed_misses = int(len(crises) * (1 - recall_target))
    if len(missed_by_rules) > allowed_misses:
        check = missed_by_rules[len(missed_by_rules) - allowed_misses - 1]
    else:
        check = 0.5
    check = min(max(check, 0.02), 0.9)
    ranked = sorted(negatives, reverse=True)
    allowed_alarms = int(len(ranked) * CRISIS_FALSE_ALARM_TARGET)
    crisis = ranked[allowed_alarms] + 1e-6 if len(ranked) > allowed_alarms else 0.5
    crisis = min(max(crisis, check), 0.99)
    return Cutoffs(round(crisis, 4), round(check, 4))


def _best_f1(pairs: Sequence[tuple[float, bool]]) -> float:
    best, best_f1 = 0.5, -1.0
    positives = sum(label for _, label in pairs)
    for threshold in sorted({round(p, 3) for p, _ in pairs}):
        predicted = [label for p, label in pairs if p >= threshold]
        hits = sum(predicted)
        if not predicted or not positives:
            continue
        f1 = 2 * hits / (len(predicted) + positives)
        if f1 > best_f1:
            best, best_f1 = threshold, f1
    return max(best, 0.05)


def write_thresholds(result: ThresholdSet, corpus_size: int, path: Path = THRESHOLDS_PATH) -> None:
    targets = ", ".join(f"{k} {v}" for k, v in LANGUAGE_RECALL_TARGETS.items())
    header = (
        "# Learned-layer thresholds for the crisis screen, chosen by `peerbot safety-eval\n"
        "# --write-thresholds` from cross-validation holding out whole batches of the corpus\n"
        f"# ({corpus_size} messages): `check` is the highest cut-off that keeps crises detected\n"
        f"# (rules, crisis or check) >= {RECALL_TARGET}, and per language under `languages`\n"
        f"# ({targets}); `crisis` the lowest that keeps a learned crisis on a\n"
        f"# non-crisis <= {CRISIS_FALSE_ALARM_TARGET}. Review the figures\n"
        "# before committing a change. `ngram` is the fallback without the sentence encoder.\n"
    )
    body = {
        "chosen_on": result.chosen_on,
        "corpus_messages": corpus_size,
        "recall_target": RECALL_TARGET,
        "crisis_false_alarm_target": CRISIS_FALSE_ALARM_TARGET,
        "variants": {
            name: {
                "crisis": t.crisis,
                "check": t.check,
                "help_coming": t.help_coming,
                "languages": {
                    language: {"crisis": pair.crisis, "check": pair.check}
                    for language, pair in t.languages.items()
                },
            }
            for name, t in result.variants.items()
        },
        "figures": result.figures,
    }
    path.write_text(header + yaml.safe_dump(body, sort_keys=False), encoding="utf-8")


@dataclass
class Tally:
    crises: int = 0
    detected: int = 0  # crisis or check
    as_crisis: int = 0
    negatives: int = 0
    false_crisis: int = 0
    false_check: int = 0
    by_layer: Counter[str] = field(default_factory=Counter)

    def add(self, example: Example, decision: Decision) -> None:
        # Counted as the gateway acts: help already coming is answered (its own reply and a
        # gentle case) like a check, so it detects a crisis and is a false alarm on a non-crisis.
        if example.crisis:
            self.crises += 1
            self.detected += decision.answered
            self.as_crisis += decision.crisis
            if decision.answered:
                self.by_layer[decision.layer or "help"] += 1
        else:
            self.negatives += 1
            self.false_crisis += decision.crisis
            self.false_check += decision.answered and not decision.crisis

    def line(self, name: str) -> str:
        recall = self.detected / self.crises if self.crises else float("nan")
        crisis_recall = self.as_crisis / self.crises if self.crises else float("nan")
        false_crisis = self.false_crisis / self.negatives if self.negatives else float("nan")
        false_check = self.false_check / self.negatives if self.negatives else float("nan")
        layers = " ".join(f"{k}={v}" for k, v in sorted(self.by_layer.items()))
        return (
            f"{name:<22}{self.crises:>6}{recall:>9.3f}{crisis_recall:>9.3f}"
            f"{self.negatives:>6}{false_crisis:>9.3f}{false_check:>9.3f}   {layers}"
        )

    def summary(self) -> dict[str, float | int]:
        return {
            "crises": self.crises,
            "detected": round(self.detected / self.crises, 3) if self.crises else 0,
            "non_crises": self.negatives,
            "crisis_on_non_crisis": round(self.false_crisis / self.negatives, 3)
            if self.negatives
            else 0,
            "check_on_non_crisis": round(self.false_check / self.negatives, 3)
            if self.negatives
            else 0,
        }


HEADER = (
    f"{'':<22}{'crises':>6}{'detected':>9}{'crisis':>9}{'non':>6}{'crisis':>9}{'check':>9}"
    "   detected by layer\n"
    f"{'':<22}{'':>6}{'(c|chk)':>9}{'only':>9}{'':>6}{'on non':>9}{'on non':>9}"
)


@dataclass
class Report:
    total: Tally = field(default_factory=Tally)
    languages: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    categories: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    kinds: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    missed: list[Example] = field(default_factory=list)
    false_crises: list[Example] = field(default_factory=list)

    def add(self, example: Example, decision: Decision) -> None:
        self.total.add(example, decision)
        self.languages[example.language].add(example, decision)
        self.kinds[example.kind].add(example, decision)
        for category in example.categories or {"(none)"}:
            self.categories[category].add(example, decision)
        if example.crisis and not decision.answered:
            self.missed.append(example)
        if not example.crisis and decision.crisis:
            self.false_crises.append(example)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"all": self.total.summary()}
        for language, tally in sorted(self.languages.items()):
            out[language] = tally.summary()
        return out

    def lines(self) -> list[str]:
        lines = [HEADER, self.total.line("all")]
        lines += [t.line(f"language {k}") for k, t in sorted(self.languages.items())]
        lines += [t.line(f"category {k}") for k, t in sorted(self.categories.items())]
        lines += [t.line(f"kind {k}") for k, t in sorted(self.kinds.items())]
        return lines


def evaluate(screen: LayeredScreen, examples: Sequence[Example]) -> Report:
    report = Report()
    for example, decision in zip(
        examples, screen.decide_batch([e.text for e in examples]), strict=True
    ):
        report.add(example, decision)
    return report


def evaluate_out_of_fold(
    oof: OutOfFold, thresholds: ThresholdSet, leave_out: str = ""
) -> dict[str, Report]:
    """Decisions as the layered screen would take them, from out-of-fold scores (examples of
    the `leave_out` batch are not counted)."""
    screener = default_screener()
    detector = default_detector()
    reports: dict[str, Report] = {}
    for variant, scores in oof.scores.items():
        screen = LayeredScreen(screener, detector)
        chosen = thresholds.for_variant(variant)
        report = Report()
        for example, score in zip(oof.examples, scores, strict=True):
            if example.batch == leave_out:
                continue
            rules = screener.screen(example.text)
            help_found = screen.help_coming(example.text)
            decision = screen.combine(rules, example.language, help_found, score, chosen)
            report.add(example, decision)
        reports[variant] = report
    return reports
