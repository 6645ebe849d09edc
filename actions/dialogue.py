"""Custom actions that let the dialogue core hold a conversation: follow-ups read against the
topic she is on (the `topic` slot), feelings without words answered more warmly the second time
(the `felt_before` slot), and the "Did you mean ...?" step of Rasa's two-stage fallback.

The slots themselves are Rasa's: `topic` is filled by from_intent mappings (responses/dialogue.yml)
on every topic answer, so these actions only read it. Answers are Rasa responses, so Rasa picks
their Spanish variation by the `language` slot; what these actions word themselves (button
titles) comes from actions/data/wording.yml in her language. The cues below read English and
Spanish follow-ups alike.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import DEFAULT_LANGUAGE, language_of
from actions.resources import (
    FINDER_INTENTS,
    TOPIC_RESOURCES,
    asks_for_services,
    asks_more_than_her_state,
    asks_where_in_a_state,
    help_reply_for,
    response_for,
    state_in_reply,
    topic_before_this_message,
)
from actions.wording import say, title
from community.resources import default_directory

MEDICATION_TOPICS = frozenset(
    {"faq_moud", "faq_methadone", "faq_buprenorphine", "faq_moud_compare"}
)
BIRTH_TOPICS = frozenset({"faq_drug_testing", "faq_hospital_stigma"})
# A word in the follow-up that moves the answer to a neighbouring topic: (cue, topics it applies
# to, the topic that answers). Checked in order; without a cue the topic she is on answers again.
# Each cue reads English, then Spanish as written in chat (accents often left out).
# "should i switch to subs": after a medication answer, a question of which one suits her.
SWITCHING = re.compile(
    r"\b(switch(ing)?|chang(e|ing)|mov(e|ing)) (over )?(to|onto)\b"
    r"|\bcambiar(me)? (a|al)\b|\bpasarme (a|al)\b",
    re.I,
)
PREGNANCY = re.compile(
    r"pregnan|expecting|\bpreg\b|while i'?m carrying|before (the )?birth"
    r"|embarazad|\bembarazo|\ben estado\b|\bpreñada|esperando (un |una |a mi )?beb[eé]"
    r"|antes del parto|antes de (dar a luz|que nazca)",
    re.I,
)
BREASTFEEDING = re.compile(
    r"breast ?feed|\bnurs(e|ing)\b|\bbf\b|pump(ing)?\b"
    r"|amamant|\bdar(le)? (el )?pecho|\bdando (el )?pecho|\blactancia|\blactar|leche materna"
    r"|sacarme (la )?leche|\bextractor",
    re.I,
)
STAY_WITH_BABY = re.compile(
    r"stay with (him|her|them|my baby|the baby)|room(ing)? in"
    r"|quedarme con ([eé]l|ella|ellos|mi beb[eé]|el beb[eé]|la beb[eé])|alojamiento conjunto"
    r"|(estar|dormir) con (mi|el|la) beb[eé]|en el (mismo )?cuarto con",
    re.I,
)
METHADONE = re.compile(
    r"methadone|\bthe done\b|\bdone clinic\b|metadona|\bla done\b|cl[ií]nica de (la )?done", re.I
)
BUPRENORPHINE = re.compile(
    r"\bsubs?\b|suboxone|subutex|\bbupe\b|buprenorphine|sublocade|buprenorfina", re.I
)
RESEARCH_TOPICS = frozenset(
    {"research_joining", "research_opt_in", "research_how_decide", "research_ask"}
)
# "do they share what they found w us after" after the answer about joining a study.
RESULTS = re.compile(
    r"\bresults?\b|\bfound\b|\bfindings\b|\blearn(ed|t)\b|\bresultados?\b|\bencontraron\b",
    re.I,
)
# "could i suggest something" after the answer about how research is chosen.
SUGGESTING = re.compile(
    r"\bsuggest|\bidea\b|\bask (them|the researchers|a question)|\bsugerir|\bpreguntarles\b",
    re.I,
)
# "can i turn those off" after the answer about getting research questions.
TURNING_OFF = re.compile(
    r"\b(turn|switch|shut) (them|those|it|that|these|this) off\b|\bturn off\b|\bunsubscribe"
    r"|\bopt( me)? out\b|\bno more (of )?(them|those|questions)\b|\bstop (them|those|getting)\b"
    r"|\bdejar de recibir|\bya no (me )?(mand|envi)|\bdesactivar",
    re.I,
)
# "ok how do i erase everything then" after the answer about privacy.
ERASING = re.compile(
    r"\b(erase|delete|wipe|remove|clear|get rid of)\b.{0,20}"
    r"\b(everything|it all|all of it|all|my (stuff|data|info|chats?|messages|history|account)|it)\b"
    r"|\bborr(ar|en|a)\b|\beliminar\b",
    re.I,
)
# "what if i want to stop" after the answer about her medication, or about research questions.
STOPPING = re.compile(r"\b(stop|quit|come off|get off|wean)\b|\bdejar(lo|la)?\b|\bparar\b", re.I)
PRIVACY_TOPICS = frozenset({"faq_privacy", "my_data"})
CUES: tuple[tuple[re.Pattern[str], frozenset[str], str], ...] = (
    (TURNING_OFF, frozenset({"research_opt_in", "research_joining"}), "research_opt_out"),
    (ERASING, PRIVACY_TOPICS, "delete_my_data"),
    (STOPPING, frozenset({"research_opt_in"}), "research_opt_out"),
    (STOPPING, MEDICATION_TOPICS | {"faq_moud_pregnancy"}, "faq_taper_pregnancy"),
    (RESULTS, RESEARCH_TOPICS - {"research_ask"}, "research_results"),
    (SUGGESTING, RESEARCH_TOPICS - {"research_ask"}, "research_ask"),
    (PREGNANCY, MEDICATION_TOPICS | {"faq_breastfeeding", "faq_nas"}, "faq_moud_pregnancy"),
    (
        BREASTFEEDING,
        MEDICATION_TOPICS | {"faq_moud_pregnancy", "faq_taper_pregnancy", "faq_nas"},
        "faq_breastfeeding",
    ),
    (STAY_WITH_BABY, BIRTH_TOPICS, "faq_nas"),
    (SWITCHING, MEDICATION_TOPICS, "faq_moud_compare"),
    (METHADONE, frozenset({"faq_moud", "faq_buprenorphine", "faq_moud_compare"}), "faq_methadone"),
    (
        BUPRENORPHINE,
        frozenset({"faq_moud", "faq_methadone", "faq_moud_compare"}),
        "faq_buprenorphine",
    ),
)
# Intents that are moves in the conversation, never a topic to fall back on.
NOT_TOPICS = frozenset(
    {"follow_up", "inform_state", "feeling_low", "nlu_fallback", "greet", "goodbye", "thanks"}
)


def medication_named_in(text: str) -> str | None:
    """ "methadone" or "buprenorphine" when the message names one (slang too)."""
    if METHADONE.search(text):
        return "methadone"
    if BUPRENORPHINE.search(text):
        return "buprenorphine"
    return None


def follow_up_topic(topic: str | None, text: str) -> str | None:
    """The topic that answers a follow-up asked while she is on `topic`."""
    if not topic:
        return None
    for cue, applies_to, answer in CUES:
        if topic in applies_to and cue.search(text):
            return answer
    return topic


# A follow-up with no topic to follow ("is it safe for the baby" as her first question) is
# answered with the classifier's best topic only when that topic is this likely on its own;
# below it, which "it" she means is a guess, so she is asked (the FallbackClassifier's
# threshold, for the same reason).
CLEAR_TOPIC_CONFIDENCE = 0.25
FOLLOW_UP_OPTIONS = 3


def _next_best_topic(tracker: Tracker) -> str | None:
    """Without a topic to lean on, the classifier's best guess that is a topic, if clear."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    for item in ranking:
        name = str(item.get("name") or "")
        if name and name not in NOT_TOPICS:
            confident = float(item.get("confidence") or 0) >= CLEAR_TOPIC_CONFIDENCE
            return name if confident else None
    return None


