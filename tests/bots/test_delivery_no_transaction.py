"""The delivery loop sends with no database transaction open: on SQLite the app has one
connection, so a platform send held open inside a transaction would make a crisis wait for it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bots.dialogue import DialogueClient
from bots.gateway import Gateway, GatewayConfig
from community.db import Database
from community.delivery import Delivery
from community.messages import InboundMessage, Reply
from community.models import Case, Notification

KEY = b"k" * 48


class HeldPlatform:
    """A platform whose every send hangs until released, as a slow or rate-limited one does."""

    platform = "telegram"
    home = "telegram"
    announces_cases = True

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.release = asyncio.Event()
        self.cards: list[int] = []

    async def _hold(self) -> None:
        self.sending.set()
        await self.release.wait()

    async def send_to_member(self, address: str, reply: Reply) -> None:
        await self._hold()

    async def open_thread(self, name: str, card: str) -> str:
        await self._hold()
        return "thread-1"

    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        await self._hold()
        self.cards.append(case_id)

    async def post_in_thread(self, thread_id: str, text: str) -> None:
        await self._hold()

    async def post_to_community(self, text: str) -> None:
        await self._hold()


async def test_a_crisis_is_answered_and_recorded_while_a_platform_send_hangs(
    database: Database,
) -> None:
    gateway = Gateway(
        GatewayConfig(KEY, 4000, ("telegram",)), database, DialogueClient("http://127.0.0.1:9", 1.0)
    )
    await gateway.handle(InboundMessage("telegram", "first", "i took all my pills"))
    platform = HeldPlatform()
    delivering = asyncio.create_task(Delivery(database, platform).deliver_once())
    await asyncio.wait_for(platform.sending.wait(), 10)  # the thread for the first case is opening
    # While that send hangs, a second crisis gets its reply and its case, in full.
    replies = await asyncio.wait_for(
        gateway.handle(InboundMessage("telegram", "second", "he is choking me")), 10
    )
    assert "911" in "\n".join(r.text for r in replies)
    assert not delivering.done()  # the send was still in flight
    async with database.sessions() as session:
        categories = sorted((await session.scalars(select(Case.category))).all())
    assert categories == ["overdose", "violence"]
    platform.release.set()
    await asyncio.wait_for(delivering, 10)
    async with database.sessions() as session:
        delivered = (
            await session.scalars(
                select(Notification.case_id).where(
                    Notification.delivered_at.is_not(None), Notification.home == "telegram"
                )
            )
        ).all()
    assert delivered  # the held card was marked once it went out


async def test_the_most_urgent_case_is_carded_first_whatever_the_backlog(
    database: Database,
) -> None:
    """A backlog of calm cases (a busy night, a platform that was down) never holds an imminent
    crisis behind it: cards go most urgent first, and one that arrives mid-backlog goes next."""
    from community.cases.handoff import HandoffCases
    from community.members import resolve_member

    async with database.transaction() as session:
        for n in range(12):
            member = await resolve_member(session, KEY, "telegram", f"waiting-{n}")
            await HandoffCases(session, ("telegram",)).open_on_request(
                member, "telegram", "can i talk to someone"
            )
    gateway = Gateway(
        GatewayConfig(KEY, 4000, ("telegram",)), database, DialogueClient("http://127.0.0.1:9", 1.0)
    )
    platform = HeldPlatform()
    platform.release.set()
    await gateway.handle(InboundMessage("telegram", "urgent", "my baby is not breathing"))
    async with database.sessions() as session:
        urgent = await session.scalar(select(Case.id).where(Case.category == "baby_danger"))
    await asyncio.wait_for(Delivery(database, platform).deliver_once(), 10)
    assert platform.cards[0] == urgent
    assert sorted(platform.cards) == sorted({*platform.cards}) and len(platform.cards) == 13


class OrderedPlatform(HeldPlatform):
    """Records every group send in order; the first card waits until released, as a paced
    moderators' group makes it wait."""

    def __init__(self) -> None:
        super().__init__()
        self.sends: list[str] = []
        self.first_card = asyncio.Event()

    async def send_to_member(self, address: str, reply: Reply) -> None:
        self.sends.append("member")

    async def open_thread(self, name: str, card: str) -> str:
        return f"thread-{len(self.sends)}"

    async def post_card(self, thread_id: str, text: str, case_id: int, claimed: bool) -> None:
        self.sends.append(f"card {case_id}")
        if not self.first_card.is_set():
            self.first_card.set()
            await self.release.wait()

    async def post_in_thread(self, thread_id: str, text: str) -> None:
        self.sends.append(text)


async def test_her_next_message_in_a_carded_case_goes_before_a_backlog_of_cards(
    database: Database,
) -> None:
    """A moderator talking with her in the case's thread sees her next message at once, not
    after every card queued on a busy night (each waits for the group's pacing)."""
    from community.cases.handoff import HandoffCases
    from community.members import resolve_member

    gateway = Gateway(
        GatewayConfig(KEY, 4000, ("telegram",)), database, DialogueClient("http://127.0.0.1:9", 1.0)
    )
    await gateway.handle(InboundMessage("telegram", "her", "i took all my pills"))
    platform = OrderedPlatform()
    platform.first_card.set()  # her own card goes straight out
    await asyncio.wait_for(Delivery(database, platform).deliver_once(), 10)
    async with database.transaction() as session:
        for n in range(12):
            member = await resolve_member(session, KEY, "telegram", f"waiting-{n}")
            await HandoffCases(session, ("telegram",)).open_on_request(
                member, "telegram", "can i talk to someone"
            )
    platform.first_card.clear()
    platform.sends.clear()
    delivering = asyncio.create_task(Delivery(database, platform).deliver_once())
    await asyncio.wait_for(platform.first_card.wait(), 10)  # the first backlog card is in flight
    await gateway.handle(InboundMessage("telegram", "her", "my sister is here now"))
    platform.release.set()
    await asyncio.wait_for(delivering, 10)
    cards = [i for i, sent in enumerate(platform.sends) if sent.startswith("card")]
    hers = next(i for i, sent in enumerate(platform.sends) if "my sister is here now" in sent)
    assert len(cards) == 12
    assert hers < cards[1]  # after the card in flight, before the other eleven
