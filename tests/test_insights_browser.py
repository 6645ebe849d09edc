"""The insights page in Chromium, on a phone and a desktop (#22): a known data set is written as
real rows (members' activity, cases, checks, check-ins, research, Rasa's readings), rolled up
by `peerbot insights rollup`, and served by `peerbot serve` (no Rasa needed). Every chart is
drawn on its canvas from our own origin with no CSP refusal; the numbers in each chart are the
table's beside it, which match the data set; and counts under 5 show as "<5".
Screenshots: var/reports/screenshots/."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from community.db import Database
from community.insights.report import week_of
from community.insights.tallies import community_day
from community.models import utcnow
from community.settings import PROJECT_ROOT, async_database_url
from tests.browser_pages import browser_page, fits_the_width, screenshot, sign_in, viewports
from tests.community.test_insights import seed
from tests.conftest import free_port
from tests.test_accessibility import _check as axe_check

TIMEZONE = "America/New_York"


@dataclass
class Served:
    url: str
    env: dict[str, str]
    question: int
    week: str

    def peerbot(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "peerbot.cli", *args],
            env=self.env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("insights")
    database_url = f"sqlite:///{home / 'peerbot.sqlite3'}"
    port = free_port()
    env = dict(os.environ)
    env.update(
        PEERBOT_VAR_DIR=str(home / "var"),
        PEERBOT_DATABASE_URL=database_url,
        PEERBOT_PORT=str(port),
        PEERBOT_RASA_URL="http://127.0.0.1:9",  # the page needs no Rasa
        PEERBOT_SECRET_KEY="insights-test-secret-key-0123456789abcdef",
        PEERBOT_RESEARCH_TIMEZONE=TIMEZONE,
    )
    subprocess.run(
        [sys.executable, "-m", "peerbot.cli", "migrate"],
        env=env, cwd=PROJECT_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    # Ten minutes ago: every row falls on one day and one week, whatever the time now.
    at = utcnow() - timedelta(minutes=10)
    question = asyncio.run(_seed(async_database_url(database_url), at))
    week = week_of(community_day(at, TIMEZONE)).isoformat()
    running = Served(f"http://127.0.0.1:{port}", env, question, week)
    assert "Rolled up" in running.peerbot("insights", "rollup")
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "peerbot.cli", "serve"],
        env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_up(running.url)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def _seed(url: str, at: datetime) -> int:
    database = Database.connect(url)
    try:
        return await seed(database, at)
    finally:
        await database.dispose()


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("peerbot serve did not come up")


TABLE = """id => [...document.querySelectorAll(`table[data-chart="${id}"] tbody tr`)]
  .map(tr => [...tr.children].map(cell => cell.textContent))"""
PLOTTED = """id => {
  const chart = Chart.getChart(document.querySelector(`#chart-${id} canvas`));
  return chart ? chart.data.datasets.map(d => d.data) : null;
}"""
# Whether anything was painted on the canvas: a pixel that is not transparent.
DRAWN = """id => {
  const canvas = document.querySelector(`#chart-${id} canvas`);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return canvas.width > 0;
  return false;
}"""


def _row(page: Any, chart: str, label: str) -> list[str]:
    rows: list[list[str]] = page.evaluate(TABLE, chart)
    return next(row[1:] for row in rows if row[0] == label)


@viewports
def test_the_charts_show_the_known_figures_with_small_counts_suppressed(
    served: Served, viewport: str
) -> None:
    token = served.peerbot("moderator", "add", f"mod-insights-{viewport}").strip().splitlines()[-1]
    with browser_page(viewport, served.url) as page:
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
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        sign_in(page, f"{served.url}/insights", token)
        page.wait_for_selector("body[data-loaded]")
        week, question = served.week, f"Question {served.question}"

        assert _row(page, "activity", week) == ["7", "7"]
        assert _row(page, "topics", "faq_naloxone") == ["7"]
        assert _row(page, "unanswered", week) == ["10", "<5", "<5"]
        assert _row(page, "unanswered_share", week) == ["<5"]
        assert _row(page, "unanswered_nearest", "help_housing") == ["<5"]
        assert _row(page, "crisis", "suicide") == ["5", "0"]
        assert _row(page, "crisis", "overdose") == ["0", "<5"]
        assert _row(page, "claim_time", week) == ["180", "300"]
        assert _row(page, "first_reply_time", week) == ["<5", "<5"]
        assert _row(page, "follow_ups", "better") == ["5"]
        assert _row(page, "research", question) == ["6", "<5", "<5"]
        assert page.locator("#chart-session_rsvp .empty").is_visible()

        drawn = 0
        for chart in page.evaluate(
            "[...document.querySelectorAll('table.figures')].map(t => t.dataset.chart)"
        ):
            plotted = page.evaluate(PLOTTED, chart)
            table = page.evaluate(TABLE, chart)
            # The chart's numbers are the table's, column by column; "<5" is a gap, not a bar.
            for column, values in enumerate(plotted):
                shown = [row[column + 1].rstrip("%") for row in table]
                assert [None if v is None else str(v) for v in values] == [
                    None if s in ("<5", "–") else s for s in shown
                ], chart
            assert page.evaluate(DRAWN, chart), f"{chart} was not drawn"
            drawn += 1
        assert drawn >= 12
        assert fits_the_width(page)
        screenshot(page, "insights", viewport)
        with page.expect_download() as downloading:
            page.get_by_role("button", name="Download CSV").click()
        exported = Path(downloading.value.path()).read_text(encoding="utf-8")
        assert f"research,{question},Sent,6\n" in exported
        assert f"research,{question},Answered,<5\n" in exported
        # With every table open, axe finds no serious or critical violation.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert fits_the_width(page)
        assert axe_check(page, "insights", viewport) == []
        assert refused == []
        assert all(url.startswith(served.url) for url in requested)  # nothing from elsewhere
