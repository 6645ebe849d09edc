"""What mothers read from the research side, in one place so it can be reviewed together.

Plain, warm and short; every message says that taking part is her choice and how to stop.
Buttons are (title, payload) pairs; the payloads are the commands `bots/research_flow.py` reads.
"""

from __future__ import annotations

from community.models import OutboxMessage

Button = tuple[str, str]


def outbox_message(
    member_id: int, platform: str, text: str, buttons: list[Button], bulk: bool = False
) -> OutboxMessage:
    """A message for her with its buttons, to be written to the outbox (delivered once)."""
    return OutboxMessage(
        member_id=member_id,
        platform=platform,
        text=text,
        buttons=[{"title": title, "payload": payload} for title, payload in buttons],
        bulk=bulk,
    )


KINDS = {
    "questions": "questions from researchers",
    "invitations": "invitations to join studies",
    "results": "results of studies you took part in",
}


def preferences(questions: bool, invitations: bool, results: bool) -> tuple[str, list[Button]]:
    state = {"questions": questions, "invitations": invitations, "results": results}
    lines = ["Research messages are always your choice. Right now you get:"]
    lines += [f"• {KINDS[k]}: {'yes' if on else 'no'}" for k, on in state.items()]
    lines.append("You can change this any time.")
    buttons = [
        (f"{'Stop' if on else 'Get'} {k}", f"/{'optout' if on else 'optin'}_{k}")
        for k, on in state.items()
    ]
    if any(state.values()):
        buttons.append(("Stop all research messages", "/optout_all"))
    return "\n".join(lines), buttons


def opted_in(kind: str) -> str:
    return (
        f"Done: you'll get {KINDS[kind]}, never more than a couple a week and not at night. "
        "Answering is always your choice. Send /research to change this."
    )


def opted_out(kinds: list[str]) -> str:
    if len(kinds) == len(KINDS):
        return (
            "Done: no more research messages of any kind, starting now. Nothing changes about "
            "the help you get here. Send /research if you ever want them again."
        )
    return f"Done: no more {' or '.join(KINDS[k] for k in kinds)}. Send /research to change this."


def confirm_stop() -> tuple[str, list[Button]]:
    """Asked in words ("stop the research stuff"): confirmed by a button first, because a word
    read wrongly must not turn off what she chose."""
    return (
        "Stop all research messages? Nothing changes about the help you get here.",
        [
            ("Yes, stop them", "/optout_all"),
            ("No, keep them", "/research"),
        ],
    )


def question_message(question_id: int, text: str, context: str) -> tuple[str, list[Button]]:
    body = (
        "A question from researchers (our team checked it first):\n\n"
        f"{text}\n\n{context}\n\n"
        "Answering is up to you, and you can skip it. Send /research to change what you get."
    )
    return body, [("Answer", f"/answer_{question_id}"), ("Not for me", f"/skip_{question_id}")]


def research_message(
    question_id: int, kind: str, text: str, context: str
) -> tuple[str, list[Button]]:
    """What an opted-in mother receives privately, by kind of research message."""
    if kind == "invitation":
        return (
            "An invitation to a study (our team checked it first):\n\n"
            f"{text}\n\n{context}\n\n"
            "Taking part is completely up to you, and saying no changes nothing here. "
            "Send /research to change what you get.",
            [],
        )
    if kind == "results":
        return (
            "Results from researchers you helped (our team checked them first). "
            "Thank you for taking part.\n\n"
            f"{text}\n\n{context}\n\n"
            "Send /research to change what you get.",
            [],
        )
    return question_message(question_id, text, context)


def invitation_post(text: str, context: str) -> str:
    return (
        "An invitation to a study (our team checked it first):\n\n"
        f"{text}\n\n{context}\n\n"
        "To hear about studies privately, send /research to me in a private chat."
    )


