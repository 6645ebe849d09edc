"""Helpers for the staff pages' browser tests: the two viewports, a Chromium context that
records notifications and sounds, signing in, and screenshots kept under
var/reports/screenshots/ (named by test and viewport) for anyone to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from community.settings import PROJECT_ROOT
from tests.conftest import CHROMIUM_ARGS, chromium_or_skip

if TYPE_CHECKING:
    from playwright.sync_api import Page

SCREENSHOTS = PROJECT_ROOT / "var" / "reports" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
viewports = pytest.mark.parametrize("viewport", list(VIEWPORTS))

# Runs in the page before its own scripts: every Notification and every tone started is
# recorded, so a test can assert that a new case raised one (the permission is granted by the
# context, as a moderator's "Allow" would).
RECORD_ALERTS = """
window.__notifications = [];
window.__tones = 0;
(() => {
  const Real = window.Notification;
  class Recorded {
    constructor(title, options) {
      window.__notifications.push({ title, body: (options || {}).body || "" });
      try { return new Real(title, options); } catch (error) { return this; }
    }
    static get permission() { return Real ? Real.permission : "granted"; }
    static requestPermission() {
      return Real ? Real.requestPermission() : Promise.resolve("granted");
    }
  }
  window.Notification = Recorded;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
})();
"""


@contextmanager
def browser_page(viewport: str, app_url: str) -> Iterator[Page]:
    """A fresh Chromium page at the viewport, with notifications allowed and recorded."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            context = browser.new_context(viewport=VIEWPORTS[viewport])  # type: ignore[arg-type]
            context.grant_permissions(["notifications"], origin=app_url)
            context.add_init_script(RECORD_ALERTS)
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page: Page, test: str, viewport: str, step: str = "") -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = "-".join(part for part in (test, viewport, step) if part)
    page.screenshot(
        path=str(SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]', '_', name)}.png"), full_page=True
    )


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(url)
    page.fill("#token", token)
    page.click("#signin button[type=submit]")


def recorded(page: Page, what: str) -> Any:
    return page.evaluate(f"window.{what}")


def fits_the_width(page: Page) -> bool:
    """Nothing wider than the viewport: no sideways scrolling on a phone."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
