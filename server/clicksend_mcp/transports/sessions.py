"""A per-client cap on open MCP sessions (streamable HTTP handshake era, and SSE streams), keyed by remote address.

The SDK expires idle streamable-HTTP sessions and caps them in total; a total cap alone lets one client that opens
and abandons sessions lock every other client out until they expire. This middleware keeps each remote address
to its own share: at the cap, a request that would open another session gets 429 with Retry-After, and the
client's existing sessions keep working.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from .access import TOO_MANY_SESSIONS

log = logging.getLogger("clicksend_mcp.sessions")

SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"


@dataclass
class _Session:
    client: str
    in_flight: int = 0
    last_active: float = field(default_factory=time.monotonic)


class SessionQuota:
    """ASGI middleware in front of a streamable-HTTP (`mcp_path`) or SSE (`sse_path`) app.

    A streamable-HTTP session counts from the answer that gives it an Mcp-Session-Id until it is deleted, answers
    404 (the SDK expired it), or has had no request in flight for `idle_timeout` seconds (the SDK's own rule). An
    SSE session counts while its GET /sse stream is open."""

    def __init__(
        self,
        app: Any,
        *,
        per_client: int,
        idle_timeout: float,
        handshake_versions: frozenset[str],
        mcp_path: str = "/mcp",
        sse_path: str = "/sse",
        clock: Callable[[], float] = time.monotonic,
        refused: Callable[[str], None] | None = None,  # told TOO_MANY_SESSIONS for each request refused (metrics)
    ) -> None:
        self.app = app
        self.refused = refused
        self.per_client = per_client
        self.idle_timeout = idle_timeout
        self.handshake_versions = handshake_versions
        self.mcp_path = mcp_path
        self.sse_path = sse_path
        self.clock = clock
        self._sessions: dict[str, _Session] = {}
        self._streams: dict[str, int] = {}  # per client: open SSE streams and sessions still being opened

    def open_sessions(self, client: str) -> int:
        now = self.clock()
        for sid, s in list(self._sessions.items()):
            if s.in_flight == 0 and now - s.last_active >= self.idle_timeout:
                del self._sessions[sid]
        return sum(1 for s in self._sessions.values() if s.client == client) + self._streams.get(client, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        headers = dict(scope["headers"])
        if scope["path"] == self.sse_path and scope["method"] == "GET":
            await self._sse_stream(client, scope, receive, send)
            return
        if scope["path"] != self.mcp_path:
            await self.app(scope, receive, send)
            return
        sid = headers.get(SESSION_HEADER, b"").decode("latin-1")
        version = headers.get(VERSION_HEADER, b"").decode("latin-1")
        if sid:
            await self._in_session(sid, scope, receive, send)
        elif scope["method"] == "POST" and (not version or version in self.handshake_versions):
            await self._opening(client, scope, receive, send)
        else:
            await self.app(scope, receive, send)  # a 2026-era request: no session is kept for it

    async def _opening(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        if self.open_sessions(client) >= self.per_client:
            hint = (
                f"close one (HTTP DELETE with its Mcp-Session-Id) or wait: idle sessions expire after "
                f"{self.idle_timeout:g} s"
            )
            await self._refuse(client, scope, receive, send, hint)
            return

        # Counted while it opens, so concurrent opening requests cannot all slip under the cap; the reservation
        # becomes the session itself the moment the answer names it.
        self._streams[client] = self._streams.get(client, 0) + 1
        reserved = True

        async def watch(message: Message) -> None:
            nonlocal reserved
            if message["type"] == "http.response.start" and message["status"] < 300:
                sid = dict(message.get("headers", [])).get(SESSION_HEADER)
                if sid:
                    self._sessions[sid.decode("latin-1")] = _Session(client, last_active=self.clock())
                    if reserved:
                        reserved = False
                        self._release(client)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if reserved:
                self._release(client)

    async def _in_session(self, sid: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self._sessions.get(sid)
        if session is None:
            await self.app(scope, receive, send)
            return
        session.in_flight += 1
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            session.in_flight -= 1
            session.last_active = self.clock()
            if status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300):
                self._sessions.pop(sid, None)

    async def _sse_stream(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        if self.open_sessions(client) >= self.per_client:
            await self._refuse(client, scope, receive, send, "close one of its SSE streams")
            return
        self._streams[client] = self._streams.get(client, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._release(client)

    def _release(self, client: str) -> None:
        self._streams[client] -= 1
        if not self._streams[client]:
            del self._streams[client]

    async def _refuse(self, client: str, scope: Scope, receive: Receive, send: Send, hint: str) -> None:
        log.warning("refusing a new session: client %s already has %d open", client, self.per_client)
        if self.refused is not None:
            self.refused(TOO_MANY_SESSIONS)
        message = f"Too many open sessions from this client ({self.per_client}, --max-sessions-per-client): {hint}."
        body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(max(1, round(self.idle_timeout))).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
