"""The mothers' web chat as people use it, in headless Chromium on a phone (390x844) and a desktop
(1280x800), against the real stack (`peerbot run`: Rasa, actions, app): a welcome line, the
conversation kept over a reload (this tab only), the newest reply whole above the message box,
directory numbers as tel:/sms: links, the crisis reply urgent for screen readers, a typing
indicator, "Forget this chat" asking first (and saying when a person is with her), a
moderator's reply pushed by the event stream, with a poll only when the stream is down, and the
page in Spanish: in a Spanish browser, when a reply comes in Spanish, and by her choice.

Each test saves a screenshot to var/reports/screenshots/<test>-<viewport>.png."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from community.settings import PROJECT_ROOT
from tests.conftest import CHROMIUM_ARGS, Stack, chromium_or_skip
from tests.test_handoff_stack import bearer, wait_for_case

STACK_SECRET = b"stack-test-secret-key-0123456789abcdef"  # launch_stack's

pytestmark = pytest.mark.rasa

SCREENSHOTS = PROJECT_ROOT / "var" / "reports" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
OVERDOSE = "I took too many pills"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Any, viewport: str, stack: Stack) -> Iterator[Any]:
    """A fresh tab (its own storage) at the chat page, on the viewport under test."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=stack.app_url)
    tab = context.new_page()
    tab.goto("/")
    tab.wait_for_selector("#log li")
    try:
        yield tab
    finally:
        context.close()


def shot(page: Any, request: pytest.FixtureRequest, viewport: str, step: str = "") -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.originalname + (f"-{step}" if step else "") + f"-{viewport}.png"
    page.screenshot(path=str(SCREENSHOTS / name))


def say(page: Any, text: str, replies: int = 1) -> Any:
    """Type and send `text`; wait until `replies` more bubbles than hers have come; the last."""
    before = page.locator("#log li").count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#log li').length >= n", arg=before + 1 + replies
    )
    return page.locator("#log li").last


def assert_whole_above_the_box(page: Any, item: Any) -> None:
    """Top to last line (and buttons) inside the conversation's visible area, above the box."""
    box = item.bounding_box()
    log = page.locator("#log").bounding_box()
    composer = page.locator("#composer").bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and log is not None and composer is not None
    bottom = box["y"] + box["height"]
    assert box["y"] >= log["y"] - 1, (box, log)
    assert bottom <= log["y"] + log["height"] + 1, (box, log)
    assert bottom <= composer["y"] + 1, (box, composer)
    assert composer["y"] + composer["height"] <= height + 1, (composer, height)


def chat_id(page: Any) -> str:
    return str(page.evaluate("localStorage.getItem('peerbot-chat-id')"))


def test_welcome_on_first_visit_and_the_conversation_survives_a_reload(
    page: Any, browser: Any, stack: Stack, viewport: str, request: pytest.FixtureRequest
) -> None:
    first = page.locator("#log li").first
    assert "Hi, welcome" in first.inner_text()
    assert "peerbot" in first.locator(".who").inner_text()
    greeting = say(page, "hi")
    assert "I'm peerbot" in greeting.inner_text()
    before = page.locator("#log li").all_inner_texts()

    page.reload()
    page.wait_for_selector("#log li")
    assert page.locator("#log li").all_inner_texts() == before
    assert sum("Hi, welcome" in t for t in before) == 1
    # Kept in this tab's session storage only: the id stays on the device, the words do not.
    assert "I'm peerbot" in page.evaluate("sessionStorage.getItem('peerbot-chat-log')")
    local = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert "I'm peerbot" not in local and "hi" not in local.replace("peerbot-chat-id", "")
    # The buttons of a kept reply still work after the reload.
    assert page.locator("#log li").last.get_by_role("button").count() >= 1
    assert_whole_above_the_box(page, page.locator("#log li").last)
    shot(page, request, viewport)

    # Another tab is another session: a fresh welcome, nothing of hers.
    other = browser.new_context(viewport=VIEWPORTS[viewport], base_url=stack.app_url)
    try:
        tab = other.new_page()
        tab.goto("/")
        tab.wait_for_selector("#log li")
        assert tab.locator("#log li").count() == 1
    finally:
        other.close()


