"""The `.ics` file for her calendar (RFC 5545): one event, in UTC, with the place or link (it
is made only for a mother who said yes). A small writer rather than a dependency: one event
needs escaping of text values, lines folded at 75 octets, and CRLF line ends, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MEDIA_TYPE = "text/calendar"
LINE_OCTETS = 75


def escape(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space, never
    splitting a UTF-8 character."""
    pieces: list[str] = []
    current, size = "", 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
            limit = LINE_OCTETS - 1  # the leading space of a continuation counts
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_file(
    session_id: int,
    topic: str,
    details: str,
    starts_at: datetime,
    minutes: int,
    place: str,
    online: bool,
    now: datetime,
    host: str = "peerbot",
) -> str:
    """The calendar file's text: one VEVENT whose UID is stable per session, so adding it again
    updates the same event instead of making a second one."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//peerbot//discussion sessions//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:session-{session_id}@{host}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(starts_at)}",
        f"DTEND:{_stamp(starts_at + timedelta(minutes=minutes))}",
        f"SUMMARY:{escape(topic)}",
        *([f"DESCRIPTION:{escape(details)}"] if details else []),
        f"LOCATION:{escape(place)}",
        *([f"URL:{place}"] if online and place.startswith(("https://", "http://")) else []),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def file_name(session_id: int) -> str:
    return f"session-{session_id}.ics"
