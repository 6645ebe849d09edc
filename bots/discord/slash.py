"""Discord's slash commands, built from the one command table (`bots/commands.py`).

Each table entry becomes an `app_commands.Command` whose options are the entry's typed
arguments, so nothing about a command is declared twice. discord.py reads a command's options
from its callback's signature; the callback here is one function per entry whose signature is
set from the table. Descriptions carry their Spanish (`bots/data/commands_es.yml`), which
`SpanishDescriptions`, the tree's translator, gives Discord as the es-ES and es-419
`description_localizations` when the commands are synced.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Optional

import discord
from discord import app_commands
from discord.app_commands import TranslationContextTypes, locale_str

from bots.command_grammar import ArgKind, Command, Values
from bots.commands import arg_help_in, summary_in

Invoke = Callable[[discord.Interaction[Any], Command, Values], Awaitable[None]]
DESCRIPTION_LIMIT = 100  # Discord's limit for command and option descriptions


# Discord's Spanish locales: Spain's and Latin America's. Both get the same neutral Spanish.
SPANISH_LOCALES = frozenset({discord.Locale.spain_spanish, discord.Locale.latin_american_spanish})


def _description(text: str) -> str:
    return (text[:1].upper() + text[1:])[:DESCRIPTION_LIMIT]


def _localized(english: str, spanish: str) -> locale_str:
    """A description with its Spanish alongside, for the translator to hand Discord."""
    if spanish == english:
        return locale_str(_description(english))
    return locale_str(_description(english), es=_description(spanish))


class SpanishDescriptions(app_commands.Translator):
    """Gives Discord each description's Spanish for its Spanish locales; names stay as they
    are (a member types the same /help in any language), other locales see the English."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        if locale not in SPANISH_LOCALES:
            return None
        spanish = string.extras.get("es")
        return str(spanish) if spanish else None


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
        arg.name: _localized(arg.help, arg_help_in(command, arg, "es")) for arg in command.args
    }
    return app_commands.Command(
        name=command.slash_name,
        description=_localized(command.summary, summary_in(command, "es")),
        callback=callback,
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
