"""Removes obvious identifiers from free text before researchers see it: names where the text
says they are names, phone numbers, emails, links and handles, street addresses, dates (dates of
birth among them) and long id numbers. It is a floor, not a guarantee; moderators review what
goes out, and researchers are told answers may still need care.

Hand-written on purpose: the libraries made for this (Presidio, scrubadub's name detectors)
need a statistical language model of hundreds of megabytes, and these patterns catch what
mothers in this community actually write (see tests/community/test_deidentify.py).
"""

from __future__ import annotations

import re

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
NAME = r"[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’-]+)?"
PEOPLE = (
    r"son|daughter|baby|babies|boy|girl|kid|child|husband|wife|partner|boyfriend|girlfriend|"
    r"fianc[eé]e?|mom|mother|dad|father|sister|brother|aunt|uncle|grandma|grandmother|"
    r"grandpa|caseworker|case worker|worker|doctor|nurse|counselor|therapist|midwife|"
    r"sponsor|friend|ex|name"
)
STREET = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|circle|cir|highway|hwy|parkway|pkwy"
)

# (pattern, replacement), applied in order: the specific before the general.
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?i)\b(?:https?://|www\.)\S+"), "[link]"),
    (re.compile(r"(?<![\w@])@\w{2,}"), "[handle]"),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[number]"),
    (
        re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}\b"),
        "[phone]",
    ),
    (re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"), "[date]"),
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), "[date]"),
    (
        re.compile(rf"(?i)\b{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"),
        "[date]",
    ),
    (
        re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}(?:,?\s+\d{{4}})?\b"),
        "[date]",
    ),
    (
        re.compile(rf"\b\d{{1,6}}\s+(?:[A-Za-z0-9.'-]+\s+){{1,4}}(?i:{STREET})\b\.?"),
        "[address]",
    ),
    (re.compile(r"(?i)\b(?:apt|apartment|unit|suite)\.?\s*#?\s*\w+\b"), "[address]"),
    (re.compile(r"\b\d{5}(?:-\d{4})?\b"), "[number]"),
    (re.compile(r"\b\d{7,}\b"), "[number]"),
)

# Names where the words around them say they are names.
NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b(?:Dr|Mrs|Mr|Ms|Miss|Judge|Officer)\.?\s+{NAME}"), "[name]"),
    (
        re.compile(
            rf"(?i:\b(my name is|my name's|name is|i am called|i'm called|call me|this is|"
            rf"i am|i'm)\s+){NAME}(?=\s*(?:[,.!?;:]|$|\band\b))"
        ),
        r"\1 [name]",
    ),
    (
        re.compile(
            rf"(?i:\b(my|our|her|his)\s+({PEOPLE})(?:\s+(?:is\s+)?(?:named|called))?\s+){NAME}"
        ),
        r"\1 \2 [name]",
    ),
    (re.compile(rf"(?i:\b(?:named|called)\s+){NAME}"), "named [name]"),
    # A sign-off on its own line: "- Jess" or "Love, Jess".
    (re.compile(rf"(?m)^\s*(?:[-–—~]\s*|(?i:love|thanks|thank you|xo+),?\s+){NAME}\s*$"), "[name]"),
)


def deidentify(text: str) -> str:
    """The text with obvious identifiers replaced by [email], [phone], [name] and the like."""
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    for pattern, replacement in NAME_RULES:
        text = pattern.sub(replacement, text)
    return text
