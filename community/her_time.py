"""Her time: the time zone she told us (or the community's), a time of day as she writes it
("9am", "8:30 pm", "19:00"), and a moment said back to her in her language and her zone.
Used by the check-ins she chooses and her own reminders (issue #21)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Words she may use for a US time zone (English and Spanish), and the IANA name each means.
ZONE_WORDS = {
    "eastern": "America/New_York",
    "este": "America/New_York",
    "new york": "America/New_York",
    "central": "America/Chicago",
    "chicago": "America/Chicago",
    "mountain": "America/Denver",
    "montana": "America/Denver",
    "denver": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific": "America/Los_Angeles",
    "pacifico": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "puerto rico": "America/Puerto_Rico",
    "atlantic": "America/Puerto_Rico",
    "atlantico": "America/Puerto_Rico",
}
# How each zone is named back to her.
ZONE_NAMES = {
    "America/New_York": ("Eastern time", "hora del Este"),
    "America/Chicago": ("Central time", "hora del Centro"),
    "America/Denver": ("Mountain time", "hora de la Montaña"),
    "America/Phoenix": ("Arizona time", "hora de Arizona"),
    "America/Los_Angeles": ("Pacific time", "hora del Pacífico"),
    "America/Anchorage": ("Alaska time", "hora de Alaska"),
    "Pacific/Honolulu": ("Hawaii time", "hora de Hawái"),
    "America/Puerto_Rico": ("Puerto Rico time", "hora de Puerto Rico"),
}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
        "septiembre", "octubre", "noviembre", "diciembre",
    ),
}  # fmt: skip
TIME_OF_DAY = re.compile(
    r"^(?:at\s+|a\s+las\s+|a\s+la\s+)?(\d{1,2})(?:[:.h](\d{2}))?\s*(a\.?\s?m\.?|p\.?\s?m\.?)?$"
)


def plain(text: str) -> str:
    """Lower case, no accents, words separated by single spaces (hyphens and punctuation out)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() or c in ":." else " " for c in letters).split())


def known_zone(name: str | None) -> str | None:
    """`name` if it is an IANA time zone this machine knows, else None."""
    if not name or "/" not in name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def read_zone(words: str) -> str | None:
    """The zone she names: "Pacific", "hora del centro", "America/Chicago"; None if unknown."""
    exact = known_zone(words.strip())
    if exact:
        return exact
    said = plain(words)
    for word, zone in ZONE_WORDS.items():
        if re.search(rf"\b{word}\b", said):
            return zone
    for candidate in (words.strip().replace(" ", "_"), words.strip().title().replace(" ", "_")):
        found = known_zone(candidate)
        if found:
            return found
    return None


def her_zone(stored: str | None, community: str) -> str:
    """Her zone if she told us one, else the community's."""
    return known_zone(stored) or community


def zone_name(zone: str, language: str) -> str:
    names = ZONE_NAMES.get(zone)
    if names is None:
        return zone.rsplit("/", 1)[-1].replace("_", " ")
    return names[1] if language == "es" else names[0]


def read_time_of_day(words: str) -> int | None:
    """Minutes after midnight from "9am", "8:30 pm", "19:00", "a las 7"; None if not a time."""
    found = TIME_OF_DAY.match(plain(words))
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    half = (found.group(3) or "").replace(".", "").replace(" ", "")
    if minute > 59 or hour > 23 or (half and not 1 <= hour <= 12):
        return None
    if half == "pm" and hour != 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    return hour * 60 + minute


def say_time_of_day(minutes: int, language: str) -> str:
    """9:00 AM (English) or 9:00 (Spanish, 24-hour)."""
    hour, minute = divmod(minutes, 60)
    if language == "es":
        return f"{hour}:{minute:02d}"
    half = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {half}"


def say_moment(when: datetime, zone: str, language: str) -> str:
    """ "Tuesday, December 8, 9:00 AM" / "martes 8 de diciembre, 9:00", in her zone."""
    local = when.astimezone(ZoneInfo(zone))
    lang = "es" if language == "es" else "en"
    day = _DAYS[lang][local.weekday()]
    month = _MONTHS[lang][local.month - 1]
    clock = say_time_of_day(local.hour * 60 + local.minute, lang)
    if lang == "es":
        return f"{day} {local.day} de {month}, {clock}"
    return f"{day}, {month} {local.day}, {clock}"


def at_local(day: date, minutes: int, zone: str) -> datetime:
    """That day at that time of day in `zone`, as UTC."""
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def next_at(after: datetime, minutes: int, zone: str) -> datetime:
    """The first moment after `after` at that time of day in her zone."""
    day = after.astimezone(ZoneInfo(zone)).date()
    moment = at_local(day, minutes, zone)
    return moment if moment > after else at_local(day + timedelta(days=1), minutes, zone)