def gives_her_state(text: str, language: str) -> bool:
    """ "where can i get it in ohio", or only where she is ("tennesee", "we're in tampa fl")."""
    if asks_where_in_a_state(text, language):
        return True
    return state_in_reply(text, language) is not None and not asks_more_than_her_state(
        text, language
    )


def answers_her_state(tracker: Tracker, text: str) -> bool:
    """The finder asked for her state (a need waits, no state yet) and this message names one,
    however the classifier read it ("we're in chicago", "tennesee")."""
    waiting = bool(tracker.get_slot("need")) and not tracker.get_slot("state")
    return waiting and state_in_reply(text, language_of(tracker)) is not None


async def find_help(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, text: str
) -> list[dict[str, Any]]:
    """The resource finder's reply, as if the message had been read as `intent`."""
    reply, events = help_reply_for(intent, text, tracker, default_directory())
    dispatcher.utter_message(**reply)
    return events


class ActionFollowUp(Action):
    """Answers "how long does it last", "and in pregnancy?", "what about X" against the topic
    she is on; with no topic yet, the best topic if it is clear, else "Did you mean ...?"."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str((tracker.latest_message or {}).get("text") or "")
        if answers_her_state(tracker, text):
            return await find_help(dispatcher, tracker, "inform_state", text)
        current = topic_before_this_message(tracker)
        topic = follow_up_topic(current, text) or _next_best_topic(tracker)
        events: list[dict[str, Any]] = []
        if medication := medication_named_in(text):
            events.append(SlotSet("medication", medication))
        if topic is None:
            ranking = list((tracker.latest_message or {}).get("intent_ranking") or [])
            options = clarify_options(ranking, limit=FOLLOW_UP_OPTIONS)
            if len(options) >= 2:
                buttons = clarify_buttons(options, language_of(tracker))
                dispatcher.utter_message(response="utter_ask_affirmation", buttons=buttons)
            else:
                dispatcher.utter_message(response="utter_default")
            return events
        if topic != tracker.get_slot("topic"):
            events.append(SlotSet("topic", topic))
        if topic in TOPIC_RESOURCES and gives_her_state(text, language_of(tracker)):
            # "where can i get it in ohio" after the answer about naloxone, or her state alone
            # ("tennesee") after the answer about treatment in pregnancy: its services there.
            return [*events, *await find_help(dispatcher, tracker, "inform_state", text)]
        if topic in TOPIC_RESOURCES and asks_for_services(text, language_of(tracker)):
            # "any services for that around here" after the answer about PPD: that kind of
            # help, where she said she lives or once she says it.
            return [*events, *await find_help(dispatcher, tracker, "help_resources", text)]
        if topic in FINDER_INTENTS:
            return [*events, *await find_help(dispatcher, tracker, topic, text)]
        dispatcher.utter_message(response=response_for(topic))
        return events


def feelings_heard(tracker: Tracker) -> int:
    return int(float(tracker.get_slot("feelings_heard") or 0))


def feeling_response(heard: int) -> str:
    """The first feeling gets utter_feeling_low, the second its warmer variation (felt_before),
    and from then on the two warmer answers alternate: never the same paragraph twice in a row."""
    return "utter_feeling_low_still" if heard >= 2 and heard % 2 == 0 else "utter_feeling_low"


def remembered_feeling(heard: int) -> list[dict[str, Any]]:
    return [SlotSet("felt_before", True), SlotSet("feelings_heard", float(heard + 1))]


class ActionFeeling(Action):
    """A feeling without words ("😭", "ugh", "i cant"): a gentle acknowledgment and an offer;
    the conditional variation of utter_feeling_low answers the second time, more warmly, and
    utter_feeling_low_still the third."""

    def name(self) -> str:
        return "action_feeling"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        heard = feelings_heard(tracker)
        dispatcher.utter_message(response=feeling_response(heard))
        return remembered_feeling(heard)


class ActionRememberFeeling(Action):
    """After a feeling's answer: the next one gets the warmer, different variation."""

    def name(self) -> str:
        return "action_remember_feeling"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return remembered_feeling(feelings_heard(tracker))


