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
NLU_DIR = Path(__file__).resolve().parent.parent / "nlu"
NLU_BATCH = "nlu-everyday"
# Rasa's training examples are everyday questions a mother asks (clinics, medication, CPS,
# privacy, goodbyes): the screen learns from them that these are not crises. Intents whose
# examples can carry distress or danger stay out, so nothing a person should see is taught
# as ordinary.
NLU_EXCLUDED_INTENTS = frozenset(
    {"request_human", "help_violence", "feeling_alone", "faq_ppd", "faq_baby_blues", "out_of_scope"}
)

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


def nlu_files(directory: Path = NLU_DIR) -> list[tuple[Path, str]]:
    """The Rasa training files with their language: English at the top, Spanish in `es/`."""
    english = [(path, "en") for path in sorted(directory.glob("*.yml"))]
    return english + [(path, "es") for path in sorted((directory / "es").glob("*.yml"))]


def nlu_examples(directory: Path = NLU_DIR) -> list[Example]:
    """Everyday messages from the Rasa training data, as ordinary non-crises in their language.
    The Spanish ones matter as much as the English: without them the screen knew Spanish mostly
    from crisis batches and asked "are you safe?" on goodbyes and questions about benefits."""
    import yaml

    examples = []
    for path, language in nlu_files(directory):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu", []) or []:
            intent = str(block.get("intent", ""))
            if not intent or intent in NLU_EXCLUDED_INTENTS:
                continue
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    examples.append(
                        Example(text, frozenset(), language, f"nlu_{intent}", "ordinary", NLU_BATCH)
                    )
    return examples


def training_examples() -> list[Example]:
    """What the learned layer trains on: the labelled corpus, then the everyday NLU examples."""
    return deduplicate([*load_corpus(), *nlu_examples()])


def deduplicate(examples: Iterable[Example]) -> list[Example]:
    seen: set[str] = set()
    kept = []
    for example in examples:
        key = " ".join(example.text.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept
