"""The resource finder: answers "find me help with X (in STATE)" from the vetted directory.

The topic comes from the intent (help_housing, ...) or, for a general request, from words in the
message; the state from the message. With nothing local known, national entries answer, and the
reply says so. Safety-at-home answers name services neutrally, in case someone reads her phone.
Replies are in her language (the `language` slot): the wording from actions/data/wording.yml,
each service's Spanish line from the directory, and in Spanish services that answer in Spanish
first; asking for her state is a Rasa response (utter_ask_state) with a Spanish variation.
"""

from __future__ import annotations

import difflib
import itertools
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import DEFAULT_LANGUAGE, language_of
from actions.wording import say
from community.resources import (
    CITY_STATES,
    CORE_RESOURCE_IDS,
    DISCREET_NAME,
    DISCREET_NAME_ES,
    REVIEW_NOTE,
    REVIEW_NOTE_ES,
    SPANISH,
    US_STATES,
    US_STATES_ES,
    WORDLIKE_CODES,
    Resource,
    ResourceDirectory,
    default_directory,
    state_name,
    state_named_in,
    without_accents,
)

INTENT_TOPICS: dict[str, tuple[str, ...]] = {
    "help_housing": ("housing",),
    "help_transportation": ("transportation",),
    "help_childcare": ("childcare",),
    "help_benefits": ("benefits", "food"),
    "help_violence": ("violence",),
}
DISCREET_TOPICS = {"violence"}
EMERGENCY_ID = "emergency_911"
LOCAL_REFERRAL_ID = "help_211"  # 211 knows local services where the directory has none
# Needs answered better by services near her: without a state, she is asked once for it.
LOCAL_NEEDS = frozenset({"help_resources", *INTENT_TOPICS}) - {"help_violence"}
URGENT_TOPICS = frozenset({"emergency", "crisis", "suicide", "self_harm", "overdose", "medical"})
# Asking for her state is a response (responses/dialogue.yml, with its buttons and its Spanish
# variation); find_help_text returns its English text to say "ask", as the tests compare.
ASK_STATE_RESPONSE = "utter_ask_state"
ASK_STATE = "Which state are you in? I only use it to find services near you."
# When she names her state after a topic's answer ("where can i get narcan" ... "ohio"), the
# services that fit the topic she is on.
TOPIC_RESOURCES: dict[str, tuple[str, ...]] = {
    "faq_naloxone": ("overdose",),
    "faq_test_strips": ("harm_reduction",),
    "faq_moud": ("treatment", "moud"),
    "faq_methadone": ("treatment", "moud"),
    "faq_buprenorphine": ("treatment", "moud"),
    "faq_moud_compare": ("treatment", "moud"),
    "faq_moud_pregnancy": ("moud", "pregnancy"),
    "faq_taper_pregnancy": ("treatment", "pregnancy"),
    "faq_ppd": ("postpartum", "mental_health"),
    "faq_baby_blues": ("postpartum", "mental_health"),
    "feeling_alone": ("overwhelmed", "postpartum"),
    "faq_peer_support": ("peer_support",),
    "faq_support_groups": ("peer_support",),
}


