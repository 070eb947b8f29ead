"""Per-request narrowing: X-MCP-Toolsets, X-MCP-Tools and X-MCP-Read-Only narrow what one request sees and may
call; they never widen what the operator configured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from clicksend_mcp.assembly import load_tools
from fake_clicksend import TEST_NUMBER, FakeClickSend, LoopbackServer
from test_e2e import direct_env, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
ACCOUNT = "CLICKSEND_GET_ACCOUNT"


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


async def listed_and_called(
    base: str, headers: dict[str, str], call: tuple[str, dict[str, Any]] | None = None, mode: str = "auto"
) -> tuple[dict[str, Any], Any]:
    """{name: tool} the request lists, and the outcome of one call (its result, or the MCPError it raised)."""
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http), mode=mode) as client,  # type: ignore[arg-type]
        ):
            tools = {t.name: t for t in (await client.list_tools()).tools}
            outcome: Any = None
            if call is not None:
                try:
                    outcome = await client.call_tool(*call)
                except MCPError as exc:
                    outcome = exc
    return tools, outcome


def unserved_toolset(served: set[str]) -> tuple[str, str]:
    """A toolset none of whose tools this server serves, and one of its tools."""
    tools = load_tools()
    by_set: dict[str, list[str]] = {}
    for name, tool in tools.items():
        by_set.setdefault(tool.spec.toolset, []).append(name)
    toolset = next(t for t, names in sorted(by_set.items()) if not set(names) & served)
    return toolset, sorted(by_set[toolset])[0]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_narrowing_headers_only_ever_remove_tools(fake_on_loopback: Any, mode: str) -> None:
    fake, server = fake_on_loopback
    async with served("http", direct_env(server.base_url)) as base:
        everything, _ = await listed_and_called(base, {}, mode=mode)
        sms, _ = await listed_and_called(base, {"X-MCP-Toolsets": "sms"}, mode=mode)
        assert sms and set(sms) < set(everything)
        assert SEND in sms and ACCOUNT not in sms
        # A toolset the operator did not enable stays hidden: a header cannot widen.
        hidden_set, hidden_tool = unserved_toolset(set(everything))
        hidden, refused = await listed_and_called(base, {"X-MCP-Toolsets": hidden_set}, (hidden_tool, {}), mode=mode)
        assert hidden == {}
        assert isinstance(refused, MCPError)
        one, _ = await listed_and_called(base, {"X-MCP-Tools": ACCOUNT}, mode=mode)
        assert set(one) == {ACCOUNT}
        both, _ = await listed_and_called(base, {"X-MCP-Toolsets": "contacts", "X-MCP-Tools": ACCOUNT}, mode=mode)
        assert ACCOUNT in both and SEND not in both and len(both) > 1
    assert fake.requests == []


async def test_a_read_only_request_cannot_call_a_send(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    async with served("http", direct_env(server.base_url)) as base:
        tools, refused = await listed_and_called(
            base, {"X-MCP-Read-Only": "true"}, (SEND, {"messages": [{"to": TEST_NUMBER, "body": "hi"}]})
        )
        assert tools and all(t.annotations and t.annotations.read_only_hint for t in tools.values())
        assert isinstance(refused, MCPError)
        assert "X-MCP-Read-Only" in str(refused)
        _, allowed = await listed_and_called(base, {"X-MCP-Read-Only": "true"}, (ACCOUNT, {}))
        assert allowed.structured_content["successful"] is True
    assert fake.sent("POST") == []


async def test_a_header_cannot_lift_the_operators_read_only_mode(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_READ_ONLY": "true"}
    async with served("http", env) as base:
        tools, refused = await listed_and_called(
            base,
            {"X-MCP-Read-Only": "false", "X-MCP-Tools": SEND},
            (SEND, {"messages": [{"to": TEST_NUMBER, "body": "hi"}]}),
        )
    assert tools == {}
    assert isinstance(refused, MCPError)
    assert fake.requests == []


async def test_an_unreadable_read_only_header_is_an_error_naming_it(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    async with served("http", direct_env(server.base_url)) as base:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers={"X-MCP-Read-Only": "maybe"}, timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
            ):
                with pytest.raises(MCPError, match="X-MCP-Read-Only: expected true or false"):
                    await client.list_tools()


async def test_discovery_search_sees_only_the_narrowed_tools(fake_on_loopback: Any) -> None:
    _, server = fake_on_loopback
    env = {**direct_env(server.base_url), "CLICKSEND_DISCOVERY": "true"}
    search = "CLICKSEND_SEARCH_TOOLS"

    def names(result: Any) -> list[str]:
        return [t["name"] for t in result.structured_content["data"]["tools"]]

    async with served("http", env) as base:
        _, everything = await listed_and_called(base, {}, (search, {"query": "send sms", "limit": 50}))
        _, narrowed = await listed_and_called(
            base, {"X-MCP-Toolsets": "account"}, (search, {"query": "send sms", "limit": 50})
        )
        _, account = await listed_and_called(
            base, {"X-MCP-Toolsets": "account"}, (search, {"query": "account", "limit": 50})
        )
        _, refused = await listed_and_called(
            base, {"X-MCP-Toolsets": "account"}, ("CLICKSEND_DESCRIBE_TOOL", {"name": SEND})
        )
    assert SEND in names(everything)
    assert SEND not in names(narrowed)
    assert ACCOUNT in names(account)
    assert refused.structured_content["error_code"] == "UNKNOWN_TOOL"
    assert "X-MCP-Toolsets" in refused.structured_content["error"]


async def test_a_narrowed_listing_never_points_to_a_tool_it_leaves_out(fake_on_loopback: Any) -> None:
    _fake, server = fake_on_loopback
    update, create = "CLICKSEND_UPDATE_AUTOMATIONS_SMS_INBOUND", "CLICKSEND_CREATE_AUTOMATIONS_SMS_INBOUND"
    async with served("http", {**direct_env(server.base_url), "CLICKSEND_TOOLSETS": "all"}) as base:
        everything, _ = await listed_and_called(base, {})
        alone, _ = await listed_and_called(base, {"X-MCP-Tools": update})
    # In the full list the update points to the create above it; listed alone it says everything itself.
    assert everything[update].input_schema["properties"]["action"]["description"] == f"As in {create}."
    assert set(alone) == {update}
    action = alone[update].input_schema["properties"]["action"]
    assert "enum" in action and not action["description"].startswith("As in")
    assert "As in " not in str(alone[update].input_schema)
