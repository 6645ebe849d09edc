"""Moderators' shifts from a chat home (#22): /onshift, /offshift and /shifts, declared in
`bots/commands.py`. The console does the same through `bots/web/shifts.py`."""

from __future__ import annotations

from bots import wording
from bots.command_grammar import ModeratorCall, Values
from community.cases.shifts import end_shift, moderator_load, on_shift, start_shift


async def go_on_shift(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        started = await start_shift(session, call.moderator, call.display)
        others = [s.display_name for s in await on_shift(session) if s.moderator != call.moderator]
    return wording.on_shift(call.display, started, others)


async def go_off_shift(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        ended = await end_shift(session, call.moderator)
        others = [s.display_name for s in await on_shift(session)]
    return wording.off_shift(ended, others)


async def shifts(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        on = [s.display_name for s in await on_shift(session)]
        loads = await moderator_load(session, call.timezone)
    return wording.shifts_and_load(
        on, [(x.display_name, x.on_shift, x.open_now, x.today, x.this_week) for x in loads]
    )
