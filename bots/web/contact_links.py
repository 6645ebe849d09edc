"""Where a reply names a number from the resource directory, the link the web chat makes of it.

Only numbers the team has checked (responses/resources.yml) become links, so a number someone
typed into a reply is never made tappable. Each link says which characters of the text it
covers, counted in UTF-16 code units as the page's JavaScript counts them, and a `tel:` or
`sms:` address: "call 988" is `tel:988`, "text 988" is `sms:988`, "text HOME to 741741" is
`sms:741741?&body=HOME`, and in "call or text 988" the word "call" calls and "988" texts.
The page builds the links as DOM nodes; nothing here is HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from community.resources import ResourceDirectory, default_directory

# A US number as the directory writes it ("1-800-662-4357", "971-203-7773", the vanity
# "1-833-TLC-MAMA"), or a short code ("988", "911", "741741"); never part of a longer word.
NUMBER = re.compile(
    r"(?<![\w-])(?:(?:1-)?\d{3}-[0-9A-Z]{3}-[0-9A-Z]{4}|\d{3,6})(?![\w-])",
)
# How far back a number's verb is looked for: since the last number, or the end of a sentence,
# a line, a list bullet or a label ("Poison Help: call ...").
BOUNDARY = re.compile(r"[.\n•:;!?]")
CALL_WORDS = re.compile(r"\b(?:call|phone|dial|llama|llamar)\b", re.IGNORECASE)
TEXT_WORDS = re.compile(r"\b(?:text|texto|sms)\b", re.IGNORECASE)
# "text HOME to 741741", "envía AYUDA por mensaje de texto al 988": the word to send.
KEYWORD = re.compile(r"\b([A-ZÁÉÍÓÚÑ]{2,})\s+(?:to|por mensaje de texto al)\s+$")
KEYPAD = {c: str(2 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(c) // 3) for c in "ABCDEFGHIJKLMNO"}
KEYPAD.update({c: "7" for c in "PQRS"} | {c: "8" for c in "TUV"} | {c: "9" for c in "WXYZ"})


@dataclass(frozen=True)
class ContactLink:
    """Characters [start, end) of a reply's text (UTF-16 code units) and where tapping goes."""

    start: int
    end: int
    href: str


@dataclass(frozen=True)
class _Numbers:
    phones: frozenset[str]
    texts: frozenset[str]


def dialable(number: str) -> str:
    """The digits to dial: "1-833-TLC-MAMA" -> "18338526262"."""
    return "".join(KEYPAD.get(c, c) for c in number.upper() if c.isdigit() or c in KEYPAD)


def _directory_numbers(directory: ResourceDirectory) -> _Numbers:
    phones: set[str] = set()
    texts: set[str] = set()
    for resource in directory.resources:
        fields = [(resource.phone, phones), (resource.text, texts)]
        if resource.es:
            fields += [(resource.es.phone, phones), (resource.es.text, texts)]
        for value, into in fields:
            into.update(m.group() for m in NUMBER.finditer(value or ""))
    return _Numbers(frozenset(phones), frozenset(texts))


@cache
def _default_numbers() -> _Numbers:
    return _directory_numbers(default_directory())


def _utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def contact_links(text: str, directory: ResourceDirectory | None = None) -> list[ContactLink]:
    """The links for the directory's numbers in `text`, in order, never overlapping."""
    numbers = _default_numbers() if directory is None else _directory_numbers(directory)
    spans: list[tuple[int, int, str]] = []
    since = 0
    for match in NUMBER.finditer(text):
        number = match.group()
        if number not in numbers.phones and number not in numbers.texts:
            continue
        window_start = since
        for boundary in BOUNDARY.finditer(text, since, match.start()):
            window_start = boundary.end()
        window = text[window_start : match.start()]
        calls = list(CALL_WORDS.finditer(window))
        texts = list(TEXT_WORDS.finditer(window))
        digits = dialable(number)
        last_call = calls[-1].start() if calls else -1
        last_text = texts[-1].start() if texts else -1
        if last_text > last_call or (
            last_text < 0 and last_call < 0 and number not in numbers.phones
        ):
            keyword = KEYWORD.search(window)
            body = f"?&body={keyword.group(1)}" if keyword and keyword.group(1).isascii() else ""
            if last_call >= 0:
                # "call or text 988": the word "call" calls the same number.
                word = calls[-1]
                spans.append(
                    (window_start + word.start(), window_start + word.end(), f"tel:{digits}")
                )
            spans.append((match.start(), match.end(), f"sms:{digits}{body}"))
        else:
            spans.append((match.start(), match.end(), f"tel:{digits}"))
        since = match.end()
    return [ContactLink(_utf16(text, s), _utf16(text, e), href) for s, e, href in spans]
