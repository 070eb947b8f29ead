"""Hostile input and exposed transports: access tokens, Host checks, body limits, graceful shutdown, no leaks."""

from __future__ import annotations

import json
import logging
import signal
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.settings import ConfigError, Settings
from conftest import direct_settings
from fake_clicksend import API_KEY, MATON_KEY, TEST_NUMBER, USERNAME, FakeClickSend, LoopbackServer
from faulty_clicksend import faulty_clicksend
from test_e2e import direct_env, served

pytestmark = pytest.mark.anyio

TOKEN = "access-token-0123456789abcdef"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
SEND = "CLICKSEND_CREATE_SMS_SEND"


# --- hostile arguments --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["../account", "%2e%2e", "1/../../x", "a?b=c", "#", "..", "ünï/cødé", "x" * 2048])
async def test_a_hostile_path_value_stays_in_its_segment(tools: dict[str, CompiledTool], value: str) -> None:
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(), tools=tools, asgi_app=fake)
    try:
        result = await dispatcher.call("CLICKSEND_DELETE_SMS_CANCEL", {"message_id": value})
    finally:
        await dispatcher.aclose()
    assert result["successful"] is False and result["error_code"] == "NOT_FOUND"
    [request] = fake.requests
    segments = request.raw_path.split("?")[0].split("/")
    assert len(segments) == 5 and segments[:3] == ["", "v3", "sms"] and segments[4] == "cancel", request.raw_path
    assert request.method == "PUT" and request.query == []


async def test_oversized_arguments_are_refused(tools: dict[str, CompiledTool]) -> None:
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(max_argument_bytes=2048), tools=tools, asgi_app=fake)
    try:
        result = await dispatcher.call(SEND, {"messages": [{"to": TEST_NUMBER, "body": "x" * 5000}]})
    finally:
        await dispatcher.aclose()
    assert result["error_code"] == "INVALID_ARGUMENTS" and "more than the 2048" in result["error"]
    assert fake.requests == []


def test_a_token_is_required_to_bind_beyond_loopback() -> None:
    with pytest.raises(ConfigError, match="set an access token"):
        Settings(transport="http", host="0.0.0.0").check_http_exposure()
    with pytest.raises(ConfigError, match="at least 16 characters"):
        Settings(transport="http", host="0.0.0.0", auth_token="short").check_http_exposure()
    Settings(transport="http", host="0.0.0.0", auth_token=TOKEN).check_http_exposure()
    Settings(transport="stdio", host="0.0.0.0").check_http_exposure()


# --- secrets ------------------------------------------------------------------------------------------------------


async def test_no_secret_appears_in_results_errors_or_logs(tools: dict[str, CompiledTool]) -> None:
    import base64
    import io

    from clicksend_mcp.logs import setup_logging

    wrong_key = "WRONG-KEY-" + API_KEY[::-1]
    fake = FakeClickSend()
    subaccount_key = fake.state.account["_subaccount"]["api_key"]
    secrets = [API_KEY, wrong_key, subaccount_key, MATON_KEY, TOKEN]
    secrets += [base64.b64encode(f"{USERNAME}:{k}".encode()).decode() for k in (API_KEY, wrong_key)]
    runs = [
        (direct_settings(log_level="debug", auth_token=TOKEN), API_KEY, fake),
        (
            Settings(backend="direct", clicksend_username=USERNAME, clicksend_api_key=wrong_key, toolsets="all"),
            wrong_key,
            fake,
        ),
        (
            Settings(backend="maton", maton_api_key=MATON_KEY, toolsets="all"),
            MATON_KEY,
            FakeClickSend(prefix="/clicksend"),
        ),
    ]
    produced: list[Any] = []
    stderr = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        for settings, key, upstream in runs:
            dispatcher = build_dispatcher(settings, tools=tools, asgi_app=upstream)
            # The server's own logging set-up, writing where this test can read it.
            setup_logging("debug", dispatcher.redactor)
            root.handlers[0].setStream(stderr)  # type: ignore[attr-defined]
            try:
                produced.append(await dispatcher.call("CLICKSEND_GET_ACCOUNT", {}))
                produced.append(await dispatcher.call(SEND, {"messages": [{"to": TEST_NUMBER, "body": key}]}))
                produced.append(await dispatcher.call(SEND, {"messages": [{"to": "+1", "body": key}]}))
                produced.append(await dispatcher.call("CLICKSEND_GET_LISTS2", {"list_id": 424242}))
            finally:
                await dispatcher.aclose()
        async with faulty_clicksend("reset") as broken:
            dispatcher = build_dispatcher(direct_settings(clicksend_base_url=broken.base_url), tools=tools)
            try:
                produced.append(await dispatcher.call(SEND, {"messages": [{"to": TEST_NUMBER, "body": API_KEY}]}))
            finally:
                await dispatcher.aclose()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    everything = json.dumps(produced) + stderr.getvalue()
    assert any(r["successful"] for r in produced) and any(not r["successful"] for r in produced)
    assert "call tool=CLICKSEND_GET_ACCOUNT" in stderr.getvalue()
    for secret in secrets:
        assert secret not in everything


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_at_every_level_and_tracebacks_hold_no_form_of_a_secret(fmt: str) -> None:
    import base64
    import io
    from urllib.parse import quote

    from clicksend_mcp.logs import setup_logging
    from clicksend_mcp.redaction import Redactor

    token = base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()
    forms = [API_KEY, API_KEY.lower(), base64.b64encode(API_KEY.encode()).decode(), quote(token, safe=""), token]
    stderr = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("debug", Redactor([API_KEY, token]), fmt)
        root.handlers[0].setStream(stderr)  # type: ignore[attr-defined]
        log = logging.getLogger("clicksend_mcp.test")
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
            log.log(level, "level %s holds %s", level, " ".join(forms), extra={"fields": {"key": forms[1]}})
        try:
            raise RuntimeError(f"upstream said {forms[2]} and {forms[3]}")
        except RuntimeError:
            log.exception("failed with %s", forms[0])
        log.warning("stack", stack_info=True, extra={"fields": {"Authorization": f"Basic {token}"}})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    written = stderr.getvalue()
    assert "RuntimeError: upstream said [REDACTED] and [REDACTED]" in written and "level 10 holds" in written
    for form in forms:
        assert form not in written, form


