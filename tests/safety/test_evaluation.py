"""The crisis screen meets its goals on the project's labelled set (tests/safety/data)."""

from __future__ import annotations

from pathlib import Path

from safety.evaluation import evaluate, load_labelled
from safety.screen import default_screener

EVAL_SET = Path(__file__).parent / "data" / "eval_set.jsonl"
RECALL_GOAL = 0.98
FALSE_POSITIVE_GOAL = 0.03


def test_the_set_is_large_balanced_and_covers_every_category() -> None:
    rows = load_labelled(EVAL_SET)
    crises = [r for r in rows if r.crisis]
    assert len(rows) >= 300
    assert 0.4 <= len(crises) / len(rows) <= 0.6
    categories = {r.category for r in crises}
    assert categories == {
        "suicide", "self_harm", "overdose", "intent_to_use", "baby_danger", "violence", "medical",
    }  # fmt: skip
    assert len({r.text for r in rows}) == len(rows), "duplicate messages in the set"


def test_recall_and_false_positive_rate_meet_the_goals() -> None:
    result = evaluate(default_screener(), load_labelled(EVAL_SET))
    print(f"\nrecall {result.recall:.3f}  false-positive rate {result.false_positive_rate:.3f}")
    print("\n".join(result.category_report()))
    missed = [f"{r.category}: {r.text}" for r in result.missed]
    assert result.recall >= RECALL_GOAL, f"missed crises: {missed}"
    assert result.false_positive_rate <= FALSE_POSITIVE_GOAL, (
        f"false alarms: {result.false_alarm_texts}"
    )
