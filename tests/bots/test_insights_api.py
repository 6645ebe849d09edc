"""`GET /api/insights` and `/api/insights.csv` (#22): moderators only, from the rollup, with
every count from 1 to 4 already "<5" in what leaves the server; and the page is served under
the strict CSP."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from community.db import Database
from community.insights.rollup import roll_up_recent
from community.insights.tallies import community_day, count
from community.models import utcnow
from community.settings import Settings
from tests.bots.test_moderation_api import auth, client, tokens

__all__ = ["client", "tokens"]  # fixtures used below


async def _seed(settings: Settings) -> None:
    database = Database.connect(settings.resolved_database_url)
    try:
        today = community_day(utcnow(), settings.research_timezone)
        async with database.transaction() as session:
            for _ in range(6):
                await count(session, today, "intent", "faq_naloxone")
            for _ in range(2):
                await count(session, today, "intent", "greet")
        await roll_up_recent(database, settings)
    finally:
        await database.dispose()


def test_moderators_read_the_figures_with_small_counts_suppressed(
    client: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    asyncio.run(_seed(settings))
    assert client.get("/api/insights").status_code == 401
    assert client.get("/api/insights", headers=auth(tokens["rae"])).status_code == 403
    assert client.get("/api/insights.csv", headers=auth(tokens["rae"])).status_code == 403
    ana = auth(tokens["ana"])
    assert client.get("/api/insights?weeks=0", headers=ana).status_code == 422
    assert client.get("/api/insights?weeks=105", headers=ana).status_code == 422
    body = client.get("/api/insights?weeks=4", headers=ana).json()
    assert len(body["weeks"]) == 4 and body["suppressed_below"] == 5
    assert body["through"] == community_day(utcnow(), settings.research_timezone).isoformat()
    topics = next(c for c in body["charts"] if c["id"] == "topics")
    assert topics["labels"] == ["faq_naloxone", "greet"]
    assert topics["series"] == [{"label": "Messages", "values": [6, "<5"]}]
    read = next(c for c in body["charts"] if c["id"] == "unanswered")["series"][0]
    assert read == {"label": "Messages read", "values": [0, 0, 0, 8]}

    exported = client.get("/api/insights.csv?weeks=4", headers=ana)
    assert exported.headers["content-type"].startswith("text/csv")
    assert "topics,faq_naloxone,Messages,6\n" in exported.text
    assert "topics,greet,Messages,<5\n" in exported.text
    assert "topics,greet,Messages,2" not in exported.text


def test_the_page_and_chart_library_come_from_this_origin(client: TestClient) -> None:
    page = client.get("/insights")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/vendor/chartjs/chart.umd.js" defer></script>' in page.text
    assert "<style" not in page.text and " style=" not in page.text and "http" not in page.text
    library = client.get("/static/vendor/chartjs/chart.umd.js")
    assert library.status_code == 200 and "Chart.js v4.6.2" in library.text[:200]
    assert 'href="/insights"' in client.get("/moderate").text


def test_the_insights_routes_are_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert {"/api/insights", "/api/insights.csv"} <= set(paths)
    weeks = paths["/api/insights"]["get"]["parameters"][0]
    assert (weeks["name"], weeks["schema"]["minimum"], weeks["schema"]["maximum"]) == (
        "weeks",
        1,
        104,
    )
    assert "text/csv" in paths["/api/insights.csv"]["get"]["responses"]["200"]["content"]
    assert "/insights" not in paths  # the page is not an API operation
    schema = document["components"]["schemas"]["InsightsOut"]
    assert {"weeks", "through", "suppressed_below", "charts"} <= set(schema["properties"])