# --- HTTP transports ----------------------------------------------------------------------------------------------


@pytest.fixture
def fake_on_loopback() -> Any:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


def authed(token: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.mark.e2e
@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_without_the_token_requests_get_401_and_do_nothing(fake_on_loopback: Any, transport: str) -> None:
    fake, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_AUTH_TOKEN": TOKEN}
    async with served(transport, env) as base, httpx2.AsyncClient(timeout=10) as http:
        path = "/mcp" if transport == "http" else "/messages/?session_id=0"
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": SEND, "arguments": {}}}
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": TOKEN}):
            refused = await http.post(base + path, json=call, headers=headers)
            assert refused.status_code == 401
        if transport == "sse":
            assert (await http.get(base + "/sse")).status_code == 401
        assert (await http.get(base + "/healthz")).status_code == 200
    assert fake.requests == []


@pytest.mark.e2e
async def test_with_the_token_streamable_http_works(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_AUTH_TOKEN": TOKEN}
    async with served("http", env) as base, authed(TOKEN) as http:
        with anyio.fail_after(60):
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy") as client:
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None and result.structured_content["successful"] is True
    assert TOKEN not in json.dumps(result.structured_content)


@pytest.mark.e2e
async def test_with_the_token_sse_works(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_AUTH_TOKEN": TOKEN}
    async with served("sse", env) as base:
        with anyio.fail_after(60):
            transport = sse_client(f"{base}/sse", headers={"Authorization": f"Bearer {TOKEN}"})
            async with Client(transport, mode="legacy") as client:
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None and result.structured_content["successful"] is True


@pytest.mark.e2e
async def test_a_foreign_host_header_is_refused(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    async with served("http", direct_env(server.base_url)) as base, httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Host": "evil.example.com", "Accept": "application/json, text/event-stream"},
        )
    assert response.status_code in (400, 403, 421)
    assert fake.requests == []


@pytest.mark.e2e
@pytest.mark.parametrize("transport", ["http", "sse"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "127.0.0.1:evil.com"}, 421),
        ({"Host": "localhost:1.evil.com"}, 421),
        ({"Host": "127.0.0.1.evil.com:80"}, 421),
        ({"Host": "127.0.0.1:99999"}, 421),
        ({"Origin": "http://localhost:1.evil.com"}, 403),
        ({"Origin": "http://127.0.0.1:80@evil.com"}, 403),
        ({"Origin": "http://localhost.evil.com:80"}, 403),
        ({"Origin": "https://localhost:8000"}, 403),
        ({"Origin": "http://localhost:8000/x"}, 403),
    ],
)
async def test_a_host_or_origin_that_only_starts_like_an_allowed_one_is_refused(
    fake_on_loopback: Any, transport: str, headers: dict[str, str], status: int
) -> None:
    fake, server = fake_on_loopback
    async with served(transport, direct_env(server.base_url)) as base, httpx2.AsyncClient(timeout=10) as http:
        path = "/mcp" if transport == "http" else "/messages/?session_id=0"
        hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        response = await http.post(f"{base}{path}", json=hello, headers={**MCP_HEADERS, **headers})
        assert response.status_code == status, response.text
        if transport == "sse":
            assert (await http.get(f"{base}/sse", headers=headers)).status_code == status
        # The exact loopback host and origin still work; /healthz answers whatever the Host.
        port = base.rsplit(":", 1)[1]
        good = {"Host": f"localhost:{port}", "Origin": f"http://127.0.0.1:{port}"}
        if transport == "http":
            ok = await http.post(f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **good})
            assert ok.status_code == 200, ok.text
        assert (await http.get(f"{base}/healthz", headers=headers)).status_code == 200
    assert fake.requests == []


