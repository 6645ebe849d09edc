"""A local stand-in for Rasa's REST channel: counts calls, can answer slowly or with a handoff."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.bots.standin_util import serve_in_thread


@dataclass
class RasaStandIn:
    url: str = ""
    delay_seconds: float = 0.0
    reply: list[dict[str, Any]] = field(
        default_factory=lambda: [{"recipient_id": "x", "text": "Hello from the stand-in"}]
    )
    received: list[dict[str, Any]] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)  # paths of tracker wipes (PUT)
    # Rasa's tracker API: when set, GET /conversations/<id>/tracker answers with this as its
    # latest message (what the parse read); the paths asked are kept.
    latest_message: dict[str, Any] | None = None
    tracker_reads: list[str] = field(default_factory=list)


@contextmanager
def rasa_standin() -> Iterator[RasaStandIn]:
    state = RasaStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(json.loads(body))
            time.sleep(state.delay_seconds)
            payload = json.dumps(state.reply).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            state.forgotten.append(self.path)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def do_GET(self) -> None:
            if self.path.startswith("/conversations/") and state.latest_message is not None:
                state.tracker_reads.append(self.path)
                payload = json.dumps({"latest_message": state.latest_message}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serve_in_thread(Handler) as url:
        state.url = url
        yield state
