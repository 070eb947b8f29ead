"""Session affinity: with a replica id, handshake-era session ids name the replica that holds them, so a proxy can
route them back; an id naming another replica is answered as an unknown session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from fake_clicksend import FakeClickSend, LoopbackServer
from test_e2e import direct_env, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
HELLO = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


async def test_session_ids_carry_the_replica_and_a_foreign_one_is_unknown(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_MCP_REPLICA_ID": "replica-7"}
    async with served("http", env) as base, httpx2.AsyncClient(timeout=30) as http:
        opened = await http.post(f"{base}/mcp", json=HELLO, headers=MCP_HEADERS)
        session = opened.headers["mcp-session-id"]
        assert session.startswith("replica-7_") and len(session) > len("replica-7_")
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        common = {**MCP_HEADERS, "Mcp-Protocol-Version": "2025-11-25"}
        own = await http.post(f"{base}/mcp", json=ping, headers={**common, "Mcp-Session-Id": session})
        assert own.status_code == 200
        foreign = session.replace("replica-7_", "replica-8_")
        other = await http.post(f"{base}/mcp", json=ping, headers={**common, "Mcp-Session-Id": foreign})
        assert other.status_code == 404 and "Session not found" in other.text
        with anyio.fail_after(60):
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy") as client:
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None and result.structured_content["successful"] is True
    assert len(fake.requests) == 1