# The topics offered as "Did you mean ...?" buttons: those with a short title in
# actions/data/wording.yml (in each language).
# Deleting her data is never offered on a guess; seeing it is ("my data" alone).
NEVER_SUGGESTED = frozenset({*NOT_TOPICS, "out_of_scope", "delete_my_data"})


def clarify_options(ranking: list[dict[str, Any]], limit: int = 2) -> list[str]:
    """The best intents worth offering as "Did you mean ...?" buttons."""
    return [
        str(item["name"])
        for item in ranking
        if title(str(item.get("name"))) and item.get("name") not in NEVER_SUGGESTED
    ][:limit]


def clarify_buttons(options: list[str], language: str = DEFAULT_LANGUAGE) -> list[dict[str, str]]:
    """The "Did you mean ...?" buttons in `language`, and "Something else" last."""
    buttons = [{"title": title(i, language) or i, "payload": f"/{i}"} for i in options]
    buttons.append({"title": say("something_else", language), "payload": "/out_of_scope"})
    return buttons


# A question is asked about, never taken for a feeling ("am i allowed to say no").
QUESTION = re.compile(
    r"\?|^\s*(am|is|are|do|does|did|can|could|how|what|when|where|who|why|will|would|should"
    r"|puedo|puede|como|c[oó]mo|que|qu[eé]|cuando|cu[aá]ndo|donde|d[oó]nde|quien|qui[eé]n"
    r"|por ?que|es|son|tengo)\b",
    re.I,
)


