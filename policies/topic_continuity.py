"""Reads a message she sends while on a topic as more about that topic, unless it clearly
names another; and asks about a short first question it is unsure of.

Every topic has one rule (nlu/rules.yml), so the classifier's best guess decides the answer. In
a conversation that is often wrong: after the breastfeeding answer, "what if its methadone
instead" names methadone (the classifier says `faq_methadone`, 0.61) and after the answer about
peer support "can they come to appointments with me" reads as a ride (0.38). A person would
read both against what was just said. This policy does, for Rasa, the one thing the rules
cannot: look at the topic she was on (the `topic` slot before this message) together with how
sure the classifier is and what her words name. It predicts `action_follow_up`, which answers
against her topic, when:

- the classifier is unsure (below `unsure_below`) of a topic that is not hers, unless her words
  name that topic and not hers, or the FallbackClassifier is about to ask "Did you mean ...?"
  (unless its best reading is one of `fallback_moves`: "am i talking to an actual person");
- it is sure of another topic, but the message does not name it (policies/data/topic_words.yml)
  and names hers, or names neither and points back ("that", "they", "ones": `points_back`) or
  is short (`short_words`): "mines just a family practice doc" after the answer about
  buprenorphine is not about family trust, however sure the classifier is;
- a few words name only a medication after a topic it can be a detail of (`detail_topics`,
  `detail_of`: "sublocade" after the answer about NAS is NAS on sublocade);
- the message puts a condition on what was said ("even if its only my methadone" after the
  answer about CPS: `even`), whatever it names;
- it reads "I can't help with that" (`out_of_scope`) with a follow-up among the best readings
  (`out_of_scope_top`): "even w a 2 wk old at home??" after the answer about methadone;
- right after the resource finder asked which state she is in, the message names none and
  reads as help, out of scope or unsure (`while_asking_state`), or tells rather than asks (no
  `question`: "just found out im pregnant 😬"): the finder asks again.

Moves with their own meaning (`never_instead_of`: a feeling, her state, asking for a person,
her data, greetings...) keep their rule; greetings, thanks and goodbyes only when the classifier
is sure of them (`only_sure_moves`). A message that says it moves on ("also", "other thing",
"btw": `moving_on`) keeps the classifier's reading. After its action it predicts listening.

With no topic yet (her first question, or after a greeting), a short message (at most
`ask_max_words`) read as a topic below `ask_below`, with a second topic at
`ask_second_at_least` or more, is asked about (unless her words name the best reading only:
"they said my son might have nas"): `action_clarify` offers the best readings as
buttons (passed in the `clarify_options` slot) instead of answering a guess. Moves
(`never_asked_about`: a greeting, a feeling, asking for a person) keep their rule.

On a topic or not, a few words (at most `two_topics_max_words`, with a `joiner`) that name two
topics and ask no question ("narcan n strips", "group or coach?", "my family and cps") are asked
about too, the topics named offered in the classifier's order. A medication or help in general
named beside another topic only says more about it (`combining_topics`: "nursing and bupe").

`train` keeps the topic words in the model, so a served model never depends on the project's
files (`fingerprint_addon` retrains it when they change); the thresholds live in config.yml.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
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

from policies import model_files

FALLBACK_INTENT = "nlu_fallback"
WORDS_FILE = "topic_words.json"
DEFAULT_WORDS_PATH = Path(__file__).resolve().parent / "data" / "topic_words.yml"


def read_topic_words(path: Path) -> dict[str, str]:
    """The words that name each topic, checked: every pattern compiles."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)["topics"]
    words = {str(topic): str(pattern) for topic, pattern in raw.items()}
    for pattern in words.values():
        re.compile(pattern, re.I)
    return words


