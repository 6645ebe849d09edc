"""Timed work on APScheduler 3.

Every job's state is in the database's own tables (cases, checks, deliveries), so the jobs
themselves are kept in memory and added again at each start, each given the running app's
services (`JobContext`) by the composition root; nothing here is a module global. Each job runs
once shortly after start, which is when a run missed while the app was down happens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, select, update
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from community.cases.shifts import NOBODY_ON_SHIFT
from community.db import Database, insert_ignoring_conflicts
from community.models import Case, Notification, PlatformUpdate, StaffNotice, utcnow
from community.resources import ResourceDirectory, default_directory
from community.settings import Settings

log = logging.getLogger(__name__)

REANNOUNCE_JOB_ID = "reannounce-unclaimed-cases"
RESOURCE_REVIEW_JOB_ID = "resource-review"
RETENTION_JOB_ID = "retention"
FOLLOW_UPS_JOB_ID = "follow_ups"
CHECKINS_JOB_ID = "checkins-and-reminders"
RESEARCH_JOB_ID = "research"
CHECKS_JOB_ID = "unanswered-checks"
SESSIONS_JOB_ID = "discussion-sessions"
# One research run queues at most this many batches, so other jobs get their turn.
RESEARCH_BATCHES_PER_RUN = 40
RESOURCE_REVIEW_NOTICE = "resource_review"
REVIEW_SOON = timedelta(days=30)
SEEN_UPDATES_KEPT = timedelta(days=7)
ONCALL_HOME = "oncall"
ONCALL_TIMEOUT_SECONDS = 5.0
JOB_ATTEMPTS = 3
# Beyond three intervals, how long the re-announcement job may take before it counts as late.
LATE_GRACE = timedelta(seconds=30)


@dataclass
class JobContext:
    settings: Settings
    database: Database
    # Wipes Rasa's memory of one conversation (the app's dialogue client); None in tools.
    forget_conversation: Callable[[str], Awaitable[bool]] | None = None
    # When each job last finished without an error: the heartbeat /healthz and the watchdog read.
    finished: dict[str, datetime] = field(default_factory=dict)
    started_at: datetime = field(default_factory=utcnow)

    def scheduler_state(self) -> str:
        """ "up" while the re-announcement job (the one a waiting crisis depends on) keeps to its
        interval; "down" when it has not finished for three intervals and more."""
        every = timedelta(seconds=self.settings.scheduler_interval_seconds)
        last = self.finished.get(REANNOUNCE_JOB_ID, self.started_at)
        return "up" if utcnow() - last <= every * 3 + LATE_GRACE else "down"


Job = Callable[[JobContext], Awaitable[None]]


def _resilient(job_id: str, job: Job) -> Job:
    """A job that survives a database error: tried again at once with backoff, and if it still
    fails, logged and tried at its next run (the scheduler itself never stops on it). Each
    success is its heartbeat."""

    async def run(context: JobContext) -> None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(JOB_ATTEMPTS),
                wait=wait_exponential(multiplier=0.5, max=4),
                reraise=True,
            ):
                with attempt:
                    await job(context)
        except Exception as error:
            log.error("job failed", extra={"component": job_id, "error": type(error).__name__})
            return
        context.finished[job_id] = utcnow()

    return run


async def reannounce_job(context: JobContext) -> None:
    """Re-announce unclaimed cases and remind their members of the crisis numbers."""
    from community.cases.handoff import reannounce_overdue, release_orphaned
    from community.cases.shifts import alert_oncall_when_nobody_on_shift

    settings = context.settings
    homes = settings.active_moderation_homes
    if settings.oncall_webhook_url:
        homes += (ONCALL_HOME,)
    async with context.database.transaction() as session:
        # A case held by a moderator whose token was revoked or expired goes back to the queue.
        for case_id in await release_orphaned(session, homes):
            log.warning(
                "case released: its moderator can no longer act", extra={"case_id": case_id}
            )
    async with context.database.transaction() as session:
        due = await reannounce_overdue(
            session,
            homes=homes,
            urgent_after=timedelta(minutes=settings.reannounce_urgent_minutes),
            other_after=timedelta(minutes=settings.reannounce_other_minutes),
        )
    for case_id in due:
        log.warning("case re-announced", extra={"case_id": case_id})
    if settings.oncall_webhook_url:
        # Nobody on shift: a waiting case goes to the on-call list now, not after the wait.
        async with context.database.transaction() as session:
            alerted = await alert_oncall_when_nobody_on_shift(session, ONCALL_HOME)
        for case_id in alerted:
            log.warning("nobody on shift: on-call alerted", extra={"case_id": case_id})
        await deliver_oncall(context.database, settings.oncall_webhook_url)


def oncall_text(kind: str, case: Case, now: datetime) -> str:
    """The on-call alert's words: the case, never the member."""
    waited = int((now - case.opened_at).total_seconds() // 60)
    if kind == NOBODY_ON_SHIFT:
        return (
            f"peerbot: a {case.severity} {case.category} case is waiting ({waited} min) and "
            "nobody is on shift."
        )
    return f"peerbot: a {case.severity} {case.category} case has waited {waited} min unclaimed."


async def deliver_oncall(database: Database, webhook_url: str) -> int:
    """POST pending on-call alerts; each is marked delivered only after a 2xx answer, so a
    failure is retried on the next run. The alert names the case, never the member. No
    transaction is open while the webhook is called."""
    now = utcnow()
    async with database.transaction() as session:
        pending = (
            await session.execute(
                select(Notification, Case)
                .join(Case, Case.id == Notification.case_id)
                .where(Notification.home == ONCALL_HOME, Notification.delivered_at.is_(None))
                .order_by(Notification.id)
                .limit(50)
            )
        ).all()
        alerts = [
            (
                notification.id,
                {
                    "text": oncall_text(notification.kind, case, now),
                    "case_id": case.id,
                    "severity": case.severity,
                    "category": case.category,
                    "status": case.status,
                },
            )
            for notification, case in pending
        ]
    delivered = 0
    async with httpx.AsyncClient(timeout=ONCALL_TIMEOUT_SECONDS) as client:
        for notification_id, payload in alerts:
            success = False
            try:
                response = await client.post(webhook_url, json=payload)
                success = response.is_success
                if not success:
                    log.warning("on-call alert refused", extra={"error": response.status_code})
            except httpx.HTTPError as error:
                log.warning("on-call alert failed", extra={"error": type(error).__name__})
            async with database.transaction() as session:
                values: dict[str, Any] = {"attempts": Notification.attempts + 1}
                if success:
                    values["delivered_at"] = now
                await session.execute(
                    update(Notification).where(Notification.id == notification_id).values(**values)
                )
            delivered += success
    return delivered


def resource_review_text(directory: ResourceDirectory, today: date) -> str | None:
    """The moderators' notice listing directory entries past or near their review date."""
    due = [r for r in directory.resources if r.review_by <= today + REVIEW_SOON]
    if not due:
        return None
    lines = [
        f"{r.name} ({r.id}): {'past due since' if r.review_by < today else 'review by'} "
        f"{r.review_by.isoformat()}"
        for r in sorted(due, key=lambda r: r.review_by)
    ]
    return (
        "Resource directory: these entries need re-checking (phone, hours, link), then a new "
        "vetted_on and review_by in responses/resources.yml. Until then the bot says the "
        "details are being re-checked.\n" + "\n".join(lines)
    )


async def post_resource_review_notice(
    database: Database, directory: ResourceDirectory, today: date
) -> bool:
    """Write this week's review notice once; True when there is something to review."""
    text = resource_review_text(directory, today)
    if text is None:
        return False
    year, week, _ = today.isocalendar()
    async with database.transaction() as session:
        await session.execute(
            insert_ignoring_conflicts(session, StaffNotice)
            .values(
                kind=RESOURCE_REVIEW_NOTICE,
                key=f"{RESOURCE_REVIEW_NOTICE}:{year}-W{week:02d}",
                text=text,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
    return True


async def purge_seen_updates(database: Database, keep: timedelta = SEEN_UPDATES_KEPT) -> int:
    """Forget platform update ids older than any redelivery (Telegram keeps updates 24 h)."""
    async with database.transaction() as session:
        result = await session.execute(
            delete(PlatformUpdate).where(PlatformUpdate.received_at < utcnow() - keep)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def retention_job(context: JobContext) -> None:
    """Roll up the insights of the last days first (#22: counted before retention removes
    what they are counted from), then remove what has outlived its retention period, Rasa's
    memory and the insights' own old rows included. A failing rollup is logged and never holds
    up retention: what must go goes on time."""
    from community.insights.rollup import purge_insights, roll_up_recent
    from community.retention import mark_rasa_forgotten, purge

    settings, database, forget = context.settings, context.database, context.forget_conversation
    now = utcnow()
    try:
        await roll_up_recent(database, settings, now)
    except Exception as error:
        log.error(
            "insights rollup failed", extra={"component": "insights", "error": type(error).__name__}
        )
    result = await purge(database, settings, now)
    await purge_insights(database, settings, now)
    forgotten = [p for p in result.rasa_due if forget is not None and await forget(p)]
    await mark_rasa_forgotten(database, forgotten, now)
    await purge_seen_updates(database)
    log.info("retention purge done", extra={"component": "retention"})


async def resource_review_job(context: JobContext) -> None:
    """Daily: tell moderators (once a week while it lasts) which resources are due for review."""
    if await post_resource_review_notice(context.database, default_directory(), utcnow().date()):
        log.warning("resource entries due for review")


async def research_job(context: JobContext) -> None:
    """Close expired questions, publish due ones, move due deliveries into the outbox, and
    write researchers' digests. Each step is its own transaction and safe to repeat."""
    from community.research.digest import write_digests
    from community.research.publication import BATCH, community_homes, fan_out_due, queue_due
    from community.research.questions import close_expired

    settings, database = context.settings, context.database
    now = utcnow()
    async with database.transaction() as session:
        await close_expired(session, now)
        published = await fan_out_due(session, community_homes(settings), now)
    for question_id in published:
        log.info("research question published", extra={"question_id": question_id})
    for _ in range(RESEARCH_BATCHES_PER_RUN):
        async with database.transaction() as session:
            looked_at = await queue_due(session, settings, now)
        if looked_at < BATCH:
            break
    async with database.transaction() as session:
        await write_digests(session, settings.research_digest, now)


def run_research_now(scheduler: AsyncIOScheduler | None) -> None:
    """Run the research job at once (a publication asked for now), keeping its one-at-a-time
    guarantee; without a scheduler the next regular run does it."""
    if scheduler is not None and scheduler.get_job(RESEARCH_JOB_ID) is not None:
        scheduler.modify_job(RESEARCH_JOB_ID, next_run_time=utcnow())


async def unanswered_checks_job(context: JobContext) -> None:
    """A check nobody answered in time opens an elevated case, so that a person looks."""
    from community.safety_checks import expire_due_checks
    from safety.crisis_reply import default_crisis_replies

    replies = default_crisis_replies()
    async with context.database.transaction() as session:
        opened = await expire_due_checks(
            session,
            context.settings.active_moderation_homes,
            tell_her=replies.compose_check_no_answer,
        )
    for case_id in opened:
        log.warning("unanswered check opened a case", extra={"case_id": case_id})


async def follow_ups_job(context: JobContext) -> None:
    """Check-ins that are due go out (quiet hours aside); one gentle second try; then none."""
    from community.followups import FollowUpTiming, send_due
    from community.research.publication import quiet_now

    settings = context.settings
    timing = FollowUpTiming(
        after=timedelta(minutes=settings.followup_after_minutes),
        retry_after=timedelta(minutes=settings.followup_retry_minutes),
        quiet=lambda now: quiet_now(settings, now),
    )
    async with context.database.transaction() as session:
        written = await send_due(session, timing)
    if written:
        log.info("follow-up check-ins written", extra={"count": written})


async def checkins_job(context: JobContext, now: datetime | None = None) -> None:
    """Check-ins she chose that are due go out (quiet hours aside: they wait for the morning),
    and her reminders at the time she set. Each is its own transaction; all state is in the
    tables, so a restart loses nothing. `now` lets tests move the clock."""
    from community import checkins, reminders
    from community.research.publication import quiet_now

    settings = context.settings
    async with context.database.transaction() as session:
        sent = await checkins.send_due(session, lambda at: quiet_now(settings, at), now)
    async with context.database.transaction() as session:
        reminded = await reminders.send_due(session, now)
    if sent or reminded:
        log.info("check-ins and reminders written", extra={"count": sent + reminded})


async def sessions_job(context: JobContext, now: datetime | None = None) -> None:
    """Discussion sessions: announce approved ones, move due invitations into the outbox, and
    write the reminders (the day before, the hour before) and feedback requests that are due.
    Each step is its own transaction; every timed message is a row, so a restart loses none.
    `now` lets tests move the clock."""
    from community.research.publication import community_homes
    from community.sessions.announce import (
        BATCH,
        announce_due,
        queue_invitations,
        send_due_reminders,
    )

    settings, database = context.settings, context.database
    now = now or utcnow()
    async with database.transaction() as session:
        announced = await announce_due(session, community_homes(settings), now)
    for session_id in announced:
        log.info("discussion session announced", extra={"session_id": session_id})
    for _ in range(RESEARCH_BATCHES_PER_RUN):
        async with database.transaction() as session:
            looked_at = await queue_invitations(session, settings, now)
        if looked_at < BATCH:
            break
    async with database.transaction() as session:
        written = await send_due_reminders(session, settings.research_timezone, now)
    if written:
        log.info("session reminders written", extra={"count": written})


def run_sessions_now(scheduler: AsyncIOScheduler | None) -> None:
    """Run the sessions job at once (a session just approved); without a scheduler the next
    regular run does it."""
    if scheduler is not None and scheduler.get_job(SESSIONS_JOB_ID) is not None:
        scheduler.modify_job(SESSIONS_JOB_ID, next_run_time=utcnow())


def build_scheduler(context: JobContext) -> AsyncIOScheduler:
    """The app's timed jobs, each given `context`; started by the composition root."""
    settings = context.settings
    scheduler = AsyncIOScheduler(timezone="UTC")
    # Never two runs of a job at once; runs missed while busy are coalesced into one.
    once: dict[str, Any] = {
        "args": [context],
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": None,
    }
    soon = utcnow() + timedelta(seconds=5)
    every = settings.scheduler_interval_seconds
    scheduler.add_job(
        _resilient(REANNOUNCE_JOB_ID, reannounce_job), "interval", seconds=every,
        id=REANNOUNCE_JOB_ID, **once,
    )  # fmt: skip
    # The review check runs shortly after start, so a fresh deployment hears about it that day.
    scheduler.add_job(
        _resilient(RESOURCE_REVIEW_JOB_ID, resource_review_job), "interval", hours=24,
        next_run_time=utcnow() + timedelta(minutes=1), id=RESOURCE_REVIEW_JOB_ID, **once,
    )  # fmt: skip
    scheduler.add_job(
        _resilient(RETENTION_JOB_ID, retention_job), "interval", hours=1, next_run_time=soon,
        id=RETENTION_JOB_ID, **once,
    )  # fmt: skip
    scheduler.add_job(
        _resilient(CHECKS_JOB_ID, unanswered_checks_job), "interval", seconds=every,
        id=CHECKS_JOB_ID, **once,
    )  # fmt: skip
    scheduler.add_job(
        _resilient(RESEARCH_JOB_ID, research_job), "interval", seconds=every,
        id=RESEARCH_JOB_ID, **once,
    )  # fmt: skip
    scheduler.add_job(
        _resilient(FOLLOW_UPS_JOB_ID, follow_ups_job), "interval", seconds=every,
        id=FOLLOW_UPS_JOB_ID, **once,
    )  # fmt: skip
    scheduler.add_job(
        _resilient(CHECKINS_JOB_ID, checkins_job), "interval", seconds=every,
        id=CHECKINS_JOB_ID, **once,
    )  # fmt: skip
    scheduler.add_job(
        _resilient(SESSIONS_JOB_ID, sessions_job), "interval", seconds=every,
        id=SESSIONS_JOB_ID, **once,
    )  # fmt: skip
    return scheduler
