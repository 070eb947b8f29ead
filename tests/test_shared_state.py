"""Confirmation state shared across replicas: CLICKSEND_MCP_STATE_KEYS seals the 2026-07-28 era's request state, so
the second leg of a confirmation may reach another process; a key rotated out (or never shared) is refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from clicksend_mcp.settings import Settings
from fake_clicksend import TEST_NUMBER, FakeClickSend, LoopbackServer
from test_e2e import direct_env, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
ARGS = {"messages": [{"to": TEST_NUMBER, "body": "confirmed on another replica"}]}
OLD = "old-state-key-" + "0" * 40
NEW = "new-state-key-" + "1" * 40
ACCEPT = {"confirm_send": types.ElicitResult(action="accept", content={"confirm": True})}


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


async def never_asked(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    raise AssertionError("the test answers the confirmation itself")


async def first_leg(base: str) -> str:
    """Ask replica `base` to send: it answers input_required; return the sealed request state."""
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http), elicitation_callback=never_asked) as client,
        ):
            asked = await client.session.call_tool(SEND, ARGS, allow_input_required=True)
    assert isinstance(asked, types.InputRequiredResult), asked
    assert asked.request_state
    return asked.request_state


async def second_leg(base: str, state: str) -> types.CallToolResult | MCPError:
    """Answer the confirmation on replica `base`: its result, or the protocol error it refused it with."""
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http), elicitation_callback=never_asked) as client,
        ):
            await client.list_tools()
            try:
                return await client.call_tool(SEND, ARGS, input_responses=ACCEPT, request_state=state)
            except MCPError as refused:
                return refused


def replica_env(base_url: str, keys: str | None) -> dict[str, str]:
    env = {**direct_env(base_url), "CLICKSEND_CONFIRM_SENDS": "true"}
    if keys is not None:
        env["CLICKSEND_MCP_STATE_KEYS"] = keys
    return env


async def test_a_confirmation_completes_on_another_replica_sharing_the_keys(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(served("http", replica_env(server.base_url, OLD)))
        b = await stack.enter_async_context(served("http", replica_env(server.base_url, OLD)))
        state = await first_leg(a)
        assert fake.sent("POST", "/v3/sms/send") == []
        done = await second_leg(b, state)
    assert isinstance(done, types.CallToolResult)
    assert done.structured_content is not None and done.structured_content["successful"] is True, done
    assert len(fake.sent("POST", "/v3/sms/send")) == 1


async def test_rotation_a_new_first_key_still_opens_state_sealed_with_the_old(fake_on_loopback: Any) -> None:
    fake, server = fake_on_loopback
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(served("http", replica_env(server.base_url, OLD)))
        rotating = await stack.enter_async_context(served("http", replica_env(server.base_url, f"{NEW},{OLD}")))
        done = await second_leg(rotating, await first_leg(a))
    assert isinstance(done, types.CallToolResult)
    assert done.structured_content is not None and done.structured_content["successful"] is True
    assert len(fake.sent("POST", "/v3/sms/send")) == 1


@pytest.mark.parametrize("keys", [NEW, None], ids=["rotated-out", "per-process"])
async def test_state_sealed_with_a_key_the_replica_does_not_hold_is_refused(
    fake_on_loopback: Any, keys: str | None
) -> None:
    fake, server = fake_on_loopback
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(served("http", replica_env(server.base_url, OLD)))
        other = await stack.enter_async_context(served("http", replica_env(server.base_url, keys)))
        state = await first_leg(a)
        refused = await second_leg(other, state)
    assert isinstance(refused, MCPError) and "Invalid or expired requestState" in str(refused)
    assert fake.sent("POST", "/v3/sms/send") == []


def test_state_keys_must_be_long_and_distinct() -> None:
    with pytest.raises(ValueError, match="shorter than 32 characters"):
        Settings(state_keys="short")
    with pytest.raises(ValueError, match="listed twice"):
        Settings(state_keys=f"{OLD},{OLD}")
    assert Settings(state_keys=f" {NEW} , {OLD} ").state_key_ring() == [NEW, OLD]
