"""The one delivery path every chat platform shares: what must reach someone is read from the
database and committed, sent with no transaction open, then marked done only after the platform
accepted it.

Five streams, each durable: the outbox (a moderator's reply, a research question or a notice for
a member), research questions and discussion sessions for the community channel, the
notifications to a moderation home (a case opened, raised, re-announced: a case thread with its
card), notices for the home itself (flags), and the case transcript (her messages, relayed into
the case's thread up to a cursor in `case_threads`). A platform supplies a small
`PlatformSender` (its sends, nothing else); the web chat is a pull (`GET
/api/chat/{user}/messages` marks what it returns) and the on-call alerts have their own sender
in `community/scheduling.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.cases.handoff import (
    CANCELLED,
    RELEASED,
    CaseSummary,
    ModeratorActions,
)
from community.cases.shifts import on_shift
from community.db import Database, insert_ignoring_conflicts
from community.members import delivery_address, member_language
from community.messages import Attachment, Button, Reply
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
from community.sessions.models import DiscussionSession, SessionPost
from community.sessions.texts import community_post as session_post_text

log = logging.getLogger(__name__)

LOOP_SECONDS = 1.0
BATCH = 50
# Case cards read per round: one, so a more urgent case that arrives meanwhile goes next (a
# moderators' group is paced at 20 messages a minute: a card waits at most for the one in flight).
NOTIFICATION_ROUND = 1
TOPIC_LOST = "topic_lost"  # a notification kind: the case's thread was deleted
SENT, UNREACHABLE, UNCONFIRMED = "sent", "unreachable", "unconfirmed"  # an outbox outcome
SEVERITY_MARK = {"imminent": "🔴", "high": "🟠", "elevated": "🟡", "support": "🔵"}
# A button's payload as the trigger, said as what she did.
READABLE_TRIGGERS = {
    "/request_human": "(she asked for a person with the button)",
    "/talk": "(she asked for a person with /talk)",
}
HEADINGS = {
    "opened": "New case",
    "raised": "Case raised",
    "reannounced": "Still waiting for a moderator",
    TOPIC_LOST: "Case thread reopened (the old one was deleted); the conversation follows",
    RELEASED: "Back in the queue: the moderator who had it can no longer act",
    CANCELLED: "Closed: she cancelled her request for a person before anyone joined",
}


class MemberUnreachable(Exception):
    """She blocked the bot, closed her DMs or left: nothing more can reach her there."""


class ThreadGone(Exception):
    """The case's thread or topic was deleted; a new one will be opened."""


class TransientSendError(Exception):
    """The platform is unreachable or failing for now; try again next round."""


class SentPieces:
    """How many pieces of a split message (longer than the platform allows) went out before a
    later piece failed, per destination and text, in this process. The loop sends a failed
    message again next round; without this, the pieces already shown (the start of a long
    reply, a case card carrying her long message) were sent again with every retry, as when a
    platform's rate limit outlasts its client's own retries (tests/bots/test_rate_limits.py)."""

    LIMIT = 1000  # destinations remembered at most; a message never retried is not kept forever

    def __init__(self) -> None:
        self._sent: dict[tuple[str, str], int] = {}

    async def send(
        self,
        where: str,
        text: str,
        pieces: Sequence[str],
        send_piece: Callable[[str, bool], Awaitable[None]],
    ) -> None:
        """`send_piece(piece, is_last)` for each piece not sent yet, in order."""
        key = (where, text)
        sent = self._sent.pop(key, 0)
        try:
            for index in range(sent, len(pieces)):
                await send_piece(pieces[index], index == len(pieces) - 1)
                sent = index + 1
        except Exception:
            if sent:
                if len(self._sent) >= self.LIMIT:
                    self._sent.clear()
                self._sent[key] = sent
            raise


# Said on the card when she is answered in a language other than English.
WRITES_IN = {"es": "Writes in Spanish: reply in Spanish if you can."}


