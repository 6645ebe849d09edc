"""The chat commands in the HTTP API (moderators only), rendered from the one command table
(`bots/commands.py`), so the console shows the same commands, arguments and help as the chat
homes' `/help` and Discord's slash commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from bots.command_grammar import Command
from bots.commands import ALL
from bots.web.auth import require_role
from community.staff import StaffIdentity

Moderator = Annotated[StaffIdentity, Depends(require_role("moderator"))]


class ArgOut(BaseModel):
    name: str
    kind: str = Field(description="number, word, or text (the rest of the line)")
    required: bool
    help: str


class CommandOut(BaseModel):
    name: str
    usage: str = Field(description='How it is typed, e.g. "/blockflag N DAYS REASON".')
    summary: str
    who: str = Field(description="member, researcher or moderator")
    where: str = Field(description="private chat, moderators' home, or case thread")
    section: str
    discord_name: str = Field(description="The slash command's name on Discord.")
    args: list[ArgOut]

    @classmethod
    def of(cls, command: Command) -> CommandOut:
        return cls(
            name=command.name,
            usage=command.usage,
            summary=command.summary,
            who=command.who.value,
            where=command.place.value,
            section=command.section,
            discord_name=command.slash_name,
            args=[
                ArgOut(name=a.name, kind=a.kind.value, required=a.required, help=a.help)
                for a in command.args
            ],
        )


class CommandsOut(BaseModel):
    commands: list[CommandOut]


def build_commands_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["moderation"])

    @router.get("/commands", response_model=CommandsOut)
    async def list_commands(staff: Moderator) -> CommandsOut:
        """Every chat command, from the one table: members', researchers' and moderators'."""
        return CommandsOut(commands=[CommandOut.of(c) for c in ALL])

    return router
