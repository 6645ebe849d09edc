"""What the bot says outside Rasa's answers: fallbacks, non-text messages, waiting for a person.

The words themselves live in `community/data/phrases.yml`, in English and Spanish, so they can be
read and reviewed as one voice (plain, warm, short); each function here picks the phrase in her
language and attaches its buttons.
"""

from __future__ import annotations

from community.messages import Button, ContentKind, Reply
from community.phrases import normalize, phrase
from community.resources import core_resources_text

_KIND_KEYS = {
    ContentKind.STICKER: "kind_stickers",
    ContentKind.PHOTO: "kind_photos",
    ContentKind.VOICE: "kind_voice",
    ContentKind.VIDEO: "kind_videos",
    ContentKind.DOCUMENT: "kind_files",
    ContentKind.OTHER: "kind_other",
}


def _reply(key: str, language: str, *buttons: Button, **values: object) -> Reply:
    language = normalize(language)
    return Reply(phrase(key, language, **values), tuple(buttons), language=language)


def _button(key: str, payload: str, language: str) -> Button:
    return Button(phrase(key, language), payload)


def talk_to_a_person(language: str = "en") -> Button:
    return _button("button_talk_to_person", "/request_human", language)


def fallback(language: str = "en") -> Reply:
    """When the dialogue core is down or slow: still useful, still names real help."""
    resources = core_resources_text(language=normalize(language))
    return _reply("fallback", language, talk_to_a_person(language), core_resources=resources)


def waiting_for_person(language: str = "en") -> Reply:
    return _reply("waiting_for_person", language)


def cannot_read(kind: ContentKind, language: str = "en") -> Reply:
    what = phrase(_KIND_KEYS.get(kind, "kind_other"), language)
    return _reply("cannot_read", language, talk_to_a_person(language), kind=what)


def caption_only(kind: ContentKind, language: str = "en") -> Reply:
    what = phrase(_KIND_KEYS.get(kind, "kind_attachments"), language)
    return _reply("caption_only", language, kind=what)


def empty_message(language: str = "en") -> Reply:
    return _reply("empty_message", language)


def long_message(language: str = "en") -> Reply:
    return _reply("long_message", language)


def blocked(language: str = "en") -> Reply:
    return _reply("blocked", language)


def welcome(language: str = "en") -> Reply:
    """The first thing a member reads on a chat platform (/start): what this is and is not,
    privacy in two lines, how to reach a person, and the crisis numbers."""
    return _reply(
        "welcome",
        language,
        talk_to_a_person(language),
        _button("button_what_can_you_do", "/help", language),
        core_resources=core_resources_text(language=normalize(language)),
    )


def web_welcome(language: str = "en") -> Reply:
    """The first line of the web chat, shown on her first visit in a tab (the page carries the
    privacy line and the crisis numbers around it)."""
    return _reply("web_welcome", language)


def unknown_command(language: str = "en") -> Reply:
    return _reply("unknown_command", language)


def private_chat_invitation(bot_username: str, language: str = "en") -> Reply:
    """In a group the bot never talks about anyone's situation: it offers a private chat."""
    return _reply("private_chat_invitation", language, bot_username=bot_username)


def staff_only() -> str:
    return "Only moderators can do that."


def staff_only_in_thread() -> str:
    return (
        "What you wrote in that case thread was not passed on: only moderators can write to "
        "her there."
    )


def private_chat_invitation_discord(language: str = "en") -> Reply:
    return _reply("private_chat_invitation_discord", language)


def over_limit(language: str = "en") -> Reply:
    return _reply("over_limit", language)


def too_many_new_chats(language: str = "en") -> Reply:
    return _reply("too_many_new_chats", language)


def slow_down(language: str = "en") -> Reply:
    return _reply("slow_down", language)


def my_data(summary: str, language: str = "en") -> Reply:
    return Reply(
        summary,
        (_button("button_delete_my_data", "/delete_my_data", language), talk_to_a_person(language)),
        language=normalize(language),
    )


def confirm_deletion(language: str = "en") -> Reply:
    return _reply(
        "confirm_deletion",
        language,
        _button("button_yes_delete", "/confirm_delete", language),
        _button("button_no_keep", "/cancel_delete", language),
    )


def deletion_done(language: str = "en") -> Reply:
    return _reply("deletion_done", language)


def deletion_cancelled(language: str = "en") -> Reply:
    return _reply("deletion_cancelled", language)


def deletion_not_requested(language: str = "en") -> Reply:
    return _reply(
        "deletion_not_requested",
        language,
        _button("button_delete_my_data", "/delete_my_data", language),
    )


# -- Her language ----------------------------------------------------------------------------

LANGUAGE_PAYLOAD = "/language"


def language_set(language: str) -> Reply:
    """Said in the language she just chose."""
    language = normalize(language)
    return _reply(f"language_now_{language}", language)


def which_language(language: str = "en") -> Reply:
    """/language alone: both languages offered, in both languages."""
    return _reply(
        "language_which",
        language,
        Button("English", f"{LANGUAGE_PAYLOAD} en"),
        Button("Español", f"{LANGUAGE_PAYLOAD} es"),
    )


