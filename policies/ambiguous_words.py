"""Asks "Did you mean ...?" when a word means more than one topic here and nothing says which.

The classifier can be sure and still wrong in a way no confidence shows: "how do the strips
work" reads as test strips (0.69) though in this community "strips" are as often buprenorphine
film, and "can i ask somebody a question" as a question for researchers (0.99) though she may
want a person. The FallbackClassifier only asks when the two best intents are close. This
policy looks at the words: a group of policies/data/ambiguous_words.yml matches her message and
none of its `unless` words does. Then, if the topic she is on is one of the group's topics, the
conversation settles it and `action_follow_up` answers that topic; otherwise `action_clarify`
offers the group's topics as buttons, which this policy passes to it in the `clarify_options`
slot. Long messages (more than `max_words`) say enough around the word and are left alone, as
are moves with their own meaning (`never_instead_of`) the classifier is sure of (from
`sure_of_a_move`) unless the group offers them.

The groups are read at training time and kept in the model, so a served model never depends
on the project's files; `fingerprint_addon` makes Rasa retrain it when the file changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY

from policies import model_files
from policies.topic_continuity import topic_before_latest_message

GROUPS_FILE = "ambiguous_words.json"
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "ambiguous_words.yml"


@dataclass(frozen=True)
class Group:
    name: str
    words: re.Pattern[str]
    unless: re.Pattern[str]
    topics: tuple[str, ...]

    def matches(self, text: str) -> bool:
        return bool(self.words.search(text)) and not self.unless.search(text)


def read_groups(path: Path) -> list[dict[str, Any]]:
    """The groups as plain data (what the model keeps), checked: each compiles and has topics."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)["groups"]
    groups = []
    for name, fields in raw.items():
        topics = [str(t) for t in fields["topics"]]
        if len(topics) < 2:
            raise ValueError(f"{path.name}: {name}: a group offers at least two topics")
        for key in ("words", "unless"):
            re.compile(str(fields[key]), re.I)
        groups.append(
            {"name": name, "words": fields["words"], "unless": fields["unless"], "topics": topics}
        )
    return groups


def compile_groups(data: list[dict[str, Any]]) -> list[Group]:
    return [
        Group(
            str(g["name"]),
            re.compile(str(g["words"]), re.I),
            re.compile(str(g["unless"]), re.I),
            tuple(g["topics"]),
        )
        for g in data
    ]


def ambiguous_group(groups: list[Group], text: str, max_words: int) -> Group | None:
    """The first group her message leaves open, if it is short enough to be left open."""
    if len(text.split()) > max_words:
        return None
    return next((g for g in groups if g.matches(text)), None)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class AmbiguousWordsPolicy(Policy):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "priority": 8,  # above TopicContinuityPolicy (7): an open word is asked about
            "path": str(DEFAULT_PATH),
            "topic_slot": "topic",
            "options_slot": "clarify_options",
            "clarify_action": "action_clarify",
            "follow_up_action": "action_follow_up",
            "max_words": 15,
            "never_instead_of": [],
            "sure_of_a_move": 0.5,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        path = Path(str(config.get("path") or DEFAULT_PATH))
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        groups: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._never = frozenset(config.get("never_instead_of") or [])
        self._groups = compile_groups(groups or [])

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        data = read_groups(Path(str(self.config["path"])))
        known = set(domain.intents)
        for group in data:
            unknown = [t for t in group["topics"] if t not in known]
            if unknown:
                raise ValueError(f"ambiguous_words: {group['name']}: unknown intents {unknown}")
        self._groups = compile_groups(data)
        model_files.keep(self._model_storage, self._resource, GROUPS_FILE, data)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> AmbiguousWordsPolicy:
        # An older model without groups: never asks, as before.
        groups = model_files.read(model_storage, resource, GROUPS_FILE) or []
        return cls(config, model_storage, resource, execution_context, groups=groups)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        choice = self._choose(tracker)
        if choice is None:
            return self._prediction(probabilities)
        action, events = choice
        if action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=events)

    def _choose(self, tracker: DialogueStateTracker) -> tuple[str, list[Any]] | None:
        clarify = str(self.config["clarify_action"])
        if tracker.latest_action_name == clarify:
            return str(ACTION_LISTEN_NAME), []  # the buttons are out: wait for her
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        if tracker.active_loop_name or not self._groups:
            return None
        text = tracker.latest_message.text or ""
        if text.startswith("/"):
            return None  # a button's payload or a command says exactly what she means
        group = ambiguous_group(self._groups, text, int(self.config["max_words"]))
        if group is None:
            return None
        parsed = tracker.latest_message.parse_data.get(INTENT) or {}
        intent = parsed.get(INTENT_NAME_KEY)
        sure = float(parsed.get("confidence") or 0.0) >= float(self.config["sure_of_a_move"])
        if intent in self._never and intent not in group.topics and sure:
            return None  # "bye, gotta get the results" is a goodbye; "testing" is not a feeling
        topic = topic_before_latest_message(tracker, str(self.config["topic_slot"]))
        if topic in group.topics:
            return str(self.config["follow_up_action"]), []
        options = list(group.topics)
        return clarify, [SlotSet(str(self.config["options_slot"]), options)]
