"""The labelled crisis corpus: messages with their labels, language, family and source batch.

The corpus lives in `safety/data/corpus/*.jsonl`, one file per batch, and trains the learned
layer of the screen (`safety/learned.py`). A new batch waits in `safety/data/corpus/incoming/`
until it has been scored once by the screen that never saw it (`peerbot safety-eval --batch`);
only then is it moved up and trained on. Reading is strict: a malformed line fails loudly,
naming the file and the line, because a silently dropped crisis example weakens the screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
INCOMING_DIR = CORPUS_DIR / "incoming"

CRISIS_CATEGORIES = (
    "suicide",
    "self_harm",
    "overdose",
    "intent_to_use",
    "baby_danger",
    "violence",
    "medical",
)
# Not a crisis by itself: she says help is on its way or already there. The screen reports it
# so the bot does not tell her to call 911 when the ambulance is at the door.
HELP_COMING = "help_coming"
LABELS = (*CRISIS_CATEGORIES, HELP_COMING)
LANGUAGES = ("en", "es")
KINDS = ("crisis", "hard_negative", "ordinary")


class CorpusError(ValueError):
    """A corpus line is malformed; the message names the file and the line."""


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str]
    language: str
    family: str
    kind: str
    batch: str

    @property
    def crisis(self) -> bool:
        """Whether a person should be told now: any label but help-is-coming on its own."""
        return bool(self.labels - {HELP_COMING}) or self.labels == {HELP_COMING}

    @property
    def categories(self) -> frozenset[str]:
        return self.labels - {HELP_COMING}


def parse_line(line: str, where: str) -> Example:
    try:
        item = json.loads(line)
        labels = frozenset(item["labels"])
        example = Example(
            text=str(item["text"]),
            labels=labels,
            language=str(item["language"]),
            family=str(item.get("family", "")),
            kind=str(item["kind"]),
            batch=str(item["batch"]),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise CorpusError(f"{where}: {error}") from None
    if not example.text.strip():
        raise CorpusError(f"{where}: empty text")
    if unknown := labels - set(LABELS):
        raise CorpusError(f"{where}: unknown labels {sorted(unknown)}")
    if example.language not in LANGUAGES:
        raise CorpusError(f"{where}: unknown language {example.language!r}")
    if example.kind not in KINDS:
        raise CorpusError(f"{where}: unknown kind {example.kind!r}")
    if (example.kind == "crisis") != bool(labels):
        raise CorpusError(f"{where}: kind {example.kind!r} does not fit labels {sorted(labels)}")
    return example


def read_batch(path: Path) -> list[Example]:
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            examples.append(parse_line(line, f"{path.name}:{number}"))
    return examples


def batch_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def load_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    """Every trained-on batch, in file order, without duplicate texts (the first one wins)."""
    return deduplicate(e for path in batch_files(directory) for e in read_batch(path))


def deduplicate(examples: Iterable[Example]) -> list[Example]:
    seen: set[str] = set()
    kept = []
    for example in examples:
        key = " ".join(example.text.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept
