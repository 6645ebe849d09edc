"""What moderators do from a chat platform's case thread, the same on every platform: buttons
(claim, resolve, return to bot) and what they write (a reply to her, or a command)."""

from __future__ import annotations

from bots.conduct_commands import parse_days
from community.cases.flags import MAX_BLOCK_DAYS
from community.cases.handoff import CaseConflict, CaseNotFound, ModeratorActions
from community.db import Database
from safety.snippets import load_snippets

CASE_CALLBACK_PREFIX = "pb:"
CASE_ACTIONS = ("claim", "resolve", "return")
THREAD_HELP = (
    "In a case thread: press Claim, then what you write here reaches her under your name.\n"
    "/note TEXT: a private note (she never sees it)\n"
    "/snippets: the canned replies; /snippet ID: send one to her\n"
    "/transcript: the conversation so far\n"
    "/block DAYS REASON: block her for abuse (a crisis from her is still answered)"
)


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


async def press_case_button(database: Database, action: str, case_id: int, moderator: str) -> None:
    """Raises CaseConflict or CaseNotFound with a message fit to show the moderator."""
    async with database.transaction() as session:
        actions = ModeratorActions(session)
        if action == "claim":
            await actions.claim(case_id, moderator)
        else:
            await actions.resolve(
                case_id, moderator, f"{action} from a chat home", action == "return"
            )


def button_outcome(action: str, display: str) -> str:
    if action == "claim":
        return f"{display} claimed this case. What {display} writes in this thread now reaches her."
    return f"{display} closed this case; the bot answers her again."


async def act_in_case_thread(
    database: Database, case_id: int, moderator: str, display: str, text: str
) -> str:
    """Run a command or relay a reply; the answer to show in the thread ("" when relayed)."""
    command, _, rest = text.strip().partition(" ")
    command = command.split("@")[0].lower()
    try:
        async with database.transaction() as session:
            actions = ModeratorActions(session)
            if command == "/note":
                if not rest.strip():
                    return "Write the note after /note."
                await actions.add_note(case_id, moderator, rest.strip())
                return "Note saved (she never sees it)."
            if command == "/snippets":
                return "\n".join(f"{s.id}: {s.text}" for s in load_snippets())
            if command == "/transcript":
                turns = await actions.transcript(case_id)
                return "\n".join(f"{t.author_name or t.author}: {t.text}" for t in turns)
            if command == "/block":
                days_text, _, reason = rest.strip().partition(" ")
                days = parse_days(days_text)
                if days is None or len(reason.strip()) < 3:
                    return f"Write it as /block DAYS REASON (1-{MAX_BLOCK_DAYS} days)."
                await actions.block_member(case_id, moderator, reason.strip(), days)
                return f"Blocked for {days} days. /blocks lists blocks; /unblock N lifts one."
            if command == "/snippet":
                chosen = {s.id: s for s in load_snippets()}.get(rest.strip())
                if chosen is None:
                    return "No such snippet; /snippets lists them."
                text = chosen.text
            elif command.startswith("/"):
                return THREAD_HELP
            await actions.reply(case_id, moderator, display, text.strip())
            return ""
    except CaseConflict as error:
        return str(error)
    except CaseNotFound:
        return "That case is gone."
