"""Evaluating the crisis screen on a labelled set: recall, false-positive rate, per category.

Used by the test suite (which asserts the goals) and usable on any JSON-lines file of
{"text": ..., "crisis": true|false, "category": ...} through `evaluate_file`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from safety.screen import Screener


@dataclass(frozen=True)
class Labelled:
    text: str
    crisis: bool
    category: str | None


@dataclass
class Evaluation:
    crises: int = 0
    negatives: int = 0
    found: int = 0
    false_alarms: int = 0
    missed: list[Labelled] = field(default_factory=list)
    false_alarm_texts: list[str] = field(default_factory=list)
    # Per category: true positives (flagged with that category), labelled, predicted.
    category_hits: Counter[str] = field(default_factory=Counter)
    category_labelled: Counter[str] = field(default_factory=Counter)
    category_predicted: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.found / self.crises if self.crises else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_alarms / self.negatives if self.negatives else 0.0

    def category_report(self) -> list[str]:
        lines = [f"{'category':<15}{'precision':>10}{'recall':>8}{'n':>5}"]
        for category in sorted(self.category_labelled):
            labelled = self.category_labelled[category]
            predicted = self.category_predicted[category]
            hits = self.category_hits[category]
            precision = hits / predicted if predicted else 1.0
            lines.append(f"{category:<15}{precision:>10.3f}{hits / labelled:>8.3f}{labelled:>5}")
        return lines


def load_labelled(path: Path) -> list[Labelled]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append(Labelled(item["text"], bool(item["crisis"]), item.get("category")))
    return rows


def evaluate(screener: Screener, rows: list[Labelled]) -> Evaluation:
    result = Evaluation()
    for row in rows:
        verdict = screener.screen(row.text)
        if verdict.category:
            result.category_predicted[verdict.category] += 1
        if row.crisis:
            result.crises += 1
            result.category_labelled[row.category or "?"] += 1
            if verdict.crisis:
                result.found += 1
                if verdict.category == row.category:
                    result.category_hits[row.category or "?"] += 1
            else:
                result.missed.append(row)
        else:
            result.negatives += 1
            if verdict.crisis:
                result.false_alarms += 1
                result.false_alarm_texts.append(row.text)
    return result