# Responses whose name is not utter_<intent>.
RESPONSE_OF = {"bot_challenge": "utter_bot_limits", "request_human": "utter_handoff"}
FINDER_INTENTS = frozenset({*INTENT_TOPICS, "help_resources"})
# "near me", "close by", "cerca de mi": she wants services where she lives, so a general request
# waits on her state like a named need.
NEAR_HER = re.compile(
    r"\bnear (me|here|us|where i live)\b|\b(close|around) (to )?(me|here|us)\b|\bnearby\b"
    r"|\bin my (area|town|city|county|state)\b|\blocal(ly)?\b|\baround where i\b"
    r"|\bcerca de (mi|aqui|donde vivo|mi casa)\b|\ben mi (area|ciudad|pueblo|condado|estado)\b",
    re.I,
)
# What a reply that only gives her state is made of besides the state ("i'm in ohio", "we live
# outside detroit", "estoy en texas"): anything else makes it a question of its own.
_STATE_REPLY_WORDS = frozenset(
    [
        "i",
        "im",
        "i'm",
        "me",
        "we",
        "were",
        "we're",
        "us",
        "our",
        "in",
        "at",
        "from",
        "near",
        "around",
        "outside",
        "by",
        "live",
        "living",
        "lives",
        "stay",
        "staying",
        "the",
        "a",
        "area",
        "city",
        "county",
        "town",
        "state",
        "ok",
        "okay",
        "yes",
        "yeah",
        "yea",
        "yep",
        "so",
        "its",
        "it's",
        "is",
        "my",
        "ya",
        "just",
        "currently",
        "rn",
        "right",
        "now",
        "lol",
        "here",
        "well",
        "um",
        "uh",
        "hmm",
        "oh",
        "and",
        "too",
        "also",
        "actually",
        "of",
        "what",
        "about",
        "how",
        "y",
        "estoy",
        "estamos",
        "vivo",
        "vivimos",
        "en",
        "de",
        "cerca",
        "del",
        "el",
        "la",
        "estado",
        "ciudad",
        "si",
        "pues",
        "soy",
        "somos",
        "aqui",
        "ahorita",
        "por",
        "mi",
    ]
)
# "where can i get it in ohio": after a topic's answer, a question of where is for the finder.
_WHERE = re.compile(
    r"\b(where|find|get (it|them|one|some)|places?|services?|clinics?|programs?|near)\b"
    r"|\b(donde|d[oó]nde|conseguir|encontrar|lugar(es)?|servicios?|cl[ií]nicas?)\b",
    re.I,
)


def response_for(topic: str) -> str:
    return RESPONSE_OF.get(topic, f"utter_{topic}")


def asks_more_than_her_state(text: str, language: str = DEFAULT_LANGUAGE) -> bool:
    """ "what about in florida", "are they legal in tennessee": a question about the topic that
    names a state, as against "i'm in ohio", which only answers where she is."""
    lowered = text.casefold()
    state = state_in_reply(text, language)
    if state:
        for name in (US_STATES[state], US_STATES_ES.get(state, ""), state):
            if name:
                lowered = re.sub(rf"\b{re.escape(name.casefold())}\b", " ", lowered)
        for city, code in CITY_STATES.items():
            if code == state:
                lowered = re.sub(rf"\b{re.escape(city)}\b", " ", lowered)
    words = re.findall(r"[a-záéíóúñ']+", lowered)
    if state:  # her state misspelled ("tennesee") is still only her state
        spelled = [without_accents(n) for n in (US_STATES[state], US_STATES_ES.get(state, "")) if n]
        words = [w for w in words if _misspelling_of(w, spelled) is None]
    return any(w not in _STATE_REPLY_WORDS for w in words)


# "any services for that around here": help of the kind just talked about.
_SERVICES = re.compile(
    r"\bany (services|programs|places|clinics|groups|help)\b"
    r"|\b(services|programs|places|help) for (that|it|this|me)\b"
    r"|\b(hay )?(servicios|programas|lugares) (para eso|de eso|cerca)\b",
    re.I,
)


def asks_for_services(text: str, language: str = DEFAULT_LANGUAGE) -> bool:
    """ "any services for that around here", "help near me", "where can i get it in ohio"."""
    return bool(
        _SERVICES.search(text) or NEAR_HER.search(text) or asks_where_in_a_state(text, language)
    )


def asks_where_in_a_state(text: str, language: str = DEFAULT_LANGUAGE) -> bool:
    """ "where can i get it in ohio": a question of where, naming her state."""
    return bool(_WHERE.search(text)) and state_named_in(text, language) is not None


