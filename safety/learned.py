"""Layer 2 of the crisis screen: a learned signal for the crises the reviewed rules do not word.

Logistic regression heads, one for "is this a crisis at all" and one per category (plus "help is
on its way"), over hashed character and word n-grams of the normalized text, the rules' cues
(which guards were present, which signals matched but were guarded: the marks of a hard
negative) and, when the verified sentence encoder loads, its multilingual sentence vector. With
the encoder, the crisis score is the mean of that regression and an RBF support-vector machine
on the sentence vector and the cues, which carries English training over to Spanish better
than n-grams can. Trained from the labelled corpus (`safety/corpus.py`) by `peerbot train`; the
artifact is named by a fingerprint of the corpus and of this code, like the Rasa model, so a
stale one is never used.

Two variants are trained and stored together: `full` (everything) and `ngram` (n-grams and
cues only), the fallback when the encoder cannot be verified or loaded. Scikit-learn trains and
hashes; scoring is a sparse dot product and a small kernel sum done here in numpy, so a message
costs well under a millisecond plus the encoder's time. The artifact holds arrays only (no
pickle), so loading it cannot run code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safety.corpus import CRISIS_CATEGORIES, HELP_COMING, Example, batch_files, nlu_files
from safety.encoder import EXPECTED_SHA256, Encoder
from safety.screen import GUARD_KINDS

HEADS = ("crisis", *CRISIS_CATEGORIES, HELP_COMING)
VARIANTS = ("full", "ngram")
HASH_FEATURES = 1 << 18
# Regularization, chosen by cross-validation on the corpus (see safety/data/thresholds.yml).
C_VALUE = 4.0
EMBEDDING_WEIGHT = 1.0
SVM_C = 4.0
CUE_WEIGHT = 0.5
# The rules' cues (see `Screener.cues`), as a fixed vocabulary for the support-vector machine.
CUES = tuple(
    [f"zzguard{kind}" for kind in sorted(GUARD_KINDS)]
    + [
        f"zz{state}{c.replace('_', '')}"
        for state in ("matched", "guarded")
        for c in CRISIS_CATEGORIES
    ]
)
ARTIFACT_PREFIX = "screen-"
_CODE_FILES = ("learned.py", "corpus.py", "normalize.py", "encoder.py", "screen.py", "phrases.py")
_DATA_FILES = ("normalization.yml", "guards.yml", "lexicon.yml")

Normalize = Callable[[str], str]
Vector = npt.NDArray[np.float64]


def fingerprint(safety_dir: Path | None = None) -> str:
    """A short hash of the corpus, the code that learns from it and the encoder's weights."""
    root = safety_dir or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    files = [root / name for name in _CODE_FILES] + [root / "data" / n for n in _DATA_FILES]
    files += sorted((root / "data" / "signals").glob("*.yml"))
    files += batch_files(root / "data" / "corpus")
    nlu = [path for path, _ in nlu_files(root.parent / "nlu")]
    for path in files + nlu:
        digest.update(
            str(path.relative_to(path.parents[1])).encode() + b"\0" + path.read_bytes() + b"\0"
        )
    digest.update(json.dumps(EXPECTED_SHA256, sort_keys=True).encode())
    digest.update(f"{HASH_FEATURES}:{C_VALUE}:{EMBEDDING_WEIGHT}:{SVM_C}:{CUE_WEIGHT}".encode())
    return digest.hexdigest()[:16]


def artifact_path(models_dir: Path, safety_dir: Path | None = None) -> Path:
    return models_dir / f"{ARTIFACT_PREFIX}{fingerprint(safety_dir)}.npz"


