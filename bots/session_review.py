"""Discussion sessions' review from a chat moderation home (the Telegram moderators' group, the
Discord moderators' channel), as for research questions: list the proposals waiting, approve
one (optionally with a reworded topic), or return it with a note. The calls are the ones the
console's API makes; the commands' names, arguments and help are in `bots/commands.py`. An
approved session is announced by the sessions job at its next run."""

from __future__ import annotations

from bots.command_grammar import ModeratorCall, Values
from community.her_time import say_moment
from community.models import Role
from community.sessions import proposals
from community.sessions.models import DiscussionSession, SessionStatus
from community.staff import StaffIdentity

MIN_NOTE_CHARS = 3


def _line(item: DiscussionSession, zone: str) -> str:
    where = f"online ({item.place})" if item.online else f"at {item.place}"
    spanish = f"\nIn Spanish: {item.topic_es}" if item.topic_es else ""
    return (
        f"Session {item.id} by {item.host_name}: {say_moment(item.starts_at, zone, 'en')}, "
        f"{item.minutes} min, {where}, room for {item.capacity}.\n{item.topic}\n"
        f"Details: {item.details or '(none)'}{spanish}"
    )


async def waiting(call: ModeratorCall, values: Values) -> str:
    async with call.database.transaction() as session:
        items = await proposals.list_sessions(
            session,
            StaffIdentity(0, call.moderator, call.display, Role.MODERATOR.value),
            SessionStatus.SUBMITTED.value,
        )
    if not items:
        return "No discussion sessions waiting for review."
    return "\n\n".join(_line(item, call.timezone) for item in items)


async def approve(call: ModeratorCall, values: Values) -> str:
    number, words = values.number("number"), values.text("words")
    try:
        async with call.database.transaction() as session:
            item = await proposals.approve(session, number, call.moderator, words or None)
            return (
                f"Session {number} approved: it is announced to the moms who want sessions "
                f"and in the community channels shortly.\nMoms will read: {item.topic}\n"
                "(A Spanish version can be added in the web console.)"
            )
    except proposals.SessionNotFound:
        return f"There is no session {number}."
    except proposals.SessionConflict as error:
        return str(error)


async def return_to_proposer(call: ModeratorCall, values: Values) -> str:
    number, note = values.number("number"), values.text("note")
    if len(note) < MIN_NOTE_CHARS:
        return "Add a note for the proposer: /returnsession N NOTE"
    try:
        async with call.database.transaction() as session:
            await proposals.return_to_proposer(session, number, call.moderator, note)
    except proposals.SessionNotFound:
        return f"There is no session {number}."
    except proposals.SessionConflict as error:
        return str(error)
    return f"Session {number} went back to its proposer with your note."
