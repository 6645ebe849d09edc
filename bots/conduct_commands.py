"""Flags and blocks from a chat moderation home (the Telegram moderators' group, the Discord
moderators' channel), the same on every platform; the calls are the ones the web console's API
makes. Blocking from inside a case thread is in `moderating.py`."""

from __future__ import annotations

from community.cases import flags as cf
from community.cases import floods
from community.cases.flags import MAX_BLOCK_DAYS
from community.db import Database

CONDUCT_HELP = (
    "Flags and blocks:\n"
    "/flags: community posts flagged as attacking or shaming, not yet reviewed\n"
    "/dismiss N: flag N is fine\n"
    "/blockflag N DAYS REASON: block the author of flag N for DAYS days\n"
    "/blocks: members blocked now\n"
    "/unblock N: lift block N now\n"
    "/floods: floods of crisis messages from new chats (one alert each, not a case each)\n"
    "/closeflood N: flood alert N is seen"
)
COMMANDS = ("/flags", "/dismiss", "/blockflag", "/blocks", "/unblock", "/floods", "/closeflood")


def is_conduct_command(text: str) -> bool:
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return first.split("@")[0].lower() in COMMANDS


def parse_days(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_BLOCK_DAYS else None


async def conduct_command(database: Database, moderator: str, text: str) -> str:
    """Carry out one command; the answer to show the moderator."""
    parts = text.strip().split(maxsplit=3)
    command = parts[0].split("@")[0].lower()
    number = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    async with database.transaction() as session:
        if command == "/flags":
            flags = await cf.open_flags(session)
            if not flags:
                return "No flagged posts waiting."
            return "\n\n".join(cf.flag_notice(f.id, f.member, f.category, f.text) for f in flags)
        if command == "/blocks":
            blocks = await cf.active_blocks(session)
            if not blocks:
                return "Nobody is blocked."
            return "\n".join(
                f"Block {b.id}: {b.member} until {b.until:%Y-%m-%d %H:%M} UTC, by {b.created_by}"
                f": {b.reason}"
                for b in blocks
            )
        if command == "/floods":
            alerts = await floods.open_alerts(session)
            if not alerts:
                return "No flood alerts open."
            return "\n\n".join(floods.alert_notice(a.id, a.kind, a.count, a.sample) for a in alerts)
        if number is None:
            return CONDUCT_HELP
        if command == "/closeflood":
            try:
                await floods.close_alert(session, number, moderator)
            except floods.FloodAlertNotFound:
                return f"There is no open flood alert {number}."
            return f"Flood alert {number} closed; it opens again if the flood goes on."
        try:
            if command == "/dismiss":
                await cf.dismiss_flag(session, number, moderator)
                return f"Flag {number} dismissed."
            if command == "/unblock":
                await cf.lift_block(session, number, moderator)
                return f"Block {number} lifted; the bot answers that member again."
            days = parse_days(parts[2]) if len(parts) > 2 else None
            reason = parts[3].strip() if len(parts) > 3 else ""
            if days is None or len(reason) < 3:
                return f"Write it as /blockflag {number} DAYS REASON (1-{MAX_BLOCK_DAYS} days)."
            await cf.block_from_flag(session, number, moderator, reason, days)
            return f"The author of flag {number} is blocked for {days} days."
        except cf.FlagNotFound:
            return f"There is no open flag {number}."
        except cf.BlockNotFound:
            return f"There is no active block {number}."
