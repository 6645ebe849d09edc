"""The resource finder: answers "find me help with X (in STATE)" from the vetted directory.

The topic comes from the intent (help_housing, ...) or, for a general request, from words in the
message; the state from the message. With nothing local known, national entries answer, and the
reply says so. Safety-at-home answers name services neutrally, in case someone reads her phone.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from community.resources import (
    CORE_RESOURCE_IDS,
    DISCREET_NAME,
    REVIEW_NOTE,
    US_STATES,
    WORDLIKE_CODES,
    Resource,
    ResourceDirectory,
    default_directory,
    state_named_in,
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
VIOLENCE_NOTE = (
    "If it's safe to talk, these are free and confidential, and you can text if a call isn't "
    "safe. If you're in danger right now, call 911. You can clear this chat afterwards."
)
TALK_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}
# Needs answered better by services near her: without a state, she is asked once for it.
LOCAL_NEEDS = frozenset({"help_resources", *INTENT_TOPICS}) - {"help_violence"}
URGENT_TOPICS = frozenset({"emergency", "crisis", "suicide", "self_harm", "overdose", "medical"})
ASK_STATE = "Which state are you in? I only use it to find services near you."
SKIP_BUTTON = {"title": "Skip, show national ones", "payload": "/inform_state"}
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


def _line(resource: Resource, discreet: bool) -> str:
    line = resource.contact_line()
    if discreet and resource.phone != resource.name and line.startswith(resource.name):
        line = DISCREET_NAME + line[len(resource.name) :]
    return f"• {line}"


NOT_ALONE = frozenset({"ok", "hi", "me", "in"})


def state_in_reply(text: str) -> str | None:
    """Her state when she answers the question: as in a request ("in ohio", "KY"), or a bare
    code in any case ("oh", "in ky"), which a request would not count. A code that is also an
    everyday word ("in", "me", "ok") counts in lower case only as the whole answer ("oh", "in
    oh"): "i'm in nyc" is not Indiana."""
    if state := state_named_in(text):
        return state
    # "ok", "hi", "me", "in" alone are words, not Oklahoma, Hawaii, Maine or Indiana.
    tokens = [
        t for t in re.findall(r"\b[A-Za-z]{2}\b", text) if t.isupper() or t.lower() not in NOT_ALONE
    ]
    short = len(text.split()) <= 2
    codes = [
        t.upper()
        for t in tokens
        if t.upper() in US_STATES and (t.isupper() or short or t.upper() not in WORDLIKE_CODES)
    ]
    return codes[-1] if codes else None


def find_help_text(
    intent: str,
    text: str,
    directory: ResourceDirectory,
    today: date | None = None,
    *,
    state: str | None = None,
    topics: list[str] | None = None,
    ask: bool = True,
) -> str:
    """The whole reply for a help request; pure, so it is tested without Rasa. `state` and
    `topics` are what the conversation already knows; with no state for a local need, the
    reply asks for it (unless `ask` is off: she was asked already)."""
    state = state_named_in(text) or state
    topics = topics or list(INTENT_TOPICS.get(intent, ())) or directory.topics_named_in(text)
    discreet = bool(DISCREET_TOPICS & set(topics))
    # Only a named need waits on the question: "where can i find help" alone gets the 24/7
    # lines at once, and so does anything urgent.
    if (
        ask
        and state is None
        and intent in LOCAL_NEEDS
        and topics
        and not URGENT_TOPICS & set(topics)
    ):
        return ASK_STATE
    if topics:
        found = directory.for_topics(topics, state)
        if discreet:  # the note above the list already says to call 911 in danger
            found = [r for r in found if r.id != EMERGENCY_ID]
    else:
        found = [directory.get(i) for i in CORE_RESOURCE_IDS]
    label = " and ".join(directory.topics[t].label for t in topics[:2]) if topics else ""

    has_local = any(r.region == state for r in found)
    if discreet:
        heading = VIOLENCE_NOTE
    elif state and not has_local:
        heading = (
            f"I don't have checked local services for {US_STATES[state]} yet, so here are "
            f"national ones{' for ' + label if label else ''}. 211 can point you to help nearby:"
        )
        if LOCAL_REFERRAL_ID not in {r.id for r in found}:
            found.append(directory.get(LOCAL_REFERRAL_ID))
    elif label:
        heading = f"For {label}, these can help:"
    else:
        heading = "Here are places that can help, any time:"
    lines = [heading, *(_line(r, discreet) for r in found)]
    if any(r.is_due_for_review(today) for r in found):
        lines.append(REVIEW_NOTE)
    return "\n".join(lines)


def help_reply_for(
    intent: str, text: str, tracker: Tracker, directory: ResourceDirectory
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The finder's reply in a conversation, and the slots it fills: `need` from a help
    request, `state` once she names it (kept for this conversation only)."""
    events: list[dict[str, Any]] = []
    if intent == "inform_state":
        state = state_in_reply(text) or tracker.get_slot("state")
        need = tracker.get_slot("need") or "help_resources"
        topic = tracker.get_slot("topic")
        topics = list(INTENT_TOPICS.get(need, ())) or list(TOPIC_RESOURCES.get(topic or "", ()))
        reply = find_help_text(need, "", directory, state=state, topics=topics, ask=False)
    else:
        state = state_named_in(text) or tracker.get_slot("state")
        events.append(SlotSet("need", intent))
        reply = find_help_text(intent, text, directory, state=state)
    if state and state != tracker.get_slot("state"):
        events.append(SlotSet("state", state))
    buttons = [TALK_BUTTON, SKIP_BUTTON] if reply == ASK_STATE else [TALK_BUTTON]
    return {"text": reply, "buttons": buttons}, events


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
