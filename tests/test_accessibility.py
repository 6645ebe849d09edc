"""An automated accessibility check: axe-core (the copy pinned in the lock, shipped by
axe-playwright-python) run inside the page in Chromium, on the mothers' chat, the console
(signed in, with a case open) and the research page (signed in, reading answers), on a phone
and a desktop. No serious or critical violation may be left. Screenshots as checked are kept
under var/reports/screenshots/; the full findings go to var/reports/accessibility/."""

from __future__ import annotations

import json
import uuid
from importlib import resources
from typing import Any

import httpx
import pytest

from community.settings import PROJECT_ROOT
from tests.browser_pages import browser_page, screenshot, sign_in, viewports
from tests.conftest import Stack
from tests.test_handoff_stack import wait_for_case

pytestmark = pytest.mark.rasa

REPORTS = PROJECT_ROOT / "var" / "reports" / "accessibility"
BLOCKING = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
  }));
}"""


def _axe_source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def _check(page: Any, name: str, viewport: str) -> list[dict[str, Any]]:
    """Run axe in the page (evaluated by the browser's own debugger channel, so the page's
    CSP, which allows no injected script, stays as it is); return the blocking violations."""
    page.evaluate(_axe_source())
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}-{viewport}.json").write_text(json.dumps(found, indent=2))
    screenshot(page, f"a11y_{name}", viewport)
    return [v for v in found if v["impact"] in BLOCKING]


@viewports
def test_the_mothers_chat_has_no_serious_violation(stack: Stack, viewport: str) -> None:
    with browser_page(viewport, stack.app_url) as page:
        page.goto(f"{stack.app_url}/")
        page.fill("textarea", "hi")
        page.keyboard.press("Enter")
        page.locator(".log li").nth(1).wait_for()
        assert _check(page, "chat", viewport) == []


@viewports
def test_the_console_with_a_case_open_has_no_serious_violation(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"a11y-mod-{viewport}", display_name="Ari")
    trigger = f"i want to kill myself tonight ({uuid.uuid4().hex[:6]})"
    app_client.post("/api/chat", json={"user": uuid.uuid4().hex, "text": trigger})
    case = wait_for_case(app_client, token, trigger, within=5.0)
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", token)
        page.locator(f"#queue li[data-case-id='{case['id']}'] button").click()
        page.click("#claim")
        page.wait_for_selector("#release:not([hidden])")
        page.locator("#transcript li").first.wait_for()
        assert _check(page, "console", viewport) == []


@viewports
def test_the_research_page_has_no_serious_violation(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    token = stack.add_staff(f"a11y-rae-{viewport}", "researcher")
    app_client.post(
        "/api/research/questions",
        headers={"Authorization": f"Bearer {token}"},
        json={"text": "What would make a study feel safe to join?"},
    )
    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/research", token)
        page.locator("#questions li").first.wait_for()
        assert _check(page, "research", viewport) == []


def test_the_check_finds_what_it_should(stack: Stack) -> None:
    """The check can fail: an unlabelled field and pale text added to a page are reported."""
    with browser_page("phone", stack.app_url) as page:
        page.goto(f"{stack.app_url}/no-such-page")
        page.evaluate(
            """() => {
              const field = document.createElement("input");
              const pale = document.createElement("p");
              pale.textContent = "pale words";
              pale.style.color = "#eeeeee";
              document.querySelector("main").append(field, pale);
            }"""
        )
        found = {v["id"] for v in _check(page, "self_test", "phone")}
        assert {"label", "color-contrast"} <= found
