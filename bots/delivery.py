"""The delivery loop every chat platform shares: what must reach someone is read from the
database and marked done only after the platform accepted it.

Four streams, each durable: the outbox (a moderator's reply, a research question or a notice for
a member), research questions for the community channel, the
notifications to a moderation home (a case opened, raised, re-announced: a case thread with its
card), and the case transcript (her messages, relayed into the case's thread up to a cursor in
`case_threads`). A platform adapter subclasses `DeliveryLoop` and implements the four sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bots.messages import Button, Reply
from community.db import Database
from community.members import delivery_address
from community.models import (
    OPEN_CASE_STATUSES,
    Case,
    CaseMessage,
    CaseThread,
    HomePost,
    Notification,
    OutboxMessage,
    utcnow,
)
from community.research.models import CommunityPost, ResearchQuestion
from community.research.publication import community_post_text
from safety.handoff import CaseSummary, ModeratorActions

log = logging.getLogger(__name__)

LOOP_SECONDS = 1.0
BATCH = 50
TOPIC_LOST = "topic_lost"  # a notification kind: the case's thread was deleted
SENT, UNREACHABLE, UNCONFIRMED = "sent", "unreachable", "unconfirmed"  # an outbox outcome
SEVERITY_MARK = {"imminent": "🔴", "high": "🟠", "elevated": "🟡", "request": "🔵"}
HEADINGS = {
    "opened": "New case",
    "raised": "Case raised",
    "reannounced": "Still waiting for a moderator",
    TOPIC_LOST: "Case thread reopened (the old one was deleted); the conversation follows",
}


class MemberUnreachable(Exception):
    """She blocked the bot, closed her DMs or left: nothing more can reach her there."""


class ThreadGone(Exception):
    """The case's thread or topic was deleted; a new one will be opened."""


class TransientSendError(Exception):
    """The platform is unreachable or failing for now; try again next round."""


def case_card_text(summary: CaseSummary, kind: str) -> str:
    mark = SEVERITY_MARK.get(summary.severity, "⚪")
    claimed = f" · claimed by {summary.claimed_by}" if summary.claimed_by else ""
    return "\n".join(
        [
            f"{mark} {HEADINGS.get(kind, 'Case')} #{summary.id}: {summary.severity} · "
            f"{summary.category} · {summary.member} (from {summary.platform})",
            f"Waiting {int(summary.waited_seconds // 60)} min{claimed}",
            f"What she wrote: {summary.trigger}",
        ]
    )


