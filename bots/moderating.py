"""What moderators do from a chat platform's case thread, the same on every platform: buttons
(claim, resolve, return to bot), what they write (a reply to her), and the thread's commands
(declared, with their arguments and help, in `bots/commands.py`)."""

from __future__ import annotations

from datetime import timedelta

from bots.command_grammar import ModeratorCall, Values
from community.cases.handoff import CaseNotFound, ModeratorActions
from community.db import Database
from community.followups import schedule_by_moderator
from community.models import Case
from community.safety_plan import MODERATOR_TITLE, PlanLocked, PlanNotShared, render, shared_plan
from safety.snippets import load_snippets

CASE_CALLBACK_PREFIX = "pb:"
CASE_ACTIONS = ("claim", "resolve", "return")


def case_button_id(action: str, case_id: int) -> str:
    return f"{CASE_CALLBACK_PREFIX}{action}:{case_id}"


def parse_case_button(data: str) -> tuple[str, int] | None:
    try:
        prefix, action, raw_id = data.split(":")
        case_id = int(raw_id)
    except ValueError:
        return None
    if f"{prefix}:" != CASE_CALLBACK_PREFIX or action not in CASE_ACTIONS:
        return None
    return action, case_id


async def press_case_button(
    database: Database,
    action: str,
    case_id: int,
    moderator: str,
    display: str,
    max_open: int = 0,
) -> None:
    """Raises CaseConflict or CaseNotFound with a message fit to show the moderator (naming
    anyone else by display name). `display` is the name she is told has joined; `max_open`
    the cap of open claimed cases per moderator (PEERBOT_MAX_OPEN_CASES_PER_MODERATOR)."""
    async with database.transaction() as session:
        actions = ModeratorActions(session)
        if action == "claim":
            await actions.claim(case_id, moderator, display_name=display, max_open=max_open)
        else:
            await actions.resolve(
                case_id, moderator, f"{action} from a chat home", action == "return"
            )


def button_outcome(action: str, display: str) -> str:
    if action == "claim":
        return f"{display} claimed this case. What {display} writes in this thread now reaches her."
    return f"{display} closed this case; the bot answers her again."


async def relay_reply(call: ModeratorCall, text: str) -> None:
    """What a moderator writes in a claimed case's thread reaches her under her name."""
    case_id = _case_of(call)
    async with call.database.transaction() as session:
        await ModeratorActions(session).reply(case_id, call.moderator, call.display, text.strip())


def _case_of(call: ModeratorCall) -> int:
    if call.case_id is None:
        raise CaseNotFound("Use this in a case's thread.")
    return call.case_id


# -- the case thread's commands (their table entries are in bots/commands.py) --------------


async def note(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        actions = ModeratorActions(session)
        await actions.add_note(_case_of(call), call.moderator, values.text("text"))
    return "Note saved (she never sees it)."


async def snippets(call: ModeratorCall, values: Values) -> str:
    return "\n".join(f"{s.id}: {s.text}" for s in load_snippets())


async def snippet(call: ModeratorCall, values: Values) -> str:
    chosen = {s.id: s for s in load_snippets()}.get(values.text("id"))
    if chosen is None:
        return "No such snippet; /snippets lists them."
    await relay_reply(call, chosen.text)
    return ""


async def transcript(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        turns = await ModeratorActions(session).transcript(_case_of(call))
    return "\n".join(f"{t.author_name or t.author}: {t.text}" for t in turns)


async def block(call: ModeratorCall, values: Values) -> str:
    days = values.number("days")
    async with call.database.transaction() as session:
        await ModeratorActions(session).block_member(
            _case_of(call), call.moderator, values.text("reason"), days
        )
    return f"Blocked for {days} days. /blocks lists blocks; /unblock N lifts one."


async def follow_up(call: ModeratorCall, values: Values) -> str:
    """ "Check on her in 3 days": a check-in with her three buttons at that time (#21)."""
    days = values.number("days")
    if not 1 <= days <= 60:
        return "Write it as /followup DAYS, from 1 to 60 days."
    async with call.database.transaction() as session:
        case = await session.get(Case, _case_of(call))
        if case is None:
            raise CaseNotFound("No such case.")
        await schedule_by_moderator(session, case, timedelta(days=days), call.moderator)
    return f"A check-in will reach her in {days} days (quiet hours aside)."


async def safety_plan(call: ModeratorCall, values: Values) -> str:
    """Her safety plan (#21): only if she said yes for this case, and only while it is open."""
    if call.plans is None or not call.plans.available:
        return "Safety plans can't be opened here: PEERBOT_PLAN_KEYS is not set for this process."
    try:
        async with call.database.transaction() as session:
            plan = await shared_plan(session, call.plans, _case_of(call), call.moderator)
    except PlanNotShared as error:
        return str(error)
    except PlanLocked:
        return "Her safety plan can't be opened with the keys set (PEERBOT_PLAN_KEYS)."
    return render(plan, "en", MODERATOR_TITLE)
