"""A local stand-in for Telegram's Bot API: serves queued updates to getUpdates (long polling,
offsets honoured like Telegram's), records every call the bot makes, and answers the methods
peerbot uses with objects shaped as the Bot API documents them. It can refuse calls as Telegram
does, including flood control (429 with `parameters.retry_after`, see `rate_limit`)."""

from __future__ import annotations

import contextlib
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.bots.standin_util import serve_in_thread, wait_until

TOKEN = "123456:TEST-token-for-the-stand-in"
BOT = {"id": 999000, "is_bot": True, "first_name": "peerbot", "username": "peerbot_test_bot"}
# Parameters PTB sends JSON-encoded in its form data; everything else stays a string.
JSON_PARAMS = {
    "reply_markup", "allowed_updates", "commands", "offset", "timeout", "limit", "chat_id",
    "message_thread_id", "user_id", "message_id", "show_alert", "drop_pending_updates",
}  # fmt: skip


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200  # what the stand-in answered: 200, or the refusal's code
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class BotApiStandIn:
    url: str = ""
    moderator_chat_id: int = -1001234567890
    moderators: set[int] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # method -> how many 502s to give
    # (method, predicate on params, error code, description, times left, parameters or None):
    # Telegram refusing.
    refusals: list[list[Any]] = field(default_factory=list)
    # Seconds each sendMessage takes after it was received (a slow network or Bot API).
    send_delay: float = 0.0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Condition = field(default_factory=threading.Condition)

    # -- what tests send ---------------------------------------------------------------------

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        with self._lock:
            update_id = next(self._update_ids)
            self.updates.append({"update_id": update_id, kind: payload})
            self._lock.notify_all()
        return update_id

    def push_raw(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)
            self._lock.notify_all()

    def private_message(
        self, user_id: int, text: str | None = None, language_code: str | None = None, **extra: Any
    ) -> int:
        """Her message in her private chat; `language_code` is her app's language, as Telegram
        sends it in `from` (absent when she has none set)."""
        message = {
            "message_id": next(self._ids), "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Mom"},
            "from": _sender(user_id, "Mom", language_code),
            **extra,
        }  # fmt: skip
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push("message", message)

    def edited_message(self, user_id: int, text: str) -> int:
        message = {
            "message_id": next(self._ids), "date": int(time.time()), "edit_date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Mom"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Mom"}, "text": text,
        }  # fmt: skip
        return self.push("edited_message", message)

    def topic_message(self, user_id: int, thread_id: int, text: str, name: str = "Ana") -> int:
        message = {
            "message_id": next(self._ids), "date": int(time.time()),
            "chat": {"id": self.moderator_chat_id, "type": "supergroup", "title": "Mods",
                     "is_forum": True},
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "message_thread_id": thread_id, "is_topic_message": True, "text": text,
        }  # fmt: skip
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self.push("message", message)

    def group_message(
        self, user_id: int, text: str, reply_to_text: str | None = None, name: str = "Ana"
    ) -> int:
        """A message in the moderators' group outside any topic, maybe replying to the bot."""
        chat = {"id": self.moderator_chat_id, "type": "supergroup", "title": "Mods"}
        message: dict[str, Any] = {
            "message_id": next(self._ids), "date": int(time.time()), "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": name}, "text": text,
        }  # fmt: skip
        if reply_to_text is not None:
            message["reply_to_message"] = {
                "message_id": next(self._ids), "date": int(time.time()), "chat": chat,
                "from": BOT, "text": reply_to_text,
            }  # fmt: skip
        return self.push("message", message)

    def button_press(
        self,
        user_id: int,
        data: str,
        chat_id: int,
        thread_id: int | None = None,
        name: str = "Someone",
        language_code: str | None = None,
    ) -> int:
        chat_type = "private" if chat_id > 0 else "supergroup"
        message: dict[str, Any] = {
            "message_id": next(self._ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type}, "from": BOT, "text": "(buttons)",
        }  # fmt: skip
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        query = {
            "id": str(next(self._ids)), "chat_instance": "x", "data": data, "message": message,
            "from": _sender(user_id, name, language_code),
        }  # fmt: skip
        return self.push("callback_query", query)

    def refuse(
        self,
        method: str,
        predicate: Any,
        code: int,
        description: str,
        times: int = 1,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        with self._lock:
            self.refusals.append([method, predicate, code, description, times, parameters])

    def rate_limit(
        self, method: str, times: int, retry_after: int = 1, when: Any = lambda params: True
    ) -> None:
        """Flood control, as Telegram answers it: the next `times` calls of `method` (those whose
        params `when` accepts) get 429 with `parameters.retry_after` (whole seconds)."""
        self.refuse(
            method, when, 429, f"Too Many Requests: retry after {retry_after}", times,
            {"retry_after": retry_after},
        )  # fmt: skip

    # -- what tests read ---------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
            ]

    def texts_to(self, chat_id: int) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.sent("sendMessage", chat_id)]

    def delivered(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        """The calls Telegram accepted (a refused send did not reach anyone)."""
        return [c for c in self.sent(method, chat_id) if c.status == 200]

    def delivered_texts(self, chat_id: int) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.delivered("sendMessage", chat_id)]

    def limited(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        """The calls answered with 429."""
        return [c for c in self.sent(method, chat_id) if c.status == 429]

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        await wait_until(predicate, within, lambda: f"calls: {[c.method for c in self.calls]}")

    # -- the API -----------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method != "getUpdates":
            with self._lock:
                call = Call(method, params)
                self.calls.append(call)
                if self.fail_next.get(method, 0) > 0:
                    self.fail_next[method] -= 1
                    call.status = 502
                    return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
                for refusal in self.refusals:
                    name, predicate, code, description, left, parameters = refusal
                    if name == method and left > 0 and predicate(params):
                        refusal[4] -= 1
                        call.status = code
                        body = {"ok": False, "error_code": code, "description": description}
                        if parameters is not None:
                            body["parameters"] = parameters
                        return code, body
        result: Any = True
        if method == "getMe":
            result = {**BOT, "can_join_groups": True, "can_read_all_group_messages": False,
                      "supports_inline_queries": False}  # fmt: skip
        elif method == "getUpdates":
            result = self._get_updates(params)
        elif method == "sendMessage":
            time.sleep(self.send_delay)
            chat_id = params["chat_id"]
            result = {
                "message_id": next(self._ids), "date": int(time.time()), "from": BOT,
                "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"},
                "text": params.get("text", ""),
            }  # fmt: skip
            if params.get("message_thread_id"):
                result["message_thread_id"] = params["message_thread_id"]
        elif method == "sendDocument":
            chat_id = params["chat_id"]
            document = params.get("document") or {}
            result = {
                "message_id": next(self._ids), "date": int(time.time()), "from": BOT,
                "chat": {"id": chat_id, "type": "private"},
                "document": {"file_id": f"doc{next(self._ids)}", "file_unique_id": "u",
                             "file_name": document.get("filename", "")},
            }  # fmt: skip
        elif method == "createForumTopic":
            result = {"message_thread_id": next(self._ids), "name": params["name"],
                      "icon_color": 7322096}  # fmt: skip
        elif method == "getChatMember":
            user_id = int(params["user_id"])
            status = "member" if user_id in self.moderators else "left"
            result = {"status": status, "user": {"id": user_id, "is_bot": False, "first_name": "U"}}
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                # Like Telegram: asking with an offset confirms (forgets) every earlier update.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if self.updates or time.monotonic() >= deadline:
                    return list(self.updates[: int(params.get("limit") or 100)])
                self._lock.wait(max(0.0, deadline - time.monotonic()))


