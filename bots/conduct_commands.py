"""Flags and blocks from a chat moderation home (the Telegram moderators' group, the Discord
moderators' channel), the same on every platform; the calls are the ones the web console's API
makes. The commands' names, arguments and help are in `bots/commands.py`; blocking from inside
a case thread is in `moderating.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

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


async def _act(
    call: ModeratorCall,
    act: Callable[[AsyncSession], Awaitable[None]],
    missing: tuple[type[LookupError], ...],
    not_found: str,
    done: str,
) -> str:
    """One step on a numbered flag, block or alert: `done`, or `not_found` if it is gone."""
    try:
        async with call.database.transaction() as session:
            await act(session)
    except missing:
        return not_found
    return done


async def close_flood(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")
    return await _act(
        call,
        lambda session: floods.close_alert(session, number, call.moderator),
        (floods.FloodAlertNotFound,),
        f"There is no open flood alert {number}.",
        f"Flood alert {number} closed; it opens again if the flood goes on.",
    )


async def dismiss(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")
    return await _act(
        call,
        lambda session: cf.dismiss_flag(session, number, call.moderator),
        (cf.FlagNotFound,),
        f"There is no open flag {number}.",
        f"Flag {number} dismissed.",
    )


async def unblock(call: ModeratorCall, values: Values) -> str:
    number = values.number("number")
    return await _act(
        call,
        lambda session: cf.lift_block(session, number, call.moderator),
        (cf.BlockNotFound,),
        f"There is no active block {number}.",
        f"Block {number} lifted; the bot answers that member again.",
    )


async def block_flag_author(call: ModeratorCall, values: Values) -> str:
    number, days, reason = values.number("number"), values.number("days"), values.text("reason")
    return await _act(
        call,
        lambda session: cf.block_from_flag(session, number, call.moderator, reason, days),
        (cf.FlagNotFound,),
        f"There is no open flag {number}.",
        f"The author of flag {number} is blocked for {days} days.",
    )