# -- While she waits for a person, and when one joins or leaves ----------------------------

CANCEL_REQUEST_PAYLOAD = "/cancel_request"


def cancel_request_button(language: str = "en") -> Button:
    return _button("button_cancel_request", CANCEL_REQUEST_PAYLOAD, language)


# What she types to take back her request for a person (compared after folding case, accents
# and punctuation). Only these whole messages count: "cancel" inside a sentence does not.
CANCEL_WORDS = (
    "cancel", "cancel it", "cancel that", "cancel please", "please cancel", "cancel my request",
    "cancel the request", "never mind", "nevermind", "nvm", "no thanks", "no thank you",
    "i'm okay now", "im okay now", "i'm ok now", "im ok now", "i don't need a person",
    "i dont need a person", "i don't need anyone", "i dont need anyone", "stop the request",
    # Spanish (pending native review)
    "cancelar", "cancela", "cancelalo", "cancélalo", "cancela por favor", "cancelar por favor",
    "cancela la solicitud", "cancelar la solicitud", "olvidalo", "olvídalo", "mejor no",
    "no gracias", "ya no", "ya estoy bien", "ya estoy mejor", "no necesito a nadie",
    "no necesito una persona", "ya no necesito a nadie",
)  # fmt: skip

# A clear request for a person names a person and asks for one, in a short message: a word in
# passing ("someone offered me pills", "I slipped last week") does not open a case.
PERSON_WORDS = (
    "person", "human", "someone", "somebody", "moderator", "peer", "staff", "real",
    "people", "team", "counselor", "counsellor", "volunteer", "anyone", "anybody", "actual",
    "mom", "moms", "mother", "mothers", "mama", "persons", "humans", "moderators", "peers",
    "counselors", "counsellors", "volunteers",
    # Spanish (accents are folded away before comparing)
    "persona", "humana", "humano", "alguien", "moderadora", "moderador", "equipo", "consejera",
    "consejero", "voluntaria", "voluntario", "gente", "mamas",
)  # fmt: skip
ASKING_WORDS = (
    "talk", "speak", "chat", "connect", "need", "want", "like", "get", "message", "please",
    "touch", "help", "can", "could", "may", "is", "are", "rather", "send", "call",
    "hablar", "habla", "platicar", "quiero", "quisiera", "necesito", "puedo", "puede", "puedes",
    "favor", "hay", "ayuda", "ayudame", "comunicarme", "llamar", "escribir", "conectar",
    "conectame", "conecta", "pasame", "pasas", "pasan", "comunicame", "porfa", "xfa", "plis",
    "pls", "mandame", "manda", "necesitaria",
)  # fmt: skip
CLEAR_REQUEST_MAX_WORDS = 16


def request_cancelled(language: str = "en") -> Reply:
    return _reply("request_cancelled", language, talk_to_a_person(language))


def crisis_case_stays_open(language: str = "en") -> Reply:
    return _reply("crisis_case_stays_open", language)


def already_asked_for_person(language: str = "en") -> Reply:
    return _reply("already_asked_for_person", language, cancel_request_button(language))


def nothing_to_cancel(language: str = "en") -> Reply:
    return _reply("nothing_to_cancel", language)


def confirm_person(language: str = "en") -> Reply:
    return _reply(
        "confirm_person",
        language,
        _button("button_yes_person", "/request_human", language),
        _button("button_no_person", CANCEL_REQUEST_PAYLOAD, language),
    )


def from_the_bot_while_waiting(reply: Reply) -> Reply:
    """The bot's answer while she waits for a person: marked as the bot's, not the person's."""
    mark = phrase("from_the_bot_while_waiting", reply.language)
    return Reply(f"{mark}\n{reply.text}", reply.buttons, language=reply.language)


# -- moderators' shifts (#22); moderators read English ------------------------------------------


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def on_shift(display: str, started: bool, others: list[str]) -> str:
    first = (
        f"You're on shift, {display}. New cases name those on shift first."
        if started
        else f"You were already on shift, {display}."
    )
    team = f" Also on shift: {_names(others)}." if others else ""
    return first + team


def off_shift(ended: bool, others: list[str]) -> str:
    if not ended:
        return "You weren't on shift. /onshift starts one."
    first = "You're off shift. Thank you for your time. Cases you hold stay yours."
    if others:
        return f"{first} Still on shift: {_names(others)}."
    return f"{first} Nobody is on shift now: new cases go to the on-call list at once."


def shifts_and_load(on: list[str], loads: list[tuple[str, bool, int, int, int]]) -> str:
    """Who is on shift, and each moderator's cases (open now, claimed today, this week)."""
    head = f"On shift: {_names(on)}." if on else "Nobody is on shift."
    lines = [
        f"{name}{' (on shift)' if shift else ''}: {open_now} open, {today} today, {week} this week"
        for name, shift, open_now, today, week in loads
    ]
    return "\n".join([head, *lines]) if lines else head