# "can i start one now", "does that ever get better", "is it ok to do that": a word that points
# back at what was just said, unless she says she is moving on.
REFERS_BACK = re.compile(
    r"\b(it|that|this|one|ones|them|those|they|there|these|eso|esa|ese|esto|ello)\b", re.I
)
MOVING_ON = re.compile(
    r"^\W*((ok|okay|so|oh|um)\W+)?(also|other (thing|question)|another (thing|question)"
    r"|different|separate|btw|nvm"
    r"|never ?mind|otra (cosa|pregunta)|tambien|aparte)\b",
    re.I,
)


def refers_back(text: str) -> bool:
    """A short message that points back at the topic she is on."""
    return len(text.split()) <= 15 and bool(REFERS_BACK.search(text)) and not MOVING_ON.search(text)


def best_reading(ranking: list[dict[str, Any]]) -> str | None:
    """The classifier's best intent other than the fallback itself."""
    names = [str(item.get("name")) for item in ranking if item.get("name") != "nlu_fallback"]
    return names[0] if names else None


def is_follow_up_in_context(ranking: list[dict[str, Any]], topic: str | None) -> bool:
    """Unsure between readings, one of the two best being a follow-up to the topic she is on."""
    names = [str(item.get("name")) for item in ranking if item.get("name") != "nlu_fallback"][:2]
    return bool(topic) and "follow_up" in names


class ActionClarify(Action):
    """ "Did you mean ...?" for a word that means more than one topic here ("the strips", "my
    results"): the topics policies/ambiguous_words.py chose, as buttons."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        chosen = [str(t) for t in tracker.get_slot("clarify_options") or []]
        options = [t for t in chosen if title(t) and t not in NEVER_SUGGESTED]
        # Asking settles nothing: the topic stays what it was before this message (the slot's
        # from_intent mapping has already set it to the classifier's guess).
        events = [
            SlotSet("clarify_options", None),
            SlotSet("topic", topic_before_this_message(tracker)),
        ]
        if not options:
            dispatcher.utter_message(response="utter_default")
            return events
        buttons = clarify_buttons(options, language_of(tracker))
        dispatcher.utter_message(response="utter_ask_affirmation", buttons=buttons)
        return events


class ActionAskAffirmation(Action):
    """The first stage of Rasa's two-stage fallback: offer the two best topics as buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ranking = list((tracker.latest_message or {}).get("intent_ranking") or [])
        text = str((tracker.latest_message or {}).get("text") or "")
        if answers_her_state(tracker, text):
            return await find_help(dispatcher, tracker, "inform_state", text)
        topic = tracker.get_slot("topic")
        if topic in TOPIC_RESOURCES and gives_her_state(text, language_of(tracker)):
            # "where do i get some in ohio" after the answer about naloxone, or "massachusets"
            # alone after the answer about buprenorphine: its services there.
            return await find_help(dispatcher, tracker, "inform_state", text)
        if topic in TOPIC_RESOURCES and best_reading(ranking) == "help_resources":
            # "can you find me one" after the answer about peer coaches: help of that kind.
            return await find_help(dispatcher, tracker, "help_resources", text)
        if best_reading(ranking) == "feeling_low" and not QUESTION.search(text):
            # Unsure, but most likely a feeling ("long night with the baby 😮‍💨"): a feeling is
            # acknowledged, not answered with a menu of topics.
            return await ActionFeeling().run(dispatcher, tracker, domain)
        if is_follow_up_in_context(ranking, topic) or (topic and refers_back(text)):
            # One of the close readings is "more about what we were just talking about", and
            # there is a topic: the conversation settles it, no need to ask.
            return await ActionFollowUp().run(dispatcher, tracker, domain)
        buttons = clarify_buttons(clarify_options(ranking), language_of(tracker))
        dispatcher.utter_message(response="utter_ask_affirmation", buttons=buttons)
        return []
