"""The connection pool is filled when the app starts, not inside the first burst of crises."""

from __future__ import annotations

from community.db import POSTGRES_POOL_SIZE, Database


async def test_warming_opens_the_whole_pool(database: Database) -> None:
    pool = database.engine.pool
    assert pool.checkedin() <= 1  # nothing opened yet but what migrations may have left
    opened = await database.warm()
    expected = POSTGRES_POOL_SIZE if database.engine.dialect.name == "postgresql" else 1
    assert opened == expected
    assert pool.checkedin() == expected  # open and back in the pool, none held


async def test_warming_a_database_that_is_away_opens_nothing_and_does_not_raise() -> None:
    away = Database.connect("postgresql://nobody@127.0.0.1:9/none")
    try:
        assert await away.warm() == 0
    finally:
        await away.dispose()
