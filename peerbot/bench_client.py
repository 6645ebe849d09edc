"""A light HTTP/1.1 client for the benchmarks: raw asyncio streams over keep-alive connections.

The handoff benchmark measures a server on the same machine; httpx spent about as much CPU on
sending 200 requests as the app spent answering them, so the measuring tool took one of the two
cores the workers needed. This client writes each request as bytes already built and reads only
the status line, the headers it needs and the body: enough for JSON APIs on our own server.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

HEADER_LIMIT = 64 * 1024


class BenchHTTPError(Exception):
    """The server answered with something other than a complete HTTP/1.1 response."""


@dataclass(frozen=True)
class BenchResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise BenchHTTPError(f"HTTP {self.status}")


class BenchConnection:
    """One keep-alive connection; requests on it go one at a time."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError("the benchmark client speaks plain http to a host")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._authority = parts.netloc.encode("ascii")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> BenchResponse:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self._host, self._port, limit=HEADER_LIMIT
            )
        assert self._reader is not None
        payload = b"" if body is None else json.dumps(body).encode("utf-8")
        lines = [
            f"{method} {path} HTTP/1.1".encode("ascii"),
            b"Host: " + self._authority,
            b"Content-Length: " + str(len(payload)).encode("ascii"),
        ]
        if body is not None:
            lines.append(b"Content-Type: application/json")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}".encode("latin-1"))
        self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + payload)
        try:
            return await self._read_response()
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise

    async def _read_response(self) -> BenchResponse:
        assert self._reader is not None
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise BenchHTTPError("not an HTTP/1.1 response")
        length = 0
        keep_alive = True
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding":
                raise BenchHTTPError("chunked responses are not read by the benchmark client")
            elif name == "connection" and value.strip().lower() == "close":
                keep_alive = False
        body = await self._reader.readexactly(length) if length else b""
        if not keep_alive:
            await self.close()
        return BenchResponse(int(parts[1]), body)

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with suppress(ConnectionError):  # the server closed it first
                await writer.wait_closed()
