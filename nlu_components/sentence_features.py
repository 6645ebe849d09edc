"""Gives the intent classifier what a message means, not only which words it uses.

The classifier reads word and character n-grams, so it knows a topic by its words: "the bills r
piling up" shares none with the benefits examples, and "ok actually can u delete everything u
have on me" reads as a feeling because of "ok actually". The crisis screen already carries a
multilingual sentence encoder (safety/encoder.py: Universal Sentence Encoder v3, weights checked
against their sha256 before loading). This featurizer adds its 512-number sentence vector to the
n-gram features the classifier reads, in English and Spanish alike.

If the encoder cannot be loaded (package missing, a weight file changed), every message gets a
vector of zeros and an error is logged: the classifier then decides on the n-grams alone, as it
did before, rather than the Rasa server failing to start. The README's "Choosing the pipeline"
has the figures.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from safety.encoder import DIMENSIONS, EncoderUnavailable, SentenceEncoder, open_encoder

log = logging.getLogger(__name__)

BATCH = 64  # training encodes a few thousand examples; batches keep it to seconds


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The vectors have length 1 and the n-gram counts are whole numbers: scaled up, the
        # meaning weighs about as much as the words (chosen on cross-validation, README).
        return {**DenseFeaturizer.get_default_config(), "scale": 3.0}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEncoderFeaturizer: scale must be positive")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, {**self.get_default_config(), **config})
        self._scale = float(self._config["scale"])
        self._encoder: SentenceEncoder | None = None
        try:
            self._encoder = open_encoder()
        except EncoderUnavailable as error:
            log.error("sentence encoder unavailable, intents read from n-grams only: %s", error)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def _featurize(self, messages: list[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(with_text), BATCH):
            batch = with_text[start : start + BATCH]
            vectors = self._vectors([str(m.get(TEXT)) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
                )

    def _vectors(self, texts: list[str]) -> np.ndarray:
        if self._encoder is not None:
            try:
                return self._encoder.encode(texts) * self._scale
            except Exception:  # a message the tokenizer cannot take must not stop the parse
                log.exception("sentence encoder failed on a batch; zeros instead")
        return np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
