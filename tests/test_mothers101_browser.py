"""Mothers 101 in Chromium, through `peerbot run`, on a phone and a desktop: a mother answers
and agrees to share; a moderator trims and files her answer from the console; a researcher who
did not ask reads it on the research page. Screenshots: var/reports/screenshots/."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.browser_pages import browser_page, fits_the_width, screenshot, sign_in, viewports
from tests.conftest import Stack

pytestmark = pytest.mark.rasa


def _say(client: httpx.Client, user: str, text: str) -> list[dict[str, object]]:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, object]] = response.json()["replies"]
    return replies


@viewports
def test_a_shared_answer_is_filed_by_a_moderator_and_read_by_researchers(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    mark = f"m{uuid.uuid4().hex[:8]}"  # letters first: eight digits alone would be de-identified
    asker = {"Authorization": f"Bearer {stack.add_staff(f'rae-m101-{viewport}', 'researcher')}"}
    reader = stack.add_staff(f"ray-m101-{viewport}", "researcher")
    moderator = stack.add_staff(f"mod-m101-{viewport}")
    mom = f"m101-mom-{uuid.uuid4().hex}"
    _say(app_client, mom, "/optin_questions")
    question = app_client.post(
        "/api/research/questions",
        headers=asker,
        json={"text": f"What helps you keep going on hard days? ({mark})"},
    ).json()
    qid = question["id"]
    staff = {"Authorization": f"Bearer {moderator}"}
    app_client.post(f"/api/review/questions/{qid}/approve", headers=staff, json={})
    app_client.post(f"/api/research/questions/{qid}/publish", headers=staff, json={})
    deadline = time.monotonic() + 30
    while not app_client.get(f"/api/chat/{mom}/messages").json()["messages"]:
        assert time.monotonic() < deadline, "the question never reached her"
        time.sleep(0.3)
    _say(app_client, mom, f"/answer_{qid}")
    _say(app_client, mom, f"/consent_{qid}")
    replies = _say(app_client, mom, f"Other moms texting me back, every time {mark}")
    assert "Mothers 101" in str(replies[-1]["text"])
    _say(app_client, mom, f"/share_yes_{qid}")

    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", moderator)
        candidate = page.locator("#m101-candidates li", has_text=mark)
        candidate.wait_for()
        words = candidate.locator("textarea")
        words.fill(f"Other moms texting me back, every time. {mark}")
        candidate.get_by_placeholder("Theme, e.g. being heard").fill("being heard")
        screenshot(page, "mothers101_console", viewport)
        assert fits_the_width(page)
        candidate.get_by_role("button", name="in Mothers 101").click()
        page.locator("#m101-candidates li", has_text=mark).wait_for(state="detached")

    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/research", reader)
        page.locator("#m101 h3", has_text=mark).wait_for()
        section = page.locator("#m101").inner_text()
        assert f"Other moms texting me back, every time. {mark}" in section
        assert "being heard" in section and mom not in section
        page.locator("#m101 h3", has_text=mark).scroll_into_view_if_needed()
        screenshot(page, "mothers101_research", viewport)
        assert fits_the_width(page)
