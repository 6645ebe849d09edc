"""The weekly figures moderators read, from the rollup alone, with small numbers suppressed
before they leave the server: a count from 1 to 4 becomes "<5", and a share or percentile
taken over fewer than 5 becomes "<5" too. Weeks run from Monday in the community's time zone."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.insights.rollup import ROLLED
from community.insights.tallies import UNANSWERED_INTENT, community_day
from community.models import InsightRollup
from community.research.answers import csv_safe

SMALLEST_SHOWN = 5
SUPPRESSED = "<5"
Value = int | float | str | None  # a number, "<5", or None (nothing to show)


def shown(count: int) -> int | str:
    """A count as it may be shown: 1-4 become "<5" (0 is shown: nothing happened)."""
    return SUPPRESSED if 0 < count < SMALLEST_SHOWN else count


def percentile(values: list[int], fraction: float) -> int | str | None:
    """The nearest-rank percentile (as /api/stats takes it); "<5" from fewer than 5 values."""
    if not values:
        return None
    if len(values) < SMALLEST_SHOWN:
        return SUPPRESSED
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def share(part: int, whole: int) -> float | str | None:
    """`part` of `whole` in percent (one decimal); "<5" when part is 1-4, which the share and
    the total would give away."""
    if whole == 0:
        return None
    if 0 < part < SMALLEST_SHOWN:
        return SUPPRESSED
    return round(100 * part / whole, 1)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[Value]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str  # "count", "seconds" or "percent"
    weekly: bool  # labels are weeks (Mondays) rather than keys
    labels: list[str]
    series: list[Series] = field(default_factory=list)


@dataclass(frozen=True)
class Insights:
    timezone: str
    weeks: list[date]
    through: date | None
    charts: list[Chart]


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class _Rows:
    """The rollup's rows in the window, summed per week and per key."""

    weeks: list[date]
    counts: dict[str, dict[date, dict[str, int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    )
    durations: dict[str, dict[date, list[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    members_week: dict[date, tuple[date, int]] = field(default_factory=dict)
    through: date | None = None

    def weekly(self, metric: str, key: str | None = None) -> list[int]:
        by_week = self.counts[metric]
        return [
            sum(n for k, n in by_week[w].items() if key is None or k == key) for w in self.weeks
        ]

    def totals(self, metric: str) -> dict[str, int]:
        summed: dict[str, int] = defaultdict(int)
        for week in self.weeks:
            for key, n in self.counts[metric][week].items():
                summed[key] += n
        return summed


DURATIONS = ("claim_seconds", "first_reply_seconds")


async def _read(session: AsyncSession, weeks: list[date]) -> _Rows:
    rows = _Rows(weeks)
    first, last = weeks[0], weeks[-1] + timedelta(days=6)
    result = await session.execute(
        select(InsightRollup.day, InsightRollup.metric, InsightRollup.key, InsightRollup.value)
        .where(InsightRollup.day >= first, InsightRollup.day <= last)
        .order_by(InsightRollup.day)
    )
    for day, metric, key, value in result:
        week = week_of(day)
        if metric == ROLLED:
            rows.through = day
        elif metric in DURATIONS:
            rows.durations[metric][week].append(int(value))
        elif metric == "members_week":
            # The week's distinct members so far, as of its latest day rolled up.
            rows.members_week[week] = max(rows.members_week.get(week, (day, 0)), (day, value))
        else:
            rows.counts[metric][week][key] += int(value)
    return rows


def _by_count(totals: dict[str, int], leave_out: Iterable[str] = ()) -> list[str]:
    skip = set(leave_out)
    return [k for k, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if k not in skip]


def _totals_chart(
    chart_id: str, title: str, totals: dict[str, int], label: str, leave_out: Iterable[str] = ()
) -> Chart:
    keys = _by_count(totals, leave_out)
    return Chart(
        chart_id, title, "count", False, keys, [Series(label, [shown(totals[k]) for k in keys])]
    )


def _split_chart(chart_id: str, title: str, totals: dict[str, int]) -> Chart:
    """Keys "a/b": labels are the a's, one series per b (category by severity or status)."""
    firsts: dict[str, int] = defaultdict(int)
    seconds: dict[str, int] = defaultdict(int)
    for key, n in totals.items():
        first, _, second = key.partition("/")
        firsts[first] += n
        seconds[second] += n
    labels, parts = _by_count(firsts), _by_count(seconds)
    return Chart(
        chart_id,
        title,
        "count",
        False,
        labels,
        [Series(part, [shown(totals.get(f"{lab}/{part}", 0)) for lab in labels]) for part in parts],
    )


def _time_chart(rows: _Rows, metric: str, chart_id: str, title: str) -> Chart:
    values = [rows.durations[metric][w] for w in rows.weeks]
    return Chart(
        chart_id,
        title,
        "seconds",
        True,
        [w.isoformat() for w in rows.weeks],
        [
            Series("p50", [percentile(v, 0.5) for v in values]),
            Series("p90", [percentile(v, 0.9) for v in values]),
        ],
    )


def _charts(rows: _Rows) -> list[Chart]:
    week_labels = [w.isoformat() for w in rows.weeks]
    conversations = rows.weekly("members")
    members = [rows.members_week.get(w, (w, 0))[1] for w in rows.weeks]
    read = rows.weekly("intent")
    unanswered = rows.weekly("intent", UNANSWERED_INTENT)
    down = rows.weekly("dialogue_unavailable")
    research = {name: rows.totals(f"research_{name}") for name in ("sent", "answered", "declined")}
    questions = sorted(
        {q for totals in research.values() for q in totals}, key=lambda q: (len(q), q)
    )
    return [
        Chart(
            "activity",
            "Conversations and members per week",
            "count",
            True,
            week_labels,
            [
                Series("Conversations", [shown(n) for n in conversations]),
                Series("Members", [shown(n) for n in members]),
            ],
        ),
        _totals_chart(
            "topics",
            "Topics asked (by intent)",
            rows.totals("intent"),
            "Messages",
            leave_out=(UNANSWERED_INTENT,),
        ),
        Chart(
            "unanswered",
            "Messages the bot could not answer, per week",
            "count",
            True,
            week_labels,
            [
                Series("Messages read", [shown(n) for n in read]),
                Series("Could not answer", [shown(n) for n in unanswered]),
                Series("Bot unreachable", [shown(n) for n in down]),
            ],
        ),
        Chart(
            "unanswered_share",
            "Share of messages the bot could not answer (%)",
            "percent",
            True,
            week_labels,
            [
                Series(
                    "Could not answer (%)",
                    [share(u, r) for u, r in zip(unanswered, read, strict=True)],
                )
            ],
        ),
        _totals_chart(
            "unanswered_nearest",
            "Topics the unanswered messages were nearest to",
            rows.totals("unanswered_nearest"),
            "Messages",
        ),
        _split_chart("crisis", "Crisis cases by category and severity", rows.totals("crisis")),
        _split_chart(
            "checks",
            "\u201cAre you safe?\u201d checks by category and outcome",
            rows.totals("check"),
        ),
        _totals_chart(
            "case_outcomes", "How cases were closed", rows.totals("case_outcome"), "Cases"
        ),
        _time_chart(rows, "claim_seconds", "claim_time", "Time to claim a case (seconds)"),
        _time_chart(
            rows,
            "first_reply_seconds",
            "first_reply_time",
            "Time to a person's first reply (seconds)",
        ),
        _totals_chart(
            "follow_ups",
            "Check-ins after cases, and how they went",
            rows.totals("followup_outcome"),
            "Check-ins",
        ),
        Chart(
            "research",
            "Research reach by question",
            "count",
            False,
            [f"Question {q}" for q in questions],
            [
                Series(name.capitalize(), [shown(research[name].get(q, 0)) for q in questions])
                for name in ("sent", "answered", "declined")
            ],
        ),
        _totals_chart("session_rsvp", "Session RSVPs", rows.totals("session_rsvp"), "Answers"),
        _totals_chart(
            "session_feedback", "Session feedback", rows.totals("session_feedback"), "Answers"
        ),
    ]


def recent_weeks(now: datetime, timezone: str, count: int) -> list[date]:
    this_week = week_of(community_day(now, timezone))
    return [this_week - timedelta(weeks=n) for n in reversed(range(count))]


async def insights(session: AsyncSession, timezone: str, weeks: int, now: datetime) -> Insights:
    """The last `weeks` weeks (this one so far included), every small number suppressed."""
    span = recent_weeks(now, timezone, weeks)
    rows = await _read(session, span)
    return Insights(timezone, span, rows.through, _charts(rows))


def insights_csv(report: Insights) -> str:
    """One line per figure: chart, label (a week's Monday or a key), series, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["chart", "label", "series", "value"])
    for chart in report.charts:
        for series in chart.series:
            for label, value in zip(chart.labels, series.values, strict=True):
                cell = "" if value is None else str(value)
                writer.writerow([chart.id, csv_safe(label), csv_safe(series.label), cell])
    return out.getvalue()
