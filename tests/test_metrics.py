"""/metrics in the Prometheus text format: calls, errors, refusals, upstream latency, retries, in-flight, spend;
behind the same access control as MCP, or on its own port; no secret or recipient in any label."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.settings import ConfigError, Settings
from clicksend_mcp.transports.metrics import Metrics
from conftest import direct_settings
from fake_clicksend import API_KEY, TEST_NUMBER, FakeClickSend, LoopbackServer, free_port
from faulty_clicksend import faulty_clicksend
from test_e2e import direct_env, served

pytestmark = pytest.mark.anyio

TOKEN = "metrics-access-token-0123456789"
SEND = "CLICKSEND_CREATE_SMS_SEND"


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


@pytest.mark.e2e
async def test_metrics_count_calls_errors_refusals_latency_and_spend_behind_the_token(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_AUTH_TOKEN": TOKEN, "CLICKSEND_MCP_METRICS": "true"}
    async with served("http", env) as base:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
            ):
                await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "counted"}]})
                await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER}]})  # no body: refused
                await client.call_tool("CLICKSEND_DELETE_SMS_TEMPLATES", {"template_id": 987654321})  # 404
                await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
            async with httpx2.AsyncClient(timeout=30) as anonymous:
                assert (await anonymous.get(f"{base}/metrics")).status_code == 401
            async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
                response = await http.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    found = samples(text)
    assert value(found, "clicksend_mcp_calls_total", tool=SEND, outcome="success", backend="direct") == 1
    assert value(found, "clicksend_mcp_calls_total", tool=SEND, outcome="refused") == 1
    assert value(found, "clicksend_mcp_calls_total", tool="CLICKSEND_DELETE_SMS_TEMPLATES", outcome="error") == 1
    assert value(found, "clicksend_mcp_errors_total", error_code="NOT_FOUND") == 1
    assert value(found, "clicksend_mcp_refusals_total", reason="INVALID_ARGUMENTS") == 1
    assert value(found, "clicksend_mcp_upstream_seconds_count", backend="direct") == 3
    assert value(found, "clicksend_mcp_calls_in_flight") == 0
    assert value(found, "clicksend_mcp_spend_total") > 0
    for secret in (TEST_NUMBER, TEST_NUMBER.lstrip("+"), API_KEY, TOKEN, "counted"):
        assert secret not in text


@pytest.mark.e2e
async def test_metrics_port_serves_metrics_apart_from_mcp(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    port = free_port()
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_METRICS_PORT": str(port)}
    async with served("http", env) as base, httpx2.AsyncClient(timeout=30) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200 and "clicksend_mcp_calls_in_flight" in response.text
        assert (await http.get(f"{base}/metrics")).status_code == 404


def test_the_metrics_port_cannot_be_the_mcp_port() -> None:
    with pytest.raises(ConfigError, match="--metrics-port must differ from --port"):
        Settings(transport="http", port=8000, metrics_port=8000).check_http_exposure()


async def test_retries_are_counted_by_backend(tools: dict[str, CompiledTool]) -> None:
    async with faulty_clicksend("status:503", "status:503", "ok") as fake:
        dispatcher = build_dispatcher(
            direct_settings(clicksend_base_url=fake.base_url, retry_max_wait=0.01), tools=tools
        )
        metrics = Metrics()
        dispatcher.observer = metrics
        with anyio.fail_after(30):
            result = await dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
        await dispatcher.aclose()
    assert result["successful"] is True
    found = samples(metrics.render().decode())
    assert value(found, "clicksend_mcp_retries_total", backend="direct") == 2
    assert value(found, "clicksend_mcp_upstream_seconds_count", backend="direct") == 3
    assert value(found, "clicksend_mcp_calls_total", tool="CLICKSEND_GET_ACCOUNT", outcome="success") == 1


@pytest.mark.e2e
async def test_refusals_at_the_http_layer_are_counted_by_reason(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    env = {
        "CLICKSEND_MCP_MULTI_TENANT": "true",
        "CLICKSEND_BASE_URL": server.base_url,
        "MATON_BASE_URL": server.base_url,
        "CLICKSEND_MCP_AUTH_TOKEN": TOKEN,
        "CLICKSEND_MCP_METRICS": "true",
        "CLICKSEND_MCP_MAX_SESSIONS_PER_CLIENT": "1",
    }
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "refused", "version": "0"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    authorized = {**accept, "Authorization": f"Bearer {TOKEN}"}
    async with served("http", env) as base, httpx2.AsyncClient(timeout=30) as http:

        async def status(headers: dict[str, str]) -> int:
            return (await http.post(f"{base}/mcp", json=initialize, headers=headers)).status_code

        with anyio.fail_after(60):
            statuses = [
                await status(accept),
                await status({**accept, "Authorization": "Bearer no"}),
                await status({**authorized, "Origin": "http://evil.test"}),
                await status({**authorized, "Host": "evil.test"}),
            ]
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as holder,
                Client(streamable_http_client(f"{base}/mcp", http_client=holder), mode="legacy") as client,
            ):
                # No credential headers: the multi-tenant refusal, as a call result.
                missing = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
                # The client's one session is open: another is refused at the cap.
                statuses.append(await status(authorized))
            response = await http.get(f"{base}/metrics", headers=authorized)
    assert statuses == [401, 401, 403, 421, 429]
    assert missing.structured_content is not None
    assert missing.structured_content["error_code"] == "MISSING_CREDENTIALS"
    assert response.status_code == 200
    found = samples(response.text)
    for reason in (
        "TOKEN_MISSING",
        "TOKEN_INVALID",
        "ORIGIN_NOT_ALLOWED",
        "HOST_NOT_ALLOWED",
        "TOO_MANY_SESSIONS",
        "MISSING_CREDENTIALS",
    ):
        assert value(found, "clicksend_mcp_refusals_total", reason=reason) == 1, reason
    assert "evil.test" not in response.text and TOKEN not in response.text and "Bearer" not in response.text
    assert fake.requests == []
