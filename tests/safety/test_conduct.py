"""The conduct screen flags posts that attack or shame someone, and leaves alone a mother's own
pain, reassurance, reported speech and ordinary talk. Each case is a sentence a reviewer can
judge; a phrase added to conduct.yml comes with one here."""

from __future__ import annotations

import pytest

from safety.conduct import ConductScreen, default_conduct_screen

FLAGGED = [
    ("you are a junkie", "attack"),
    ("ur such a crackhead lol", "attack"),
    ("junkie moms like her make me sick", "attack"),
    ("kys", "attack"),
    ("she deserves to lose her kids", "attack"),
    ("CPS should take your baby", "shaming"),
    ("moms like you dont deserve kids", "shaming"),
    ("you people are poisoning your babies", "shaming"),
    ("methadone is just another drug", "shaming"),
    ("you're trading one drug for another", "shaming"),
    ("she is still an addict if she is on methadone", "shaming"),
    ("Shame on you", "shaming"),
    ("you should be ashamed", "shaming"),
    ("YOU ARE AN UNFIT MOTHER!!!", "attack"),
    ("y o u are a junkie", "attack"),  # spaced-out letters are joined, as for the crisis screen
]
NOT_FLAGGED = [
    "I feel like a bad mom some days",
    "you're not a bad mom",
    "nobody thinks you are a bad mom",
    "ignore anyone who says you're a junkie",
    "I worried I was trading one drug for another but my doctor explained",
    "my baby was born on methadone and is thriving",
    "your baby is beautiful",
    "you are a great mom",
    "Welcome! So glad you found us.",
    "",
    "   ",
    "\x00\x01\x02",
    "😀" * 500,
]


@pytest.fixture(scope="module")
def screen() -> ConductScreen:
    return default_conduct_screen()


@pytest.mark.parametrize(("text", "category"), FLAGGED)
def test_flags_attacks_and_shaming(screen: ConductScreen, text: str, category: str | None) -> None:
    finding = screen.screen(text)
    assert (finding.category if finding else None) == category


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_leaves_her_own_words_and_kindness_alone(screen: ConductScreen, text: str) -> None:
    assert screen.screen(text) is None


def test_a_long_post_is_screened_in_bounded_time(screen: ConductScreen) -> None:
    # The attack sits early in a huge paste: found; the rest is cut off, not scanned.
    assert screen.screen("you are a junkie. " + "ok " * 200_000) is not None
    assert screen.screen("ok " * 200_000 + " you are a junkie") is None