class DeliveryLoop(ABC):
    """One round every second, or at once when woken; a failed round is retried, not lost."""

    platform: str  # the members' platform this loop delivers the outbox for
    home: str  # the moderation home this loop announces cases to

    def __init__(self, database: Database, announces_cases: bool) -> None:
        self.database = database
        self.announces_cases = announces_cases
        self._wake = asyncio.Event()
        self._running = True

    # -- what a platform implements ------------------------------------------------------------

    @abstractmethod
    async def send_to_member(self, address: str, reply: Reply) -> None:
        """Raise MemberUnreachable or TransientSendError when it did not arrive."""

    @abstractmethod
    async def open_thread(self, name: str) -> str:
        """A new case thread in the moderation home; its id ("" to post in the home itself)."""

    @abstractmethod
    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        """The case card with its buttons. Raise ThreadGone or TransientSendError."""

    @abstractmethod
    async def post_in_thread(self, thread_id: str, text: str) -> None:
        """Raise ThreadGone or TransientSendError."""

    async def post_to_community(self, text: str) -> None:  # noqa: B027 - optional hook
        """Post in the community channel (none by default). Raise TransientSendError."""

    # -- running ---------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._running = False
        self._wake.set()

    async def run(self) -> None:
        try:
            await self.recover_interrupted()
        except Exception:
            log.exception("outbox recovery failed", extra={"platform": self.platform})
        while self._running:
            try:
                await self.deliver_once()
            except Exception:
                log.exception("delivery round failed", extra={"platform": self.platform})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LOOP_SECONDS)
            self._wake.clear()

    async def deliver_once(self) -> None:
        await self._deliver_outbox()
        await self._deliver_community_posts()
        if self.announces_cases:
            await self._deliver_notifications()
            await self._relay_transcripts()
            await self._deliver_home_posts()

    # -- the three streams -----------------------------------------------------------------

    async def recover_interrupted(self) -> None:
        """After a crash, a message claimed for sending but never marked done is retried, except
        a bulk one (a research broadcast): nobody may get that twice, so it counts as
        unconfirmed. At most one message per platform is in flight at a time."""
        now = utcnow()
        interrupted = (
            OutboxMessage.platform == self.platform,
            OutboxMessage.sending_at.is_not(None),
            OutboxMessage.delivered_at.is_(None),
        )
        async with self.database.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(*interrupted, OutboxMessage.bulk.is_(True))
                .values(delivered_at=now, text=None, outcome=UNCONFIRMED)
            )
            await session.execute(
                update(OutboxMessage)
                .where(*interrupted, OutboxMessage.bulk.is_(False))
                .values(sending_at=None)
            )

    async def _deliver_outbox(self) -> None:
        """One message at a time: claimed (committed), sent, then marked done (committed).
        Everything else goes before bulk messages, so a broadcast never delays a moderator."""
        async with self.database.sessions() as session:
            ids = (
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.platform == self.platform,
                        OutboxMessage.delivered_at.is_(None),
                        OutboxMessage.sending_at.is_(None),
                    )
                    .order_by(OutboxMessage.bulk, OutboxMessage.id)
                    .limit(BATCH)
                )
            ).all()
        for outbox_id in ids:
            claimed = await self._claim(outbox_id)
            if claimed is None:
                continue
            address, reply = claimed
            outcome = SENT
            if address is None or reply is None:
                outcome = UNREACHABLE
            else:
                try:
                    await self.send_to_member(address, reply)
                except MemberUnreachable:
                    log.info("member unreachable", extra={"outbox_id": outbox_id})
                    outcome = UNREACHABLE
                except TransientSendError:
                    await self._release(outbox_id)
                    break  # keep the order: this one and the rest go next round
            async with self.database.transaction() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == outbox_id)
                    .values(delivered_at=utcnow(), text=None, outcome=outcome)
                )

    async def _claim(self, outbox_id: int) -> tuple[str | None, Reply | None] | None:
        async with self.database.transaction() as session:
            item = await session.get(OutboxMessage, outbox_id, with_for_update=True)
            if item is None or item.delivered_at is not None or item.sending_at is not None:
                return None
            item.sending_at = utcnow()
            item.attempts += 1
            address = await delivery_address(session, item.member_id, self.platform)
            if item.text is None:
                return address, None
            buttons = tuple(Button(b["title"], b["payload"]) for b in item.buttons or [])
            return address, Reply(item.text, buttons, sender_name=item.sender_name)

    async def _release(self, outbox_id: int) -> None:
        async with self.database.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(sending_at=None)
            )

    async def _deliver_community_posts(self) -> None:
        """Approved research questions, posted once in the community channel if one is set."""
        async with self.database.transaction() as session:
            pending = (
                await session.execute(
                    select(CommunityPost, ResearchQuestion)
                    .join(ResearchQuestion, ResearchQuestion.id == CommunityPost.question_id)
                    .where(CommunityPost.home == self.home, CommunityPost.posted_at.is_(None))
                    .order_by(CommunityPost.question_id)
                    .limit(BATCH)
                )
            ).all()
            for post, question in pending:
                post.attempts += 1
                try:
                    await self.post_to_community(community_post_text(question))
                except TransientSendError:
                    break
                post.posted_at = utcnow()

    async def _deliver_notifications(self) -> None:
        async with self.database.transaction() as session:
            pending = (
                await session.execute(
                    select(Notification, Case)
                    .join(Case, Case.id == Notification.case_id)
                    .where(Notification.home == self.home, Notification.delivered_at.is_(None))
                    .order_by(Notification.id)
                    .limit(BATCH)
                )
            ).all()
            actions = ModeratorActions(session)
            for notification, case in pending:
                notification.attempts += 1
                summary = await actions.summary(case)
                try:
                    thread = await self._thread_for(
                        session, case, summary, replay=notification.kind == TOPIC_LOST
                    )
                    await self.post_card(
                        thread,
                        case_card_text(summary, notification.kind),
                        case.id,
                        claimed=summary.claimed_by is not None,
                    )
                except ThreadGone:
                    await self._forget_thread(session, case.id)
                    continue
                except TransientSendError:
                    break
                notification.delivered_at = utcnow()

    async def _deliver_home_posts(self) -> None:
        """Notices for the moderators' home itself (flags on community posts), in order; the
        text is cleared once posted."""
        async with self.database.transaction() as session:
            pending = (
                await session.scalars(
                    select(HomePost)
                    .where(HomePost.home == self.home, HomePost.posted_at.is_(None))
                    .order_by(HomePost.id)
                    .limit(BATCH)
                )
            ).all()
            for post in pending:
                post.attempts += 1
                try:
                    await self.post_in_thread("", post.text)
                except (TransientSendError, ThreadGone):
                    break
                post.posted_at, post.text = utcnow(), ""

    async def _relay_transcripts(self) -> None:
        """Her messages (and the bot's crisis reply) appear in the case's thread."""
        async with self.database.transaction() as session:
            rows = (
                await session.execute(
                    select(CaseThread, Case)
                    .join(Case, Case.id == CaseThread.case_id)
                    .where(CaseThread.home == self.home, Case.status.in_(OPEN_CASE_STATUSES))
                )
            ).all()
            for thread, case in rows:
                turns = (
                    await session.scalars(
                        select(CaseMessage)
                        .where(
                            CaseMessage.case_id == case.id,
                            CaseMessage.id > thread.relayed_message_id,
                            CaseMessage.author.in_(("member", "bot", "screen")),
                        )
                        .order_by(CaseMessage.id)
                        .limit(BATCH)
                    )
                ).all()
                for turn in turns:
                    who = {"member": "She wrote", "screen": "⚠ Screen"}.get(
                        turn.author, "The bot told her"
                    )
                    if not thread.thread_id:
                        who = f"#{case.id} {who}"  # no threads: say which case
                    try:
                        await self.post_in_thread(thread.thread_id, f"{who}:\n{turn.text}")
                    except ThreadGone:
                        await self._forget_thread(session, case.id)
                        break
                    except TransientSendError:
                        break
                    thread.relayed_message_id = turn.id

    async def _thread_for(
        self, session: AsyncSession, case: Case, summary: CaseSummary, replay: bool
    ) -> str:
        """The case's thread, opened on first use. A new thread relays from after the card;
        one replacing a deleted thread (`replay`) relays the whole conversation again."""
        existing = await session.get(CaseThread, (case.id, self.home))
        if existing is not None:
            return existing.thread_id
        name = f"{summary.severity} · {summary.category} · {summary.member}"
        thread_id = await self.open_thread(name)
        last = await session.scalar(
            select(CaseMessage.id)
            .where(CaseMessage.case_id == case.id)
            .order_by(CaseMessage.id.desc())
            .limit(1)
        )
        session.add(
            CaseThread(
                case_id=case.id,
                home=self.home,
                thread_id=thread_id,
                relayed_message_id=0 if replay else (last or 0),
            )
        )
        await session.flush()
        return thread_id

    async def _forget_thread(self, session: AsyncSession, case_id: int) -> None:
        thread = await session.get(CaseThread, (case_id, self.home))
        if thread is not None:
            await session.delete(thread)
            session.add(Notification(case_id=case_id, home=self.home, kind=TOPIC_LOST))
        log.warning("case thread was deleted; it will be reopened", extra={"case_id": case_id})


async def case_for_thread(session: AsyncSession, home: str, thread_id: str) -> int | None:
    found: Any = await session.scalar(
        select(CaseThread.case_id).where(CaseThread.home == home, CaseThread.thread_id == thread_id)
    )
    return int(found) if found is not None else None