def asked_for_line(summary: CaseSummary) -> str:
    """ "She asked for Sam again" on the card (community/cases/same_person.py), "" if not."""
    if not summary.asked_for_name:
        return ""
    if summary.asked_for_until is None:
        return (
            f"She asked for {summary.asked_for_name} again, who isn't around: anyone can take it."
        )
    return (
        f"She asked for {summary.asked_for_name} again: theirs to claim first until "
        f"{summary.asked_for_until:%H:%M} UTC, then anyone's."
    )


# Cards that ask for someone to take the case: they name those on shift first (#22).
ASKING_KINDS = ("opened", "raised", "reannounced", RELEASED)


def on_shift_line(names: Sequence[str]) -> str:
    """Who the card is for first: those on shift ("" with nobody on shift, when the card is
    for everyone and the on-call list is alerted at once: community/cases/shifts.py)."""
    return f"For those on shift first: {', '.join(names)}." if names else ""


def case_card_text(summary: CaseSummary, kind: str, on_shift: Sequence[str] | None = None) -> str:
    """The case card; `on_shift` (display names) adds who it is for first, on the cards that
    ask for someone to take the case (None: not said)."""
    mark = SEVERITY_MARK.get(summary.severity, "⚪")
    shift = on_shift_line(on_shift) if on_shift is not None and kind in ASKING_KINDS else ""
    # Staff by display name, never by a platform id (claimed_by may be telegram:555).
    claimer = summary.claimed_by_name or "a moderator"
    claimed = f" · claimed by {claimer}" if summary.claimed_by else ""
    language = WRITES_IN.get(summary.language or "")
    asked = asked_for_line(summary)
    return "\n".join(
        [
            f"{mark} {HEADINGS.get(kind, 'Case')} #{summary.id}: {summary.severity} · "
            f"{summary.category} · {summary.member} (from {summary.platform})",
            f"Waiting {int(summary.waited_seconds // 60)} min{claimed}",
            *([asked] if asked else []),
            *([shift] if shift else []),
            *([language] if language else []),
            f"What she wrote: {READABLE_TRIGGERS.get(summary.trigger, summary.trigger)}",
        ]
    )


class PlatformSender(Protocol):
    """The sends one platform supplies to the delivery path; no database, no retries here."""

    platform: str  # the members' platform whose outbox it delivers
    home: str  # the moderation home it announces cases to
    announces_cases: bool  # whether that home is set up on this platform

    async def send_to_member(self, address: str, reply: Reply) -> None:
        """Raise MemberUnreachable or TransientSendError when it did not arrive."""

    async def open_thread(self, name: str, card: str) -> str:
        """A new case thread in the moderation home; its id ("" to post in the home itself).
        `card` is the case's card, for a home whose new thread must be announced where
        moderators look (Discord: an alert in the channel, the thread started from it)."""

    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        """The case card with its buttons. Raise ThreadGone or TransientSendError."""

    async def post_in_thread(self, thread_id: str, text: str) -> None:
        """Raise ThreadGone or TransientSendError."""

    async def post_to_community(self, text: str) -> None:
        """Post in the community channel, if the platform has one. Raise TransientSendError."""


