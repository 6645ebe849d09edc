"""What the community asks (#22): the moderators' insights page and its API, read from the
daily rollup (`community/insights/`). Small numbers are suppressed there, before they leave the
server: the page and the CSV only ever see "<5"."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bots.web.auth import Session, require_role
from community.insights.report import SMALLEST_SHOWN, Insights, insights, insights_csv
from community.models import utcnow
from community.staff import StaffIdentity

Moderator = Annotated[StaffIdentity, Depends(require_role("moderator"))]
Weeks = Annotated[int, Query(ge=1, le=104, description="How many weeks, this one included.")]
DEFAULT_WEEKS = 12


class SeriesOut(BaseModel):
    label: str
    values: list[int | float | str | None] = Field(
        description='One per label: a number, "<5" (from 1 to 4, or a share or percentile '
        "taken over fewer than 5: not shown), or null (nothing to show)."
    )


class ChartOut(BaseModel):
    id: str
    title: str
    unit: str = Field(description='"count", "seconds" or "percent".')
    weekly: bool = Field(description="Labels are weeks (their Monday); else keys, most first.")
    labels: list[str]
    series: list[SeriesOut]


class InsightsOut(BaseModel):
    timezone: str = Field(description="The community's time zone; weeks run from Monday in it.")
    weeks: list[date] = Field(description="Each week's Monday, oldest first.")
    through: date | None = Field(description="The latest day rolled up (null: none yet).")
    suppressed_below: int = Field(description='Counts from 1 to this minus one show as "<5".')
    charts: list[ChartOut]


def insights_out(report: Insights) -> InsightsOut:
    return InsightsOut(
        timezone=report.timezone,
        weeks=report.weeks,
        through=report.through,
        suppressed_below=SMALLEST_SHOWN,
        charts=[
            ChartOut(
                id=c.id,
                title=c.title,
                unit=c.unit,
                weekly=c.weekly,
                labels=c.labels,
                series=[SeriesOut(label=s.label, values=s.values) for s in c.series],
            )
            for c in report.charts
        ],
    )


def build_insights_router() -> APIRouter:
    router = APIRouter(tags=["moderation"])
    static = resources.files("bots.web") / "static"

    @router.get("/insights", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse((static / "insights.html").read_text(encoding="utf-8"))

    @router.get("/api/insights", response_model=InsightsOut)
    async def get_insights(
        _: Moderator, session: Session, request: Request, weeks: Weeks = DEFAULT_WEEKS
    ) -> InsightsOut:
        """What the community asks, week by week, from the daily rollup (no text, nobody
        named); every count from 1 to 4 is "<5"."""
        timezone = request.app.state.services.settings.research_timezone
        return insights_out(await insights(session, timezone, weeks, utcnow()))

    @router.get(
        "/api/insights.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def get_insights_csv(
        _: Moderator, session: Session, request: Request, weeks: Weeks = DEFAULT_WEEKS
    ) -> Response:
        """The same figures as CSV (chart, label, series, value), small counts as "<5"."""
        timezone = request.app.state.services.settings.research_timezone
        report = await insights(session, timezone, weeks, utcnow())
        return Response(
            insights_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="insights.csv"'},
        )

    return router
