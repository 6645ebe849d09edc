"""The web adapter's HTTP contract, through the real FastAPI app and its lifespan."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from community.settings import Settings
from peerbot.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_chat_page_is_served_with_strict_security_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "Community chat" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/static/chat.js").status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),  # not a browser (curl, the Telegram webhook): bearer tokens protect it
        ({"Origin": "http://testserver"}, 200),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}, 200),
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "http://testserver.evil.example"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"}, 403),
    ],
)
def test_cross_site_writes_are_refused_before_any_work(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    response = client.post(
        "/api/chat", json={"user": "csrf-web-user-0001", "text": "hi"}, headers=headers
    )
    assert response.status_code == status
    if status == 403:
        assert response.headers["x-frame-options"] == "DENY"
        # Nothing was taken in: she has no messages waiting and no member row was made for it.
        assert client.get("/api/chat/csrf-web-user-0001/messages").json()["messages"] == []
    # Reading is never refused (the pages load their scripts with no Origin check).
    assert client.get("/healthz", headers=headers).status_code == 200


def test_health_is_200_and_says_rasa_is_down(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["components"] == {
        "app": "up",
        "database": "up",
        "rasa": "down",
        "scheduler": "up",
    }


def test_chat_with_rasa_down_names_core_resources(client: TestClient) -> None:
    body = client.post("/api/chat", json={"user": "abc-web-user-0001", "text": "hi"}).json()
    text = body["replies"][0]["text"]
    assert "988" in text and "1-800-662-4357" in text and "findtreatment.gov" in text


@pytest.mark.parametrize(
    "payload",
    [
        {"user": "", "text": "hi"},
        {"user": "a b", "text": "hi"},
        {"text": "hi"},
        {"user": "x" * 200},
    ],
)
def test_bad_chat_requests_are_refused_cleanly(client: TestClient, payload: object) -> None:
    assert client.post("/api/chat", json=payload).status_code == 422


def test_malformed_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_oversized_body_gets_a_kind_413(client: TestClient) -> None:
    response = client.post("/api/chat", json={"user": "abc-web-user-0001", "text": "x" * 300_000})
    assert response.status_code == 413
    assert "shorten" in response.json()["detail"]


def test_a_chunked_body_is_counted_as_it_arrives(client: TestClient) -> None:
    """No Content-Length to check first: the body is refused once it passes the limit, with the
    same kind words, never read whole into memory."""

    def pieces() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 10_000

    response = client.post(
        "/api/chat", content=pieces(), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413 and "shorten" in response.json()["detail"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_too_many_or_too_large_headers_are_refused(client: TestClient) -> None:
    body = {"user": "abc-web-user-0001", "text": "hi"}
    many = {f"x-header-{n}": "v" for n in range(150)}
    assert client.post("/api/chat", json=body, headers=many).status_code == 431
    large = {"x-large": "v" * 40_000}
    assert client.post("/api/chat", json=body, headers=large).status_code == 431


def test_odd_inputs_that_were_500s_are_refused_cleanly(client: TestClient) -> None:
    nan = client.post(
        "/api/chat", content=b'{"user": "abc-web-user-0001", "text": NaN}',
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert nan.status_code == 422 and "NaN" not in nan.text
    secret = "i want to die, my name is Rosa"
    echoed = client.post("/api/chat", json={"user": "a b", "text": secret})
    assert echoed.status_code == 422 and "Rosa" not in echoed.text  # errors never echo her words
    origin = client.post(
        "/api/chat",
        json={"user": "abc-web-user-0001", "text": "hi"},
        headers={"Origin": "http://[::1"},
    )
    assert origin.status_code == 403


def test_later_messages_for_an_unknown_user_are_empty(client: TestClient) -> None:
    assert client.get("/api/chat/nobody-0000000000/messages").json() == {
        "messages": [],
        "case": None,
    }
    assert client.get("/api/chat/bad%20id/messages").status_code == 422
    # A guessable id is refused: anyone could read that chat's later messages.
    assert client.get("/api/chat/nobody/messages").status_code == 422
    short = client.post("/api/chat", json={"user": "a", "text": "hi"})
    assert short.status_code == 422


def test_an_unsure_message_is_asked_about_and_each_button_answers(
    unsure_settings: Settings,
) -> None:
    with TestClient(create_app(unsure_settings)) as client:
        for user, payload, expected in (
            ("check-web-user-0001", "/check_safe", "Thank you"),
            ("check-web-user-0002", "/check_help", "911"),
            ("check-web-user-0003", "/check_person", "911"),
        ):
            asked = client.post("/api/chat", json={"user": user, "text": "idk anymore"}).json()
            question = asked["replies"][0]
            assert "Are you safe right now?" in question["text"] and "988" in question["text"]
            payloads = [b["payload"] for b in question["buttons"]]
            assert payloads == ["/check_safe", "/check_help", "/check_person"]
            answered = client.post("/api/chat", json={"user": user, "text": payload}).json()
            assert expected in answered["replies"][0]["text"]