def consent(question_id: int, quotes_allowed: bool) -> tuple[str, list[Button]]:
    how = (
        "They may quote your words in their work, never with your name or details that "
        "identify you."
        if quotes_allowed
        else "They will not quote you; they read answers together to learn from them."
    )
    text = (
        "Before you answer: the researchers who asked will read your answer without your name, "
        f"number or account. {how}\n"
        "You can take your answer back later. Is that OK?"
    )
    return text, [("Yes, I agree", f"/consent_{question_id}"), ("No", f"/noconsent_{question_id}")]


def write_answer() -> str:
    return "Thank you. Write your answer in your next message (or send /cancel)."


def answer_saved(question_id: int) -> tuple[str, list[Button]]:
    return (
        "Thank you for sharing. Your answer is saved without your name. If you change your "
        "mind, you can take it back.",
        [("Take my answer back", f"/withdraw_{question_id}")],
    )


def share_question(question_id: int) -> tuple[str, list[Button]]:
    """Asked after her answer is saved, separately: Mothers 101 is read by every researcher."""
    return (
        "One more choice, only if you want: may your answer, with anything that could identify "
        "you taken out, also go into Mothers 101? It's a library where researchers learn from "
        "moms. Saying no changes nothing else.",
        [
            ("Yes, share it", f"/share_yes_{question_id}"),
            ("No, keep it here", f"/share_no_{question_id}"),
        ],
    )


SHARE_YES = (
    "Thank you. A moderator reads it first and takes out anything that could identify you. "
    "You can still take your answer back, and then it leaves Mothers 101 too."
)
SHARE_NO = "OK, it stays only with the researchers who asked."
NOTHING_TO_SHARE = "There's no saved answer of yours for that question."
NO_CONSENT = "That's completely fine. Nothing you wrote is kept for this question."
SKIPPED = "No problem. Nothing changes about the help you get here."
WITHDRAWN = "Done: your answer is deleted and researchers won't see it."
NOTHING_TO_WITHDRAW = "There's no saved answer of yours for that question."
QUESTION_UNAVAILABLE = "That question isn't taking answers anymore. Thank you for wanting to help."
NOT_ASKED = (
    "That question wasn't sent to you, so I can't take an answer for it. Thank you for wanting "
    "to help. Send /research to choose which research messages you get."
)
CANCELLED = "OK, cancelled. Nothing was saved."
ANSWER_EMPTY = "I couldn't read an answer there. Write it as text, or send /cancel."

ASK_PROMPT = (
    "What would you like to ask researchers? Write it in your next message. It goes to them "
    "without your name or account, and our team checks the answer before it reaches you. "
    "(Send /cancel to stop.)"
)


def asked(number: int) -> str:
    return (
        f"Thank you, your question is on its way to researchers (question {number}). "
        "Nothing that identifies you went with it. I'll bring the answer here once our team "
        "has checked it. Answers can take a while."
    )


def researcher_answer(question: str, answer: str, number: int) -> tuple[str, list[Button]]:
    text = (
        f"A researcher answered your question:\n\n“{question}”\n\n{answer}\n\n"
        "May we add your question and this answer to Research 101, our library for all moms? "
        "Nothing about you would be in it."
    )
    return text, [
        ("Yes, share it", f"/library_yes_{number}"),
        ("No, keep it private", f"/library_no_{number}"),
    ]


LIBRARY_YES = "Thank you! Your question and its answer will help other moms."
LIBRARY_NO = "Of course. It stays between you and us."
LIBRARY_UNAVAILABLE = "I couldn't find an answered question of yours with that number."
LIBRARY_EMPTY = (
    "Research 101 is just getting started: no questions from moms in it yet. You can ask "
    "researchers anything with /ask."
)


def library(entries: list[tuple[str, str]]) -> str:
    lines = ["Research 101: questions moms asked researchers, and their answers."]
    for question, answer in entries:
        lines.append(f"\nQ: {question}\nA: {answer}")
    lines.append("\nYou can ask your own with /ask.")
    return "\n".join(lines)
