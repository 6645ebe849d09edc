"""The moderators' group's pacing (bots/telegram/ratelimit.py): Telegram's 20 messages a minute
per group, with a moderator's own action and the conversation in a case topic going before new
case cards queued behind the limit. The real limiter, with a faster clock than a minute, paces
requests whose callback records when it ran (python-telegram-bot calls it the same way)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from bots.telegram.ratelimit import GroupPace, PerChatRateLimiter, ahead_of_cards

GROUP = -1001234567890
MOTHER = 5550101


async def test_a_moderators_claim_goes_before_the_queued_cards() -> None:
    limiter = PerChatRateLimiter(max_retries=0, group_rate=2, group_period=0.6)
    sent: list[str] = []

    async def send(label: str, chat: int) -> dict[str, Any]:
        async def callback() -> dict[str, Any]:
            sent.append(label)
            return {"ok": True}

        return await limiter.process_request(
            callback, (), {}, "sendMessage", {"chat_id": chat}, None
        )  # type: ignore[return-value]

    cards = [asyncio.create_task(send(f"card {n}", GROUP)) for n in range(6)]
    await asyncio.sleep(0.05)  # two cards go at once, four wait for the bucket to drain
    assert sent == ["card 0", "card 1"]

    async def claim() -> None:
        with ahead_of_cards():
            await send("claimed", GROUP)

    claimed = asyncio.create_task(claim())
    await asyncio.sleep(0.05)
    await send("to her", MOTHER)  # a private chat is not paced by the group's limit
    assert sent[-1] == "to her" and "claimed" not in sent
    await asyncio.gather(claimed, *cards)
    assert sent == ["card 0", "card 1", "to her", "claimed", "card 2", "card 3", "card 4", "card 5"]


async def test_the_pace_holds_to_its_rate_in_each_lane() -> None:
    pace = GroupPace(rate=2, period=0.4)  # 5 a second once the burst of 2 is used
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def take(ahead: bool) -> None:
        await pace.acquire(ahead)
        times.append(loop.time())

    started = loop.time()
    await asyncio.gather(*(take(n % 2 == 0) for n in range(7)))
    # 2 at once, then one every 0.2 s: the 7th about 1.0 s after the start, never sooner.
    assert times[-1] - started >= 0.95
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[2:])]
    assert all(gap >= 0.18 for gap in gaps), gaps


async def test_a_send_given_up_while_waiting_leaves_the_line() -> None:
    pace = GroupPace(rate=1, period=0.3)
    await pace.acquire(ahead=False)
    order: list[str] = []

    async def take(label: str, ahead: bool) -> None:
        await pace.acquire(ahead)
        order.append(label)

    gone = asyncio.create_task(take("gone", ahead=True))
    waiting = asyncio.create_task(take("card", ahead=False))
    await asyncio.sleep(0.05)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    await asyncio.wait_for(waiting, 2)  # the line moved on without the cancelled send
    assert order == ["card"]