class Featurizer:
    """Hashed n-grams of the rules' view of a text, and its cues (stateless: nothing to fit)."""

    def __init__(self, view: Normalize) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self._view = view
        self._chars = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            n_features=HASH_FEATURES,
            alternate_sign=False,
            lowercase=False,
        )
        self._words = HashingVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            n_features=HASH_FEATURES,
            alternate_sign=False,
            lowercase=False,
            token_pattern=r"\S+",  # noqa: S106 - a regex, not a password
        )
        self._cue_index = {cue: index for index, cue in enumerate(CUES)}

    def features(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, Vector]:
        from sklearn import config_context

        views = [self._view(text) for text in texts]
        # The vectorizers' settings are fixed above: checking them again on every message
        # cost a third of the featurizing time.
        with config_context(skip_parameter_validation=True):
            parts = [self._chars.transform(views), self._words.transform(views)]
        ngrams = sp.hstack(parts, format="csr")
        cues = np.zeros((len(views), len(CUES)))
        for row, view in enumerate(views):
            for word in view.split():
                column = self._cue_index.get(word)
                if column is not None:
                    cues[row, column] = 1.0
        return ngrams, cues

    def ngrams(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.features(texts)[0]


@dataclass(frozen=True)
class KernelHead:
    """A trained RBF support-vector machine for the crisis head, kept as plain arrays."""

    support: Vector  # support vectors x (512 + cues)
    dual: Vector  # one weight per support vector
    intercept: float
    gamma: float
    platt_a: float
    platt_b: float

    @cached_property
    def _support_norms(self) -> Vector:
        # Computed once: summing the support vectors' squares on every call cost as much as
        # the kernel itself (the screen's per-message budget is 15 ms).
        return np.asarray(np.sum(self.support**2, axis=1), dtype=np.float64)

    @cached_property
    def _support32(self) -> npt.NDArray[np.float32]:
        # The product below reads every support vector for each message (about 20 MB in
        # float64): in float32 it takes half the time, and the decision moves by about 1e-7.
        return np.ascontiguousarray(self.support, dtype=np.float32)

    def decision(self, inputs: Vector) -> Vector:
        products = (inputs.astype(np.float32) @ self._support32.T).astype(np.float64)
        squared = np.sum(inputs**2, axis=1)[:, None] + self._support_norms[None, :] - 2.0 * products
        kernel = np.exp(-self.gamma * np.maximum(squared, 0.0))
        return np.asarray(kernel @ self.dual + self.intercept, dtype=np.float64)

    def probability(self, inputs: Vector) -> Vector:
        return _sigmoid(-(self.platt_a * self.decision(inputs) + self.platt_b))


def kernel_inputs(vectors: Vector, cues: Vector) -> Vector:
    return np.hstack([vectors, cues * CUE_WEIGHT])


def fit_kernel(inputs: Vector, labels: npt.NDArray[np.int_]) -> KernelHead:
    """Fit the machine on everything, and a sigmoid on its cross-validated decision values
    (Platt scaling from held-out folds, so the probability is not overconfident)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.svm import SVC

    def machine() -> Any:
        return SVC(C=SVM_C, class_weight="balanced")

    held_out = cross_val_predict(machine(), inputs, labels, cv=3, method="decision_function")
    platt = LogisticRegression(C=1e6).fit(np.asarray(held_out).reshape(-1, 1), labels)
    model = machine().fit(inputs, labels)
    head = KernelHead(
        support=np.asarray(model.support_vectors_, dtype=np.float64),
        dual=np.asarray(model.dual_coef_[0], dtype=np.float64),
        intercept=float(model.intercept_[0]),
        gamma=float(model._gamma),
        platt_a=-float(platt.coef_[0][0]),
        platt_b=-float(platt.intercept_[0]),
    )
    # Our arithmetic must agree with scikit-learn's on the same inputs (to float32's rounding:
    # about 1e-5 at most on the corpus; a wrong formula is off by far more).
    if not np.allclose(head.decision(inputs[:50]), model.decision_function(inputs[:50]), atol=1e-4):
        raise RuntimeError("support-vector head does not reproduce scikit-learn's decisions")
    return head


@dataclass(frozen=True)
class Heads:
    """Weights of every head for one variant: sparse over n-grams, dense over the vector."""

    ngram_weights: sp.csr_matrix  # heads x (n-gram features + cues)
    vector_weights: Vector | None  # heads x 512, or None for the n-gram variant
    bias: Vector  # heads
    kernel: KernelHead | None = None  # the crisis head's second opinion (full variant)

    @cached_property
    def _dense_weights(self) -> npt.NDArray[np.float32]:
        # Features x heads, dense: a sparse row times a dense matrix is a few microseconds,
        # where sparse times sparse cost about 2 ms a message. About 38 MB, built on first use.
        return np.ascontiguousarray(self.ngram_weights.T.toarray(), dtype=np.float32)

    def logits(self, ngrams: sp.csr_matrix, vectors: Vector | None) -> Vector:
        # Same dtype on both sides, or scipy copies the whole matrix to float64 on every call.
        scores = np.asarray(ngrams.astype(np.float32) @ self._dense_weights, dtype=np.float64)
        if self.vector_weights is not None and vectors is not None:
            scores += vectors @ self.vector_weights.T
        return scores + self.bias

    def probabilities(self, ngrams: sp.csr_matrix, cues: Vector, vectors: Vector | None) -> Vector:
        sparse = sp.hstack([ngrams, sp.csr_matrix(cues)], format="csr")
        result = _sigmoid(self.logits(sparse, vectors))
        if self.kernel is not None and vectors is not None:
            result[:, 0] = (
                result[:, 0] + self.kernel.probability(kernel_inputs(vectors, cues))
            ) / 2
        return result


def _sigmoid(values: Vector) -> Vector:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -40, 40))), dtype=np.float64)


def _targets(examples: Sequence[Example]) -> npt.NDArray[np.int_]:
    rows = []
    for example in examples:
        row = [int(bool(example.categories))]
        row += [int(c in example.labels) for c in CRISIS_CATEGORIES]
        row.append(int(HELP_COMING in example.labels))
        rows.append(row)
    return np.asarray(rows, dtype=np.int_)


def fit_heads(
    ngrams: sp.csr_matrix, cues: Vector, vectors: Vector | None, targets: npt.NDArray[np.int_]
) -> Heads:
    from sklearn.linear_model import LogisticRegression

    sparse = sp.hstack([ngrams, sp.csr_matrix(cues)], format="csr")
    features = sparse if vectors is None else sp.hstack([sparse, vectors], format="csr")
    width = sparse.shape[1]
    weight_rows: list[Vector] = []
    bias = np.zeros(len(HEADS))
    for index in range(len(HEADS)):
        column = targets[:, index]
        if column.min() == column.max():  # no positive (or no negative) example: never fires
            weight_rows.append(np.zeros(features.shape[1]))
            bias[index] = -40.0 if column.max() == 0 else 40.0
            continue
        model = LogisticRegression(
            C=C_VALUE, class_weight="balanced", solver="liblinear", max_iter=2000
        )
        model.fit(features, column)
        weight_rows.append(model.coef_[0])
        bias[index] = model.intercept_[0]
    weights = np.vstack(weight_rows)
    kernel = None
    if vectors is not None and targets[:, 0].min() != targets[:, 0].max():
        kernel = fit_kernel(kernel_inputs(vectors, cues), targets[:, 0])
    return Heads(
        ngram_weights=sp.csr_matrix(weights[:, :width].astype(np.float32)),
        vector_weights=None if vectors is None else weights[:, width:].astype(np.float64),
        bias=bias,
        kernel=kernel,
    )


@dataclass(frozen=True)
class Scores:
    """Probabilities from the learned layer for one text."""

    crisis: float
    categories: dict[str, float]
    help_coming: float

    @property
    def top_category(self) -> str:
        return max(self.categories, key=lambda c: self.categories[c])


class LearnedSignal:
    """A trained artifact ready to score; `variant` says whether the encoder is in use."""

    def __init__(
        self,
        featurizer: Featurizer,
        heads: dict[str, Heads],
        encoder: Encoder | None,
        fingerprint: str,
    ) -> None:
        self._featurizer = featurizer
        self._heads = heads
        self._encoder = encoder if "full" in heads else None
        self.variant = "full" if self._encoder is not None else "ngram"
        self.fingerprint = fingerprint

    def score(self, texts: Sequence[str]) -> list[Scores]:
        if not texts:
            return []
        ngrams, cues = self._featurizer.features(texts)
        vectors = embed(self._encoder, texts)
        probabilities = self._heads[self.variant].probabilities(ngrams, cues, vectors)
        return [_scores(row) for row in probabilities]


def _scores(row: Vector) -> Scores:
    categories = {c: float(row[1 + i]) for i, c in enumerate(CRISIS_CATEGORIES)}
    return Scores(crisis=float(row[0]), categories=categories, help_coming=float(row[-1]))


def embed(encoder: Encoder | None, texts: Sequence[str]) -> Vector | None:
    if encoder is None:
        return None
    return encoder.encode(texts).astype(np.float64) * EMBEDDING_WEIGHT


def train_heads(
    featurizer: Featurizer, encoder: Encoder | None, examples: Sequence[Example]
) -> dict[str, Heads]:
    texts = [e.text for e in examples]
    ngrams, cues = featurizer.features(texts)
    targets = _targets(examples)
    heads = {"ngram": fit_heads(ngrams, cues, None, targets)}
    vectors = embed(encoder, texts)
    if vectors is not None:
        heads["full"] = fit_heads(ngrams, cues, vectors, targets)
    return heads


def save_heads(path: Path, heads: dict[str, Heads], fingerprint: str) -> None:
    arrays: dict[str, Any] = {"fingerprint": np.asarray(fingerprint)}
    for variant, head in heads.items():
        weights = head.ngram_weights.tocsr()
        arrays[f"{variant}_data"] = weights.data
        arrays[f"{variant}_indices"] = weights.indices
        arrays[f"{variant}_indptr"] = weights.indptr
        arrays[f"{variant}_shape"] = np.asarray(weights.shape)
        arrays[f"{variant}_bias"] = head.bias
        if head.vector_weights is not None:
            arrays[f"{variant}_vector"] = head.vector_weights
        if head.kernel is not None:
            kernel = head.kernel
            arrays[f"{variant}_kernel_support"] = kernel.support
            arrays[f"{variant}_kernel_dual"] = kernel.dual
            arrays[f"{variant}_kernel_scalars"] = np.asarray(
                [kernel.intercept, kernel.gamma, kernel.platt_a, kernel.platt_b]
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(path)


def read_heads(path: Path) -> tuple[dict[str, Heads], str]:
    with np.load(path, allow_pickle=False) as stored:
        heads = {}
        for variant in VARIANTS:
            if f"{variant}_bias" not in stored:
                continue
            ngram_weights = sp.csr_matrix(
                (
                    stored[f"{variant}_data"],
                    stored[f"{variant}_indices"],
                    stored[f"{variant}_indptr"],
                ),
                shape=tuple(stored[f"{variant}_shape"]),
            )
            vector = stored[f"{variant}_vector"] if f"{variant}_vector" in stored.files else None
            kernel = None
            if f"{variant}_kernel_support" in stored.files:
                intercept, gamma, platt_a, platt_b = stored[f"{variant}_kernel_scalars"].tolist()
                kernel = KernelHead(
                    stored[f"{variant}_kernel_support"],
                    stored[f"{variant}_kernel_dual"],
                    intercept,
                    gamma,
                    platt_a,
                    platt_b,
                )
            heads[variant] = Heads(ngram_weights, vector, stored[f"{variant}_bias"], kernel)
        return heads, str(stored["fingerprint"])
