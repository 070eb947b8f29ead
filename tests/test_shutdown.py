"""Stopping the real server process while a send hangs at ClickSend: the client always gets a result.

Over streamable HTTP (SIGTERM, grace over) and over stdio (SIGTERM, or stdin closed), a send still waiting when the
grace period ends answers OUTCOME_UNKNOWN with its lookup tag; the stream is never just closed under it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest

from faulty_clicksend import faulty_clicksend
from test_e2e import console_script, direct_env, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
SEND_ARGS = {"messages": [{"to": "+61411111111", "body": "hello"}]}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
HELLO = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": SEND, "arguments": SEND_ARGS}}


def assert_unknown_outcome(result: dict[str, Any]) -> None:
    assert result["successful"] is False and result["error_code"] == "OUTCOME_UNKNOWN", result
    assert result["tag"].startswith("mcp-") and result["tag"] in result["error"]
    assert "CLICKSEND_GET_SMS_HISTORY" in result["error"]


async def test_a_send_still_hanging_when_the_http_grace_ends_answers_outcome_unknown() -> None:
    async with faulty_clicksend("hang") as hanging:
        env = {**direct_env(hanging.base_url), "CLICKSEND_RETRIES": "0", "CLICKSEND_MCP_SHUTDOWN_GRACE": "1"}
        async with served("http", env, keep_process=True) as (base, process):
            url = f"{base}/mcp"
            with anyio.fail_after(60):
                async with httpx2.AsyncClient(timeout=30) as http:
                    opened = await http.post(url, json=HELLO, headers=MCP_HEADERS)
                    headers = {
                        **MCP_HEADERS,
                        "Mcp-Session-Id": opened.headers["mcp-session-id"],
                        "Mcp-Protocol-Version": "2025-11-25",
                    }
                    await http.post(
                        url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
                    )
                    answer: dict[str, bytes] = {}

                    async def post_call() -> None:
                        answer["body"] = (await http.post(url, json=CALL, headers=headers)).content

                    async with anyio.create_task_group() as tg:
                        tg.start_soon(post_call)
                        await hanging.arrived.wait()
                        process.send_signal(signal.SIGTERM)
                assert await process.wait() in (0, -signal.SIGTERM)
    event = next(line for line in answer["body"].decode().splitlines() if line.startswith("data:"))
    assert_unknown_outcome(json.loads(event.removeprefix("data:"))["result"]["structuredContent"])
    assert len(hanging.received) == 1


async def _stdio_send_then(stop: str) -> dict[str, Any]:
    async with faulty_clicksend("hang") as hanging:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            **direct_env(hanging.base_url),
            "CLICKSEND_RETRIES": "0",
            "CLICKSEND_MCP_SHUTDOWN_GRACE": "1",
        }
        process = await anyio.open_process(
            [console_script()], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            with anyio.fail_after(60):
                for message in (HELLO, {"jsonrpc": "2.0", "method": "notifications/initialized"}, CALL):
                    await process.stdin.send((json.dumps(message) + "\n").encode())
                await hanging.arrived.wait()
                if stop == "sigterm":
                    process.send_signal(signal.SIGTERM)
                else:
                    await process.stdin.aclose()
                out = b""
                async for chunk in process.stdout:
                    out += chunk
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
            await process.aclose()
    answers = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    [reply] = [a for a in answers if a.get("id") == 1]
    assert len(hanging.received) == 1
    return reply["result"]["structuredContent"]


async def test_sigterm_on_stdio_answers_a_hanging_send_with_outcome_unknown() -> None:
    assert_unknown_outcome(await _stdio_send_then("sigterm"))


async def test_closing_stdin_answers_a_hanging_send_with_outcome_unknown() -> None:
    assert_unknown_outcome(await _stdio_send_then("stdin"))
