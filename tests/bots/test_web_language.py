"""The web chat in English and Spanish, server side: the browser's language read from its
`Accept-Language` header (the page starts in it, and it is her language hint for the gateway),
every word of the page in both languages from one data file, and each reply's language in what
the chat API returns. The page itself is driven in Chromium in tests/test_web_chat_browser.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bots.web.app import WEB_PLATFORM
from bots.web.page_words import (
    chat_words,
    page_language,
    preferred_language_tag,
    render_chat_page,
)
from community.members import resolve_member
from community.models import Member, OutboxMessage
from community.settings import PROJECT_ROOT, Settings
from peerbot.app import create_app
from tests.bots.app_harness import heard_by_gateway

TEMPLATE = (PROJECT_ROOT / "bots" / "web" / "static" / "chat.html").read_text(encoding="utf-8")
SPANISH_BROWSER = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.8"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("header", "tag", "language"),
    [
        ("es-ES,es;q=0.9,en;q=0.8", "es-ES", "es"),
        ("es-419", "es-419", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en-US", "en"),
        ("en;q=0.5, es-MX;q=0.9", "es-MX", "es"),  # by quality, not order
        ("fr-CA,fr;q=0.9", "fr-CA", "en"),  # neither: English
        ("*", None, "en"),
        ("es;q=0, en", "en", "en"),  # q=0 means "not this one"
        ("<script>,es-ES", "es-ES", "es"),  # malformed tags are skipped, never kept
        ("", None, "en"),
        (None, None, "en"),
    ],
)
def test_the_browsers_language_is_read_from_accept_language(
    header: str | None, tag: str | None, language: str
) -> None:
    assert preferred_language_tag(header) == tag
    assert page_language(tag) == language


def test_every_word_of_the_page_is_in_both_languages() -> None:
    words = chat_words()
    assert set(words) == {"en", "es"} and set(words["en"]) == set(words["es"])
    used = set(re.findall(r"\{\{t:([a-z_]+)\}\}", TEMPLATE))
    used |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([a-z_]+)"', TEMPLATE))
    assert used <= set(words["en"])  # every key the page uses is in the file
    # Words chat.js sets itself are there too.
    assert {"welcome", "send_failed", "forget_confirm_open"} <= set(words["es"])
    for key in words["en"]:
        assert words["es"][key] != words["en"][key], key  # none left in English
    assert words["en"]["welcome"].startswith("Hi, welcome. I'm peerbot")  # bots/wording.py
    assert words["es"]["welcome"].startswith("Hola, bienvenida. Soy peerbot")


def test_the_page_starts_in_the_browsers_language(client: TestClient) -> None:
    spanish = client.get("/", headers=SPANISH_BROWSER)
    assert spanish.status_code == 200 and "Accept-Language" in spanish.headers["vary"]
    page = spanish.text
    assert '<html lang="es">' in page and "{{" not in page
    assert '<title data-i18n="title">peerbot · chat de la comunidad</title>' in page
    assert 'placeholder="Escribe un mensaje…"' in page
    assert 'aria-label="Conversación"' in page
    assert '<a href="tel:988" aria-label="llamar al 988">llama</a>' in page
    assert "Hola, bienvenida. Soy peerbot" in page  # her first line, in Spanish
    # Both languages are embedded for switching, as data the strict CSP lets the script read.
    embedded = re.search(
        r'<script type="application/json" id="chat-words">(.*?)</script>', page, re.S
    )
    assert embedded is not None
    assert json.loads(embedded.group(1))["en"]["send"] == "Send"
    # The switch names each language in its own words.
    assert 'data-language="es" lang="es">Español</button>' in page

    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert '<html lang="en">' in english and "Community chat" in english
    assert 'placeholder="Type a message…"' in english
    assert '<html lang="en">' in client.get("/").text  # no header: English


def test_no_word_in_the_file_can_break_out_of_the_page() -> None:
    page = render_chat_page(TEMPLATE + "{{words}}", "en")
    # Embedded words cannot close the script element, whatever they say.
    assert "</script>" not in page.split('id="chat-words">', 1)[1].split("</script>", 1)[0]


def test_her_browsers_language_is_the_hint_and_each_reply_says_its_language(
    client: TestClient,
) -> None:
    heard = heard_by_gateway(client.app)  # type: ignore[arg-type]
    user = "language-web-user-0001"
    replies = client.post(
        "/api/chat", json={"user": user, "text": "hola"}, headers=SPANISH_BROWSER
    ).json()["replies"]
    assert replies and all(r["language"] in ("en", "es") for r in replies)
    client.post("/api/chat", json={"user": user, "text": "/language es"}, headers=SPANISH_BROWSER)
    client.post("/api/chat", json={"user": "language-web-user-0002", "text": "hi"})
    assert [(m.text, m.language_hint) for m in heard] == [
        ("hola", "es-ES"),
        ("/language es", "es-ES"),
        ("hi", None),
    ]


def test_later_messages_are_said_in_her_language(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    user = "language-web-user-0003"

    async def waiting_for_her(text: str, language: str | None) -> None:
        """A message from the team waits in her outbox; her language as the gateway keeps it."""
        async with services.database.transaction() as session:
            member = await resolve_member(session, services.pseudonym_key, WEB_PLATFORM, user)
            await session.execute(
                update(Member).where(Member.id == member.id).values(language=language)
            )
            session.add(OutboxMessage(member_id=member.id, platform=WEB_PLATFORM, text=text))

    assert client.portal is not None
    client.portal.call(waiting_for_her, "Hi, I'm Ana.", None)
    later = client.get(f"/api/chat/{user}/messages").json()["messages"]
    assert [(m["text"], m["language"]) for m in later] == [("Hi, I'm Ana.", None)]  # not known
    client.portal.call(waiting_for_her, "Soy Ana, aquí estoy.", "es")
    later = client.get(f"/api/chat/{user}/messages").json()["messages"]
    assert [(m["text"], m["language"]) for m in later] == [("Soy Ana, aquí estoy.", "es")]
