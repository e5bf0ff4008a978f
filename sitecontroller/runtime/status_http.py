"""A tiny HTTP server for the node: `GET /api/status` for everyone who can reach it, and the local
operator's commands (`POST /api/local/...`) from this machine only (the touch screen, the CLI).
One read-only route and a handful of commands do not justify a web framework on the Pi."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Callable

from sitecontroller.runtime.commands import CommandResult

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 8192
READ_TIMEOUT_S = 5.0
REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}

StatusProvider = Callable[[], dict[str, object]]
# (command name, JSON body) -> result; the names are the last part of /api/local/<name>.
LocalCommand = Callable[[str, object], CommandResult]


class StatusServer:
    def __init__(
        self, provider: StatusProvider, host: str, port: int, local_command: LocalCommand | None = None
    ) -> None:
        self._provider = provider
        self._local_command = local_command
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            if len(head) > MAX_REQUEST_BYTES:
                raise ValueError("request too large")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = _content_length(lines[1:])
            raw = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT_S) if length else b""
            peer = writer.get_extra_info("peername")
            status, body = self._route(method, target.split("?", 1)[0], raw, peer[0] if peer else "")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            status, body = 400, {"error": "bad request"}
        payload = json.dumps(body, separators=(",", ":")).encode()
        writer.write(
            f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        try:
            await writer.drain()
        finally:
            writer.close()

    def _route(self, method: str, path: str, raw: bytes, client: str) -> tuple[int, dict[str, object]]:
        if path == "/api/status":
            return (200, self._provider()) if method == "GET" else (405, {"error": "only GET is served"})
        if not path.startswith("/api/local/") or self._local_command is None:
            return 404, {"error": f"no such resource: {path}"}
        if method != "POST":
            return 405, {"error": "local commands are POST"}
        if not ipaddress.ip_address(client or "0.0.0.0").is_loopback:
            log.warning("local command %s from %s refused: not from this machine", path, client)
            return 403, {"error": "local commands are accepted from this machine only"}
        try:
            argument = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"error": "the body must be JSON"}
        result = self._local_command(path.removeprefix("/api/local/"), argument)
        return result.status, {"ok": result.ok, "message": result.message, **result.data}


def _content_length(header_lines: list[str]) -> int:
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
            if not 0 <= length <= MAX_REQUEST_BYTES:
                raise ValueError("body too large")
            return length
    return 0
