"""Error answers through the real app: a kind HTML page for a browser, JSON for API clients,
and neither echoes what was sent; /docs served from our own origin under the CSP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from community.settings import Settings
from peerbot.app import create_app

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SECRET_WORDS = "i-took-my-pills-and-my-name-is-Jolene"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, run_scheduler=False)

    @app.get("/test-only/fails")
    async def fails() -> None:
        raise RuntimeError(SECRET_WORDS)

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_browser_gets_a_kind_page_and_an_api_client_json_for_404(client: TestClient) -> None:
    page = client.get(f"/no/such/{SECRET_WORDS}", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "We could not find that page" in page.text and "988" in page.text
    assert SECRET_WORDS not in page.text
    assert "Content-Security-Policy" in page.headers
    api = client.get(f"/no/such/{SECRET_WORDS}")
    assert (api.status_code, api.json()) == (404, {"detail": "Not Found"})


def test_405_keeps_its_allow_header_in_both_forms(client: TestClient) -> None:
    page = client.delete("/healthz", headers=BROWSER)
    assert page.status_code == 405 and "That does not work here" in page.text
    assert page.headers["allow"] == "GET"
    assert client.delete("/healthz").json() == {"detail": "Method Not Allowed"}


def test_422_never_echoes_the_values_sent(client: TestClient) -> None:
    path = f"/api/chat/{SECRET_WORDS[:10]}!/messages"
    page = client.get(path, headers=BROWSER)
    assert page.status_code == 422 and "Something in the form was not right" in page.text
    assert SECRET_WORDS[:10] not in page.text and "^[" not in page.text
    api = client.post("/api/chat", json={"user": "short", "text": SECRET_WORDS})
    assert api.status_code == 422
    assert SECRET_WORDS not in api.text and "short" not in api.text.replace("too_short", "")
    assert api.json()["detail"][0]["loc"] == ["body", "user"]


def test_500_is_kind_and_says_nothing_of_the_error(client: TestClient) -> None:
    page = client.get("/test-only/fails", headers=BROWSER)
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    assert SECRET_WORDS not in page.text and "RuntimeError" not in page.text
    api = client.get("/test-only/fails")
    assert api.status_code == 500
    assert api.json() == {"detail": "Something went wrong on our side."}


def test_docs_page_and_its_assets_come_from_this_origin(client: TestClient) -> None:
    page = client.get("/docs", headers=BROWSER)
    assert page.status_code == 200
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it
    assert "https://" not in page.text  # nothing from a CDN
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert client.get(asset).status_code == 200
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "peerbot"
