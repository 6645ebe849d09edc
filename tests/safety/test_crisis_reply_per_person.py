"""Overdose and medical crisis replies speak to her about herself and, on their own line, about
someone with her: "I took too many pills" must not get only a bystander's instructions."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from community.resources import default_directory
from safety.crisis_reply import REPLIES_PATH, CrisisReplies, default_crisis_replies
from safety.screen import Screening, Severity

FOR_HER = {"en": "If it's you", "es": "Si eres tú"}
FOR_SOMEONE = {"en": "someone with you", "es": "alguien que está contigo"}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("category", ["overdose", "medical"])
@pytest.mark.parametrize("severity", [Severity.IMMINENT, Severity.HIGH])
def test_urgent_replies_say_what_to_do_for_her_and_for_someone_with_her(
    language: str, category: str, severity: Severity
) -> None:
    lines = (
        default_crisis_replies()
        .compose(Screening(True, category, severity), language)
        .text.splitlines()
    )
    mine = [i for i, line in enumerate(lines) if line.startswith(FOR_HER[language])]
    theirs = [i for i, line in enumerate(lines) if FOR_SOMEONE[language] in line]
    assert len(mine) == 1 and len(theirs) == 1, lines
    # Her own line first, the bystander's on its own line after it, both before the numbers.
    assert mine[0] < theirs[0] < next(i for i, line in enumerate(lines) if line.startswith("•"))
    assert "911" in lines[mine[0]]


def test_the_overdose_reply_for_her_is_not_a_bystanders_instruction() -> None:
    text = default_crisis_replies().compose(Screening(True, "overdose", Severity.IMMINENT)).text
    her_line = next(line for line in text.splitlines() if line.startswith("If it's you"))
    assert "on their side" not in her_line and "the person" not in her_line
    assert "Lay them on their side" in text  # for someone with her, on its own line


def test_words_for_someone_with_her_are_in_every_language_or_none() -> None:
    with REPLIES_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    del data["languages"]["es"]["categories"]["overdose"]["for_someone"]
    with pytest.raises(ValueError, match="overdose has no 'for_someone'"):
        CrisisReplies(data, default_directory())
