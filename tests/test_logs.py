"""The log formatter keeps the whitelisted `extra` fields and drops everything else."""

from __future__ import annotations

import logging

from peerbot.logs import SafeFieldsFormatter


def _line(**extra: object) -> str:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "crisis journal replayed", None, None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return SafeFieldsFormatter("%(message)s").format(record)


def test_counts_and_our_own_ids_are_kept() -> None:
    line = _line(cases=3, count=2, reminder_id=41, question_id=7, answer="safe")
    for field in ("cases=3", "count=2", "reminder_id=41", "question_id=7", "answer=safe"):
        assert field in line


def test_her_words_and_platform_ids_are_dropped() -> None:
    line = _line(text="i want to die", chat_id=5550101, update_id=99, user="tg:5550101")
    assert "die" not in line and "5550101" not in line and "99" not in line
