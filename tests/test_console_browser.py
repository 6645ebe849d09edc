"""The moderators' console in Chromium, through `peerbot run` (real app, Rasa and SQLite), on a
phone (390x844) and a desktop (1280x800): alerts, a live queue while a case is open, layout,
snippets, names and the confirmation before resolving. Screenshots: var/reports/screenshots/."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from community.members import pseudonym_for
from tests.browser_pages import (
    browser_page,
    fits_the_width,
    recorded,
    screenshot,
    sign_in,
    viewports,
)
from tests.conftest import Stack
from tests.test_handoff_stack import bearer, wait_for_case
from tests.test_web_chat_browser import STACK_SECRET

pytestmark = pytest.mark.rasa


def _crisis(client: httpx.Client, token: str, words: str) -> dict[str, Any]:
    """A new member in crisis; her case as the API lists it."""
    trigger = f"{words} ({uuid.uuid4().hex[:6]})"
    client.post("/api/chat", json={"user": uuid.uuid4().hex, "text": trigger})
    return wait_for_case(client, token, trigger, within=5.0)


def _waiting(client: httpx.Client, token: str) -> int:
    cases = client.get("/api/cases", headers=bearer(token)).json()["cases"]
    return sum(1 for c in cases if c["status"] == "waiting")


def _name(case: dict[str, Any]) -> str:
    return f"Open case {case['id']}, {case['category'].replace('_', ' ')}, {case['severity']}"


@viewports
def test_new_case_alerts_while_another_is_open(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"alert-{viewport}", display_name="Dee")
    first = _crisis(app_client, token, "i took a bunch of my pills an hour ago")
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", token)
        page.locator("#queue li").first.wait_for()
        # Signed in: the form and any old refusal are gone.
        assert not page.locator("#signin").is_visible()
        assert page.locator("#signin-error").inner_text() == ""
        page.wait_for_function(
            "n => document.title === `(${n}) peerbot moderators`", arg=_waiting(app_client, token)
        )
        page.get_by_role("button", name="Turn on sound and notifications").click()
        page.get_by_text("Sound and notifications are on").wait_for()
        page.get_by_role("button", name=_name(first), exact=True).click()
        page.wait_for_selector("#case-view:not([hidden])")
        tones_before = recorded(page, "__tones")

        # The queue is pushed (server-sent events): a new case shows well before the 10 s
        # fallback poll would bring it.
        page.wait_for_selector("#queue-view[data-live='yes']", state="attached")
        second = _crisis(app_client, token, "i want to kill myself tonight")
        expected = _waiting(app_client, token)
        page.wait_for_function(
            "id => window.__notifications.some(n => n.title.startsWith(`New case ${id}:`))",
            arg=second["id"],
            timeout=5000,
        )
        page.wait_for_function(
            "n => document.title.startsWith(`(${n}) `)", arg=expected, timeout=5000
        )
        assert recorded(page, "__tones") > tones_before
        # The queue stays live while a case is open: a banner on a phone, the queue beside
        # the case on a desktop. Either way she can open the new case from there.
        if viewport == "phone":
            banner = page.locator("#queue-banner")
            banner.wait_for()
            assert f"case {second['id']}" in banner.inner_text()
            assert not page.locator("#queue").is_visible()
        else:
            assert page.locator("#queue").is_visible()
            assert page.locator("#case-view").is_visible()
        new_item = page.locator(f"#queue li[data-case-id='{second['id']}']")
        assert "new" in (new_item.get_attribute("class") or "")
        page.wait_for_timeout(4500)  # two more refreshes: the mark stays until she opens it
        assert "new" in (new_item.get_attribute("class") or "")
        assert new_item.locator(".new-mark").text_content() == "New"
        screenshot(page, "console_new_case_alert", viewport)
        assert fits_the_width(page)

        if viewport == "phone":
            page.locator("#banner-open").click()
        else:
            page.get_by_role("button", name=_name(second), exact=True).click()
        page.wait_for_function(
            "id => document.querySelector('#case-title').textContent.startsWith(`Case ${id}:`)",
            arg=second["id"],
        )
        page.locator("#back").click()
        item = page.locator(f"#queue li[data-case-id='{second['id']}']")
        item.wait_for()
        assert "new" not in (item.get_attribute("class") or "")


@viewports
def test_case_forms_snippets_names_and_confirmed_resolve(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"forms-{viewport}", display_name="Dee (peer)")
    user = uuid.uuid4().hex
    # A button press opens this case: the console says what she did, not the command.
    app_client.post("/api/chat", json={"user": user, "text": "/request_human"})
    case = wait_for_case(app_client, token, "/request_human", within=5.0)
    width = {"phone": 390, "desktop": 1280}[viewport]
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", token)
        item = page.locator(f"#queue li[data-case-id='{case['id']}']")
        item.wait_for()
        assert "asked for a person" in item.inner_text()
        # The chat homes' commands, from the one table, under a summary that opens.
        page.locator("#commands-box summary").click()
        page.locator("#commands li").first.wait_for()
        commands = page.locator("#commands").inner_text()
        assert "/blockflag N DAYS REASON" in commands and "Discord /send_answer" in commands
        assert "/request_human" not in page.locator("#queue").inner_text()
        item.get_by_role("button", name=f"Open case {case['id']},").click()
        page.click("#claim")
        page.wait_for_selector("#release:not([hidden])")
        meta = page.locator("#case-meta")
        page.wait_for_function(
            "() => /claimed by Dee \\(peer\\)/.test("
            "document.querySelector('#case-meta').textContent)"
        )
        assert f"forms-{viewport}" not in meta.inner_text()

        # The forms are in the page flow and take the width (not 87 px on a phone).
        box = page.locator("#reply-text").bounding_box()
        assert box is not None and box["width"] >= min(width, 672) * 0.8
        for form in ("#reply", "#note", "#resolve"):
            assert page.eval_on_selector(form, "f => getComputedStyle(f).position") == "static"

        # A snippet goes in at the cursor; her draft stays.
        area = page.locator("#reply-text")
        area.fill("Hi love. Thank you for reaching out.")
        page.eval_on_selector("#reply-text", "a => a.setSelectionRange(8, 8)")
        page.select_option("#snippets", label="Take your time")
        value = area.input_value()
        assert value.startswith("Hi love. Take your time.")
        assert value.endswith("Thank you for reaching out.")

        # Resolving asks first; Cancel leaves the case as it was.
        page.fill("#outcome", "safe, plan made")
        page.get_by_role("button", name="Resolve and return to bot").click()
        confirm = page.locator("#resolve-confirm")
        confirm.wait_for()
        assert f"Close case {case['id']}" in confirm.inner_text()
        screenshot(page, "console_case_forms", viewport)
        assert fits_the_width(page)
        assert (
            app_client.get(f"/api/cases/{case['id']}", headers=bearer(token)).json()["case"][
                "status"
            ]
            == "claimed"
        )
        page.get_by_role("button", name="Cancel").click()
        assert not confirm.is_visible()
        page.get_by_role("button", name="Resolve and return to bot").click()
        page.get_by_role("button", name="Yes, resolve").click()
        page.wait_for_selector("#case-view", state="hidden")
        assert page.locator("#case-error").inner_text() == ""
    closed = app_client.get(f"/api/cases/{case['id']}", headers=bearer(token)).json()["case"]
    assert closed["status"] == "returned"


def _answered_in_spanish(stack: Stack, user: str) -> str:
    """Her language as the gateway keeps it (Member.language), in the stack's database; her
    code name as the console shows it."""
    from sqlalchemy import create_engine, update

    from community.models import Member
    from community.settings import sync_database_url

    pseudonym = pseudonym_for(STACK_SECRET, "web", user)
    engine = create_engine(sync_database_url(stack.database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                update(Member).where(Member.pseudonym == pseudonym).values(language="es")
            )
    finally:
        engine.dispose()
    return f"member-{pseudonym[:8]}"


@viewports
def test_a_spanish_speaking_members_case_says_so_by_the_reply_box(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"lang-{viewport}", display_name="Lu (peer)")
    user, other_user = uuid.uuid4().hex, uuid.uuid4().hex
    for asking in (user, other_user):
        app_client.post("/api/chat", json={"user": asking, "text": "/request_human"})
    member = _answered_in_spanish(stack, user)
    cases = app_client.get("/api/cases", headers=bearer(token)).json()["cases"]
    case = next(c for c in cases if c["member"] == member)
    assert case["language"] == "es"
    other_member = f"member-{pseudonym_for(STACK_SECRET, 'web', other_user)[:8]}"
    other = next(c for c in cases if c["member"] == other_member)
    assert other["language"] != "es"
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", token)
        item = page.locator(f"#queue li[data-case-id='{case['id']}']")
        item.wait_for()
        assert item.locator(".badge.language").inner_text() == "Writes in Spanish"
        english = page.locator(f"#queue li[data-case-id='{other['id']}']")
        assert english.locator(".badge.language").count() == 0

        item.get_by_role("button", name=f"Open case {case['id']},").click()
        hint = page.locator("#reply-language")
        hint.wait_for()
        assert hint.inner_text() == "She writes in Spanish: reply in Spanish if you can."
        assert "Writes in Spanish" in page.locator("#case-meta").inner_text()
        # Near the reply box, and read with it.
        assert page.get_attribute("#reply-text", "aria-describedby") == "reply-language"
        hint_box, box = hint.bounding_box(), page.locator("#reply-text").bounding_box()
        assert hint_box is not None and box is not None
        assert 0 <= box["y"] - (hint_box["y"] + hint_box["height"]) < 40
        screenshot(page, "console_spanish_case", viewport)
        assert fits_the_width(page)

        # Another member's case, in English: no hint.
        page.locator("#back").click()
        page.get_by_role("button", name=f"Open case {other['id']},").first.click()
        page.wait_for_function(
            "id => document.querySelector('#case-title').textContent.startsWith(`Case ${id}:`)",
            arg=other["id"],
        )
        assert not hint.is_visible()
        assert page.get_attribute("#reply-text", "aria-describedby") is None


def _follow_ups(stack: Stack, case_id: int) -> list[tuple[str, str]]:
    """(status, scheduled_by) of the follow-ups of one case, in the stack's database."""
    from sqlalchemy import create_engine, select

    from community.models import FollowUp
    from community.settings import sync_database_url

    engine = create_engine(sync_database_url(stack.database_url))
    try:
        with engine.begin() as connection:
            rows = connection.execute(
                select(FollowUp.status, FollowUp.scheduled_by)
                .where(FollowUp.case_id == case_id)
                .order_by(FollowUp.id)
            )
            return [(str(status), str(by)) for status, by in rows.all()]
    finally:
        engine.dispose()


