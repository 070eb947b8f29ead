"""Upstream faults on a real loopback socket: every answer is normalized, the server keeps serving, reads are retried,
and a send reaches ClickSend at most once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher
from clicksend_mcp.retries import RetryPolicy
from conftest import direct_settings
from fake_clicksend import TEST_NUMBER
from faulty_clicksend import FaultyClickSend, closed_port, faulty_clicksend

pytestmark = pytest.mark.anyio

READ = "CLICKSEND_GET_ACCOUNT"
SEND = "CLICKSEND_CREATE_SMS_SEND"
MESSAGE = {"messages": [{"to": TEST_NUMBER, "body": "once only"}]}
FAST_RETRIES = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


@asynccontextmanager
async def against(
    tools: dict[str, CompiledTool], *script: str, timeout: float = 2.0, retry: RetryPolicy = FAST_RETRIES
) -> AsyncIterator[tuple[Dispatcher, FaultyClickSend]]:
    async with faulty_clicksend(*script) as fake:
        dispatcher = build_dispatcher(direct_settings(clicksend_base_url=fake.base_url, timeout=timeout), tools=tools)
        dispatcher.retry = retry
        try:
            yield dispatcher, fake
        finally:
            await dispatcher.aclose()


def assert_normalized(result: dict[str, Any]) -> None:
    assert {"successful", "data", "error", "error_code", "http_code"} <= set(result)
    assert (result["error"] is None) == result["successful"]


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("html", "UPSTREAM_ERROR"),
        ("html200", "UPSTREAM_ERROR"),
        ("empty", "UPSTREAM_ERROR"),
        ("invalid_json", "UPSTREAM_ERROR"),
        ("app_error", "BAD_REQUEST"),
        ("huge", "UPSTREAM_ERROR"),
    ],
)
async def test_a_malformed_answer_is_normalized_and_the_server_keeps_serving(
    tools: dict[str, CompiledTool], fault: str, code: str
) -> None:
    async with against(tools, fault, "ok", retry=RetryPolicy(attempts=1)) as (dispatcher, _):
        broken = await dispatcher.call(READ, {})
        healthy = await dispatcher.call(READ, {})
    assert_normalized(broken)
    assert broken["successful"] is False and broken["error_code"] == code
    assert healthy["successful"] is True


async def test_a_json_array_answer_is_not_a_success(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "array") as (dispatcher, _):
        result = await dispatcher.call(READ, {})
    assert result["successful"] is False and result["error_code"] == "UPSTREAM_ERROR"


async def test_a_read_is_retried_on_503_until_it_succeeds(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:503", "status:502", "ok") as (dispatcher, fake):
        result = await dispatcher.call(READ, {})
    assert result["successful"] is True
    assert len(fake.received) == 3


async def test_a_read_stops_retrying_after_the_last_attempt(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:504") as (dispatcher, fake):
        result = await dispatcher.call(READ, {})
    assert result["error_code"] == "UPSTREAM_ERROR"
    assert len(fake.received) == 3


async def test_a_read_honours_retry_after(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:429:0", "ok") as (dispatcher, fake):
        result = await dispatcher.call(READ, {})
    assert result["successful"] is True and len(fake.received) == 2


async def test_a_long_retry_after_is_returned_not_waited(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:429:120") as (dispatcher, fake):
        result = await dispatcher.call(READ, {})
    assert result["error_code"] == "RATE_LIMITED" and result["retry_after"] == 120.0
    assert len(fake.received) == 1


async def test_a_reset_read_is_retried(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "reset", "ok") as (dispatcher, fake):
        result = await dispatcher.call(READ, {})
    assert result["successful"] is True and len(fake.received) == 2


async def test_a_send_is_not_retried_on_503(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:503", "ok") as (dispatcher, fake):
        result = await dispatcher.call(SEND, MESSAGE)
    assert result["error_code"] == "OUTCOME_UNKNOWN"
    assert len(fake.received) == 1


@pytest.mark.parametrize("fault", ["status:500", "status:502", "status:504", "html200", "array", "empty"])
async def test_a_send_without_a_definite_answer_is_outcome_unknown_with_its_tag(
    tools: dict[str, CompiledTool], fault: str
) -> None:
    async with against(tools, fault, "ok") as (dispatcher, fake):
        result = await dispatcher.call(SEND, MESSAGE)
    assert_normalized(result)
    assert result["error_code"] == "OUTCOME_UNKNOWN" and result["tag"] in result["error"]
    assert "CLICKSEND_GET_SMS_HISTORY" in result["error"] and "try again" not in result["error"]
    assert len(fake.received) == 1


async def test_a_send_is_not_retried_on_429(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:429:0", "ok") as (dispatcher, fake):
        result = await dispatcher.call(SEND, MESSAGE)
    assert result["error_code"] == "RATE_LIMITED" and result["retry_after"] == 0.0
    assert len(fake.received) == 1


async def test_a_reset_send_has_an_unknown_outcome_and_is_not_retried(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "reset", "ok") as (dispatcher, fake):
        result = await dispatcher.call(SEND, MESSAGE)
    assert_normalized(result)
    assert result["error_code"] == "OUTCOME_UNKNOWN"
    assert "CLICKSEND_GET_SMS_HISTORY" in result["error"] and result["tag"] in result["error"]
    assert len(fake.received) == 1


async def test_a_send_that_times_out_has_an_unknown_outcome(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "hang", timeout=0.5) as (dispatcher, fake):
        result = await dispatcher.call(SEND, MESSAGE)
    assert result["error_code"] == "OUTCOME_UNKNOWN"
    assert len(fake.received) == 1


async def test_a_slow_drip_is_cut_off_by_the_deadline(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "drip", timeout=0.5, retry=RetryPolicy(attempts=1)) as (dispatcher, fake):
        result = await dispatcher.call(READ, {})
    assert result["error_code"] == "TIMEOUT"
    assert len(fake.received) == 1


async def test_a_send_is_retried_when_the_connection_was_refused(tools: dict[str, CompiledTool]) -> None:
    port = closed_port()
    dispatcher = build_dispatcher(direct_settings(clicksend_base_url=f"http://127.0.0.1:{port}/v3"), tools=tools)
    dispatcher.retry = FAST_RETRIES
    try:
        result = await dispatcher.call(SEND, MESSAGE)
    finally:
        await dispatcher.aclose()
    assert result["error_code"] == "NETWORK_ERROR"
    assert "never arrived" in result["error"] and "safe to try again" in result["error"]


async def test_a_rate_limited_answer_carries_retry_after(tools: dict[str, CompiledTool]) -> None:
    async with against(tools, "status:429:30", retry=RetryPolicy(attempts=1)) as (dispatcher, _):
        result = await dispatcher.call(READ, {})
    assert result["error_code"] == "RATE_LIMITED" and result["retry_after"] == 30.0