def _close_state_name(text: str) -> str | None:
    """A state name misspelled ("tennesee", "rent help in conneticut"): close to one name
    only, and long enough that an ordinary word is not taken for it ("indian"). Checked
    against the words of the NLU data, the screen's corpus and the responses (about 10,000):
    none but a misspelled state is taken for one."""
    words = re.findall(r"[a-z]+", without_accents(text))
    if not words:
        return None
    names = {without_accents(n): c for c, n in US_STATES.items()}
    names |= {without_accents(n): c for c, n in US_STATES_ES.items()}
    candidates = [*words, *(" ".join(pair) for pair in itertools.pairwise(words))]
    for candidate in candidates:
        if close := _misspelling_of(candidate, list(names)):
            return names[close]
    return None


# A misspelled state name: long enough that an ordinary word is not taken for one ("indian"),
# and close to a name.
TYPO_MIN_LENGTH = 7
TYPO_CUTOFF = 0.88


def _misspelling_of(word: str, names: list[str]) -> str | None:
    if len(word) < TYPO_MIN_LENGTH:
        return None
    close = difflib.get_close_matches(word, names, n=1, cutoff=TYPO_CUTOFF)
    return close[0] if close else None


def talk_button(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    return {"title": say("talk_to_a_person", language), "payload": "/request_human"}


def _line(resource: Resource, discreet: bool, language: str = DEFAULT_LANGUAGE) -> str:
    line = resource.contact_line(language)
    shown = resource.display_name(language)
    if language == SPANISH and not line.startswith(shown):
        shown = resource.name  # no Spanish line: the English one, with a note
    if discreet and resource.phone != resource.name and line.startswith(shown):
        neutral = DISCREET_NAME_ES if language == SPANISH else DISCREET_NAME
        line = neutral + line[len(shown) :]
    return f"• {line}"


NOT_ALONE = frozenset({"ok", "hi", "me", "in"})
# In Spanish, two-letter words a reply is full of ("en la", "de", "mi", "al", "va") are a
# state's code only when they are the whole reply ("la", "tx").
_SPANISH_SHORT_WORDS = frozenset(
    {"LA", "DE", "MI", "ME", "AL", "VA", "PA", "MA", "OH", "IN", "OR", "OK"}
)


# Short names for a state, as a reply to "Which state are you in?" only ("mass", "cali"): as
# words in a longer message they mean other things (a church service, a shirt).
SHORT_NAMES = {
    "mass": "MA", "cali": "CA", "calif": "CA", "jersey": "NJ", "tenn": "TN", "penn": "PA",
    "conn": "CT", "minn": "MN", "mich": "MI", "wisc": "WI", "okla": "OK", "fla": "FL",
    "ariz": "AZ", "colo": "CO", "indy": "IN", "kentuck": "KY", "jerz": "NJ",
}  # fmt: skip


def state_in_reply(text: str, language: str = DEFAULT_LANGUAGE) -> str | None:
    """Her state when she answers the question: as in a request ("in ohio", "KY"), or a bare
    code in any case ("oh", "in ky"), which a request would not count. A code that is also an
    everyday word ("in", "me", "ok") counts in lower case only as the whole answer ("oh", "in
    oh"): "i'm in nyc" is not Indiana."""
    if state := state_named_in(text, language) or _close_state_name(text):
        return state
    words = re.findall(r"[a-z]+", without_accents(text))
    nicknames = [SHORT_NAMES[w] for w in words if w in SHORT_NAMES]
    if nicknames and len(words) <= 3:
        return nicknames[-1]  # "mass", "in cali", "jersey"
    # "what about in pa": after "in", a code that is no English word is her state, in a reply
    # short enough to be one ("in me", "in or out" stay words).
    after_in = re.search(r"\bin\s+(pa|ma|la|co|de|id|al)\b", text)
    if after_in and language != SPANISH and len(text.split()) <= 6:
        return after_in.group(1).upper()
    tokens = re.findall(r"\b[A-Za-z]{2}\b", text)
    if language == SPANISH:
        if not (len(tokens) == 1 and text.strip(" .!¡?¿") == tokens[0]):
            tokens = [t for t in tokens if t.isupper() or t.upper() not in _SPANISH_SHORT_WORDS]
        codes = [t.upper() for t in tokens if t.upper() in US_STATES]
        return codes[-1] if codes else None
    # "ok", "hi", "me", "in" alone are words, not Oklahoma, Hawaii, Maine or Indiana.
    tokens = [t for t in tokens if t.isupper() or t.lower() not in NOT_ALONE]
    short = len(text.split()) <= 2
    codes = [
        t.upper()
        for t in tokens
        if t.upper() in US_STATES and (t.isupper() or short or t.upper() not in WORDLIKE_CODES)
    ]
    return codes[-1] if codes else None


def _label(directory: ResourceDirectory, topic: str, language: str) -> str:
    if language == SPANISH:
        return say(f"topic_labels.{topic}", language)
    return directory.topics[topic].label


def find_help_text(
    intent: str,
    text: str,
    directory: ResourceDirectory,
    today: date | None = None,
    *,
    state: str | None = None,
    topics: list[str] | None = None,
    ask: bool = True,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The whole reply for a help request, in `language`; pure, so it is tested without Rasa.
    `state` and `topics` are what the conversation already knows; with no state for a local
    need, the reply asks for it (ASK_STATE; unless `ask` is off: she was asked already)."""
    state = state_named_in(text, language) or _close_state_name(text) or state
    topics = topics or list(INTENT_TOPICS.get(intent, ())) or directory.topics_named_in(text)
    discreet = bool(DISCREET_TOPICS & set(topics))
    # Only a named need waits on the question: "where can i find help" alone gets the 24/7
    # lines at once, and so does anything urgent.
    if (
        ask
        and state is None
        and intent in LOCAL_NEEDS
        and (topics or NEAR_HER.search(text))
        and not URGENT_TOPICS & set(topics)
    ):
        return ASK_STATE
    if topics:
        found = directory.for_topics(topics, state, language=language)
        if discreet:  # the note above the list already says to call 911 in danger
            found = [r for r in found if r.id != EMERGENCY_ID]
    else:
        found = [directory.get(i) for i in CORE_RESOURCE_IDS]
    joiner = say("finder.label_joiner", language)
    label = joiner.join(_label(directory, t, language) for t in topics[:2]) if topics else ""

    has_local = any(r.region == state for r in found)
    if discreet:
        heading = say("finder.violence_note", language)
    elif state and not has_local:
        for_label = say("finder.for_label", language, label=label) if label else ""
        heading = say(
            "finder.no_local", language, state=state_name(state, language), for_label=for_label
        )
        if LOCAL_REFERRAL_ID not in {r.id for r in found}:
            found.append(directory.get(LOCAL_REFERRAL_ID))
    elif label:
        heading = say("finder.for_topic", language, label=label)
    else:
        heading = say("finder.any_time", language)
    lines = [heading, *(_line(r, discreet, language) for r in found)]
    if any(r.is_due_for_review(today) for r in found):
        lines.append(REVIEW_NOTE_ES if language == SPANISH else REVIEW_NOTE)
    return "\n".join(lines)


def topic_before_this_message(tracker: Tracker) -> str | None:
    """The topic she was on before her latest message. The `topic` slot itself may already
    hold the latest message's intent (its from_intent mapping fills it at her turn) when
    policies/topic_continuity.py reads that message as a follow-up instead."""
    seen_latest = False
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            return None  # a new conversation starts with no topic
        if kind == "user" and not seen_latest:
            seen_latest = True
        elif seen_latest and kind == "slot" and event.get("name") == "topic":
            value = event.get("value")
            return str(value) if value else None
    if not seen_latest:  # no history came with the tracker: the slot is all there is
        slot = tracker.get_slot("topic")
        return str(slot) if slot else None
    return None


def previous_message(tracker: Tracker) -> str:
    """Her message before the latest one in this conversation ("" if none)."""
    seen_latest = False
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            return ""
        if kind == "user":
            if seen_latest:
                return str(event.get("text") or "")
            seen_latest = True
    return ""


def state_said_earlier(tracker: Tracker, language: str) -> str | None:
    """A state she named earlier in this conversation ("im in massachusetts and pregnant"),
    before anything asked for it: the newest one. The conversation only: a new session starts
    with none."""
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            return None
        if kind == "user" and (state := state_named_in(str(event.get("text") or ""), language)):
            return state
    return None


def help_reply_for(
    intent: str, text: str, tracker: Tracker, directory: ResourceDirectory
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The finder's reply in a conversation, and the slots it fills: `need` from a help
    request, `state` once she names it (kept for this conversation only). The reply is in her
    language; asking for her state is the response utter_ask_state, which Rasa words in it."""
    language = language_of(tracker)
    events: list[dict[str, Any]] = []
    if intent == "inform_state":
        state = state_in_reply(text, language) or tracker.get_slot("state")
        topic = tracker.get_slot("topic")
        if (
            not tracker.get_slot("need")
            and topic
            and topic not in FINDER_INTENTS
            and (topic not in TOPIC_RESOURCES or asks_more_than_her_state(text, language))
            and not (topic in TOPIC_RESOURCES and _WHERE.search(text))
        ):
            # "what about in florida" after the answer about CPS, "are they legal in tennessee"
            # after test strips: more about that topic, not a request for services (her state
            # is remembered if she wants them later). After a topic with services, her state
            # alone ("what about in pa" after naloxone) asks for them there.
            if state and state != tracker.get_slot("state"):
                events.append(SlotSet("state", state))
            return {"response": response_for(topic)}, events
        need = tracker.get_slot("need") or "help_resources"
        asked_for = previous_message(tracker) if tracker.get_slot("need") else ""
        topics = (
            list(INTENT_TOPICS.get(need, ()))
            or list(TOPIC_RESOURCES.get(need, ()))
            # "need a clinic for subs near me", then "im in pa": what her request named.
            or directory.topics_named_in(asked_for)
            or list(TOPIC_RESOURCES.get(topic or "", ()))
        )
        reply = find_help_text(
            need, "", directory, state=state, topics=topics, ask=False, language=language
        )
    else:
        state = (
            state_named_in(text, language)
            or _close_state_name(text)
            or tracker.get_slot("state")
            or state_said_earlier(tracker, language)
        )
        need, topics = intent, None
        before = topic_before_this_message(tracker)
        if (
            intent == "help_resources"
            and before in TOPIC_RESOURCES
            and not directory.topics_named_in(text)
        ):
            # "can you find me some help near me" after the answer about peer coaches: help
            # of that kind, and the finder remembers it while it asks where she is.
            need, topics = str(before), list(TOPIC_RESOURCES[str(before)])
        elif (
            intent == "help_resources"
            and before in FINDER_INTENTS
            and not state
            and not directory.topics_named_in(text)
        ):
            # "somewhere that gives take homes" after "i need a clinic that does mat", while
            # the finder waits to hear where she is: the same need, and it asks again.
            need = str(tracker.get_slot("need") or before)
            topics = directory.topics_named_in(previous_message(tracker)) or None
        events.append(SlotSet("need", need))
        reply = find_help_text(
            intent, text, directory, state=state, topics=topics, language=language
        )
    if state and state != tracker.get_slot("state"):
        events.append(SlotSet("state", state))
    if reply == ASK_STATE:
        return {"response": ASK_STATE_RESPONSE}, events
    return {"text": reply, "buttons": [talk_button(language)]}, events


class ActionFindHelp(Action):
    """Answers every help_* intent from the vetted directory, and her state when asked."""

    def name(self) -> str:
        return "action_find_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = str((message.get("intent") or {}).get("name") or "help_resources")
        text = str(message.get("text") or "")
        reply, events = help_reply_for(intent, text, tracker, default_directory())
        dispatcher.utter_message(**reply)
        return events
