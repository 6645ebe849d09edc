"""The research page's server side through the real app and SQLite: answers by page, each
saying what was removed (places and clinics included); digests in plain dates with whole
questions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from community.db import Database
from community.research.digest import period_label, write_digests
from community.settings import Settings
from tests.bots.test_research_api import (
    auth,
    client,
    publish_question,
    research_settings,
    say,
    tokens,
)

__all__ = ["client", "research_settings", "tokens"]  # fixtures used below

ANSWERS = [
    "my counselor at Riverside Recovery Clinic in Dayton said I was doing good",
    "Being listened to without judgement.",
    "We moved to Columbus, OH and the peer group there helped.",
]


def test_answers_come_by_page_and_say_what_was_removed(
    client: TestClient, tokens: dict[str, str]
) -> None:
    moms = [f"mom-page-{n}" for n in range(len(ANSWERS))]
    for mom in moms:
        say(client, mom, "/optin_questions")
    question_id = publish_question(client, tokens)
    for mom, words in zip(moms, ANSWERS, strict=True):
        say(client, mom, f"/answer_{question_id}")
        say(client, mom, f"/consent_{question_id}")
        say(client, mom, words)

    path = f"/api/research/questions/{question_id}/answers"
    first = client.get(path, params={"per_page": 2}, headers=auth(tokens["rae"])).json()
    assert (first["total"], first["page"], first["per_page"]) == (3, 1, 2)
    assert [a["number"] for a in first["answers"]] == [1, 2]
    clinic = first["answers"][0]
    assert clinic["text"] == "my counselor at [clinic] in [place] said I was doing good"
    assert clinic["removed"] == ["a clinic, hospital or program name", "a place name"]
    assert first["answers"][1]["removed"] == []
    second = client.get(path, params={"per_page": 2, "page": 2}, headers=auth(tokens["rae"])).json()
    assert [a["number"] for a in second["answers"]] == [3]
    assert "Columbus" not in second["answers"][0]["text"]
    # Without paging: all of them, as before.
    assert client.get(path, headers=auth(tokens["rae"])).json()["total"] == 3
    assert len(client.get(path, headers=auth(tokens["rae"])).json()["answers"]) == 3
    assert client.get(path, params={"per_page": 0}, headers=auth(tokens["rae"])).status_code == 422


async def _digest(settings: Settings) -> None:
    database = Database.connect(settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            await write_digests(session, "weekly", datetime(2026, 12, 5, 12, tzinfo=UTC))
    finally:
        await database.dispose()


def test_digests_speak_in_plain_dates_and_keep_the_whole_question(
    client: TestClient, tokens: dict[str, str], research_settings: Settings
) -> None:
    long_question = (
        "When you think about the weeks right after your baby was born, what would have made it "
        "easier to keep going to your appointments for medication?"
    )
    client.post(
        "/api/research/questions", headers=auth(tokens["rae"]), json={"text": long_question}
    )
    asyncio.run(_digest(research_settings))
    digest = client.get("/api/research/digests", headers=auth(tokens["rae"])).json()["digests"][0]
    assert digest["period"] == "2026-W49"
    assert digest["period_label"] == "the week of Monday 30 November 2026"
    assert "W49" not in digest["text"]
    assert "the week of Monday 30 November 2026" in digest["text"]
    assert long_question in digest["text"]


def test_period_labels() -> None:
    assert period_label("daily:2026-12-05") == "Saturday 5 December 2026"
    assert period_label("weekly:2027-W01") == "the week of Monday 4 January 2027"
    assert period_label("odd") == ""
