"""The researchers' page in Chromium, through `peerbot run`, on a phone and a desktop: signed
in cleanly, the status right after "Publish now", answers read on the page by pages of ten
(each saying what was removed), and digests in plain dates with whole questions.
Screenshots: var/reports/screenshots/."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from community.db import Database
from community.research.digest import write_digests
from tests.browser_pages import browser_page, fits_the_width, screenshot, sign_in, viewports
from tests.conftest import Stack

pytestmark = pytest.mark.rasa

MOMS = 12
QUESTION = (
    "When you think about the first weeks after your baby was born, what made it easier or "
    "harder to keep going to your appointments for medication, and who helped you most?"
)


def _say(client: httpx.Client, user: str, text: str) -> None:
    assert client.post("/api/chat", json={"user": user, "text": text}).status_code == 200


def _wait(check: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.3)


async def _digest(database_url: str) -> None:
    database = Database.connect(database_url)
    try:
        async with database.transaction() as session:
            await write_digests(session, "weekly", datetime(2026, 12, 5, 12, tzinfo=UTC))
    finally:
        await database.dispose()


@viewports
def test_research_page_publish_answers_and_digests(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"rae-page-{viewport}", "researcher")
    researcher = {"Authorization": f"Bearer {token}"}
    moderator = {"Authorization": f"Bearer {stack.add_staff(f'mod-page-{viewport}')}"}
    moms = [f"page-mom-{uuid.uuid4().hex}" for _ in range(MOMS)]
    for mom in moms:
        _say(app_client, mom, "/optin_questions")
    question = app_client.post(
        "/api/research/questions", headers=researcher, json={"text": QUESTION}
    ).json()
    qid = question["id"]
    app_client.post(f"/api/review/questions/{qid}/approve", headers=moderator, json={})

    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/research", token)
        item = page.locator(f"#questions li[data-question-id='{qid}']")
        item.wait_for()
        assert not page.locator("#signin").is_visible()
        assert page.locator("#signin-error").inner_text() == ""
        assert "Approved; not published yet" in item.inner_text()

        item.get_by_role("button", name=f"Publish question #{qid} now").click()
        # At once: no "approved · Sent to 0" and no Publish button left behind.
        page.wait_for_function(
            "id => /^#\\d+: (Publishing now|Published)/.test(document.querySelector("
            "`#questions li[data-question-id='${id}'] .standing`).textContent)",
            arg=qid,
            timeout=5000,
        )
        assert "Approved" not in item.inner_text()
        assert item.get_by_role("button", name=f"Publish question #{qid} now").count() == 0
        item.locator(".standing", has_text="Published").wait_for(timeout=30000)
        assert "Sent to" in item.locator(".counts").inner_text()

        # Twelve mothers answer; one names her clinic and her city.
        for number, mom in enumerate(moms):
            _wait(lambda m=mom: app_client.get(f"/api/chat/{m}/messages").json()["messages"])
            _say(app_client, mom, f"/answer_{qid}")
            _say(app_client, mom, f"/consent_{qid}")
            words = (
                "my counselor at Riverside Recovery Clinic in Dayton said I was doing good"
                if number == 0
                else f"Rides to the clinic helped, answer {number + 1}."
            )
            _say(app_client, mom, words)
        # Playwright's sync API holds this thread's event loop: the digest job runs beside it.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _digest(stack.database_url)).result()

        page.reload()
        item = page.locator(f"#questions li[data-question-id='{qid}']")
        item.get_by_role("button", name=f"Read the {MOMS} answers").click()
        box = item.locator(".answers-box")
        box.get_by_role("heading", name=f"Answers 1-10 of {MOMS} to question #{qid}").wait_for()
        first = box.locator("ol.answers > li").first
        assert "my counselor at [clinic] in [place] said" in first.inner_text()
        assert "Removed before you saw it: a clinic, hospital or program name, a place name." in (
            first.inner_text()
        )
        assert "Riverside" not in box.inner_text() and "Dayton" not in box.inner_text()
        assert box.locator("ol.answers > li").count() == 10
        screenshot(page, "research_answers", viewport)
        assert fits_the_width(page)
        box.get_by_role("button", name="Next answers").click()
        box.get_by_role("heading", name=f"Answers 11-{MOMS} of {MOMS}").wait_for()
        assert box.locator("ol.answers > li").count() == MOMS - 10
        assert box.get_by_role("button", name="Next answers").is_disabled()

        digest = page.locator("#digests li").first
        digest.wait_for()
        assert "the week of Monday 30 November 2026" in digest.inner_text()
        assert "W49" not in page.locator("#digests").inner_text()
        assert QUESTION in digest.inner_text()  # not cut off
        digest.scroll_into_view_if_needed()
        screenshot(page, "research_digests", viewport)
