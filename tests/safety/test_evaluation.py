"""The labelled corpus and the honest protocol around it, and the rules' own goal on the set
they were first written from (safety/data/corpus/b01-seed-en.jsonl)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from safety.corpus import CORPUS_DIR, CorpusError, batch_files, load_corpus, parse_line, read_batch
from safety.evaluation import evaluate, load_labelled
from safety.screen import default_screener

SEED = CORPUS_DIR / "b01-seed-en.jsonl"
EVALUATION = CORPUS_DIR.parent / "EVALUATION.md"
# The rules alone on the set they were first written from. Since 2026-12-05 a craving or
# withdrawal said alone ("jonesing so bad rn") is left to the learned layer, which asks when
# unsure: the rules' job is precision, and cravings met were a third of their false alarms.
RECALL_GOAL = 0.96
FALSE_POSITIVE_GOAL = 0.03


def test_the_seed_set_is_balanced_and_covers_every_category() -> None:
    rows = read_batch(SEED)
    crises = [r for r in rows if r.crisis]
    assert len(rows) >= 300
    assert 0.4 <= len(crises) / len(rows) <= 0.6
    assert {c for r in crises for c in r.categories} == {
        "suicide", "self_harm", "overdose", "intent_to_use", "baby_danger", "violence", "medical",
    }  # fmt: skip


def test_the_rules_meet_their_goals_on_the_seed_set(tmp_path: Path) -> None:
    legacy = tmp_path / "seed.jsonl"
    legacy.write_text(
        "\n".join(
            json.dumps(
                {"text": r.text, "crisis": r.crisis, "category": min(r.categories, default=None)}
            )
            for r in read_batch(SEED)
        )
    )
    result = evaluate(default_screener(), load_labelled(legacy))
    print(f"\nrecall {result.recall:.3f}  false-positive rate {result.false_positive_rate:.3f}")
    print("\n".join(result.category_report()))
    assert result.recall >= RECALL_GOAL, [r.text for r in result.missed]
    assert result.false_positive_rate <= FALSE_POSITIVE_GOAL, result.false_alarm_texts


def test_the_corpus_is_large_mixed_and_two_languages() -> None:
    examples = load_corpus()
    languages = Counter(e.language for e in examples)
    kinds = Counter(e.kind for e in examples)
    print(f"\ncorpus: {len(examples)} messages, {dict(languages)}, {dict(kinds)}")
    assert languages["es"] >= 1000 and languages["en"] >= 3000
    assert kinds["hard_negative"] / len(examples) >= 0.40
    labels = Counter(label for e in examples for label in e.labels)
    assert min(labels.values()) >= 50, labels


def test_every_trained_batch_was_scored_first(tmp_path: Path) -> None:
    """The protocol: a batch enters training only after its first-pass row is written."""
    table = EVALUATION.read_text(encoding="utf-8")
    for path in batch_files():
        if path.stem == "b01-seed-en":
            continue  # the rules were written from it; it is never a first-pass figure
        if f"builder-written, no first pass: `{path.stem}`" in table:
            continue  # written by the builder (not blind) as everyday examples, so never scored
        assert f"| {path.stem} |" in table, f"{path.name} has no first-pass row in EVALUATION.md"


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "x", "labels": ["sad"], "language": "en", "kind": "crisis", "batch": "b"}',
        '{"text": "x", "labels": [], "language": "fr", "kind": "ordinary", "batch": "b"}',
        '{"text": "x", "labels": ["suicide"], "language": "en", "kind": "ordinary", "batch": "b"}',
        '{"text": " ", "labels": [], "language": "en", "kind": "ordinary", "batch": "b"}',
        '{"labels": [], "language": "en", "kind": "ordinary", "batch": "b"}',
        "not json",
    ],
)
def test_a_malformed_line_fails_loudly(line: str) -> None:
    with pytest.raises(CorpusError):
        parse_line(line, "test.jsonl:1")
