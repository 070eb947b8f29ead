"""The tests' fakes of the two gateways, built from their guides' documented requests and answers: Maton (its control
API at /connections and its ClickSend gateway at /clicksend/v3/..., one fake ClickSend account per connection) and
SkillBoss API Hub's POST /v1/run with the Prelude models. Raw ASGI apps that record every request they receive.

Where a guide shows no answer (the gateways' error bodies, SkillBoss's verify models), the fake answers plain JSON with
a message, as the documented answers look; the server must not depend on more than that.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fake_clicksend import MATON_KEY, FakeClickSend, RecordedRequest

SKILLBOSS_KEY = "sb-test-key-4e8a1f02c9d7b3"
CONNECTION_A = "37beee67-29f7-43b6-b0b2-5f0f7a5d6440"  # the guide's example id
CONNECTION_B = "5d0f6c1e-8a2b-4c3d-9e4f-a1b2c3d4e5f6"
TEMPLATE_ID = "template_01hz3q"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def _read(scope: dict[str, Any], receive: Receive) -> RecordedRequest:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return RecordedRequest(
        method=scope["method"],
        path=scope["path"],
        raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
        query=parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
        headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
        body=b"".join(chunks),
    )


async def _json(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class FakeMaton:
    """Maton's control API and ClickSend gateway on one app (the real ones are two hosts: point both URLs here)."""

    key: str = MATON_KEY
    connections: list[dict[str, Any]] = field(default_factory=list)
    accounts: dict[str, FakeClickSend] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    routed: list[tuple[str, str, str]] = field(default_factory=list)  # (connection_id, method, ClickSend path)

    def add_connection(self, connection_id: str, status: str = "ACTIVE", created: str = "2026-02-10T10:04:12Z") -> None:
        self.connections.append(
            {
                "connection_id": connection_id,
                "status": status,
                "creation_time": created,
                "last_updated_time": created,
                "url": f"https://connect.maton.ai/?session_token={secrets.token_hex(8)}",
                "app": "clicksend",
                "metadata": {},
            }
        )
        self.accounts[connection_id] = FakeClickSend(auth=None)  # the gateway injects the account's credentials

    def find(self, connection_id: str) -> dict[str, Any] | None:
        return next((c for c in self.connections if c["connection_id"] == connection_id), None)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = await _read(scope, receive)
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.key}":
            await _json(send, 401, {"error": "Invalid API key"})
            return
        path = request.path
        if path == "/connections" or path.startswith("/connections/"):
            await self._control(request, send)
        elif path.startswith("/clicksend/"):
            await self._gateway(scope, request, send)
        else:
            await _json(send, 400, {"error": f"Invalid app name: {path.strip('/').split('/')[0]}"})

    async def _control(self, request: RecordedRequest, send: Send) -> None:
        parts = request.path.strip("/").split("/")
        if len(parts) == 1 and request.method == "GET":
            query = dict(request.query)
            found = [
                c
                for c in self.connections
                if c["app"] == query.get("app", c["app"]) and c["status"] == query.get("status", c["status"])
            ]
            await _json(send, 200, {"connections": found})
        elif len(parts) == 1 and request.method == "POST":
            if (request.json or {}).get("app") != "clicksend":
                await _json(send, 400, {"error": "Unknown app"})
                return
            new_id = "9a8b7c6d-" + secrets.token_hex(2) + "-4e5f-8a9b-" + secrets.token_hex(6)
            self.add_connection(new_id, status="PENDING", created="2026-03-01T09:00:00Z")
            await _json(send, 200, {"connection": self.find(new_id)})
        elif len(parts) == 2 and request.method in ("GET", "DELETE"):
            connection = self.find(parts[1])
            if connection is None:
                await _json(send, 404, {"error": "Connection not found"})
            elif request.method == "GET":
                await _json(send, 200, {"connection": connection})
            else:
                self.connections.remove(connection)
                await _json(send, 200, {})
        else:
            await _json(send, 405, {"error": "Method not allowed"})

    async def _gateway(self, scope: dict[str, Any], request: RecordedRequest, send: Send) -> None:
        chosen = request.headers.get("maton-connection")
        active = sorted(
            (c for c in self.connections if c["status"] == "ACTIVE" and c["app"] == "clicksend"),
            key=lambda c: c["creation_time"],
        )
        if chosen is not None:
            connection = next((c for c in active if c["connection_id"] == chosen), None)
        else:
            connection = active[0] if active else None  # "the default (oldest) active connection"
        if connection is None:
            await _json(send, 400, {"error": "No active connection found for app clicksend"})
            return
        account = self.accounts[connection["connection_id"]]
        inner_path = request.path.removeprefix("/clicksend")
        self.routed.append((connection["connection_id"], request.method, inner_path))
        raw = scope.get("raw_path") or scope["path"].encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"authorization", b"maton-connection")]
        inner = {**scope, "path": inner_path, "raw_path": raw[len(b"/clicksend") :], "headers": headers}
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            return {"type": "http.disconnect"}

        await account(inner, replay, send)


@dataclass
class FakeSkillBoss:
    """SkillBoss API Hub's POST /v1/run with the three Prelude models the server uses."""

    key: str = SKILLBOSS_KEY
    templates: frozenset[str] = frozenset({TEMPLATE_ID})
    requests: list[RecordedRequest] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)  # phone -> the passcode "sent" to it
    answers: list[tuple[int, bytes]] = field(default_factory=list)  # canned answers, used first (faults)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = await _read(scope, receive)
        self.requests.append(request)
        if self.answers:
            status, body = self.answers.pop(0)
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if request.headers.get("authorization") != f"Bearer {self.key}":
            await _json(send, 401, {"status": "error", "error": "Invalid API key"})
            return
        if (request.method, request.path) != ("POST", "/v1/run"):
            await _json(send, 404, {"status": "error", "error": "Not found"})
            return
        payload = request.json if request.body else None
        model = payload.get("model") if isinstance(payload, dict) else None
        inputs = payload.get("inputs") if isinstance(payload, dict) else None
        if not isinstance(inputs, dict):
            await _json(send, 400, {"status": "error", "error": "inputs must be an object"})
            return
        handler = {
            "prelude/notify-send": self._notify,
            "prelude/verify-send": self._verify_send,
            "prelude/verify-check": self._verify_check,
        }.get(str(model))
        if handler is None:
            await _json(send, 400, {"status": "error", "error": f"Unknown model {model}"})
            return
        status, answer = handler(inputs)
        await _json(send, status, answer)

    def _notify(self, inputs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if inputs.get("template_id") not in self.templates:
            return 400, {"status": "error", "error": "Template not found", "code": "BAD_REQUEST"}
        to = inputs.get("to")
        if not isinstance(to, str) or not to.startswith("+"):
            return 400, {"status": "error", "error": "Invalid phone number", "code": "INVALID_RECIPIENT"}
        return 200, {
            "status": "success",
            "result": {"id": "msg_" + secrets.token_hex(6), "to": to, "template_id": inputs["template_id"]},
        }

    def _verify_send(self, inputs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        to = str(inputs.get("to"))
        self.codes[to] = f"{secrets.randbelow(10**6):06d}"
        return 200, {"status": "success", "result": {"id": "vrf_" + secrets.token_hex(6), "status": "success"}}

    def _verify_check(self, inputs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        to = str(inputs.get("to"))
        expected = self.codes.get(to)
        if expected is None:
            state = "expired_or_not_found"
        else:
            state = "success" if inputs.get("code") == expected else "failure"
        return 200, {"status": "success", "result": {"id": "vrf_" + secrets.token_hex(6), "status": state}}