@pytest.mark.e2e
async def test_an_oversized_body_is_refused(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_MAX_BODY_BYTES": "4096"}
    async with served("http", env) as base, httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{base}/mcp",
            content=b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"' + b"a" * 10000 + b'"}}',
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 413
    assert fake.requests == []


async def _initialize(http: httpx2.AsyncClient, url: str) -> dict[str, str]:
    response = await http.post(url, json=INITIALIZE, headers=MCP_HEADERS)
    headers = {
        **MCP_HEADERS,
        "Mcp-Session-Id": response.headers["mcp-session-id"],
        "Mcp-Protocol-Version": "2025-11-25",
    }
    await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def _from(address: str) -> httpx2.AsyncClient:
    """A client whose connections come from `address` (any 127.x address is this machine's loopback)."""
    return httpx2.AsyncClient(transport=httpx2.AsyncHTTPTransport(local_address=address), timeout=10)


@pytest.mark.e2e
async def test_abandoned_sessions_of_one_client_lock_out_neither_others_nor_itself_for_long(
    fake_on_loopback: Any,
) -> None:
    _, server = fake_on_loopback
    env = {
        **direct_env(server.base_url),
        "CLICKSEND_MCP_MAX_SESSIONS_PER_CLIENT": "3",
        "CLICKSEND_MCP_SESSION_IDLE_TIMEOUT": "2",
    }
    async with served("http", env) as base, _from("127.0.0.2") as greedy, _from("127.0.0.1") as other:
        url = f"{base}/mcp"
        with anyio.fail_after(60):
            for _ in range(3):  # opened and abandoned
                opened = await greedy.post(url, json=INITIALIZE, headers=MCP_HEADERS)
                assert opened.status_code == 200 and opened.headers["mcp-session-id"]
            refused = await greedy.post(url, json=INITIALIZE, headers=MCP_HEADERS)
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "2"
            error = refused.json()["error"]
            assert (
                "Too many open sessions from this client (3" in error["message"]
                and "expire after 2 s" in error["message"]
            )
            # Another client is not locked out...
            headers = await _initialize(other, url)
            listed = await other.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers)
            assert listed.status_code == 200 and "CLICKSEND_GET_ACCOUNT" in listed.text
            # ...and the greedy one gets room again once its abandoned sessions have expired.
            while (await greedy.post(url, json=INITIALIZE, headers=MCP_HEADERS)).status_code != 200:
                await anyio.sleep(0.25)


@pytest.mark.e2e
async def test_a_client_at_its_sse_stream_cap_is_told_so(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_MAX_SESSIONS_PER_CLIENT": "2"}
    async with served("sse", env) as base, httpx2.AsyncClient(timeout=10) as http:
        with anyio.fail_after(60):
            async with http.stream("GET", f"{base}/sse") as one, http.stream("GET", f"{base}/sse") as two:
                assert one.status_code == two.status_code == 200
                refused = await http.get(f"{base}/sse")
                assert refused.status_code == 429 and "SSE streams" in refused.json()["error"]["message"]
            # Closing the streams frees the places.
            while True:
                async with http.stream("GET", f"{base}/sse") as again:
                    if again.status_code == 200:
                        break
                await anyio.sleep(0.1)


@pytest.mark.e2e
async def test_sigterm_lets_an_in_flight_call_finish() -> None:
    # Plain HTTP on purpose: this checks the server's shutdown, without a client that reconnects on its own.
    async with faulty_clicksend("slow") as slow:
        env = {**direct_env(slow.base_url), "CLICKSEND_RETRIES": "0", "CLICKSEND_MCP_SHUTDOWN_GRACE": "5"}
        async with served("http", env, keep_process=True) as (base, process):
            url = f"{base}/mcp"
            with anyio.fail_after(60):
                async with httpx2.AsyncClient(timeout=30) as http:
                    headers = await _initialize(http, url)
                    call = {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "tools/call",
                        "params": {"name": "CLICKSEND_GET_ACCOUNT", "arguments": {}},
                    }
                    answer: dict[str, bytes] = {}

                    async def post_call() -> None:
                        response = await http.post(url, json=call, headers=headers)
                        answer["body"] = response.content

                    async with anyio.create_task_group() as tg:
                        tg.start_soon(post_call)
                        await slow.arrived.wait()  # the call is now in flight at "ClickSend"
                        process.send_signal(signal.SIGTERM)
                # uvicorn re-raises the SIGTERM it caught once shutdown is done: the conventional exit status.
                assert await process.wait() in (0, -signal.SIGTERM)
    event = next(line for line in answer["body"].decode().splitlines() if line.startswith("data:"))
    result = json.loads(event.removeprefix("data:"))["result"]["structuredContent"]
    assert result["successful"] is True
    assert len(slow.received) == 1