class Delivery:
    """One round every second, or at once when woken; a failed round is retried, not lost."""

    def __init__(
        self, database: Database, sender: PlatformSender, zone: str = "America/New_York"
    ) -> None:
        self.database = database
        self.sender = sender
        self.zone = zone  # the community's time zone: a session's time is said in it
        self.platform = sender.platform
        self.home = sender.home
        self._wake = asyncio.Event()
        self._running = True

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
        await self._deliver_session_posts()
        if self.sender.announces_cases:
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
                .values(delivered_at=now, text=None, attachment=None, outcome=UNCONFIRMED)
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
                    await self.sender.send_to_member(address, reply)
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
                    .values(delivered_at=utcnow(), text=None, attachment=None, outcome=outcome)
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
            # Written in her language (a person's words are signed in it too).
            language = await member_language(session, item.member_id)
            return address, Reply(
                item.text,
                buttons,
                sender_name=item.sender_name,
                language=language,
                attachment=Attachment.from_row(item.attachment),
            )

    async def _release(self, outbox_id: int) -> None:
        async with self.database.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(sending_at=None)
            )

    async def _deliver_community_posts(self) -> None:
        """Approved research questions, posted once in the community channel if one is set.
        Like every stream here: read and commit, send with no transaction open, then mark."""
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
            posts = [
                (post.question_id, community_post_text(question)) for post, question in pending
            ]
        for question_id, text in posts:
            try:
                await self.sender.post_to_community(text)
            except TransientSendError:
                await self._count_attempt(
                    CommunityPost,
                    CommunityPost.home == self.home,
                    CommunityPost.question_id == question_id,
                )
                break
            async with self.database.transaction() as session:
                await session.execute(
                    update(CommunityPost)
                    .where(
                        CommunityPost.home == self.home, CommunityPost.question_id == question_id
                    )
                    .values(posted_at=utcnow(), attempts=CommunityPost.attempts + 1)
                )

    async def _deliver_session_posts(self) -> None:
        """Announced discussion sessions, posted once in the community channel (without the
        place or link: those go privately to each mother who says yes)."""
        async with self.database.transaction() as session:
            pending = (
                await session.execute(
                    select(SessionPost, DiscussionSession)
                    .join(DiscussionSession, DiscussionSession.id == SessionPost.session_id)
                    .where(SessionPost.home == self.home, SessionPost.posted_at.is_(None))
                    .order_by(SessionPost.session_id)
                    .limit(BATCH)
                )
            ).all()
            posts = [
                (post.session_id, session_post_text(item, self.zone)) for post, item in pending
            ]
        for session_id, text in posts:
            where = (SessionPost.home == self.home, SessionPost.session_id == session_id)
            try:
                await self.sender.post_to_community(text)
            except TransientSendError:
                await self._count_attempt(SessionPost, *where)
                break
            async with self.database.transaction() as session:
                await session.execute(
                    update(SessionPost)
                    .where(*where)
                    .values(posted_at=utcnow(), attempts=SessionPost.attempts + 1)
                )

    async def _count_attempt(self, table: Any, *where: Any) -> None:
        """A send that failed for now is counted; it is tried again next round."""
        async with self.database.transaction() as session:
            await session.execute(update(table).where(*where).values(attempts=table.attempts + 1))

    async def _deliver_notifications(self) -> None:
        """Case cards, the most urgent case first: a backlog of cards (a busy night, a platform
        that was down, its rate limit) never holds an imminent crisis behind older, calmer
        ones. Read a few at a time, so one that arrives meanwhile goes next."""
        for _ in range(BATCH // NOTIFICATION_ROUND):
            # The live conversations never wait behind the cards: what goes to her (a
            # moderator's reply, who joined or left) and what she wrote, relayed to the
            # moderator in her case's thread, go before each card. A card waits for the group's
            # pacing (3 s each in a Telegram group), so fifty queued cards would hold her next
            # message for minutes.
            await self._deliver_outbox()
            await self._relay_transcripts()
            if not await self._deliver_notification_round():
                return

    async def _deliver_notification_round(self) -> bool:
        """Post up to NOTIFICATION_ROUND cards; whether another round may find more."""
        async with self.database.transaction() as session:
            pending = (
                await session.execute(
                    select(Notification, Case)
                    .join(Case, Case.id == Notification.case_id)
                    .where(Notification.home == self.home, Notification.delivered_at.is_(None))
                    # Within a case its cards keep their order (they share its rank).
                    .order_by(Case.severity_rank.desc(), Notification.id)
                    .limit(NOTIFICATION_ROUND)
                )
            ).all()
            actions = ModeratorActions(session)
            cards = [
                (notification.id, notification.kind, await actions.summary(case))
                for notification, case in pending
            ]
            shift = [s.display_name for s in await on_shift(session)] if cards else []
        for notification_id, kind, summary in cards:
            card = case_card_text(summary, kind, shift)
            try:
                thread = await self._thread_for(summary, card, replay=kind == TOPIC_LOST)
                if kind == CANCELLED:  # closed: a line, no buttons to act on
                    await self.sender.post_in_thread(thread, card)
                else:
                    await self.sender.post_card(
                        thread,
                        card,
                        summary.id,
                        claimed=summary.claimed_by is not None,
                    )
            except ThreadGone:
                await self._forget_thread(summary.id)
                await self._count_attempt(Notification, Notification.id == notification_id)
                continue
            except TransientSendError:
                await self._count_attempt(Notification, Notification.id == notification_id)
                return False
            async with self.database.transaction() as session:
                await session.execute(
                    update(Notification)
                    .where(Notification.id == notification_id)
                    .values(delivered_at=utcnow(), attempts=Notification.attempts + 1)
                )
        return len(cards) == NOTIFICATION_ROUND

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
            posts = [(post.id, post.text) for post in pending]
        for post_id, text in posts:
            try:
                await self.sender.post_in_thread("", text)
            except (TransientSendError, ThreadGone):
                await self._count_attempt(HomePost, HomePost.id == post_id)
                break
            async with self.database.transaction() as session:
                await session.execute(
                    update(HomePost)
                    .where(HomePost.id == post_id)
                    .values(posted_at=utcnow(), text="", attempts=HomePost.attempts + 1)
                )

    async def _relay_transcripts(self) -> None:
        """Her messages (and the bot's crisis reply) appear in the case's thread. What was
        relayed is marked after each case's sends (a crash in between may repeat a line; it
        never drops one)."""
        async with self.database.transaction() as session:
            rows = (
                await session.execute(
                    select(CaseThread, Case)
                    .join(Case, Case.id == CaseThread.case_id)
                    .where(CaseThread.home == self.home, Case.status.in_(OPEN_CASE_STATUSES))
                )
            ).all()
            relays: list[tuple[int, str, list[tuple[int, str, str]]]] = []
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
                if turns:
                    relays.append(
                        (case.id, thread.thread_id, [(t.id, t.author, t.text) for t in turns])
                    )
        for case_id, thread_id, lines in relays:
            relayed = 0
            try:
                for turn_id, author, text in lines:
                    who = {"member": "She wrote", "screen": "⚠ Screen"}.get(
                        author, "The bot told her"
                    )
                    if not thread_id:
                        who = f"#{case_id} {who}"  # no threads: say which case
                    await self.sender.post_in_thread(thread_id, f"{who}:\n{text}")
                    relayed = turn_id
            except ThreadGone:
                await self._forget_thread(case_id)
                continue
            except TransientSendError:
                pass
            finally:
                if relayed:
                    await self._mark_relayed(case_id, relayed)

    async def _mark_relayed(self, case_id: int, message_id: int) -> None:
        async with self.database.transaction() as session:
            await session.execute(
                update(CaseThread)
                .where(
                    CaseThread.case_id == case_id,
                    CaseThread.home == self.home,
                    CaseThread.relayed_message_id < message_id,
                )
                .values(relayed_message_id=message_id)
            )

    async def _thread_for(self, summary: CaseSummary, card: str, replay: bool) -> str:
        """The case's thread, opened on first use (the platform call with no transaction open).
        A new thread relays from after the card; one replacing a deleted thread (`replay`)
        relays the whole conversation again."""
        async with self.database.sessions() as session:
            existing = await session.get(CaseThread, (summary.id, self.home))
            if existing is not None:
                return existing.thread_id
        name = f"{summary.severity} · {summary.category} · {summary.member}"
        thread_id = await self.sender.open_thread(name, card)
        async with self.database.transaction() as session:
            last = await session.scalar(
                select(CaseMessage.id)
                .where(CaseMessage.case_id == summary.id)
                .order_by(CaseMessage.id.desc())
                .limit(1)
            )
            await session.execute(
                insert_ignoring_conflicts(session, CaseThread)
                .values(
                    case_id=summary.id,
                    home=self.home,
                    thread_id=thread_id,
                    relayed_message_id=0 if replay else (last or 0),
                )
                .on_conflict_do_nothing(index_elements=["case_id", "home"])
            )
            stored = await session.get(CaseThread, (summary.id, self.home))
        return stored.thread_id if stored is not None else thread_id

    async def _forget_thread(self, case_id: int) -> None:
        async with self.database.transaction() as session:
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
