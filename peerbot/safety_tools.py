"""The crisis screen's command-line tools: `peerbot safety-check` and `peerbot safety-eval`.

`safety-check` screens JSON lines in chunks (the learned layer encodes a chunk at once, which is
several times faster than one message at a time), keeping the input order and answering a
malformed line with an error line instead of stopping. `safety-eval` prints the
cross-validation of the whole corpus (whole batches held out), or scores new batches once and prints
the rows that go into `safety/data/EVALUATION.md` before those batches are trained on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

CHUNK = 256


def _parse(line: str) -> str:
    item = json.loads(line)
    text = item.get("text") if isinstance(item, dict) else None
    if not isinstance(text, str):
        raise ValueError("expected an object with a string 'text'")
    return text


def check_lines(lines: Iterable[str], models_dir: Path, learned: bool = True) -> Iterator[str]:
    from safety.training import build_screen

    screen = build_screen(models_dir, learned=learned)
    pending: list[tuple[int, str | None, str]] = []  # (line number, text, error)

    def flush() -> Iterator[str]:
        texts = [text for _, text, _ in pending if text is not None]
        decisions = iter(screen.decide_batch(texts))
        for number, text, error in pending:
            if text is None:
                yield json.dumps({"line": number, "error": error})
            else:
                yield json.dumps(next(decisions).as_dict(), ensure_ascii=False)
        pending.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pending.append((number, _parse(line), ""))
        except (ValueError, KeyError) as error:
            pending.append((number, None, str(error)))
        if len(pending) >= CHUNK:
            yield from flush()
    yield from flush()


def first_pass_report(models_dir: Path, batches: list[str], misses: int = 0) -> Iterator[str]:
    """Score each batch with the screen as it stands: the figure that counts (EVALUATION.md)."""
    from safety.corpus import read_batch
    from safety.training import build_screen, evaluate

    screen = build_screen(models_dir)
    rows = []
    for name in batches:
        path = Path(name)
        examples = read_batch(path)
        report = evaluate(screen, examples)
        yield f"== {path.stem} ({len(examples)} messages), screen: {screen.layers}"
        yield from report.lines()
        for example in report.missed[:misses]:
            yield f"  missed [{','.join(sorted(example.labels))}] {example.text}"
        for example in report.false_crises[:misses]:
            yield f"  false crisis: {example.text}"
        for language, tally in sorted(report.languages.items()):
            rows.append(
                f"| {date.today()} | {path.stem} | {language} | {tally.crises} / "
                f"{tally.negatives} | {screen.layers} | "
                f"{tally.detected / max(tally.crises, 1):.3f} | "
                f"{tally.as_crisis / max(tally.crises, 1):.3f} | "
                f"{tally.false_crisis / max(tally.negatives, 1):.3f} | "
                f"{tally.false_check / max(tally.negatives, 1):.3f} | |"
            )
    yield "Rows for safety/data/EVALUATION.md:"
    yield from rows


def cross_validation_report(write: bool = False, misses: int = 0) -> Iterator[str]:
    from safety.corpus import NLU_BATCH, training_examples
    from safety.encoder import load_encoder
    from safety.layered import load_thresholds
    from safety.training import (
        choose_thresholds,
        cross_validate,
        evaluate_out_of_fold,
        write_thresholds,
    )

    examples = training_examples()
    batches = sorted({e.batch for e in examples})
    yield (
        f"corpus: {len(examples)} messages in {len(batches)} batches (with {NLU_BATCH}, the "
        "everyday NLU examples, which the figures below leave out); whole batches held out, 6 folds"
    )
    out_of_fold = cross_validate(examples, load_encoder())
    if write:
        thresholds = choose_thresholds(out_of_fold)
        write_thresholds(thresholds, sum(e.batch != NLU_BATCH for e in examples))
        yield "thresholds written to safety/data/thresholds.yml"
    else:
        thresholds = load_thresholds()
    for variant, report in evaluate_out_of_fold(out_of_fold, thresholds, NLU_BATCH).items():
        chosen = thresholds.variants.get(variant)
        yield f"== variant {variant}: thresholds {chosen}"
        yield from report.lines()
        for example in report.missed[:misses]:
            yield f"  missed [{','.join(sorted(example.labels))}] {example.text}"
        for example in report.false_crises[:misses]:
            yield f"  false crisis: {example.text}"
