"""Every command people type in a chat, in one table: its name, typed arguments, help, who may
run it, where, and what answers it.

Members' and researchers' commands are answered by the gateway, given the command's payload
(the same a button sends). Moderators' commands have a handler that answers with text for the
moderator. Telegram parses typed text with `parse`; Discord builds its slash commands from the
same entries (`bots/discord/slash.py`); the `/help` texts and Telegram's menu are rendered from
here. Limits that belong to the domain (a block's length) live in the domain and are checked
there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bots import conduct_commands as conduct
from bots import moderating as thread
from bots import research_review as review
from bots import session_review
from bots import shift_commands as shift
from bots.command_grammar import (
    Arg,
    ArgKind,
    Command,
    ModeratorCall,
    Parsed,
    Place,
    Role,
    UsageError,
    Values,
    command_name,
    read_values,
)
from community.cases.flags import InvalidBlock
from community.cases.handoff import CaseConflict, CaseNotFound

NUMBER = Arg("number", "The number in the list", ArgKind.NUMBER)
DAYS = Arg("days", "How many days", ArgKind.NUMBER)
REVIEW = "Research review"
CONDUCT = "Flags and blocks"
THREAD = "In a case thread"
SHIFTS = "Shifts"
WELCOME_PAYLOAD = "/start"  # the gateway answers it with the welcome, before anything else
# "/language es" or "/language en" (the web chat's language switch sends the same): the gateway
# answers it and keeps her choice. Alone, the gateway asks which.
LANGUAGE_PAYLOAD = "/language"
# Where the members' commands are said in Spanish (a reviewable file, keyed by command name).
SPANISH_FILE = Path(__file__).parent / "data" / "commands_es.yml"

MEMBERS = (
    Command("start", "What this is, privacy, and help now", Role.MEMBER, Place.PRIVATE,
            payload=WELCOME_PAYLOAD, also=("hello",)),
    Command("help", "What I can help with", Role.MEMBER, Place.PRIVATE, payload="/help"),
    Command("resources", "Places that can help, any time", Role.MEMBER, Place.PRIVATE,
            payload="/help_resources"),
    Command("talk", "Talk to a person from our community", Role.MEMBER, Place.PRIVATE,
            payload="/request_human"),
    Command("ask", "Ask researchers a question, without your name", Role.MEMBER, Place.PRIVATE,
            args=(Arg("question", "Your question (or leave empty and write it next)",
                      required=False),),
            payload="/ask"),
    Command("research", "Choose which research messages you get", Role.MEMBER, Place.PRIVATE,
            payload="/research"),
    Command("sessions", "Discussion sessions with researchers: coming up, and if you're going",
            Role.MEMBER, Place.PRIVATE, payload="/sessions"),
    Command("privacy", "Who sees my messages", Role.MEMBER, Place.PRIVATE,
            payload="/faq_privacy"),
    Command("mydata", "See what peerbot keeps about me", Role.MEMBER, Place.PRIVATE,
            payload="/my_data"),
    Command("delete", "Delete what peerbot keeps about me", Role.MEMBER, Place.PRIVATE,
            payload="/delete_my_data"),
    Command("language", "Choose the language I answer in", Role.MEMBER, Place.PRIVATE,
            args=(Arg("language", "en for English, es for Spanish", ArgKind.WORD,
                      required=False),),
            payload=LANGUAGE_PAYLOAD),
    Command("myplan", "My safety plan: see it, make it or change it", Role.MEMBER,
            Place.PRIVATE,
            args=(Arg("what", "edit or delete (leave empty to see it)", ArgKind.WORD,
                      required=False),),
            payload="/myplan"),
    Command("checkins", "Regular check-ins from us, at a time you choose", Role.MEMBER,
            Place.PRIVATE,
            args=(Arg("days", "3 for every few days, 7 for once a week", ArgKind.NUMBER,
                      required=False),
                  Arg("time", "The time of day, like 8:30pm", required=False)),
            payload="/checkins"),
    Command("remind", "Set a reminder, like: Tuesday 9am: clinic appointment", Role.MEMBER,
            Place.PRIVATE,
            args=(Arg("reminder", "When, a colon, then what", required=False),),
            payload="/remind"),
    Command("reminders", "See or cancel my reminders", Role.MEMBER, Place.PRIVATE,
            payload="/reminders"),
    Command("same", "Talk again with the person from last time", Role.MEMBER, Place.PRIVATE,
            payload="/same"),
    Command("timezone", "Tell me your time zone, for check-ins and reminders", Role.MEMBER,
            Place.PRIVATE,
            args=(Arg("zone", "Like Eastern, Central, Mountain or Pacific", required=False),),
            payload="/timezone"),
)  # fmt: skip

RESEARCHERS = (
    Command("link", "Researchers: link this account with a code", Role.RESEARCHER,
            Place.PRIVATE, args=(Arg("code", "The code from the team", ArgKind.WORD),),
            payload="/link", in_menu=False),
    Command("submit", "Researchers: submit a question for review", Role.RESEARCHER,
            Place.PRIVATE, args=(Arg("question", "Your question, in plain words",
                                     required=False),),
            payload="/submit", in_menu=False),
)  # fmt: skip

MODERATORS = (
    Command("questions", "researchers' questions waiting for review", Role.MODERATOR,
            Place.HOME, handler=review.questions, section=REVIEW),
    Command("approve", "approve question N, optionally reworded", Role.MODERATOR, Place.HOME,
            args=(NUMBER, Arg("words", "The question reworded (optional)", required=False)),
            handler=review.approve, section=REVIEW),
    Command("decline", "decline question N (the researcher sees why)", Role.MODERATOR,
            Place.HOME, args=(NUMBER, Arg("reason", "Why, for the researcher")),
            handler=review.decline, section=REVIEW),
    Command("spanish", "add question N's Spanish version: QUESTION | CONTEXT", Role.MODERATOR,
            Place.HOME, args=(NUMBER, Arg("words", "The question in Spanish | its context in "
                                          "Spanish (- removes it)")),
            handler=review.spanish, section=REVIEW),
    Command("publish", "publish approved question N now", Role.MODERATOR, Place.HOME,
            args=(NUMBER,), handler=review.publish, section=REVIEW),
    Command("answers", "researchers' answers to moms' questions, waiting for review",
            Role.MODERATOR, Place.HOME, handler=review.answers, section=REVIEW),
    Command("send", "send answer N to the mom who asked", Role.MODERATOR, Place.HOME,
            args=(NUMBER, Arg("words", "The answer reworded (optional)", required=False)),
            handler=review.send_answer, discord_name="send_answer", section=REVIEW),
    Command("return", "give answer N back to the researcher with a note", Role.MODERATOR,
            Place.HOME, args=(NUMBER, Arg("note", "What to change, for the researcher")),
            handler=review.return_answer, discord_name="return_answer", section=REVIEW),
    Command("proposals", "discussion sessions waiting for review", Role.MODERATOR,
            Place.HOME, handler=session_review.waiting, section=REVIEW),
    Command("approvesession", "approve session N (announced at once), optionally reworded",
            Role.MODERATOR, Place.HOME,
            args=(NUMBER, Arg("words", "The topic reworded (optional)", required=False)),
            handler=session_review.approve, section=REVIEW),
    Command("returnsession", "give session N back to its proposer with a note",
            Role.MODERATOR, Place.HOME,
            args=(NUMBER, Arg("note", "What to change, for the proposer")),
            handler=session_review.return_to_proposer, section=REVIEW),
    Command("flags", "community posts flagged as attacking or shaming, not yet reviewed",
            Role.MODERATOR, Place.HOME, handler=conduct.list_flags, section=CONDUCT),
    Command("dismiss", "flag N is fine", Role.MODERATOR, Place.HOME, args=(NUMBER,),
            handler=conduct.dismiss, section=CONDUCT),
    Command("blockflag", "block the author of flag N for DAYS days", Role.MODERATOR,
            Place.HOME, args=(NUMBER, DAYS, Arg("reason", "Why")),
            handler=conduct.block_flag_author, section=CONDUCT),
    Command("blocks", "members blocked now", Role.MODERATOR, Place.HOME,
            handler=conduct.list_blocks, section=CONDUCT),
    Command("unblock", "lift block N now", Role.MODERATOR, Place.HOME, args=(NUMBER,),
            handler=conduct.unblock, section=CONDUCT),
    Command("floods", "floods of crisis messages from new chats (one alert each, not a case "
            "each)", Role.MODERATOR, Place.HOME, handler=conduct.list_floods, section=CONDUCT),
    Command("closeflood", "flood alert N is seen", Role.MODERATOR, Place.HOME, args=(NUMBER,),
            handler=conduct.close_flood, section=CONDUCT),
    Command("onshift", "go on shift: new cases name you first", Role.MODERATOR, Place.HOME,
            handler=shift.go_on_shift, section=SHIFTS),
    Command("offshift", "go off shift (cases you hold stay yours)", Role.MODERATOR,
            Place.HOME, handler=shift.go_off_shift, section=SHIFTS),
    Command("shifts", "who is on shift, and each moderator's cases today and this week",
            Role.MODERATOR, Place.HOME, handler=shift.shifts, section=SHIFTS),
    Command("note", "a private note (she never sees it)", Role.MODERATOR, Place.CASE,
            args=(Arg("text", "The note"),), handler=thread.note, section=THREAD),
    Command("snippets", "the canned replies", Role.MODERATOR, Place.CASE,
            handler=thread.snippets, section=THREAD),
    Command("snippet", "send canned reply ID to her", Role.MODERATOR, Place.CASE,
            args=(Arg("id", "The canned reply's id (see /snippets)", ArgKind.WORD),),
            handler=thread.snippet, section=THREAD),
    Command("transcript", "the conversation so far", Role.MODERATOR, Place.CASE,
            handler=thread.transcript, section=THREAD),
    Command("block", "block her for abuse (a crisis from her is still answered)",
            Role.MODERATOR, Place.CASE, args=(DAYS, Arg("reason", "Why")),
            handler=thread.block, section=THREAD),
    Command("followup", "check on her in DAYS days (agreed with her: she is not asked first)",
            Role.MODERATOR, Place.CASE, args=(DAYS,),
            handler=thread.follow_up, section=THREAD),
    Command("plan", "her safety plan, only if she agreed, while the case is open",
            Role.MODERATOR, Place.CASE, handler=thread.safety_plan, section=THREAD),
)  # fmt: skip

ALL = (*MEMBERS, *RESEARCHERS, *MODERATORS)
PRIVATE = (*MEMBERS, *RESEARCHERS)
THREAD_INTRO = (
    "In a case thread: press Claim, then what you write here reaches her under your name."
)
NO_TOPICS_NOTE = "In a group without topics, reply to a case's message to write to her."


def find(name: str, commands: Iterable[Command] = ALL) -> Command | None:
    return next((c for c in commands if name in c.names), None)


def parse(text: str, commands: Iterable[Command] = ALL) -> Parsed | None:
    """The command a text names, with its typed arguments; None if it names none of
    `commands`. Raises UsageError when the command is known and its arguments do not fit."""
    name = command_name(text)
    command = find(name, commands) if name else None
    if command is None:
        return None
    rest = text.strip().partition(" ")[2]
    return Parsed(command, read_values(command, rest), rest.strip())


def private_command(text: str) -> Command | None:
    """The member's or researcher's command a text starts with, if any."""
    name = command_name(text)
    return find(name, PRIVATE) if name else None


def payload_for(command: Command, rest: str) -> str:
    """What the gateway is given for a member's or researcher's command: its payload, and
    what she wrote after it (her question after /ask, a code after /link)."""
    if command.payload is None:
        raise ValueError(f"/{command.name} has no payload")
    return f"{command.payload} {rest.strip()}" if rest.strip() else command.payload


def member_menu() -> list[Command]:
    return [c for c in MEMBERS if c.in_menu]


@cache
def _spanish() -> Mapping[str, Any]:
    """The members' commands in Spanish, read once, when first asked for."""
    loaded = yaml.safe_load(SPANISH_FILE.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{SPANISH_FILE.name} must map command names to their words")
    return loaded


def summary_in(command: Command, language: str) -> str:
    """The command's one line of help in `language` ("en" or "es"); English where the Spanish
    file has no entry (moderators' and researchers' commands)."""
    if language == "es":
        entry = _spanish().get(command.name) or {}
        return str(entry.get("summary") or command.summary)
    return command.summary


def arg_help_in(command: Command, arg: Arg, language: str) -> str:
    """An argument's help in `language`, English where the Spanish file has none."""
    if language == "es":
        entry = _spanish().get(command.name) or {}
        return str((entry.get("args") or {}).get(arg.name) or arg.help)
    return arg.help


def moderator_help(platform_note: str = "") -> str:
    """The moderators' /help, rendered from the table."""
    thread_lines = [c.help_line for c in MODERATORS if c.section == THREAD]
    parts = ["\n".join([THREAD_INTRO, *thread_lines, *([platform_note] if platform_note else [])])]
    for section in (SHIFTS, REVIEW, CONDUCT):
        lines = [c.help_line for c in MODERATORS if c.section == section]
        parts.append("\n".join([f"{section}:", *lines]))
    return "\n\n".join(parts)


def thread_help() -> str:
    return "\n".join([THREAD_INTRO, *(c.help_line for c in MODERATORS if c.place is Place.CASE)])


async def run_moderator_command(call: ModeratorCall, text: str) -> str | None:
    """Carry out a moderator's typed command; the answer to show her ("" when the command
    itself sent something to the member). None if the text is no moderators' command."""
    try:
        parsed = parse(text, MODERATORS)
    except UsageError as error:
        return f"{error}."
    if parsed is None:
        return None
    return await run(call, parsed.command, parsed.values)


async def run(call: ModeratorCall, command: Command, values: Values) -> str:
    """Carry out a moderators' command with its arguments already read (typed, or from a
    platform's own command form)."""
    if command.handler is None or command.who is not Role.MODERATOR:
        raise ValueError(f"/{command.name} is not a moderators' command")
    if command.place is Place.CASE and call.case_id is None:
        return "Use this in a case's thread."
    try:
        return await command.handler(call, values)
    except InvalidBlock as error:
        return f"{error} Write it as {command.usage}."
    except CaseConflict as error:
        return str(error)
    except CaseNotFound:
        return "That case is gone."


async def act_in_case_thread(call: ModeratorCall, text: str) -> str:
    """What a moderator writes in a case's thread: a command, or her words relayed to the
    member. The answer to show in the thread ("" when relayed)."""
    if command_name(text) is not None:
        answer = await run_moderator_command(call, text)
        return thread_help() if answer is None else answer
    try:
        await thread.relay_reply(call, text)
    except CaseConflict as error:
        return str(error)
    except CaseNotFound:
        return "That case is gone."
    return ""
