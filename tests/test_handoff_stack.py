"""Human handoff through `peerbot run`'s HTTP API, and the console in a real browser."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.conftest import CHROMIUM_ARGS, Stack, chromium_or_skip

pytestmark = pytest.mark.rasa


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_case(
    client: httpx.Client, token: str, trigger: str, within: float
) -> dict[str, object]:
    deadline = time.monotonic() + within
    while True:
        for case in client.get("/api/cases", headers=bearer(token)).json()["cases"]:
            if case["trigger"] == trigger:
                return dict(case)
        if time.monotonic() > deadline:
            raise AssertionError(f"no case for {trigger!r} within {within} s")
        time.sleep(0.05)


def test_crisis_to_resolution_through_the_api(stack: Stack, app_client: httpx.Client) -> None:
    ana, ben = stack.add_staff("ana-api", display_name="Ana"), stack.add_staff("ben-api")
    user = uuid.uuid4().hex
    trigger = "i took a bunch of my pills an hour ago"

    reply = app_client.post("/api/chat", json={"user": user, "text": trigger}).json()["replies"]
    assert "911" in reply[0]["text"]
    case = wait_for_case(app_client, ana, trigger, within=1.0)
    case_id = case["id"]

    assert app_client.get("/api/cases").status_code == 401
    assert app_client.post(f"/api/cases/{case_id}/claim", headers=bearer(ana)).status_code == 200
    assert app_client.post(f"/api/cases/{case_id}/claim", headers=bearer(ben)).status_code == 409

    sent = app_client.post(
        f"/api/cases/{case_id}/messages",
        json={"text": "I'm here. Have you called 911?"},
        headers=bearer(ana),
    )
    assert sent.status_code == 200
    later = app_client.get(f"/api/chat/{user}/messages").json()["messages"]
    # She is told who joined (their display name and role, never an account), then hears them.
    joined = later.pop(0)
    assert joined["text"].startswith("Ana (peer support team) has joined the chat.")
    assert joined["sender_name"] is None
    assert later == [
        {
            "text": "I'm here. Have you called 911?",
            "buttons": [],
            "sender_name": "Ana",
            "urgent": False,
            "links": [{"start": 26, "end": 29, "href": "tel:911"}],
            "language": "en",
            "attachment": None,  # a calendar file comes only with a session's yes
        }
    ]

    assert (
        app_client.post("/api/chat", json={"user": user, "text": "yes they are coming"}).json()[
            "replies"
        ]
        == []
    )
    transcript = app_client.get(f"/api/cases/{case_id}/messages", headers=bearer(ana)).json()[
        "messages"
    ]
    # Her words reach the moderator; the screen's note (help is on its way) follows them, and
    # the bot said nothing to her over the moderator's head.
    mine = [t for t in transcript if t["author"] == "member"]
    assert mine[-1]["text"] == "yes they are coming"
    notes = [t["text"] for t in transcript if t["author"] == "screen"]
    assert all("did not answer her" in n for n in notes)

    assert (
        app_client.post(
            f"/api/cases/{case_id}/resolve", json={"outcome": "ems called"}, headers=bearer(ana)
        ).status_code
        == 200
    )
    goodbye = app_client.get(f"/api/chat/{user}/messages").json()["messages"][0]["text"]
    assert goodbye.startswith("Ana has left the chat.") and "reach a person again" in goodbye
    # The bot (the real Rasa model) answers again.
    hi = app_client.post("/api/chat", json={"user": user, "text": "hi"}).json()["replies"]
    assert "I'm peerbot" in hi[0]["text"]


def test_console_signs_in_claims_and_replies_in_chromium(
    stack: Stack, app_client: httpx.Client
) -> None:
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    token = stack.add_staff("cleo-browser", display_name="Cleo")
    user = uuid.uuid4().hex
    trigger = "i keep thinking about killing myself"
    app_client.post("/api/chat", json={"user": user, "text": trigger})

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(f"{stack.app_url}/moderate")
            page.fill("#token", token)
            page.click("#signin button[type=submit]")
            item = page.locator("#queue li", has_text=trigger)
            item.get_by_role("button", name="Open").click()
            page.click("#claim")
            page.wait_for_selector("#release:not([hidden])")
            page.fill("#reply-text", "Hi, I'm Cleo. I'm here with you.")
            page.click("#reply button[type=submit]")
            page.wait_for_selector("#transcript li.moderator")
            assert page.locator("#case-error").inner_text() == ""
        finally:
            browser.close()

    later = app_client.get(f"/api/chat/{user}/messages").json()["messages"]
    # She is told who joined (by the claim), then gets the reply under the moderator's name.
    assert [(m["text"], m["sender_name"]) for m in later] == [
        (
            "Cleo (peer support team) has joined the chat. From now on, a person is answering "
            "you here.",
            None,
        ),
        ("Hi, I'm Cleo. I'm here with you.", "Cleo"),
    ]
