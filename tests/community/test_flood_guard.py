"""The flood guard's limits: counted per keyed address and per wording, shared through Redis by
several app processes, and never the reason a crisis goes unanswered when the store fails."""

from __future__ import annotations

import os
import secrets

import pytest

from community.flood_guard import FloodGuard, FloodLimits

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


async def test_crises_from_new_chats_become_a_flood_by_address_then_by_words() -> None:
    guard = FloodGuard(secrets.token_bytes(32))
    first = await guard.crisis_from_new_chat("10.0.0.1", "i took all my pills")
    second = await guard.crisis_from_new_chat("10.0.0.1", "I took ALL my pills!!")
    third = await guard.crisis_from_new_chat("10.0.0.1", "i took all my pills 3")
    assert first.flood is None and second.flood is None
    assert third.flood is not None and third.flood.kind == "address"
    assert first.words_signature == second.words_signature == third.words_signature
    # Elsewhere, the same words are already a flood; other words are not.
    elsewhere = await guard.crisis_from_new_chat("10.9.9.9", "i took all my pills")
    assert elsewhere.flood is not None and elsewhere.flood.kind == "words"
    other = await guard.crisis_from_new_chat("10.9.9.9", "he hit me and took the baby")
    assert other.flood is None
    assert "10.0.0.1" not in str(third)  # only keyed hashes


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_two_app_processes_share_their_limits_through_redis() -> None:
    key = secrets.token_bytes(32)  # fresh counters: signatures are keyed
    limits = FloodLimits(per_address="3/minute")
    one, two = FloodGuard(key, REDIS_URL, limits), FloodGuard(key, REDIS_URL, limits)
    allowed = [await guard.allow_message("198.51.100.7") for guard in (one, two, one, two)]
    assert allowed == [True, True, True, False]


async def test_a_store_that_fails_lets_everything_through() -> None:
    guard = FloodGuard(secrets.token_bytes(32), "redis://127.0.0.1:9/0")  # nothing listens
    assert await guard.allow_message("198.51.100.8")
    assert await guard.allow_new_chat("198.51.100.8")
    assert (await guard.crisis_from_new_chat("198.51.100.8", "i took all my pills")).flood is None


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_one_members_burst_is_counted_across_app_processes() -> None:
    key = secrets.token_bytes(32)
    one, two = FloodGuard(key, REDIS_URL), FloodGuard(key, REDIS_URL)
    assert one.shared and two.shared and not FloodGuard(key).shared
    said = [
        await guard.member_burst("web:mom-1", 3, 10) for guard in (one, two, one, two, one, two)
    ]
    assert said == ["ok", "ok", "ok", "warn", "quiet", "quiet"]
    assert await two.member_burst("web:mom-2", 3, 10) == "ok"  # her own window
    failing = FloodGuard(key, "redis://127.0.0.1:9/0")
    assert await failing.member_burst("web:mom-1", 3, 10) == "ok"  # never silences her


def _store_connections(guard: FloodGuard) -> int:
    """The guard's connections, as Redis lists them."""
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        listed = client.client_list()
    return sum(1 for entry in listed if entry.get("name") == guard.store_name)


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_a_burst_shares_a_bounded_pool_of_redis_connections_opened_at_start() -> None:
    """Two hundred crises at once used to open a Redis connection nearly each (a handshake and
    more every time); the pool is bounded, and `warm` opens it before the first burst."""
    import asyncio

    from community.flood_guard import REDIS_POOL_SIZE

    guard = FloodGuard(secrets.token_bytes(32), REDIS_URL)  # fresh key: counters of its own
    assert await guard.warm() == REDIS_POOL_SIZE
    assert _store_connections(guard) == REDIS_POOL_SIZE
    found = await asyncio.gather(
        *(guard.crisis_from_new_chat(f"198.51.100.{n}", f"i took my pills {n}") for n in range(200))
    )
    assert len(found) == 200
    assert _store_connections(guard) == REDIS_POOL_SIZE


async def test_warming_a_store_that_is_away_does_not_raise() -> None:
    assert await FloodGuard(secrets.token_bytes(32), "redis://127.0.0.1:9/0").warm() == 0
    assert await FloodGuard(secrets.token_bytes(32)).warm() == 0  # memory: nothing to open
