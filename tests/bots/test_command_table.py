"""The one command table: every entry is whole, typed text is read into typed arguments, the
help and menus are rendered from it, and moderators' commands run their handlers on a real
database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.command_grammar import ArgKind, ModeratorCall, Place, Role, UsageError, command_name
from bots.commands import (
    ALL,
    LANGUAGE_PAYLOAD,
    MEMBERS,
    MODERATORS,
    PRIVATE,
    arg_help_in,
    find,
    member_menu,
    moderator_help,
    parse,
    payload_for,
    private_command,
    run_moderator_command,
    summary_in,
    thread_help,
)
from community.cases import flags as cf
from community.cases.handoff import HandoffCases
from community.db import Database
from community.members import resolve_member
from community.models import FollowUp, utcnow
from safety.screen import Screening, Severity

KEY = b"k" * 48


def test_every_entry_is_whole() -> None:
    names = [name for c in ALL for name in c.names]
    assert len(names) == len(set(names))  # one meaning per typed name
    slash = [name for c in ALL for name in (c.slash_name, *c.also)]
    assert len(slash) == len(set(slash))
    for command in ALL:
        assert command.summary and command.name.islower()
        if command.who is Role.MODERATOR:
            assert command.handler is not None and command.payload is None
            assert command.place in (Place.HOME, Place.CASE) and command.section
        else:
            assert command.payload is not None and command.handler is None
            assert command.place is Place.PRIVATE
        kinds = [a.kind for a in command.args]
        assert ArgKind.TEXT not in kinds[:-1]  # the rest of the line comes last
        required = [a.required for a in command.args]
        assert required == sorted(required, reverse=True)  # optional ones after required


def test_typed_text_is_read_into_typed_arguments() -> None:
    parsed = parse("/blockflag@peerbot_bot 12 7 posting threats", MODERATORS)
    assert parsed is not None and parsed.command.name == "blockflag"
    assert parsed.values.as_dict() == {"number": 12, "days": 7, "reason": "posting threats"}
    approve = parse("/Approve 3", MODERATORS)
    assert approve is not None and approve.values.as_dict() == {"number": 3}
    assert parse("/approve 3 What helps you   most?", MODERATORS) is not None
    assert parse("hello there", MODERATORS) is None
    assert parse("/unknown 3", MODERATORS) is None
    for wrong in ("/approve", "/approve three", "/blockflag 12 seven why", "/dismiss 3 4",
                  "/unblock 1234567890", "/questions now please"):  # fmt: skip
        with pytest.raises(UsageError) as raised:
            parse(wrong, MODERATORS)
        assert str(raised.value).startswith("Write it as /")
    assert command_name("  /Help@bot  x") == "help" and command_name("/") is None


def test_member_commands_become_the_gateways_payloads() -> None:
    ask = private_command("/ask@peerbot_bot what is methadone like when breastfeeding")
    assert ask is not None
    assert payload_for(ask, "what is methadone like") == "/ask what is methadone like"
    assert payload_for(ask, "  ") == "/ask"
    hello = private_command("/hello")
    assert hello is not None and payload_for(hello, "") == "/start"
    assert private_command("/approve 3") is None  # a moderators' command is not hers
    assert [c.name for c in member_menu()] == [c.name for c in MEMBERS]
    assert find("link", PRIVATE) is not None and find("link", PRIVATE) not in member_menu()


def test_every_members_command_is_said_in_spanish() -> None:
    """Each command a member sees has its own Spanish line, and each of its arguments too
    (bots/data/commands_es.yml); nothing falls back to English for her."""
    for command in MEMBERS:
        spanish = summary_in(command, "es")
        assert spanish and spanish != command.summary, command.name
        assert len(spanish) <= 100  # Discord's limit for a description
        for arg in command.args:
            assert arg_help_in(command, arg, "es") != arg.help, (command.name, arg.name)
        assert summary_in(command, "en") == command.summary
    # Staff commands stay English (the Spanish file has no entry for them).
    approve = find("approve")
    assert approve is not None and summary_in(approve, "es") == approve.summary
    assert summary_in(find("talk") or MEMBERS[0], "es") == (
        "Hablar con una persona de nuestra comunidad"
    )


def test_language_is_a_members_command_with_the_gateways_payload() -> None:
    language = private_command("/language es")
    assert language is not None and language in member_menu()
    assert language.payload == LANGUAGE_PAYLOAD == "/language"
    assert [(a.name, a.kind, a.required) for a in language.args] == [
        ("language", ArgKind.WORD, False)
    ]
    assert payload_for(language, " es ") == "/language es"
    assert payload_for(language, "") == "/language"
    assert language.summary == "Choose the language I answer in"
    assert summary_in(language, "es") == "Elige el idioma de mis respuestas"


def test_help_is_rendered_from_the_table() -> None:
    text = moderator_help("In a group without topics, reply to a case's message.")
    for command in MODERATORS:
        assert command.help_line in text
    assert "/blockflag N DAYS REASON: " in text and "/approve N [WORDS]: " in text
    assert "In a group without topics" in text
    assert "/note TEXT" in thread_help() and "/questions" not in thread_help()


async def _crisis_case(database: Database, user: str) -> tuple[int, int]:
    async with database.transaction() as session:
        member = await resolve_member(session, KEY, "telegram", user)
        opening = await HandoffCases(session).open_for_crisis(
            member, "telegram", Screening(True, "suicide", Severity.HIGH), "i want to die"
        )
    return opening.case_id, member.id


async def test_moderators_commands_run_their_handlers(database: Database) -> None:
    case_id, member_id = await _crisis_case(database, "303")
    home = ModeratorCall(database, "telegram:9", "Sam")
    in_thread = ModeratorCall(database, "telegram:9", "Sam", case_id)
    assert await run_moderator_command(home, "/note she is safe now") == (
        "Use this in a case's thread."
    )
    assert await run_moderator_command(in_thread, "/note she is safe now") == (
        "Note saved (she never sees it)."
    )
    assert await run_moderator_command(home, "/blocks") == "Nobody is blocked."
    assert await run_moderator_command(home, "/dismiss 999") == "There is no open flag 999."
    assert await run_moderator_command(home, "/how are you") is None
    # A domain limit is the domain's: the chat says so with the command's form.
    too_long = await run_moderator_command(in_thread, "/block 400 threats to staff")
    assert too_long == "A block lasts 1-365 days. Write it as /block DAYS REASON."
    with pytest.raises(cf.InvalidBlock):
        async with database.transaction() as session:
            await cf.block_member(session, member_id, "web:mia", "x", 3)
    assert "Blocked for 2 days" in (
        await run_moderator_command(in_thread, "/block 2 threats to staff") or ""
    )
    blocks = await run_moderator_command(home, "/blocks")
    assert blocks is not None and "threats to staff" in blocks and "telegram:9" in blocks
    # "Check on her in 3 days" (#21): a follow-up due then, scheduled by the moderator.
    assert await run_moderator_command(in_thread, "/followup 90") == (
        "Write it as /followup DAYS, from 1 to 60 days."
    )
    assert await run_moderator_command(in_thread, "/followup 3") == (
        "A check-in will reach her in 3 days (quiet hours aside)."
    )
    async with database.sessions() as session:
        follow_up = await session.scalar(select(FollowUp))
    assert follow_up is not None and follow_up.case_id == case_id
    assert follow_up.status == "scheduled" and follow_up.scheduled_by == "moderator"
    assert follow_up.due_at is not None and follow_up.due_at - utcnow() > timedelta(days=2.9)


async def test_flood_alerts_are_listed_and_closed_from_a_chat(database: Database) -> None:
    from community.cases.floods import count_into_alert
    from community.flood_guard import Flood

    home = ModeratorCall(database, "discord:7", "Ana")
    assert await run_moderator_command(home, "/floods") == "No flood alerts open."
    async with database.transaction() as session:
        alert_id = await count_into_alert(
            session, Flood("words", "sig-9", "i will end it tonight"), ("web",)
        )
    listed = await run_moderator_command(home, "/floods")
    assert listed is not None and f"{alert_id}" in listed
    assert await run_moderator_command(home, f"/closeflood {alert_id}") == (
        f"Flood alert {alert_id} closed; it opens again if the flood goes on."
    )
    assert await run_moderator_command(home, f"/closeflood {alert_id}") == (
        f"There is no open flood alert {alert_id}."
    )
    assert await run_moderator_command(home, "/floods") == "No flood alerts open."


def test_her_plans_are_members_commands_and_known_payloads() -> None:
    """Issue #21: /checkins, /remind, /reminders, /same and /timezone are in the one table (so
    Telegram's menu, Discord's slash commands and the Spanish lines come from it), and their
    buttons' payloads, typed out, are passed on to the gateway."""
    from bots.her_plans import knows

    for name, payload in [("checkins", "/checkins"), ("remind", "/remind"),
                          ("reminders", "/reminders"), ("same", "/same"),
                          ("timezone", "/timezone")]:  # fmt: skip
        command = find(name, PRIVATE)
        assert command is not None and command in member_menu() and command.payload == payload
        assert summary_in(command, "es") != command.summary
    checkins = private_command("/checkins 7 8:30pm")
    assert checkins is not None and payload_for(checkins, "7 8:30pm") == "/checkins 7 8:30pm"
    for typed in ("/checkins_every_7", "/checkins_set_3_540", "/checkins_pause@peerbot_bot",
                  "/reminder_cancel_12", "/same", "/timezone Pacific"):  # fmt: skip
        assert knows(typed), typed
    assert not knows("/approve 3") and not knows("/remindme")