@viewports
def test_the_console_offers_a_check_in_by_default_on_crisis_cases_and_schedules_one(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"check-{viewport}", display_name="Bea (peer)")
    crisis = _crisis(app_client, token, "i want to kill myself tonight")
    assert crisis["follow_up_by_default"] is True
    asked = uuid.uuid4().hex
    app_client.post("/api/chat", json={"user": asked, "text": "/request_human"})
    member = f"member-{pseudonym_for(STACK_SECRET, 'web', asked)[:8]}"
    cases = app_client.get("/api/cases", headers=bearer(token)).json()["cases"]
    request = next(c for c in cases if c["member"] == member)
    assert request["follow_up_by_default"] is False
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", token)
        page.get_by_role("button", name=f"Open case {crisis['id']},").first.click()
        box = page.get_by_label("Offer her a check-in")
        page.wait_for_function("() => document.querySelector('#follow-up').checked")
        # "Check on her in 3 days", agreed with her in the conversation.
        page.click("#claim")
        page.wait_for_selector("#release:not([hidden])")
        page.fill("#check-days", "3")
        page.get_by_role("button", name="Schedule check-in").click()
        page.wait_for_function(
            "() => document.querySelector('#check-later-done').textContent.startsWith('Check-in')"
        )
        assert _follow_ups(stack, crisis["id"]) == [("scheduled", "moderator")]
        # This moderator turns the offer off before resolving: she is not asked again.
        box.uncheck()
        page.fill("#outcome", "safe")
        page.get_by_role("button", name="Resolve and return to bot").click()
        assert "check-in" not in page.locator("#resolve-confirm").inner_text()
        page.get_by_role("button", name="Yes, resolve").click()
        page.wait_for_selector("#case-view", state="hidden")
        assert _follow_ups(stack, crisis["id"]) == [("scheduled", "moderator")]

        # A request for a person: off by default; turned on, she is asked.
        page.get_by_role("button", name=f"Open case {request['id']},").first.click()
        page.wait_for_function(
            "id => document.querySelector('#case-title').textContent.startsWith(`Case ${id}:`)",
            arg=request["id"],
        )
        assert not box.is_checked()
        page.click("#claim")
        page.wait_for_selector("#release:not([hidden])")
        box.check()
        page.fill("#outcome", "talked")
        page.get_by_role("button", name="Resolve and return to bot").click()
        assert "check-in tomorrow" in page.locator("#resolve-confirm").inner_text()
        screenshot(page, "console_check_in", viewport)
        assert fits_the_width(page)
        page.get_by_role("button", name="Yes, resolve").click()
        page.wait_for_selector("#case-view", state="hidden")
        assert page.locator("#case-error").inner_text() == ""
        assert _follow_ups(stack, request["id"]) == [("offered", "member")]

        # The team's figures, counts only, as the API has them.
        stats = app_client.get("/api/stats", headers=bearer(token)).json()
        page.locator("#figures-box summary").click()
        page.locator("#figures li").first.wait_for()
        figures = page.locator("#figures").inner_text()
        offered = stats["follow_ups"]["offered_total"]
        assert offered >= 1 and f"Check-ins after a case: {offered} offered" in figures
        assert f"Cases: {stats['cases']} " in figures
        screenshot(page, "console_figures", viewport)


