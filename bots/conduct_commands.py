"""Flags and blocks from a chat moderation home (the Telegram moderators' group, the Discord
moderators' channel), the same on every platform; the calls are the ones the web console's API
makes. The commands' names, arguments and help are in `bots/commands.py`; blocking from inside
a case thread is in `moderating.py`."""

from __future__ import annotations

from bots.command_grammar import ModeratorCall, Values
from community.cases import flags as cf
from community.cases import floods


async def list_flags(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        flags = await cf.open_flags(session)
    if not flags:
        return "No flagged posts waiting."
    return "\n\n".join(cf.flag_notice(f.id, f.member, f.category, f.text) for f in flags)


async def list_blocks(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        blocks = await cf.active_blocks(session)
    if not blocks:
        return "Nobody is blocked."
    return "\n".join(
        f"Block {b.id}: {b.member} until {b.until:%Y-%m-%d %H:%M} UTC, by {b.created_by}: "
        f"{b.reason}"
        for b in blocks
    )


async def list_floods(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        alerts = await floods.open_alerts(session)
    if not alerts:
        return "No flood alerts open."
    return "\n\n".join(floods.alert_notice(a.id, a.kind, a.count, a.sample) for a in alerts)


async def close_flood(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")
    try:
        async with call.database.transaction() as session:
            await floods.close_alert(session, number, call.moderator)
    except floods.FloodAlertNotFound:
        return f"There is no open flood alert {number}."
    return f"Flood alert {number} closed; it opens again if the flood goes on."


async def dismiss(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")
    try:
        async with call.database.transaction() as session:
            await cf.dismiss_flag(session, number, call.moderator)
    except cf.FlagNotFound:
        return f"There is no open flag {number}."
    return f"Flag {number} dismissed."


async def unblock(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")
    try:
        async with call.database.transaction() as session:
            await cf.lift_block(session, number, call.moderator)
    except cf.BlockNotFound:
        return f"There is no active block {number}."
    return f"Block {number} lifted; the bot answers that member again."


async def block_flag_author(call: ModeratorCall, values: Values) -> str:
    number, days = values.number("number"), values.number("days")
    try:
        async with call.database.transaction() as session:
            await cf.block_from_flag(session, number, call.moderator, values.text("reason"), days)
    except cf.FlagNotFound:
        return f"There is no open flag {number}."
    return f"The author of flag {number} is blocked for {days} days."
