"""The tests' fake ClickSend: the sandbox app behind strict auth and a recorder of every request it receives.

Used in-process through an ASGI transport, or served on 127.0.0.1 where a process boundary matters.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

from clicksend_mcp.sandbox import SandboxAuth, create_sandbox_app

USERNAME = "fake-user"
API_KEY = "FAKE-API-KEY-5b7f1c9e-0d2a"
MATON_KEY = "maton-test-key-7c1d9e0f44aa"
MATON_CONNECTION = "37beee67-29f7-43b6-b0b2-5f0f7a5d6440"
TEST_NUMBER = "+61411111111"
TEST_KEY = "D83DED51-9E35-4D42-9BB9-0E34B7CA85AE"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeClickSend:
    """An ASGI app: records each request, then lets the sandbox answer it."""

    auth: SandboxAuth | None = field(default_factory=lambda: SandboxAuth(basic=(USERNAME, API_KEY), bearer=MATON_KEY))
    prefix: str = ""  # "/clicksend" to stand in for the Maton gateway, which serves /clicksend/v3/...
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sandbox = create_sandbox_app(auth=self.auth)

    @property
    def state(self) -> Any:
        return self.sandbox.state.sandbox

    def sent(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.sandbox(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.requests.append(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
                query=parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
                body=body,
            )
        )
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if self.prefix:
            if not scope["path"].startswith(self.prefix + "/"):
                await _not_found(send)
                return
            raw = scope.get("raw_path") or scope["path"].encode()
            cut = len(self.prefix)
            scope = {**scope, "path": scope["path"][cut:], "raw_path": raw[cut:]}
        await self.sandbox(scope, replay, send)


async def _not_found(send: Any) -> None:
    body = json.dumps({"http_code": 404, "response_code": "NOT_FOUND", "response_msg": "No such path", "data": None})
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """`count` different free loopback ports: each socket stays bound until all are chosen, since the kernel may
    hand a port just released by one call of free_port to the next."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class LoopbackServer:
    """Serves an ASGI app on 127.0.0.1 from a background thread, for tests that cross a process boundary."""

    def __init__(self, app: Any, *, date_header: bool = True) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", date_header=date_header
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-clicksend", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake ClickSend did not start on loopback")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class AccountsFake:
    """Several ClickSend accounts behind one address, each with its own state: a request goes to the account its
    credentials name (Basic username, or the Maton bearer key); anything else gets ClickSend's 401.

    `requests` records every request that arrived, whichever account answered it."""

    def __init__(self, accounts: dict[str, FakeClickSend], bearer: dict[str, str] | None = None) -> None:
        self.accounts = accounts  # Basic username -> its fake
        self.bearer = bearer or {}  # Maton key -> the username whose account it reaches
        self.requests: list[tuple[str, str, str]] = []  # (method, path, account or "")

    def _account(self, headers: dict[str, str]) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return self.bearer.get(token.strip(), "")
        if scheme.lower() == "basic":
            import base64
            import binascii

            try:
                username = base64.b64decode(token.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                return ""
            return username if username in self.accounts else ""
        return ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        account = self._account(headers)
        self.requests.append((scope["method"], scope["path"], account))
        if not account:
            body = json.dumps(
                {"http_code": 401, "response_code": "INVALID_CREDENTIALS", "response_msg": "Unknown", "data": None}
            )
            await send(
                {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await self.accounts[account](scope, receive, send)