@viewports
def test_the_shift_toggle_and_who_carries_what(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    """#22: the console's on/off shift toggle, who is on shift, and each moderator's load."""
    name = f"Kim {viewport}"
    token = stack.add_staff(f"shift-{viewport}", display_name=name)
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", token)
        toggle = page.locator("#shift-toggle")
        page.wait_for_function("() => document.querySelector('#shift-status').textContent")
        assert toggle.get_attribute("aria-pressed") == "false"
        assert "You're off shift." in page.locator("#shift-status").inner_text()
        page.get_by_role("button", name="Go on shift").click()
        page.get_by_role("button", name="Go off shift").wait_for()
        assert toggle.get_attribute("aria-pressed") == "true"
        status = page.locator("#shift-status").inner_text()
        assert status.startswith("You're on shift") and name in status
        assert app_client.get("/api/shifts", headers=bearer(token)).json()["me"] is True
        page.locator("#load-box summary").click()
        page.get_by_text(f"{name} (on shift): 0 open now").wait_for()
        screenshot(page, "console_shift", viewport)
        assert fits_the_width(page)
        page.get_by_role("button", name="Go off shift").click()
        page.get_by_role("button", name="Go on shift").wait_for()
        assert app_client.get("/api/shifts", headers=bearer(token)).json()["me"] is False
