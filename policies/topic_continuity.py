"""Reads a message she sends while on a topic as more about that topic, unless it clearly
names another.

Every topic has one rule (nlu/rules.yml), so the classifier's best guess decides the answer. In
a conversation that is often wrong: after the breastfeeding answer, "what if its methadone
instead" names methadone (the classifier says `faq_methadone`, 0.61) and after the answer about
peer support "can they come to appointments with me" reads as a ride (0.38). A person would
read both against what was just said. This policy does, for Rasa, the one thing the rules
cannot: look at the topic she was on (the `topic` slot before this message) together with how
sure the classifier is. When it is unsure (below `unsure_below`) of a topic that is not hers,
or when the FallbackClassifier is about to ask "Did you mean ...?" while her topic is among the
best readings, it predicts `action_follow_up`, which answers against her topic. Moves that are
never read as a follow-up (`never_instead_of`: a feeling, her state, asking for a person, her
data, greetings...) keep their own rule, and so does a message that says it moves on ("also",
"other thing", "btw": `moving_on`). Right after the resource finder asked which state she is
in, a message that names none and reads as help, out of scope or unsure (`while_asking_state`)
is more about her need: the finder asks again. After its action it predicts listening.

Nothing is learned: `train` keeps nothing and the thresholds live in config.yml.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY

FALLBACK_INTENT = "nlu_fallback"


def topic_before_latest_message(tracker: DialogueStateTracker, slot: str) -> str | None:
    """The slot's value just before her latest message (its from_intent mapping may already
    have set it to the new message's intent)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if isinstance(event, (SessionStarted, Restarted)):
            return None  # a new conversation starts with no topic
        if isinstance(event, UserUttered) and not seen_latest:
            seen_latest = True
        elif seen_latest and isinstance(event, SlotSet) and event.key == slot:
            return str(event.value) if event.value else None
    return None


def last_said(tracker: DialogueStateTracker) -> str | None:
    """The response the bot last uttered before her latest message (its `utter_action`)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_latest:
                return None
            seen_latest = True
        elif seen_latest and isinstance(event, BotUttered):
            return (event.metadata or {}).get("utter_action")
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class TopicContinuityPolicy(Policy):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "priority": 7,  # above RulePolicy (6): when it speaks, it decides
            "topic_slot": "topic",
            "follow_up_action": "action_follow_up",
            "follow_up_intent": "follow_up",
            "unsure_below": 0.5,
            "fallback_top": 3,
            "never_instead_of": [],
            # Right after the finder asked which state she is in (the response
            # `ask_state_response`), these readings of a message that names none keep her need:
            # "can u find anything for us" or "i have 3 under 5" are more about it, and the
            # finder asks once more instead of a list of crisis lines or "I can't help with that".
            "while_asking_state": [],
            "ask_state_response": "utter_ask_state",
            "state_slot": "state",
            # "also what even is mat", "other thing, ...": she says herself she is moving on.
            "moving_on": "",
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._never = frozenset(config.get("never_instead_of") or [])
        self._while_asking_state = frozenset(config.get("while_asking_state") or [])
        moving_on = str(config.get("moving_on") or "")
        self._moving_on = re.compile(moving_on, re.I) if moving_on else None

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self._choose(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    def _choose(self, tracker: DialogueStateTracker) -> str | None:
        follow_up = str(self.config["follow_up_action"])
        latest_action = tracker.latest_action_name
        if latest_action == follow_up:
            return str(ACTION_LISTEN_NAME)  # its answer is given: wait for her
        if latest_action != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        if tracker.active_loop_name:
            return None  # "Did you mean ...?" is waiting for her choice: its loop decides
        parse = tracker.latest_message.parse_data
        intent = (parse.get(INTENT) or {}).get(INTENT_NAME_KEY)
        confidence = float((parse.get(INTENT) or {}).get("confidence") or 0.0)
        topic = topic_before_latest_message(tracker, str(self.config["topic_slot"]))
        if (
            topic
            and intent in self._while_asking_state
            and not tracker.get_slot(str(self.config["state_slot"]))
            and last_said(tracker) == self.config["ask_state_response"]
        ):
            return follow_up
        if not topic or not intent or intent == topic:
            return None
        if intent == self.config["follow_up_intent"] or intent in self._never:
            return None  # its own rule answers
        text = tracker.latest_message.text or ""
        if self._moving_on is not None and self._moving_on.search(text):
            return None  # a new topic by her own words: the classifier's reading answers
        if intent == FALLBACK_INTENT:
            if int(self.config["fallback_top"]) <= 0:
                return follow_up  # unsure of everything: the conversation settles it
            ranking = [
                str(item.get(INTENT_NAME_KEY))
                for item in parse.get(INTENT_RANKING_KEY) or []
                if item.get(INTENT_NAME_KEY) != FALLBACK_INTENT
            ][: int(self.config["fallback_top"])]
            return follow_up if topic in ranking else None
        return follow_up if confidence < float(self.config["unsure_below"]) else None
