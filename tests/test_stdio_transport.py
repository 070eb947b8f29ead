"""The stdio transport over the pipes an MCP client gives it: lines read and written on the event loop (no worker
thread per message), long messages whole, and the wire kept apart from anything else written to fd 1."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from test_e2e import TIMEOUT, stdio_params

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


def server_pid() -> int:
    """The console script's process: the one child of this test process running it (the client spawned it)."""
    me = str(Path("/proc/self").resolve().name)
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[1] == me and b"clicksend-mcp" in cmdline:
            found.append(int(stat.parent.name))
    assert len(found) == 1, found
    return found[0]


async def test_stdio_calls_are_served_by_the_event_loop_thread_alone() -> None:
    with anyio.fail_after(TIMEOUT):
        async with Client(stdio_params({}, "--backend", "sandbox"), mode="legacy") as client:
            for _ in range(5):
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
                assert result.structured_content is not None and result.structured_content["successful"] is True
            threads = list(Path(f"/proc/{server_pid()}/task").iterdir())
    assert len(threads) == 1, f"{len(threads)} threads: stdin or stdout went through worker threads"


async def test_a_message_longer_than_a_pipe_buffer_arrives_whole() -> None:
    body = "x" * 300_000  # several times a pipe's and asyncio's default line buffer
    with anyio.fail_after(TIMEOUT):
        async with Client(
            stdio_params({}, "--backend", "sandbox", "--toolsets", "all", "--max-result-bytes", "5000000"),
            mode="legacy",
        ) as client:
            result = await client.call_tool(
                "CLICKSEND_CREATE_SMS_SEND",
                {"messages": [{"to": "+61411111111", "body": body}], "dry_run": True},
            )
    assert result.structured_content is not None
    assert result.structured_content["successful"] is True, result.structured_content
    assert body in str(result.structured_content)  # the preview of the request carries the whole body
