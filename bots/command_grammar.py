"""What a chat command is, how its text is read, and how its help line is written.

The table of commands itself is `bots/commands.py`; this module is the grammar every platform
shares. A command has a name, typed arguments, one line of help, who may run it and where,
and either a handler (moderators' commands, which answer with text for the moderator) or a
payload (members' and researchers' commands, which the gateway answers like the button that
sends the same payload). Telegram reads typed text with `parse`; Discord builds its slash
commands from the same arguments; `/help` texts are rendered from the table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from community.db import Database
from community.safety_plan import PlanKeys

MAX_NUMBER_DIGITS = 9  # case, question and flag numbers; longer is not a number we issued


class Role(Enum):
    MEMBER = "member"
    RESEARCHER = "researcher"
    MODERATOR = "moderator"


class Place(Enum):
    """Where a command is used: her private chat with the bot; anywhere in the moderators'
    home (its channel or group, and its case threads); only in a case's thread."""

    PRIVATE = "private chat"
    HOME = "moderators' home"
    CASE = "case thread"


class ArgKind(Enum):
    NUMBER = "number"  # a whole number, e.g. a case or flag number
    WORD = "word"  # one word, e.g. a snippet id or a link code
    TEXT = "text"  # the rest of the line; only the last argument


@dataclass(frozen=True)
class Arg:
    name: str
    help: str
    kind: ArgKind = ArgKind.TEXT
    required: bool = True

    @property
    def placeholder(self) -> str:
        shown = "N" if self.name == "number" else self.name.upper()
        return shown if self.required else f"[{shown}]"


class Values:
    """A parsed command's arguments, read by type."""

    def __init__(self, values: Mapping[str, int | str]) -> None:
        self._values = dict(values)

    def number(self, name: str) -> int:
        value = self._values[name]
        if not isinstance(value, int):
            raise TypeError(f"{name} is not a number")
        return value

    def text(self, name: str) -> str:
        value = self._values.get(name, "")
        return value if isinstance(value, str) else str(value)

    def as_dict(self) -> dict[str, int | str]:
        return dict(self._values)


@dataclass(frozen=True)
class ModeratorCall:
    """Who runs a moderators' command, and from which case thread (None in the home itself)."""

    database: Database
    moderator: str  # who, in the records (the platform account)
    display: str  # the name she sees on replies
    case_id: int | None = None
    # The keys safety plans are sealed with, for /plan (None: this process cannot open them).
    plans: PlanKeys | None = None
    # The community's time zone (PEERBOT_RESEARCH_TIMEZONE), where "today" is read for /shifts.
    timezone: str = "America/New_York"


Handler = Callable[[ModeratorCall, Values], Awaitable[str]]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    who: Role
    place: Place
    args: tuple[Arg, ...] = ()
    handler: Handler | None = None  # moderators' commands
    payload: str | None = None  # members' and researchers': what the gateway is given
    also: tuple[str, ...] = ()  # other names for the same command
    discord_name: str | None = None  # where Discord's name differs (its own /send is unclear)
    in_menu: bool = True  # listed in the platform's command menu
    section: str = ""  # the heading it is listed under in /help

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.also)

    @property
    def slash_name(self) -> str:
        return self.discord_name or self.name

    @property
    def usage(self) -> str:
        return " ".join([f"/{self.name}", *(arg.placeholder for arg in self.args)])

    @property
    def help_line(self) -> str:
        return f"{self.usage}: {self.summary}"


@dataclass(frozen=True)
class Parsed:
    command: Command
    values: Values
    raw_rest: str  # the text after the command's name, as written


class UsageError(ValueError):
    """The command is known but its arguments are not right; the message shows how to write
    it."""

    def __init__(self, command: Command) -> None:
        super().__init__(f"Write it as {command.usage}")
        self.command = command


def command_name(text: str) -> str | None:
    """The name of the command a text starts with ('/Approve@peerbot 3' -> 'approve')."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    first = stripped.split(maxsplit=1)[0]
    name = first[1:].split("@", 1)[0].lower()
    return name or None


def read_values(command: Command, rest: str) -> Values:
    """Split `rest` into the command's typed arguments; UsageError if they do not fit."""
    values: dict[str, int | str] = {}
    remaining = rest.strip()
    for arg in command.args:
        if arg.kind is ArgKind.TEXT:
            token, remaining = remaining, ""
        else:
            token, _, remaining = remaining.partition(" ")
            remaining = remaining.strip()
        if not token:
            if arg.required:
                raise UsageError(command)
            continue
        if arg.kind is ArgKind.NUMBER:
            if not token.isdigit() or len(token) > MAX_NUMBER_DIGITS:
                raise UsageError(command)
            values[arg.name] = int(token)
        else:
            values[arg.name] = token
    if remaining:
        raise UsageError(command)  # more words than the command takes
    return Values(values)


def help_text(title: str, commands: list[Command]) -> str:
    return "\n".join([title, *(command.help_line for command in commands)])