def _sender(user_id: int, name: str, language_code: str | None) -> dict[str, Any]:
    sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
    if language_code is not None:
        sender["language_code"] = language_code
    return sender


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """A file upload (sendDocument): fields as text, a file as {"filename", "content"}."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            params[str(name)] = {"filename": part.get_filename(), "content": payload.decode()}
        else:
            value: Any = payload.decode()
            params[str(name)] = json.loads(value) if name in JSON_PARAMS else value
    return params


def _params(handler: BaseHTTPRequestHandler) -> dict[str, Any]:
    raw = handler.rfile.read(int(handler.headers.get("content-length", 0)))
    content_type = handler.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return _multipart(content_type, raw)
    body = raw.decode()
    if content_type.startswith("application/json"):
        return dict(json.loads(body or "{}"))
    params: dict[str, Any] = {}
    for key, values in parse_qs(body, keep_blank_values=True).items():
        value: Any = values[0]
        if key in JSON_PARAMS:
            value = json.loads(value)
        params[key] = value
    return params


@contextmanager
def bot_api_standin() -> Iterator[BotApiStandIn]:
    state = BotApiStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            prefix = f"/bot{TOKEN}/"
            if not self.path.startswith(prefix):
                self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            status, body = state.handle(self.path[len(prefix) :], _params(self))
            self._send(status, body)

        do_GET = do_POST

        def _send(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)  # the bot may hang up a long poll when it stops

        def log_message(self, *args: Any) -> None:
            pass

    with serve_in_thread(Handler) as url:
        state.url = url
        yield state
