"""Discussion sessions in Chromium, through `peerbot run`, on a phone and a desktop: a
researcher proposes one on the research page, a moderator approves it from the console with a
Spanish version, a mom in the web chat is told, says yes with the button and downloads her
calendar file from the page, another waits; the researcher reads the counts and a question sent
ahead, never who. Screenshots: var/reports/screenshots/."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser_pages import browser_page, fits_the_width, screenshot, sign_in, viewports
from tests.conftest import Stack

pytestmark = pytest.mark.rasa

LINK = "https://meet.example.org/session-browser"


def _say(client: httpx.Client, user: str, text: str) -> list[dict[str, object]]:
    response = client.post("/api/chat", json={"user": user, "text": text})
    assert response.status_code == 200
    replies: list[dict[str, object]] = response.json()["replies"]
    return replies


def _wait(check: object, within: float = 40.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.3)


@viewports
def test_a_session_proposed_on_the_page_approved_in_the_console_and_rsvped_in_the_chat(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    mark = f"s{uuid.uuid4().hex[:8]}"
    researcher = stack.add_staff(f"rae-sessions-{viewport}", "researcher", "Dr. Rae")
    moderator = stack.add_staff(f"mod-sessions-{viewport}")
    other_mom = f"session-mom-{uuid.uuid4().hex}"
    _say(app_client, other_mom, "/optin_sessions")
    local = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).replace(
        hour=18, minute=30, second=0, microsecond=0
    )
    with browser_page(viewport, stack.app_url) as page:
        # The mom, in the web chat: she asks for sessions.
        page.goto(stack.app_url)
        page.fill("#message", "/optin_sessions")
        page.press("#message", "Enter")
        page.locator("#log li", has_text="discussion sessions").wait_for()
        mom = str(page.evaluate("localStorage.getItem('peerbot-chat-id')"))

        # The researcher proposes, on the research page.
        research = page.context.new_page()
        sign_in(research, f"{stack.app_url}/research", researcher)
        research.fill("#s-topic", f"How we decide what to study ({mark})")
        research.fill("#s-details", "Plain words, and your questions.")
        research.fill("#s-starts", local.strftime("%Y-%m-%dT%H:%M"))
        research.fill("#s-place", LINK)
        research.fill("#s-capacity", "1")
        research.get_by_role("button", name="Propose session for review").click()
        item = research.locator("#sessions li", has_text=mark)
        item.wait_for()
        assert "Proposed: waiting for a moderator's review" in item.inner_text()
        session_id = item.get_attribute("data-session-id")
        assert "6:30 PM" in item.inner_text()  # the community's time, as she meant it

        # A moderator approves it from the console, with a Spanish version.
        console = page.context.new_page()
        sign_in(console, f"{stack.app_url}/moderate", moderator)
        proposal = console.locator(f"#sessions li[data-session-id='{session_id}']")
        proposal.wait_for()
        proposal.get_by_label("Topic in Spanish (optional)").fill(
            f"Cómo decidimos qué estudiar ({mark})"
        )
        proposal.get_by_label("Details in Spanish").fill("En palabras sencillas, y tus preguntas.")
        screenshot(console, "sessions_review", viewport)
        assert fits_the_width(console)
        proposal.get_by_role(
            "button", name=f"Approve session #{session_id} and announce it"
        ).click()
        console.locator(
            f"#sessions li[data-session-id='{session_id}'] .standing", has_text="Approved"
        ).or_(
            console.locator(
                f"#sessions li[data-session-id='{session_id}'] .standing", has_text="Announced"
            )
        ).first.wait_for()

        # She is told in the chat (without the link), says yes, and downloads her calendar.
        announcement = page.locator("#log li", has_text=mark)
        announcement.wait_for(timeout=60000)
        assert LINK not in announcement.inner_text()
        announcement.get_by_role("button", name="I'll be there").click()
        download = page.locator("#log li a.attachment")
        download.wait_for()
        assert download.inner_text() == "Add to my calendar (.ics file)"
        assert download.get_attribute("download") == f"session-{session_id}.ics"
        with page.expect_download() as downloading:
            download.click()
        saved = downloading.value
        assert saved.suggested_filename == f"session-{session_id}.ics"
        calendar = Path(saved.path()).read_text(encoding="utf-8")
        assert "BEGIN:VCALENDAR" in calendar and f"LOCATION:{LINK}" in calendar
        assert LINK in page.locator("#log").inner_text()
        screenshot(page, "sessions_chat_yes", viewport)
        assert fits_the_width(page)

        # Another mom waits (it is full); the first sends a question ahead with her name in it.
        _wait(lambda: app_client.get(f"/api/chat/{other_mom}/messages").json()["messages"])
        assert "waitlist" in str(_say(app_client, other_mom, f"/session_yes_{session_id}"))
        _say(app_client, mom, f"/session_ask_{session_id}")
        _say(app_client, mom, f"My name is Jessica Brown, will my doctor know? {mark}")

        # The researcher reads the counts and the question: never who.
        research.reload()
        item = research.locator(f"#sessions li[data-session-id='{session_id}']")
        item.get_by_role("button", name=f"Questions and feedback for session #{session_id}").click()
        box = item.locator(".answers-box")
        box.get_by_role(
            "heading", name=f"What the moms said about session #{session_id} (never who)"
        ).wait_for()
        text = box.inner_text()
        assert "coming 1" in text and "waiting 1" in text
        assert f"My name is [name], will my doctor know? {mark}" in text
        # No code name (member-1a2b3c4d) anywhere on the page, nor her name.
        assert "Jessica" not in text
        assert not re.search(r"member-[0-9a-f]{8}", research.locator("body").inner_text())
        screenshot(research, "sessions_host", viewport)
        assert fits_the_width(research)
