"""The Spanish version of a research question in Chromium, through `peerbot run`, on a phone
and a desktop: a moderator adds it in the console's review form (which asks for the context in
Spanish too), and the researcher's page shows it and notes that an answer was written in
Spanish. Screenshots: var/reports/screenshots/."""

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
def test_a_moderator_adds_the_spanish_version_in_the_review_form(
    stack: Stack, app_client: httpx.Client, viewport: str
) -> None:
    mark = f"es{uuid.uuid4().hex[:8]}"  # letters first: eight digits alone would be de-identified
    researcher = stack.add_staff(f"rae-es-{viewport}", "researcher")
    asker = {"Authorization": f"Bearer {researcher}"}
    moderator = stack.add_staff(f"mod-es-{viewport}")
    staff = {"Authorization": f"Bearer {moderator}"}
    mom = f"es-mom-{uuid.uuid4().hex}"
    _say(app_client, mom, "/optin_questions")
    qid = app_client.post(
        "/api/research/questions",
        headers=asker,
        json={"text": f"What helps you rest? ({mark})", "context": "A study on sleep."},
    ).json()["id"]

    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/moderate", moderator)
        # Its words are in the form's fields (not the item's text): found by its number.
        item = page.locator("#review-questions li", has_text=f"Question #{qid} from")
        item.wait_for()
        item.get_by_label(f"Question #{qid} in Spanish").fill(
            f"¿Qué te ayuda a descansar? ({mark})"
        )
        item.get_by_role("button", name="Approve", exact=True).click()
        page.locator("#review-error", has_text="context in Spanish").wait_for()
        item.get_by_label("Its context in Spanish").fill("Un estudio sobre el sueño.")
        screenshot(page, "research_review_spanish", viewport)
        assert fits_the_width(page)
        item.get_by_role("button", name="Approve", exact=True).click()
        item.wait_for(state="detached")

    approved = app_client.get("/api/review/questions?status=approved", headers=staff).json()
    [question] = [q for q in approved["questions"] if q["id"] == qid]
    assert question["text_es"] == f"¿Qué te ayuda a descansar? ({mark})"
    assert question["context_es"] == "Un estudio sobre el sueño."

    app_client.post(f"/api/research/questions/{qid}/publish", headers=staff, json={})
    deadline = time.monotonic() + 30
    while not app_client.get(f"/api/chat/{mom}/messages").json()["messages"]:
        assert time.monotonic() < deadline, "the question never reached her"
        time.sleep(0.3)
    _say(app_client, mom, f"/answer_{qid}")
    _say(app_client, mom, f"/consent_{qid}")
    _say(app_client, mom, f"Me ayuda dormir cuando el bebé duerme, de verdad. {mark}")

    with browser_page(viewport, stack.app_url) as page:
        sign_in(page, f"{stack.app_url}/research", researcher)
        mine = page.locator(f"#questions li[data-question-id='{qid}']")
        mine.wait_for()
        assert "In Spanish, for moms who read Spanish" in mine.inner_text()
        assert f"¿Qué te ayuda a descansar? ({mark})" in mine.inner_text()
        mine.get_by_role("button", name="Read the 1 answer").click()
        answer = mine.locator("ol.answers li", has_text=mark)
        answer.wait_for()
        assert "written in Spanish" in answer.inner_text()
        screenshot(page, "research_answer_spanish", viewport)
        assert fits_the_width(page)
