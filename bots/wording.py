"""What the bot says outside Rasa's answers: fallbacks, non-text messages, waiting for a person.

Kept together so they can be read and reviewed as one voice: plain, warm, short.
"""

from __future__ import annotations

from community.messages import Button, ContentKind, Reply
from community.resources import core_resources_text

TALK_TO_A_PERSON = Button("Talk to a person", "/request_human")

_KIND_NAMES = {
    ContentKind.STICKER: "stickers",
    ContentKind.PHOTO: "photos",
    ContentKind.VOICE: "voice messages",
    ContentKind.VIDEO: "videos",
    ContentKind.DOCUMENT: "files",
    ContentKind.OTHER: "that kind of message",
}


def fallback() -> Reply:
    """When the dialogue core is down or slow: still useful, still names real help."""
    return Reply(
        "I'm having trouble answering right now, sorry. If you need support, these are there "
        "any time:\n" + core_resources_text() + "\nIn an emergency, call 911.",
        (TALK_TO_A_PERSON,),
    )


def waiting_for_person() -> Reply:
    return Reply(
        "Thank you, I've added this for the person from our team who is joining you. "
        "If you're in danger right now, please call 911 or 988."
    )


def cannot_read(kind: ContentKind) -> Reply:
    return Reply(
        f"Thanks for sending that. I can't open {_KIND_NAMES.get(kind, 'that kind of message')} "
        "yet, so could you tell me in words? You can also talk to a person.",
        (TALK_TO_A_PERSON,),
    )


def caption_only(kind: ContentKind) -> Reply:
    return Reply(
        f"(I read the words you wrote, but I can't open {_KIND_NAMES.get(kind, 'attachments')}.)"
    )


def empty_message() -> Reply:
    return Reply("I didn't catch anything there. What's on your mind?")


def long_message() -> Reply:
    return Reply("That's a long message, thank you for sharing it. I read the first part.")


def blocked() -> Reply:
    return Reply(
        "This chat is paused by our moderators for now. If you are in danger or need crisis "
        "support, call or text 988, or call 911 in an emergency."
    )


def welcome() -> Reply:
    """The first thing a member reads on a chat platform (/start): what this is and is not,
    privacy in two lines, how to reach a person, and the crisis numbers."""
    return Reply(
        "Hi, I'm peerbot, the chat helper of a community of moms and researchers. I answer "
        "questions about pregnancy, recovery and medication for OUD, and share resources our "
        "team has checked. I'm not a doctor or an emergency service.\n\n"
        "Privacy: inside peerbot you're a random code, never your name or account. Only our "
        "team sees a conversation you have with a person, and you can ask us to delete it.\n\n"
        "Type /talk any time to reach a person from our community. If you need help now:\n"
        + core_resources_text()
        + "\nIn an emergency, call 911.",
        (TALK_TO_A_PERSON, Button("What can you help with?", "/help")),
    )


def web_welcome() -> Reply:
    """The first line of the web chat, shown on her first visit in a tab (the page carries the
    privacy line and the crisis numbers around it)."""
    return Reply(
        "Hi, welcome. I'm peerbot, a chat helper for moms in our community. You can ask me "
        "about pregnancy, recovery, medication for OUD or life with a baby, or ask to talk to "
        "a person from our team. There's no wrong question here."
    )


def unknown_command() -> Reply:
    return Reply(
        "I don't know that command, sorry. These work: /start, /help, /resources, /talk, "
        "/ask, /privacy, /mydata and /delete. Or just write to me in your own words."
    )


def private_chat_invitation(bot_username: str) -> Reply:
    """In a group the bot never talks about anyone's situation: it offers a private chat."""
    return Reply(
        "I'd love to help. So your business stays yours, let's talk in a private chat: "
        f"https://t.me/{bot_username}"
    )


def staff_only() -> str:
    return "Only moderators can do that."


def private_chat_invitation_discord() -> Reply:
    return Reply(
        "I'd love to help. So your business stays yours, let's talk in a direct message: "
        "send me a DM, or use /start here and only you will see my answer."
    )


def over_limit() -> Reply:
    return Reply(
        "You're sending messages faster than I can read them, so I'll pause for a minute. "
        "If you need help right now, call or text 988, or call 911 in an emergency."
    )


def too_many_new_chats() -> Reply:
    return Reply(
        "A lot of new chats are starting from your connection right now, so I can't start "
        "another one for a little while. Please try again later. If you need help right now, "
        "call or text 988, or call 911 in an emergency."
    )


def slow_down() -> Reply:
    return Reply(
        "I'm getting a lot of messages at once, so I'll catch up in a moment. Take your time. "
        "If you need help right now, call or text 988, or call 911 in an emergency."
    )


def my_data(summary: str) -> Reply:
    return Reply(summary, (Button("Delete my data", "/delete_my_data"), TALK_TO_A_PERSON))


def confirm_deletion() -> Reply:
    return Reply(
        "I can delete everything peerbot keeps about you: your conversations with our team, "
        "messages waiting for you, and how to reach you here. This can't be undone. "
        "Do you want me to delete it?",
        (
            Button("Yes, delete everything", "/confirm_delete"),
            Button("No, keep it", "/cancel_delete"),
        ),
    )


def deletion_done() -> Reply:
    return Reply(
        "Done. Everything peerbot kept about you has been deleted. If you write again, I'll "
        "treat you as new. Take care of yourself; I'm here any time."
    )


def deletion_cancelled() -> Reply:
    return Reply("Okay, nothing was deleted. You can ask again any time.")


def deletion_not_requested() -> Reply:
    return Reply(
        'To delete your data, ask me first (say "delete my data"), then confirm within 15 minutes.',
        (Button("Delete my data", "/delete_my_data"),),
    )