def test_crisis_reply_is_urgent_per_person_linked_and_whole_above_the_box(
    page: Any, viewport: str, request: pytest.FixtureRequest
) -> None:
    for _ in range(3):  # a conversation long enough to scroll
        say(page, "hi")
    crisis = say(page, OVERDOSE)
    assert crisis.get_attribute("role") == "alert"
    assert "crisis" in (crisis.get_attribute("class") or "")
    assert page.locator("#log li[role=alert]").count() == 1
    text = crisis.inner_text()
    her_line = next(line for line in text.splitlines() if line.startswith("If it's you"))
    assert "on their side" not in her_line
    assert "If it's someone with you" in text
    # Styled apart from an everyday reply.
    normal = page.locator("#log li.bot:not(.crisis)").last
    style = "el => getComputedStyle(el).backgroundColor + getComputedStyle(el).borderLeftWidth"
    assert crisis.evaluate(style) != normal.evaluate(style)
    # The directory's numbers are links, built as elements (no markup from the text).
    hrefs = crisis.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"tel:911", "tel:988", "sms:988", "tel:18002221222"} <= set(hrefs)
    assert crisis.locator("a[href='tel:988']").first.inner_text() == "988"
    # Its last line (a person is being told) is on screen above the message box.
    assert "letting a person" in text.splitlines()[-1]
    assert_whole_above_the_box(page, crisis)
    shot(page, request, viewport)


def test_the_newest_reply_and_its_buttons_stay_above_the_box(
    page: Any, viewport: str, request: pytest.FixtureRequest
) -> None:
    for _ in range(5):
        reply = say(page, "hi")
        assert_whole_above_the_box(page, reply)
    buttons = reply.get_by_role("button")
    assert buttons.count() >= 2
    assert_whole_above_the_box(page, buttons.last)
    assert buttons.last.is_visible()
    shot(page, request, viewport)


def test_typing_indicator_while_the_bot_works(
    page: Any, viewport: str, request: pytest.FixtureRequest
) -> None:
    held: list[Any] = []
    page.route("**/api/chat", lambda route: held.append(route))
    page.fill("#message", "hi")
    page.press("#message", "Enter")
    typing = page.locator("#typing")
    typing.wait_for(state="visible", timeout=2000)
    assert "writing" in typing.inner_text()
    # Just under the conversation, above the message box, on screen.
    box, composer = typing.bounding_box(), page.locator("#composer").bounding_box()
    assert box is not None and composer is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= composer["y"] + 1
    shot(page, request, viewport)
    assert len(held) == 1
    held[0].continue_()
    typing.wait_for(state="hidden", timeout=5000)
    assert "I'm peerbot" in page.locator("#log li").last.inner_text()


