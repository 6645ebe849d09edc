"""Research Q&A through the HTTP API of the real stack (`peerbot run`: Rasa, actions, app)
and the web chat: a researcher submits, a moderator approves, publication (now) reaches a
mother who opted in by saying so, she consents and answers, and the researcher's export has her
answer without identifiers; a mother who did not opt in receives nothing; researcher routes
answer 401 without a token and 403 with a moderator's."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx

from tests.conftest import CHROMIUM_ARGS, Stack, chromium_or_skip

ANSWER = (
    "I'm Tanya, my number is 312-555-0199. Hearing results in plain words, by text, would "
    "make me trust a study."
)


def _say(client: httpx.Client, user: str, text: str) -> list[dict[str, Any]]:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


def _wait_for_message(client: httpx.Client, user: str, within: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        messages = client.get(f"/api/chat/{user}/messages").json()["messages"]
        if messages:
            assert len(messages) == 1, messages
            message: dict[str, Any] = messages[0]
            return message
        time.sleep(0.5)
    raise AssertionError("the research question did not arrive")


def test_researcher_to_mother_and_back(stack: Stack, app_client: httpx.Client) -> None:
    researcher = {"Authorization": f"Bearer {stack.add_staff('rae', 'researcher')}"}
    moderator = {"Authorization": f"Bearer {stack.add_staff('mod-rq', 'moderator')}"}

    # Asking in her own words (Rasa's research_opt_in) explains and offers the button; only
    # the button (or /optin_questions) signs her up.
    offered = _say(app_client, "research-mom-000001", "i want to get questions from researchers")
    assert "always your choice" in offered[0]["text"]
    assert "/optin_questions" in [b["payload"] for b in offered[0]["buttons"]]
    opted = _say(app_client, "research-mom-000001", "/optin_questions")
    assert "you'll get questions from researchers" in opted[0]["text"]
    _say(app_client, "research-mom-000002", "hello")  # another mother, never opted in

    assert app_client.get("/api/research/questions").status_code == 401
    assert app_client.get("/api/research/questions", headers=moderator).status_code == 403
    assert app_client.get("/api/review/questions", headers=researcher).status_code == 403

    submitted = app_client.post(
        "/api/research/questions",
        headers=researcher,
        json={
            "text": "If you take part in a study, would you like to hear the results, and how?",
            "context": "A university team wants to share results the way moms prefer.",
            "quotes_allowed": False,
        },
    )
    assert submitted.status_code == 201
    question_id = submitted.json()["id"]
    assert (
        app_client.post(
            f"/api/review/questions/{question_id}/approve", headers=moderator, json={}
        ).status_code
        == 200
    )
    published = app_client.post(
        f"/api/research/questions/{question_id}/publish", headers=moderator, json={}
    )
    assert published.status_code == 200

    message = _wait_for_message(app_client, "research-mom-000001")
    assert "hear the results" in message["text"]
    assert app_client.get("/api/chat/research-mom-000002/messages").json()["messages"] == []

    terms = _say(app_client, "research-mom-000001", f"/answer_{question_id}")[0]
    assert "will not quote you" in terms["text"]
    _say(app_client, "research-mom-000001", f"/consent_{question_id}")
    assert "saved" in _say(app_client, "research-mom-000001", ANSWER)[0]["text"]

    export = app_client.get(
        f"/api/research/questions/{question_id}/answers.csv", headers=researcher
    )
    assert export.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(export.text)))
    assert "plain words, by text" in row["answer"]
    for identifier in ("Tanya", "312", "0199", "research-mom-000001"):
        assert identifier not in export.text
    assert row["may_quote"] == "False"
    counts = app_client.get(f"/api/research/questions/{question_id}", headers=researcher).json()[
        "counts"
    ]
    # Other mothers in the shared stack may have opted in too: she is one of those asked.
    assert counts["asked"] >= 1 and counts["answered"] == 1 and counts["declined"] == 0


def test_research_pages_submit_and_review_in_chromium(
    stack: Stack, app_client: httpx.Client
) -> None:
    """A researcher submits on /research; a moderator approves it in the console."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    researcher = stack.add_staff("rae-browser", "researcher")
    moderator = stack.add_staff("mod-browser", "moderator")
    words = "What would make a research survey feel safe to you?"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{stack.app_url}/research")
            page.fill("#token", researcher)
            page.click("#signin button[type=submit]")
            page.fill("#q-text", words)
            page.fill("#q-context", "A nursing school team asks.")
            page.click("#submit button[type=submit]")
            page.locator("#questions li", has_text="submitted").wait_for()
            assert page.locator("#error").inner_text() == ""

            page.goto(f"{stack.app_url}/moderate")
            page.fill("#token", moderator)
            page.click("#signin button[type=submit]")
            item = page.locator("#review-questions li", has_text="rae-browser")
            item.get_by_role("button", name="Approve", exact=True).click()
            page.locator("#review-questions li", has_text="rae-browser").wait_for(state="detached")
        finally:
            browser.close()
    mine = app_client.get(
        "/api/research/questions", headers={"Authorization": f"Bearer {researcher}"}
    ).json()["questions"]
    assert [(q["text"], q["status"], q["reviewed_by"]) for q in mine] == [
        (words, "approved", "mod-browser")
    ]


def test_console_flags_block_and_lift_in_chromium(stack: Stack, app_client: httpx.Client) -> None:
    """A flagged community post shows in the console; the moderator blocks its author with a
    reason, then lifts the block."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from community.models import ConductFlag, Member
    from community.settings import sync_database_url

    with Session(create_engine(sync_database_url(stack.database_url))) as session:
        member = Member(pseudonym="browser-flag-author-0000")
        session.add(member)
        session.flush()
        session.add(ConductFlag(member_id=member.id, platform="telegram", category="shaming",
                                text="methadone moms are junkies"))  # fmt: skip
        session.commit()
    moderator = stack.add_staff("mod-flags", "moderator")
    headers = {"Authorization": f"Bearer {moderator}"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{stack.app_url}/moderate")
            page.fill("#token", moderator)
            page.click("#signin button[type=submit]")
            item = page.locator("#flags li", has_text="methadone moms are junkies")
            item.get_by_role("textbox").fill("calls moms on methadone junkies")
            item.get_by_role("button", name="Block author").click()
            item.wait_for(state="detached")
            block = page.locator("#blocks li", has_text="calls moms on methadone junkies")
            block.wait_for()
            assert page.locator("#conduct-error").inner_text() == ""
            assert (
                app_client.get("/api/blocks", headers=headers).json()["blocks"][0]["created_by"]
                == "mod-flags"
            )
            block.get_by_role("button", name="Lift block").click()
            block.wait_for(state="detached")
        finally:
            browser.close()
    assert app_client.get("/api/blocks", headers=headers).json()["blocks"] == []
    assert app_client.get("/api/flags", headers=headers).json()["flags"] == []
