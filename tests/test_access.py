"""Access control of the HTTP transports, in-process through an ASGI transport: the bearer-token gate and the
Host/Origin checks. Statuses are the ones the MCP SDK's transport security answers (421 Host, 403 Origin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from clicksend_mcp.app import build_server
from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.transports.access import BearerTokenGate, host_rules
from clicksend_mcp.transports.asgi import HttpOptions, http_app
from conftest import direct_settings
from fake_clicksend import FakeClickSend

pytestmark = pytest.mark.anyio

TOKEN = "access-token-0123456789abcdef"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
HELLO = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@asynccontextmanager
async def serving(tools: dict[str, CompiledTool], options: HttpOptions) -> AsyncIterator[httpx2.AsyncClient]:
    """The streamable HTTP app with its lifespan running, and a client that reaches it without a socket."""
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(), tools=tools, asgi_app=fake)
    app = http_app(build_server(dispatcher), options)
    starlette = app
    while not isinstance(starlette, Starlette):  # the gates wrap the Starlette app: run its lifespan
        starlette = starlette.app
    try:
        async with (
            starlette.router.lifespan_context(starlette),
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http,
        ):
            yield http
    finally:
        await dispatcher.aclose()
    assert fake.requests == []


async def hello(http: httpx2.AsyncClient, **headers: str) -> httpx2.Response:
    return await http.post("/mcp", json=HELLO, headers={**MCP_HEADERS, **headers})


# --- Host and Origin ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000"])
async def test_a_loopback_bind_serves_loopback_hosts(tools: dict[str, CompiledTool], host: str) -> None:
    async with serving(tools, HttpOptions(host="127.0.0.1")) as http:
        response = await hello(http, Host=host)
    assert response.status_code == 200 and response.headers["mcp-session-id"]


@pytest.mark.parametrize(
    "host", ["evil.example.com:8000", "127.0.0.1.evil.example.com:8000", "localhost:8000.evil", ""]
)
async def test_a_loopback_bind_refuses_other_hosts_with_421(tools: dict[str, CompiledTool], host: str) -> None:
    async with serving(tools, HttpOptions(host="127.0.0.1")) as http:
        response = await hello(http, Host=host)
    assert (response.status_code, response.text) == (421, "Invalid Host header")


@pytest.mark.parametrize("origin", ["http://127.0.0.1:3000", "http://localhost:5173", "http://[::1]:8080"])
async def test_a_loopback_origin_is_served(tools: dict[str, CompiledTool], origin: str) -> None:
    async with serving(tools, HttpOptions(host="127.0.0.1")) as http:
        response = await hello(http, Origin=origin)
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example.com", "https://127.0.0.1:3000", "http://localhost.evil:1"])
async def test_a_foreign_origin_is_refused_with_403(tools: dict[str, CompiledTool], origin: str) -> None:
    async with serving(tools, HttpOptions(host="127.0.0.1")) as http:
        response = await hello(http, Origin=origin)
    assert (response.status_code, response.text) == (403, "Invalid Origin header")


async def test_configured_hosts_and_origins_are_the_only_ones_served_on_a_public_bind(
    tools: dict[str, CompiledTool],
) -> None:
    options = HttpOptions(
        host="0.0.0.0",
        auth_token=TOKEN,
        allowed_hosts=("mcp.example.com",),
        allowed_origins=("https://app.example.com",),
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(tools, options) as http:
        served = await hello(http, Host="mcp.example.com", Origin="https://app.example.com", **auth)
        loopback = await hello(http, Host="127.0.0.1:8000", **auth)
        other_origin = await hello(http, Host="mcp.example.com", Origin="https://evil.example.com", **auth)
    assert served.status_code == 200
    assert loopback.status_code == 421  # a public bind does not add loopback names of its own
    assert other_origin.status_code == 403


def test_the_checks_are_on_for_loopback_and_for_configured_names_only() -> None:
    loopback = host_rules("127.0.0.1")
    assert loopback is not None
    for host in ("127.0.0.1:8000", "localhost:1", "[::1]:65535"):
        assert loopback.host_ok(host), host
    assert not loopback.host_ok("mcp.example.com")
    for local in ("localhost", "::1"):
        assert host_rules(local) == loopback
    # Names configured on a loopback bind are served as well as the loopback names, not instead of them.
    both = host_rules("127.0.0.1", ["mcp.example.com"], ["https://app.example.com"])
    assert both is not None
    assert both.host_ok("mcp.example.com") and both.host_ok("localhost:8000")
    assert both.origin_ok("https://app.example.com") and both.origin_ok("http://localhost:3000")
    configured = host_rules("0.0.0.0", allowed_origins=["https://app.example.com"])
    assert configured is not None and configured.origin_ok("https://app.example.com")
    assert not configured.host_ok("localhost:8000")
    # A public bind with no names configured is guarded by the token, not by Host (any name may point at it).
    assert host_rules("0.0.0.0") is None


# --- the bearer token ---------------------------------------------------------------------------------------------


class Recorder:
    """An ASGI app behind the gate that answers 200 and records what got through."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        body = b""
        while True:  # reads the request through the gate's `receive`, as any real app does
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok:" + body})


@asynccontextmanager
async def gated() -> AsyncIterator[tuple[httpx2.AsyncClient, Recorder]]:
    inner = Recorder()
    transport = httpx2.ASGITransport(app=BearerTokenGate(inner, TOKEN))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http, inner


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"bearer {TOKEN}"},
        {"X-Authorization": f"Bearer {TOKEN}"},
    ],
    ids=["none", "wrong", "bare", "basic", "longer", "shorter", "lower-case scheme", "other header"],
)
async def test_a_request_without_the_exact_token_gets_401_and_reaches_nothing(headers: dict[str, str]) -> None:
    async with gated() as (http, inner):
        response = await http.post("/mcp", json=HELLO, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="clicksend-mcp"'
    assert response.json() == {"error": "unauthorized", "message": "send Authorization: Bearer <token>"}
    assert inner.paths == []


async def test_the_exact_token_passes_the_gate() -> None:
    async with gated() as (http, inner):
        response = await http.post("/mcp", json=HELLO, headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and inner.paths == ["/mcp"]
    assert response.content.startswith(b'ok:{"jsonrpc"')  # the body reached the app behind the gate


async def test_the_health_check_passes_the_gate_whole() -> None:
    async with gated() as (http, _):
        response = await http.post("/healthz", content=b"ping")
    assert (response.status_code, response.content) == (200, b"ok:ping")


async def test_only_the_health_check_is_open_without_a_token() -> None:
    async with gated() as (http, inner):
        health = await http.get("/healthz")
        others = [await http.get(path) for path in ("/healthz/", "/sse", "/messages/", "/")]
    assert health.status_code == 200 and inner.paths == ["/healthz"]
    assert [r.status_code for r in others] == [401, 401, 401, 401]


async def test_the_served_app_is_gated_when_a_token_is_set(tools: dict[str, CompiledTool]) -> None:
    async with serving(tools, HttpOptions(host="127.0.0.1", auth_token=TOKEN)) as http:
        refused = await hello(http)
        health = await http.get("/healthz")
        allowed = await hello(http, Authorization=f"Bearer {TOKEN}")
    assert refused.status_code == 401 and health.status_code == 200 and allowed.status_code == 200
