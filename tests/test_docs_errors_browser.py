"""/docs and the error pages in Chromium, on a phone and a desktop, through `peerbot run`:
Swagger UI renders under the strict CSP (nothing refused), and a missing page is a kind page,
not JSON. Screenshots: var/reports/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser_pages import browser_page, screenshot, viewports
from tests.conftest import Stack

pytestmark = pytest.mark.rasa


@viewports
def test_docs_render_under_the_csp(stack: Stack, viewport: str) -> None:
    with browser_page(viewport, stack.app_url) as page:
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text)
                if "Content Security Policy" in message.text or message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: refused.append(str(error)))
        page.on(
            "response",
            lambda response: (
                refused.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.goto(f"{stack.app_url}/docs")
        page.locator(".swagger-ui .info .title", has_text="peerbot").wait_for(timeout=15000)
        page.locator(".opblock-summary-path", has_text="/api/chat").first.wait_for()
        screenshot(page, "docs", viewport)
        assert refused == []


@viewports
def test_a_missing_page_is_a_kind_page(stack: Stack, viewport: str) -> None:
    with browser_page(viewport, stack.app_url) as page:
        response = page.goto(f"{stack.app_url}/no-such-page")
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "We could not find that page"
        assert page.get_by_role("link", name="Go to the chat").is_visible()
        assert "detail" not in page.content()
        screenshot(page, "error_404", viewport)