def test_forget_asks_first_and_says_when_a_person_is_with_her(
    page: Any,
    stack: Stack,
    app_client: httpx.Client,
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    say(page, "hi")
    dialog = page.locator("#forget-dialog")
    page.click("#forget")
    dialog.wait_for(state="visible")
    assert "starts a new chat" in dialog.inner_text()
    assert "person from our team" not in dialog.inner_text()
    page.click("#forget-keep")  # changed her mind: nothing lost
    assert not dialog.is_visible()
    assert page.locator("#log li").count() == 3

    token = stack.add_staff(f"mod-{uuid.uuid4().hex[:8]}", display_name="Dee")
    trigger = f"{OVERDOSE} {uuid.uuid4().hex[:6]}"
    say(page, trigger)
    case = wait_for_case(app_client, token, trigger, within=5.0)
    page.click("#forget")
    dialog.wait_for(state="visible")
    assert "on their way" in dialog.inner_text()
    assert page.locator("#forget-confirm").inner_text() == "Forget it anyway"
    shot(page, request, viewport, "waiting")
    page.click("#forget-keep")

    claimed = app_client.post(f"/api/cases/{case['id']}/claim", headers=bearer(token))
    assert claimed.status_code == 200
    page.click("#forget")
    dialog.wait_for(state="visible")
    assert "with you in this chat right now" in dialog.inner_text()
    assert "call or text 988" in dialog.inner_text()
    shot(page, request, viewport, "claimed")
    old_id = chat_id(page)
    page.click("#forget-confirm")
    assert not dialog.is_visible()
    # Forgotten: a new chat (new id, only the welcome), nothing of hers kept in the tab.
    assert chat_id(page) != old_id
    assert page.locator("#log li").count() == 1
    assert trigger not in (page.evaluate("sessionStorage.getItem('peerbot-chat-log')") or "")


def _moderator_reply(app_client: httpx.Client, token: str, case_id: int, text: str) -> float:
    sent = app_client.post(
        f"/api/cases/{case_id}/messages", json={"text": text}, headers=bearer(token)
    )
    assert sent.status_code == 200
    return time.monotonic()


def _open_claimed_case(
    page: Any, stack: Stack, app_client: httpx.Client, trigger: str
) -> tuple[str, int]:
    token = stack.add_staff(f"mod-{uuid.uuid4().hex[:8]}", display_name="Sam (peer)")
    say(page, trigger)
    case = wait_for_case(app_client, token, trigger, within=5.0)
    assert (
        app_client.post(f"/api/cases/{case['id']}/claim", headers=bearer(token)).status_code == 200
    )
    # She is told who joined (pushed or polled) before anything else happens.
    page.locator("#log li", has_text="has joined the chat").wait_for(timeout=8000)
    return token, int(str(case["id"]))


def test_a_moderators_reply_is_pushed_by_the_stream_within_two_seconds(
    page: Any,
    stack: Stack,
    app_client: httpx.Client,
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    trigger = f"i want to end my life {uuid.uuid4().hex[:6]}"
    token, case_id = _open_claimed_case(page, stack, app_client, trigger)
    page.wait_for_function("document.body.dataset.updates === 'stream'", timeout=5000)
    fetched: list[float] = []
    page.on(
        "request",
        lambda r: fetched.append(time.monotonic()) if r.url.endswith("/messages") else None,
    )
    time.sleep(3.5)  # longer than the old 3 s poll: nothing is fetched while nothing waits
    assert fetched == []

    sent_at = _moderator_reply(app_client, token, case_id, "Hi, I'm Sam. I'm here with you.")
    human = page.locator("#log li.human")
    human.wait_for(timeout=2000)
    arrived = time.monotonic() - sent_at
    assert arrived < 2.0, arrived
    assert "Sam (peer)" in human.inner_text() and "I'm here with you" in human.inner_text()
    assert len(fetched) == 1 and fetched[0] >= sent_at  # fetched once, when the stream said so
    assert page.evaluate("document.body.dataset.updates") == "stream"
    assert_whole_above_the_box(page, human)
    shot(page, request, viewport)


def test_when_the_stream_is_down_the_page_polls(
    browser: Any,
    stack: Stack,
    app_client: httpx.Client,
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=stack.app_url)
    try:
        tab = context.new_page()
        tab.route("**/events", lambda route: route.abort())
        tab.goto("/")
        tab.wait_for_selector("#log li")
        trigger = f"i want to end my life {uuid.uuid4().hex[:6]}"
        token, case_id = _open_claimed_case(tab, stack, app_client, trigger)
        tab.wait_for_function("document.body.dataset.updates === 'polling'", timeout=5000)
        _moderator_reply(app_client, token, case_id, "Still here with you.")
        tab.locator("#log li.human").wait_for(timeout=5000)
        assert "Still here with you." in tab.locator("#log li.human").inner_text()
        shot(tab, request, viewport)
    finally:
        context.close()


def test_while_she_waits_she_can_cancel_and_still_gets_answers_then_hears_who_joined(
    page: Any,
    stack: Stack,
    app_client: httpx.Client,
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    """Her request by mistake is cancelled with the button; asked again, the bot still answers
    her (marked) while she waits; then she reads who joined."""
    asked = say(page, "can i talk to a real person please")
    cancel = asked.get_by_role("button", name="Never mind, cancel")
    cancel.wait_for()
    cancel.click()
    page.locator("#log li", has_text="cancelled your request").wait_for(timeout=8000)
    shot(page, request, viewport, "cancelled")

    token = stack.add_staff(f"mod-{uuid.uuid4().hex[:8]}", display_name="Rae")
    say(page, "i need to talk to someone from the team")
    answer = say(page, "where do i get narcan")
    assert "while you wait" in answer.inner_text() and "Naloxone" in answer.inner_text()
    assert_whole_above_the_box(page, answer)
    # Her own case (the shared stack has others): found by her code name.
    from community.members import pseudonym_for

    member = f"member-{pseudonym_for(STACK_SECRET, 'web', chat_id(page))[:8]}"
    deadline = time.monotonic() + 5
    while True:
        cases = app_client.get("/api/cases", headers=bearer(token)).json()["cases"]
        mine = [c for c in cases if c["member"] == member and c["status"] == "waiting"]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert mine, member
    claimed = app_client.post(f"/api/cases/{mine[0]['id']}/claim", headers=bearer(token))
    assert claimed.is_success
    joined = page.locator("#log li", has_text="Rae (peer support team) has joined the chat")
    joined.wait_for(timeout=8000)
    shot(page, request, viewport, "joined")


def _spanish_tab(browser: Any, stack: Stack, viewport: str) -> Any:
    """A browser set to Spanish (Spain): Accept-Language and navigator.language say es-ES."""
    return browser.new_context(viewport=VIEWPORTS[viewport], base_url=stack.app_url, locale="es-ES")


def _posted_texts(page: Any) -> list[str]:
    """What the page sends to POST /api/chat from now on (the text of each message)."""
    sent: list[str] = []

    def record(request: Any) -> None:
        if request.url.endswith("/api/chat") and request.method == "POST":
            sent.append(str(request.post_data_json["text"]))

    page.on("request", record)
    return sent


def test_a_spanish_browser_gets_the_page_in_spanish_and_can_choose_english(
    browser: Any, stack: Stack, viewport: str, request: pytest.FixtureRequest
) -> None:
    context = _spanish_tab(browser, stack, viewport)
    try:
        tab = context.new_page()
        tab.goto("/")
        tab.wait_for_selector("#log li")
        assert tab.evaluate("document.documentElement.lang") == "es"
        assert tab.title() == "peerbot · chat de la comunidad"
        assert tab.locator("h1").inner_text() == "Chat de la comunidad"
        assert "Hola, bienvenida" in tab.locator("#log li").first.inner_text()
        assert tab.locator("#log li").first.get_attribute("lang") == "es"
        assert tab.get_attribute("#message", "placeholder") == "Escribe un mensaje…"
        assert tab.locator("#composer button[type=submit]").inner_text() == "Enviar"
        assert tab.get_attribute("#log", "aria-label") == "Conversación"
        assert "no es un servicio de emergencias" in tab.locator(".note").inner_text().lower()
        assert tab.get_attribute(".note a[href='tel:988']", "aria-label") == "llamar al 988"
        spanish = tab.get_by_role("button", name="Español")
        assert spanish.get_attribute("aria-pressed") == "true"
        assert spanish.get_attribute("lang") == "es"
        # The dialog and its buttons are in Spanish too.
        tab.click("#forget")
        dialog = tab.locator("#forget-dialog")
        dialog.wait_for(state="visible")
        assert "¿Olvidar este chat?" in dialog.inner_text()
        assert "empieza un chat nuevo" in dialog.inner_text()
        assert tab.locator("#forget-confirm").inner_text() == "Olvidarlo"
        assert tab.locator("#forget-keep").inner_text() == "Conservar este chat"
        shot(tab, request, viewport, "spanish")
        tab.click("#forget-keep")

        # Her choice: the page switches at once and tells the bot.
        sent = _posted_texts(tab)
        before = tab.locator("#log li").count()
        tab.get_by_role("button", name="English").click()
        assert tab.evaluate("document.documentElement.lang") == "en"
        assert tab.locator("h1").inner_text() == "Community chat"
        assert tab.get_attribute("#message", "placeholder") == "Type a message…"
        assert tab.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"
        tab.wait_for_function(
            "n => document.querySelectorAll('#log li').length >= n", arg=before + 2
        )
        assert sent == ["/language en"]
        assert tab.locator("#log li.me").last.inner_text() == "English"
        shot(tab, request, viewport, "chose-english")
    finally:
        context.close()


def test_the_page_follows_a_reply_in_spanish(
    page: Any, viewport: str, request: pytest.FixtureRequest
) -> None:
    """A crisis in Spanish is answered in Spanish by the crisis screen: the page takes the
    language the reply says it is written in (the API's `language`)."""
    assert page.evaluate("document.documentElement.lang") == "en"
    with page.expect_response("**/api/chat") as answered:
        crisis = say(page, "ya no quiero vivir")
    reply = answered.value.json()["replies"][0]
    assert reply["urgent"] and "988" in reply["text"]
    assert crisis.get_attribute("lang") == reply["language"]
    assert page.evaluate("document.documentElement.lang") == reply["language"]

    # Whatever came in Spanish (here a reply as the API gives it, held to the same shape),
    # the page's own words follow it, stay after a reload, and a forgotten chat starts over in
    # Spanish.
    spanish_reply = {
        "replies": [{"text": "Aquí estoy contigo.", "buttons": [], "sender_name": None,
                     "urgent": False, "links": [], "language": "es"}]
    }  # fmt: skip
    page.route("**/api/chat", lambda route: route.fulfill(json=spanish_reply))
    answer = say(page, "hola")
    assert answer.get_attribute("lang") == "es"
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator("h1").inner_text() == "Chat de la comunidad"
    assert page.get_attribute("#message", "placeholder") == "Escribe un mensaje…"
    assert page.get_by_role("button", name="Español").get_attribute("aria-pressed") == "true"
    assert page.get_attribute("#log", "aria-label") == "Conversación"
    shot(page, request, viewport)
    page.unroute("**/api/chat")
    page.reload()
    page.wait_for_selector("#log li")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator("h1").inner_text() == "Chat de la comunidad"
    page.click("#forget")
    page.locator("#forget-dialog").wait_for(state="visible")
    page.click("#forget-confirm")
    assert page.locator("#log li").count() == 1
    assert "Hola, bienvenida" in page.locator("#log li").first.inner_text()
