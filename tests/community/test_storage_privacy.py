"""What a local reader or a log could learn from storage: the SQLite file and var/ are
owner-only (and fixed at start-up if an older version left them open), and a failed statement
never carries the values it was given (her words) into an error or a log line."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import insert

from community.db import Database, migrate, private_directory
from community.models import Member, utcnow
from peerbot.logs import SafeFieldsFormatter


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_and_var_are_owner_only(tmp_path: Path) -> None:
    var = tmp_path / "var"
    database = var / "peerbot.sqlite3"
    migrate(f"sqlite:///{database}")
    assert _mode(database) == 0o600
    assert _mode(var) == 0o700
    # An older version's 0644 file in a 0755 folder is fixed when the app starts.
    database.chmod(0o644)
    var.chmod(0o755)
    migrate(f"sqlite:///{database}")
    private_directory(var)
    assert _mode(database) == 0o600
    assert _mode(var) == 0o700


async def test_a_failed_statement_does_not_carry_her_words_into_the_log(
    database: Database,
) -> None:
    """SQLAlchemy hides the parameters; PostgreSQL's own DETAIL repeats them, so the log's
    formatter withholds a database error's message and keeps its kind and traceback."""
    words = "i want to kill myself, my name is Rosa Delgado"
    row = {"pseudonym": words, "role": "mother", "created_at": utcnow()}
    async with database.transaction() as session:
        await session.execute(insert(Member).values(**row))
    with pytest.raises(Exception) as failed:
        async with database.transaction() as session:
            await session.execute(insert(Member).values(**row))  # the same pseudonym again
    assert "SQL parameters hidden" in str(failed.value)
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "case not recorded", None, None)
    record.exc_info = (type(failed.value), failed.value, failed.value.__traceback__)
    line = SafeFieldsFormatter("%(message)s").format(record)
    assert "Rosa" not in line and "kill" not in line
    assert "IntegrityError" in line and "withheld" in line
