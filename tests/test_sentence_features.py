"""The dialogue core's sentence featurizer (nlu_components/sentence_features.py), run in the
Rasa runtime's own interpreter: the verified encoder gives each message its scaled meaning
vector; a weight file that does not match its recorded sha256 leaves the classifier on its
n-grams (zeros, an error logged) instead of stopping the Rasa server."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from community.settings import PROJECT_ROOT, Settings
from tests.conftest import rasa_runtime_or_skip

pytestmark = pytest.mark.rasa

PROBE = """
import json, logging, sys
import numpy as np
import safety.encoder
if sys.argv[1] == "tampered":
    # The recorded hash no longer matches the file on disk: as if the weights were swapped.
    safety.encoder.EXPECTED_SHA256["weights.npz"] = "0" * 64
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.constants import TEXT
from nlu_components.sentence_features import SentenceEncoderFeaturizer
featurizer = SentenceEncoderFeaturizer({"scale": 2.0}, "sentence")
messages = [Message(data={TEXT: t}) for t in ("can i breastfeed on methadone", "puedo amamantar")]
messages.append(Message(data={"intent": "greet"}))  # no text: nothing to add
featurizer.process(messages)
out = []
for m in messages:
    _, sentence = m.get_dense_features(TEXT)
    out.append(None if sentence is None else [list(sentence.features.shape),
               float(np.linalg.norm(sentence.features))])
print(json.dumps(out))
"""


def run_probe(mode: str) -> tuple[list[object], str]:
    rasa_runtime_or_skip()
    venv = Settings().rasa_runtime.parent.parent
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    lib_path = venv / ".peerbot-lib-path"
    if lib_path.exists() and lib_path.read_text().strip():
        env["LD_LIBRARY_PATH"] = lib_path.read_text().strip()
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PROBE, mode],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_each_message_gets_its_scaled_meaning_vector() -> None:
    features, _ = run_probe("verified")
    english, spanish, no_text = features
    assert english == [[1, 512], pytest.approx(2.0, abs=0.01)]  # unit vectors, scaled by 2
    assert spanish == [[1, 512], pytest.approx(2.0, abs=0.01)]
    assert no_text is None


def test_weights_that_do_not_match_leave_the_n_grams_alone() -> None:
    features, logged = run_probe("tampered")
    assert features[0] == [[1, 512], 0.0]
    assert "sentence encoder unavailable" in logged and "sha256" in logged