def without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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
            # Of those, the ones that keep their rule on a topic only when the classifier is sure
            # (a greeting or a goodbye read at 0.27 in the middle of a conversation is not one).
            "only_sure_moves": [],
            # Unsure of everything, with one of these moves the best reading: Rasa's two-stage
            # fallback asks (or acknowledges a feeling) instead of answering her topic again.
            "fallback_moves": [],
            # Right after the finder asked which state she is in (the response
            # `ask_state_response`), these readings of a message that names none keep her need:
            # "can u find anything for us" or "i have 3 under 5" are more about it, and the
            # finder asks once more instead of a list of crisis lines or "I can't help with that".
            "while_asking_state": [],
            "ask_state_response": "utter_ask_state",
            "state_slot": "state",
            # A question ("what is methadone?"): its reading answers even while the finder waits
            # for her state; what she tells instead is more about her need ("" : never).
            "question": "",
            # "also what even is mat", "other thing, ...": she says herself she is moving on.
            "moving_on": "",
            # On a topic, out_of_scope with follow_up among this many best readings follows it.
            "out_of_scope_top": 0,
            # With no topic: asking "Did you mean ...?" about a short, unsure reading (0: never).
            "ask_below": 0.0,
            "ask_second_at_least": 0.1,
            "ask_max_words": 8,
            "ask_options": 3,
            "never_asked_about": [],
            # A few words naming two topics ("narcan n strips"): asked about (0: never).
            "two_topics_max_words": 0,
            "joiner": "",
            # Topics that, named beside another, only say more about it ("nursing and bupe").
            "combining_topics": [],
            # Topics that, named alone in a few words after another topic, are a detail of it
            # ("sublocade" after the answer about NAS).
            "detail_topics": [],
            "detail_of": [],
            "detail_words": 4,
            "clarify_action": "action_clarify",
            "options_slot": "clarify_options",
            # A sure reading of another topic whose words the message does not name.
            "words_path": str(DEFAULT_WORDS_PATH),
            "points_back": "",
            # "even if its only methadone": her topic with a condition, whatever it names.
            "even": "",
            "short_words": 0,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        path = Path(str(config.get("words_path") or DEFAULT_WORDS_PATH))
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        topic_words: dict[str, str] | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._words = {t: re.compile(p, re.I) for t, p in (topic_words or {}).items()}
        even = str(config.get("even") or "")
        self._even = re.compile(even, re.I) if even else None
        self._combining = frozenset(config.get("combining_topics") or [])
        self._details = frozenset(config.get("detail_topics") or [])
        self._detail_of = frozenset(config.get("detail_of") or [])
        joiner = str(config.get("joiner") or "")
        self._joiner = re.compile(joiner, re.I) if joiner else None
        question = str(config.get("question") or "")
        self._question = re.compile(question, re.I) if question else None
        points_back = str(config.get("points_back") or "")
        self._points_back = re.compile(points_back, re.I) if points_back else None
        self._never = frozenset(config.get("never_instead_of") or [])
        self._sure_moves = frozenset(config.get("only_sure_moves") or [])
        self._fallback_moves = frozenset(config.get("fallback_moves") or [])
        self._never_asked = frozenset(config.get("never_asked_about") or [])
        self._while_asking_state = frozenset(config.get("while_asking_state") or [])
        moving_on = str(config.get("moving_on") or "")
        self._moving_on = re.compile(moving_on, re.I) if moving_on else None

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        words = read_topic_words(Path(str(self.config["words_path"])))
        unknown = sorted(set(words) - set(domain.intents))
        if unknown:
            raise ValueError(f"topic_words: unknown intents {unknown}")
        self._words = {t: re.compile(p, re.I) for t, p in words.items()}
        model_files.keep(self._model_storage, self._resource, WORDS_FILE, words)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TopicContinuityPolicy:
        # An older model without them: sure readings are taken, as before.
        words = model_files.read(model_storage, resource, WORDS_FILE) or {}
        return cls(config, model_storage, resource, execution_context, topic_words=words)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        events: list[SlotSet] = []
        options = self._names_two_topics(tracker)
        action = None if options else self._choose(tracker)
        if action is None:
            options = options or self._unsure_without_topic(tracker)
            if options:
                action = str(self.config["clarify_action"])
                events = [SlotSet(str(self.config["options_slot"]), options)]
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=events)

    def _unsure_without_topic(self, tracker: DialogueStateTracker) -> list[str]:
        """The readings to offer when a short first question is unsure between topics."""
        below = float(self.config["ask_below"])
        message = tracker.latest_message
        if below <= 0 or message is None or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return []
        if tracker.active_loop_name:
            return []
        text = message.text or ""
        if text.startswith("/") or len(text.split()) > int(self.config["ask_max_words"]):
            return []  # a payload says what she means; a long message says enough
        if topic_before_latest_message(tracker, str(self.config["topic_slot"])):
            return []  # on a topic, the conversation settles it (_choose)
        ranking = [
            (str(item.get(INTENT_NAME_KEY)), float(item.get("confidence") or 0.0))
            for item in message.parse_data.get(INTENT_RANKING_KEY) or []
            if item.get(INTENT_NAME_KEY) != FALLBACK_INTENT
        ]
        if not ranking or ranking[0][0] in self._never_asked:
            return []
        intent = (message.parse_data.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent == FALLBACK_INTENT:
            return []  # the two-stage fallback asks already
        offered = [(n, c) for n, c in ranking if n not in self._never_asked]
        offered = offered[: int(self.config["ask_options"])]
        if len(offered) < 2 or ranking[0][1] >= below:
            return []
        if offered[1][1] < float(self.config["ask_second_at_least"]):
            return []  # one reading stands out: answering it is no guess
        best = ranking[0][0]
        others = [t for t in self._words if t != best and t not in self._combining]
        if self._names(best, text) and not any(self._names(t, text) for t in others):
            return []  # "they said my son might have nas": her words name the best one only
        return [name for name, _ in offered]

    def _names_two_topics(self, tracker: DialogueStateTracker) -> list[str]:
        """ "narcan n strips", "group or coach?", "my family and cps": a few words that name
        two topics and ask nothing about either. Which one she means is a guess: the named
        topics are offered, in the classifier's order."""
        most = int(self.config["two_topics_max_words"])
        message = tracker.latest_message
        if most <= 0 or message is None or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return []
        text = message.text or ""
        words = text.split()
        if tracker.active_loop_name or text.startswith("/") or len(words) > most:
            return []
        if self._question is not None and self._question.search(text.replace("?", "")):
            return []  # "can i breastfeed and take methadone" asks one thing about both
        if self._joiner is None or not self._joiner.search(text):
            return []
        intent = (message.parse_data.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent in self._never_asked and intent != FALLBACK_INTENT:
            return []  # a move ("thanks and bye") keeps its rule
        ranked = [
            str(item.get(INTENT_NAME_KEY))
            for item in message.parse_data.get(INTENT_RANKING_KEY) or []
        ]
        named = [t for t in self._words if t not in self._never_asked and self._names(t, text)]
        # "nursing and buprenorphine" is one question (breastfeeding on it), and "methadone vs
        # bupe" the comparison: a medication, or help in general, only says more.
        named = [t for t in named if t not in self._combining]
        if len(named) < 2:
            return []
        named.sort(key=lambda t: ranked.index(t) if t in ranked else len(ranked))
        return named[: int(self.config["ask_options"])]

    def _names(self, topic: str, text: str) -> bool:
        words = self._words.get(topic)
        return words is not None and bool(words.search(without_accents(text)))

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
            and intent
            and self._keeps_her_need(intent, tracker.latest_message.text or "")
            and not tracker.get_slot(str(self.config["state_slot"]))
            and last_said(tracker) == self.config["ask_state_response"]
        ):
            return follow_up
        if not topic or not intent or intent == topic:
            return None
        if intent in self._sure_moves and confidence < float(self.config["unsure_below"]):
            return follow_up  # "for getting to dosing every morning" is no greeting (0.27)
        if intent == self.config["follow_up_intent"] or intent in self._never:
            return None  # its own rule answers
        text = tracker.latest_message.text or ""
        if self._moving_on is not None and self._moving_on.search(text):
            return None  # a new topic by her own words: the classifier's reading answers
        if intent == "out_of_scope" and self._follow_up_among_best(parse):
            return follow_up  # "even w a 2 wk old at home??" after methadone
        if intent == FALLBACK_INTENT:
            ranking = [
                str(item.get(INTENT_NAME_KEY))
                for item in parse.get(INTENT_RANKING_KEY) or []
                if item.get(INTENT_NAME_KEY) != FALLBACK_INTENT
            ]
            if ranking and ranking[0] in self._fallback_moves:
                return None  # "am i talking to an actual person": a move, asked about
            if int(self.config["fallback_top"]) <= 0:
                return follow_up  # unsure of everything: the conversation settles it
            return follow_up if topic in ranking[: int(self.config["fallback_top"])] else None
        if confidence < float(self.config["unsure_below"]):
            # Unsure, but her words name that topic and not hers ("thinking of coming off the
            # done slowly" after the privacy answer, 0.47): the reading answers.
            named = self._names(intent, text) and not self._names(topic, text)
            return None if named else follow_up
        if self._even is not None and self._even.search(text):
            return follow_up  # "even if its only my methadone" after CPS: about CPS still
        return follow_up if self._more_about_her_topic(topic, intent, text) else None

    def _keeps_her_need(self, reading: str, text: str) -> bool:
        """Right after "Which state are you in?": a reading that keeps her need, or something
        she tells rather than asks ("just found out im pregnant 😬", "my ob doesnt prescribe
        subs"): more about her need, and the finder asks again."""
        if reading in self._while_asking_state:
            return True
        if reading in self._never or self._question is None:
            return False
        return not self._question.search(text)

    def _more_about_her_topic(self, topic: str, reading: str, text: str) -> bool:
        """A sure reading of another topic that the message's words do not bear out."""
        if reading not in self._words:
            return False  # a move, or a topic without words: the reading stands
        if (
            reading in self._details
            and topic in self._detail_of
            and len(text.split()) <= int(self.config["detail_words"])
            and not any(self._names(t, text) for t in self._words if t not in self._details)
        ):
            return True  # "sublocade" alone after the answer about NAS: NAS on sublocade
        if self._names(reading, text):
            return False  # she names it: a new topic
        if self._names(topic, text):
            return True  # she names hers
        short = len(text.split()) <= int(self.config["short_words"])
        points_back = self._points_back is not None and bool(self._points_back.search(text))
        return short or points_back

    def _follow_up_among_best(self, parse: dict[str, Any]) -> bool:
        top = int(self.config["out_of_scope_top"])
        names = [str(item.get(INTENT_NAME_KEY)) for item in parse.get(INTENT_RANKING_KEY) or []]
        return top > 0 and str(self.config["follow_up_intent"]) in names[:top]
