"""De-identification of places, on the community's own kind of text: clinics, hospitals and
programs by name, cities, counties and states go; the words of her story stay, and the
researcher is told what kinds of detail were taken out."""

from __future__ import annotations

import pytest

from community.research.deidentify import deidentify, removed_kinds

CLINIC = "a clinic, hospital or program name"
PLACE = "a place name"


@pytest.mark.parametrize(
    ("text", "gone", "kept", "kinds"),
    [
        ("my counselor at Riverside Recovery Clinic in Dayton said I'm doing good",
         ["Riverside", "Recovery Clinic", "Dayton"],
         ["my counselor at", "said I'm doing good"], [CLINIC, PLACE]),
        ("We moved to Columbus, OH last year and the methadone clinic there is better",
         ["Columbus", "OH"], ["the methadone clinic there is better"], [PLACE]),
        ("I deliver at St. Mary's Hospital in Montgomery County and they room in",
         ["Mary", "Montgomery"], ["I deliver at", "they room in"], [CLINIC, PLACE]),
        ("got my dose at Hope House near Huntington, WV before work",
         ["Hope House", "Huntington", "WV"], ["got my dose at", "before work"], [CLINIC, PLACE]),
        ("the NICU at Cincinnati Children's Hospital let me stay with him",
         ["Cincinnati", "Children"], ["the NICU at", "let me stay with him"], [CLINIC]),
        ("I was living in Portsmouth when DCS came", ["Portsmouth"], ["when DCS came"], [PLACE]),
        ("my peer support from Brightview helped me more than anyone in Kentucky",
         ["Brightview", "Kentucky"], ["my peer support from", "helped me"], [PLACE]),
        ("Mi consejera en Centro de Salud Esperanza en Dayton me ayudó mucho",
         ["Esperanza", "Dayton"], ["Mi consejera", "me ayudó mucho"], [CLINIC, PLACE]),
    ],
)  # fmt: skip
def test_places_and_clinics_are_removed(
    text: str, gone: list[str], kept: list[str], kinds: list[str]
) -> None:
    result = deidentify(text)
    for part in gone:
        assert part not in result, result
    for part in kept:
        assert part in result, result
    assert removed_kinds(result) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "In March I started Suboxone in the NICU and went to NA at Christmas",
        "The clinic said no. My Recovery Coach helps, and I pray to God in my own words",
        "I go to group in the morning and talk to my counselor from the clinic",
        "Hospital staff were kind to me at delivery",
    ],
)
def test_ordinary_capitalized_words_stay(text: str) -> None:
    assert deidentify(text) == text
    assert removed_kinds(text) == []
