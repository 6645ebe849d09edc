"""Logging set-up for peerbot processes: one line per event, no message text, no platform ids.

Our own log calls pass only safe fields as `extra` (case ids, categories, error types). Library
loggers that would print request URLs (which carry web chat ids) are turned down here.
"""

from __future__ import annotations

import logging
import sys

SAFE_FIELDS = (
    "case_id", "category", "severity", "platform", "error", "component", "seconds", "mode",
    "retry_in_seconds", "outbox_id", "resource_id",
)  # fmt: skip
# httpx logs every request URL at INFO; uvicorn's access log prints paths with chat ids.
QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "apscheduler", "telegram", "discord")


class SafeFieldsFormatter(logging.Formatter):
    """Appends whitelisted `extra` fields as key=value; everything else in `extra` is dropped."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{k}={getattr(record, k)}" for k in SAFE_FIELDS if hasattr(record, k)]
        return f"{line} {' '.join(fields)}" if fields else line


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
