"""Discord's slash commands, built from the one command table (`bots/commands.py`).

Each table entry becomes an `app_commands.Command` whose options are the entry's typed
arguments, so nothing about a command is declared twice. discord.py reads a command's options
from its callback's signature; the callback here is one function per entry whose signature is
set from the table.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Optional

import discord
from discord import app_commands

from bots.command_grammar import ArgKind, Command, Values

Invoke = Callable[[discord.Interaction[Any], Command, Values], Awaitable[None]]
DESCRIPTION_LIMIT = 100  # Discord's limit for command and option descriptions


def _description(text: str) -> str:
    return (text[:1].upper() + text[1:])[:DESCRIPTION_LIMIT]


def slash_command(command: Command, invoke: Invoke) -> app_commands.Command[Any, ..., None]:
    """The slash command for one table entry; `invoke` receives its arguments, typed."""

    async def callback(interaction: discord.Interaction[Any], **given: Any) -> None:
        values = {name: value for name, value in given.items() if value not in (None, "")}
        await invoke(interaction, command, Values(values))

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for arg in command.args:
        kind: type = int if arg.kind is ArgKind.NUMBER else str
        parameters.append(
            inspect.Parameter(
                arg.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=kind if arg.required else Optional[kind],  # noqa: UP045
                default=inspect.Parameter.empty if arg.required else None,
            )
        )
    # discord.py reads the options from the signature and their descriptions from this.
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
        arg.name: _description(arg.help) for arg in command.args
    }
    return app_commands.Command(
        name=command.slash_name, description=_description(command.summary), callback=callback
    )


def slash_commands(
    commands: tuple[Command, ...], invoke: Invoke
) -> list[app_commands.Command[Any, ..., None]]:
    """One slash command per name of each entry (an entry's other names are aliases)."""
    built = []
    for command in commands:
        built.append(slash_command(command, invoke))
        for alias in command.also:
            built.append(slash_command(_renamed(command, alias), invoke))
    return built


def _renamed(command: Command, name: str) -> Command:
    return replace(command, discord_name=name)
