"""Logging set-up for peerbot processes: one line per event, no message text, no platform ids.

Our own log calls pass only safe fields as `extra` (case ids, categories, error types). Library
loggers that would print request URLs (which carry web chat ids) are turned down here.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from sqlalchemy.exc import DBAPIError, StatementError

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

SAFE_FIELDS = (
    "case_id", "category", "severity", "platform", "error", "component", "seconds", "mode",
    "retry_in_seconds", "outbox_id", "resource_id", "question_id", "reminder_id", "count",
    "cases", "layers", "role", "answer", "route", "session_id",
)  # fmt: skip
# Each is a number, one of our own ids, or a word from a fixed set (a check's answer, a staff
# role, a route's template, the screen's layers): never her words or a platform's id.
# httpx logs every request URL at INFO; uvicorn's access log prints paths with chat ids.
QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "apscheduler", "telegram", "discord")


class SafeFieldsFormatter(logging.Formatter):
    """Appends whitelisted `extra` fields as key=value; everything else in `extra` is dropped."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{k}={getattr(record, k)}" for k in SAFE_FIELDS if hasattr(record, k)]
        return f"{line} {' '.join(fields)}" if fields else line

    def formatException(self, ei: ExcInfo) -> str:
        """A database error's message is withheld: PostgreSQL's DETAIL repeats the values of a
        failed statement ("Key (...)=(her words) already exists"), and SQLAlchemy's adds the
        statement. The traceback and the error's kind stay, for whoever debugs it."""
        error = ei[1]
        if not isinstance(error, StatementError):
            return super().formatException(ei)
        original = error.orig if isinstance(error, DBAPIError) else None
        code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        kind = type(original).__name__ if original is not None else "statement error"
        lines = ["Traceback (most recent call last):\n", *traceback.format_tb(ei[2])]
        lines.append(
            f"{type(error).__module__}.{type(error).__qualname__}: {kind}"
            f"{f' (SQLSTATE {code})' if code else ''}; the database's message is withheld"
        )
        return "".join(lines)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
